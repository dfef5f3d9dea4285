package dev.agentturbo.agents.control;

import com.anthropic.client.AnthropicClientAsync;
import com.anthropic.client.okhttp.AnthropicOkHttpClientAsync;
import com.anthropic.core.Timeout;
import com.anthropic.core.http.AsyncStreamResponse;
import com.anthropic.core.http.Headers;
import com.anthropic.core.http.HttpResponse;
import com.anthropic.core.http.Interceptor;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import dev.agentturbo.agents.entity.AnthropicSettings;
import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code anthropic-api} executor: one turn of a Messages API conversation through the official Java SDK, for
 * tasks that need a model's answer but no tools on the host. The prompt is the user message; the answer is streamed
 * into the task's output as it arrives and becomes the result. The key and the address come from this node's
 * environment, as the {@code claude} program's do: ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN, sent as a bearer
 * token) and ANTHROPIC_BASE_URL.
 * <p>
 * The client repeats a failed request only a few times (agentturbo.anthropic.max-retries) and tells the node of
 * every 429 and 529 as it sees it, so that the fleet backs off this key at once; when the API keeps refusing, the
 * attempt ends rate-limited and the fleet's back-off, not this agent, decides when to try again.
 */
public final class AnthropicApi implements AgentExecutor, AutoCloseable {

    public static final String NAME = "anthropic-api";
    private static final Logger LOG = Logger.getLogger(AnthropicApi.class.getName());
    static final int MAX_STOP_SEQUENCES = 8;
    /** Streamed text is stored a line at a time, and a line without an end once it is this long. */
    static final int LINE_CHARS = 200;
    /** The longest wait for the next bytes of an answer: the API sends a ping now and then while it thinks. */
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(10);
    static final String NO_CREDENTIAL = "the anthropic-api executor on this node has no credential: set"
            + " ANTHROPIC_API_KEY in the node's environment and restart the node";
    static final String WHAT_TO_DO = "set a valid ANTHROPIC_API_KEY in the node's environment and restart the node;"
            + " POST /api/limits/{id}/lift ends the pause for all";

    private final AnthropicSettings settings;
    private final String apiKey;
    private final String authToken;
    private final String baseUrl;
    private final Clock clock;
    /** Models already logged as having no price, so that each is logged once. */
    private final Set<String> unpriced = ConcurrentHashMap.newKeySet();
    private AnthropicClientAsync client;

    /**
     * @param environment this node's environment, read for ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN and
     *                    ANTHROPIC_BASE_URL; a variable set to the empty string counts as not set
     */
    AnthropicApi(AnthropicSettings settings, Map<String, String> environment, Clock clock) {
        this.settings = settings;
        this.apiKey = value(environment, "ANTHROPIC_API_KEY");
        this.authToken = value(environment, "ANTHROPIC_AUTH_TOKEN");
        this.baseUrl = value(environment, "ANTHROPIC_BASE_URL");
        this.clock = clock;
    }

