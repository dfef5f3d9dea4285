package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.LeaseState;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.TaskStatus;
import dev.agentturbo.testing.PooledDataSource;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.TestDatabase;
import dev.agentturbo.workers.control.Doorbell;
import dev.agentturbo.workers.control.TaskSignals;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The task store against a real PostgreSQL: claims, leases, fencing, cancel, retries, idempotency, wake-ups. */
class TaskQueueIT {

    private static final Duration LEASE = Duration.ofSeconds(30);
    /** One line per state change is the queue's log; thousands of them here would only slow the claims down. */
    private static final Logger QUEUE_LOG = Logger.getLogger(TaskQueue.class.getName());

    private static TestDatabase db;
    private static PooledDataSource pool;
    private static TaskRows rows;
    private TaskQueue queue;

    @BeforeAll
    static void createDatabase() {
        QUEUE_LOG.setLevel(Level.WARNING);
        db = TestDatabase.create("task_queue_it");
        pool = new PooledDataSource(db.dataSource(), 40);
        rows = new TaskRows(pool);
    }

    @AfterAll
    static void dropDatabase() {
        QUEUE_LOG.setLevel(null);
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
    }

    // --- claiming -----------------------------------------------------------------------------------------------

    @Test
    void everyTaskIsClaimedExactlyOnceBy32ConcurrentClaimers() throws Exception {
        List<NewTask> tasks = IntStream.range(0, 2000).mapToObj(i -> task("task " + i)).toList();
        Set<Long> submitted = new HashSet<>(queue.submitAll(tasks).stream().map(Submitted::id).toList());
        assertEquals(2000, submitted.size());

        ConcurrentLinkedQueue<Long> claimed = new ConcurrentLinkedQueue<>();
        long started = System.nanoTime();
        concurrently(32, worker -> {
            Optional<ClaimedTask> next;
            while ((next = queue.claim("worker-" + worker, 1, LEASE)).isPresent()) {
                claimed.add(next.get().id());
            }
            return null;
        });
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        System.out.printf("32 claimers took 2000 tasks in %d ms (%.0f claims/s)%n", ms, 2000 * 1000.0 / ms);

        List<Long> ids = new ArrayList<>(claimed);
        assertEquals(2000, ids.size(), "claims made");
        assertEquals(submitted, new HashSet<>(ids), "each submitted task claimed, none twice");
        assertEquals(2000, rows.count("status = 'running' AND attempt = 1 AND assigned_worker_id IS NOT NULL"));
        assertEquals(0, rows.count("status <> 'running' OR attempt <> 1"));
    }

    @Test
    void claimTakesHigherPriorityFirstThenOlderAndSkipsTasksNotYetDue() {
        long low1 = submit(task("low 1", 0));
        long high1 = submit(task("high 1", 5));
        long low2 = submit(task("low 2", 0));
        long high2 = submit(task("high 2", 5));
        long later = submit(task("urgent but later", 10));
        rows.update("UPDATE agent_tasks SET run_after = now() + interval '1 hour' WHERE id = ?", later);

        List<Long> order = new ArrayList<>();
        Optional<ClaimedTask> next;
        while ((next = queue.claim("w", 1, LEASE)).isPresent()) {
            order.add(next.get().id());
        }

        assertEquals(List.of(high1, high2, low1, low2), order);
        assertEquals("pending", rows.status(later));
    }

    // --- leases -------------------------------------------------------------------------------------------------

    @Test
    void anExpiredLeaseIsRequeuedOnceEvenWhenSeveralNodesReapAtOnce() throws Exception {
        long id = submit(task("lease", 0, 3));
        ClaimedTask first = claim("worker-a");
        rows.expireLease(id);

        List<Integer> requeued = concurrently(8, reaper -> queue.requeueExpired());

        assertEquals(1, requeued.stream().mapToInt(Integer::intValue).sum(), "requeues over all reapers: " + requeued);
        Map<String, Object> row = rows.row(id);
        assertEquals("pending", row.get("status"));
        assertEquals(1, row.get("attempt"), "the lost attempt counts");
        assertNull(row.get("assigned_worker_id"));
        assertNull(row.get("lease_expires_at"));
        assertTrue(((String) row.get("error")).contains("lease expired"), (String) row.get("error"));

        ClaimedTask second = claim("worker-b");
        assertEquals(first.id(), second.id());
        assertEquals(2, second.attempt());
    }

