package dev.agentturbo.tasks.control;

import dev.agentturbo.platform.DirectConnections;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.TaskStatus;
import dev.agentturbo.testing.LeaseHolder;
import dev.agentturbo.testing.PooledDataSource;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.TestDatabase;
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
import java.util.concurrent.Semaphore;
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

/** What users do to the queue, against a real PostgreSQL: submissions, idempotency, batches, cancels, wake-ups. */
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

    // --- cancel -------------------------------------------------------------------------------------------------

    @Test
    void cancellingAPendingOrScheduledTaskCancelsItAtOnce() {
        long pending = submit(task("never runs"));
        long scheduled = submit(task("never runs either"));
        rows.update("UPDATE agent_tasks SET status = 'scheduled', run_after = now() + interval '1 hour' WHERE id = ?",
                scheduled);

        assertEquals(Optional.of(TaskStatus.CANCELLED), queue.cancel(pending));
        assertEquals(Optional.of(TaskStatus.CANCELLED), queue.cancel(scheduled));

        for (long id : List.of(pending, scheduled)) {
            Map<String, Object> row = rows.row(id);
            assertEquals("cancelled", row.get("status"));
            assertNotNull(row.get("completed_at"));
        }
        try (LeaseHolder holder = new LeaseHolder(db.dataSource(), "w")) {
            assertTrue(holder.claimOne(LEASE).isEmpty());
        }
    }

    @Test
    void cancellingARunningTaskFlagsItAndTellsTheListeningNodes() throws Exception {
        BlockingQueue<Long> cancelSignals = new LinkedBlockingQueue<>();
        try (TaskSignals signals = listen(() -> { }, cancelSignals::add);
             LeaseHolder holder = new LeaseHolder(db.dataSource(), "worker-a")) {
            long id = submit(task("to be cancelled"));
            ClaimedTask running = holder.claimOne(LEASE).orElseThrow();

            assertEquals(Optional.of(TaskStatus.RUNNING), queue.cancel(id));

            assertEquals(id, cancelSignals.poll(10, TimeUnit.SECONDS), "task id received on " + TaskQueue.CANCEL_CHANNEL);
            assertEquals(true, rows.row(id).get("cancel_requested"));
            assertEquals("running", rows.status(id));
            assertEquals(Map.of(running.leaseToken(), true), holder.renew(List.of(running), LEASE));
            assertEquals("cancelled", holder.finish(running, Outcome.cancelled("killed on request"), Duration.ZERO));
            Map<String, Object> row = rows.row(id);
            assertEquals("killed on request", row.get("error"));
            assertNotNull(row.get("completed_at"));
        }
    }

    @Test
    void cancellingAFinishedTaskLeavesItAsItWas() {
        long id = submit(task("done"));
        try (LeaseHolder holder = new LeaseHolder(db.dataSource(), "w")) {
            holder.finish(holder.claimOne(LEASE).orElseThrow(), Outcome.succeeded("ok", 0), Duration.ZERO);
        }
        Map<String, Object> before = rows.row(id);

        assertEquals(Optional.of(TaskStatus.COMPLETED), queue.cancel(id));

        assertEquals(before, rows.row(id));
    }

    @Test
    void cancellingAnUnknownTaskFindsNothing() {
        assertEquals(Optional.empty(), queue.cancel(424242));
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
    void submittingWakesListeningNodes() throws Exception {
        Semaphore woken = new Semaphore(0);
        try (TaskSignals signals = listen(woken::release, id -> { })) {
            woken.drainPermits();
            int rounds = 50;
            List<Long> micros = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                long start = System.nanoTime();
                queue.submit(task("wake " + i));
                assertTrue(woken.tryAcquire(10, TimeUnit.SECONDS), "woken after submit " + i);
                micros.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start));
                woken.drainPermits();
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

    /** A LISTEN connection like a node's; returns once it listens. */
    private static TaskSignals listen(Runnable onReady, LongConsumer onCancel) throws InterruptedException {
        TaskSignals signals = new TaskSignals(new DirectConnections(db.url(), TestDatabase.USER, TestDatabase.PASSWORD),
                onReady, onCancel).start();
        TaskRows.await(Duration.ofSeconds(10), "LISTEN connection open", signals::listening);
        return signals;
    }
}
