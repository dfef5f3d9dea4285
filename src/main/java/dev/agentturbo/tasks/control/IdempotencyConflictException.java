package dev.agentturbo.tasks.control;

/** An idempotency key was sent again with a different task: the first task is kept, the new one refused. */
public class IdempotencyConflictException extends RuntimeException {
    public IdempotencyConflictException(String key, long existingId) {
        super("Idempotency-Key '" + key + "' was already used for task " + existingId
                + " with a different prompt or executor; send a new key for a new task");
    }
}
