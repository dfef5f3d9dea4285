package dev.agentturbo.tasks.boundary;

import dev.agentturbo.tasks.entity.Attempt;
import jakarta.json.bind.annotation.JsonbNillable;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** One attempt of a task: where it ran, when, and how it ended. */
@JsonbNillable
@JsonbPropertyOrder({"attempt", "outcome", "worker", "startedAt", "endedAt", "error"})
@Schema(name = "Attempt", requiredProperties = {"attempt", "outcome"})
public record AttemptView(
        int attempt,
        @Schema(enumeration = {"completed", "failed", "cancelled", "retrying", "released", "expired", "running"})
        String outcome,
        @Schema(nullable = true) String worker,
        @Schema(nullable = true, format = "date-time") String startedAt,
        @Schema(nullable = true, format = "date-time", description = "null while it runs") String endedAt,
        @Schema(nullable = true) String error) {

    static AttemptView of(Attempt a) {
        return new AttemptView(a.attempt(), a.outcome(), a.worker(), a.startedAt() == null ? null : a.startedAt().toString(),
                a.endedAt() == null ? null : a.endedAt().toString(), a.error());
    }
}
