package dev.agentturbo.tasks.boundary;

import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A corpus of malformed and hostile requests against a real node: every one is answered with a 4xx and
 * problem+json, nothing is stored, and the node stays healthy with its memory bounded.
 */
class HostileRequestsIT {

    static TestDatabase db;
    static MicroNode node;
    /** The corpus comes from a submitter: what a client of the API may send. */
    static String submitter;

    /** One request of the corpus. */
    record Hostile(String what, String method, String path, String contentType, Supplier<byte[]> body) {
    }

    @BeforeAll
    static void startNode() {
        db = TestDatabase.create("hostile");
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.put("AGENTTURBO_WORKER_SLOTS", "1");
        env.put("AGENTTURBO_COMMAND_ALLOWED", "/usr/bin/cat");
        node = MicroNode.start("hostile", env);
        try {
            var made = node.post("/api/tokens", "{\"name\": \"hostile-client\", \"role\": \"submitter\"}");
            submitter = jakarta.json.Json.createReader(new java.io.StringReader(made.body())).readObject().getString("token");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
        if (db != null) {
            db.close();
        }
    }

    @Test
    void everyHostileRequestIsRefusedWithAProblemAndNothingIsStored() throws Exception {
        List<Hostile> corpus = corpus();
        assertTrue(corpus.size() >= 200, "the corpus has " + corpus.size() + " requests");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<String> wrong = new ArrayList<>();
        Map<Integer, Integer> statuses = new java.util.TreeMap<>();
        for (Hostile h : corpus) {
            HttpRequest.Builder request = HttpRequest.newBuilder(node.uri(h.path())).timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + submitter);
            if (h.contentType() != null) {
                request.header("Content-Type", h.contentType());
            }
            byte[] body = h.body() == null ? null : h.body().get();
            request.method(h.method(), body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
            HttpResponse<String> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                // a node may close the connection on a body it refused before reading it all
                if (body != null && body.length > 10_000_000) {
                    statuses.merge(413, 1, Integer::sum);
                    continue;
                }
                wrong.add(h.what() + ": " + e);
                continue;
            }
            statuses.merge(response.statusCode(), 1, Integer::sum);
            String type = response.headers().firstValue("Content-Type").orElse("");
            // a URL with an encoded NUL is refused by the HTTP server itself, before the application: 400, its own body
            boolean byServer = h.path().contains("%00") && response.statusCode() == 400;
            if (response.statusCode() < 400 || response.statusCode() >= 500
                    || !(type.startsWith("application/problem+json") || byServer)) {
                wrong.add(h.what() + ": " + response.statusCode() + " " + type + " "
                        + response.body().substring(0, Math.min(200, response.body().length())));
            }
        }
        System.out.println(corpus.size() + " hostile requests, answered " + statuses);

        assertEquals(List.of(), wrong);
        assertEquals(0, new TaskRows(db.dataSource()).count("true"), "nothing stored");
        assertEquals(200, node.get("/api/workers").statusCode(), "the node still answers");
        long rss = rssMb(node.pid());
        System.out.println("resident memory of the node after the corpus: " + rss + " MB (java -Xmx384m)");
        assertTrue(rss < 1000, "resident memory " + rss + " MB");
    }

