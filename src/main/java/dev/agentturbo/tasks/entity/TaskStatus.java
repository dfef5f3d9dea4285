package dev.agentturbo.tasks.entity;

import java.util.Arrays;
import java.util.Optional;

/**
 * Where a task is in its life: pending → running → completed | failed | cancelled. A running task may go back to
 * pending (claimable at once) or to scheduled (claimable from its run_after on: retry backoff, usage-limit reset).
 * A task with dependencies is blocked until they all completed (cancelled when one of them fails or is cancelled).
 */
public enum TaskStatus {
    BLOCKED, SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED;

    /** The value stored in agent_tasks.status and shown by the API. */
    public String value() {
        return name().toLowerCase();
    }

    public static Optional<TaskStatus> parse(String value) {
        return Arrays.stream(values()).filter(s -> s.value().equals(value)).findFirst();
    }

    /** True when nothing more will happen to the task. */
    public boolean finished() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    /** The values, for messages: "blocked, scheduled, pending, …". */
    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(TaskStatus::value).toList());
    }

    public static TaskStatus of(String value) {
        return parse(value).orElseThrow(() -> new IllegalArgumentException("unknown task status: " + value));
    }
}
