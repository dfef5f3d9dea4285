package dev.agentturbo.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * A stand-in for the Anthropic Messages API on 127.0.0.1, enough for the real {@code claude} program to run its
 * whole agent loop against it: point the program at {@link #baseUrl()} with {@code ANTHROPIC_BASE_URL}.
 * <p>
 * It answers {@code POST /v1/messages} in the streaming format (server-sent events {@code message_start},
 * {@code content_block_start}, {@code content_block_delta}, {@code content_block_stop}, {@code message_delta} with
 * usage, {@code message_stop}) as the current mode says. Modes switch at runtime from any thread:
 * {@link #replyWith(String)}, {@link #useToolThenReply(String, String, String)}, {@link #rateLimitAlways()},
 * {@link #usageLimitUntil(Instant)}, {@link #hang()}, {@link #overloaded()}, {@link #refuseCredentials()},
 * {@link #invalidRequest(String)}, {@link #rateLimitFor(int, int)}, {@link #startThenHang(String)},
 * {@link #window(int, Duration)}. Other requests are logged and answered in kind
 * ({@code HEAD /} 200, {@code count_tokens} a count, anything else a 404 error body).
 */
public final class FakeMessagesApi implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(FakeMessagesApi.class.getName());
    /** The model named in replies when a request names none; one the program knows the price of. */
    public static final String DEFAULT_MODEL = "claude-sonnet-4-5";

    private sealed interface Mode permits Reply, ToolThenReply, RateLimit, UsageLimit, Hang, Refuse, RateLimitThen,
            StartThenHang, Window {
    }

    private record Reply(String text, long inputTokens, long outputTokens) implements Mode {
    }

    private record ToolThenReply(String tool, String inputJson, String text) implements Mode {
    }

    private record RateLimit(int retryAfterSeconds) implements Mode {
    }

    private record UsageLimit(Instant reset) implements Mode {
    }

    private record Hang() implements Mode {
    }

    private record Refuse(int status, String type, String message) implements Mode {
    }

    private record RateLimitThen(AtomicInteger left, int retryAfterSeconds, Mode then) implements Mode {
    }

    private record StartThenHang(String text) implements Mode {
    }

    private record Window(Windows windows) implements Mode {
    }

    private final HttpServer server;
    private final ExecutorService threads;
    private final AtomicReference<Mode> mode = new AtomicReference<>(new Reply("Done.", 12, 7));
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> bodies = new ArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile Windows windows;

    private FakeMessagesApi() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-messages-api");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    /** A server on a free port of 127.0.0.1; it replies "Done." until told otherwise. */
    public static FakeMessagesApi start() {
        try {
            return new FakeMessagesApi();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the fake Messages API: " + e.getMessage(), e);
        }
    }

    /** For ANTHROPIC_BASE_URL, e.g. {@code http://127.0.0.1:41234}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Every Messages request gets this text as the assistant's whole answer (12 input, 7 output tokens). */
    public FakeMessagesApi replyWith(String text) {
        return replyWith(text, 12, 7);
    }

    /** Every Messages request gets this text, reporting this usage. */
    public FakeMessagesApi replyWith(String text, long inputTokens, long outputTokens) {
        mode.set(new Reply(text, inputTokens, outputTokens));
        return this;
    }

    /**
     * The assistant first calls a tool ({@code tool} with this JSON input); once the request carries a tool
     * result it answers {@code text}, followed by the tool results it received as JSON. Decided on each request's
     * own messages, so concurrent conversations do not disturb each other.
     */
    public FakeMessagesApi useToolThenReply(String tool, String inputJson, String text) {
        mode.set(new ToolThenReply(tool, inputJson, text));
        return this;
    }

    /** Every Messages request gets 429 {@code rate_limit_error} with {@code retry-after: 1}. */
    public FakeMessagesApi rateLimitAlways() {
        mode.set(new RateLimit(1));
        return this;
    }

    /**
     * The subscription's usage limit: 429 with the {@code anthropic-ratelimit-unified-*} headers saying the
     * five-hour window is rejected until {@code reset} (whole seconds).
     */
    public FakeMessagesApi usageLimitUntil(Instant reset) {
        mode.set(new UsageLimit(reset));
        return this;
    }

    /** Messages requests are accepted and never answered, until this server closes. */
    public FakeMessagesApi hang() {
        mode.set(new Hang());
        return this;
    }

    /** Every Messages request gets 401 {@code authentication_error}: the key or token is refused. */
    public FakeMessagesApi refuseCredentials() {
        mode.set(new Refuse(401, "authentication_error", "invalid x-api-key (fake)"));
        return this;
    }

    /**
     * A subscription's usage window: windows follow each other from now on, the first ending at the first whole
     * second at least {@code length} from now, each next one {@code length} later (whole seconds, so that the
     * reset the program reads is exact). In each window the first {@code requestsPerWindow} Messages requests get
     * the usual "Done." reply; every further one gets the usage limit as {@link #usageLimitUntil(Instant)} sends
     * it, until the end of that window. {@link #windowRequests()} says what each request got.
     */
    public FakeMessagesApi window(int requestsPerWindow, Duration length) {
        if (length.toMillis() < 1000 || length.toMillis() % 1000 != 0) {
            throw new IllegalArgumentException("a window lasts whole seconds: " + length);
        }
        Windows w = new Windows(requestsPerWindow, length, Instant.now());
        windows = w;
        mode.set(new Window(w));
        return this;
    }

    /** One Messages request in window mode: its window, when it came, whether it was answered, and who sent it. */
    public record WindowRequest(int window, Instant at, boolean accepted, String device, String session) {
    }

    /** One window: when it began and ends (its reset), and what its Messages requests got. */
    public record WindowCount(int window, Instant start, Instant end, int accepted, int rejected, Instant first) {
    }

    /** The Messages requests since the last {@link #window(int, Duration)}, oldest first. */
    public List<WindowRequest> windowRequests() {
        Windows w = windows;
        return w == null ? List.of() : w.requests();
    }

    /**
     * Every window from the first to the current one: accepted and rejected requests, and the first request after
     * the window's start (for every window but the first, the first request after a reset); null when none came.
     */
    public List<WindowCount> windows() {
        Windows w = windows;
        if (w == null) {
            return List.of();
        }
        List<WindowRequest> requests = w.requests();
        List<WindowCount> counts = new ArrayList<>();
        for (int k = 0; k <= w.index(Instant.now()); k++) {
            int window = k;
            List<WindowRequest> in = requests.stream().filter(r -> r.window() == window).toList();
            int accepted = (int) in.stream().filter(WindowRequest::accepted).count();
            counts.add(new WindowCount(k, w.start(k), w.end(k), accepted, in.size() - accepted,
                    in.isEmpty() ? null : in.get(0).at()));
        }
        return counts;
    }

    /** Every Messages request gets 529 {@code overloaded_error}. */
    public FakeMessagesApi overloaded() {
        mode.set(new Refuse(529, "overloaded_error", "Overloaded (fake)"));
        return this;
    }

    /** Every Messages request gets 400 {@code invalid_request_error} with this message, as for an unknown model. */
    public FakeMessagesApi invalidRequest(String message) {
        mode.set(new Refuse(400, "invalid_request_error", message));
        return this;
    }

    /** The next {@code requests} Messages requests get 429 with this {@code retry-after}; later ones the current mode. */
    public FakeMessagesApi rateLimitFor(int requests, int retryAfterSeconds) {
        mode.set(new RateLimitThen(new AtomicInteger(requests), retryAfterSeconds, mode.get()));
        return this;
    }

    /** A streamed answer begins with this text and then never goes on, until this server closes. */
    public FakeMessagesApi startThenHang(String text) {
        mode.set(new StartThenHang(text));
        return this;
    }

    /** How many Messages requests ({@code POST /v1/messages}) arrived, whatever they were answered. */
    public int requests() {
        return requests.get();
    }

    /** The bodies of the Messages requests, oldest first. */
    public synchronized List<JsonObject> requestBodies() {
        return bodies.stream().map(FakeMessagesApi::parse).toList();
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            String body;
            try (InputStream in = exchange.getRequestBody()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if ("POST".equals(method) && "/v1/messages".equals(path)) {
                requests.incrementAndGet();
                synchronized (this) {
                    bodies.add(body);
                }
                messages(exchange, parse(body));
            } else if ("HEAD".equals(method)) {
                exchange.sendResponseHeaders(200, -1);
            } else if ("POST".equals(method) && "/v1/messages/count_tokens".equals(path)) {
                LOG.info(() -> "fake Messages API: " + method + " " + exchange.getRequestURI());
                json(exchange, 200, "{\"input_tokens\":" + Math.max(1, body.length() / 4) + "}");
            } else {
                LOG.info(() -> "fake Messages API: unknown request " + method + " " + exchange.getRequestURI());
                json(exchange, 404, error("not_found_error", "the fake Messages API does not serve " + path));
            }
        } catch (IOException e) {
            // the client went away (killed mid-request): nothing to answer
        }
    }

    private void messages(HttpExchange exchange, JsonObject request) throws IOException {
        Mode current = mode.get();
        if (current instanceof Window w) {
            current = w.windows().admit(request, exchange.getRequestHeaders().getFirst("X-Claude-Code-Session-Id"));
        }
        answer(exchange, request, current);
    }

    private void answer(HttpExchange exchange, JsonObject request, Mode current) throws IOException {
        String model = request.getString("model", DEFAULT_MODEL);
        if (current instanceof Reply r) {
            if (request.getBoolean("stream", false)) {
                stream(exchange, model, textBlock(r.text()), "end_turn", r.inputTokens(), r.outputTokens());
            } else {
                json(exchange, 200, Json.createObjectBuilder().add("id", "msg_fake").add("type", "message")
                        .add("role", "assistant").add("model", model)
                        .add("content", Json.createArrayBuilder().add(textBlock(r.text())))
                        .add("stop_reason", "end_turn").addNull("stop_sequence")
                        .add("usage", Json.createObjectBuilder().add("input_tokens", r.inputTokens())
                                .add("output_tokens", r.outputTokens()))
                        .build().toString());
            }
        } else if (current instanceof ToolThenReply t) {
            JsonArray results = toolResults(request);
            if (results.isEmpty()) {
                JsonObject toolUse = Json.createObjectBuilder().add("type", "tool_use")
                        .add("id", "toolu_fake" + requests.get()).add("name", t.tool())
                        .add("input", parse(t.inputJson())).build();
                stream(exchange, model, toolUse, "tool_use", 20, 10);
            } else {
                stream(exchange, model, textBlock(t.text() + " " + results), "end_turn", 30, 10);
            }
        } else if (current instanceof RateLimit r) {
            exchange.getResponseHeaders().add("retry-after", Integer.toString(r.retryAfterSeconds()));
            json(exchange, 429, error("rate_limit_error", "Number of requests has exceeded your rate limit (fake)"));
        } else if (current instanceof UsageLimit u) {
            String reset = Long.toString(u.reset().getEpochSecond());
            var headers = exchange.getResponseHeaders();
            headers.add("anthropic-ratelimit-unified-status", "rejected");
            headers.add("anthropic-ratelimit-unified-reset", reset);
            headers.add("anthropic-ratelimit-unified-5h-status", "rejected");
            headers.add("anthropic-ratelimit-unified-5h-reset", reset);
            headers.add("anthropic-ratelimit-unified-representative-claim", "five_hour");
            json(exchange, 429, error("rate_limit_error", "This request would exceed your usage limit (fake)"));
        } else if (current instanceof Hang) {
            try {
                closing.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else if (current instanceof Refuse r) {
            json(exchange, r.status(), error(r.type(), r.message()));
        } else if (current instanceof RateLimitThen r) {
            answer(exchange, request, r.left().getAndDecrement() > 0 ? new RateLimit(r.retryAfterSeconds()) : r.then());
        } else if (current instanceof StartThenHang h) {
            OutputStream out = startStream(exchange, model, 5);
            event(out, "content_block_start", Json.createObjectBuilder().add("type", "content_block_start")
                    .add("index", 0).add("content_block", textBlock("")).build());
            event(out, "content_block_delta", Json.createObjectBuilder().add("type", "content_block_delta")
                    .add("index", 0).add("delta", Json.createObjectBuilder().add("type", "text_delta")
                            .add("text", h.text())).build());
            awaitClosing();
        }
    }

    private void awaitClosing() {
        try {
            closing.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The windows of {@link #window(int, Duration)} and every Messages request they admitted or refused. */
    private static final class Windows {

        private final int perWindow;
        private final Duration length;
        private final Instant origin;
        private final Instant firstEnd;
        private final List<WindowRequest> requests = new ArrayList<>();

        Windows(int perWindow, Duration length, Instant origin) {
            this.perWindow = perWindow;
            this.length = length;
            this.origin = origin;
            Instant end = origin.plus(length);
            this.firstEnd = end.equals(end.truncatedTo(ChronoUnit.SECONDS)) ? end
                    : end.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        }

        int index(Instant at) {
            return at.isBefore(firstEnd) ? 0 : 1 + (int) (Duration.between(firstEnd, at).toMillis() / length.toMillis());
        }

        Instant start(int window) {
            return window == 0 ? origin : end(window - 1);
        }

        Instant end(int window) {
            return firstEnd.plus(length.multipliedBy(window));
        }

        /** The reply while the window has room, else its usage limit until the window's end. */
        synchronized Mode admit(JsonObject request, String session) {
            Instant now = Instant.now();
            int window = index(now);
            boolean accepted = requests.stream().filter(r -> r.window() == window && r.accepted()).count() < perWindow;
            requests.add(new WindowRequest(window, now, accepted, device(request), session));
            return accepted ? new Reply("Done.", 12, 7) : new UsageLimit(end(window));
        }

        synchronized List<WindowRequest> requests() {
            return List.copyOf(requests);
        }

        /** The program's device id (one a config folder, so one a slot), from the request's metadata. */
        private static String device(JsonObject request) {
            if (request.get("metadata") instanceof JsonObject metadata
                    && metadata.get("user_id") instanceof jakarta.json.JsonString user) {
                String id = user.getString();
                try {
                    return id.startsWith("{") ? parse(id).getString("device_id", id) : id;
                } catch (RuntimeException e) {
                    return id;
                }
            }
            return "unknown";
        }
    }

    /** The streaming answer: one content block, sent as the real API does. */
    private static void stream(HttpExchange exchange, String model, JsonObject block, String stopReason,
                               long inputTokens, long outputTokens) throws IOException {
        OutputStream out = startStream(exchange, model, inputTokens);
        boolean text = "text".equals(block.getString("type"));
        JsonObject start = text ? textBlock("")
                : Json.createObjectBuilder(block).add("input", JsonValue.EMPTY_JSON_OBJECT).build();
        event(out, "content_block_start", Json.createObjectBuilder().add("type", "content_block_start")
                .add("index", 0).add("content_block", start).build());
        if (text) {
            String whole = block.getString("text");
            int half = whole.length() / 2;
            for (String part : List.of(whole.substring(0, half), whole.substring(half))) {
                event(out, "content_block_delta", Json.createObjectBuilder().add("type", "content_block_delta")
                        .add("index", 0).add("delta", Json.createObjectBuilder().add("type", "text_delta")
                                .add("text", part)).build());
            }
        } else {
            event(out, "content_block_delta", Json.createObjectBuilder().add("type", "content_block_delta")
                    .add("index", 0).add("delta", Json.createObjectBuilder().add("type", "input_json_delta")
                            .add("partial_json", block.getJsonObject("input").toString())).build());
        }
        event(out, "content_block_stop", Json.createObjectBuilder().add("type", "content_block_stop")
                .add("index", 0).build());
        event(out, "message_delta", Json.createObjectBuilder().add("type", "message_delta")
                .add("delta", Json.createObjectBuilder().add("stop_reason", stopReason).addNull("stop_sequence"))
                .add("usage", Json.createObjectBuilder().add("output_tokens", outputTokens)).build());
        event(out, "message_stop", Json.createObjectBuilder().add("type", "message_stop").build());
        out.close();
    }

    /** The response's headers and its first event, {@code message_start}; the caller sends the rest. */
    private static OutputStream startStream(HttpExchange exchange, String model, long inputTokens) throws IOException {
        exchange.getResponseHeaders().add("content-type", "text/event-stream");
        exchange.getResponseHeaders().add("cache-control", "no-cache");
        exchange.getResponseHeaders().add("request-id", "req_fake");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        event(out, "message_start", Json.createObjectBuilder().add("type", "message_start")
                .add("message", Json.createObjectBuilder().add("id", "msg_fake").add("type", "message")
                        .add("role", "assistant").add("model", model).add("content", JsonValue.EMPTY_JSON_ARRAY)
                        .addNull("stop_reason").addNull("stop_sequence")
                        .add("usage", Json.createObjectBuilder().add("input_tokens", inputTokens)
                                .add("output_tokens", 1)))
                .build());
        return out;
    }

    private static void event(OutputStream out, String name, JsonObject data) throws IOException {
        out.write(("event: " + name + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static JsonObject textBlock(String text) {
        return Json.createObjectBuilder().add("type", "text").add("text", text).build();
    }

    /** The tool results in the request's last message, empty when it carries none. */
    private static JsonArray toolResults(JsonObject request) {
        var results = Json.createArrayBuilder();
        JsonArray messages = request.getJsonArray("messages");
        if (messages != null && !messages.isEmpty()
                && messages.get(messages.size() - 1) instanceof JsonObject last
                && last.get("content") instanceof JsonArray content) {
            content.stream().filter(c -> c instanceof JsonObject o && "tool_result".equals(o.getString("type", "")))
                    .forEach(c -> {
                        JsonObject o = (JsonObject) c;
                        results.add(Json.createObjectBuilder().add("is_error", o.getBoolean("is_error", false))
                                .add("content", o.getOrDefault("content", JsonValue.NULL)));
                    });
        }
        return results.build();
    }

    private static String error(String type, String message) {
        return Json.createObjectBuilder().add("type", "error")
                .add("error", Json.createObjectBuilder().add("type", type).add("message", message)).build().toString();
    }

    private static void json(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("content-type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static JsonObject parse(String json) {
        if (json == null || json.isBlank()) {
            return JsonValue.EMPTY_JSON_OBJECT;
        }
        try (var reader = Json.createReader(new StringReader(json))) {
            return reader.readObject();
        }
    }
}
