package dev.agentturbo.workers.control;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.agents.entity.ExecutorSettings;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.TaskStatus;
import dev.agentturbo.testing.PooledDataSource;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.TestDatabase;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.batch.operations.JobOperator;
import jakarta.batch.runtime.BatchRuntime;
import jakarta.batch.runtime.BatchStatus;
import org.jberet.creation.BatchCDIExtension;
import org.jboss.weld.bootstrap.api.helpers.RegistrySingletonProvider;
import org.jboss.weld.environment.se.Weld;
import org.jboss.weld.environment.se.WeldContainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real job XML (META-INF/batch-jobs/agent-worker.xml) with the real batch artifacts, run by JBeret SE in a
 * Weld SE container against a real PostgreSQL: slots claim, run and record tasks; stop, cancel and timeout act
 * on running agents. Each test runs its own execution of the job with three slots.
 */
class AgentWorkerJobIT {

    private static final int SLOTS = 3;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Set<BatchStatus> ENDED = EnumSet.of(BatchStatus.COMPLETED, BatchStatus.FAILED,
            BatchStatus.STOPPED, BatchStatus.ABANDONED);

    private static TestDatabase db;
    private static PooledDataSource pool;
    private static TaskRows rows;
    private static WeldContainer container;
    private static TaskSignals signals;
    private static TaskQueue queue;
    private static SlotBoard board;
    private static JobOperator operator;

    private long execution;

    @BeforeAll
    static void startContainer() throws InterruptedException {
        db = TestDatabase.create("agent_worker_job_it");
        pool = new PooledDataSource(db.dataSource(), 20);
        rows = new TaskRows(pool);
        Path workRoot = Path.of("target", "agent-worker-it", db.name()).toAbsolutePath();
        AgentWorkerJobBeans.use(pool,
                new WorkerSettings("it-node", SLOTS, Duration.ofSeconds(6), Duration.ofSeconds(2),
                        Duration.ofMillis(500), Duration.ofSeconds(1), workRoot, Duration.ofMillis(200),
                        Duration.ofSeconds(1)),
                new ExecutorSettings("claude", List.of("cat", "sleep")));
        // JBeret SE takes its artifacts from the Weld container registered under this id, if one runs. Its CDI
        // extension adds the batch scopes and BatchBeanProducer (@BatchProperty, JobContext, StepContext).
        container = new Weld(RegistrySingletonProvider.STATIC_INSTANCE)
                .disableDiscovery()
                .addExtension(new BatchCDIExtension())
                .addBeanClasses(SlotBatchlet.class, SlotPartitionMapper.class, SlotBoard.class,
                        TaskQueue.class, Doorbell.class, AgentExecutors.class, AgentWorkerJobBeans.class)
                .initialize();
        queue = container.select(TaskQueue.class).get();
        board = container.select(SlotBoard.class).get();
        signals = new TaskSignals(db.url(), TestDatabase.USER, TestDatabase.PASSWORD,
                container.select(Doorbell.class).get(), board::cancel).start();
        TaskRows.await(WAIT, "LISTEN connection open", signals::listening);
        operator = BatchRuntime.getJobOperator();
    }

    @AfterAll
    static void stopContainer() {
        if (signals != null) {
            signals.close();
        }
        if (container != null) {
            container.shutdown();
        }
        if (pool != null) {
            pool.close();
        }
        if (db != null) {
            db.close();
        }
    }

    @BeforeEach
    void startJob() throws InterruptedException {
        rows.deleteAll();
        Properties parameters = new Properties();
        parameters.setProperty(SlotPartitionMapper.SLOTS, Integer.toString(SLOTS));
        execution = operator.start("agent-worker", parameters);
        TaskRows.await(WAIT, SLOTS + " slots open", () -> board.open() == SLOTS);
    }

    @AfterEach
    void stopJob() throws InterruptedException {
        stopAndAwaitEnd();
        TaskRows.await(WAIT, "all slots closed", () -> board.open() == 0);
    }

    @Test
    void thirtySimulatedTasksCompleteOnceEachSpreadOverTheSlots() throws InterruptedException {
        List<Long> ids = submitAll(IntStream.range(0, 30).mapToObj(i -> TaskRows.simulated("sim " + i, 200)).toList());
        long started = System.nanoTime();

        TaskRows.await(WAIT, "30 tasks completed", () -> rows.count("status = 'completed'") == 30);

        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        Map<Integer, Long> perSlot = rows.query("SELECT slot FROM agent_tasks").stream()
                .collect(Collectors.groupingBy(r -> (Integer) r.get("slot"), TreeMap::new, Collectors.counting()));
        System.out.printf("30 simulated tasks of 200 ms on %d slots: done in %d ms (ideal %d ms); tasks per slot %s%n",
                SLOTS, ms, 30 * 200 / SLOTS, perSlot);
        assertEquals(30, rows.count("id = ANY(?) AND status = 'completed' AND attempt = 1 AND error IS NULL",
                (Object) ids.toArray(Long[]::new)), "each completed on its first and only attempt");
        assertEquals(Set.of(1, 2, 3), perSlot.keySet(), "every slot took tasks");
    }

    @Test
    void aCommandTaskGetsThePromptOnStdinAndItsOutputIsTheResult() throws InterruptedException {
        String prompt = "first line\nsecond line, with \"quotes\" and $HOME\n";
        long id = submit(command(prompt, 60, 1, "cat"));

        awaitStatus(id, TaskStatus.COMPLETED);

        Map<String, Object> row = rows.row(id);
        assertEquals(prompt, row.get("result"));
        assertEquals(0, row.get("exit_code"));
        assertEquals(1, row.get("attempt"));
    }

