package dev.agentturbo.agents.entity;

import java.time.Duration;

/**
 * What an agent tells its node while it runs about the API it talks to, before its attempt ends: the node backs
 * off the executor for that credential fleet-wide at once, rather than when the attempt ends. Called on the
 * agent's reading threads; must not block.
 */
@FunctionalInterface
public interface LimitSignal {

    /** Tells nobody: for runs outside a node (tests, tools). */
    LimitSignal NONE = (reason, retryAfter) -> {
    };

    /**
     * The API answered "rate limited" (429) or "overloaded" (529); the agent may still be retrying by itself.
     *
     * @param retryAfter how long the server asked to wait, or null when it did not say
     */
    void rateLimited(String reason, Duration retryAfter);

    /**
     * The API accepted the agent's request (its first answer began): after a pause, the node starts the executor's
     * other tasks only once one agent got this far.
     */
    default void apiAnswered() {
    }
}
