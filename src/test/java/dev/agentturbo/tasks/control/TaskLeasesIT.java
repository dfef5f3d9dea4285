package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.TaskStatus;
import dev.agentturbo.testing.LeaseHolder;
import dev.agentturbo.testing.PooledDataSource;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lease protocol against a real PostgreSQL: claims, tokens, renewals, fencing, requeues, scheduling, retention. */
class TaskLeasesIT {

    private static final Duration LEASE = Duration.ofSeconds(30);
    /** A database that has been up for less than this has not been up for a whole lease: nobody may reap. */
    private static final Duration LONGER_THAN_UPTIME = Duration.ofDays(36500);

    private static TestDatabase db;
    private static PooledDataSource pool;
    private static TaskRows rows;
    private TaskQueue queue;
    private LeaseHolder a;
    private LeaseHolder b;

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create("task_leases_it");
        pool = new PooledDataSource(db.dataSource(), 40);
        rows = new TaskRows(pool);
    }

    @AfterAll
    static void dropDatabase() {
        if (pool != null) {
            pool.close();
        }
        if (db != null) {
            db.close();
        }
    }

    @BeforeEach
    void emptyQueue() {
        rows.deleteAll();
        queue = new TaskQueue(pool);
        a = new LeaseHolder(db.dataSource(), "worker-a");
        b = new LeaseHolder(db.dataSource(), "worker-b");
    }

    @AfterEach
    void closeHolders() {
        a.close();
        b.close();
    }

    // --- claiming -----------------------------------------------------------------------------------------------

    @Test
    void everyTaskIsClaimedExactlyOnceBy32NodesClaimingFiveAtATime() throws Exception {
        Set<Long> submitted = new HashSet<>(queue.submitAll(IntStream.range(0, 2000).mapToObj(i -> task("t" + i))
                .toList()).stream().map(Submitted::id).toList());
        assertEquals(2000, submitted.size());

        ConcurrentLinkedQueue<Long> claimed = new ConcurrentLinkedQueue<>();
        long started = System.nanoTime();
        concurrently(32, node -> {
            try (LeaseHolder holder = new LeaseHolder(db.dataSource(), "node-" + node)) {
                List<ClaimedTask> got;
                while (!(got = holder.claim(5, LEASE)).isEmpty()) {
                    got.forEach(t -> claimed.add(t.id()));
                }
            }
            return null;
        });
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        System.out.printf("32 nodes claiming 5 at a time took 2000 tasks in %d ms (%.0f tasks/s)%n", ms, 2000e3 / ms);

        assertEquals(2000, claimed.size(), "claims made");
        assertEquals(submitted, new HashSet<>(claimed), "each submitted task claimed, none twice");
        assertEquals(2000, rows.count("status = 'running' AND attempt = 1 AND lease_token IS NOT NULL"));
        assertEquals(2000L, rows.value("SELECT count(DISTINCT lease_token) FROM agent_tasks"), "every claim its own token");
    }

    @Test
    void aClaimTakesUpToTheAskedNumberByPriorityThenAgeAndGivesEachRowItsSlot() {
        long low1 = submit(task("low 1", 0));
        long high1 = submit(task("high 1", 5));
        long low2 = submit(task("low 2", 0));
        long high2 = submit(task("high 2", 5));

        List<ClaimedTask> first = a.claim(3, LEASE);
        List<ClaimedTask> second = a.claim(3, LEASE);

        assertEquals(List.of(high1, high2, low1), first.stream().map(ClaimedTask::id).toList());
        assertEquals(List.of(1, 2, 3), first.stream().map(ClaimedTask::slot).sorted().toList());
        assertEquals(List.of(low2), second.stream().map(ClaimedTask::id).toList());
        for (ClaimedTask t : first) {
            assertEquals(t.slot(), rows.row(t.id()).get("slot"), "slot column of task " + t.id());
            assertEquals("worker-a", rows.row(t.id()).get("assigned_worker_id"));
        }
        assertTrue(a.claim(3, LEASE).isEmpty());
    }

    @Test
    void scheduledTasksAreNotClaimableUntilPromotedWhenDue() throws Exception {
        long later = submit(task("later"));
        rows.update("UPDATE agent_tasks SET status = 'scheduled', run_after = now() + interval '1 second' WHERE id = ?",
                later);

        assertTrue(a.claim(5, LEASE).isEmpty(), "scheduled rows are out of the claim path");
        TaskLeases.Promotion early = a.promoteDue();
        assertEquals(List.of(), early.promoted());
        assertNotNull(early.nextDueIn());
        assertTrue(early.nextDueIn().compareTo(Duration.ofMillis(1100)) <= 0, "next due in " + early.nextDueIn());

        Thread.sleep(early.nextDueIn().toMillis() + 50);
        TaskLeases.Promotion due = a.promoteDue();

        assertEquals(List.of(later), due.promoted());
        assertNull(due.nextDueIn(), "nothing else waits");
        assertEquals(later, a.claimOne(LEASE).orElseThrow().id());
    }

    // --- tokens and fencing -------------------------------------------------------------------------------------

    @Test
    void leaseTokensOnlyGrowAndAReleaseNeverGivesOneBack() {
        long id = submit(task("released twice", 0, 3));
        ClaimedTask first = a.claimOne(LEASE).orElseThrow();
        assertEquals("pending", a.finish(first, Outcome.released("node stopping"), Duration.ZERO));
        ClaimedTask second = b.claimOne(LEASE).orElseThrow();

        assertEquals(first.attempt(), second.attempt(), "a release does not count the attempt");
        assertTrue(second.leaseToken() > first.leaseToken(), "tokens " + first.leaseToken() + " then " + second.leaseToken());
        assertNull(a.finish(first, Outcome.succeeded("late result of the first holder", 0), Duration.ZERO),
                "the first holder's token no longer matches, though (id, attempt) does");
        assertEquals("running", rows.status(id));
        assertEquals("completed", b.finish(second, Outcome.succeeded("ok", 0), Duration.ZERO));
    }

    @Test
    void aHolderWhoseLeaseWasTakenOverCanChangeNothing() {
        long id = submit(task("fenced", 0, 3));
        ClaimedTask old = a.claimOne(LEASE).orElseThrow();
        rows.expireLease(id);
        assertEquals(1, a.requeueExpired(Duration.ZERO).size());
        ClaimedTask current = b.claimOne(LEASE).orElseThrow();
        Map<String, Object> before = rows.row(id);

        assertEquals(Map.of(), a.renew(List.of(old), LEASE), "the old holder's renewal finds nothing");
        for (Outcome late : List.of(Outcome.succeeded("late result", 0), Outcome.retryable("late failure", 1),
                Outcome.permanent("late permanent failure"), Outcome.released("late release"),
                Outcome.cancelled("late cancel"), usageLimited(Instant.now().plusSeconds(3600)))) {
            assertNull(a.finish(old, late, Duration.ZERO), late.kind() + " was fenced out");
        }
        assertEquals(before, rows.row(id), "the row after the old holder's late writes");

        assertEquals(Map.of(current.leaseToken(), false), b.renew(List.of(current), LEASE));
        assertEquals("completed", b.finish(current, Outcome.succeeded("result of B", 0), Duration.ZERO));
        Map<String, Object> after = rows.row(id);
        assertEquals("result of B", after.get("result"));
        assertEquals("worker-b", after.get("assigned_worker_id"));
        assertEquals(2, after.get("attempt"));
    }

    @Test
    void oneRenewalExtendsEveryLeaseOfANodeAndReportsCancelsAndLosses() {
        IntStream.range(0, 5).forEach(i -> submit(task("held " + i)));
        List<ClaimedTask> held = a.claim(5, LEASE);
        rows.update("UPDATE agent_tasks SET lease_expires_at = now() + interval '1 second'");
        assertEquals(Optional.of(TaskStatus.RUNNING), queue.cancel(held.get(1).id()));
        rows.update("UPDATE agent_tasks SET status = 'pending', assigned_worker_id = NULL WHERE id = ?", held.get(2).id());

        Map<Long, Boolean> renewed = a.renew(held, Duration.ofSeconds(60));

        assertEquals(4, renewed.size(), "the requeued one is missing: " + renewed);
        assertEquals(true, renewed.get(held.get(1).leaseToken()), "cancel flag returned");
        assertEquals(false, renewed.get(held.get(0).leaseToken()));
        assertEquals(4L, rows.value("SELECT count(*) FROM agent_tasks WHERE status = 'running'"
                + " AND lease_expires_at > now() + interval '50 seconds'"));
    }

    @Test
    void aRenewalRacingARequeueOfTheSameExpiredLeaseLeavesOneConsistentWinner() throws Exception {
        int rounds = 150;
        int renewedWins = 0;
        int requeueWins = 0;
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            for (int i = 0; i < rounds; i++) {
                rows.deleteAll();
                long id = submit(task("race " + i));
                ClaimedTask held = a.claimOne(LEASE).orElseThrow();
                rows.expireLease(id);
                CountDownLatch go = new CountDownLatch(1);
                Future<Map<Long, Boolean>> renewal = two.submit(() -> {
                    go.await();
                    return a.renew(List.of(held), LEASE);
                });
                Future<List<TaskLeases.Requeued>> requeue = two.submit(() -> {
                    go.await();
                    return b.requeueExpired(Duration.ZERO);
                });
                go.countDown();
                boolean renewed = renewal.get(10, TimeUnit.SECONDS).containsKey(held.leaseToken());
                boolean requeued = !requeue.get(10, TimeUnit.SECONDS).isEmpty();

                assertTrue(renewed ^ requeued, "round " + i + ": renewed " + renewed + ", requeued " + requeued);
                Map<String, Object> row = rows.row(id);
                if (renewed) {
                    renewedWins++;
                    assertEquals("running", row.get("status"));
                    assertEquals(held.leaseToken(), row.get("lease_token"));
                    assertEquals("completed", a.finish(held, Outcome.succeeded("ok", 0), Duration.ZERO));
                } else {
                    requeueWins++;
                    assertEquals("pending", row.get("status"));
                    assertNull(a.finish(held, Outcome.succeeded("too late", 0), Duration.ZERO), "fenced out");
                }
            }
        } finally {
            two.shutdownNow();
        }
        System.out.printf("renew racing requeue over %d rounds: renewal first %d, requeue first %d%n",
                rounds, renewedWins, requeueWins);
    }

    // --- requeue of expired leases ------------------------------------------------------------------------------

    @Test
    void anExpiredLeaseIsRequeuedOnceEvenWhenSeveralNodesReapAtOnce() throws Exception {
        long id = submit(task("lease", 0, 3));
        ClaimedTask first = a.claimOne(LEASE).orElseThrow();
        rows.expireLease(id);

        List<Integer> requeued = concurrently(8, reaper -> {
            try (LeaseHolder node = new LeaseHolder(db.dataSource(), "reaper-" + reaper)) {
                return node.requeueExpired(Duration.ZERO).size();
            }
        });

        assertEquals(1, requeued.stream().mapToInt(Integer::intValue).sum(), "requeues over all reapers: " + requeued);
        Map<String, Object> row = rows.row(id);
        assertEquals("pending", row.get("status"));
        assertEquals(1, row.get("attempt"), "the lost attempt counts");
        assertNull(row.get("assigned_worker_id"));
        assertTrue(((String) row.get("error")).contains("lease expired"), (String) row.get("error"));
        ClaimedTask second = b.claimOne(LEASE).orElseThrow();
        assertEquals(first.id(), second.id());
        assertEquals(2, second.attempt());
    }

    @Test
    void nothingIsRequeuedUntilTheDatabaseHasBeenUpForAWholeLease() {
        long id = submit(task("held through a restart"));
        a.claimOne(LEASE).orElseThrow();
        rows.expireLease(id);

        assertEquals(List.of(), b.requeueExpired(LONGER_THAN_UPTIME), "database up for less than the lease");
        assertEquals("running", rows.status(id));
        assertEquals(1, b.requeueExpired(Duration.ZERO).size());
    }

    @Test
    void aTaskFailsWithTheReasonAfterMaxAttemptsExpiredLeases() {
        long id = submit(task("always lost", 0, 2));
        for (int attempt = 1; attempt <= 2; attempt++) {
            assertEquals(attempt, a.claimOne(LEASE).orElseThrow().attempt());
            rows.expireLease(id);
            assertEquals(attempt < 2 ? "pending" : "failed", b.requeueExpired(Duration.ZERO).get(0).status());
        }
        Map<String, Object> row = rows.row(id);
        assertEquals("failed", row.get("status"));
        assertNotNull(row.get("completed_at"));
        String error = (String) row.get("error");
        assertTrue(error.contains("lease expired") && error.contains("worker-a") && error.contains("attempt 2"), error);
        assertTrue(a.claimOne(LEASE).isEmpty());
    }

    // --- how attempts end ---------------------------------------------------------------------------------------

    @Test
    void aRetryableFailureWithABackoffIsScheduledAndWithoutOneIsPendingAtOnce() {
        long slow = submit(task("flaky with backoff", 0, 3));
        assertEquals("scheduled", a.finish(a.claimOne(LEASE).orElseThrow(), Outcome.retryable("exit 1", 1),
                Duration.ofSeconds(30)));
        Map<String, Object> row = rows.row(slow);
        assertNull(row.get("assigned_worker_id"));
        assertNull(row.get("completed_at"));
        assertEquals("exit 1", row.get("error"));
        assertEquals(true, rows.value("SELECT run_after BETWEEN now() + interval '25 seconds' AND now() + interval"
                + " '31 seconds' FROM agent_tasks WHERE id = ?", slow), "run_after about 30 s ahead");
        assertTrue(a.claimOne(LEASE).isEmpty(), "not claimable during its backoff");

        long fast = submit(task("flaky without backoff", 0, 3));
        assertEquals("pending", a.finish(a.claimOne(LEASE).orElseThrow(), Outcome.retryable("exit 1", 1), Duration.ZERO));
        assertEquals(fast, a.claimOne(LEASE).orElseThrow().id());
    }

    @Test
    void aRetryableFailureOnTheLastAttemptAndAPermanentFailureFailTheTask() {
        long flaky = submit(task("flaky", 0, 2));
        a.finish(a.claimOne(LEASE).orElseThrow(), Outcome.retryable("exit 1", 1), Duration.ZERO);
        assertEquals("failed", a.finish(a.claimOne(LEASE).orElseThrow(), Outcome.retryable("exit 2", 2), Duration.ZERO));
        Map<String, Object> row = rows.row(flaky);
        assertEquals(2, row.get("attempt"));
        assertEquals(2, row.get("exit_code"));
        assertNotNull(row.get("completed_at"));

        long bad = submit(task("bad", 0, 5));
        assertEquals("failed", a.finish(a.claimOne(LEASE).orElseThrow(), Outcome.permanent("unknown executor"),
                Duration.ofSeconds(30)));
        assertEquals(1, rows.row(bad).get("attempt"));
        assertEquals("unknown executor", rows.row(bad).get("error"));
    }

    @Test
    void costAndTokensAddUpOverAttemptsAndStayUnknownWhenNoAttemptReportedAny() {
        long paid = submit(task("paid", 0, 3));
        a.finish(a.claimOne(LEASE).orElseThrow(), new Outcome(Outcome.Kind.RETRYABLE, null, "API 500", 1,
                new BigDecimal("0.50"), 1000L, 100L, 3, "s1", null), Duration.ZERO);
        a.finish(a.claimOne(LEASE).orElseThrow(), new Outcome(Outcome.Kind.SUCCEEDED, "done", null, 0,
                new BigDecimal("0.25"), 500L, null, 2, "s2", null), Duration.ZERO);
        Map<String, Object> row = rows.row(paid);
        assertEquals(0, new BigDecimal("0.75").compareTo((BigDecimal) row.get("cost_usd")), row::toString);
        assertEquals(1500L, ((Number) row.get("input_tokens")).longValue());
        assertEquals(100L, ((Number) row.get("output_tokens")).longValue(), "a later unknown keeps what was known");
        assertEquals("s2", row.get("session_id"));

        long free = submit(task("free", 0, 3));
        a.finish(a.claimOne(LEASE).orElseThrow(), Outcome.succeeded("out", 0), Duration.ZERO);
        assertNull(rows.row(free).get("cost_usd"), "nothing reported a cost: unknown, not 0");
    }

    @Test
    void aUsageLimitSchedulesTheTaskUntilTheResetWithoutCountingTheAttempt() {
        long id = submit(task("limited", 0, 3));
        a.finish(a.claimOne(LEASE).orElseThrow(), Outcome.retryable("exit 1", 1), Duration.ZERO);
        ClaimedTask second = a.claimOne(LEASE).orElseThrow();
        assertEquals(2, second.attempt());
        Instant resumeAt = Instant.now().plus(Duration.ofHours(2)).truncatedTo(ChronoUnit.MICROS);

        assertEquals("scheduled", a.finish(second, usageLimited(resumeAt), Duration.ZERO));

        Map<String, Object> row = rows.row(id);
        assertEquals(1, row.get("attempt"), "the limited attempt is not counted");
        assertNull(row.get("assigned_worker_id"));
        assertEquals(resumeAt, ((Timestamp) row.get("run_after")).toInstant());
        assertTrue(a.claimOne(LEASE).isEmpty(), "not claimable before the reset");
    }

    @Test
    void aCancelRequestedWhileRunningWinsOverAFailureAndARelease() {
        long failed = submit(task("fails before its slot sees the cancel", 0, 3));
        ClaimedTask failing = a.claimOne(LEASE).orElseThrow();
        long released = submit(task("released before its slot sees the cancel", 0, 3));
        ClaimedTask releasing = a.claimOne(LEASE).orElseThrow();
        assertEquals(Optional.of(TaskStatus.RUNNING), queue.cancel(failed));
        assertEquals(Optional.of(TaskStatus.RUNNING), queue.cancel(released));

        assertEquals("cancelled", a.finish(failing, Outcome.retryable("exit 1", 1), Duration.ofSeconds(5)));
        assertEquals("cancelled", a.finish(releasing, Outcome.released("node shutting down"), Duration.ZERO));

        for (long id : List.of(failed, released)) {
            assertEquals(1, rows.row(id).get("attempt"), "task " + id);
            assertNotNull(rows.row(id).get("completed_at"), "task " + id);
        }
        assertTrue(a.claimOne(LEASE).isEmpty(), "a cancelled task does not run again");
    }

    // --- retention ----------------------------------------------------------------------------------------------

    @Test
    void retentionDeletesOnlyFinishedTasksOlderThanTheAgeInBatches() {
        IntStream.range(0, 7).forEach(i -> submit(task("old " + i)));
        for (ClaimedTask t : a.claim(7, LEASE)) {
            a.finish(t, Outcome.succeeded("ok", 0), Duration.ZERO);
        }
        rows.update("UPDATE agent_tasks SET completed_at = now() - interval '3 days'");
        long recent = submit(task("recent"));
        a.finish(a.claimOne(LEASE).orElseThrow(), Outcome.succeeded("ok", 0), Duration.ZERO);
        long waiting = submit(task("waiting"));

        assertEquals(5, a.deleteFinished(Duration.ofDays(2), 5));
        assertEquals(2, a.deleteFinished(Duration.ofDays(2), 5));
        assertEquals(0, a.deleteFinished(Duration.ofDays(2), 5));

        assertEquals(2, rows.count("true"));
        assertEquals("completed", rows.status(recent));
        assertEquals("pending", rows.status(waiting));
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    private static Outcome usageLimited(Instant resumeAt) {
        return new Outcome(Outcome.Kind.USAGE_LIMITED, null, "usage limit", null, null, null, null, null, null, resumeAt);
    }

    private static NewTask task(String prompt) {
        return task(prompt, 0, 3);
    }

    private static NewTask task(String prompt, int priority) {
        return task(prompt, priority, 3);
    }

    private static NewTask task(String prompt, int priority, int maxAttempts) {
        return new NewTask("simulated", prompt, priority, maxAttempts, 60, "{\"durationMs\": 10}", null);
    }

    private long submit(NewTask task) {
        Submitted s = queue.submit(task);
        assertTrue(s.created());
        return s.id();
    }

    interface Body<T> {
        T run(int thread) throws Exception;
    }

    /** Runs the body on that many threads released at the same instant; returns their results. */
    private static <T> List<T> concurrently(int threads, Body<T> body) throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch ready = new CountDownLatch(threads);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int thread = i;
                Callable<T> call = () -> {
                    ready.countDown();
                    go.await();
                    return body.run(thread);
                };
                futures.add(executor.submit(call));
            }
            ready.await();
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(2, TimeUnit.MINUTES));
            }
            return results;
        } finally {
            executor.shutdownNow();
        }
    }
}
