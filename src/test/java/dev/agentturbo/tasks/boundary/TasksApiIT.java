package dev.agentturbo.tasks.boundary;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.File;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The REST API of the real WAR on Payara Micro with a real PostgreSQL (started by Arquillian; the database
 * and node settings come from failsafe's environment in pom.xml). Tasks run through the simulated and
 * command executors; bad input is answered with problem+json and stores nothing.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class TasksApiIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** The node's bootstrap token (AGENTTURBO_BOOTSTRAP_TOKEN in the pom): an operator. */
    private static final String BEARER = "Bearer test-bootstrap-token-0123456789";

    static {
        // runs when the class is loaded, before Arquillian starts the node that migrates this database
        dev.agentturbo.testing.TestDatabase.ensureExists(System.getenv().getOrDefault("DB_URL",
                "jdbc:postgresql://127.0.0.1:5432/agentturbo_it"));
    }

    @ArquillianResource
    URL base;

    @Deployment(testable = false)
    static WebArchive war() {
        return ShrinkWrap.createFromZipFile(WebArchive.class,
                new File(System.getProperty("agentturbo.war", "target/agent-turbo.war")));
    }

    @Test
    void aSimulatedTaskSubmittedOverRestCompletes() throws Exception {
        HttpResponse<String> created = post("api/tasks", """
                {"prompt": "simulate me", "executor": "simulated", "options": {"durationMs": 100}}""", null);
        assertEquals(201, created.statusCode(), created.body());
        JsonObject task = json(created.body());
        // an idle slot may have claimed it before the answer was written
        assertTrue(task.getString("status").matches("pending|running|completed"), task.toString());
        String location = created.headers().firstValue("Location").orElseThrow();
        assertTrue(location.endsWith("/api/tasks/" + task.getJsonNumber("id").longValue()), location);

        JsonObject done = awaitFinal(task.getJsonNumber("id").longValue());
        assertEquals("completed", done.getString("status"));
        assertEquals("simulated run of 100 ms", done.getString("result"));
        assertEquals(1, done.getInt("attempt"));
        assertEquals("arquillian", done.getString("workerId"));
        assertNotNull(done.getString("startedAt"));
        assertNotNull(done.getString("completedAt"));
        assertProblem(post("api/tasks/" + done.getJsonNumber("id") + "/cancel", "", null), 409, "is completed");
    }

    @Test
    void aCommandTaskGetsThePromptOnStdinAndReturnsItsStdout() throws Exception {
        String prompt = "line one\nline two: \"quoted\" $HOME `not a shell`";
        HttpResponse<String> created = post("api/tasks", Json.createObjectBuilder()
                .add("prompt", prompt).add("executor", "command")
                .add("options", Json.createObjectBuilder().add("command", "/usr/bin/cat")).build().toString(), null);
        assertEquals(201, created.statusCode(), created.body());
        JsonObject done = awaitFinal(json(created.body()).getJsonNumber("id").longValue());
        assertEquals("completed", done.getString("status"), done.toString());
        assertEquals(prompt + "\n", done.getString("result"));
        assertEquals(0, done.getInt("exitCode"));
    }

    @Test
    void anAgentSeesNoneOfTheNodesDatabaseSettingsOrOtherVariables() throws Exception {
        HttpResponse<String> created = post("api/tasks", """
                {"prompt": "print the environment", "executor": "command", "options": {"command": "/usr/bin/env"}}""", null);
        JsonObject done = awaitFinal(json(created.body()).getJsonNumber("id").longValue());
        assertEquals("completed", done.getString("status"), done.toString());
        String env = done.getString("result");
        assertTrue(env.contains("PATH="), env);
        for (String secret : List.of("DB_URL", "DB_USER", "DB_PASSWORD", "AGENTTURBO_", "JAVA_HOME", "MAVEN")) {
            assertFalse(env.contains(secret), secret + " reached the agent:\n" + env);
        }
    }

    @Test
    void aWorkingDirectoryOutsideTheAllowedRootsIsRefused() throws Exception {
        for (String escape : List.of("/etc", "/tmp/../etc", "/")) {
            assertProblem(post("api/tasks", "{\"prompt\": \"x\", \"executor\": \"command\", \"options\": {\"command\":"
                    + " \"/usr/bin/cat\", \"workingDirectory\": \"" + escape + "\"}}", null), 400, "must lie in");
        }
    }

    @Test
    void aFailingTaskIsRetriedUpToMaxAttemptsThenFailed() throws Exception {
        HttpResponse<String> created = post("api/tasks", """
                {"prompt": "fail", "executor": "simulated", "maxAttempts": 2,
                 "options": {"durationMs": 10, "outcome": "failure"}}""", null);
        JsonObject done = awaitFinal(json(created.body()).getJsonNumber("id").longValue());
        assertEquals("failed", done.getString("status"));
        assertEquals(2, done.getInt("attempt"));
        assertTrue(done.getString("error").contains("simulated failure"), done.toString());
    }

    @Test
    void aRunningTaskIsCancelledAndItsProcessKilled() throws Exception {
        HttpResponse<String> created = post("api/tasks", """
                {"prompt": "wait", "executor": "command", "options": {"command": "/usr/bin/sleep", "args": ["60"]}}""", null);
        long id = json(created.body()).getJsonNumber("id").longValue();
        awaitStatus(id, "running");
        HttpResponse<String> cancel = post("api/tasks/" + id + "/cancel", "", null);
        assertEquals(202, cancel.statusCode(), cancel.body());
        JsonObject done = awaitFinal(id);
        assertEquals("cancelled", done.getString("status"));
        HttpResponse<String> again = post("api/tasks/" + id + "/cancel", "", null);
        assertEquals(200, again.statusCode(), "cancelling twice is harmless");
        assertEquals("cancelled", json(again.body()).getString("status"));
    }

    @Test
    void anIdempotencyKeyReturnsTheFirstTaskInsteadOfASecond() throws Exception {
        String key = UUID.randomUUID().toString();
        String body = """
                {"prompt": "once", "executor": "simulated", "options": {"durationMs": 1}}""";
        HttpResponse<String> first = post("api/tasks", body, key);
        HttpResponse<String> again = post("api/tasks", body, key);
        assertEquals(201, first.statusCode());
        assertEquals(200, again.statusCode());
        assertEquals(json(first.body()).getJsonNumber("id"), json(again.body()).getJsonNumber("id"));
        HttpResponse<String> other = post("api/tasks", "{\"prompt\": \"different\", \"executor\": \"simulated\"}", key);
        assertProblem(other, 409, "Idempotency-Key");
    }

    @Test
    void aBatchIsStoredWholeOrNotAtAll() throws Exception {
        String marker = UUID.randomUUID().toString();
        HttpResponse<String> bad = post("api/tasks/batch", "[{\"prompt\": \"" + marker + "\", \"executor\": \"simulated\"},"
                + " {\"prompt\": \"\"}]", null);
        assertProblem(bad, 400, "[1].prompt");
        assertFalse(get("api/tasks?limit=500").body().contains(marker), "nothing of a refused batch is stored");

        HttpResponse<String> good = post("api/tasks/batch", "[{\"prompt\": \"" + marker + "\", \"executor\": \"simulated\","
                + " \"options\": {\"durationMs\": 1}}, {\"prompt\": \"b\", \"executor\": \"simulated\", \"options\": {\"durationMs\": 1}}]", null);
        assertEquals(201, good.statusCode(), good.body());
        assertEquals(2, json(good.body()).getInt("count"));
    }

    @Test
    void badInputIsAnsweredWithProblemJsonSayingWhatToFix() throws Exception {
        assertProblem(post("api/tasks", "{}", null), 400, "prompt is required");
        assertProblem(post("api/tasks", "{\"prompt\": \"x\", \"executor\": \"teleport\"}", null), 400, "executor 'teleport' is unknown");
        assertProblem(post("api/tasks", "{\"prompt\": \"x\", \"maxAttempts\": -1}", null), 400, "maxAttempts must be from 1");
        assertProblem(post("api/tasks", "{\"prompt\": \"x\", \"timeoutSeconds\": 0}", null), 400, "timeoutSeconds");
        assertProblem(post("api/tasks", "{\"prompt\": \"x\", \"priority\": \"high\"}", null), 400, "priority must be a whole number");
        assertProblem(post("api/tasks", "{\"prompt\": \"x\", \"executor\": \"simulated\", \"options\": {\"speed\": 1}}", null),
                400, "options.speed is not an option");
        assertProblem(post("api/tasks", "{\"prompt\": \"x\", \"executor\": \"command\", \"options\": {\"command\": \"rm\"}}", null),
                400, "options.command must be one of");
        assertProblem(post("api/tasks", "{\"prompt\": ", null), 400, "not valid JSON");
        assertProblem(post("api/tasks", "{\"prompt\": \"" + "x".repeat(200_001) + "\"}", null), 400, "the limit is 200000");
        assertProblem(get("api/tasks/987654321"), 404, "no task with id");
        assertProblem(get("api/tasks/abc"), 404, "no task with id");
        assertProblem(get("api/tasks?status=sleeping"), 400, "status must be one of");
        assertProblem(get("api/tasks?limit=0"), 400, "limit must be");
        HttpResponse<String> wrongType = HTTP.send(HttpRequest.newBuilder(uri("api/tasks")).header("Authorization", BEARER)
                        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("hi")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertProblem(wrongType, 415, "application/json");
    }

    @Test
    void listingPagesWithACursor() throws Exception {
        for (int i = 0; i < 3; i++) {
            post("api/tasks", "{\"prompt\": \"page\", \"executor\": \"simulated\", \"options\": {\"durationMs\": 1}}", null);
        }
        JsonObject first = json(get("api/tasks?limit=2").body());
        JsonArray items = first.getJsonArray("items");
        assertEquals(2, items.size());
        String cursor = first.getString("nextCursor");
        JsonObject second = json(get("api/tasks?limit=2&cursor=" + cursor).body());
        long lastOfFirst = items.getJsonObject(1).getJsonNumber("id").longValue();
        assertTrue(second.getJsonArray("items").getJsonObject(0).getJsonNumber("id").longValue() < lastOfFirst);
    }

    @Test
    void workersAndStatsShowTheNode() throws Exception {
        JsonObject workers = json(get("api/workers").body());
        JsonObject node = workers.getJsonArray("workers").stream().map(JsonValue::asJsonObject)
                .filter(w -> "arquillian".equals(w.getString("id"))).findFirst().orElseThrow();
        assertEquals(3, node.getInt("slots"));
        assertEquals("active", node.getString("state"));
        assertTrue(node.getJsonNumber("heartbeatAgeSeconds").doubleValue() < 30);
        JsonObject stats = json(get("api/stats").body());
        for (String status : new String[]{"pending", "running", "completed", "failed", "cancelled"}) {
            assertTrue(stats.getJsonObject("tasks").containsKey(status), stats.toString());
        }
    }

    private JsonObject awaitFinal(long id) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            JsonObject task = json(get("api/tasks/" + id).body());
            String status = task.getString("status");
            if (status.equals("completed") || status.equals("failed") || status.equals("cancelled")) {
                return task;
            }
            if (System.nanoTime() > until) {
                throw new AssertionError("task " + id + " did not finish: " + task);
            }
            Thread.sleep(100);
        }
    }

    private void awaitStatus(long id, String wanted) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!json(get("api/tasks/" + id).body()).getString("status").equals(wanted)) {
            if (System.nanoTime() > until) {
                throw new AssertionError("task " + id + " never became " + wanted);
            }
            Thread.sleep(50);
        }
    }

    private static void assertProblem(HttpResponse<String> response, int status, String mentions) {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElse(""));
        JsonObject problem = json(response.body());
        assertEquals(status, problem.getInt("status"));
        assertTrue(problem.getString("detail").contains(mentions), "detail should mention '" + mentions + "': " + problem);
    }

    private URI uri(String path) {
        return URI.create(base.toString().replaceAll("/$", "") + "/" + path);
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(uri(path)).header("Authorization", BEARER).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body, String idempotencyKey) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Authorization", BEARER)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
    }
}
