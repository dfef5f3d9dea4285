package dev.agentturbo.fleet;

import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rolling deploy of the release jar over three nodes on one machine ("hosts" simulated by folders and ports, as
 * {@code payara/deploy.sh FOLDER:PORT} runs them) while tasks are submitted all the time: no submission is refused,
 * every task runs exactly once, and the fleet never stops taking work.
 * <p>
 * The nodes run {@code target/agent-turbo-micro.jar} as built by {@code mvn package}: {@code java -jar … --port N},
 * configured by environment variables, started by the script itself. The new release is the same jar with another
 * version in its WAR, so {@code /api/workers} shows which nodes run it. Submissions go round robin to the nodes whose
 * {@code /health/ready} answered 200 at the last check (every 250 ms), as a load balancer does.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RollingDeployIT {

    static final int NODES = 3;
    /** Two nodes carry the load alone (16 slots for about 15 agents at a time) while the third restarts. */
    static final int SLOTS = 8;
    static final Duration SUBMIT_EVERY = Duration.ofMillis(150);
    /** A restart here takes 40 to 100 s: a gap between task starts shorter than this means no one waited for one. */
    static final Duration LONGEST_ALLOWED_GAP = Duration.ofSeconds(10);

    static final Path BUILD = Path.of(System.getProperty("agentturbo.war", "target/agent-turbo.war")).toAbsolutePath()
            .getParent();
    static final Path ROOT = BUILD.resolve("rolling");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static TestDatabase db;
    static final List<Path> folders = new ArrayList<>();
    static final List<Integer> ports = new ArrayList<>();

    @BeforeAll
    static void startFleet() throws Exception {
        db = TestDatabase.create("rolling");
        deleteTree(ROOT);
        for (int i = 1; i <= NODES; i++) {
            Path folder = Files.createDirectories(ROOT.resolve("node-" + i));
            int port = freePort();
            Files.writeString(folder.resolve("env"), String.join("\n",
                    "# written by RollingDeployIT",
                    "DB_URL=" + db.url(), "DB_USER=" + TestDatabase.USER, "DB_PASSWORD=" + TestDatabase.PASSWORD,
                    "AGENTTURBO_WORKER_ID=rolling-" + i, "AGENTTURBO_WORKER_SLOTS=" + SLOTS,
                    "AGENTTURBO_WORKER_WORK_DIR=" + folder.resolve("work"),
                    "AGENTTURBO_BOOTSTRAP_TOKEN=" + MicroNode.TOKEN, "AGENTTURBO_ADMIN_PASSWORD=test-admin-password",
                    "JAVA_OPTS=-Xmx384m " + (Boolean.getBoolean("agentturbo.node.fullJit") ? "" : "-XX:TieredStopAtLevel=1"),
                    ""));
            // tests listen on the loopback address only
            Files.writeString(folder.resolve("pre-boot.asadmin"), "set configs.config.server-config.network-config"
                    + ".network-listeners.network-listener.http-listener.address=127.0.0.1\n");
            folders.add(folder);
            ports.add(port);
        }
        // the script starts a node in a folder where none runs: three at once, as hosts of a fleet boot
        Path release = BUILD.resolve("agent-turbo-micro.jar");
        List<Process> starts = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            starts.add(deployScript(ROOT.resolve("start-" + (i + 1) + ".log"), release, node(i)));
        }
        for (int i = 0; i < NODES; i++) {
            assertTrue(starts.get(i).waitFor(15, TimeUnit.MINUTES), "start of node " + (i + 1) + " hangs");
            assertEquals(0, starts.get(i).exitValue(), Files.readString(ROOT.resolve("start-" + (i + 1) + ".log")));
        }
    }

    @AfterAll
    static void stopFleet() throws Exception {
        List<ProcessHandle> running = new ArrayList<>();
        for (Path folder : folders) {
            Path pid = folder.resolve("node.pid");
            if (Files.exists(pid)) {
                ProcessHandle.of(Long.parseLong(Files.readString(pid).strip())).ifPresent(running::add);
            }
        }
        running.forEach(ProcessHandle::destroy);
        for (ProcessHandle p : running) {
            try {
                p.onExit().get(90, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        }
        if (db != null) {
            db.close();
        }
    }

    @Test
    @Order(1)
    void aDeployWhoseDrainIsRefusedStopsThereAndLeavesTheNodesAsTheyWere() throws Exception {
        long pid = Long.parseLong(Files.readString(folders.get(0).resolve("node.pid")).strip());
        List<String> before = versions();
        Path next = newRelease(BUILD.resolve("agent-turbo-micro.jar"), before.get(0) + "-refused");
        Path log = ROOT.resolve("refused.log");
        Process deploy = deployScript(log, "not-a-token-of-this-fleet", next, node(0), node(1));
        assertTrue(deploy.waitFor(5, TimeUnit.MINUTES));
        String output = Files.readString(log);
        assertEquals(1, deploy.exitValue(), output);
        assertTrue(output.contains("rolling-1: the drain was refused (401)") && !output.contains("node-2"), output);
        assertEquals(pid, Long.parseLong(Files.readString(folders.get(0).resolve("node.pid")).strip()));
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "node 1 still runs");
        assertTrue(Files.notExists(folders.get(0).resolve("agent-turbo-micro.jar.previous")), "its jar not replaced");
        assertTrue(Files.notExists(folders.get(0).resolve("agent-turbo-micro.jar.new")), "nothing left staged");
        assertEquals(before, versions());
    }

    @Test
    @Order(2)
    void aRollingDeployUnderSteadySubmissionsRefusesNoneLosesNoneRunsNoneTwiceAndNeverStopsTheFleet() throws Exception {
        String oldVersion = versions().get(0);
        assertEquals(List.of(oldVersion, oldVersion, oldVersion), versions(), "three nodes run the release jar");
        String newVersion = oldVersion + "-rolling-" + System.currentTimeMillis() % 100_000;
        Path next = newRelease(BUILD.resolve("agent-turbo-micro.jar"), newVersion);

        LoadBalancer balancer = new LoadBalancer();
        Submitter submitter = new Submitter(balancer);
        ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
        timers.scheduleWithFixedDelay(balancer::check, 0, 250, TimeUnit.MILLISECONDS);
        Thread.sleep(1_000);
        timers.scheduleAtFixedRate(submitter::submitOne, 0, SUBMIT_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        Thread.sleep(10_000);

        Instant deployStarted = Instant.now();
        Path deployLog = ROOT.resolve("deploy.log");
        Process deploy = deployScript(deployLog, next, node(0), node(1), node(2));
        boolean ended = deploy.waitFor(30, TimeUnit.MINUTES);
        Instant deployEnded = Instant.now();
        Thread.sleep(10_000);
        // not shutdownNow: an interrupted submission may have been stored without its answer read
        timers.shutdown();
        assertTrue(timers.awaitTermination(60, TimeUnit.SECONDS));
        String log = Files.readString(deployLog);
        System.out.println(log);
        assertTrue(ended, "deploy.sh did not end within 30 minutes");
        assertEquals(0, deploy.exitValue(), "deploy.sh failed:\n" + log);

        assertEquals(List.of(newVersion, newVersion, newVersion), versions(), "every node runs the new release");
        // every answer was 2xx, and there was always a ready node to send it to
        assertEquals(List.of(), submitter.refused, "refused submissions");
        assertEquals(0, submitter.noNodeReady.get(), "moments with no ready node to submit to");
        List<Long> ids = List.copyOf(submitter.accepted);
        assertTrue(ids.size() > 100, "submitted " + ids.size());

        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> count("status NOT IN ('completed', 'failed', 'cancelled')") == 0);
        assertEquals(ids.size(), count("true"), "no task but the submitted ones");
        assertEquals(ids.size(), count("status = 'completed' AND attempt = 1 AND id = ANY(?)", ids), "none lost");
        // task_attempts gets one row per run (written by the database when a task leaves 'running')
        assertEquals(ids.size(), longQuery("SELECT count(*) FROM task_attempts WHERE outcome = 'completed'"));
        assertEquals(0, longQuery("SELECT count(*) FROM (SELECT task_id FROM task_attempts GROUP BY task_id"
                + " HAVING count(*) <> 1) twice"), "a task ran more than once");

        Duration gap = longestGapBetweenStarts(deployStarted, deployEnded);
        Map<String, Long> runsByNode = runsByNode();
        String figures = figures(log, ids.size(), submitter, gap, runsByNode,
                Duration.between(deployStarted, deployEnded), longQuery(
                        "SELECT (1000 * max(extract(epoch FROM started_at - created_at)))::bigint FROM agent_tasks"));
        System.out.println(figures);
        Files.writeString(ROOT.resolve("figures.txt"), figures);
        assertTrue(gap.compareTo(LONGEST_ALLOWED_GAP) < 0, "the fleet stopped taking work for " + gap);
        for (int i = 1; i <= NODES; i++) {
            assertTrue(runsByNode.getOrDefault("rolling-" + i, 0L) > 0, "rolling-" + i + " ran tasks: " + runsByNode);
        }
    }

    /** Round robin over the nodes whose /health/ready said 200 at the last check. */
    static final class LoadBalancer {
        final AtomicBoolean[] ready = new AtomicBoolean[NODES];
        final AtomicInteger cursor = new AtomicInteger();

        LoadBalancer() {
            for (int i = 0; i < NODES; i++) {
                ready[i] = new AtomicBoolean();
            }
        }

        void check() {
            for (int i = 0; i < NODES; i++) {
                try {
                    HttpRequest request = HttpRequest.newBuilder(uri(i, "/health/ready"))
                            .timeout(Duration.ofSeconds(2)).GET().build();
                    ready[i].set(HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
                } catch (IOException e) {
                    ready[i].set(false);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        /** The next ready node, or -1. */
        int next() {
            for (int tries = 0; tries < NODES; tries++) {
                int i = Math.floorMod(cursor.getAndIncrement(), NODES);
                if (ready[i].get()) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** One task per call, to the node the balancer picks; every answer but 201 is a refusal. */
    static final class Submitter {
        final LoadBalancer balancer;
        final List<Long> accepted = new CopyOnWriteArrayList<>();
        final List<String> refused = new CopyOnWriteArrayList<>();
        final AtomicInteger noNodeReady = new AtomicInteger();
        final Map<Integer, AtomicInteger> perNode = new ConcurrentHashMap<>();
        final AtomicInteger sequence = new AtomicInteger();

        Submitter(LoadBalancer balancer) {
            this.balancer = balancer;
        }

        void submitOne() {
            int n = sequence.incrementAndGet();
            int node = balancer.next();
            if (node < 0) {
                noNodeReady.incrementAndGet();
                return;
            }
            String json = "{\"prompt\":\"rolling " + n + "\",\"executor\":\"simulated\",\"options\":{\"durationMs\":"
                    + (1500 + n % 4 * 500) + "}}";
            try {
                HttpRequest request = HttpRequest.newBuilder(uri(node, "/api/tasks")).timeout(Duration.ofSeconds(30))
                        .header("Authorization", "Bearer " + MicroNode.TOKEN).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json)).build();
                HttpResponse<String> answer = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
                if (answer.statusCode() == 201) {
                    try (var reader = jakarta.json.Json.createReader(new StringReader(answer.body()))) {
                        accepted.add(reader.readObject().getJsonNumber("id").longValue());
                    }
                    perNode.computeIfAbsent(node + 1, k -> new AtomicInteger()).incrementAndGet();
                } else {
                    refused.add(Instant.now() + " node-" + (node + 1) + ": " + answer.statusCode() + " " + answer.body());
                }
            } catch (IOException e) {
                refused.add(Instant.now() + " node-" + (node + 1) + ": " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The release jar with another version in its WAR (WEB-INF/classes/agent-turbo-version.properties), everything
     * else as {@code mvn package} built it.
     */
    static Path newRelease(Path release, String version) throws IOException {
        Path dir = Files.createDirectories(ROOT.resolve("next"));
        Path jar = Files.copy(release, dir.resolve("agent-turbo-micro.jar"), StandardCopyOption.REPLACE_EXISTING);
        Path war = dir.resolve("agent-turbo.war");
        try (FileSystem outer = FileSystems.newFileSystem(jar)) {
            Path nested = outer.getPath("MICRO-INF/deploy/agent-turbo.war");
            Files.copy(nested, war, StandardCopyOption.REPLACE_EXISTING);
            try (FileSystem inner = FileSystems.newFileSystem(war)) {
                Path properties = inner.getPath("WEB-INF/classes/agent-turbo-version.properties");
                assertTrue(Files.readString(properties).startsWith("version="), "the version file of the WAR");
                Files.writeString(properties, "version=" + version + "\n");
            }
            Files.copy(war, nested, StandardCopyOption.REPLACE_EXISTING);
        }
        return jar;
    }

    /** The versions the three nodes report in /api/workers, in node order. */
    static List<String> versions() throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(uri(0, "/api/workers"))
                .header("Authorization", "Bearer " + MicroNode.TOKEN).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        List<String> versions = new ArrayList<>(Collections.nCopies(NODES, "none"));
        try (var reader = jakarta.json.Json.createReader(new StringReader(body))) {
            for (var w : reader.readObject().getJsonArray("workers").getValuesAs(jakarta.json.JsonObject.class)) {
                Matcher m = Pattern.compile("rolling-(\\d)").matcher(w.getString("id"));
                if (m.matches() && "active".equals(w.getString("state"))) {
                    versions.set(Integer.parseInt(m.group(1)) - 1, w.getString("version"));
                }
            }
        }
        return versions;
    }

    /** The longest time between two consecutive task starts (any node) from {@code from} to {@code to}. */
    static Duration longestGapBetweenStarts(Instant from, Instant to) throws SQLException {
        List<Instant> starts = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection();
             var s = c.prepareStatement("SELECT started_at FROM task_attempts WHERE started_at BETWEEN ? AND ?"
                     + " ORDER BY started_at")) {
            s.setTimestamp(1, Timestamp.from(from));
            s.setTimestamp(2, Timestamp.from(to));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    starts.add(rs.getTimestamp(1).toInstant());
                }
            }
        }
        starts.add(0, from);
        starts.add(to);
        Duration longest = Duration.ZERO;
        for (int i = 1; i < starts.size(); i++) {
            Duration gap = Duration.between(starts.get(i - 1), starts.get(i));
            if (gap.compareTo(longest) > 0) {
                longest = gap;
            }
        }
        return longest;
    }

    static Map<String, Long> runsByNode() throws SQLException {
        Map<String, Long> runs = new java.util.TreeMap<>();
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT worker, count(*) FROM task_attempts GROUP BY worker")) {
            while (rs.next()) {
                runs.put(rs.getString(1), rs.getLong(2));
            }
        }
        return runs;
    }

    static String figures(String log, int submitted, Submitter submitter, Duration gap, Map<String, Long> runs,
                          Duration deploy, long longestWaitMillis) {
        StringBuilder out = new StringBuilder("rolling deploy over " + NODES + " nodes: whole deploy "
                + deploy.toSeconds() + " s\n");
        Matcher m = Pattern.compile("(?m)^\\[deploy] \\S+ (\\S+): (node \\S+ has no agent running \\(drained in \\d+ s\\)"
                + "|node \\S+ ready after \\d+ s|done in \\d+ s)").matcher(log);
        while (m.find()) {
            out.append("  ").append(m.group(1).replaceAll(".*/", "")).append(": ").append(m.group(2)
                    .replaceAll(" \\(version.*", "")).append('\n');
        }
        out.append("submissions: ").append(submitted).append(" accepted (one every ").append(SUBMIT_EVERY.toMillis())
                .append(" ms), ").append(submitter.refused.size()).append(" refused, per node ")
                .append(submitter.perNode).append('\n');
        out.append("runs per node (task_attempts): ").append(runs).append('\n');
        out.append("longest gap between task starts during the deploy: ").append(gap.toMillis()).append(" ms\n");
        out.append("longest wait of a task from submission to start: ").append(longestWaitMillis).append(" ms\n");
        return out.toString();
    }

    static Process deployScript(Path log, Path jar, String... nodes) throws IOException {
        return deployScript(log, MicroNode.TOKEN, jar, nodes);
    }

    static Process deployScript(Path log, String token, Path jar, String... nodes) throws IOException {
        List<String> command = new ArrayList<>(List.of("bash", Path.of("payara/deploy.sh").toAbsolutePath().toString(),
                jar.toString()));
        command.addAll(List.of(nodes));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // the nodes get their settings from their folder's env file, not from this JVM (failsafe sets some)
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("AGENTTURBO_") || k.startsWith("DB_"));
        env.put("AGENTTURBO_TOKEN", token);
        env.put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        env.put("READY_SECONDS", Integer.getInteger("payara.startupTimeoutInSeconds", 300).toString());
        return pb.start();
    }

    static String node(int i) {
        return folders.get(i) + ":" + ports.get(i);
    }

    static URI uri(int node, String path) {
        try {
            return new URI("http://127.0.0.1:" + ports.get(node) + path);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static long count(String where) throws SQLException {
        return longQuery("SELECT count(*) FROM agent_tasks WHERE " + where);
    }

    static long count(String where, List<Long> ids) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
             var s = c.prepareStatement("SELECT count(*) FROM agent_tasks WHERE " + where)) {
            s.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static long longQuery(String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
