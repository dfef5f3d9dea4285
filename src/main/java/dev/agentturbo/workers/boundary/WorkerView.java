package dev.agentturbo.workers.boundary;

import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A node of the fleet as the API shows it. */
@JsonbPropertyOrder({"id", "host", "slots", "liveSlots", "busySlots", "state", "version", "startedAt",
        "heartbeatAgeSeconds"})
@Schema(name = "Worker", requiredProperties = {"id", "host", "slots", "liveSlots", "busySlots", "state", "version",
        "startedAt", "heartbeatAgeSeconds"})
public record WorkerView(
        String id,
        String host,
        @Schema(description = "the slots it is configured to run") int slots,
        @Schema(description = "the slots whose loops really run") int liveSlots,
        @Schema(description = "the slots holding a task") int busySlots,
        @Schema(enumeration = {"active", "draining", "stopped", "gone"}, description = "gone: no heartbeat for three"
                + " heartbeat intervals") String state,
        String version,
        @Schema(format = "date-time") String startedAt,
        @Schema(description = "how long ago it last wrote its heartbeat, to a tenth of a second")
        double heartbeatAgeSeconds) {
}
