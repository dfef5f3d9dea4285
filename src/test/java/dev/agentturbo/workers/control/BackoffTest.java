package dev.agentturbo.workers.control;

import dev.agentturbo.workers.entity.WorkerSettings;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackoffTest {

    final Backoff backoff = new Backoff(Duration.ofSeconds(5), Duration.ofSeconds(300));

    @Test
    void eachRetryWaitsBetweenHalfAndAllOfTheDoubledDelay() {
        for (int attempt = 1; attempt <= 6; attempt++) {
            long full = 5000L << (attempt - 1);
            for (int i = 0; i < 200; i++) {
                long delay = backoff.after(attempt).toMillis();
                assertTrue(delay >= full / 2 && delay <= full, "attempt " + attempt + ": " + delay);
            }
        }
    }

    @Test
    void theDelayNeverPassesTheCapHoweverManyAttempts() {
        for (int attempt : new int[]{7, 20, 63, 64, 1000}) {
            long delay = backoff.after(attempt).toMillis();
            assertTrue(delay >= 150_000 && delay <= 300_000, "attempt " + attempt + ": " + delay);
        }
    }

    @Test
    void retriesOfTasksThatFailedTogetherSpreadOut() {
        long distinct = java.util.stream.IntStream.range(0, 50).mapToObj(i -> backoff.after(3)).distinct().count();
        assertTrue(distinct > 25, "only " + distinct + " distinct delays of 50");
    }

    @Test
    void settingsThatCouldLoseLeasesOrStopAgentsAtOneMissedRenewalAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> settings(1, 8, 4, 600), "lease not above 2 heartbeats");
        assertThrows(IllegalArgumentException.class, () -> settings(-1, 12, 4, 600), "negative slots");
        assertThrows(IllegalArgumentException.class, () -> settings(1, 12, 4, 7), "unrenewed stop below 2 heartbeats");
        settings(1, 9, 4, 8);
    }

    private static WorkerSettings settings(int slots, int lease, int heartbeat, int unrenewedStop) {
        return new WorkerSettings("w", slots, Duration.ofSeconds(lease), Duration.ofSeconds(heartbeat),
                Duration.ofSeconds(2), Duration.ofSeconds(30), Path.of("."), Duration.ofSeconds(5),
                Duration.ofSeconds(300), Duration.ofSeconds(unrenewedStop), Duration.ZERO);
    }
}
