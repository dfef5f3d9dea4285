package dev.agentturbo.testing;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's real Prometheus ({@code /usr/bin/prometheus}, package {@code prometheus}; payara/test.sh installs it),
 * started by the test on a free loopback port with a configuration of its own that scrapes one target every
 * second, its data under target/prometheus/NAME. Never the system's service: its own process, stopped on close.
 */
public final class Prometheus implements AutoCloseable {

    public static final Path BINARY = Path.of("/usr/bin/prometheus");
    private static final Duration STARTUP = Duration.ofSeconds(60);

    private final Process process;
    private final int port;
    private final Path log;

    private Prometheus(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts Prometheus scraping {@code target} (a URL of a /metrics endpoint) every second; returns once it is ready. */
    public static Prometheus scraping(String name, URI target) {
        return scraping(name, target, null);
    }

    /** The same, sending {@code Authorization: Bearer <token>} with every scrape (none when null). */
    public static Prometheus scraping(String name, URI target, String bearerToken) {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " is missing: install Debian's prometheus package"
                    + " (apt-get install prometheus; payara/test.sh does it when run as root)");
        }
        try {
            Path dir = Path.of("target", "prometheus", name).toAbsolutePath();
            if (Files.exists(dir)) {
                try (Stream<Path> old = Files.walk(dir)) {
                    old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
            Files.createDirectories(dir);
            Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, """
                    global:
                      scrape_interval: 1s
                      scrape_timeout: 1s
                      evaluation_interval: 1s
                    scrape_configs:
                      - job_name: agent-turbo
                        metrics_path: %s
                        static_configs:
                          - targets: ['%s:%d']
                    """.formatted(target.getPath(), target.getHost(), target.getPort())
                    + (bearerToken == null ? "" : """
                        authorization:
                          type: Bearer
                          credentials: '%s'
                    """.formatted(bearerToken)));
            int port = MicroNode.freePort();
            Path log = dir.resolve("prometheus.log");
            Process process = new ProcessBuilder(BINARY.toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Prometheus prometheus = new Prometheus(process, port, log);
            prometheus.awaitReady();
            return prometheus;
        } catch (IOException e) {
            throw new IllegalStateException("could not start " + BINARY, e);
        }
    }

    private void awaitReady() {
        long until = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < until) {
            if (!process.isAlive()) {
                throw new IllegalStateException("prometheus exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (get("/-/ready").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        close();
        throw new IllegalStateException("prometheus was not ready within " + STARTUP + "; see " + log);
    }

    /**
     * The value of an instant query ({@code /api/v1/query}) whose answer is one sample, such as a {@code sum(…)};
     * empty when it has no sample (nothing scraped yet).
     */
    public OptionalDouble value(String promQl) throws IOException {
        HttpResponse<String> answer = get("/api/v1/query?query=" + URLEncoder.encode(promQl, StandardCharsets.UTF_8));
        if (answer.statusCode() != 200) {
            throw new IllegalStateException(promQl + ": " + answer.statusCode() + " " + answer.body());
        }
        JsonObject json;
        try (var reader = Json.createReader(new StringReader(answer.body()))) {
            json = reader.readObject();
        }
        JsonArray result = json.getJsonObject("data").getJsonArray("result");
        if (result.isEmpty()) {
            return OptionalDouble.empty();
        }
        if (result.size() > 1) {
            throw new IllegalStateException(promQl + " has " + result.size() + " series; sum them: " + result);
        }
        return OptionalDouble.of(Double.parseDouble(result.getJsonObject(0).getJsonArray("value").getString(1)));
    }

    /** Whether the last scrape of the target succeeded ({@code up}). */
    public boolean targetUp() throws IOException {
        return value("up").orElse(0) == 1;
    }

    private HttpResponse<String> get(String pathAndQuery) throws IOException {
        try {
            return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                    .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                            .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    public Path log() {
        return log;
    }

    /** SIGTERM, and SIGKILL when it has not stopped within 15 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    @Override
    public String toString() {
        return "prometheus on 127.0.0.1:" + port;
    }
}