    static List<Hostile> corpus() {
        List<Hostile> c = new ArrayList<>();
        String json = "application/json";
        // not JSON at all, or broken JSON
        for (String broken : List.of("", " ", "{", "}", "[", "]", "{]", "[}", "{\"prompt\": }", "{\"prompt\" \"x\"}",
                "{prompt: \"x\"}", "{'prompt': 'x'}", "{\"prompt\": \"x\",}", "{\"prompt\": \"x\"} trailing",
                "{\"prompt\": \"x\"}{\"prompt\": \"y\"}", "{\"prompt\": \"x", "{\"prompt\": \"x\\q\"}", "{\"prompt\": NaN}",
                "{\"prompt\": Infinity}", "{\"prompt\": undefined}", "// comment\n{\"prompt\": \"x\"}", "null", "true",
                "42", "\"a string\"", "[1, 2, 3]", "{\"prompt\": \"\\uZZZZ\"}", "{\"prompt\": \"x\", \"prompt\": \"y\"}",
                "{\"\": \"x\"}", "\uFEFF{\"prompt\": \"bom\"}", "{\"prompt\": \"tab\there\"}", "{\"prompt\": 1e99999}",
                "{\"prompt\": -}", "{\"prompt\": 01}", "{\"prompt\": .5}", "{\"prompt\": \"x\"", "<task/>",
                "prompt=x", "{\"prompt\": [\"x\"]}", "{\"prompt\": {\"text\": \"x\"}}")) {
            c.add(new Hostile("broken " + broken, "POST", "/api/tasks", json, () -> bytes(broken)));
            c.add(new Hostile("broken batch " + broken, "POST", "/api/tasks/batch", json, () -> bytes("[" + broken + "]")));
        }
        // fields of the wrong kind or out of bounds
        for (String task : List.of("{\"prompt\": 5}", "{\"prompt\": null}", "{\"prompt\": \"   \"}", "{\"prompt\": true}",
                "{\"prompt\": \"x\", \"priority\": \"high\"}", "{\"prompt\": \"x\", \"priority\": 1001}",
                "{\"prompt\": \"x\", \"priority\": -1001}", "{\"prompt\": \"x\", \"priority\": 1.5}",
                "{\"prompt\": \"x\", \"priority\": 99999999999999999999999}", "{\"prompt\": \"x\", \"maxAttempts\": 0}",
                "{\"prompt\": \"x\", \"maxAttempts\": 21}", "{\"prompt\": \"x\", \"maxAttempts\": -1}",
                "{\"prompt\": \"x\", \"maxAttempts\": \"3\"}", "{\"prompt\": \"x\", \"timeoutSeconds\": 0}",
                "{\"prompt\": \"x\", \"timeoutSeconds\": 86401}", "{\"prompt\": \"x\", \"timeoutSeconds\": 1e3}",
                "{\"prompt\": \"x\", \"executor\": \"nope\"}", "{\"prompt\": \"x\", \"executor\": 7}",
                "{\"prompt\": \"x\", \"executor\": \"\"}", "{\"prompt\": \"x\", \"options\": []}",
                "{\"prompt\": \"x\", \"options\": \"{}\"}", "{\"prompt\": \"x\", \"options\": {\"model\": 3}}",
                "{\"prompt\": \"x\", \"options\": {\"unknown\": 1}}", "{\"prompt\": \"x\", \"options\": {\"maxTurns\": 0}}",
                "{\"prompt\": \"x\", \"options\": {\"maxTurns\": 10001}}", "{\"prompt\": \"x\", \"options\": {\"allowedTools\": [1]}}",
                "{\"prompt\": \"x\", \"options\": {\"allowedTools\": [\"\"]}}",
                "{\"prompt\": \"x\", \"options\": {\"permissionMode\": \"bypassPermissions\"}}",
                "{\"prompt\": \"x\", \"options\": {\"permissionMode\": \"yolo\"}}",
                "{\"prompt\": \"x\", \"options\": {\"workingDirectory\": \"/etc\"}}",
                "{\"prompt\": \"x\", \"options\": {\"workingDirectory\": \"relative\"}}",
                "{\"prompt\": \"x\", \"options\": {\"workingDirectory\": \"/tmp/../etc\"}}",
                "{\"prompt\": \"x\", \"options\": {\"workingDirectory\": \"/\"}}",
                "{\"prompt\": \"x\", \"executor\": \"command\"}",
                "{\"prompt\": \"x\", \"executor\": \"command\", \"options\": {\"command\": \"cat\"}}",
                "{\"prompt\": \"x\", \"executor\": \"command\", \"options\": {\"command\": \"/bin/sh\"}}",
                "{\"prompt\": \"x\", \"executor\": \"command\", \"options\": {\"command\": \"/usr/bin/cat\", \"args\": 5}}",
                "{\"prompt\": \"x\", \"executor\": \"simulated\", \"options\": {\"durationMs\": -1}}",
                "{\"prompt\": \"x\", \"executor\": \"simulated\", \"options\": {\"outcome\": \"maybe\"}}",
                "{\"prompt\": \"x\", \"idempotencyKey\": \"\"}", "{\"prompt\": \"x\", \"idempotencyKey\": 5}",
                "{\"prompt\": \"x\", \"idempotencyKey\": \"" + "k".repeat(201) + "\"}",
                "{\"prompt\": \"x\", \"idempotencyKey\": \"line\\nbreak\"}", "{\"prompt\": \"x\", \"unknown\": 1}",
                "{\"prompt\": \"x\", \"submittedBy\": \"someone\"}", "{\"prompt\": \"x\", \"status\": \"completed\"}",
                "{\"prompt\": \"x\", \"id\": 1}")) {
            c.add(new Hostile("field " + task, "POST", "/api/tasks", json, () -> bytes(task)));
        }
        // what PostgreSQL cannot store, and what is no Unicode
        for (String text : List.of("{\"prompt\": \"nul \\u0000 here\"}", "{\"prompt\": \"nul \\U0000\"}",
                "{\"prompt\": \"x\", \"options\": {\"model\": \"a\\u0000b\"}}", "{\"prompt\": \"lone \\ud800\"}",
                "{\"prompt\": \"lone \\udc00\"}", "{\"prompt\": \"reversed \\udc00\\ud800\"}",
                "{\"prompt\": \"x\", \"options\": {\"model\": \"\\ud83d\"}}")) {
            c.add(new Hostile("unstorable " + text, "POST", "/api/tasks", json, () -> bytes(text)));
        }
        c.add(new Hostile("raw NUL", "POST", "/api/tasks", json, () -> bytes("{\"prompt\": \"a\u0000b\"}")));
        for (int[] bad : new int[][]{{0xFF}, {0xC0, 0xAF}, {0xE0, 0x80, 0xAF}, {0xED, 0xA0, 0x80}, {0xF8, 0x88, 0x80, 0x80, 0x80},
                {0x80}, {0xC3}, {0xE2, 0x82}, {0xF0, 0x9F, 0x98}, {0xFE, 0xFF}}) {
            c.add(new Hostile("invalid UTF-8 " + java.util.Arrays.toString(bad), "POST", "/api/tasks", json,
                    () -> withBytes("{\"prompt\": \"", bad, "\"}")));
        }
        // nested too deeply, anywhere
        for (int depth : new int[]{33, 100, 1_000, 100_000}) {
            c.add(new Hostile("nested arrays " + depth, "POST", "/api/tasks", json,
                    () -> bytes("{\"prompt\": " + "[".repeat(depth) + "]".repeat(depth) + "}")));
            c.add(new Hostile("nested options " + depth, "POST", "/api/tasks", json,
                    () -> bytes("{\"prompt\": \"x\", \"options\": " + "{\"a\":".repeat(depth) + "1" + "}".repeat(depth + 1))));
            c.add(new Hostile("nested batch " + depth, "POST", "/api/tasks/batch", json,
                    () -> bytes("[".repeat(depth) + "]".repeat(depth))));
        }
        // too big
        c.add(new Hostile("prompt over the limit", "POST", "/api/tasks", json,
                () -> bytes("{\"prompt\": \"" + "p".repeat(200_001) + "\"}")));
        c.add(new Hostile("options over the limit", "POST", "/api/tasks", json,
                () -> bytes("{\"prompt\": \"x\", \"options\": {\"model\": \"" + "m".repeat(20_001) + "\"}}")));
        c.add(new Hostile("appendSystemPrompt over one argument", "POST", "/api/tasks", json,
                () -> bytes("{\"prompt\": \"x\", \"options\": {\"appendSystemPrompt\": \"" + "é".repeat(70_000) + "\"}}")));
        c.add(new Hostile("body of 11 MB", "POST", "/api/tasks", json, () -> bytes("{\"prompt\": \"" + "x".repeat(11_000_000) + "\"}")));
        c.add(new Hostile("batch of 60 MB", "POST", "/api/tasks/batch", json, () -> bytes(IntStream.range(0, 300)
                .mapToObj(i -> "{\"prompt\": \"" + "y".repeat(199_000) + "\"}").collect(Collectors.joining(",", "[", "]")))));
        c.add(new Hostile("batch of 1001", "POST", "/api/tasks/batch", json, () -> bytes(IntStream.range(0, 1001)
                .mapToObj(i -> "{\"prompt\": \"b\"}").collect(Collectors.joining(",", "[", "]")))));
        c.add(new Hostile("empty batch", "POST", "/api/tasks/batch", json, () -> bytes("[]")));
        c.add(new Hostile("batch with one bad", "POST", "/api/tasks/batch", json,
                () -> bytes("[{\"prompt\": \"a\"}, {\"prompt\": \"b\", \"priority\": 5000}]")));
        c.add(new Hostile("batch with a repeated key", "POST", "/api/tasks/batch", json,
                () -> bytes("[{\"prompt\": \"a\", \"idempotencyKey\": \"k\"}, {\"prompt\": \"b\", \"idempotencyKey\": \"k\"}]")));
        // the wrong media types and methods
        for (String type : List.of("text/plain", "application/xml", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x", "application/octet-stream")) {
            c.add(new Hostile("content type " + type, "POST", "/api/tasks", type, () -> bytes("{\"prompt\": \"x\"}")));
        }
        c.add(new Hostile("no content type", "POST", "/api/tasks", null, () -> bytes("{\"prompt\": \"x\"}")));
        for (String method : List.of("PUT", "DELETE", "PATCH")) {
            c.add(new Hostile(method + " tasks", method, "/api/tasks", json, () -> bytes("{\"prompt\": \"x\"}")));
            c.add(new Hostile(method + " a task", method, "/api/tasks/1", json, () -> bytes("{}")));
        }
        // queries, paths and headers
        for (String query : List.of("limit=-1", "limit=0", "limit=501", "limit=abc", "limit=1e9", "status=bogus",
                "status=running%00", "cursor=abc", "cursor=-1", "cursor=99999999999999999999", "limit=%00", "status=pending%27--")) {
            c.add(new Hostile("query " + query, "GET", "/api/tasks?" + query, null, null));
        }
        for (String id : List.of("abc", "-1", "0", "1.5", "99999999999999999999", "1%20OR%201=1", "%00", "1e3")) {
            c.add(new Hostile("task id " + id, "GET", "/api/tasks/" + id, null, null));
            c.add(new Hostile("cancel id " + id, "POST", "/api/tasks/" + id + "/cancel", json, () -> bytes("")));
        }
        for (String path : List.of("/api/nothing", "/api/tasks/1/nothing", "/api/workers/x/y", "/api/../api/tasks/x")) {
            c.add(new Hostile("path " + path, "GET", path, null, null));
        }
        return c;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] withBytes(String before, int[] raw, String after) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(bytes(before));
        for (int b : raw) {
            out.write(b);
        }
        out.writeBytes(bytes(after));
        return out.toByteArray();
    }

    static long rssMb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }
}
