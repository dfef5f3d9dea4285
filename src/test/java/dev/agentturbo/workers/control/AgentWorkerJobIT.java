package dev.agentturbo.workers.control;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.agents.control.ExecutorLimits;
import dev.agentturbo.agents.entity.ExecutorSettings;
import dev.agentturbo.platform.DatabaseLink;
import dev.agentturbo.platform.DirectConnections;
import dev.agentturbo.tasks.control.TaskLeases;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.TaskStatus;
import dev.agentturbo.testing.LeaseHolder;
import dev.agentturbo.testing.PooledDataSource;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.TcpProxy;
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

import java.net.URI;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
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
    private static final Duration UNRENEWED_STOP = Duration.ofSeconds(5);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Set<BatchStatus> ENDED = EnumSet.of(BatchStatus.COMPLETED, BatchStatus.FAILED,
            BatchStatus.STOPPED, BatchStatus.ABANDONED);

    private static TestDatabase db;
    private static PooledDataSource pool;
    private static TaskRows rows;
    private static WeldContainer container;
    private static TcpProxy proxy;
    private static Dispatcher dispatcher;
    private static TaskSignals signals;
    private static TaskQueue queue;
    private static SlotBoard board;
    private static JobOperator operator;
    private static WorkerSettings settings;

    private long execution;

    @BeforeAll
    static void startContainer() throws InterruptedException {
        db = TestDatabase.create("agent_worker_job_it");
        pool = new PooledDataSource(db.dataSource(), 20);
        rows = new TaskRows(pool);
        Path workRoot = Path.of("target", "agent-worker-it", db.name()).toAbsolutePath();
        settings = new WorkerSettings("it-node", SLOTS, Duration.ofSeconds(6), Duration.ofSeconds(2),
                Duration.ofMillis(500), Duration.ofSeconds(1), workRoot, Duration.ofMillis(200),
                Duration.ofSeconds(1), UNRENEWED_STOP, Duration.ZERO);
        AgentWorkerJobBeans.use(pool, settings, ExecutorSettings.of(usageLimitedClaude(workRoot).toString(),
                List.of("/usr/bin/cat", "/usr/bin/sleep", "/bin/sh"), workRoot));
        // JBeret SE takes its artifacts from the Weld container registered under this id, if one runs. Its CDI
        // extension adds the batch scopes and BatchBeanProducer (@BatchProperty, JobContext, StepContext).
        container = new Weld(RegistrySingletonProvider.STATIC_INSTANCE)
                .disableDiscovery()
                .addExtension(new BatchCDIExtension())
                .addBeanClasses(SlotBatchlet.class, SlotPartitionMapper.class, SlotBoard.class,
                        TaskQueue.class, AgentExecutors.class, AgentWorkerJobBeans.class)
                .initialize();
        queue = container.select(TaskQueue.class).get();
        board = container.select(SlotBoard.class).get();
        // the dispatcher reaches the database through a proxy the tests can cut, as a network would
        proxy = TcpProxy.start("127.0.0.1", URI.create(db.url().substring("jdbc:".length())).getPort());
        String viaProxy = db.url().replaceFirst(":\\d+/", ":" + proxy.port() + "/");
        DirectConnections connections = new DirectConnections(viaProxy, TestDatabase.USER, TestDatabase.PASSWORD);
        dispatcher = new Dispatcher(settings, new TaskLeases(), new WorkerRegistry(pool),
                new DatabaseLink(connections, "it-dispatcher", settings.lease(), settings.lease().dividedBy(2)),
                "it-host", "test", board::open, Thread::new).start();
        board.use(dispatcher);
        signals = new TaskSignals(new DirectConnections(db.url(), TestDatabase.USER, TestDatabase.PASSWORD),
                dispatcher::ring, board::cancel, settings.workerId(), () -> {
                }, dispatcher::limitsChanged).start();
        TaskRows.await(WAIT, "LISTEN connection open", signals::listening);
        TaskRows.await(WAIT, "the dispatcher registered the node", dispatcher::registered);
        operator = BatchRuntime.getJobOperator();
    }

    @AfterAll
    static void stopContainer() throws InterruptedException {
        if (signals != null) {
            signals.close();
        }
        if (dispatcher != null) {
            dispatcher.close(Duration.ofSeconds(5));
        }
        if (proxy != null) {
            proxy.close();
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
        proxy.restore();
        rows.deleteAll();
        board.resize(SLOTS);
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

    /**
     * Every text form of the subscription's usage limit that versions of the {@code claude} program print, each
     * through a program that prints it as the program does (the result line of its stream-json): the task waits
     * for the reset, its attempt not counted, and the executor pauses until that reset, read from the text alone.
     */
    @Test
    void eachTextFormOfTheUsageLimitPausesTheExecutorUntilItsReset() throws Exception {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        Instant epoch = now.plusHours(3).toInstant().truncatedTo(ChronoUnit.SECONDS);
        ZonedDateTime local = now.withZoneSameInstant(ZoneId.systemDefault());
        ZonedDateTime twoAm = local.truncatedTo(ChronoUnit.DAYS).withHour(2);
        ZonedDateTime paris = now.withZoneSameInstant(ZoneId.of("Europe/Paris"));
        ZonedDateTime tenPastFive = paris.truncatedTo(ChronoUnit.DAYS).withHour(17).withMinute(10);
        ZonedDateTime weekly = now.plusDays(3).truncatedTo(ChronoUnit.DAYS).withHour(16).withMinute(50);
        ZonedDateTime nextYear = ZonedDateTime.of(now.getYear() + 1, 1, 3, 17, 0, 0, 0, ZoneOffset.UTC);
        Map<String, Instant> forms = new java.util.LinkedHashMap<>();
        forms.put("Claude AI usage limit reached|" + epoch.getEpochSecond(), epoch);
        forms.put("5-hour limit reached ∙ resets 2am",
                (twoAm.isAfter(local) ? twoAm : twoAm.plusDays(1)).toInstant());
        forms.put("You've hit your session limit · resets 5:10pm (Europe/Paris)",
                (tenPastFive.isAfter(paris) ? tenPastFive : tenPastFive.plusDays(1)).toInstant());
        forms.put("You've hit your weekly limit · resets " + weekly.format(DateTimeFormatter.ofPattern("MMM d, h:mma",
                Locale.ENGLISH)).toLowerCase(Locale.ROOT) + " (UTC)", weekly.toInstant());
        forms.put("You've hit your weekly limit · resets Jan 3, " + nextYear.getYear() + ", 5pm (UTC)",
                nextYear.toInstant());
        ExecutorLimits limits = new ExecutorLimits(pool);
        for (var form : forms.entrySet()) {
            long id = submit(new NewTask("claude-cli", form.getKey(), 0, 3, 60, "{}", null));

            awaitStatus(id, TaskStatus.SCHEDULED);
            Map<String, Object> row = rows.row(id);
            assertEquals(0, row.get("attempt"), form.getKey() + ": the attempt is not counted");
            assertEquals(form.getValue(), ((java.sql.Timestamp) row.get("run_after")).toInstant(), form.getKey());
            var pause = limits.active().stream().filter(l -> l.kind().equals("usage-limit")).findFirst().orElseThrow();
            assertEquals(form.getValue(), pause.until(), form.getKey() + ": the executor pauses until the reset");
            assertEquals("claude-cli", pause.executor());

            queue.cancel(id);
            assertTrue(limits.lift(pause.id(), "test").isPresent());
        }
        assertEquals(0, rows.count("status = 'failed'"));
    }

    @Test
    void aCommandTaskGetsThePromptOnStdinAndItsOutputIsTheResult() throws InterruptedException {
        String prompt = "first line\nsecond line, with \"quotes\" and $HOME\n";
        long id = submit(command(prompt, 60, 1, "/usr/bin/cat"));

        awaitStatus(id, TaskStatus.COMPLETED);

        Map<String, Object> row = rows.row(id);
        assertEquals(prompt, row.get("result"));
        assertEquals(0, row.get("exit_code"));
        assertEquals(1, row.get("attempt"));
    }

    @Test
    void stoppingTheJobReleasesTheRunningTaskWithoutCountingItsAttempt() throws InterruptedException {
        long id = submit(command("", 600, 3, "/usr/bin/sleep", "61"));
        awaitAgentRunning(id, "61");

        long started = System.nanoTime();
        BatchStatus status = stopAndAwaitEnd();

        System.out.printf("job stopped with a running agent in %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        assertEquals(BatchStatus.STOPPED, status);
        awaitStatus(id, TaskStatus.PENDING);
        Map<String, Object> row = rows.row(id);
        assertEquals(0, row.get("attempt"), "the released attempt is not counted");
        assertNull(row.get("assigned_worker_id"));
        assertNull(row.get("lease_expires_at"));
        assertTrue(((String) row.get("error")).contains("shut down"), (String) row.get("error"));
        TaskRows.await(Duration.ofSeconds(5), "agent process killed", () -> !agentProcessAlive("61"));
    }

    @Test
    void cancellingARunningTaskKillsItsAgentWithinTwoSeconds() throws InterruptedException {
        long id = submit(command("", 600, 3, "/usr/bin/sleep", "62"));
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
        long id = submit(command("", 1, 2, "/usr/bin/sleep", "63"));

        awaitStatus(id, TaskStatus.FAILED);

        Map<String, Object> row = rows.row(id);
        assertEquals(2, row.get("attempt"), "timed out on both attempts");
        String error = (String) row.get("error");
        assertTrue(error.contains("timed out after 1 s"), error);
        TaskRows.await(Duration.ofSeconds(5), "agent process killed", () -> !agentProcessAlive("63"));
    }

    @Test
    void aDoubleForkedChildOfAnAgentIsGoneAfterItsTimeoutAndAfterACancel() throws InterruptedException {
        // the shell starts "sleep 91" in a subshell that exits at once: its parent is gone, it is re-parented
        long timedOut = submit(command("", 2, 1, "/bin/sh", "-c", "(/usr/bin/sleep 91 &); /usr/bin/sleep 92"));
        TaskRows.await(WAIT, "the double-forked child runs", () -> processAlive("sleep 91"));
        awaitStatus(timedOut, TaskStatus.FAILED);
        TaskRows.await(Duration.ofSeconds(5), "the double-forked child killed with its group", () -> !processAlive("sleep 91"));
        assertFalse(processAlive("sleep 92"));

        long cancelled = submit(command("", 600, 1, "/bin/sh", "-c", "(/usr/bin/sleep 93 &); /usr/bin/sleep 94"));
        TaskRows.await(WAIT, "the double-forked child runs", () -> processAlive("sleep 93"));
        awaitAgentRunning(cancelled, "94");
        queue.cancel(cancelled);
        awaitStatus(cancelled, TaskStatus.CANCELLED);
        TaskRows.await(Duration.ofSeconds(5), "the double-forked child killed with its group", () -> !processAlive("sleep 93"));
    }

    @Test
    void aStopThatArrivesBeforeThePartitionOpensItsSlotStillEndsThePartition() throws Exception {
        SlotBatchlet batchlet = new SlotBatchlet();
        batchlet.board = board;
        batchlet.slotNumber = "9";
        board.resize(9); // a slot of its own, beside the running ones

        batchlet.stop(); // the job was stopped while this partition was starting
        CompletableFuture<String> process = CompletableFuture.supplyAsync(batchlet::process);
        try {
            assertEquals(BatchStatus.STOPPED.name(), process.get(10, TimeUnit.SECONDS));
        } finally {
            batchlet.stop(); // if it did not stop by itself, its slot is open by now: stop it for the next tests
            board.resize(SLOTS);
        }
        assertFalse(board.view().stream().anyMatch(e -> e.getKey() == 9), "slot 9 closed");
    }

    @Test
    void aSlotWhoseDatabaseIsAwayWhileItsTaskIsCancelledGoesOnAndTheCancelIsRecordedLater() throws Exception {
        long id = submit(command("", 600, 3, "/usr/bin/sleep", "64"));
        awaitAgentRunning(id, "64");
        int slot = runningSlotOf(id);

        proxy.cut();
        assertTrue(board.cancel(id), "the node holds the task"); // as the LISTEN connection would pass it on
        TaskRows.await(WAIT, "agent process killed", () -> !agentProcessAlive("64"));
        Thread.sleep(1500); // the dispatcher fails to record a few times meanwhile
        assertEquals("running", rows.status(id), "nothing could be written while the database was away");
        assertTrue(board.isOpen(slot), "slot " + slot + " is alive");

        proxy.restore();
        awaitStatus(id, TaskStatus.CANCELLED);
        long next = submit(command("after the outage", 60, 1, "/usr/bin/cat"));
        awaitStatus(next, TaskStatus.COMPLETED);
        assertEquals(SLOTS, board.open(), "every slot is alive");
    }

    @Test
    void aStopWhileTheDatabaseIsAwayEndsTheJobAndTheReleaseIsRecordedWhenItReturns() throws Exception {
        long id = submit(command("", 600, 3, "/usr/bin/sleep", "65"));
        awaitAgentRunning(id, "65");

        proxy.cut();
        BatchStatus status = stopAndAwaitEnd();

        assertEquals(BatchStatus.STOPPED, status, "the partitions ended although the release could not be written");
        TaskRows.await(WAIT, "agent process killed", () -> !agentProcessAlive("65"));
        assertEquals("running", rows.status(id));
        proxy.restore();
        awaitStatus(id, TaskStatus.PENDING);
        assertEquals(0, rows.row(id).get("attempt"), "the released attempt is not counted");
    }

    @Test
    void anAgentWhoseLeaseCannotBeRenewedIsStoppedAfterTheConfiguredTimeAndItsAttemptRecordedLater() throws Exception {
        long id = submit(command("", 600, 3, "/usr/bin/sleep", "66"));
        awaitAgentRunning(id, "66");

        long cut = System.nanoTime();
        proxy.cut();
        TaskRows.await(UNRENEWED_STOP.plusSeconds(10), "agent stopped", () -> !agentProcessAlive("66"));
        Duration after = Duration.ofNanos(System.nanoTime() - cut);
        System.out.printf("agent stopped %d ms after its node lost the database (setting: %d s)%n",
                after.toMillis(), UNRENEWED_STOP.toSeconds());
        assertTrue(after.compareTo(UNRENEWED_STOP.minus(settings.heartbeat())) >= 0, "not before the setting: " + after);

        proxy.restore();
        TaskRows.await(WAIT, "attempt recorded", () -> rows.row(id).get("error") != null);
        Map<String, Object> row = rows.row(id);
        assertTrue(((String) row.get("error")).contains("without a lease renewal"), (String) row.get("error"));
        assertEquals(1, row.get("attempt"));
    }

    @Test
    void aNodeWhoseConnectionWasJustReopenedWaitsAWholeLeaseBeforeItRequeuesExpiredLeases() throws Exception {
        stopAndAwaitEnd(); // no slots here: the task is another node's
        long id = submit(TaskRows.simulated("held by a node that is away", 10));
        proxy.cut();
        try (LeaseHolder other = new LeaseHolder(db.dataSource(), "other-node")) {
            other.claimOne(settings.lease()).orElseThrow();
        }
        rows.expireLease(id);
        Thread.sleep(settings.heartbeat().multipliedBy(2).toMillis()); // the dispatcher notices the cut

        long restored = System.nanoTime();
        proxy.restore();
        TaskRows.await(WAIT, "the dispatcher connected again", dispatcher::connected);
        Thread.sleep(settings.lease().minus(settings.heartbeat()).toMillis());
        assertEquals("running", rows.status(id), "not requeued before the node has been connected for a lease");
        TaskRows.await(settings.lease().plus(settings.heartbeat().multipliedBy(3)), "requeued",
                () -> !"running".equals(rows.status(id)));
        System.out.printf("expired lease requeued %d ms after the node's connection came back (lease %d s)%n",
                Duration.ofNanos(System.nanoTime() - restored).toMillis(), settings.lease().toSeconds());
    }

    @Test
    void aSlotWhosePartitionEndedIsStartedAgain() throws Exception {
        SlotJobs jobs = new SlotJobs(() -> operator, board, "it-node");
        assertEquals(0, jobs.ensure(SLOTS), "all slots run");
        board.slot(2).orElseThrow().drain(java.time.Instant.now()); // its loop ends, as if its partition had died
        TaskRows.await(WAIT, "slot 2 closed", () -> !board.isOpen(2));

        assertEquals(1, jobs.ensure(SLOTS));

        TaskRows.await(WAIT, "slot 2 open again", () -> board.isOpen(2));
        assertEquals(SLOTS, board.open());
        List<Long> ids = submitAll(IntStream.range(0, 9).mapToObj(i -> TaskRows.simulated("again " + i, 100)).toList());
        TaskRows.await(WAIT, "9 tasks completed", () -> rows.count("status = 'completed'") == ids.size());
        jobs.stopAll(WAIT);
    }

    @Test
    void thirtySlotsTakeThreeHundredTasksEachExactlyOnce() throws Exception {
        stopAndAwaitEnd();
        TaskRows.await(WAIT, "all slots closed", () -> board.open() == 0);
        Properties parameters = new Properties();
        parameters.setProperty(SlotPartitionMapper.SLOTS, "30");
        board.resize(30);
        execution = operator.start("agent-worker", parameters);
        TaskRows.await(WAIT, "30 slots open", () -> board.open() == 30);

        List<Long> ids = submitAll(IntStream.range(0, 300).mapToObj(i -> TaskRows.simulated("many " + i, 50 + i % 5 * 20))
                .toList());
        TaskRows.await(Duration.ofMinutes(2), "300 tasks completed", () -> rows.count("status = 'completed'") == 300);

        assertEquals(300, rows.count("id = ANY(?) AND attempt = 1", (Object) ids.toArray(Long[]::new)));
        assertEquals(30L, rows.value("SELECT count(DISTINCT slot) FROM agent_tasks"), "every slot took tasks");
        assertEquals(0, dispatcher.held(), "no lease left behind");
        board.resize(SLOTS);
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    /**
     * A program in the place of {@code claude} that prints, as the program does when it meets the usage limit, a
     * result line whose text is its prompt.
     */
    private static Path usageLimitedClaude(Path dir) {
        try {
            java.nio.file.Files.createDirectories(dir);
            Path program = dir.resolve("usage-limited-claude");
            java.nio.file.Files.writeString(program, """
                    #!/bin/sh
                    text=$(cat)
                    printf '{"type":"system","subtype":"init","session_id":"s-limit"}\\n'
                    printf '{"type":"result","subtype":"success","is_error":true,"api_error_status":429,'
                    printf '"result":"%s","session_id":"s-limit","total_cost_usd":0}\\n' "$text"
                    exit 1
                    """);
            program.toFile().setExecutable(true);
            return program;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

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

    private static int runningSlotOf(long id) {
        return board.view().stream().filter(e -> e.getValue().map(t -> t.id() == id).orElse(false))
                .findFirst().orElseThrow().getKey();
    }

    /** Waits until a slot of this node supervises the task and its agent's process ({@code sleep <arg>}) runs. */
    private static void awaitAgentRunning(long id, String sleepArg) throws InterruptedException {
        TaskRows.await(WAIT, "task " + id + " running on a slot", () -> board.view().stream()
                .anyMatch(e -> e.getValue().map(t -> t.id() == id).orElse(false)));
        TaskRows.await(WAIT, "the agent's process runs", () -> agentProcessAlive(sleepArg));
        assertEquals("running", rows.status(id));
    }

    /**
     * Whether any process of this machine runs {@code sleep <arg>} (a re-parented one is no descendant of ours);
     * the shell that started it does not count.
     */
    private static boolean processAlive(String sleepCommand) {
        String argument = sleepCommand.substring("sleep ".length());
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .anyMatch(p -> p.info().command().orElse("").endsWith("/sleep")
                        && Arrays.asList(p.info().arguments().orElse(new String[0])).contains(argument));
    }

    /** Whether a process this JVM started (or one of theirs) runs {@code sleep <arg>}. */
    private static boolean agentProcessAlive(String sleepArg) {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .anyMatch(p -> p.info().command().orElse("").endsWith("/sleep")
                        && Arrays.asList(p.info().arguments().orElse(new String[0])).contains(sleepArg));
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
