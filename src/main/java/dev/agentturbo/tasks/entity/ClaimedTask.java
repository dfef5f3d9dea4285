package dev.agentturbo.tasks.entity;

/**
 * A task as this node holds it after a claim.
 * <p>
 * {@code leaseToken} is the fencing token: every claim takes a new value of one sequence, so tokens only grow and
 * are never reused. Every later write about the task names (id, leaseToken), so a holder whose lease was taken
 * over can change nothing. {@code attempt} only counts attempts for the retry limit. {@code waited} is how long
 * the task had waited since it was submitted when this claim took it, by the database's clock.
 */
public record ClaimedTask(long id, int attempt, int maxAttempts, long leaseToken, String workerId, int slot,
                          String executor, String prompt, String optionsJson, int timeoutSeconds,
                          java.time.Duration waited) {

    @Override
    public String toString() {
        return "task=" + id + " attempt=" + attempt + " lease=" + leaseToken + " worker=" + workerId + " slot=" + slot;
    }
}
