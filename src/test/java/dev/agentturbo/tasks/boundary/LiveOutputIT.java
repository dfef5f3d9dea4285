package dev.agentturbo.tasks.boundary;

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
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Agents' output is stored as it arrives and can be read and followed from any node: the conversation of a real
 * {@code claude} run against the fake Messages API, in order; the cap (first and last output kept, the middle
 * dropped and said); a server-sent event stream on an API-only node that follows a task running on the other node
 * live and ends with it, and resumes from Last-Event-ID; retries of finished tasks as new attempts, with the
 * history of attempts.
 */
class LiveOutputIT {

    static final int CAP = 10_000;

    static TestDatabase db;
    static FakeMessagesApi api;
    static MicroNode worker;
    static MicroNode apiNode;

    @BeforeAll
    static void start() {
        db = TestDatabase.create("live_output");
        api = FakeMessagesApi.start();
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.putAll(ClaudeProgram.environment(api, ClaudeProgram.Auth.API_KEY));
        env.put("AGENTTURBO_CLAUDE_COMMAND", ClaudeProgram.path().toString());
        env.put("AGENTTURBO_COMMAND_ALLOWED", "/bin/sh");
        env.put("AGENTTURBO_OUTPUT_MAX_CHARS_PER_TASK", Integer.toString(CAP));
        env.put("AGENTTURBO_RETRY_BASE_MILLIS", "200");
        Map<String, String> workerEnv = new HashMap<>(env);
        workerEnv.put("AGENTTURBO_WORKER_SLOTS", "2");
        worker = MicroNode.start("output-worker", workerEnv);
        Map<String, String> apiEnv = new HashMap<>(env);
        apiEnv.put("AGENTTURBO_WORKER_SLOTS", "0");
        apiNode = MicroNode.start("output-api", apiEnv);
    }

    @AfterAll
    static void stop() {
        Closing.all(apiNode, worker, api, db);
    }

