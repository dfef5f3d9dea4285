package dev.agentturbo.tasks.entity;

/**
 * The answer to a submission.
 *
 * @param created false when an earlier submission with the same idempotency key already stored this task
 */
public record Submitted(long id, boolean created) {
}
