package dev.agentturbo.tasks.entity;

/**
 * A validated submission, ready to be stored.
 *
 * @param optionsJson the executor's options as a JSON object text
 * @param idempotencyKey null when the client gave none
 * @param submittedBy who submitted it ({@code token:<name>}, {@code user:<name>}, {@code bootstrap}); null when
 *                    stored by the node itself (tests)
 */
public record NewTask(String executor, String prompt, int priority, int maxAttempts, int timeoutSeconds,
                      String optionsJson, String idempotencyKey, String submittedBy) {

    public NewTask(String executor, String prompt, int priority, int maxAttempts, int timeoutSeconds,
                   String optionsJson, String idempotencyKey) {
        this(executor, prompt, priority, maxAttempts, timeoutSeconds, optionsJson, idempotencyKey, null);
    }

    /** The same task, submitted by this caller. */
    public NewTask by(String caller) {
        return new NewTask(executor, prompt, priority, maxAttempts, timeoutSeconds, optionsJson, idempotencyKey, caller);
    }
}