    @Test
    void stoppingTheJobReleasesTheRunningTaskWithoutCountingItsAttempt() throws InterruptedException {
        long id = submit(command("", 600, 3, "sleep", "61"));
        awaitAgentRunning(id, "61");

        long started = System.nanoTime();
        BatchStatus status = stopAndAwaitEnd();

        System.out.printf("job stopped with a running agent in %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        assertEquals(BatchStatus.STOPPED, status);
        Map<String, Object> row = rows.row(id);
        assertEquals("pending", row.get("status"));
        assertEquals(0, row.get("attempt"), "the released attempt is not counted");
        assertNull(row.get("assigned_worker_id"));
        assertNull(row.get("lease_expires_at"));
        assertTrue(((String) row.get("error")).contains("shut down"), (String) row.get("error"));
        TaskRows.await(Duration.ofSeconds(5), "agent process killed", () -> !agentProcessAlive("61"));
    }

    @Test
    void cancellingARunningTaskKillsItsAgentWithinTwoSeconds() throws InterruptedException {
        long id = submit(command("", 600, 3, "sleep", "62"));
        awaitAgentRunning(id, "62");

        long started = System.nanoTime();
        assertEquals(Optional.of(TaskStatus.RUNNING), queue.cancel(id));
        TaskRows.await(Duration.ofSeconds(10), "task cancelled", () -> "cancelled".equals(rows.status(id)));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        System.out.printf("cancel of a running agent: cancelled in the database after %d ms%n", ms);
        assertTrue(ms < 2000, "cancelled after " + ms + " ms");
        assertFalse(agentProcessAlive("62"), "the agent's process is gone once the task shows cancelled");
        Map<String, Object> row = rows.row(id);
        assertEquals(1, row.get("attempt"));
        assertTrue(((String) row.get("error")).contains("cancelled"), (String) row.get("error"));
    }

    @Test
    void aTaskPastItsTimeoutIsKilledAndRetriedUntilItFails() throws InterruptedException {
        long id = submit(command("", 1, 2, "sleep", "63"));

        awaitStatus(id, TaskStatus.FAILED);

        Map<String, Object> row = rows.row(id);
        assertEquals(2, row.get("attempt"), "timed out on both attempts");
        String error = (String) row.get("error");
        assertTrue(error.contains("timed out after 1 s"), error);
        TaskRows.await(Duration.ofSeconds(5), "agent process killed", () -> !agentProcessAlive("63"));
    }

    @Test
    void aStopThatArrivesBeforeThePartitionOpensItsSlotStillEndsThePartition() throws Exception {
        SlotBatchlet batchlet = new SlotBatchlet();
        batchlet.board = board;
        batchlet.slotNumber = "9";

        batchlet.stop(); // the job was stopped while this partition was starting
        CompletableFuture<String> process = CompletableFuture.supplyAsync(batchlet::process);
        try {
            assertEquals(BatchStatus.STOPPED.name(), process.get(10, TimeUnit.SECONDS));
        } finally {
            batchlet.stop(); // if it did not stop by itself, its slot is open by now: stop it for the next tests
        }
        assertFalse(board.view().stream().anyMatch(e -> e.getKey() == 9), "slot 9 closed");
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    private static NewTask command(String prompt, int timeoutSeconds, int maxAttempts, String program, String... args) {
        String argsJson = Arrays.stream(args).map(a -> "\"" + a + "\"").collect(Collectors.joining(", "));
        return new NewTask("command", prompt, 0, maxAttempts, timeoutSeconds,
                "{\"command\": \"" + program + "\", \"args\": [" + argsJson + "]}", null);
    }

    private static long submit(NewTask task) {
        return queue.submit(task).id();
    }

    private static List<Long> submitAll(List<NewTask> tasks) {
        return queue.submitAll(tasks).stream().map(Submitted::id).toList();
    }

    private static void awaitStatus(long id, TaskStatus status) throws InterruptedException {
        TaskRows.await(WAIT, "task " + id + " " + status.value() + " (is " + rows.status(id) + ")",
                () -> status.value().equals(rows.status(id)));
    }

    /** Waits until a slot of this node supervises the task and its agent's process ({@code sleep <arg>}) runs. */
    private static void awaitAgentRunning(long id, String sleepArg) throws InterruptedException {
        TaskRows.await(WAIT, "task " + id + " running on a slot", () -> board.view().stream()
                .anyMatch(e -> e.getValue().map(t -> t.id() == id).orElse(false)));
        TaskRows.await(WAIT, "the agent's process runs", () -> agentProcessAlive(sleepArg));
        assertEquals("running", rows.status(id));
    }

    /** Whether a process this JVM started (or one of theirs) runs {@code sleep <arg>}. */
    private static boolean agentProcessAlive(String sleepArg) {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .anyMatch(p -> p.info().commandLine().map(c -> c.contains("sleep " + sleepArg)).orElse(false));
    }

    private BatchStatus stopAndAwaitEnd() throws InterruptedException {
        if (!ENDED.contains(operator.getJobExecution(execution).getBatchStatus())) {
            operator.stop(execution);
        }
        TaskRows.await(WAIT, "job execution " + execution + " ended",
                () -> ENDED.contains(operator.getJobExecution(execution).getBatchStatus()));
        return operator.getJobExecution(execution).getBatchStatus();
    }
}
