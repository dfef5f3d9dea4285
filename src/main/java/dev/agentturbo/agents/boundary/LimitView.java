package dev.agentturbo.agents.boundary;

import dev.agentturbo.agents.entity.ExecutorLimit;
import jakarta.json.bind.annotation.JsonbNillable;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** An executor paused fleet-wide for one credential. */
@JsonbNillable
@JsonbPropertyOrder({"id", "executor", "credential", "kind", "since", "until", "reason", "tasksWaiting"})
@Schema(name = "Limit", requiredProperties = {"id", "executor", "credential", "kind", "since", "until", "reason",
        "tasksWaiting"})
public record LimitView(
        long id,
        String executor,
        @Schema(description = "the credential's fingerprint (kind and a hash prefix), never the credential") String credential,
        @Schema(enumeration = {"usage-limit", "rate-limit", "credentials"}) String kind,
        @Schema(format = "date-time") String since,
        @Schema(nullable = true, format = "date-time", description = "when it ends by itself; null: when an operator"
                + " lifts it") String until,
        String reason,
        @Schema(description = "tasks of the executor waiting now") long tasksWaiting) {

    public static LimitView of(ExecutorLimit l) {
        return new LimitView(l.id(), l.executor(), l.credential(), l.kind(), l.since().toString(),
                l.until() == null ? null : l.until().toString(), l.reason(), l.tasksWaiting());
    }
}
