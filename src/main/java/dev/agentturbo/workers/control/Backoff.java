package dev.agentturbo.workers.control;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with jitter between the attempts of a task: base · 2^(attempt−1), capped, then halved at random. */
public record Backoff(Duration base, Duration max) {

    public Duration after(int attempt) {
        long ceiling = max.toMillis();
        long exp = base.toMillis() << Math.min(Math.max(attempt - 1, 0), 30);
        long full = Math.min(exp <= 0 ? ceiling : exp, ceiling);
        // "equal jitter": at least half the delay, so retries of many tasks failing together spread out
        return Duration.ofMillis(full / 2 + ThreadLocalRandom.current().nextLong(full / 2 + 1));
    }
}
