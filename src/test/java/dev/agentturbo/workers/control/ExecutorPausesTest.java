package dev.agentturbo.workers.control;

import dev.agentturbo.agents.entity.ExecutorLimit;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a node makes of the fleet's pauses: which executors it skips, and the probe that starts one again. */
class ExecutorPausesTest {

    final ExecutorPauses pauses = new ExecutorPauses("node-1", executor -> executor.equals("claude-cli") ? "key-a" : "-");

    static ExecutorLimit limit(String executor, String credential, Instant until) {
        return new ExecutorLimit(1, executor, credential, "usage-limit", Instant.now(), until, "limit reached", 0);
    }

    static ClaimedTask task(long id, String executor, long leaseToken) {
        return new ClaimedTask(id, 1, 3, leaseToken, "node-1", 0, executor, "p", "{}", 60, Duration.ZERO);
    }

    static Dispatcher.Ended ended(ClaimedTask t, Outcome o) {
        return new Dispatcher.Ended(new Lease(t), o, Duration.ZERO);
    }

    @Test
    void onlyPausesForTheCredentialOfThisNodesAgentsStopItsClaims() {
        Instant reset = Instant.now().plusSeconds(600);
        var change = pauses.use(List.of(limit("claude-cli", "key-a", reset), limit("simulated", "other", null),
                limit("claude-cli", "key-b", null)));
        assertTrue(change.claimAgain());
        assertEquals(Set.of("claude-cli"), pauses.paused());
        assertEquals(reset, change.earliestEnd().orElseThrow());
        assertFalse(pauses.use(List.of(limit("claude-cli", "key-a", reset))).claimAgain(), "nothing changed");
    }

    @Test
    void aPauseUntilLiftedHasNoEndToWakeFor() {
        var change = pauses.use(List.of(limit("claude-cli", "key-a", null)));
        assertEquals(Set.of("claude-cli"), pauses.paused());
        assertTrue(change.earliestEnd().isEmpty());
    }

    @Test
    void anEndedPauseIsProbedByOneTaskUntilTheApiAnswersIt() {
        pauses.use(List.of(limit("claude-cli", "key-a", null)));
        assertFalse(pauses.awaitingProbe());
        assertTrue(pauses.use(List.of()).claimAgain(), "the pause ended");
        assertTrue(pauses.awaitingProbe(), "one task first");
        assertFalse(pauses.skip(List.of(), List.of()).contains("claude-cli"), "the probe itself may be claimed");

        pauses.claimed(List.of(task(7, "claude-cli", 70)), 1);
        assertFalse(pauses.awaitingProbe());
        assertTrue(pauses.skip(List.of(), List.of()).contains("claude-cli"), "the others wait for the probe");
        assertFalse(pauses.answered("claude-cli", 71), "another lease's answer ends nothing");
        assertTrue(pauses.answered("claude-cli", 70));
        assertFalse(pauses.skip(List.of(), List.of()).contains("claude-cli"));
    }

    @Test
    void aProbeAlsoEndsWithItsAttemptOrAfterItsTime() {
        pauses.use(List.of(limit("claude-cli", "key-a", null)));
        pauses.use(List.of());
        pauses.claimed(List.of(task(7, "claude-cli", 70)), 1);
        assertFalse(pauses.ended(List.of(ended(task(8, "claude-cli", 80), Outcome.succeeded("ok", 0)))));
        assertTrue(pauses.ended(List.of(ended(task(7, "claude-cli", 70), Outcome.permanent("no")))));
        assertFalse(pauses.skip(List.of(), List.of()).contains("claude-cli"));

        pauses.use(List.of(limit("claude-cli", "key-a", null)));
        pauses.use(List.of());
        pauses.claimed(List.of(task(9, "claude-cli", 90)), 1);
        assertFalse(pauses.expireProbes(System.nanoTime()));
        assertTrue(pauses.expireProbes(System.nanoTime() + ExecutorPauses.PROBE_NANOS + 1));
        assertFalse(pauses.skip(List.of(), List.of()).contains("claude-cli"));
    }

    @Test
    void aClaimThatFindsNothingEndsTheWaitForAProbe() {
        pauses.use(List.of(limit("claude-cli", "key-a", null)));
        pauses.use(List.of());
        pauses.claimed(List.of(), 1);
        assertFalse(pauses.awaitingProbe());
    }

    @Test
    void anExecutorWhoseLimitTheRoundMetIsNotClaimedInIt() {
        var limited = ended(task(1, "claude-cli", 10), Outcome.rateLimited("429", null));
        var done = ended(task(2, "simulated", 20), Outcome.succeeded("ok", 0));
        assertEquals(Set.of("claude-cli"), pauses.skip(List.of(limited, done), List.of()));
        assertEquals(Set.of("anthropic-api"), pauses.skip(List.of(done),
                List.of(new ExecutorPauses.Signal("anthropic-api", "rate-limit", null, "529"))));
    }

    @Test
    void oneSignalPerExecutorAndKindWaitsForTheNextRound() {
        assertTrue(pauses.rateLimited("claude-cli", Duration.ofSeconds(3), "429"));
        assertFalse(pauses.rateLimited("claude-cli", Duration.ofSeconds(9), "429 again"));
        assertTrue(pauses.missingCredential("claude-cli", "not logged in"));
        assertTrue(pauses.pending());
        var said = pauses.takeSignals();
        assertEquals(2, said.size());
        assertFalse(pauses.pending());
        pauses.giveBack(said, true);
        assertTrue(pauses.takeReadLimits());
        assertEquals(said, pauses.takeSignals());
    }

    @Test
    void aRateLimitShorterThanTheBackOffUnderWayIsDropped() {
        pauses.use(List.of(limit("claude-cli", "key-a", Instant.now().plusSeconds(120))));
        assertFalse(pauses.rateLimited("claude-cli", Duration.ofSeconds(5), "429"));
        assertTrue(pauses.rateLimited("claude-cli", Duration.ofSeconds(600), "429, retry-after 600"));
    }
}
