package dev.agentturbo.ops;

import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.Prometheus;
import dev.agentturbo.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real node's metrics, read back through Debian's real Prometheus scraping its {@code /metrics} every second:
 * tasks of the {@code simulated} executor complete, fail (once at once, once after a retry) and are cancelled
 * while running, and the counters, the queue's depth, the slot gauges and the timers say exactly that.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsIT {

    private static final String SECRET = "metrics-it-prompt-text-that-must-not-show";
    private static final Duration SCRAPED = Duration.ofSeconds(20);

    static TestDatabase db;
    static MicroNode node;
    static Prometheus prometheus;

    @BeforeAll
    static void start() {
        db = TestDatabase.create("metrics");
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        env.put("AGENTTURBO_WORKER_SLOTS", "2");
        env.put("AGENTTURBO_RETRY_BASE_MILLIS", "200");
        node = MicroNode.start("metrics-node", env);
        prometheus = Prometheus.scraping("metrics-it", node.uri("/metrics"));
    }

    @AfterAll
    static void stop() {
        Closing.all(prometheus, node, db);
    }

    @Test
    @Order(1)
    void prometheusScrapesTheNodeWithoutAToken() throws Exception {
        HttpResponse<String> metrics = node.get("/metrics", null);
        assertEquals(200, metrics.statusCode(), metrics.body());
        assertTrue(metrics.body().contains("agentturbo_slots_running"), metrics.body());
        await().atMost(SCRAPED).until(prometheus::targetUp);
        awaitValue("sum(agentturbo_slots_running)", 2);
        awaitValue("sum(agentturbo_slots_busy)", 0);
        awaitValue("sum(agentturbo_tasks_submitted_total)", 0);
        awaitValue("sum(agentturbo_queue_tasks{status=\"pending\"})", 0);
    }

    @Test
    @Order(2)
    void countersGaugesAndTimersSayWhatHappened() throws Exception {
        long running = node.submit("{\"executor\": \"simulated\", \"prompt\": \"" + SECRET + " long\","
                + " \"options\": {\"durationMs\": 60000}}");
        await().atMost(Duration.ofSeconds(10)).until(() -> node.status(running).equals("running"));
        awaitValue("sum(agentturbo_slots_busy)", 1);
        awaitValue("sum(agentturbo_queue_tasks{status=\"running\"})", 1);
        assertEquals(202, node.post("/api/tasks/" + running + "/cancel", "").statusCode());

        List<Long> ids = new ArrayList<>(List.of(running));
        for (int i = 0; i < 5; i++) {
            ids.add(node.submit("{\"executor\": \"simulated\", \"prompt\": \"" + SECRET + " " + i + "\","
                    + " \"options\": {\"durationMs\": 100}}"));
        }
        ids.add(node.submit("{\"executor\": \"simulated\", \"prompt\": \"" + SECRET + " fails\","
                + " \"options\": {\"outcome\": \"failure\"}, \"maxAttempts\": 1}"));
        ids.add(node.submit("{\"executor\": \"simulated\", \"prompt\": \"" + SECRET + " fails twice\","
                + " \"options\": {\"outcome\": \"failure\", \"durationMs\": 10}, \"maxAttempts\": 2}"));
        await().atMost(Duration.ofSeconds(60)).until(() -> ids.stream().allMatch(MetricsIT::finished));

        // 8 tasks: 5 completed, 2 failed (one after a retry), 1 cancelled while running; 9 attempts claimed
        awaitValue("sum(agentturbo_tasks_submitted_total)", 8);
        awaitValue("sum(agentturbo_tasks_completed_total)", 5);
        awaitValue("sum(agentturbo_tasks_failed_total)", 2);
        awaitValue("sum(agentturbo_tasks_cancelled_total)", 1);
        awaitValue("sum(agentturbo_tasks_retried_total)", 1);
        awaitValue("sum(agentturbo_tasks_claimed_total)", 9);
        awaitValue("sum(agentturbo_tasks_released_total)", 0);
        awaitValue("sum(agentturbo_leases_expired_total)", 0);
        awaitValue("sum(agentturbo_tasks_completed_total{executor=\"simulated\"})", 5);

        awaitValue("sum(agentturbo_queue_tasks{status=\"completed\"})", 5);
        awaitValue("sum(agentturbo_queue_tasks{status=\"failed\"})", 2);
        awaitValue("sum(agentturbo_queue_tasks{status=\"cancelled\"})", 1);
        awaitValue("sum(agentturbo_queue_tasks{status=\"running\"})", 0);
        awaitValue("sum(agentturbo_queue_tasks{status=\"pending\"})", 0);
        awaitValue("sum(agentturbo_slots_busy)", 0);
        awaitValue("sum(agentturbo_slots_running)", 2);
        awaitValue("sum(agentturbo_executors_paused)", 0);

        awaitValue("sum(agentturbo_agent_run_seconds_count)", 9);
        awaitValue("sum(agentturbo_task_pickup_seconds_count)", 8);
        double claims = prometheus.value("sum(agentturbo_claim_seconds_count)").orElse(0);
        assertTrue(claims >= 1, "claim statements timed: " + claims);
        double ran = prometheus.value("sum(agentturbo_agent_run_seconds_sum)").orElse(0);
        assertTrue(ran >= 0.5, "5 × 100 ms and the cancelled one at least: " + ran);
    }

    @Test
    @Order(3)
    void metricsShowNoTaskContent() throws Exception {
        String metrics = node.get("/metrics", null).body();
        // kept beside Prometheus's log, to read what a node prints
        java.nio.file.Files.writeString(prometheus.log().resolveSibling("metrics.txt"), metrics);
        assertTrue(metrics.contains("agentturbo_tasks_completed_total"), metrics);
        assertFalse(metrics.contains(SECRET), "no prompt in the metrics");
        assertFalse(metrics.matches("(?s).*agentturbo_[a-z_]+\\{[^}]*(task|id)=.*"), "no task id as a label");
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    /** Waits until Prometheus answers exactly this value (it scrapes every second). */
    static void awaitValue(String promQl, double expected) {
        OptionalDouble[] last = {OptionalDouble.empty()};
        try {
            await().atMost(SCRAPED).pollInterval(Duration.ofMillis(250)).until(() -> {
                last[0] = prometheus.value(promQl);
                return last[0].isPresent() && last[0].getAsDouble() == expected;
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(promQl + ": expected " + expected + ", Prometheus answers " + last[0]
                    + " (see " + prometheus.log() + ")", e);
        }
    }

    static boolean finished(long id) {
        try {
            return List.of("completed", "failed", "cancelled").contains(node.status(id));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
