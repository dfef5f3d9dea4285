package dev.agentturbo.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One Agent Turbo node as an operator starts it: {@code java -jar payara-micro.jar --deploy agent-turbo.war}
 * on a free loopback port, configured by environment variables. Its output goes to target/nodes/ID.log.
 */
public final class MicroNode implements AutoCloseable {

    private static final Duration STARTUP = Duration.ofSeconds(Integer.getInteger("payara.startupTimeoutInSeconds", 300));
    /** The bootstrap token every test node accepts as an operator's; {@link #get} and {@link #post} send it. */
    /**
     * Test nodes compile with C1 only: they start in 18 s instead of 22 s on two cores beside other nodes, and a
     * test never runs long enough for C2 to pay off. Benchmarks (payara/benchmark.sh) ask for the full JIT.
     */
    private static final String JIT = Boolean.getBoolean("agentturbo.node.fullJit") ? "-XX:+TieredCompilation"
            : "-XX:TieredStopAtLevel=1";
        public static final String TOKEN = System.getProperty("agentturbo.test.token", "test-bootstrap-token-0123456789");

    private final String id;
    private final int port;
    private final Process process;
    private final Path log;

    private MicroNode(String id, int port, Process process, Path log) {
        this.id = id;
        this.port = port;
        this.process = process;
        this.log = log;
    }

    /** A key of a node's environment map that sets its heap (-Xmx) instead of the usual 384m, such as "1g". */
    public static final String HEAP = "TEST_NODE_HEAP";

    /**
     * Starts a node and returns once it answers HTTP.
     *
     * @param env environment of the node (DB_URL, AGENTTURBO_WORKER_SLOTS, …), added to this JVM's
     */
    public static MicroNode start(String id, Map<String, String> env) {
        return launch(id, env, true);
    }

    /**
     * Starts a node and returns once the application answers, with 200 or with 503 (database unreachable): for a
     * node whose database is not there yet.
     */
    public static MicroNode startAnswering(String id, Map<String, String> env) {
        return launch(id, env, false);
    }

    private static MicroNode launch(String id, Map<String, String> env, boolean ready) {
        try {
            return launchOnce(id, env, ready);
        } catch (DeploymentFailed e) {
            // Payara's own start sometimes fails to deploy (its security service found the main thread without a
            // context class loader, seen once in some hundred starts): not the application's doing, so once more
            System.err.println("node " + id + ": " + e.getMessage() + "; starting it once more");
            return launchOnce(id, env, ready);
        }
    }

    /** Payara Micro came up without the application: its deployment failed. */
    private static final class DeploymentFailed extends IllegalStateException {
        DeploymentFailed(String message) {
            super(message);
        }
    }

