package dev.agentturbo.tasks.entity;

/**
 * A validated submission, ready to be stored.
 *
 * @param optionsJson the executor's options as a JSON object text
 * @param idempotencyKey null when the client gave none
 */
public record NewTask(String executor, String prompt, int priority, int maxAttempts, int timeoutSeconds,
                      String optionsJson, String idempotencyKey) {
}
