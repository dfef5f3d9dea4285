package dev.agentturbo.fleet;

import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.PostgresCluster;
import dev.agentturbo.testing.RecordingAgent;
import dev.agentturbo.testing.TaskRows;
import jakarta.json.Json;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import java.io.IOException;
import java.io.StringReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A PostgreSQL failover under a working fleet: a primary and its streaming standby (synchronous replication, so
 * that every commit the primary acknowledged is on the standby), two nodes whose {@code db.url} names both servers
 * with {@code targetServerType=primary}, a client submitting tasks all the time. The primary is stopped mid-run
 * ({@code -Dagentturbo.failover.stop=fast}, the default, or {@code immediate}) and the standby promoted 5 s later
 * ({@code -Dagentturbo.failover.no-primary-seconds}); nothing is done to the nodes. They must find the new primary
 * by themselves, and afterwards every task the client was told was stored (every 2xx) exists, and every task ran
 * exactly once: counted by the agents themselves (a program that records its runs), and by the attempts the
 * database recorded.
 */
class FailoverIT {

    static final String STOP_MODE = System.getProperty("agentturbo.failover.stop", "fast");
    /** How long there is no primary: a failover manager takes some seconds to decide that the primary is gone. */
    static final Duration NO_PRIMARY = Duration.ofSeconds(Integer.getInteger("agentturbo.failover.no-primary-seconds", 5));
    static final int SLOTS = 3;
    static final int AGENT_SECONDS = 2;

    static PostgresCluster primary;
    static PostgresCluster standby;
    static MicroNode alpha;
    static MicroNode beta;
    static TaskRows rows;
    static Path recorder;
    static Path record;
    static String url;

    @BeforeAll
    static void primaryStandbyAndTwoNodes() throws Exception {
        primary = PostgresCluster.create("failover-primary");
        standby = primary.standby("failover-standby", true);
        url = "jdbc:postgresql://127.0.0.1:" + primary.port() + ",127.0.0.1:" + standby.port()
                + "/agentturbo?targetServerType=primary";
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(url);
        ds.setUser("agentturbo");
        ds.setPassword("agentturbo");
        ds.setConnectTimeout(5);
        rows = new TaskRows(ds);
        RecordingAgent agent = RecordingAgent.in("failover");
        record = agent.record();
        recorder = agent.program();
        CompletableFuture<MicroNode> a = CompletableFuture.supplyAsync(() -> MicroNode.start("failover-alpha", env()));
        CompletableFuture<MicroNode> b = CompletableFuture.supplyAsync(() -> MicroNode.start("failover-beta", env()));
        alpha = a.join();
        beta = b.join();
    }

    @AfterAll
    static void stopAll() {
        for (MicroNode node : new MicroNode[]{alpha, beta}) {
            if (node != null) {
                node.close();
            }
        }
        Closing.all(standby, primary);
    }

