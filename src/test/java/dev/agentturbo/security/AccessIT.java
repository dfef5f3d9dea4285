package dev.agentturbo.security;

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

import java.io.IOException;
import java.io.StringReader;
import java.net.CookieManager;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who may do what, on two real nodes sharing one database: every endpoint for an anonymous caller, a bad token
 * and each role; submitters see only their own tasks; a token revoked on one node is refused at once on the
 * other; the console's form login; failed attempts are limited.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AccessIT {

    static TestDatabase db;
    static MicroNode a;
    static MicroNode b;
    static final Map<String, String> TOKENS = new LinkedHashMap<>();
    static long tokenIdOfSubmitter2;

    @BeforeAll
    static void startNodes() throws Exception {
        db = TestDatabase.create("access");
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.put("AGENTTURBO_WORKER_SLOTS", "0"); // nothing runs: the tasks stay where the table expects them
        Map<String, String> lenient = new HashMap<>(env);
        lenient.put("AGENTTURBO_SECURITY_MAX_FAILURES_PER_MINUTE", "1000"); // the table sends many bad tokens
        CompletableFuture<MicroNode> na = CompletableFuture.supplyAsync(() -> MicroNode.start("access-a", lenient));
        CompletableFuture<MicroNode> nb = CompletableFuture.supplyAsync(() -> MicroNode.start("access-b", env));
        a = na.join();
        b = nb.join();
        for (String[] t : new String[][]{{"viewer", "viewer"}, {"submitter", "submitter"}, {"submitter2", "submitter"},
                {"operator", "operator"}}) {
            var made = a.post("/api/tokens", "{\"name\": \"" + t[0] + "\", \"role\": \"" + t[1] + "\"}");
            assertEquals(201, made.statusCode(), made.body());
            JsonObject token = json(made.body());
            assertTrue(token.getString("token").startsWith("at_"));
            TOKENS.put(t[0], token.getString("token"));
            if (t[0].equals("submitter2")) {
                tokenIdOfSubmitter2 = token.getJsonNumber("id").longValue();
            }
        }
    }

    @AfterAll
    static void stopNodes() {
        for (MicroNode n : new MicroNode[]{a, b}) {
            if (n != null) {
                n.close();
            }
        }
        if (db != null) {
            db.close();
        }
    }

    @Test
    @Order(1)
    void everyEndpointAnswersEachCallerAsItsRoleAllows() throws Exception {
        long task = id(a.post("/api/tasks", "{\"prompt\": \"mine\"}", TOKENS.get("submitter")));
        long other = id(a.post("/api/tasks", "{\"prompt\": \"to cancel\"}", TOKENS.get("submitter")));
        long tokenToRevoke = json(a.post("/api/tokens", "{\"name\": \"spare\", \"role\": \"viewer\"}").body())
                .getJsonNumber("id").longValue();
        String task1 = "/api/tasks/" + task;
        // callers:                      anonymous, bad token, viewer, submitter, operator
        List<Object[]> table = List.of(
                row("GET", "/api/tasks", null, 401, 401, 200, 200, 200),
                row("POST", "/api/tasks", "{\"prompt\": \"p\"}", 401, 401, 403, 201, 201),
                row("POST", "/api/tasks/batch", "[{\"prompt\": \"p\"}]", 401, 401, 403, 201, 201),
                row("GET", task1, null, 401, 401, 200, 200, 200),
                row("GET", "/api/workers", null, 401, 401, 200, 200, 200),
                row("GET", "/api/stats", null, 401, 401, 200, 200, 200),
                row("GET", "/api/tokens", null, 401, 401, 403, 403, 200),
                row("GET", "/api/users", null, 401, 401, 403, 403, 200),
                row("POST", "/api/users", "{\"name\": \"u%d\", \"password\": \"a-long-password\", \"role\": \"viewer\"}",
                        401, 401, 403, 403, 201),
                row("POST", "/api/tokens", "{\"name\": \"t%d\", \"role\": \"viewer\"}", 401, 401, 403, 403, 201),
                row("DELETE", "/api/tokens/" + tokenToRevoke, null, 401, 401, 403, 403, 204),
                row("DELETE", "/api/users/u4", null, 401, 401, 403, 403, 204),
                row("POST", "/api/tasks/" + other + "/cancel", "", 401, 401, 403, 200, 200),
                // the submitter's retry queues it again: the operator's finds it not finished
                row("POST", "/api/tasks/" + other + "/retry", "", 401, 401, 403, 202, 409),
                row("GET", task1 + "/output", null, 401, 401, 200, 200, 200),
                row("GET", "/api/workers/access-a", null, 401, 401, 200, 200, 200),
                row("GET", "/api/limits", null, 401, 401, 200, 200, 200),
                row("POST", "/api/limits/987654/lift", "", 401, 401, 403, 403, 404),
                row("POST", "/api/workers/access-a/drain", "", 401, 401, 403, 403, 202),
                row("POST", "/api/workers/access-a/resume", "", 401, 401, 403, 403, 202),
                row("PUT", "/api/workers/access-a", "{\"slots\": 0}", 401, 401, 403, 403, 202),
                row("GET", "/api/nothing", null, 401, 401, 404, 404, 404));
        List<String> callers = new ArrayList<>(List.of("anonymous", "bad"));
        callers.addAll(List.of("viewer", "submitter", "operator"));
        List<String> wrong = new ArrayList<>();
        for (Object[] r : table) {
            for (int i = 0; i < callers.size(); i++) {
                String caller = callers.get(i);
                String token = switch (caller) {
                    case "anonymous" -> null;
                    case "bad" -> "at_not-a-token-of-this-fleet";
                    default -> TOKENS.get(caller);
                };
                String body = r[2] == null ? null : ((String) r[2]).replace("%d", Integer.toString(i));
                HttpResponse<String> response = a.send((String) r[0], (String) r[1], body, token);
                int expected = (Integer) r[3 + i];
                if (response.statusCode() != expected) {
                    wrong.add(r[0] + " " + r[1] + " as " + caller + ": " + response.statusCode() + " (expected " + expected
                            + ") " + response.body());
                }
                if (expected >= 400 && !response.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json")) {
                    wrong.add(r[0] + " " + r[1] + " as " + caller + ": not problem+json");
                }
                if (expected == 401 && !response.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer")) {
                    wrong.add(r[0] + " " + r[1] + " as " + caller + ": 401 without WWW-Authenticate: Bearer");
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    @Order(2)
    void aSubmitterSeesAndCancelsOnlyItsOwnTasks() throws Exception {
        long mine = id(a.post("/api/tasks", "{\"prompt\": \"one's own\"}", TOKENS.get("submitter")));
        long theirs = id(a.post("/api/tasks", "{\"prompt\": \"another's\"}", TOKENS.get("submitter2")));

        assertEquals("token:submitter", json(a.get("/api/tasks/" + mine).body()).getString("submittedBy"));
        assertEquals(404, a.get("/api/tasks/" + theirs, TOKENS.get("submitter")).statusCode());
        assertEquals(404, a.post("/api/tasks/" + theirs + "/cancel", "", TOKENS.get("submitter")).statusCode());
        assertEquals(404, a.post("/api/tasks/" + theirs + "/retry", "", TOKENS.get("submitter")).statusCode());
        assertEquals(404, a.get("/api/tasks/" + theirs + "/output", TOKENS.get("submitter")).statusCode());
        var waitsForTheirs = a.post("/api/tasks", "{\"prompt\": \"after theirs\", \"dependsOn\": [" + theirs + "]}",
                TOKENS.get("submitter"));
        assertEquals(400, waitsForTheirs.statusCode(), "may wait only for its own tasks");
        assertEquals("dependsOn: task " + theirs + " does not exist", json(waitsForTheirs.body()).getString("detail"));
        assertEquals("pending", json(a.get("/api/tasks/" + theirs).body()).getString("status"));
        List<String> listed = json(a.get("/api/tasks?limit=500", TOKENS.get("submitter")).body()).getJsonArray("items")
                .stream().map(JsonValue::asJsonObject).map(t -> t.getString("submittedBy")).distinct().toList();
        assertEquals(List.of("token:submitter"), listed);
        assertTrue(json(a.get("/api/tasks?limit=500", TOKENS.get("viewer")).body()).getJsonArray("items").size() > listed.size());
        assertEquals(200, a.post("/api/tasks/" + mine + "/cancel", "", TOKENS.get("submitter")).statusCode());
    }

    @Test
    @Order(3)
    void onlyAnOperatorMayAskForAPrivilegedPermissionMode() throws Exception {
        String bypass = "{\"prompt\": \"p\", \"options\": {\"permissionMode\": \"bypassPermissions\"}}";
        var refused = a.post("/api/tasks", bypass, TOKENS.get("submitter"));
        assertEquals(400, refused.statusCode());
        assertTrue(refused.body().contains("operator"), refused.body());
        assertEquals(201, a.post("/api/tasks", bypass, TOKENS.get("operator")).statusCode());
    }

    @Test
    @Order(4)
    void aTokenRevokedOnOneNodeIsRefusedAtOnceOnAnother() throws Exception {
        assertEquals(200, b.get("/api/workers", TOKENS.get("submitter2")).statusCode());
        var listed = json(a.get("/api/tokens").body()).getJsonArray("tokens");
        assertFalse(listed.toString().contains(TOKENS.get("submitter2")), "no secret is listed");

        assertEquals(204, a.send("DELETE", "/api/tokens/" + tokenIdOfSubmitter2, null, MicroNode.TOKEN).statusCode());

        assertEquals(401, b.get("/api/workers", TOKENS.get("submitter2")).statusCode());
        assertEquals(401, a.get("/api/workers", TOKENS.get("submitter2")).statusCode());
    }

    @Test
    @Order(5)
    void theConsoleSignsUsersInAndOutWithAFormAndASession() throws Exception {
        assertEquals(201, a.post("/api/users", "{\"name\": \"dana\", \"password\": \"dana-password-1\", \"role\": \"submitter\"}")
                .statusCode());
        HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).build();

        var anonymous = browser.send(HttpRequest.newBuilder(a.uri("/console/")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(302, anonymous.statusCode());
        assertTrue(anonymous.headers().firstValue("Location").orElse("").endsWith("/console/login.html"));
        var page = browser.send(HttpRequest.newBuilder(a.uri("/console/login.html")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode());

        var wrong = login(browser, "dana", "not her password");
        assertTrue(wrong.headers().firstValue("Location").orElse("").endsWith("login.html?failed"), wrong.headers().toString());
        var right = login(browser, "dana", "dana-password-1");
        assertEquals(302, right.statusCode());
        assertTrue(right.headers().firstValue("Location").orElse("").endsWith("/console/"), right.headers().toString());

        var home = browser.send(HttpRequest.newBuilder(a.uri("/console/")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, home.statusCode());
        assertTrue(home.body().contains("user:dana") && home.body().contains("submitter"), home.body());
        var api = browser.send(HttpRequest.newBuilder(a.uri("/api/workers")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, api.statusCode(), "the API answers the console's session");
        var tokens = browser.send(HttpRequest.newBuilder(a.uri("/api/tokens")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, tokens.statusCode(), "as the user's role allows");

        // a page of another site can neither sign the user out nor sign a browser in
        var foreignSignOut = browser.send(HttpRequest.newBuilder(a.uri("/console/logout")).header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, foreignSignOut.statusCode());
        assertEquals(200, browser.send(HttpRequest.newBuilder(a.uri("/console/")).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode(), "still signed in");
        HttpClient victim = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).build();
        var forged = victim.send(HttpRequest.newBuilder(a.uri("/console/login")).header("Origin", "http://evil.example")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=dana&password=dana-password-1")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(forged.headers().firstValue("Location").orElse("").endsWith("login.html?failed"), forged.headers().toString());

        browser.send(HttpRequest.newBuilder(a.uri("/console/logout")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(302, browser.send(HttpRequest.newBuilder(a.uri("/console/")).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode(), "signed out");
        assertEquals(401, browser.send(HttpRequest.newBuilder(a.uri("/api/workers")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    @Order(6)
    void aClientThatKeepsFailingIsRefusedForTheRestOfTheMinute() throws Exception {
        // on node b only: the limit counts per client address, and the tests all come from 127.0.0.1
        int refusedAt = -1;
        for (int i = 1; i <= 12 && refusedAt < 0; i++) {
            var response = b.get("/api/workers", "at_wrong-" + i);
            if (response.statusCode() == 429) {
                refusedAt = i;
                assertTrue(response.headers().firstValue("Retry-After").isPresent());
                assertTrue(response.body().contains("too many"), response.body());
            } else {
                assertEquals(401, response.statusCode());
            }
        }
        assertTrue(refusedAt > 1 && refusedAt <= 11, "refused after at most 10 failures (node b saw one before): " + refusedAt);
        assertEquals(429, b.get("/api/workers").statusCode(), "even with a good token, for the rest of the minute");
        assertEquals(200, a.get("/api/workers").statusCode(), "another node counts its own");
    }

    static HttpResponse<String> login(HttpClient browser, String user, String password) throws Exception {
        String form = "username=" + URLEncoder.encode(user, StandardCharsets.UTF_8) + "&password="
                + URLEncoder.encode(password, StandardCharsets.UTF_8);
        return browser.send(HttpRequest.newBuilder(a.uri("/console/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static Object[] row(String method, String path, String body, int... expected) {
        Object[] r = new Object[3 + expected.length];
        r[0] = method;
        r[1] = path;
        r[2] = body;
        for (int i = 0; i < expected.length; i++) {
            r[3 + i] = expected[i];
        }
        return r;
    }

    static long id(HttpResponse<String> created) {
        assertEquals(201, created.statusCode(), created.body());
        return json(created.body()).getJsonNumber("id").longValue();
    }

    static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
    }
}