    @Test
    void aTaskFailsWithTheReasonAfterMaxAttemptsExpiredLeases() {
        long id = submit(task("always lost", 0, 2));
        for (int attempt = 1; attempt <= 2; attempt++) {
            assertEquals(attempt, claim("worker-" + attempt).attempt());
            rows.expireLease(id);
            assertEquals(attempt < 2 ? 1 : 0, queue.requeueExpired(), "requeued after attempt " + attempt);
        }

        Map<String, Object> row = rows.row(id);
        assertEquals("failed", row.get("status"));
        assertEquals(2, row.get("attempt"));
        assertNotNull(row.get("completed_at"));
        String error = (String) row.get("error");
        assertTrue(error.contains("lease expired") && error.contains("worker-2") && error.contains("attempt 2"), error);
        assertTrue(queue.claim("worker-3", 1, LEASE).isEmpty());
        assertEquals(0, queue.requeueExpired());
    }

    @Test
    void aSlotWhoseLeaseWasTakenOverCanChangeNothing() {
        long id = submit(task("fenced", 0, 3));
        ClaimedTask a = claim("worker-a");
        rows.expireLease(id);
        assertEquals(1, queue.requeueExpired());
        ClaimedTask b = claim("worker-b");
        assertEquals(2, b.attempt());
        Map<String, Object> before = rows.row(id);

        assertFalse(queue.finish(a, Outcome.succeeded("late result of A", 0), Duration.ZERO));
        assertEquals(LeaseState.LOST, queue.renew(a, LEASE));
        assertFalse(queue.finish(a, Outcome.retryable("late failure of A", 1), Duration.ZERO));
        assertFalse(queue.finish(a, Outcome.permanent("late permanent failure of A"), Duration.ZERO));
        assertFalse(queue.release(a, null, "late release by A"));
        assertFalse(queue.markCancelled(a, "late cancel by A"));
        assertEquals(before, rows.row(id), "the row after A's late calls");

        assertEquals(LeaseState.HELD, queue.renew(b, LEASE));
        assertTrue(queue.finish(b, Outcome.succeeded("result of B", 0), Duration.ZERO));
        Map<String, Object> after = rows.row(id);
        assertEquals("completed", after.get("status"));
        assertEquals("result of B", after.get("result"));
        assertEquals("worker-b", after.get("assigned_worker_id"));
        assertEquals(2, after.get("attempt"));
    }

    // --- cancel -------------------------------------------------------------------------------------------------

    @Test
    void cancellingAPendingTaskCancelsItAtOnce() {
        long id = submit(task("never runs"));

        assertEquals(Optional.of(TaskStatus.CANCELLED), queue.cancel(id));

        Map<String, Object> row = rows.row(id);
        assertEquals("cancelled", row.get("status"));
        assertNotNull(row.get("completed_at"));
        assertTrue(queue.claim("w", 1, LEASE).isEmpty());
    }

    @Test
    void cancellingARunningTaskFlagsItAndTellsTheListeningNodes() throws Exception {
        BlockingQueue<Long> cancelSignals = new LinkedBlockingQueue<>();
        try (TaskSignals signals = listen(new Doorbell(), cancelSignals::add)) {
            long id = submit(task("to be cancelled"));
            ClaimedTask running = claim("worker-a");

            assertEquals(Optional.of(TaskStatus.RUNNING), queue.cancel(id));

            assertEquals(id, cancelSignals.poll(10, TimeUnit.SECONDS), "task id received on " + TaskQueue.CANCEL_CHANNEL);
            assertEquals(true, rows.row(id).get("cancel_requested"));
            assertEquals("running", rows.status(id));
            assertEquals(LeaseState.CANCEL_REQUESTED, queue.renew(running, LEASE));
            assertTrue(queue.markCancelled(running, "killed on request"));
            Map<String, Object> row = rows.row(id);
            assertEquals("cancelled", row.get("status"));
            assertEquals("killed on request", row.get("error"));
            assertNotNull(row.get("completed_at"));
        }
    }

    @Test
    void cancellingAFinishedTaskLeavesItAsItWas() {
        long id = submit(task("done"));
        ClaimedTask running = claim("w");
        assertTrue(queue.finish(running, Outcome.succeeded("ok", 0), Duration.ZERO));
        Map<String, Object> before = rows.row(id);

        assertEquals(Optional.of(TaskStatus.COMPLETED), queue.cancel(id));

        assertEquals(before, rows.row(id));
    }

    @Test
    void aCancelRequestedWhileRunningHoldsWhenTheAttemptFailsOrIsReleasedFirst() {
        long failed = submit(task("fails before its slot sees the cancel", 0, 3));
        ClaimedTask failing = claim("w");
        long released = submit(task("released before its slot sees the cancel", 0, 3));
        ClaimedTask releasing = claim("w");
        assertEquals(Optional.of(TaskStatus.RUNNING), queue.cancel(failed));
        assertEquals(Optional.of(TaskStatus.RUNNING), queue.cancel(released));

        assertTrue(queue.finish(failing, Outcome.retryable("exit 1", 1), Duration.ZERO));
        assertTrue(queue.release(releasing, null, "node shutting down"));

        for (long id : List.of(failed, released)) {
            Map<String, Object> row = rows.row(id);
            assertEquals("cancelled", row.get("status"), "task " + id);
            assertEquals(1, row.get("attempt"), "task " + id);
            assertNotNull(row.get("completed_at"), "task " + id);
        }
        assertTrue(queue.claim("w", 1, LEASE).isEmpty(), "a cancelled task does not run again");
    }

