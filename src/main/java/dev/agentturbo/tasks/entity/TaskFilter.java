package dev.agentturbo.tasks.entity;

import java.time.Instant;

/**
 * What a listing of tasks is narrowed to; every field is optional (null: any).
 *
 * @param worker the node that holds or held the task (assigned_worker_id)
 * @param submittedBy who submitted it ({@code user:<name>}, {@code token:<name>}, {@code bootstrap})
 * @param text a piece of the prompt, matched without regard to case
 * @param createdFrom only tasks created at or after this time
 * @param createdTo only tasks created before this time
 */
public record TaskFilter(TaskStatus status, String executor, String worker, String submittedBy, String text,
                         Instant createdFrom, Instant createdTo) {

    public static TaskFilter none() {
        return new TaskFilter(null, null, null, null, null, null, null);
    }

    /** The same filter, limited to one submitter's tasks. */
    public TaskFilter ownedBy(String caller) {
        return new TaskFilter(status, executor, worker, caller, text, createdFrom, createdTo);
    }
}
