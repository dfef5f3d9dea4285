package dev.agentturbo.fleet;

import dev.agentturbo.testing.ClaudeProgram;
import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.FakeMessagesApi;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Tag;
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
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The subscription's usage limit pauses the whole fleet for that credential, with the real {@code claude} program
 * against fake Messages API servers: nodes a and b share one subscription (its server answers with the usage
 * limit), node c has another (its server answers). The first limit met pauses a and b at once (at most one
 * rejected request per slot); c goes on with the queue; the interrupted tasks wait, attempts not counted; at the
 * reset everything completes by itself. An operator lifts a pause early.
 */
@Tag("serial") // its figures are timings: it runs alone, not beside the other integration tests
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UsageLimitPauseIT {

    static TestDatabase db;
    static FakeMessagesApi shared;
    static FakeMessagesApi other;
    static MicroNode a;
    static MicroNode b;
    static MicroNode c;

    @BeforeAll
    static void start() {
        db = TestDatabase.create("usage_limit_pause");
        shared = FakeMessagesApi.start();
        other = FakeMessagesApi.start();
        Map<String, String> base = new HashMap<>(MicroNode.databaseEnv(db));
        base.put("AGENTTURBO_CLAUDE_COMMAND", ClaudeProgram.path().toString());
        base.put("AGENTTURBO_WORKER_SLOTS", "1");
        Map<String, String> sharing = new HashMap<>(base);
        sharing.putAll(ClaudeProgram.environment(shared, ClaudeProgram.Auth.SUBSCRIPTION));
        Map<String, String> another = new HashMap<>(base);
        another.putAll(ClaudeProgram.environment(other, ClaudeProgram.Auth.SUBSCRIPTION));
        another.put("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat-another-subscription");
        var na = CompletableFuture.supplyAsync(() -> MicroNode.start("limits-a", sharing));
        var nb = CompletableFuture.supplyAsync(() -> MicroNode.start("limits-b", sharing));
        var nc = CompletableFuture.supplyAsync(() -> MicroNode.start("limits-c", another));
        a = na.join();
        b = nb.join();
        c = nc.join();
    }

    @AfterAll
    static void stop() {
        Closing.all(a, b, c, shared, other, db);
    }

    @Test
    @Order(1)
    void theFirstUsageLimitPausesEveryNodeOfTheCredentialUntilTheResetAndNothingIsLost() throws Exception {
        Instant reset = Instant.now().plus(45, ChronoUnit.SECONDS).truncatedTo(ChronoUnit.SECONDS);
        shared.usageLimitUntil(reset);
        other.replyWith("Done elsewhere.");
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
        clock.schedule(() -> shared.replyWith("Done after the reset."), Duration.between(Instant.now(), reset).toMillis(),
                TimeUnit.MILLISECONDS);
        try {
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                ids.add(submit("{\"prompt\": \"task " + i + "\"}"));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> !limits().isEmpty());
            JsonObject limit = limits().get(0);
            assertEquals("claude-cli", limit.getString("executor"));
            assertEquals("usage-limit", limit.getString("kind"));
            assertEquals(reset.toString(), limit.getString("until"));
            assertTrue(limit.getString("credential").matches("oauth:[0-9a-f]{12}"), limit.toString());
            assertFalse(limit.toString().contains("sk-ant"), "never the credential itself");
            assertEquals(1, json(a.get("/api/stats").body()).getJsonArray("limits").size(), "the stats show it");

            // while paused, the nodes of the shared subscription start nothing more; the other node runs the queue
            await().atMost(Duration.ofSeconds(40)).until(() -> count("status IN ('pending', 'running')") == 0);
            assertTrue(Instant.now().isBefore(reset), "the queue was worked through before the reset");
            int rejected = shared.requests();
            assertTrue(rejected >= 1 && rejected <= 2, "at most one rejected request per slot of the subscription: "
                    + rejected);
            long waiting = count("status = 'scheduled'");
            assertEquals(rejected, waiting, "each interrupted task waits for the reset");
            assertEquals(0, count("status = 'scheduled' AND attempt <> 0"), "their attempt not counted");
            assertEquals(8 - waiting, count("status = 'completed' AND assigned_worker_id = 'limits-c'"));

            // at the reset, claiming resumes by itself and everything completes, each task once
            await().atMost(Duration.between(Instant.now(), reset).plusSeconds(60))
                    .until(() -> count("status = 'completed'") == 8);
            assertEquals(8, count("status = 'completed' AND attempt = 1"), "no attempt burnt by the limit");
            assertTrue(limits().isEmpty(), "the pause ended with its reset");
            Instant firstAfter = Instant.parse(firstStartAfter(reset));
            assertTrue(Duration.between(reset, firstAfter).compareTo(Duration.ofSeconds(5)) < 0,
                    "claims resumed within 5 s of the reset: " + firstAfter);
            assertEquals(0, count("status = 'failed'"));
            System.out.println("usage limit: " + rejected + " rejected requests from 2 slots of the subscription; "
                    + (8 - waiting) + " tasks run meanwhile by the node of another credential; claims resumed "
                    + Duration.between(reset, firstAfter).toMillis() + " ms after the reset");
        } finally {
            clock.shutdownNow();
        }
    }

    @Test
    @Order(2)
    void anOperatorLiftsAPauseEarly() throws Exception {
        assertEquals(202, c.post("/api/workers/limits-c/drain", "").statusCode());
        await().atMost(Duration.ofSeconds(10)).until(() -> json(a.get("/api/workers/limits-c").body())
                .getString("state").equals("draining"));
        shared.usageLimitUntil(Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS));
        long id = submit("{\"prompt\": \"meets the limit\"}");
        await().atMost(Duration.ofSeconds(30)).until(() -> !limits().isEmpty());
        await().atMost(Duration.ofSeconds(30)).until(() -> status(id).equals("scheduled"));
        long limitId = limits().get(0).getJsonNumber("id").longValue();

        shared.replyWith("Done once lifted.");
        HttpResponse<String> lifted = b.post("/api/limits/" + limitId + "/lift", "");
        assertEquals(200, lifted.statusCode(), lifted.body());
        await().atMost(Duration.ofSeconds(20)).until(() -> status(id).equals("completed"));
        assertTrue(limits().isEmpty());
        assertEquals(404, b.post("/api/limits/" + limitId + "/lift", "").statusCode(), "nothing active to lift");
        assertEquals(202, c.post("/api/workers/limits-c/resume", "").statusCode());
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    static List<JsonObject> limits() throws Exception {
        return json(b.get("/api/limits").body()).getJsonArray("limits").getValuesAs(JsonObject.class);
    }

    static long submit(String body) throws Exception {
        HttpResponse<String> response = a.post("/api/tasks", body);
        assertEquals(201, response.statusCode(), response.body());
        return json(response.body()).getJsonNumber("id").longValue();
    }

    static String status(long id) throws Exception {
        return json(a.get("/api/tasks/" + id).body()).getString("status");
    }

    static long count(String where) throws Exception {
        try (Connection conn = db.dataSource().getConnection(); Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM agent_tasks WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String firstStartAfter(Instant reset) throws Exception {
        try (Connection conn = db.dataSource().getConnection(); Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("SELECT min(started_at) FROM task_attempts WHERE started_at >= '" + reset
                     + "' UNION ALL SELECT min(started_at) FROM agent_tasks WHERE started_at >= '" + reset + "'")) {
            Instant first = null;
            while (rs.next()) {
                if (rs.getTimestamp(1) != null) {
                    Instant t = rs.getTimestamp(1).toInstant();
                    first = first == null || t.isBefore(first) ? t : first;
                }
            }
            return String.valueOf(first);
        }
    }

    static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
    }
}
