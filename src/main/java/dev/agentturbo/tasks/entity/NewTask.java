package dev.agentturbo.tasks.entity;

import java.util.List;

/**
 * A validated submission, ready to be stored.
 *
 * @param optionsJson the executor's options as a JSON object text
 * @param idempotencyKey null when the client gave none
 * @param submittedBy who submitted it ({@code token:<name>}, {@code user:<name>}, {@code bootstrap}); null when
 *                    stored by the node itself (tests)
 * @param concurrencyKey null when it may run beside anything; else no more tasks of this key run at once across
 *                       the fleet than the key's limit
 * @param dependsOn the stored tasks it waits for (ids)
 * @param dependsOnItems the items of the same batch it waits for (their indexes in the batch)
 */
public record NewTask(String executor, String prompt, int priority, int maxAttempts, int timeoutSeconds,
                      String optionsJson, String idempotencyKey, String submittedBy, String concurrencyKey,
                      List<Long> dependsOn, List<Integer> dependsOnItems) {

    public NewTask {
        dependsOn = dependsOn == null ? List.of() : List.copyOf(dependsOn);
        dependsOnItems = dependsOnItems == null ? List.of() : List.copyOf(dependsOnItems);
    }

    public NewTask(String executor, String prompt, int priority, int maxAttempts, int timeoutSeconds,
                   String optionsJson, String idempotencyKey, String submittedBy) {
        this(executor, prompt, priority, maxAttempts, timeoutSeconds, optionsJson, idempotencyKey, submittedBy, null,
                List.of(), List.of());
    }

    public NewTask(String executor, String prompt, int priority, int maxAttempts, int timeoutSeconds,
                   String optionsJson, String idempotencyKey) {
        this(executor, prompt, priority, maxAttempts, timeoutSeconds, optionsJson, idempotencyKey, null);
    }

    /** The same task, submitted by this caller. */
    public NewTask by(String caller) {
        return new NewTask(executor, prompt, priority, maxAttempts, timeoutSeconds, optionsJson, idempotencyKey, caller,
                concurrencyKey, dependsOn, dependsOnItems);
    }

    /** The same task with a concurrency key. */
    public NewTask keyed(String key) {
        return new NewTask(executor, prompt, priority, maxAttempts, timeoutSeconds, optionsJson, idempotencyKey,
                submittedBy, key, dependsOn, dependsOnItems);
    }

    /** The same task, waiting for these stored tasks and these items of its batch. */
    public NewTask after(List<Long> ids, List<Integer> items) {
        return new NewTask(executor, prompt, priority, maxAttempts, timeoutSeconds, optionsJson, idempotencyKey,
                submittedBy, concurrencyKey, ids, items);
    }

    /** True when it waits for other tasks. */
    public boolean hasDependencies() {
        return !dependsOn.isEmpty() || !dependsOnItems.isEmpty();
    }
}