    @Test
    void theConversationOfARealClaudeRunIsStoredInOrder() throws Exception {
        api.useToolThenReply("Bash", "{\"command\":\"echo hello-from-the-tool\",\"description\":\"greet\"}",
                "All done, the tool said hello.");
        long id = submit(worker, "{\"prompt\": \"say hello with the shell\", \"options\": {\"allowedTools\": [\"Bash\"]}}");
        assertEquals("completed", awaitFinal(worker, id).getString("status"));
        // the output is written apart from the ending, within a flush interval (200 ms) of it
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
            List<JsonObject> all = output(worker, id);
            return !all.isEmpty() && all.get(all.size() - 1).getString("kind").equals("result");
        });

        List<JsonObject> items = output(worker, id);
        List<String> kinds = items.stream().map(i -> i.getString("kind")).toList();
        assertEquals("system", kinds.get(0), "the program's start comes first: " + kinds);
        assertEquals("result", kinds.get(kinds.size() - 1), "the result comes last: " + kinds);
        int toolUse = indexOf(items, "tool_use", "echo hello-from-the-tool");
        int toolResult = indexOf(items, "tool_result", "hello-from-the-tool");
        int answer = indexOf(items, "assistant", "All done, the tool said hello.");
        assertTrue(0 < toolUse && toolUse < toolResult && toolResult < answer, "in order: " + kinds);
        assertTrue(items.get(toolUse).getJsonObject("event").getString("type").equals("assistant"),
                "the program's own event is kept: " + items.get(toolUse));
        for (int i = 1; i < items.size(); i++) {
            assertTrue(items.get(i).getJsonNumber("seq").longValue() > items.get(i - 1).getJsonNumber("seq").longValue());
            assertEquals(1, items.get(i).getInt("attempt"));
        }
    }

    @Test
    void outputPastTheCapKeepsTheFirstAndTheLastAndSaysWhatWasDropped() throws Exception {
        String script = "i=1; while [ $i -le 3000 ]; do echo \\\"line $i of a long output ...........\\\"; i=$((i+1)); done";
        long id = submit(worker, "{\"executor\": \"command\", \"prompt\": \"go\", \"options\": {\"command\": \"/bin/sh\","
                + " \"args\": [\"-c\", \"" + script + "\"]}}");
        assertEquals("completed", awaitFinal(worker, id).getString("status"));
        await().atMost(Duration.ofSeconds(5)).until(() -> output(worker, id).stream()
                .anyMatch(i -> i.getString("text").contains("line 3000 ")));

        List<JsonObject> items = output(worker, id);
        List<String> stdout = items.stream().filter(i -> i.getString("kind").equals("stdout"))
                .map(i -> i.getString("text")).toList();
        assertEquals("line 1 of a long output ...........", stdout.get(0));
        assertEquals("line 3000 of a long output ...........", stdout.get(stdout.size() - 1));
        assertTrue(stdout.size() < 3000 / 5, "the middle was dropped: " + stdout.size() + " lines kept");
        long kept = stdout.stream().mapToLong(String::length).sum();
        assertTrue(kept <= CAP, kept + " characters kept, cap " + CAP);
        assertTrue(kept > CAP * 8 / 10, "the cap is used, not more is dropped than needed: " + kept);
        JsonObject marker = items.stream().filter(i -> i.getString("kind").equals("system")).findFirst().orElseThrow();
        assertTrue(marker.getString("text").matches("\\d+ lines \\(\\d+ characters\\) of the middle of attempt 1 were dropped here.*"),
                marker.getString("text"));
        int markerAt = items.indexOf(marker);
        assertTrue(items.get(markerAt - 1).getString("text").startsWith("line ")
                && items.get(markerAt + 1).getString("text").startsWith("line "), "between the head and the tail");
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT sum(length(text)) FROM task_output WHERE task_id = " + id
                     + " AND kind = 'stdout'")) {
            rs.next();
            assertEquals(kept, rs.getLong(1), "what the API shows is what is stored");
        }
    }

    @Test
    void aStreamOnAnotherNodeFollowsTheRunningTaskLiveAndEndsWithIt() throws Exception {
        String script = "for i in 1 2 3 4 5 6; do echo step $i; sleep 0.7; done";
        long id = submit(apiNode, "{\"executor\": \"command\", \"prompt\": \"go\", \"options\": {\"command\": \"/bin/sh\","
                + " \"args\": [\"-c\", \"" + script + "\"]}}");
        List<Event> events = follow(apiNode, id, null);

        List<Event> steps = events.stream().filter(e -> e.name.equals("output")).toList();
        assertEquals(List.of("step 1", "step 2", "step 3", "step 4", "step 5", "step 6"),
                steps.stream().map(e -> e.data.getString("text")).toList());
        assertTrue(steps.get(5).nanos - steps.get(0).nanos > Duration.ofSeconds(2).toNanos(),
                "the lines came as they were printed, not all at the end");
        Event end = events.get(events.size() - 1);
        assertEquals("end", end.name);
        assertEquals("completed", end.data.getString("status"));
        JsonObject task = json(apiNode.get("/api/tasks/" + id).body());
        assertEquals("output-worker", task.getString("workerId"), "it ran on the other node");

        // resuming after step 3 gives the rest and ends at once: the task is over
        List<Event> rest = follow(apiNode, id, steps.get(2).id);
        assertEquals(List.of("step 4", "step 5", "step 6"), rest.stream().filter(e -> e.name.equals("output"))
                .map(e -> e.data.getString("text")).toList());
        assertEquals("end", rest.get(rest.size() - 1).name);
    }

    @Test
    void badOutputQueriesAreRefusedClearly() throws Exception {
        long id = submit(worker, "{\"executor\": \"simulated\", \"prompt\": \"x\", \"options\": {\"durationMs\": 0}}");
        HttpResponse<String> bad = worker.get("/api/tasks/" + id + "/output?after=-1");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("after must be a whole number from 0"), bad.body());
        assertEquals(400, worker.get("/api/tasks/" + id + "/output?limit=501").statusCode());
        assertEquals(404, worker.get("/api/tasks/987654321/output").statusCode());
        assertEquals(404, worker.get("/api/tasks/987654321/output/stream").statusCode());
    }

    @Test
    void aFinishedTaskIsRetriedAsANewAttemptOfTheSameTask() throws Exception {
        long id = submit(worker, "{\"executor\": \"simulated\", \"prompt\": \"fails\", \"maxAttempts\": 1,"
                + " \"options\": {\"durationMs\": 10, \"outcome\": \"failure\"}}");
        assertEquals("failed", awaitFinal(worker, id).getString("status"));

        HttpResponse<String> retried = apiNode.post("/api/tasks/" + id + "/retry", "");
        assertEquals(202, retried.statusCode(), retried.body());
        JsonObject task = awaitFinal(worker, id);
        assertEquals("failed", task.getString("status"));
        assertEquals(2, task.getInt("attempt"));
        assertEquals(2, task.getInt("maxAttempts"), "one more run of as many attempts as it was submitted with");
        List<String> outcomes = task.getJsonArray("attempts").getValuesAs(JsonObject.class).stream()
                .map(a -> a.getInt("attempt") + ":" + a.getString("outcome") + "@" + a.getString("worker"))
                .toList();
        assertEquals(List.of("1:failed@output-worker", "2:failed@output-worker"), outcomes);

        long running = submit(worker, "{\"executor\": \"simulated\", \"prompt\": \"runs\", \"options\": {\"durationMs\": 3000}}");
        HttpResponse<String> refused = worker.post("/api/tasks/" + running + "/retry", "");
        assertEquals(409, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("only completed, failed or cancelled tasks can be retried"), refused.body());
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    record Event(String name, String id, JsonObject data, long nanos) {
    }

    /** Reads the task's SSE stream until it closes; fails if it does not within a minute. */
    static List<Event> follow(MicroNode node, long id, String lastEventId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(node.uri("/api/tasks/" + id + "/output/stream"))
                .header("Authorization", "Bearer " + MicroNode.TOKEN).header("Accept", "text/event-stream")
                .timeout(Duration.ofMinutes(1));
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<java.util.stream.Stream<String>> response = HttpClient.newHttpClient()
                .send(request.build(), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, response.statusCode());
        List<Event> events = new CopyOnWriteArrayList<>();
        String[] name = {null};
        String[] eventId = {null};
        StringBuilder data = new StringBuilder();
        response.body().forEach(line -> {
            if (line.isEmpty()) {
                if (name[0] != null) {
                    events.add(new Event(name[0], eventId[0], json(data.toString()), System.nanoTime()));
                }
                name[0] = null;
                eventId[0] = null;
                data.setLength(0);
            } else if (line.startsWith("event:")) {
                name[0] = line.substring(6).trim();
            } else if (line.startsWith("id:")) {
                eventId[0] = line.substring(3).trim();
            } else if (line.startsWith("data:")) {
                data.append(line.substring(5).trim());
            }
        });
        return new ArrayList<>(events);
    }

    static int indexOf(List<JsonObject> items, String kind, String text) {
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i).getString("kind").equals(kind) && items.get(i).getString("text").contains(text)) {
                return i;
            }
        }
        throw new AssertionError("no " + kind + " with '" + text + "' in " + items.stream()
                .map(i -> i.getString("kind") + ": " + i.getString("text")).collect(Collectors.joining("\n")));
    }

    static List<JsonObject> output(MicroNode node, long id) throws Exception {
        List<JsonObject> all = new ArrayList<>();
        long after = 0;
        while (true) {
            JsonObject page = json(node.get("/api/tasks/" + id + "/output?limit=500&after=" + after).body());
            List<JsonObject> items = page.getJsonArray("items").getValuesAs(JsonObject.class);
            if (items.isEmpty()) {
                return all;
            }
            all.addAll(items);
            after = page.getJsonNumber("next").longValue();
        }
    }

    static long submit(MicroNode node, String json) throws Exception {
        HttpResponse<String> response = node.post("/api/tasks", json);
        assertEquals(201, response.statusCode(), response.body());
        return json(response.body()).getJsonNumber("id").longValue();
    }

    static JsonObject awaitFinal(MicroNode node, long id) {
        JsonObject[] last = {null};
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = json(node.get("/api/tasks/" + id).body());
            return last[0].getString("status").matches("completed|failed|cancelled");
        });
        return last[0];
    }

    static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            JsonValue v = reader.readValue();
            return v instanceof JsonObject o ? o : Json.createObjectBuilder().add("value", v).build();
        }
    }
}
