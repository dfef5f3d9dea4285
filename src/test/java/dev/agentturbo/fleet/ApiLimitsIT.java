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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fleet's answers to an API that limits it, with the real {@code claude} program against a fake Messages API:
 * node a has an API key (3 slots), node bare has no credential at all. (That nodes sharing a credential share its
 * limits is {@code UsageLimitPauseIT}'s; here one node carries the key.)
 * <ul>
 * <li>A node whose agents have no credential pauses its executor for that credential at start, with a message
 * that says what to do; it never claims such a task.</li>
 * <li>While the API answers 429, the fleet backs off for the key, exponentially: each back-off lets every slot of
 * the key start at most one agent (after the first, one probe a node), and each agent tries at most
 * 1 + CLAUDE_CODE_MAX_RETRIES times, so the server receives at most slots × 2 requests per back-off. No task fails
 * and no attempt is counted.</li>
 * <li>A refused key pauses the executor for that key at the first refusal, without failing the task; an
 * operator's lift lets it run again.</li>
 * </ul>
 */
@Tag("serial") // its figures are timings: it runs alone, not beside the other integration tests
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiLimitsIT {

    private static final int SLOTS_OF_THE_KEY = 3;
    private static final int TRIES_PER_AGENT = 2; // CLAUDE_CODE_MAX_RETRIES=1

    static TestDatabase db;
    static FakeMessagesApi api;
    static MicroNode a;
    static MicroNode bare;

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.create("api_limits");
        api = FakeMessagesApi.start();
        Map<String, String> base = new HashMap<>(MicroNode.databaseEnv(db));
        base.put("AGENTTURBO_CLAUDE_COMMAND", ClaudeProgram.path().toString());
        base.put("AGENTTURBO_LIMITS_BACKOFF_FIRST_MILLIS", "2000");
        base.put("AGENTTURBO_LIMITS_BACKOFF_MAX_SECONDS", "8");
        base.put("CLAUDE_CODE_MAX_RETRIES", "1");
        Map<String, String> keyed = new HashMap<>(base);
        keyed.putAll(ClaudeProgram.environment(api, ClaudeProgram.Auth.API_KEY));
        keyed.put("AGENTTURBO_WORKER_SLOTS", Integer.toString(SLOTS_OF_THE_KEY));
        Map<String, String> none = new HashMap<>(base);
        none.putAll(ClaudeProgram.environment(api, ClaudeProgram.Auth.API_KEY));
        none.put("ANTHROPIC_API_KEY", "");
        none.put("HOME", Files.createTempDirectory("agent-turbo-bare-home").toString());
        none.put("AGENTTURBO_WORKER_SLOTS", "1");
        var na = CompletableFuture.supplyAsync(() -> MicroNode.start("api-limits-a", keyed));
        var nbare = CompletableFuture.supplyAsync(() -> MicroNode.start("api-limits-bare", none));
        a = na.join();
        bare = nbare.join();
    }

    @AfterAll
    static void stop() {
        Closing.all(a, bare, api, db);
    }

    @Test
    @Order(1)
    void aNodeWithoutCredentialsPausesItsExecutorAtStartAndSaysWhatToDo() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> limit("credentials") != null);
        JsonObject pause = limit("credentials");
        assertEquals("claude-cli", pause.getString("executor"));
        assertEquals("none", pause.getString("credential"));
        assertTrue(!pause.containsKey("until") || pause.isNull("until"), "until an operator lifts it or the node has a credential: " + pause);
        assertTrue(pause.getString("reason").contains("claude setup-token")
                && pause.getString("reason").contains("ANTHROPIC_API_KEY")
                && pause.getString("reason").contains("api-limits-bare"), pause.getString("reason"));
        assertTrue(Files.readString(bare.log()).contains("claude-cli agents cannot run"), "the node says so in its log");
    }

    @Test
    @Order(2)
    void aRateLimitedApiBacksTheFleetOffWithABoundOnRequestsAndNoTaskFails() throws Exception {
        api.rateLimitAlways();
        for (int i = 0; i < 8; i++) {
            submit("{\"prompt\": \"limited " + i + "\"}");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> limit("rate-limit") != null);
        assertTrue(limit("rate-limit").getString("credential").matches("key:[0-9a-f]{12}"));
        Thread.sleep(12_000);
        int limited = api.requests();
        int strikes = (int) number("SELECT strikes FROM executor_limits WHERE kind = 'rate-limit'");
        api.replyWith("Done after the back-off.");

        await().atMost(Duration.ofSeconds(90)).until(() -> count("status = 'completed'") == 8);
        assertEquals(0, count("status = 'failed'"), "no task fails because of the limit");
        assertEquals(8, count("status = 'completed' AND attempt = 1"), "no attempt counted for the rate limit");
        assertEquals(0, count("assigned_worker_id = 'api-limits-bare'"), "the node without credentials ran none");
        assertTrue(number("SELECT count(*) FROM task_attempts WHERE outcome = 'released'"
                + " AND error LIKE 'the API stayed rate-limited (429)%'") >= 1, "rate-limited attempts went back");
        int bound = SLOTS_OF_THE_KEY * TRIES_PER_AGENT * strikes;
        System.out.println("rate limit: " + limited + " requests in 12 s of 429 answers, " + strikes
                + " back-offs in a row; bound " + bound);
        assertTrue(strikes >= 2, "back-offs in a row grow: " + strikes);
        assertTrue(limited <= bound, limited + " requests while limited, more than slots × tries × back-offs = "
                + bound);
    }

    @Test
    @Order(3)
    void aRefusedKeyPausesTheExecutorWithoutFailingTheTaskUntilAnOperatorLiftsIt() throws Exception {
        api.refuseCredentials();
        int before = api.requests();
        long id = submit("{\"prompt\": \"meets a refused key\"}");
        await().atMost(Duration.ofSeconds(30)).until(() -> limitFor("credentials", "key:") != null);
        JsonObject pause = limitFor("credentials", "key:");
        assertTrue(pause.getString("reason").startsWith("the API refused the credential of claude (status 401"),
                pause.getString("reason"));
        assertTrue(!pause.containsKey("until") || pause.isNull("until"), "until lifted: " + pause);
        await().atMost(Duration.ofSeconds(10)).until(() -> "pending".equals(task(id).getString("status")));
        assertEquals(0, task(id).getInt("attempt"), "the refused attempt is not counted");
        Thread.sleep(3000);
        assertEquals("pending", task(id).getString("status"), "no node of the key takes it while paused");
        assertTrue(api.requests() - before <= 2, "the program is stopped at the first refusal: "
                + (api.requests() - before) + " requests");

        api.replyWith("Done with a good key.");
        HttpResponse<String> lifted = a.post("/api/limits/" + pause.getJsonNumber("id").longValue() + "/lift", "");
        assertEquals(200, lifted.statusCode(), lifted.body());
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(task(id).getString("status")));
        assertEquals(1, task(id).getInt("attempt"));
    }

    static JsonObject limit(String kind) throws Exception {
        return limitFor(kind, "");
    }

    static JsonObject limitFor(String kind, String credentialPrefix) throws Exception {
        List<JsonObject> all = json(a.get("/api/limits").body()).getJsonArray("limits").getValuesAs(JsonObject.class);
        return all.stream().filter(l -> l.getString("kind").equals(kind)
                && l.getString("credential").startsWith(credentialPrefix)).findFirst().orElse(null);
    }

    static long submit(String body) throws Exception {
        HttpResponse<String> response = a.post("/api/tasks", body);
        assertEquals(201, response.statusCode(), response.body());
        return json(response.body()).getJsonNumber("id").longValue();
    }

    static JsonObject task(long id) throws Exception {
        return json(a.get("/api/tasks/" + id).body());
    }

    static long count(String where) throws Exception {
        return number("SELECT count(*) FROM agent_tasks WHERE " + where);
    }

    static long number(String sql) throws Exception {
        try (Connection conn = db.dataSource().getConnection(); Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
    }
}
