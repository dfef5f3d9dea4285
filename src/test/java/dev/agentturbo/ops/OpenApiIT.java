package dev.agentturbo.ops;

import dev.agentturbo.platform.Api;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's /openapi against the code and against the node itself: every JAX-RS resource method of the WAR (found
 * by reflection over its compiled classes) is described with its path, HTTP method and responses; every request
 * example of the document, sent to the live node, gets a documented success status and an answer that validates
 * against the documented schema, or, for an example named like one of an error response, exactly that error.
 */
class OpenApiIT {

    static TestDatabase db;
    static MicroNode node;
    static JsonObject document;
    /** A task of the node, for the paths with a task id. */
    static long taskId;

    @BeforeAll
    static void startNode() throws Exception {
        db = TestDatabase.create("openapi");
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.put("AGENTTURBO_WORKER_SLOTS", "1");
        // the first /openapi parses every class of the WAR, its libraries included: 384m is not enough (see README)
        env.put(MicroNode.HEAP, "1g");
        node = MicroNode.start("openapi", env);
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(node.uri("/openapi"))
                .header("Accept", "application/json").timeout(Duration.ofSeconds(180)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        Files.writeString(node.log().resolveSibling("openapi.json"), answer.body());
        document = json(answer.body()).asJsonObject();
        taskId = node.submit("{\"prompt\": \"described\", \"executor\": \"simulated\", \"options\": {\"durationMs\": 1}}");
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

    /** A resource method: its HTTP method, its full path, and whether it takes a body. */
    record ResourceMethod(String http, String path, Method method) {
        boolean takesBody() {
            return Stream.of(method.getParameters()).anyMatch(p -> p.getAnnotations().length == 0
                    || Stream.of(p.getAnnotations()).allMatch(a -> a.annotationType().getPackageName()
                    .startsWith("jakarta.validation")));
        }

        List<String> pathParams() {
            return Stream.of(method.getParameters()).map(p -> p.getAnnotation(PathParam.class)).filter(p -> p != null)
                    .map(PathParam::value).toList();
        }
    }

    @Test
    void everyResourceMethodIsDescribedWithItsResponses() throws Exception {
        List<ResourceMethod> methods = resourceMethods();
        assertTrue(methods.size() >= 20, "found " + methods.size() + " resource methods: " + methods);
        List<String> missing = new ArrayList<>();
        Set<String> described = new TreeSet<>();
        for (ResourceMethod m : methods) {
            String where = m.http() + " " + m.path() + " (" + m.method().getDeclaringClass().getSimpleName() + "."
                    + m.method().getName() + ")";
            JsonObject path = document.getJsonObject("paths").getJsonObject(m.path());
            JsonObject operation = path == null ? null : path.getJsonObject(m.http().toLowerCase());
            if (operation == null) {
                missing.add(where + ": not described");
                continue;
            }
            described.add(m.http().toLowerCase() + " " + m.path());
            JsonObject responses = operation.getJsonObject("responses");
            if (responses == null || responses.keySet().stream().noneMatch(code -> code.startsWith("2"))) {
                missing.add(where + ": no success response");
            } else if (responses.keySet().stream().anyMatch(code -> code.startsWith("4"))
                    && responses.entrySet().stream().filter(e -> e.getKey().startsWith("4")).anyMatch(e ->
                    !e.getValue().asJsonObject().getJsonObject("content").containsKey("application/problem+json"))) {
                missing.add(where + ": an error response that is no application/problem+json");
            }
            if (operation.getString("summary", "").isBlank()) {
                missing.add(where + ": no summary");
            }
            for (String name : m.pathParams()) {
                boolean has = operation.containsKey("parameters") && operation.getJsonArray("parameters").stream()
                        .map(JsonValue::asJsonObject).anyMatch(p -> name.equals(p.getString("name"))
                                && "path".equals(p.getString("in")));
                if (!has) {
                    missing.add(where + ": path parameter " + name + " not described");
                }
            }
            if (m.takesBody()) {
                JsonObject body = operation.getJsonObject("requestBody");
                JsonObject content = body == null ? null : body.getJsonObject("content");
                JsonObject json = content == null ? null : content.getJsonObject("application/json");
                if (json == null || !json.containsKey("schema") || !json.containsKey("examples")) {
                    missing.add(where + ": its body is not described with a schema and examples");
                }
            }
        }
        assertEquals(List.of(), missing);
        // and nothing is described that does not exist
        Set<String> documented = new TreeSet<>();
        document.getJsonObject("paths").forEach((path, item) -> item.asJsonObject().keySet().stream()
                .filter(k -> Set.of("get", "put", "post", "delete", "patch", "head", "options").contains(k))
                .forEach(k -> documented.add(k + " " + path)));
        assertEquals(described, documented);
        System.out.println("/openapi describes all " + methods.size() + " resource methods");
    }

    @Test
    void everyRequestExampleGetsItsDocumentedAnswer() throws Exception {
        List<String> wrong = new ArrayList<>();
        int sent = 0;
        int refused = 0;
        for (var path : document.getJsonObject("paths").entrySet()) {
            for (var op : path.getValue().asJsonObject().entrySet()) {
                JsonObject operation = op.getValue().asJsonObject();
                JsonObject body = operation.getJsonObject("requestBody");
                if (body == null) {
                    continue;
                }
                JsonObject examples = body.getJsonObject("content").getJsonObject("application/json")
                        .getJsonObject("examples");
                for (var example : examples.entrySet()) {
                    String where = op.getKey().toUpperCase() + " " + path.getKey() + " example " + example.getKey();
                    String text = text(example.getValue().asJsonObject().get("value"));
                    HttpResponse<String> answer = node.send(op.getKey().toUpperCase(), fill(path.getKey()), text,
                            MicroNode.TOKEN);
                    sent++;
                    Map.Entry<String, JsonObject> error = errorExample(operation, example.getKey());
                    if (error != null) {
                        refused++;
                        String type = answer.headers().firstValue("Content-Type").orElse("");
                        JsonObject schema = operation.getJsonObject("responses").getJsonObject(error.getKey())
                                .getJsonObject("content").getJsonObject("application/problem+json").getJsonObject("schema");
                        if (answer.statusCode() != Integer.parseInt(error.getKey()) || !type.startsWith("application/problem+json")
                                || !json(answer.body()).equals(json(text(error.getValue().get("value"))))
                                || !new SchemaCheck(document).problems(json(answer.body()), schema).isEmpty()) {
                            wrong.add(where + ": documented " + error.getKey() + " " + text(error.getValue().get("value"))
                                    + ", answered " + answer.statusCode() + " " + type + " " + answer.body());
                        }
                        continue;
                    }
                    wrong.addAll(checkAnswer(where, operation, answer));
                }
            }
        }
        assertEquals(List.of(), wrong);
        assertTrue(sent >= 10, sent + " examples sent");
        assertTrue(refused >= 5, refused + " of them documented errors");
        System.out.println(sent + " request examples sent, " + refused + " of them answered with their documented problem");
    }

    @Test
    void everyReadAnswersWhatItsSchemaSays() throws Exception {
        List<String> wrong = new ArrayList<>();
        int read = 0;
        for (var path : document.getJsonObject("paths").entrySet()) {
            JsonObject get = path.getValue().asJsonObject().getJsonObject("get");
            if (get == null || !get.getJsonObject("responses").getJsonObject("200").getJsonObject("content")
                    .containsKey("application/json")) {
                continue; // the output stream answers server-sent events
            }
            HttpResponse<String> answer = node.send("GET", fill(path.getKey()), null, MicroNode.TOKEN);
            read++;
            wrong.addAll(checkAnswer("GET " + path.getKey(), get, answer));
        }
        assertEquals(List.of(), wrong);
        assertTrue(read >= 8, read + " reads");
    }

    @Test
    void theDocumentDescribesTheBearerTokenAndTheProblemSchema() {
        JsonObject components = document.getJsonObject("components");
        JsonObject bearer = components.getJsonObject("securitySchemes").getJsonObject("bearer");
        assertEquals("http", bearer.getString("type"));
        assertEquals("bearer", bearer.getString("scheme"));
        JsonObject problem = components.getJsonObject("schemas").getJsonObject("Problem");
        assertEquals(Set.of("type", "title", "status", "detail", "errors"), problem.getJsonObject("properties").keySet());
        assertFalse(document.getJsonArray("security").isEmpty(), "every operation needs the token");
    }

    /** The answer's status is one of the operation's documented successes and its body validates against its schema. */
    private static List<String> checkAnswer(String where, JsonObject operation, HttpResponse<String> answer) {
        JsonObject response = operation.getJsonObject("responses").getJsonObject(Integer.toString(answer.statusCode()));
        if (answer.statusCode() >= 300 || response == null) {
            return List.of(where + ": answered " + answer.statusCode() + ", documented "
                    + operation.getJsonObject("responses").keySet() + ": " + answer.body());
        }
        if (!response.containsKey("content")) {
            return answer.body().isEmpty() ? List.of() : List.of(where + ": a body where none is documented");
        }
        JsonObject schema = response.getJsonObject("content").getJsonObject("application/json").getJsonObject("schema");
        List<String> problems = new SchemaCheck(document).problems(json(answer.body()), schema);
        return problems.stream().map(p -> where + " answered " + answer.statusCode() + ": " + p).toList();
    }

    /** The error response (4xx) with an example of this name, if any. */
    private static Map.Entry<String, JsonObject> errorExample(JsonObject operation, String name) {
        for (var response : operation.getJsonObject("responses").entrySet()) {
            JsonObject content = response.getValue().asJsonObject().getJsonObject("content");
            if (!response.getKey().startsWith("4") || content == null) {
                continue;
            }
            JsonObject problem = content.getJsonObject("application/problem+json");
            if (problem != null && problem.containsKey("examples") && problem.getJsonObject("examples").containsKey(name)) {
                return Map.entry(response.getKey(), problem.getJsonObject("examples").getJsonObject(name));
            }
        }
        return null;
    }

    /** A documented path with its parameters filled: a task of the node, the node itself. */
    private static String fill(String path) throws IOException {
        String filled = path;
        if (filled.startsWith("/api/tasks/")) {
            filled = filled.replace("{id}", Long.toString(taskId));
        }
        if (filled.startsWith("/api/workers/")) {
            filled = filled.replace("{id}", node.id());
        }
        assertFalse(filled.contains("{"), "no value for the parameters of " + path);
        return filled;
    }

    /** Every JAX-RS resource method in the WAR's classes. */
    static List<ResourceMethod> resourceMethods() throws Exception {
        java.nio.file.Path classes = java.nio.file.Path.of(Api.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String root = Api.class.getAnnotation(jakarta.ws.rs.ApplicationPath.class).value();
        List<ResourceMethod> found = new ArrayList<>();
        try (Stream<java.nio.file.Path> files = Files.walk(classes)) {
            for (java.nio.file.Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = classes.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class<?> type = Class.forName(name, false, OpenApiIT.class.getClassLoader());
                Path path = type.getAnnotation(Path.class);
                if (path == null || type.isInterface() || Modifier.isAbstract(type.getModifiers())) {
                    continue;
                }
                for (Method method : type.getMethods()) {
                    for (Annotation a : method.getAnnotations()) {
                        HttpMethod http = a.annotationType().getAnnotation(HttpMethod.class);
                        if (http != null) {
                            Path sub = method.getAnnotation(Path.class);
                            String full = ("/" + root + "/" + path.value() + (sub == null ? "" : "/" + sub.value()))
                                    .replaceAll("/+", "/").replaceAll("(.)/$", "$1");
                            found.add(new ResourceMethod(http.value(), full, method));
                        }
                    }
                }
            }
        }
        return found;
    }

    private static JsonValue json(String text) {
        try (var reader = Json.createReader(new StringReader(text))) {
            return reader.readValue();
        }
    }

    /** An example's value as the text to send: a string as it stands, JSON as JSON. */
    private static String text(JsonValue value) {
        return value instanceof jakarta.json.JsonString s ? s.getString() : value.toString();
    }
}
