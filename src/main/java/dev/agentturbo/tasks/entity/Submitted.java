package dev.agentturbo.tasks.entity;

/**
 * The answer to a submission.
 *
 * @param created false when an earlier submission with the same idempotency key already stored this task
 * @param blocked true when it was stored waiting for tasks that have not completed yet
 */
public record Submitted(long id, boolean created, boolean blocked) {

    public Submitted(long id, boolean created) {
        this(id, created, false);
    }
}
