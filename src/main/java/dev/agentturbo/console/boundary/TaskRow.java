package dev.agentturbo.console.boundary;

import dev.agentturbo.tasks.entity.TaskSummary;

import java.io.Serializable;
import java.math.BigDecimal;
import java.time.Instant;

/** A task as a row of the console's tables: the summary's fields as properties, which pages can read and sort by. */
public class TaskRow implements Serializable {

    private final TaskSummary t;

    public TaskRow(TaskSummary summary) {
        this.t = summary;
    }

    public long getId() {
        return t.id();
    }

    public String getStatus() {
        return t.status().value();
    }

    public boolean isFinished() {
        return t.status().finished();
    }

    public int getPriority() {
        return t.priority();
    }

    public String getExecutor() {
        return t.executor();
    }

    public String getPrompt() {
        return t.promptPreview() + (t.promptLength() > t.promptPreview().length() ? " …" : "");
    }

    public String getAttempts() {
        return t.attempt() + "/" + t.maxAttempts();
    }

    public int getAttempt() {
        return t.attempt();
    }

    public String getWorkerId() {
        return t.workerId();
    }

    public Instant getCreatedAt() {
        return t.createdAt();
    }

    public Instant getStartedAt() {
        return t.startedAt();
    }

    public Instant getCompletedAt() {
        return t.completedAt();
    }

    public BigDecimal getCostUsd() {
        return t.costUsd();
    }

    public Long getTokens() {
        return t.inputTokens() == null && t.outputTokens() == null ? null
                : (t.inputTokens() == null ? 0 : t.inputTokens()) + (t.outputTokens() == null ? 0 : t.outputTokens());
    }

    public String getError() {
        return t.errorPreview();
    }

    public String getSubmittedBy() {
        return t.submittedBy();
    }
}
