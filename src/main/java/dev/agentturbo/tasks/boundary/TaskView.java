package dev.agentturbo.tasks.boundary;

import dev.agentturbo.tasks.entity.Attempt;
import dev.agentturbo.tasks.entity.Dependency;
import dev.agentturbo.tasks.entity.Task;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import dev.agentturbo.platform.JsonBodies;
import jakarta.json.bind.annotation.JsonbNillable;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/** A task as the API shows it: every field, null when not (yet) known; with its attempts where asked for. */
@JsonbNillable
@JsonbPropertyOrder({"id", "status", "priority", "executor", "prompt", "options", "attempt", "maxAttempts",
        "timeoutSeconds", "cancelRequested", "idempotencyKey", "concurrencyKey", "dependsOn", "waitingFor", "workerId", "runAfter", "createdAt", "startedAt",
        "completedAt", "result", "error", "exitCode", "costUsd", "inputTokens", "outputTokens", "numTurns", "sessionId",
        "submittedBy", "worktree", "attempts"})
@Schema(name = "Task", description = "A task with its outcome; null fields are not known (yet)", requiredProperties = {
        "id", "status", "priority", "executor", "prompt", "options", "attempt", "maxAttempts", "timeoutSeconds",
        "cancelRequested"})
public record TaskView(
        long id,
        @Schema(enumeration = {"blocked", "scheduled", "pending", "running", "completed", "failed", "cancelled"})
        String status,
        int priority,
        String executor,
        String prompt,
        @Schema(type = SchemaType.OBJECT, description = "the executor's options as submitted") JsonObject options,
        @Schema(description = "attempts started so far") int attempt,
        int maxAttempts,
        int timeoutSeconds,
        boolean cancelRequested,
        @Schema(nullable = true) String idempotencyKey,
        @Schema(nullable = true, description = "no more tasks of this key run at once than its limit")
        String concurrencyKey,
        @JsonbNillable(false) @Schema(type = SchemaType.ARRAY, implementation = Long.class,
                description = "the tasks it waits for (GET, submit and retry only)") List<Long> dependsOn,
        @JsonbNillable(false) @Schema(type = SchemaType.ARRAY, implementation = Long.class,
                description = "those of them that have not completed yet: it is blocked while any is left (GET, submit"
                        + " and retry only)") List<Long> waitingFor,
        @Schema(nullable = true, description = "the node running it, or that ran it last") String workerId,
        @Schema(nullable = true, format = "date-time", description = "not claimed before (a retry's back-off, a usage"
                + " limit's reset)") String runAfter,
        @Schema(nullable = true, format = "date-time") String createdAt,
        @Schema(nullable = true, format = "date-time") String startedAt,
        @Schema(nullable = true, format = "date-time") String completedAt,
        @Schema(nullable = true, description = "the agent's answer") String result,
        @Schema(nullable = true) String error,
        @Schema(nullable = true) Integer exitCode,
        @Schema(nullable = true, description = "what the runs cost, in US dollars") BigDecimal costUsd,
        @Schema(nullable = true) Long inputTokens,
        @Schema(nullable = true) Long outputTokens,
        @Schema(nullable = true) Long numTurns,
        @Schema(nullable = true) String sessionId,
        @Schema(nullable = true, description = "token:<name>, user:<name> or bootstrap") String submittedBy,
        @Schema(nullable = true, description = "for a task that names a repository: its git worktree, branch, the"
                + " commit it ended on and the diff summary") WorktreeView worktree,
        @JsonbNillable(false) @Schema(type = SchemaType.ARRAY, implementation = AttemptView.class,
                description = "the history of its attempts (GET and retry only)")
        List<AttemptView> attempts) {

    static TaskView of(Task t) {
        return of(t, null, null);
    }

    /**
     * The task with the history of its attempts (none when {@code attempts} is null) and what it waits for (not
     * shown when {@code dependencies} is null).
     */
    static TaskView of(Task t, List<Attempt> attempts, List<Dependency> dependencies) {
        return new TaskView(t.getId(), t.getStatus().value(), t.getPriority(), t.getExecutor(), t.getPrompt(),
                options(t.getOptions()), t.getAttempt(), t.getMaxAttempts(), t.getTimeoutSeconds(),
                t.isCancelRequested(), t.getIdempotencyKey(), t.getConcurrencyKey(),
                dependencies == null ? null : dependencies.stream().map(Dependency::id).toList(),
                dependencies == null ? null : dependencies.stream().filter(d -> !d.satisfied()).map(Dependency::id).toList(),
                t.getWorkerId(), time(t.getRunAfter()),
                time(t.getCreatedAt()), time(t.getStartedAt()), time(t.getCompletedAt()), t.getResult(), t.getError(),
                t.getExitCode(), t.getCostUsd() == null ? null : t.getCostUsd().stripTrailingZeros(),
                t.getInputTokens(), t.getOutputTokens(), t.getNumTurns() == null ? null : t.getNumTurns().longValue(),
                t.getSessionId(), t.getSubmittedBy(), WorktreeView.of(t.getWorktree()),
                attempts == null ? null : attempts.stream().map(AttemptView::of).toList());
    }

    private static JsonObject options(String json) {
        return json == null ? JsonValue.EMPTY_JSON_OBJECT : JsonBodies.parse(json).asJsonObject();
    }

    private static String time(OffsetDateTime value) {
        return value == null ? null : value.withOffsetSameInstant(ZoneOffset.UTC).toString();
    }
}
