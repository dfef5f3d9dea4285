package dev.agentturbo.fleet;

import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Concurrency keys and dependencies on a fleet of two nodes (three slots each), through the API: no more tasks of a
 * key run at once, across both nodes, than its limit (sampled from the database while they run), while tasks of
 * other keys and tasks without one run beside them; a fan-out and fan-in runs each task only after what it waits
 * for completed; a failure cancels what waits for it; cycles and unknown tasks are refused.
 */
class KeysAndDependenciesIT {

    static TestDatabase db;
    static MicroNode a;
    static MicroNode b;

    @BeforeAll
    static void start() {
        db = TestDatabase.create("keys_dependencies");
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.put("AGENTTURBO_WORKER_SLOTS", "3");
        env.put("AGENTTURBO_CONCURRENCY_LIMITS", "repo:B=2");
        var na = java.util.concurrent.CompletableFuture.supplyAsync(() -> MicroNode.start("keys-a", env));
        var nb = java.util.concurrent.CompletableFuture.supplyAsync(() -> MicroNode.start("keys-b", env));
        a = na.join();
        b = nb.join();
    }

    @AfterAll
    static void stop() {
        Closing.all(a, b, db);
    }

    @Test
    void noKeyRunsMoreThanItsLimitAcrossTheFleetAndOtherWorkRunsBeside() throws Exception {
        StringBuilder batch = new StringBuilder("[");
        for (int i = 0; i < 8; i++) {
            batch.append(task("A " + i, 400, "\"concurrencyKey\": \"repo:A\"")).append(',');
            batch.append(task("B " + i, 400, "\"concurrencyKey\": \"repo:B\"")).append(',');
        }
        for (int i = 0; i < 8; i++) {
            batch.append(task("free " + i, 200, null)).append(i < 7 ? "," : "]");
        }
        HttpResponse<String> stored = a.post("/api/tasks/batch", batch.toString());
        assertEquals(201, stored.statusCode(), stored.body());
        List<Long> ids = json(stored.body()).getJsonArray("tasks").getValuesAs(JsonObject.class).stream()
                .map(i -> i.getJsonNumber("id").longValue()).toList();
        String ours = " id BETWEEN " + ids.get(0) + " AND " + ids.get(ids.size() - 1);

        Map<String, Integer> most = new TreeMap<>();
        Instant until = Instant.now().plus(Duration.ofSeconds(90));
        int samples = 0;
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            boolean left = true;
            while (left && Instant.now().isBefore(until)) {
                left = false;
                try (ResultSet rs = s.executeQuery("SELECT coalesce(concurrency_key, '-'), count(*) FILTER (WHERE"
                        + " status = 'running'), count(*) FILTER (WHERE status <> 'completed') FROM agent_tasks WHERE"
                        + ours + " GROUP BY 1")) {
                    while (rs.next()) {
                        most.merge(rs.getString(1), rs.getInt(2), Math::max);
                        left |= rs.getInt(3) > 0;
                    }
                }
                samples++;
                Thread.sleep(10);
            }
        }
        assertEquals(0, count("status <> 'completed' AND" + ours), "all 24 completed");
        assertEquals(24, count("status = 'completed' AND attempt = 1 AND" + ours), "each once");
        assertTrue(samples > 50, samples + " samples");
        assertEquals(1, most.get("repo:A"), "most running at once, by key: " + most);
        assertEquals(2, most.get("repo:B"), "most running at once, by key (limit 2 reached, never passed): " + most);
        assertTrue(most.getOrDefault("-", 0) >= 2, "tasks without a key ran beside them: " + most);
        // no head-of-line blocking: the tasks without a key did not wait for the keyed ones
        Instant lastFree = instant("SELECT max(completed_at) FROM agent_tasks WHERE concurrency_key IS NULL AND" + ours);
        Instant lastA = instant("SELECT max(started_at) FROM agent_tasks WHERE concurrency_key = 'repo:A'");
        assertTrue(lastFree.isBefore(lastA), "free tasks done at " + lastFree + ", last A started at " + lastA);
        List<String> workers = strings("SELECT DISTINCT assigned_worker_id FROM agent_tasks WHERE" + ours);
        assertEquals(2, workers.size(), "both nodes claimed from the batch, each under the same limits: " + workers);
    }

    @Test
    void aFanOutAndFanInRunsEachTaskAfterWhatItWaitsFor() throws Exception {
        String batch = "[" + task("root", 3000, null) + ","
                + task("left", 300, "\"dependsOn\": [\"#0\"]") + ","
                + task("right", 300, "\"dependsOn\": [\"#0\"]") + ","
                + task("join", 100, "\"dependsOn\": [\"#1\", \"#2\"]") + "]";
        HttpResponse<String> stored = b.post("/api/tasks/batch", batch);
        assertEquals(201, stored.statusCode(), stored.body());
        List<Long> ids = json(stored.body()).getJsonArray("tasks").getValuesAs(JsonObject.class).stream()
                .map(i -> i.getJsonNumber("id").longValue()).toList();

        // the root runs 3 s: long enough, on a loaded machine, to find the join still waiting
        JsonObject join = task(ids.get(3));
        assertEquals("blocked", join.getString("status"), join.toString());
        assertEquals(List.of(ids.get(1), ids.get(2)), longs(join.getJsonArray("dependsOn")));
        assertEquals(List.of(ids.get(1), ids.get(2)), longs(join.getJsonArray("waitingFor")));

        await().atMost(Duration.ofSeconds(60)).until(() -> task(ids.get(3)).getString("status").equals("completed"));
        JsonObject done = task(ids.get(3));
        assertEquals(List.of(), longs(done.getJsonArray("waitingFor")));
        Map<Long, List<Long>> waits = Map.of(ids.get(1), List.of(ids.get(0)), ids.get(2), List.of(ids.get(0)),
                ids.get(3), List.of(ids.get(1), ids.get(2)));
        for (Map.Entry<Long, List<Long>> w : waits.entrySet()) {
            Instant started = Instant.parse(task(w.getKey()).getString("startedAt"));
            for (long before : w.getValue()) {
                Instant completed = Instant.parse(task(before).getString("completedAt"));
                assertFalse(started.isBefore(completed), "task " + w.getKey() + " started " + started
                        + " before task " + before + " completed " + completed);
            }
        }
        Instant left = Instant.parse(task(ids.get(1)).getString("startedAt"));
        Instant right = Instant.parse(task(ids.get(2)).getString("startedAt"));
        assertTrue(Duration.between(left, right).abs().toMillis() < 300, "the two branches ran side by side: "
                + left + ", " + right);
    }

    @Test
    void aFailureCancelsWhatWaitsForItAndSubmissionsThatCouldNeverRunAreRefused() throws Exception {
        String batch = "[" + "{\"prompt\": \"breaks\", \"executor\": \"simulated\", \"maxAttempts\": 1,"
                + " \"options\": {\"durationMs\": 50, \"outcome\": \"failure\"}}" + ","
                + task("after it", 10, "\"dependsOn\": [\"#0\"]") + ","
                + task("after that", 10, "\"dependsOn\": [\"#1\"]") + "]";
        HttpResponse<String> stored = a.post("/api/tasks/batch", batch);
        assertEquals(201, stored.statusCode(), stored.body());
        List<Long> ids = json(stored.body()).getJsonArray("tasks").getValuesAs(JsonObject.class).stream()
                .map(i -> i.getJsonNumber("id").longValue()).toList();
        await().atMost(Duration.ofSeconds(30)).until(() -> task(ids.get(2)).getString("status").equals("cancelled"));
        assertEquals("failed", task(ids.get(0)).getString("status"));
        assertEquals("dependency " + ids.get(0) + " failed: simulated failure after 50 ms",
                task(ids.get(1)).getString("error"));
        assertEquals("dependency " + ids.get(1) + " cancelled: dependency " + ids.get(0)
                + " failed: simulated failure after 50 ms", task(ids.get(2)).getString("error"));

        HttpResponse<String> retry = a.post("/api/tasks/" + ids.get(1) + "/retry", "");
        assertEquals(409, retry.statusCode(), retry.body());
        assertEquals("task " + ids.get(1) + " waits for task " + ids.get(0) + " failed, so it could never run; retry"
                + " that task first", json(retry.body()).getString("detail"));

        long before = count("true");
        HttpResponse<String> cycle = b.post("/api/tasks/batch", "[" + task("x", 10, "\"dependsOn\": [\"#1\"]") + ","
                + task("y", 10, "\"dependsOn\": [\"#0\"]") + "]");
        assertEquals(400, cycle.statusCode(), cycle.body());
        assertTrue(cycle.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
        assertEquals("[0].dependsOn: items #0 → #1 → #0 wait for each other in a cycle, so none could ever run;"
                + " remove one of these dependencies", json(cycle.body()).getJsonArray("errors").getString(0));

        HttpResponse<String> failed = b.post("/api/tasks", task("z", 10, "\"dependsOn\": [" + ids.get(0) + ", 987654]"));
        assertEquals(400, failed.statusCode(), failed.body());
        assertEquals(List.of("dependsOn: task " + ids.get(0) + " failed, so this task could never run; retry task "
                        + ids.get(0) + " first, or leave it out", "dependsOn: task 987654 does not exist"),
                json(failed.body()).getJsonArray("errors").getValuesAs(jakarta.json.JsonString.class).stream()
                        .map(jakarta.json.JsonString::getString).toList());
        assertEquals(before, count("true"), "nothing stored");
    }

    private static String task(String prompt, int ms, String more) {
        return "{\"prompt\": \"" + prompt + "\", \"executor\": \"simulated\", \"options\": {\"durationMs\": " + ms + "}"
                + (more == null ? "" : ", " + more) + "}";
    }

    static JsonObject task(long id) throws Exception {
        HttpResponse<String> r = a.get("/api/tasks/" + id);
        assertEquals(200, r.statusCode(), r.body());
        return json(r.body());
    }

    static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
    }

    static List<Long> longs(JsonArray array) {
        return array.getValuesAs(jakarta.json.JsonNumber.class).stream().map(jakarta.json.JsonNumber::longValue).toList();
    }

    static long count(String where) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM agent_tasks WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static Instant instant(String sql) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }

    static List<String> strings(String sql) throws Exception {
        List<String> all = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                all.add(rs.getString(1));
            }
        }
        return all;
    }
}
