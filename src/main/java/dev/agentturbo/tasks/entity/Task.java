package dev.agentturbo.tasks.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.math.BigDecimal;
import java.time.OffsetDateTime;

/**
 * A task as stored in agent_tasks, for reading. Every change goes through the fenced statements of
 * {@code TaskQueue}; this entity is never written through JPA.
 */
@Entity
@Table(name = "agent_tasks")
public class Task {

    @Id
    private long id;
    private String status;
    private int priority;
    private String executor;
    private String prompt;
    @Column(name = "options")
    private String options;
    @Column(name = "timeout_seconds")
    private int timeoutSeconds;
    @Column(name = "idempotency_key")
    private String idempotencyKey;
    @Column(name = "run_after")
    private OffsetDateTime runAfter;
    private int attempt;
    @Column(name = "max_attempts")
    private int maxAttempts;
    @Column(name = "assigned_worker_id")
    private String workerId;
    private Integer slot;
    @Column(name = "lease_expires_at")
    private OffsetDateTime leaseExpiresAt;
    @Column(name = "cancel_requested")
    private boolean cancelRequested;
    @Column(name = "created_at")
    private OffsetDateTime createdAt;
    @Column(name = "started_at")
    private OffsetDateTime startedAt;
    @Column(name = "completed_at")
    private OffsetDateTime completedAt;
    private String result;
    private String error;
    @Column(name = "exit_code")
    private Integer exitCode;
    @Column(name = "cost_usd")
    private BigDecimal costUsd;
    @Column(name = "input_tokens")
    private Long inputTokens;
    @Column(name = "output_tokens")
    private Long outputTokens;
    @Column(name = "num_turns")
    private Integer numTurns;
    @Column(name = "session_id")
    private String sessionId;
    @Column(name = "submitted_by")
    private String submittedBy;
    @Column(name = "concurrency_key")
    private String concurrencyKey;
    @Column(name = "waiting_for")
    private int waitingFor;
    /** What the task's git worktree came to (JSON), for tasks that name a repository. */
    @Column(name = "worktree")
    private String worktree;

    protected Task() {
    }

    /** Who submitted the task ({@code token:<name>}, {@code user:<name>}, {@code bootstrap}). */
    public String getSubmittedBy() {
        return submittedBy;
    }

    /** Null when the task may run beside any other. */
    public String getConcurrencyKey() {
        return concurrencyKey;
    }

    /** How many of the tasks it depends on have not completed yet. */
    public int getWaitingFor() {
        return waitingFor;
    }

    /** What the task's git worktree came to, as a JSON object; null when it has none (yet). */
    public String getWorktree() {
        return worktree;
    }

    public long getId() {
        return id;
    }

    public TaskStatus getStatus() {
        return TaskStatus.of(status);
    }

    public int getPriority() {
        return priority;
    }

    public String getExecutor() {
        return executor;
    }

    public String getPrompt() {
        return prompt;
    }

    public String getOptions() {
        return options;
    }

    public int getTimeoutSeconds() {
        return timeoutSeconds;
    }

    public String getIdempotencyKey() {
        return idempotencyKey;
    }

    public OffsetDateTime getRunAfter() {
        return runAfter;
    }

    public int getAttempt() {
        return attempt;
    }

    public int getMaxAttempts() {
        return maxAttempts;
    }

    public String getWorkerId() {
        return workerId;
    }

    public Integer getSlot() {
        return slot;
    }

    public OffsetDateTime getLeaseExpiresAt() {
        return leaseExpiresAt;
    }

    public boolean isCancelRequested() {
        return cancelRequested;
    }

    public OffsetDateTime getCreatedAt() {
        return createdAt;
    }

    public OffsetDateTime getStartedAt() {
        return startedAt;
    }

    public OffsetDateTime getCompletedAt() {
        return completedAt;
    }

    public String getResult() {
        return result;
    }

    public String getError() {
        return error;
    }

    public Integer getExitCode() {
        return exitCode;
    }

    public BigDecimal getCostUsd() {
        return costUsd;
    }

    public Long getInputTokens() {
        return inputTokens;
    }

    public Long getOutputTokens() {
        return outputTokens;
    }

    public Integer getNumTurns() {
        return numTurns;
    }

    public String getSessionId() {
        return sessionId;
    }
}