    private static String value(Map<String, String> environment, String name) {
        String v = environment.get(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    @Override
    public String name() {
        return NAME;
    }

    /** {@code key:…} for ANTHROPIC_API_KEY, {@code token:…} for ANTHROPIC_AUTH_TOKEN (the key wins), or {@code none}. */
    @Override
    public String credential() {
        if (apiKey != null) {
            return AgentExecutor.fingerprint("key", apiKey.getBytes(StandardCharsets.UTF_8));
        }
        return authToken == null ? "none" : AgentExecutor.fingerprint("token", authToken.getBytes(StandardCharsets.UTF_8));
    }

    // No credentialProblem() at start: most nodes never run this executor, and a fleet-wide pause shown for an
    // executor nobody uses is noise. A keyless node's first task of it pauses it instead (not failed, not counted).

    @Override
    public List<String> check(JsonObject options, boolean privileged) {
        return OptionRules.of(NAME, options, "model", "maxTokens", "system", "temperature", "stopSequences")
                .string("model", 200)
                .integer("maxTokens", 1, AnthropicSettings.MAX_TOKENS)
                .string("system", 100_000)
                .number("temperature", BigDecimal.ZERO, BigDecimal.ONE)
                .strings("stopSequences")
                .check(!(options.get("stopSequences") instanceof JsonArray a) || a.size() <= MAX_STOP_SEQUENCES,
                        "options.stopSequences may hold at most " + MAX_STOP_SEQUENCES + " sequences")
                .problems();
    }

    /** The request of one run: the prompt as the one user message, the options as the API's fields. */
    MessageCreateParams params(JsonObject options, String prompt) {
        MessageCreateParams.Builder request = MessageCreateParams.builder()
                .model(model(options))
                .maxTokens(options.get("maxTokens") instanceof JsonNumber n ? n.longValue() : settings.defaultMaxTokens())
                .addUserMessage(prompt);
        if (options.get("system") instanceof JsonString s) {
            request.system(s.getString());
        }
        if (options.get("temperature") instanceof JsonNumber t) {
            // the SDK has no field for it (current models refuse sampling settings): sent as the API's own field,
            // and a model that refuses it answers 400, which fails the task at once
            request.putAdditionalBodyProperty("temperature", com.anthropic.core.JsonValue.from(t.doubleValue()));
        }
        List<String> stops = OptionRules.values(options, "stopSequences");
        if (!stops.isEmpty()) {
            request.stopSequences(stops);
        }
        return request.build();
    }

    private String model(JsonObject options) {
        return options.get("model") instanceof JsonString s ? s.getString() : settings.defaultModel();
    }

    @Override
    public Outcome run(AgentRun run) throws InterruptedException {
        List<String> problems = check(run.options(), true);
        if (!problems.isEmpty()) {
            return Outcome.permanent(String.join("; ", problems));
        }
        if (apiKey == null && authToken == null) {
            return Outcome.credentials(NO_CREDENTIAL);
        }
        String model = model(run.options());
        Answer answer = new Answer(run);
        Duration timeout = Duration.ofSeconds(run.task().timeoutSeconds());
        AsyncStreamResponse<RawMessageStreamEvent> response = client()
                .withOptions(o -> o.timeout(Timeout.builder().request(timeout)
                                .read(timeout.compareTo(READ_TIMEOUT) < 0 ? timeout : READ_TIMEOUT).build())
                        .addInterceptor(Interceptor.asyncOnly((next, request, requestOptions) ->
                                next.executeAsync(request, requestOptions).thenApply(r -> watch(run, r)))))
                .messages().createStreaming(params(run.options(), run.task().prompt()));
        response.subscribe(answer::accept);
        // closing cancels the request, whether it waits for the answer's start or reads its stream
        run.onAbort(response::close);
        Throwable failure = null;
        try {
            response.onCompleteFuture().get();
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (InterruptedException e) {
            response.close();
            throw e;
        }
        if (run.isAborted()) {
            return Outcome.retryable("the Messages API request was stopped", null);
        }
        answer.flush();
        // nothing is paid for a request that never got an answer
        BigDecimal cost = answer.id == null ? null : cost(model, answer.inputTokens, answer.outputTokens);
        if (failure != null) {
            return failed(unwrap(failure), answer, cost);
        }
        run.output().line("stdout", "result", "done (" + answer.stopReason + "), " + answer.inputTokens + " in / "
                + answer.outputTokens + " out tokens" + (cost == null ? "" : ", $" + cost.stripTrailingZeros()
                .toPlainString()), null);
        return new Outcome(Outcome.Kind.SUCCEEDED, answer.text.toString(), null, null, cost, answer.inputTokens,
                answer.outputTokens, 1, answer.id, null);
    }

    /**
     * Sees every response before the client decides on retrying: tells the node of a 429 or 529 at once, and keeps
     * the client from repeating a request the subscription's usage limit refused (it passes at the reset, not in
     * seconds).
     */
    private HttpResponse watch(AgentRun run, HttpResponse response) {
        int status = response.statusCode();
        if (status == 429 && usageLimitReset(response.headers()) != null) {
            return notRetried(response);
        }
        if (status == 429 || status == 529) {
            run.limits().rateLimited(NAME + ": the Messages API answered " + status + " to task " + run.task().id()
                    + "; the client retries up to " + settings.maxRetries() + " times", retryAfter(response.headers()));
        }
        return response;
    }

    /** The same response, with the header that tells the client not to send the request again. */
    private static HttpResponse notRetried(HttpResponse response) {
        Headers headers = response.headers().toBuilder().replace("x-should-retry", "false").build();
        return new HttpResponse() {
            @Override
            public int statusCode() {
                return response.statusCode();
            }

            @Override
            public Headers headers() {
                return headers;
            }

            @Override
            public InputStream body() {
                return response.body();
            }

            @Override
            public void close() {
                response.close();
            }
        };
    }

    /** Decides the attempt from what the client threw. */
    private Outcome failed(Throwable cause, Answer answer, BigDecimal cost) {
        if (!(cause instanceof AnthropicServiceException e)) {
            String what = cause instanceof IOException || cause instanceof com.anthropic.errors.AnthropicIoException
                    ? "could not reach the Messages API at " + (baseUrl == null ? "its default address" : baseUrl)
                    : "the Messages API request failed";
            return answer.ended(Outcome.Kind.RETRYABLE, what + ": " + cause, cost, null);
        }
        int status = e.statusCode();
        String type = e.type().map(Object::toString).orElse("");
        // an error event inside a stream that had begun comes with the stream's status, 200
        String said = "the Messages API answered " + (status == 200 ? "an error mid-answer" : status)
                + (type.isEmpty() ? "" : " (" + type + ")") + e.apiMessage().map(m -> ": " + m).orElse("");
        Instant reset = usageLimitReset(e.headers());
        if (status == 429 && reset != null) {
            return answer.ended(Outcome.Kind.USAGE_LIMITED, "usage limit reached until " + reset + ": " + said, cost,
                    reset);
        }
        if (status == 429 || status == 529 || "rate_limit_error".equals(type) || "overloaded_error".equals(type)) {
            Duration wait = retryAfter(e.headers());
            return answer.ended(Outcome.Kind.RATE_LIMITED, said, cost, wait == null ? null : clock.instant().plus(wait));
        }
        if (status == 401 || status == 403 || "authentication_error".equals(type) || "permission_error".equals(type)
                || "billing_error".equals(type)) {
            return answer.ended(Outcome.Kind.CREDENTIALS, "the Messages API refused the key (" + status
                    + (type.isEmpty() ? "" : " " + type) + e.apiMessage().map(m -> ": " + m).orElse("") + "): "
                    + WHAT_TO_DO, cost, null);
        }
        // the request itself is wrong (unknown model, a field the model refuses): it would be refused again
        boolean permanent = status >= 400 && status < 500 && status != 408 && status != 409;
        return answer.ended(permanent ? Outcome.Kind.PERMANENT : Outcome.Kind.RETRYABLE, said, cost, null);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    /**
     * When the subscription's usage window resets, if the response says the limit was reached
     * ({@code anthropic-ratelimit-unified-status: rejected} with {@code anthropic-ratelimit-unified-reset} in epoch
     * seconds); else null.
     */
    static Instant usageLimitReset(Headers headers) {
        List<String> reset = headers.values("anthropic-ratelimit-unified-reset");
        if (!headers.values("anthropic-ratelimit-unified-status").contains("rejected") || reset.isEmpty()) {
            return null;
        }
        try {
            return Instant.ofEpochSecond(Long.parseLong(reset.get(0).strip()));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** How long the server asked to wait ({@code retry-after}: seconds or an HTTP date), or null. */
    private Duration retryAfter(Headers headers) {
        List<String> values = headers.values("retry-after");
        if (values.isEmpty()) {
            return null;
        }
        String v = values.get(0).strip();
        try {
            return Duration.ofMillis(Math.max(0, (long) (Double.parseDouble(v) * 1000)));
        } catch (NumberFormatException e) {
            try {
                Duration d = Duration.between(clock.instant(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }

    /** What the tokens cost, or null when the model has no price (logged once per model). */
    private BigDecimal cost(String model, long inputTokens, long outputTokens) {
        Optional<BigDecimal> cost = settings.prices().cost(model, inputTokens, outputTokens);
        if (cost.isEmpty() && unpriced.add(model)) {
            LOG.warning(() -> NAME + ": model " + model + " has no price in agentturbo.anthropic.prices; the cost of"
                    + " its tasks stays unknown");
        }
        return cost.orElse(null);
    }

    /** The one client of this node: it holds the connection pool and the threads every run shares. */
    private synchronized AnthropicClientAsync client() {
        if (client == null) {
            AtomicInteger count = new AtomicInteger();
            // daemon threads of its own, ended by close(): the client's default pools would keep a JVM alive
            ExecutorService threads = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "anthropic-api-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            AnthropicOkHttpClientAsync.Builder builder = AnthropicOkHttpClientAsync.builder()
                    .maxRetries(settings.maxRetries())
                    .dispatcherExecutorService(threads)
                    .completionExecutor(threads)
                    .streamHandlerExecutor(threads);
            if (baseUrl != null) {
                builder.baseUrl(baseUrl);
            }
            if (apiKey != null) {
                builder.apiKey(apiKey);
            } else {
                builder.authToken(authToken);
            }
            client = builder.build();
        }
        return client;
    }

    /** Ends the client's connections and threads; a later run makes a new client. */
    @Override
    public synchronized void close() {
        if (client != null) {
            try {
                client.close();
            } catch (RuntimeException | LinkageError e) {
                // at shutdown the class loader may be closing: nothing to save but the log line
                LOG.log(Level.FINE, "could not close the Messages API client", e);
            }
            client = null;
        }
    }

    /**
     * What the stream brought: the text, the usage and the message id. The text goes to the task's output a line
     * at a time as it comes. Fed by the client's thread; read by the run's once the stream has ended.
     */
    private static final class Answer {

        private final AgentRun run;
        private final StringBuilder text = new StringBuilder();
        private final StringBuilder line = new StringBuilder();
        private String id;
        private long inputTokens;
        private long outputTokens;
        private String stopReason = "?";

        Answer(AgentRun run) {
            this.run = run;
        }

        void accept(RawMessageStreamEvent event) {
            if (run.isAborted()) {
                return;
            }
            if (event.isMessageStart()) {
                run.limits().apiAnswered();
                var message = event.asMessageStart().message();
                id = message.id();
                inputTokens = message.usage().inputTokens();
                outputTokens = message.usage().outputTokens();
            } else if (event.isContentBlockDelta() && event.asContentBlockDelta().delta().isText()) {
                String delta = event.asContentBlockDelta().delta().asText().text();
                text.append(delta);
                line.append(delta);
                for (int end = line.indexOf("\n"); end >= 0; end = line.indexOf("\n")) {
                    run.output().line("stdout", "assistant", line.substring(0, end), null);
                    line.delete(0, end + 1);
                }
                if (line.length() >= LINE_CHARS) {
                    flush();
                }
            } else if (event.isMessageDelta()) {
                var delta = event.asMessageDelta();
                outputTokens = delta.usage().outputTokens();
                delta.usage().inputTokens().ifPresent(n -> inputTokens = n);
                delta.delta().stopReason().ifPresent(r -> stopReason = r.toString());
            }
        }

        /** Stores the text that waits for its line's end. */
        void flush() {
            if (!line.isEmpty()) {
                run.output().line("stdout", "assistant", line.toString(), null);
                line.setLength(0);
            }
        }

        /** An attempt that did not succeed, with what it used: tokens used before a failure are paid for too. */
        Outcome ended(Outcome.Kind kind, String error, BigDecimal cost, Instant resumeAt) {
            return new Outcome(kind, text.isEmpty() ? null : text.toString(), error, null, cost,
                    id == null ? null : inputTokens, id == null ? null : outputTokens, 1, id, resumeAt);
        }
    }
}