    static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("DB_URL", url);
        env.put("DB_USER", "agentturbo");
        env.put("DB_PASSWORD", "agentturbo");
        env.put("AGENTTURBO_WORKER_SLOTS", Integer.toString(SLOTS));
        env.put("AGENTTURBO_WORKER_DRAIN_GRACE_SECONDS", "2");
        env.put("AGENTTURBO_COMMAND_ALLOWED", recorder.toString());
        return env;
    }

    @Test
    void nodesCarryOnByThemselvesAfterThePrimaryStopsAndTheStandbyIsPromotedLosingNoAcknowledgedTask()
            throws Exception {
        assertEquals("sync", primary.replicationState(), "the standby streams synchronously");
        String token = submitterToken();
        Client client = new Client(token);
        Thread submitting = new Thread(client, "failover client");
        submitting.start();
        try {
            TaskRows.await(Duration.ofSeconds(90), "10 tasks completed and agents running before the failover",
                    () -> count("status = 'completed'") >= 10 && count("status = 'running'") >= 2);

            // the failover: the primary stops, the standby is promoted at once (a failover manager would first
            // make sure the old primary is down for good); the nodes are left alone
            Instant stopping = Instant.now();
            long t0 = System.nanoTime();
            primary.stop(STOP_MODE);
            Duration stopTook = since(t0);
            Instant stopped = Instant.now();
            boolean downSeen = false;
            while (since(t0).compareTo(NO_PRIMARY) < 0) {
                downSeen |= ready(alpha) == 503 || ready(beta) == 503;
                Thread.sleep(100);
            }
            long promoting = System.nanoTime();
            standby.promote();
            Duration promotedAfter = since(t0);
            while (ready(alpha) != 200 || ready(beta) != 200) {
                downSeen |= ready(alpha) == 503 || ready(beta) == 503;
                if (since(t0).compareTo(Duration.ofSeconds(90)) > 0) {
                    throw new AssertionError("the nodes are not ready 90 s after the failover");
                }
                Thread.sleep(100);
            }
            Duration readyAfter = since(t0);
            int acknowledgedAtFailover = client.acknowledged.size();
            TaskRows.await(Duration.ofSeconds(60), "both nodes claim and complete tasks on the new primary",
                    () -> workersAfter(stopped).size() == 2);
            TaskRows.await(Duration.ofSeconds(60), "the client's tasks are acknowledged again",
                    () -> client.acknowledged.size() >= acknowledgedAtFailover + 20);
            Timestamp firstClaim = (Timestamp) rows.value("SELECT min(started_at) FROM agent_tasks WHERE started_at > ?",
                    Timestamp.from(stopped));
            Duration claimAfter = Duration.between(stopping, firstClaim.toInstant());
            Duration promotionTook = Duration.ofNanos(promotedAfter.toNanos() - Duration.ofNanos(promoting - t0).toNanos());
            System.out.printf("failover (%s stop, synchronous standby, promoted %d s after the stop): stop took %d ms,"
                            + " pg_ctl promote %d ms; from the stop: first task claimed on the new primary after %d ms,"
                            + " both nodes ready after %d ms (from the promotion's end: %d ms and %d ms; DOWN seen: %s);"
                            + " %d answers 503 to the client meanwhile, first to last %d ms%n",
                    STOP_MODE, NO_PRIMARY.toSeconds(), stopTook.toMillis(), promotionTook.toMillis(),
                    claimAfter.toMillis(), readyAfter.toMillis(), claimAfter.minus(promotedAfter).toMillis(),
                    readyAfter.minus(promotedAfter).toMillis(), downSeen, client.unavailable.get(),
                    client.outage().toMillis());
            System.out.println("the 503 answers said: " + client.details);
            assertTrue(claimAfter.compareTo(Duration.ofSeconds(60)) < 0, "first claim after " + claimAfter);
        } finally {
            client.running.set(false);
            submitting.join(60_000);
        }
        assertFalse(submitting.isAlive(), "the client ended");
        assertEquals(List.of(), client.unexpected, "every answer was 201, 200 or 503");
        assertEquals(List.of(), client.badUnavailable, "every 503 was problem+json with Retry-After");
        assertTrue(client.unavailable.get() > 0, "the client met the outage (503 answers), and sent again");
        assertTrue(client.details.stream().anyMatch(d -> d.contains("same Idempotency-Key")),
                "a submission that met the outage was told to send it again with its key: " + client.details);
        Set<String> acknowledged = new TreeSet<>(client.acknowledged.keySet());

        TaskRows.await(Duration.ofMinutes(3), "every task of the client completed",
                () -> count("status <> 'completed'") == 0 && count("true") >= acknowledged.size());
        List<Map<String, Object>> tasks = rows.query("SELECT id, prompt, status, attempt FROM agent_tasks"
                + " WHERE prompt LIKE ? ORDER BY id", client.key + "-%");
        Map<String, Long> stored = tasks.stream().collect(Collectors.toMap(t -> (String) t.get("prompt"),
                t -> (Long) t.get("id")));
        assertEquals(acknowledged, new TreeSet<>(stored.keySet()), "every 2xx answer is a stored task, and only those");
        for (String prompt : acknowledged) {
            assertEquals(client.acknowledged.get(prompt), stored.get(prompt), "the id the client was given: " + prompt);
        }
        assertEquals(List.of(), tasks.stream().filter(t -> !"completed".equals(t.get("status"))
                || ((Number) t.get("attempt")).intValue() != 1).toList(), "each completed at its first attempt");
        assertEquals(List.of(), rows.query("SELECT task_id, count(*), string_agg(outcome, ',') FROM task_attempts"
                        + " WHERE task_id = ANY(?) GROUP BY task_id HAVING count(*) <> 1 OR min(outcome) <> 'completed'",
                (Object) stored.values().toArray(Long[]::new)), "one attempt recorded per task, completed");
        Map<String, Long> starts = runs("start");
        Map<String, Long> ends = runs("end");
        for (String prompt : acknowledged) {
            assertEquals(1L, starts.getOrDefault(prompt, 0L), "agent runs of " + prompt);
            assertEquals(1L, ends.getOrDefault(prompt, 0L), "agent ends of " + prompt);
        }
        assertEquals(acknowledged.size(), starts.size(), "no agent ran a task the client was not told of");
        assertEquals(SLOTS, liveSlots("failover-alpha"), "no slot lost on alpha");
        assertEquals(SLOTS, liveSlots("failover-beta"), "no slot lost on beta");
        assertFalse(primary.running(), "the old primary stays down");
        System.out.printf("after the failover: %d tasks submitted and acknowledged, each completed once%n",
                acknowledged.size());
    }

    /**
     * A client that submits one task every 200 ms, to alpha and beta in turn, each with an Idempotency-Key of its
     * own (as the operator on alpha, as a submitter on beta); a 503 is sent again (same key, the other node) after
     * 0.5 s, until it is stored. It remembers the id each key was answered with.
     */
    static final class Client implements Runnable {
        final String key = Long.toString(System.nanoTime(), 36);
        final String token;
        final AtomicBoolean running = new AtomicBoolean(true);
        final Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        final AtomicInteger unavailable = new AtomicInteger();
        final List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
        final List<String> badUnavailable = Collections.synchronizedList(new ArrayList<>());
        final Set<String> details = ConcurrentHashMap.newKeySet();
        volatile long firstUnavailable;
        volatile long lastUnavailable;
        final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        Client(String token) {
            this.token = token;
        }

        Duration outage() {
            return firstUnavailable == 0 ? Duration.ZERO : Duration.ofNanos(lastUnavailable - firstUnavailable);
        }

        @Override
        public void run() {
            int n = 0;
            while (running.get()) {
                String prompt = key + "-" + n;
                int sent = 0;
                String body = "{\"prompt\":\"" + prompt + "\",\"executor\":\"command\",\"maxAttempts\":3,"
                        + "\"options\":{\"command\":\"" + recorder + "\",\"args\":[\"" + AGENT_SECONDS + "\",\""
                        + record + "\"]}}";
                while (true) {
                    // each try on the other node (the key holds fleet-wide): on alpha the bootstrap token (no
                    // database needed to check it: the submission meets the outage), on beta a submitter's token,
                    // looked up in the database at every request
                    MicroNode node = (n + sent++) % 2 == 0 ? alpha : beta;
                    String bearer = node == alpha ? MicroNode.TOKEN : token;
                    HttpResponse<String> answer;
                    try {
                        answer = http.send(HttpRequest.newBuilder(node.uri("/api/tasks"))
                                .header("Authorization", "Bearer " + bearer)
                                .header("Content-Type", "application/json")
                                .header("Idempotency-Key", prompt)
                                .timeout(Duration.ofSeconds(30))
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                                HttpResponse.BodyHandlers.ofString());
                    } catch (IOException | InterruptedException e) {
                        unexpected.add(prompt + ": " + e);
                        return;
                    }
                    int status = answer.statusCode();
                    if (status == 201 || status == 200) {
                        acknowledged.put(prompt, Json.createReader(new StringReader(answer.body())).readObject()
                                .getJsonNumber("id").longValue());
                        break;
                    }
                    if (status != 503) {
                        unexpected.add(prompt + ": " + status + " " + answer.body());
                        return;
                    }
                    long now = System.nanoTime();
                    if (firstUnavailable == 0) {
                        firstUnavailable = now;
                    }
                    lastUnavailable = now;
                    unavailable.incrementAndGet();
                    String type = answer.headers().firstValue("Content-Type").orElse("");
                    String retryAfter = answer.headers().firstValue("Retry-After").orElse("");
                    details.add(Json.createReader(new StringReader(answer.body())).readObject().getString("detail", ""));
                    if (!type.startsWith("application/problem+json") || !retryAfter.matches("\\d+")) {
                        badUnavailable.add(prompt + ": " + type + " Retry-After " + retryAfter + " " + answer.body());
                        return;
                    }
                    pause(500); // shorter than Retry-After: the test wants to see the first moment it works again
                }
                n++;
                pause(200);
            }
        }

        private static void pause(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static String submitterToken() throws IOException {
        HttpResponse<String> created = alpha.post("/api/tokens", "{\"name\":\"failover-client\",\"role\":\"submitter\"}");
        assertEquals(201, created.statusCode(), created.body());
        return Json.createReader(new StringReader(created.body())).readObject().getString("token");
    }

    static Duration since(long t0) {
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** Tasks matching the condition; -1 while the database does not answer the test. */
    static long count(String where) {
        try {
            return rows.count(where);
        } catch (IllegalStateException e) {
            return -1;
        }
    }

    /** The workers that claimed a task after that moment (by the database's clock, on this same machine). */
    static Set<String> workersAfter(Instant moment) {
        try {
            return rows.query("SELECT DISTINCT worker FROM task_attempts WHERE started_at > ? AND outcome = 'completed'",
                    Timestamp.from(moment)).stream().map(r -> (String) r.get("worker")).collect(Collectors.toSet());
        } catch (IllegalStateException e) {
            return Set.of();
        }
    }

    /** Agent runs by task prompt, as the agents recorded them ("start" or "end"). */
    static Map<String, Long> runs(String what) throws IOException {
        List<String> lines = Files.exists(record) ? Files.readAllLines(record) : List.of();
        return lines.stream().filter(l -> l.startsWith(what + " ")).map(l -> l.split(" ")[1])
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    static int ready(MicroNode node) {
        try {
            return node.get("/health/ready").statusCode();
        } catch (IOException e) {
            return -1;
        }
    }

    static int liveSlots(String id) {
        try {
            var response = alpha.get("/api/workers");
            return Json.createReader(new StringReader(response.body())).readObject().getJsonArray("workers").stream()
                    .map(JsonValue::asJsonObject).filter(w -> w.getString("id").equals(id)).findFirst()
                    .map(w -> w.getInt("liveSlots")).orElse(-1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
