package dev.agentturbo.fleet;

import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.PostgresCluster;
import dev.agentturbo.testing.RecordingAgent;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.TcpProxy;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.postgresql.ds.PGSimpleDataSource;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two real nodes against a PostgreSQL of the test's own, which the test stops, restarts and cuts off: nodes that
 * start before the database, a node cut off alone from a healthy database, and a whole-database outage while
 * agents finish. The agents are a program that records every run it makes, so "ran exactly once" is counted by
 * the agents themselves, not by the database.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DatabaseFaultsIT {

    /** How long an agent of the cut-off node may go on without a lease renewal. */
    static final Duration UNRENEWED_STOP = Duration.ofSeconds(15);
    /** How long the whole database stays away (-Dagentturbo.faults.outage-seconds=300 for the five-minute drill). */
    static final Duration OUTAGE = Duration.ofSeconds(Integer.getInteger("agentturbo.faults.outage-seconds", 30));

    static PostgresCluster pg;
    static TcpProxy alphaLine;
    static MicroNode alpha;
    static MicroNode beta;
    static TaskRows rows;
    static Path recorder;
    static Path record;

    @BeforeAll
    static void startFleetBeforeTheDatabase() throws Exception {
        pg = PostgresCluster.create("faults");
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(pg.jdbcUrl("agentturbo"));
        ds.setUser("agentturbo");
        ds.setPassword("agentturbo");
        rows = new TaskRows(ds);
        RecordingAgent agent = RecordingAgent.in("faults");
        record = agent.record();
        recorder = agent.program();
        pg.stop();
        // alpha reaches the database through a line the test can cut
        alphaLine = TcpProxy.start("127.0.0.1", pg.port());
        String alphaUrl = "jdbc:postgresql://127.0.0.1:" + alphaLine.port() + "/agentturbo";
        CompletableFuture<MicroNode> a = CompletableFuture.supplyAsync(() ->
                MicroNode.startAnswering("faults-alpha", env(alphaUrl, 2, UNRENEWED_STOP)));
        CompletableFuture<MicroNode> b = CompletableFuture.supplyAsync(() ->
                MicroNode.startAnswering("faults-beta", env(pg.jdbcUrl("agentturbo"), 3, Duration.ofMinutes(10))));
        alpha = a.join();
        beta = b.join();
    }

    @AfterAll
    static void stopFleet() {
        for (MicroNode node : new MicroNode[]{alpha, beta}) {
            if (node != null) {
                node.close();
            }
        }
        if (alphaLine != null) {
            alphaLine.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /** The status of the node's readiness check; -1 when it does not answer. */
    static int ready(MicroNode node) {
        try {
            return node.get("/health/ready").statusCode();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    static Map<String, String> env(String url, int slots, Duration unrenewedStop) {
        Map<String, String> env = new HashMap<>();
        env.put("DB_URL", url);
        env.put("DB_USER", "agentturbo");
        env.put("DB_PASSWORD", "agentturbo");
        env.put("AGENTTURBO_WORKER_SLOTS", Integer.toString(slots));
        env.put("AGENTTURBO_WORKER_DRAIN_GRACE_SECONDS", "2");
        env.put("AGENTTURBO_WORKER_UNRENEWED_STOP_SECONDS", Long.toString(unrenewedStop.toSeconds()));
        env.put("AGENTTURBO_COMMAND_ALLOWED", recorder.toString());
        return env;
    }

    @BeforeEach
    void lineOpen() {
        alphaLine.restore();
    }

    @Test
    @Order(1)
    void nodesStartedBeforeTheDatabaseBecomeWorkingNodesWhenItAnswers() throws Exception {
        assertEquals(503, alpha.get("/api/workers").statusCode(), "no database yet: the API says so");
        String waiting = Files.readString(alpha.log());
        assertTrue(waiting.contains("reaching PostgreSQL at") && waiting.contains("tries again"), "the log says what"
                + " the node waits for");
        var notReady = alpha.get("/health/ready");
        assertEquals(503, notReady.statusCode(), "not ready before the database answers: " + notReady.body());
        assertTrue(notReady.body().contains("\"database\"") && notReady.body().contains("DOWN"), notReady.body());
        assertEquals(200, alpha.get("/health/live").statusCode(), "alive all the same");

        pg.start();
        TaskRows.await(Duration.ofSeconds(60), "alpha ready", () -> ready(alpha) == 200);

        TaskRows.await(Duration.ofSeconds(60), "both nodes registered with all their slots live",
                () -> liveSlots(alpha, "faults-alpha") == 2 && liveSlots(alpha, "faults-beta") == 3);
        Batch batch = submit(alpha, 5, 1);
        TaskRows.await(Duration.ofSeconds(60), "5 tasks completed", () -> completed(batch) == 5);
        assertEquals(5, batch.count("end"), "each ran once");
    }

    @Test
    @Order(2)
    void aNodeCutOffFromAHealthyDatabaseLosesItsTasksToTheOthersAndStopsItsAgents() throws Exception {
        // five slots, five long tasks: alpha holds two of them
        Batch batch = submit(beta, 5, 25);
        TaskRows.await(Duration.ofSeconds(30), "all five running, two on alpha",
                () -> rows.count("id = ANY(?) AND status = 'running' AND assigned_worker_id = 'faults-alpha'",
                        batch.idArray()) == 2 && batch.count("start") == 5);
        List<Long> alphas = rows.query("SELECT id FROM agent_tasks WHERE id = ANY(?) AND assigned_worker_id = "
                + "'faults-alpha'", batch.idArray()).stream().map(r -> (Long) r.get("id")).toList();

        long cut = System.nanoTime();
        alphaLine.cut();

        TaskRows.await(Duration.ofSeconds(30), "alpha's tasks requeued by beta",
                () -> rows.count("id = ANY(?) AND (status <> 'running' OR assigned_worker_id <> 'faults-alpha')",
                        (Object) alphas.toArray(Long[]::new)) == 2);
        Duration requeued = Duration.ofNanos(System.nanoTime() - cut);
        TaskRows.await(UNRENEWED_STOP.plusSeconds(10), "alpha's agents stopped", () -> agents(alpha) == 0);
        Duration stopped = Duration.ofNanos(System.nanoTime() - cut);
        System.out.printf("cut off: alpha's tasks requeued after %d ms; its agents stopped after %d ms (setting %d s)%n",
                requeued.toMillis(), stopped.toMillis(), UNRENEWED_STOP.toSeconds());
        assertTrue(requeued.compareTo(Duration.ofSeconds(20)) < 0, "requeued after " + requeued);
        assertTrue(stopped.compareTo(UNRENEWED_STOP.minusSeconds(2)) > 0, "not before the setting: " + stopped);

        alphaLine.restore();
        TaskRows.await(Duration.ofMinutes(2), "all five completed", () -> completed(batch) == 5);
        assertEquals(5, batch.count("end"), "each task's agent ran to its end exactly once");
        assertEquals(List.of(2L, 2L), alphas.stream().map(id -> batch.count("start", id)).toList(),
                "alpha's tasks started twice: on alpha (stopped) and elsewhere");
        TaskRows.await(Duration.ofSeconds(30), "alpha works again", () -> liveSlots(beta, "faults-alpha") == 2
                && "active".equals(state(beta, "faults-alpha")));
    }

    @Test
    @Order(3)
    void aWholeDatabaseOutageLosesNoFinishedWorkAndRunsNothingTwice() throws Exception {
        // alpha stops agents it cannot renew after UNRENEWED_STOP: these end before that, and the outage lasts longer
        Batch batch = submit(alpha, 10, 12);
        TaskRows.await(Duration.ofSeconds(30), "five agents running", () -> batch.count("start") == 5);

        pg.restart();
        Thread.sleep(2000);
        long down = System.nanoTime();
        pg.stop();
        TaskRows.await(Duration.ofSeconds(10), "both nodes not ready within 10 s of the database going away",
                () -> ready(alpha) == 503 && ready(beta) == 503);
        Duration noticed = Duration.ofNanos(System.nanoTime() - down);
        TaskRows.await(Duration.ofSeconds(30), "the five agents finished while the database is away",
                () -> batch.count("end") == 5);
        assertTrue(alpha.get("/api/workers").statusCode() >= 500, "the API says the database is away");
        Thread.sleep(Math.max(0, OUTAGE.toMillis() - Duration.ofNanos(System.nanoTime() - down).toMillis()));
        pg.start();
        long back = System.nanoTime();
        TaskRows.await(Duration.ofSeconds(30), "both nodes ready again by themselves",
                () -> ready(alpha) == 200 && ready(beta) == 200);
        System.out.printf("readiness: DOWN %d ms after the database went away, UP %d ms after it came back%n",
                noticed.toMillis(), Duration.ofNanos(System.nanoTime() - back).toMillis());

        TaskRows.await(Duration.ofMinutes(3), "the five finished ones recorded", () -> completed(batch) >= 5);
        System.out.printf("outage of %d s: the 5 outcomes kept through it were recorded %d ms after the database was"
                + " back%n", OUTAGE.toSeconds(), Duration.ofNanos(System.nanoTime() - back).toMillis());
        TaskRows.await(Duration.ofMinutes(3), "all ten completed", () -> completed(batch) == 10);
        assertEquals(10, batch.count("end"), "every agent ran to its end once");
        assertEquals(10, batch.count("start"), "no agent started twice");
        assertEquals(10, rows.count("id = ANY(?) AND attempt = 1", batch.idArray()));
        assertEquals(2, liveSlots(beta, "faults-alpha"), "no slot lost on alpha");
        assertEquals(3, liveSlots(beta, "faults-beta"), "no slot lost on beta");
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    /** Recording tasks submitted together; the prompt of the i-th is "key-i", its name in the record. */
    record Batch(String key, List<Long> ids) {
        Object idArray() {
            return ids.toArray(Long[]::new);
        }

        /** Lines of the record ("start" or "end") of this batch's tasks. */
        long count(String what) {
            return lines().stream().filter(l -> l.startsWith(what + " " + key + "-")).count();
        }

        /** Lines of the record ("start" or "end") of one task of this batch. */
        long count(String what, long id) {
            String prompt = key + "-" + ids.indexOf(id);
            return lines().stream().filter(l -> l.startsWith(what + " " + prompt + " ")).count();
        }
    }

    /** Submits n recording tasks of that many seconds. */
    static Batch submit(MicroNode node, int n, int seconds) throws IOException {
        String key = Long.toString(System.nanoTime(), 36);
        String batch = IntStream.range(0, n).mapToObj(i -> "{\"prompt\":\"" + key + "-" + i + "\",\"executor\":\"command\","
                        + "\"maxAttempts\":3,\"options\":{\"command\":\"" + recorder + "\",\"args\":[\"" + seconds + "\",\""
                        + record + "\"]}}")
                .collect(Collectors.joining(",", "[", "]"));
        var response = node.post("/api/tasks/batch", batch);
        assertEquals(201, response.statusCode(), response.body());
        return new Batch(key, Json.createReader(new StringReader(response.body())).readObject().getJsonArray("tasks")
                .stream().map(t -> t.asJsonObject().getJsonNumber("id").longValue()).toList());
    }

    static long completed(Batch batch) {
        return rows.count("id = ANY(?) AND status = 'completed'", batch.idArray());
    }

    static List<String> lines() {
        try {
            return Files.exists(record) ? Files.readAllLines(record) : List.of();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The agent processes (the recording program) running under a node. */
    static long agents(MicroNode node) {
        return ProcessHandle.of(node.pid()).stream().flatMap(ProcessHandle::descendants)
                .filter(p -> p.info().commandLine().orElse("").contains(recorder.getFileName().toString())).count();
    }

    static int liveSlots(MicroNode via, String id) {
        return worker(via, id, w -> w.getInt("liveSlots"), -1);
    }

    static String state(MicroNode via, String id) {
        return worker(via, id, w -> w.getString("state"), "absent");
    }

    static <T> T worker(MicroNode via, String id, Function<JsonObject, T> field, T otherwise) {
        try {
            var response = via.get("/api/workers");
            if (response.statusCode() != 200) {
                return otherwise;
            }
            return Json.createReader(new StringReader(response.body())).readObject().getJsonArray("workers").stream()
                    .map(JsonValue::asJsonObject).filter(w -> w.getString("id").equals(id)).findFirst()
                    .map(field).orElse(otherwise);
        } catch (IOException e) {
            return otherwise;
        }
    }
}
