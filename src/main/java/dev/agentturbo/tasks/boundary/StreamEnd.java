package dev.agentturbo.tasks.boundary;

import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The data of an output stream's last event, {@code end}: the task's status (or {@code gone} when it was deleted
 * meanwhile) and the seq of the last item sent.
 */
@JsonbPropertyOrder({"status", "last"})
@Schema(name = "StreamEnd", requiredProperties = {"status", "last"})
public record StreamEnd(
        @Schema(enumeration = {"completed", "failed", "cancelled", "gone"}) String status,
        long last) {
}
