package dev.agentturbo.fleet;

import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several Payara Micro nodes on one machine sharing one database, as a fleet runs: the work is shared, every
 * task runs exactly once, and a node that stops (SIGTERM) or dies (kill -9) loses no task.
 */
@Tag("serial") // its figures are timings: it runs alone, not beside the other integration tests
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoNodesIT {

    static TestDatabase db;
    static MicroNode alpha;
    static MicroNode beta;
    /** Serves the API only (0 slots). */
    static MicroNode front;

    /** The monitoring queries of the system Agent Turbo replaces, as they were written. */
    static final String TASKS_PER_SYSTEM = "SELECT CASE WHEN assigned_worker_id LIKE '%alpha%' THEN 'ALPHA' WHEN assigned_worker_id LIKE '%beta%' THEN 'BETA' END AS system, COUNT(*) AS tasks FROM agent_tasks WHERE status IN ('running','completed') GROUP BY 1;";
    static final String QUEUED_AND_RUNNING = "SELECT COUNT(*) FILTER (WHERE status='pending') AS queued, COUNT(*) FILTER (WHERE status='running') AS running FROM agent_tasks;";

    @BeforeAll
    static void startFleet() throws Exception {
        db = TestDatabase.create("fleet");
        // both nodes boot at once, as hosts of a fleet would
        CompletableFuture<MicroNode> a = CompletableFuture.supplyAsync(() -> MicroNode.start("node-alpha", env(4)));
        CompletableFuture<MicroNode> b = CompletableFuture.supplyAsync(() -> MicroNode.start("node-beta", env(4)));
        CompletableFuture<MicroNode> f = CompletableFuture.supplyAsync(() -> MicroNode.start("node-front", env(0)));
        alpha = a.join();
        beta = b.join();
        front = f.join();
    }

    @AfterAll
    static void stopFleet() {
        // whatever a failed test left behind
        ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").matches(".*sleep 3[12]0[0-7].*"))
                .forEach(ProcessHandle::destroyForcibly);
        for (MicroNode node : new MicroNode[]{alpha, beta, front}) {
            if (node != null) {
                node.close();
            }
        }
        if (db != null) {
            db.close();
        }
    }

    static Map<String, String> env(int slots) {
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.put("AGENTTURBO_WORKER_SLOTS", Integer.toString(slots));
        env.put("AGENTTURBO_WORKER_DRAIN_GRACE_SECONDS", "3");
        env.put("AGENTTURBO_COMMAND_ALLOWED", "/usr/bin/sleep,/bin/sh");
        return env;
    }

    @Test
    @Order(1)
    void twoHundredTasksCompleteExactlyOnceAndBothNodesWork() throws Exception {
        String batch = IntStream.range(0, 200)
                .mapToObj(i -> "{\"prompt\":\"fleet " + i + "\",\"executor\":\"simulated\",\"options\":{\"durationMs\":"
                        + (20 + i % 7 * 10) + "}}")
                .collect(Collectors.joining(",", "[", "]"));
        // submitted to the node that runs no agents: the others hear of the tasks through the database
        assertEquals(201, front.post("/api/tasks/batch", batch).statusCode());

        awaitTrue(Duration.ofMinutes(3), () -> count("status = 'completed'") == 200);

        assertEquals(200, count("attempt = 1 AND status = 'completed'"), "each task ran exactly once");
        // the original system's monitoring query, unchanged
        Map<String, Long> perSystem = query(TASKS_PER_SYSTEM);
        assertTrue(perSystem.getOrDefault("ALPHA", 0L) > 0, "alpha did work: " + perSystem);
        assertTrue(perSystem.getOrDefault("BETA", 0L) > 0, "beta did work: " + perSystem);
        assertEquals(200L, perSystem.values().stream().mapToLong(Long::longValue).sum());
        assertEquals("0,0", single(QUEUED_AND_RUNNING) + "," + column2(QUEUED_AND_RUNNING));
        assertEquals(0, count("assigned_worker_id = 'node-front'"), "a node with 0 slots runs no agents");
        String workers = front.get("/api/workers").body();
        assertTrue(workers.contains("\"node-alpha\"") && workers.contains("\"node-beta\"")
                && workers.contains("\"node-front\""), workers);
    }

    @Test
    @Order(2)
    void aCancelSentToOneNodeKillsTheAgentOnTheNodeRunningIt() throws Exception {
        var created = front.post("/api/tasks", "{\"prompt\":\"sleep\",\"executor\":\"command\","
                + "\"options\":{\"command\":\"/usr/bin/sleep\",\"args\":[\"61\"]}}");
        String id = jakarta.json.Json.createReader(new java.io.StringReader(created.body())).readObject()
                .getJsonNumber("id").toString();
        awaitTrue(Duration.ofSeconds(30), () -> sleepers() == 1);

        Instant asked = Instant.now();
        assertEquals(202, front.post("/api/tasks/" + id + "/cancel", "").statusCode());
        awaitTrue(Duration.ofSeconds(10), () -> count("id = " + id + " AND status = 'cancelled'") == 1 && sleepers() == 0);
        Duration took = Duration.between(asked, Instant.now());
        System.out.println("cancel through node-front stopped the agent on " + single(
                "SELECT assigned_worker_id FROM agent_tasks WHERE id = " + id) + " after " + took.toMillis() + " ms");
        assertTrue(took.compareTo(Duration.ofSeconds(2)) < 0, "took " + took);
    }

    /** The `sleep 61` agent processes running under any node of this test. */
    static long sleepers() {
        return java.util.stream.Stream.of(alpha, beta).filter(n -> n != null)
                .flatMap(n -> ProcessHandle.of(n.pid()).stream()).flatMap(ProcessHandle::descendants)
                .filter(p -> sleeping(p, "61")).count();
    }

    @Test
    @Order(3)
    void aNodeStoppedWithSigtermMidRunLosesNoTask() throws Exception {
        db.exec("DELETE FROM agent_tasks");
        String batch = IntStream.range(0, 16)
                .mapToObj(i -> "{\"prompt\":\"long " + i + "\",\"executor\":\"simulated\",\"options\":{\"durationMs\":2500}}")
                .collect(Collectors.joining(",", "[", "]"));
        assertEquals(201, alpha.post("/api/tasks/batch", batch).statusCode());
        awaitTrue(Duration.ofSeconds(30), () -> count("status = 'running' AND assigned_worker_id = 'node-beta'") > 0);

        beta.stop(Duration.ofSeconds(90));

        awaitTrue(Duration.ofMinutes(2), () -> count("status = 'completed'") == 16);
        assertEquals(0, count("status <> 'completed'"), "no task lost or failed");
        assertEquals(0, count("attempt > 1"), "a graceful stop does not count attempts");
        assertEquals("stopped", single("SELECT state FROM agent_workers WHERE id = 'node-beta'"));
    }

    @Test
    @Order(4)
    void aTaskOfAKilledNodeStartsAgainOnAnotherWithinTwentySeconds() throws Exception {
        db.exec("DELETE FROM agent_tasks");
        beta = MicroNode.start("node-beta", env(4));
        // fill every slot of both nodes, so that beta surely holds some
        String batch = IntStream.range(0, 8)
                .mapToObj(i -> "{\"prompt\":\"kill " + i + "\",\"executor\":\"simulated\",\"options\":{\"durationMs\":8000}}")
                .collect(Collectors.joining(",", "[", "]"));
        assertEquals(201, alpha.post("/api/tasks/batch", batch).statusCode());
        awaitTrue(Duration.ofSeconds(30), () -> count("status = 'running' AND assigned_worker_id = 'node-beta'") > 0);
        String victim = single("SELECT min(id)::text FROM agent_tasks WHERE status = 'running' AND assigned_worker_id = 'node-beta'");

        Instant killed = Instant.now();
        beta.kill();
        awaitTrue(Duration.ofSeconds(60), () -> count("id = " + victim + " AND attempt = 2 AND assigned_worker_id = 'node-alpha'") == 1);
        Duration restartedAfter = Duration.between(killed, Instant.now());
        System.out.println("task " + victim + " of the killed node started again on node-alpha after " + restartedAfter.toMillis() + " ms");
        assertTrue(restartedAfter.compareTo(Duration.ofSeconds(20)) < 0, "restarted after " + restartedAfter);

        awaitTrue(Duration.ofMinutes(2), () -> count("status = 'completed'") == 8);
        awaitTrue(Duration.ofSeconds(30), () -> workerState("node-beta").equals("gone"));
        assertEquals("active", workerState("node-alpha"));
    }

    @Test
    @Order(5)
    void theAgentsOfAKilledNodeDieWithItBeforeTheirTasksRunElsewhere() throws Exception {
        db.exec("DELETE FROM agent_tasks");
        beta = MicroNode.start("node-beta", env(4));
        // eight agents, each a shell whose child re-parents itself; the numbers tell the tasks' processes apart
        String batch = IntStream.range(0, 8)
                .mapToObj(i -> "{\"prompt\":\"orphan " + i + "\",\"executor\":\"command\",\"timeoutSeconds\":300,"
                        + "\"options\":{\"command\":\"/bin/sh\",\"args\":[\"-c\",\"(/usr/bin/sleep " + (3100 + i)
                        + " &); /usr/bin/sleep " + (3200 + i) + "\"]}}")
                .collect(Collectors.joining(",", "[", "]"));
        assertEquals(201, alpha.post("/api/tasks/batch", batch).statusCode());
        awaitTrue(Duration.ofSeconds(30), () -> count("status = 'running' AND assigned_worker_id = 'node-beta'") > 0
                && agents("31") == 8);
        List<String> betas = java.util.Arrays.asList(single("SELECT string_agg(substring(prompt from 8), ',') FROM agent_tasks"
                + " WHERE status = 'running' AND assigned_worker_id = 'node-beta'").split(","));

        Instant killed = Instant.now();
        beta.kill();
        awaitTrue(Duration.ofSeconds(5), () -> betas.stream().allMatch(i -> agents("" + (3100 + Integer.parseInt(i))) == 0
                && agents("" + (3200 + Integer.parseInt(i))) == 0));
        System.out.println("the agents of the killed node (tasks " + betas + ") were gone after "
                + Duration.between(killed, Instant.now()).toMillis() + " ms");
        assertTrue(count("assigned_worker_id = 'node-beta' AND status = 'running'") > 0,
                "gone before their leases expired and the tasks ran elsewhere");
        for (String id : single("SELECT string_agg(id::text, ',') FROM agent_tasks").split(",")) {
            alpha.post("/api/tasks/" + id + "/cancel", "");
        }
        awaitTrue(Duration.ofSeconds(30), () -> agents("31") + agents("32") == 0);
    }

    /** {@code sleep} processes anywhere on this machine whose argument starts with this. */
    static long agents(String sleepArgument) {
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive).filter(p -> sleeping(p, sleepArgument)).count();
    }

    /** Whether the process is the program sleep with an argument that starts with this (not a shell that runs it). */
    static boolean sleeping(ProcessHandle p, String argumentPrefix) {
        return p.info().command().orElse("").endsWith("/sleep")
                && java.util.Arrays.stream(p.info().arguments().orElse(new String[0])).anyMatch(a -> a.startsWith(argumentPrefix));
    }

    /** The state /api/workers shows for a node. */
    static String workerState(String id) {
        try {
            var workers = jakarta.json.Json.createReader(new java.io.StringReader(front.get("/api/workers").body()))
                    .readObject().getJsonArray("workers");
            return workers.stream().map(jakarta.json.JsonValue::asJsonObject).filter(w -> w.getString("id").equals(id))
                    .map(w -> w.getString("state")).findFirst().orElse("absent");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String column2(String sql) {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(2) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    static void awaitTrue(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("not true within " + timeout + "; tasks by status: "
                        + query("SELECT status, COUNT(*) FROM agent_tasks GROUP BY status"));
            }
            Thread.sleep(100);
        }
    }

    static long count(String where) {
        return Long.parseLong(single("SELECT COUNT(*)::text FROM agent_tasks WHERE " + where));
    }

    static String single(String sql) {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    static Map<String, Long> query(String sql) {
        DataSource ds = db.dataSource();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            Map<String, Long> rows = new HashMap<>();
            while (rs.next()) {
                rows.put(String.valueOf(rs.getString(1)), rs.getLong(2));
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
