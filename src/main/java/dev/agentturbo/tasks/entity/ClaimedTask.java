package dev.agentturbo.tasks.entity;

/**
 * A task as one slot holds it after a claim. (id, attempt, workerId) is the fencing token: every later update
 * of the task names all three, so a slot whose lease was taken over can change nothing.
 */
public record ClaimedTask(long id, int attempt, int maxAttempts, String workerId, int slot, String executor,
                          String prompt, String optionsJson, int timeoutSeconds) {

    @Override
    public String toString() {
        return "task=" + id + " attempt=" + attempt + " worker=" + workerId + " slot=" + slot;
    }
}