    private static MicroNode launchOnce(String id, Map<String, String> env, boolean ready) {
        Path build = Path.of(System.getProperty("agentturbo.war", "target/agent-turbo.war")).toAbsolutePath().getParent();
        Path dir = build.resolve("nodes").resolve(id);
        try {
            Files.createDirectories(dir);
            int port = freePort();
            Path preboot = dir.resolve("preboot.asadmin");
            // tests listen on the loopback address only
            Files.writeString(preboot, "set configs.config.server-config.network-config.network-listeners"
                    + ".network-listener.http-listener.address=127.0.0.1\n");
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx" + env.getOrDefault(HEAP, "384m"), "-Djava.io.tmpdir=" + dir, JIT,
                    "-jar", System.getProperty("payara.microJar", build.resolve("payara-micro.jar").toString()),
                    "--deploy", application(build).toString(), "--contextroot", "/",
                    "--port", Integer.toString(port), "--nocluster",
                    "--prebootcommandfile", preboot.toString()));
            // the node's log as operators run it (payara/logging.properties): JSON lines on stdout and in a file
            Path logging = build.resolve("agent-turbo-logging.jar");
            Path properties = build.resolveSibling("payara").resolve("logging.properties");
            if (Files.exists(logging) && Files.exists(properties)) {
                command.add(1, "-Xbootclasspath/a:" + logging);
                command.addAll(List.of("--logproperties", properties.toString()));
            }
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("node.log").toFile());
            Map<String, String> environment = new HashMap<>(env);
            environment.putIfAbsent("AGENTTURBO_WORKER_ID", id);
            environment.putIfAbsent("AGENTTURBO_WORKER_WORK_DIR", dir.resolve("work").toString());
            environment.putIfAbsent("AGENTTURBO_BOOTSTRAP_TOKEN", TOKEN);
            environment.putIfAbsent("AGENTTURBO_ADMIN_PASSWORD", "test-admin-password");
            environment.putIfAbsent("AGENTTURBO_LOG_FILE", dir.resolve("agent-turbo.log").toString());
            pb.environment().putAll(environment);
            MicroNode node = new MicroNode(id, port, pb.start(), dir.resolve("node.log"));
            node.awaitReady(ready);
            return node;
        } catch (IOException e) {
            throw new IllegalStateException("could not start node " + id, e);
        }
    }

    /**
     * What a test node deploys: the WAR's exploded folder that {@code mvn package} leaves beside it, when it is
     * there (Payara Micro deploys a folder in place, where it would first unpack the 58 MB WAR; a folder takes its
     * context root from the command line, not from glassfish-web.xml), else the WAR.
     */
    static Path application(Path build) {
        Path exploded = build.resolve("agent-turbo");
        return Files.isRegularFile(exploded.resolve("WEB-INF/web.xml"))
                ? exploded : build.resolve("agent-turbo.war");
    }

    /** The environment that points a node at a database. */
    public static Map<String, String> databaseEnv(TestDatabase db) {
        return Map.of("DB_URL", db.url(), "DB_USER", TestDatabase.USER, "DB_PASSWORD", TestDatabase.PASSWORD);
    }

    private void awaitReady(boolean ready) {
        long until = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < until) {
            if (!process.isAlive()) {
                throw new IllegalStateException("node " + id + " exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<String> answer = get("/api/workers");
                int status = answer.statusCode();
                // without its database the application answers 503 (problem+json); before it is deployed the server
                // says 404, 500 or a 503 of its own
                boolean ours = answer.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json");
                // a node is ready (its health says so) once its dispatcher reached the database and its slots run
                if ((status == 200 && (!ready || get("/health/ready").statusCode() == 200))
                        || (!ready && status == 503 && ours)) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (deploymentFailed()) {
                kill();
                Path kept = log.resolveSibling("node-failed-deployment.log");
                try {
                    Files.move(log, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    kept = log;
                }
                throw new DeploymentFailed("Payara did not deploy the application (see " + kept + ")");
            }
            sleep(500);
        }
        dumpThreads();
        kill();
        throw new IllegalStateException("node " + id + " did not answer within " + STARTUP + "; see " + log
                + " (it ends with the node's threads)");
    }

    /** Whether Payara said it could not deploy the application. */
    private boolean deploymentFailed() {
        try {
            return Files.readString(log).contains("Exception while deploying the app");
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /** Asks the node's JVM for a thread dump (SIGQUIT), which it prints to the node's log, and waits a moment for it. */
    private void dumpThreads() {
        try {
            new ProcessBuilder("kill", "-QUIT", Long.toString(process.pid())).start().waitFor(5, TimeUnit.SECONDS);
            sleep(1000);
        } catch (IOException e) {
            // no thread dump: the timeout still says what happened
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public String id() {
        return id;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public long pid() {
        return process.pid();
    }

    /** GET as the test's operator (the bootstrap token). */
    public HttpResponse<String> get(String path) throws IOException {
        return get(path, TOKEN);
    }

    /** GET with this bearer token; none when null. */
    public HttpResponse<String> get(String path, String token) throws IOException {
        return send(authorized(HttpRequest.newBuilder(uri(path)), token).GET().build());
    }

    /** POST of JSON as the test's operator. */
    public HttpResponse<String> post(String path, String json) throws IOException {
        return post(path, json, TOKEN);
    }

    /** POST of JSON with this bearer token; none when null. */
    public HttpResponse<String> post(String path, String json, String token) throws IOException {
        return send(authorized(HttpRequest.newBuilder(uri(path)), token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** Submits one task (JSON) as the test's operator; its id. Anything but 201 fails. */
    public long submit(String json) throws IOException {
        HttpResponse<String> response = post("/api/tasks", json);
        if (response.statusCode() != 201) {
            throw new IllegalStateException("submission refused: " + response.statusCode() + " " + response.body());
        }
        return task(response.body()).getJsonNumber("id").longValue();
    }

    /** The status of a task, as the API says it. */
    public String status(long id) throws IOException {
        return task(get("/api/tasks/" + id).body()).getString("status");
    }

    private static jakarta.json.JsonObject task(String body) {
        try (var reader = jakarta.json.Json.createReader(new java.io.StringReader(body))) {
            return reader.readObject();
        }
    }

    /** Any request with this bearer token; none when null. */
    public HttpResponse<String> send(String method, String path, String json, String token) throws IOException {
        HttpRequest.Builder b = authorized(HttpRequest.newBuilder(uri(path)), token);
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        return send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private static HttpRequest.Builder authorized(HttpRequest.Builder b, String token) {
        return token == null ? b : b.header("Authorization", "Bearer " + token);
    }

    private static HttpResponse<String> send(HttpRequest request) throws IOException {
        try {
            return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                    .send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** SIGTERM, as an operator or systemd stops a node, and wait for it to exit. */
    public int stop(Duration timeout) {
        process.destroy();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill();
                throw new IllegalStateException("node " + id + " did not stop within " + timeout + "; killed");
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** kill -9 of the node's JVM: it dies with no chance to release anything; its agents are on their own. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            stop(Duration.ofSeconds(90));
        }
    }

    public Path log() {
        return log;
    }

    /** The node's rotating log file (agentturbo.log.file), beside {@link #log()}, its stdout. */
    public Path logFile() {
        return log.resolveSibling("agent-turbo.log");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
