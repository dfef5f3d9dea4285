package dev.agentturbo.agents.entity;

import java.time.Duration;

/**
 * How the fleet backs off an executor whose API answers "rate limited" (429) or "overloaded" (529) for a
 * credential (the agentturbo.limits.* keys).
 *
 * @param first the first back-off; each back-off that follows the last within {@code max} doubles it, with jitter
 * @param max   the longest back-off, and the quiet spell after which the next back-off starts again at {@code first}
 */
public record BackOffSettings(Duration first, Duration max) {

    public BackOffSettings {
        if (first.isNegative() || first.isZero()) {
            throw new IllegalArgumentException("agentturbo.limits.backoff-first-millis must be 1 or more");
        }
        if (max.compareTo(first) < 0) {
            throw new IllegalArgumentException("agentturbo.limits.backoff-max-seconds (" + max.toSeconds()
                    + ") must be at least agentturbo.limits.backoff-first-millis (" + first.toMillis() + " ms)");
        }
    }
}
