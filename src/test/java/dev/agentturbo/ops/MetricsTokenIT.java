package dev.agentturbo.ops;

import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.Prometheus;
import dev.agentturbo.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node with {@code AGENTTURBO_METRICS_TOKEN}: Debian's real Prometheus scrapes {@code /metrics} with the token as a
 * bearer token, Basic authentication with it as the password is let in too, and a request without it or with another
 * gets 401 (problem+json, with the challenges); the token opens nothing else.
 */
class MetricsTokenIT {

    private static final String TOKEN = "metrics-token-for-prometheus-0123";

    static TestDatabase db;
    static MicroNode node;
    static Prometheus prometheus;

    @BeforeAll
    static void start() {
        db = TestDatabase.create("metrics_token");
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.put("AGENTTURBO_WORKER_SLOTS", "1");
        env.put("AGENTTURBO_METRICS_TOKEN", TOKEN);
        node = MicroNode.start("metrics-token", env);
        prometheus = Prometheus.scraping("metrics-token-it", node.uri("/metrics"), TOKEN);
    }

    @AfterAll
    static void stop() {
        Closing.all(prometheus, node, db);
    }

    @Test
    void prometheusScrapesWithTheTokenAndARequestWithoutItIsRefused() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(prometheus::targetUp);
        await().atMost(Duration.ofSeconds(30)).until(() -> prometheus.value("sum(agentturbo_slots_running)").orElse(-1) == 1);

        HttpResponse<String> bare = node.get("/metrics", null);
        assertEquals(401, bare.statusCode(), bare.body());
        assertEquals("application/problem+json", bare.headers().firstValue("Content-Type").orElse("").split(";")[0]);
        assertTrue(bare.body().contains("AGENTTURBO_METRICS_TOKEN"), "says what to send: " + bare.body());
        assertTrue(bare.headers().firstValue("WWW-Authenticate").orElse("").contains("Bearer"), bare.headers().toString());
        assertTrue(bare.headers().firstValue("WWW-Authenticate").orElse("").contains("Basic"), bare.headers().toString());
        assertEquals(401, node.get("/metrics", TOKEN + "x").statusCode(), "another token");
        assertEquals(401, node.get("/metrics/application", null).statusCode(), "every path under /metrics");
        assertEquals(401, node.get("/metrics", MicroNode.TOKEN).statusCode(), "an API token is not the metrics token");

        HttpResponse<String> bearer = node.get("/metrics", TOKEN);
        assertEquals(200, bearer.statusCode());
        assertTrue(bearer.body().contains("agentturbo_slots_running"), bearer.body());
        assertEquals(200, basic("prometheus", TOKEN).statusCode(), "Basic, the token as password");
        assertEquals(401, basic("prometheus", "wrong-password-0123456789").statusCode());
    }

    @Test
    void theTokenOpensNothingElse() throws Exception {
        assertEquals(401, node.get("/api/tasks", TOKEN).statusCode(), "not an API token");
        assertEquals(200, node.get("/health/ready", null).statusCode(), "health needs no token");
    }

    private static HttpResponse<String> basic(String user, String password) throws Exception {
        String pair = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(node.uri("/metrics"))
                .header("Authorization", "Basic " + pair).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
