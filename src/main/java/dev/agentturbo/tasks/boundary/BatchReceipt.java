package dev.agentturbo.tasks.boundary;

import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/** What a batch submission stored: one entry per task, in the order sent. */
@JsonbPropertyOrder({"count", "tasks"})
@Schema(name = "BatchReceipt", requiredProperties = {"count", "tasks"})
public record BatchReceipt(int count, List<Stored> tasks) {

    /** One task of the batch: its id, whether it is new (false: its idempotency key was used before), its URL. */
    @JsonbPropertyOrder({"id", "created", "href"})
    @Schema(name = "BatchReceiptItem", requiredProperties = {"id", "created", "href"})
    public record Stored(long id, boolean created, @Schema(format = "uri") String href) {
    }
}