    @Test
    void cancellingAnUnknownTaskFindsNothing() {
        assertEquals(Optional.empty(), queue.cancel(424242));
    }

    // --- outcomes -----------------------------------------------------------------------------------------------

    @Test
    void aRetryableFailureWithAttemptsLeftWaitsForItsBackoff() {
        long id = submit(task("flaky", 0, 3));
        ClaimedTask running = claim("w");

        assertTrue(queue.finish(running, Outcome.retryable("exit 1", 1), Duration.ofSeconds(30)));

        Map<String, Object> row = rows.row(id);
        assertEquals("pending", row.get("status"));
        assertNull(row.get("assigned_worker_id"));
        assertNull(row.get("completed_at"));
        assertEquals("exit 1", row.get("error"));
        assertEquals(1, row.get("attempt"));
        assertEquals(true, rows.value("SELECT run_after BETWEEN now() + interval '25 seconds' AND now() + interval '31 seconds'"
                + " FROM agent_tasks WHERE id = ?", id), "run_after about 30 s ahead");
        assertTrue(queue.claim("w", 1, LEASE).isEmpty(), "not claimable during its backoff");
    }

    @Test
    void costAndTokensAddUpOverAttemptsAndStayUnknownWhenNoAttemptReportedAny() {
        long paid = submit(task("paid", 0, 3));
        Outcome failedAttempt = new Outcome(Outcome.Kind.RETRYABLE, null, "API 500", 1, new java.math.BigDecimal("0.50"),
                1000L, 100L, 3, "s1", null);
        assertTrue(queue.finish(claim("w"), failedAttempt, Duration.ZERO));
        Outcome success = new Outcome(Outcome.Kind.SUCCEEDED, "done", null, 0, new java.math.BigDecimal("0.25"),
                500L, null, 2, "s2", null);
        assertTrue(queue.finish(claim("w"), success, Duration.ZERO));

        Map<String, Object> row = rows.row(paid);
        assertEquals(0, new java.math.BigDecimal("0.75").compareTo((java.math.BigDecimal) row.get("cost_usd")), row::toString);
        assertEquals(1500L, ((Number) row.get("input_tokens")).longValue());
        assertEquals(100L, ((Number) row.get("output_tokens")).longValue(), "a later unknown keeps what was known");
        assertEquals("s2", row.get("session_id"));

        long free = submit(task("free", 0, 3));
        assertTrue(queue.finish(claim("w"), Outcome.succeeded("out", 0), Duration.ZERO));
        Map<String, Object> unpaid = rows.row(free);
        assertNull(unpaid.get("cost_usd"), "nothing reported a cost: unknown, not 0");
        assertNull(unpaid.get("input_tokens"));
        assertNull(unpaid.get("output_tokens"));
    }

    @Test
    void aRetryableFailureOnTheLastAttemptFailsTheTask() {
        long id = submit(task("flaky", 0, 2));
        assertTrue(queue.finish(claim("w"), Outcome.retryable("exit 1", 1), Duration.ZERO));
        assertEquals("pending", rows.status(id));

        assertTrue(queue.finish(claim("w"), Outcome.retryable("exit 2", 2), Duration.ZERO));

        Map<String, Object> row = rows.row(id);
        assertEquals("failed", row.get("status"));
        assertEquals(2, row.get("attempt"));
        assertEquals("exit 2", row.get("error"));
        assertEquals(2, row.get("exit_code"));
        assertNotNull(row.get("completed_at"));
    }

    @Test
    void aPermanentFailureFailsTheTaskAtOnce() {
        long id = submit(task("bad", 0, 5));

        assertTrue(queue.finish(claim("w"), Outcome.permanent("unknown executor"), Duration.ofSeconds(30)));

        Map<String, Object> row = rows.row(id);
        assertEquals("failed", row.get("status"));
        assertEquals(1, row.get("attempt"));
        assertEquals("unknown executor", row.get("error"));
        assertNotNull(row.get("completed_at"));
    }

