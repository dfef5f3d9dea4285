package dev.agentturbo.ops;

import dev.agentturbo.testing.ClaudeProgram;
import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.FakeMessagesApi;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real node's log (payara/logging.properties, as operators start it): after tasks of the real {@code claude}
 * program and of the Messages API executor ran with an API key, API calls with the bootstrap token, a made token and
 * a bad one, and scrapes of {@code /metrics} with its token, every line on its stdout and in its log file, Payara's
 * included and its last lines at shutdown, is one JSON object; a task's state changes carry its id, worker, slot
 * and attempt as fields; and no credential appears anywhere in either.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeLogIT {

    private static final String API_KEY = "sk-ant-api03-" + random(40);
    private static final String METRICS_TOKEN = random(32);
    private static final String BAD_TOKEN = "at_" + random(43);

    static TestDatabase db;
    static FakeMessagesApi api;
    static MicroNode node;
    static final List<String> secrets = new ArrayList<>(List.of(API_KEY, METRICS_TOKEN, BAD_TOKEN, MicroNode.TOKEN,
            "test-admin-password"));
    static long claudeTask;

    @BeforeAll
    static void start() {
        db = TestDatabase.create("node_log");
        api = FakeMessagesApi.start();
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.putAll(ClaudeProgram.environment(api, ClaudeProgram.Auth.API_KEY));
        env.put("ANTHROPIC_API_KEY", API_KEY);
        env.put("AGENTTURBO_CLAUDE_COMMAND", ClaudeProgram.path().toString());
        env.put("AGENTTURBO_WORKER_SLOTS", "2");
        env.put("AGENTTURBO_METRICS_TOKEN", METRICS_TOKEN);
        node = MicroNode.start("node-log", env);
    }

    @AfterAll
    static void stop() {
        Closing.all(node, api, db);
    }

    @Test
    @Order(1)
    void tasksAndRequestsThatCarryCredentialsRun() throws Exception {
        api.replyWith("Logged.", 100, 20);
        claudeTask = node.submit("{\"prompt\": \"say something\"}");
        long sdkTask = node.submit("{\"executor\": \"anthropic-api\", \"prompt\": \"say something\"}");
        await().atMost(Duration.ofSeconds(120)).until(() -> node.status(claudeTask).equals("completed")
                && node.status(sdkTask).equals("completed"));
        assertTrue(api.requests() >= 2, "both reached the Messages API with the key");

        var made = node.post("/api/tokens", "{\"name\": \"log-it\", \"role\": \"viewer\"}");
        assertEquals(201, made.statusCode(), made.body());
        String token = read(made.body()).getString("token");
        secrets.add(token);
        assertEquals(200, node.get("/api/tasks", token).statusCode());
        assertEquals(401, node.get("/api/tasks", BAD_TOKEN).statusCode());
        assertEquals(200, node.get("/metrics", METRICS_TOKEN).statusCode());
        assertEquals(401, node.get("/metrics", BAD_TOKEN).statusCode());
    }

    @Test
    @Order(2)
    void everyLineOfTheNodeIsOneJsonObjectAndAStateChangeCarriesItsTaskWorkerAndAttempt() throws Exception {
        // its last lines too: the node stops (SIGTERM) first
        assertEquals(143, node.stop(Duration.ofSeconds(90)), "a clean stop");
        List<JsonObject> all = jsonLines(node.logFile());
        List<JsonObject> stdout = jsonLines(node.log());
        // the file is appended to across restarts (an earlier run of this test may have left lines): this run's
        // lines are its last ones, the same as stdout's
        assertTrue(all.size() >= stdout.size(), all.size() + " lines in the file, " + stdout.size() + " on stdout");
        List<JsonObject> file = all.subList(all.size() - stdout.size(), all.size());
        assertEquals(stdout, file, "stdout and the file carry the same lines");

        for (JsonObject line : file) {
            for (String field : List.of("time", "level", "logger", "message")) {
                assertTrue(line.containsKey(field), field + " in " + line);
            }
        }
        assertTrue(file.stream().anyMatch(l -> l.getString("logger").equals("PayaraMicro")), "the server's own lines");
        List<JsonObject> task = file.stream().filter(l -> l.containsKey("task")
                && l.getJsonNumber("task").longValue() == claudeTask).toList();
        assertEquals(List.of("new->pending", "pending->running", "running->completed"),
                task.stream().map(l -> l.getString("from") + "->" + l.getString("to")).toList(), task.toString());
        JsonObject claimed = task.get(1);
        assertEquals("node-log", claimed.getString("worker"));
        assertEquals(1, claimed.getInt("attempt"));
        assertTrue(claimed.getInt("slot") >= 1 && claimed.getJsonNumber("lease").longValue() > 0, claimed.toString());
        assertEquals("claimed", claimed.getString("reason"));
        assertTrue(claimed.getString("message").startsWith("task=" + claudeTask + " worker=node-log/"),
                "the message reads as before: " + claimed);
        assertEquals("agent succeeded", task.get(2).getString("reason"));
        assertTrue(file.stream().anyMatch(l -> l.getString("message").equals("node node-log stopped")
                && l.getString("logger").equals("dev.agentturbo.workers.control.Node")), "the node's last line");
    }

    @Test
    @Order(3)
    void noCredentialAppearsInTheLog() throws Exception {
        String all = Files.readString(node.log()) + Files.readString(node.logFile());
        assertTrue(all.contains("refused a bad token"), "the refused token is logged, as a fact");
        for (String secret : secrets) {
            assertFalse(all.contains(secret), "a credential in the log: " + secret.substring(0, 6) + "…");
        }
    }

    private static List<JsonObject> jsonLines(Path file) throws Exception {
        List<JsonObject> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            try {
                JsonValue value = Json.createReader(new StringReader(line)).readValue();
                assertEquals(JsonValue.ValueType.OBJECT, value.getValueType(), line);
                lines.add(value.asJsonObject());
            } catch (jakarta.json.JsonException e) {
                throw new AssertionError("not one JSON object in " + file + ": " + line, e);
            }
        }
        assertTrue(lines.size() > 50, file + " has " + lines.size() + " lines");
        return lines;
    }

    private static JsonObject read(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
    }

    private static String random(int length) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        SecureRandom r = new SecureRandom();
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return b.toString();
    }
}
