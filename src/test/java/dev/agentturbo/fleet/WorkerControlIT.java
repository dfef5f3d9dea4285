package dev.agentturbo.fleet;

import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.StringReader;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Operators control a node over the API, from another node: drain and resume it; take it from 2 to 4 slots
 * without a restart (4 agents then run at once) and back to 1 (running agents finish, none is cut short); the
 * slot count stays across the node's restart. The running count is read from the database while it happens.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerControlIT {

    static TestDatabase db;
    static Map<String, String> env;
    static MicroNode worker;
    static MicroNode apiNode;

    @BeforeAll
    static void start() {
        db = TestDatabase.create("worker_control");
        env = new HashMap<>(MicroNode.databaseEnv(db));
        Map<String, String> workerEnv = new HashMap<>(env);
        workerEnv.put("AGENTTURBO_WORKER_SLOTS", "2");
        worker = MicroNode.start("control-worker", workerEnv);
        Map<String, String> apiEnv = new HashMap<>(env);
        apiEnv.put("AGENTTURBO_WORKER_SLOTS", "0");
        apiNode = MicroNode.start("control-api", apiEnv);
    }

    @AfterAll
    static void stop() {
        Closing.all(apiNode, worker, db);
    }

    @Test
    @Order(1)
    void aDrainedNodeClaimsNothingUntilItIsResumed() throws Exception {
        HttpResponse<String> drained = apiNode.post("/api/workers/control-worker/drain", "");
        assertEquals(202, drained.statusCode(), drained.body());
        await().atMost(Duration.ofSeconds(5)).until(() -> state("control-worker").equals("draining"));
        HttpResponse<String> health = worker.get("/health/ready");
        assertEquals(503, health.statusCode(), "a draining node is not ready: " + health.body());
        assertTrue(health.body().matches("(?s).*\"name\":\"taking-work\",\"status\":\"DOWN\".*"), health.body());
        assertEquals(200, apiNode.get("/health/ready").statusCode(), "an API-only node is ready");

        long id = submit("{\"executor\": \"simulated\", \"prompt\": \"waits\", \"options\": {\"durationMs\": 10}}");
        Thread.sleep(3000);
        assertEquals("pending", task(id).getString("status"), "a drained node claims nothing");

        assertEquals(202, apiNode.post("/api/workers/control-worker/resume", "").statusCode());
        await().atMost(Duration.ofSeconds(5)).until(() -> task(id).getString("status").equals("completed"));
        assertEquals("active", state("control-worker"));
        await().atMost(Duration.ofSeconds(5)).until(() -> worker.get("/health/ready").statusCode() == 200);

        assertEquals(404, apiNode.post("/api/workers/no-such-node/drain", "").statusCode());
    }

    @Test
    @Order(2)
    void aNodeGrowsFrom2To4SlotsWithoutARestartAndShrinksTo1LettingRunningAgentsFinish() throws Exception {
        long pid = worker.pid();
        List<Long> first = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            first.add(submit("{\"executor\": \"simulated\", \"prompt\": \"work " + i + "\", \"options\": {\"durationMs\": 6000}}"));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> running() == 2);

        HttpResponse<String> grown = apiNode.send("PUT", "/api/workers/control-worker", "{\"slots\": 4}", MicroNode.TOKEN);
        assertEquals(202, grown.statusCode(), grown.body());
        await().atMost(Duration.ofSeconds(10)).until(() -> running() == 4);
        assertEquals(pid, worker.pid(), "no restart");
        assertEquals(4, worker(apiNode, "control-worker").getInt("slots"));

        // all four run; down to one: none is cut short
        assertEquals(202, apiNode.send("PUT", "/api/workers/control-worker", "{\"slots\": 1}", MicroNode.TOKEN).statusCode());
        List<Long> more = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            more.add(submit("{\"executor\": \"simulated\", \"prompt\": \"later " + i + "\", \"options\": {\"durationMs\": 1500}}"));
        }
        AtomicInteger mostAfter = new AtomicInteger();
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (first.stream().allMatch(this::completed)) {
                mostAfter.accumulateAndGet(running(), Math::max);
            }
            return more.stream().allMatch(this::completed);
        });
        for (long id : first) {
            JsonObject t = task(id);
            assertEquals(1, t.getInt("attempt"), "ran once, not released: " + t);
            assertEquals(List.of("completed"), t.getJsonArray("attempts").getValuesAs(JsonObject.class).stream()
                    .map(a -> a.getString("outcome")).toList());
        }
        assertEquals(1, mostAfter.get(), "one slot left");
        assertEquals(1, worker(apiNode, "control-worker").getInt("slots"));
    }

    @Test
    @Order(3)
    void theSlotCountStaysAcrossARestart() throws Exception {
        worker.stop(Duration.ofSeconds(60));
        Map<String, String> workerEnv = new HashMap<>(env);
        workerEnv.put("AGENTTURBO_WORKER_SLOTS", "2");
        worker = MicroNode.start("control-worker", workerEnv);
        await().atMost(Duration.ofSeconds(30)).until(() -> state("control-worker").equals("active"));
        assertEquals(1, worker(apiNode, "control-worker").getInt("slots"), "the operator's count, not the configured 2");
        await().atMost(Duration.ofSeconds(10)).until(() -> worker(apiNode, "control-worker").getInt("liveSlots") == 1);
    }

    @Test
    @Order(4)
    void badSlotCountsAreRefusedAndChangeNothing() throws Exception {
        for (String body : List.of("{\"slots\": -1}", "{\"slots\": 65}", "{\"slots\": 2.5}", "{\"slots\": \"4\"}",
                "{\"size\": 4}", "{}")) {
            HttpResponse<String> refused = apiNode.send("PUT", "/api/workers/control-worker", body, MicroNode.TOKEN);
            assertEquals(400, refused.statusCode(), body + " → " + refused.body());
            assertTrue(refused.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
        }
        HttpResponse<String> refused = apiNode.send("PUT", "/api/workers/control-worker", "{\"slots\": 65}", MicroNode.TOKEN);
        assertTrue(refused.body().contains("slots must be a whole number from 0 to 64"), refused.body());
        assertEquals(1, worker(apiNode, "control-worker").getInt("slots"));
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    boolean completed(long id) {
        try {
            return task(id).getString("status").equals("completed");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static int running() throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM agent_tasks WHERE status = 'running'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static String state(String id) throws Exception {
        return worker(apiNode, id).getString("state");
    }

    static JsonObject worker(MicroNode node, String id) throws Exception {
        HttpResponse<String> response = node.get("/api/workers/" + id);
        assertEquals(200, response.statusCode(), response.body());
        return json(response.body());
    }

    static long submit(String json) throws Exception {
        HttpResponse<String> response = apiNode.post("/api/tasks", json);
        assertEquals(201, response.statusCode(), response.body());
        return json(response.body()).getJsonNumber("id").longValue();
    }

    static JsonObject task(long id) throws Exception {
        return json(apiNode.get("/api/tasks/" + id).body());
    }

    static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
    }
}
