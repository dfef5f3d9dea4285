package dev.agentturbo.tasks.boundary;

import dev.agentturbo.tasks.entity.TaskSummary;
import jakarta.json.bind.annotation.JsonbNillable;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.math.BigDecimal;

/** A task in a listing: no options, no result; prompt and error as previews, and the prompt's length. */
@JsonbNillable
@JsonbPropertyOrder({"id", "status", "priority", "executor", "promptPreview", "promptLength", "attempt", "maxAttempts",
        "workerId", "createdAt", "startedAt", "completedAt", "errorPreview", "submittedBy", "exitCode", "costUsd",
        "inputTokens", "outputTokens"})
@Schema(name = "TaskListItem", requiredProperties = {"id", "status", "priority", "executor", "promptPreview",
        "promptLength", "attempt", "maxAttempts"})
public record TaskListItem(
        long id,
        @Schema(enumeration = {"pending", "running", "completed", "failed", "cancelled"}) String status,
        int priority,
        String executor,
        @Schema(description = "the prompt's first 200 characters") String promptPreview,
        int promptLength,
        int attempt,
        int maxAttempts,
        @Schema(nullable = true) String workerId,
        @Schema(nullable = true, format = "date-time") String createdAt,
        @Schema(nullable = true, format = "date-time") String startedAt,
        @Schema(nullable = true, format = "date-time") String completedAt,
        @Schema(nullable = true, description = "the error's first 200 characters") String errorPreview,
        @Schema(nullable = true) String submittedBy,
        @Schema(nullable = true) Integer exitCode,
        @Schema(nullable = true) BigDecimal costUsd,
        @Schema(nullable = true) Long inputTokens,
        @Schema(nullable = true) Long outputTokens) {

    static TaskListItem of(TaskSummary t) {
        return new TaskListItem(t.id(), t.status().value(), t.priority(), t.executor(), t.promptPreview(),
                t.promptLength(), t.attempt(), t.maxAttempts(), t.workerId(), text(t.createdAt()), text(t.startedAt()),
                text(t.completedAt()), t.errorPreview(), t.submittedBy(), t.exitCode(),
                t.costUsd() == null ? null : t.costUsd().stripTrailingZeros(), t.inputTokens(), t.outputTokens());
    }

    private static String text(java.time.Instant at) {
        return at == null ? null : at.toString();
    }
}
