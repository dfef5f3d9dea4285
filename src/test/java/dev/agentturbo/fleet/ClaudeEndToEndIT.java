package dev.agentturbo.fleet;

import dev.agentturbo.testing.ClaudeProgram;
import dev.agentturbo.testing.FakeMessagesApi;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tasks submitted over REST to a real node on Payara Micro, run by the real {@code claude} program, which talks
 * to a fake Messages API server of the test's own: the outcome, cost and session are stored; a server that only
 * answers 429 fails the attempt and the task is retried; a hung run is killed at the task's timeout. The same node
 * runs the {@code anthropic-api} executor against the same server: the SDK works inside Payara's class loading.
 */
class ClaudeEndToEndIT {

    static TestDatabase db;
    static FakeMessagesApi api;
    static MicroNode node;

    @BeforeAll
    static void start() {
        db = TestDatabase.create("claude_e2e");
        api = FakeMessagesApi.start();
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.putAll(ClaudeProgram.environment(api, ClaudeProgram.Auth.API_KEY));
        env.put("CLAUDE_CODE_MAX_RETRIES", "1"); // the program's own retries of a 429, kept short for the test
        env.put("AGENTTURBO_CLAUDE_COMMAND", ClaudeProgram.path().toString());
        env.put("AGENTTURBO_WORKER_SLOTS", "2");
        env.put("AGENTTURBO_RETRY_BASE_MILLIS", "200");
        env.put("AGENTTURBO_LIMITS_BACKOFF_FIRST_MILLIS", "1000");
        node = MicroNode.start("node-claude", env);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
        if (api != null) {
            api.close();
        }
        if (db != null) {
            db.close();
        }
    }

    @Test
    void theAgentsResultCostAndSessionAreStored() throws Exception {
        api.replyWith("The tests pass now.", 1200, 340);

        JsonObject task = awaitFinal(submit("{\"prompt\": \"fix the tests\", \"options\": {\"model\": \"claude-sonnet-4-5\"}}"));

        assertEquals("completed", task.getString("status"), task.toString());
        assertEquals("claude-cli", task.getString("executor"));
        assertEquals("The tests pass now.", task.getString("result"));
        assertTrue(task.getJsonNumber("costUsd").doubleValue() > 0, task.toString());
        assertEquals(1200, task.getJsonNumber("inputTokens").longValue());
        assertEquals(340, task.getJsonNumber("outputTokens").longValue());
        assertEquals(1, task.getInt("numTurns"));
        assertNotNull(task.getString("sessionId"));
        assertEquals(0, task.getInt("exitCode"));
    }

    @Test
    void aServerThatAnswers429BacksTheNodeOffAndTheTaskCompletesOnceItAnswers() throws Exception {
        api.rateLimitAlways();
        int before = api.requests();

        long id = submit("{\"prompt\": \"anything\", \"maxAttempts\": 1}");
        await().atMost(Duration.ofSeconds(30)).until(() -> node.get("/api/limits").body().contains("rate-limit"));
        assertTrue(api.requests() - before >= 1, "the attempt reached the server");
        api.replyWith("Done after the back-off.");

        JsonObject task = awaitFinal(id);
        assertEquals("completed", task.getString("status"), task.toString());
        // the agent's own retry may have got through, or its task was given back uncounted and ran again: either
        // way one attempt counts (maxAttempts 1)
        assertEquals(1, task.getInt("attempt"), task.toString());
    }

    @Test
    void aHungRunIsKilledAtItsTimeout() throws Exception {
        api.hang();
        long started = System.nanoTime();

        JsonObject task = awaitFinal(submit("{\"prompt\": \"wait forever\", \"timeoutSeconds\": 3, \"maxAttempts\": 1}"));

        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertEquals("failed", task.getString("status"), task.toString());
        assertTrue(task.getString("error").contains("timed out after 3 s"), task.getString("error"));
        assertTrue(took.compareTo(Duration.ofSeconds(30)) < 0, "killed at its timeout, took " + took);
        assertFalse(ProcessHandle.of(node.pid()).orElseThrow().descendants()
                        .anyMatch(p -> p.info().commandLine().orElse("").contains("claude")),
                "no claude process is left behind");
    }

    @Test
    void theMessagesApiExecutorStreamsItsAnswerAndStoresTokensAndCost() throws Exception {
        api.replyWith("Paris is the capital of France.\nIt lies on the Seine.", 30, 12);
        var refused = node.post("/api/tasks", "{\"prompt\": \"hi\", \"executor\": \"anthropic-api\","
                + " \"options\": {\"temperature\": 3}}");
        assertEquals(400, refused.statusCode(), refused.body());
        assertEquals("application/problem+json", refused.headers().firstValue("content-type").orElse(""));
        assertTrue(refused.body().contains("options.temperature must be from 0 to 1, not 3"), refused.body());

        long id = submit("{\"prompt\": \"What is the capital of France?\", \"executor\": \"anthropic-api\","
                + " \"options\": {\"model\": \"claude-haiku-4-5\", \"maxTokens\": 200}}");
        JsonObject task = awaitFinal(id);

        assertEquals("completed", task.getString("status"), task.toString());
        assertEquals("Paris is the capital of France.\nIt lies on the Seine.", task.getString("result"));
        assertEquals(30, task.getJsonNumber("inputTokens").longValue());
        assertEquals(12, task.getJsonNumber("outputTokens").longValue());
        assertEquals(0, new java.math.BigDecimal("0.00009").compareTo(task.getJsonNumber("costUsd").bigDecimalValue()),
                "30 × $1 + 12 × $5 per million (claude-haiku-4 in agentturbo.anthropic.prices)");
        assertEquals(1, task.getInt("numTurns"));
        assertEquals("msg_fake", task.getString("sessionId"));
        JsonObject request = api.requestBodies().get(api.requestBodies().size() - 1);
        assertEquals("claude-haiku-4-5", request.getString("model"));
        assertEquals(200, request.getInt("max_tokens"));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> outputTexts(id).size() == 3);
        assertEquals(List.of("assistant: Paris is the capital of France.", "assistant: It lies on the Seine.",
                "result: done (end_turn), 30 in / 12 out tokens, $0.00009"), outputTexts(id));
    }

    /** The task's output as {@code kind: text}, in order. */
    private static List<String> outputTexts(long id) throws Exception {
        return json(node.get("/api/tasks/" + id + "/output").body()).getJsonArray("items")
                .getValuesAs(JsonObject.class).stream()
                .map(o -> o.getString("kind") + ": " + o.getString("text")).toList();
    }

    private static long submit(String json) throws Exception {
        var response = node.post("/api/tasks", json);
        assertEquals(201, response.statusCode(), response.body());
        return json(response.body()).getJsonNumber("id").longValue();
    }

    private static JsonObject awaitFinal(long id) throws Exception {
        long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            JsonObject task = json(node.get("/api/tasks/" + id).body());
            if (task.getString("status").matches("completed|failed|cancelled")) {
                return task;
            }
            if (System.nanoTime() > until) {
                throw new AssertionError("task " + id + " did not finish: " + task);
            }
            Thread.sleep(100);
        }
    }

    private static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
    }
}
