package dev.agentturbo.tasks.entity;

import java.util.Arrays;
import java.util.Optional;

/** Where a task is in its life: pending → running → completed | failed | cancelled (running may go back to pending). */
public enum TaskStatus {
    PENDING, RUNNING, COMPLETED, FAILED, CANCELLED;

    /** The value stored in agent_tasks.status and shown by the API. */
    public String value() {
        return name().toLowerCase();
    }

    public static Optional<TaskStatus> parse(String value) {
        return Arrays.stream(values()).filter(s -> s.value().equals(value)).findFirst();
    }

    public static TaskStatus of(String value) {
        return parse(value).orElseThrow(() -> new IllegalArgumentException("unknown task status: " + value));
    }
}