    @Test
    void aUsageLimitPutsTheTaskBackUntilTheResetWithoutCountingTheAttempt() {
        long id = submit(task("limited", 0, 3));
        assertTrue(queue.finish(claim("w"), Outcome.retryable("exit 1", 1), Duration.ZERO));
        ClaimedTask second = claim("w");
        assertEquals(2, second.attempt());
        Instant resumeAt = Instant.now().plus(Duration.ofHours(2)).truncatedTo(ChronoUnit.MICROS);

        Outcome limited = new Outcome(Outcome.Kind.USAGE_LIMITED, null, "usage limit", null, null, null, null, null,
                null, resumeAt);
        assertTrue(queue.finish(second, limited, Duration.ZERO));

        Map<String, Object> row = rows.row(id);
        assertEquals("pending", row.get("status"));
        assertEquals(1, row.get("attempt"), "the limited attempt is not counted");
        assertNull(row.get("assigned_worker_id"));
        assertEquals(resumeAt, ((Timestamp) row.get("run_after")).toInstant());
        assertTrue(queue.claim("w", 1, LEASE).isEmpty(), "not claimable before the reset");
    }

    // --- submission ---------------------------------------------------------------------------------------------

    @Test
    void theSameIdempotencyKeyStoresOneTask() {
        Submitted first = queue.submit(keyed("same prompt", "key-1"));
        Submitted again = queue.submit(keyed("same prompt", "key-1"));

        assertTrue(first.created());
        assertFalse(again.created());
        assertEquals(first.id(), again.id());
        assertEquals(1, rows.count("true"));
    }

    @Test
    void theSameIdempotencyKeyWithAnotherPromptIsAConflict() {
        long id = queue.submit(keyed("first prompt", "key-2")).id();

        IdempotencyConflictException e = assertThrows(IdempotencyConflictException.class,
                () -> queue.submit(keyed("another prompt", "key-2")));

        assertTrue(e.getMessage().contains("key-2"), e.getMessage());
        assertEquals(1, rows.count("true"));
        assertEquals("first prompt", rows.row(id).get("prompt"));
    }

    @Test
    void aBatchWithOneBadTaskStoresNone() {
        List<NewTask> batch = List.of(task("good 1"), task("good 2"),
                new NewTask("simulated", "bad: zero timeout", 0, 3, 0, "{}", null), task("good 3"));

        assertThrows(QueueException.class, () -> queue.submitAll(batch));

        assertEquals(0, rows.count("true"));
    }

    @Test
    void submittingRingsTheDoorbellOfListeningNodes() throws Exception {
        Doorbell doorbell = new Doorbell();
        try (TaskSignals signals = listen(doorbell, id -> { })) {
            int rounds = 50;
            List<Long> micros = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                long seen = doorbell.generation();
                long start = System.nanoTime();
                queue.submit(task("wake " + i));
                assertTrue(doorbell.await(seen, Duration.ofSeconds(10)), "doorbell rang after submit " + i);
                micros.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start));
            }
            Collections.sort(micros);
            long median = micros.get(rounds / 2);
            long p99 = micros.get((int) Math.ceil(rounds * 0.99) - 1);
            System.out.printf("submit -> doorbell over %d rounds: median %.1f ms, p99 %.1f ms, max %.1f ms%n",
                    rounds, median / 1000.0, p99 / 1000.0, micros.get(rounds - 1) / 1000.0);
            assertTrue(median < 1_000_000, "median wake-up " + median + " µs");
        }
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    private static NewTask task(String prompt) {
        return task(prompt, 0, 3);
    }

    private static NewTask task(String prompt, int priority) {
        return task(prompt, priority, 3);
    }

    private static NewTask task(String prompt, int priority, int maxAttempts) {
        return new NewTask("simulated", prompt, priority, maxAttempts, 60, "{\"durationMs\": 10}", null);
    }

    private static NewTask keyed(String prompt, String key) {
        return new NewTask("simulated", prompt, 0, 3, 60, "{}", key);
    }

    private long submit(NewTask task) {
        Submitted s = queue.submit(task);
        assertTrue(s.created());
        return s.id();
    }

    private ClaimedTask claim(String worker) {
        return queue.claim(worker, 1, LEASE).orElseThrow(() -> new AssertionError(worker + " found nothing to claim"));
    }

    /** A LISTEN connection like a node's; returns once it listens. */
    private static TaskSignals listen(Doorbell doorbell, LongConsumer onCancel) throws InterruptedException {
        TaskSignals signals = new TaskSignals(db.url(), TestDatabase.USER, TestDatabase.PASSWORD, doorbell, onCancel)
                .start();
        TaskRows.await(Duration.ofSeconds(10), "LISTEN connection open", signals::listening);
        return signals;
    }

    interface Body<T> {
        T run(int thread) throws Exception;
    }

    /** Runs the body on that many threads released at the same instant; returns their results. */
    private static <T> List<T> concurrently(int threads, Body<T> body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
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
                futures.add(pool.submit(call));
            }
            ready.await();
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(2, TimeUnit.MINUTES));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
