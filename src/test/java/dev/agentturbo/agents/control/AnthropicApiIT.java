package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.AgentOutput;
import dev.agentturbo.agents.entity.AnthropicSettings;
import dev.agentturbo.agents.entity.ModelPrices;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.testing.FakeMessagesApi;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.StringReader;
import java.math.BigDecimal;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code anthropic-api} executor with the real Anthropic Java SDK against a {@link FakeMessagesApi}: the
 * streamed answer, its tokens and cost, the request's fields, and every way the API says no.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AnthropicApiIT {

    private static final AtomicLong IDS = new AtomicLong(System.currentTimeMillis() % 1_000_000 * 1000);
    private static final ModelPrices PRICES = ModelPrices.parse("claude-sonnet-4=3/15,claude-haiku-4=1/5");
    private static final String KEY = "sk-ant-test-key";

    private FakeMessagesApi api;
    private AnthropicApi executor;
    private final List<String[]> output = Collections.synchronizedList(new ArrayList<>());
    private final List<Duration> rateLimits = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void start() {
        api = FakeMessagesApi.start();
        executor = executor(Map.of("ANTHROPIC_API_KEY", KEY, "ANTHROPIC_BASE_URL", api.baseUrl()));
    }

    @AfterEach
    void stop() {
        executor.close();
        api.close();
    }

    @Test
    void theStreamedAnswerIsTheResultWithItsTokensCostAndMessageId() throws Exception {
        String text = "First line.\n\nThird line, " + "x".repeat(450) + "\nlast words";
        api.replyWith(text, 1200, 340);

        Outcome outcome = executor.run(run("Say something", "{\"model\": \"claude-sonnet-4-5\"}"));

        assertEquals(Outcome.Kind.SUCCEEDED, outcome.kind(), outcome::toString);
        assertEquals(text, outcome.result());
        assertEquals(1200L, outcome.inputTokens());
        assertEquals(340L, outcome.outputTokens());
        assertEquals(0, new BigDecimal("0.0087").compareTo(outcome.costUsd()), "1200 × $3 + 340 × $15 per million");
        assertEquals(1, outcome.numTurns());
        assertEquals("msg_fake", outcome.sessionId());
        assertNull(outcome.error());
        // the fake streams the text in two halves: lines end at a newline, or are cut once 200 characters wait
        assertEquals(List.of("First line.", "", "Third line, " + "x".repeat(218), "x".repeat(232), "last words"),
                texts("assistant"));
        assertEquals(List.of("done (end_turn), 1200 in / 340 out tokens, $0.0087"), texts("result"));
    }

    @Test
    void aDatedModelIdIsPricedAsItsFamilyAndAnUnknownModelHasNoCost() throws Exception {
        api.replyWith("ok", 1000, 200);

        Outcome shortId = executor.run(run("a", "{\"model\": \"claude-haiku-4-5\"}"));
        Outcome dated = executor.run(run("b", "{\"model\": \"claude-haiku-4-5-20251001\"}"));
        Outcome unknown = executor.run(run("c", "{\"model\": \"claude-nonesuch-1\"}"));

        assertEquals(0, new BigDecimal("0.002").compareTo(shortId.costUsd()), "1000 × $1 + 200 × $5 per million");
        assertEquals(shortId.costUsd(), dated.costUsd());
        assertEquals(Outcome.Kind.SUCCEEDED, unknown.kind());
        assertNull(unknown.costUsd());
        assertEquals(1000L, unknown.inputTokens(), "tokens are stored even without a price");
    }

    @Test
    void theOptionsBecomeTheRequestsFields() throws Exception {
        executor.run(run("What is 6 × 7?", """
                {"model": "claude-haiku-4-5", "maxTokens": 200, "system": "Answer in one word.", "temperature": 0.3,
                 "stopSequences": ["END", "STOP"]}"""));
        executor.run(run("defaults", "{}"));

        JsonObject body = api.requestBodies().get(0);
        assertEquals("claude-haiku-4-5", body.getString("model"));
        assertEquals(200, body.getInt("max_tokens"));
        assertEquals("Answer in one word.", body.getString("system"));
        assertEquals(0.3, body.getJsonNumber("temperature").doubleValue(), 1e-9);
        assertEquals(List.of("END", "STOP"), body.getJsonArray("stop_sequences").getValuesAs(jakarta.json.JsonString.class)
                .stream().map(jakarta.json.JsonString::getString).toList());
        assertTrue(body.getBoolean("stream"), "the answer is streamed");
        JsonObject message = body.getJsonArray("messages").getJsonObject(0);
        assertEquals("user", message.getString("role"));
        assertTrue(message.toString().contains("What is 6 × 7?"), message.toString());
        JsonObject defaults = api.requestBodies().get(1);
        assertEquals(AnthropicSettings.DEFAULTS.defaultModel(), defaults.getString("model"));
        assertEquals(AnthropicSettings.DEFAULTS.defaultMaxTokens(), defaults.getInt("max_tokens"));
        assertFalse(defaults.containsKey("system") || defaults.containsKey("temperature")
                || defaults.containsKey("stop_sequences"), defaults.toString());
    }

    @Test
    void a429IsRateLimitedUntilItsRetryAfterAndTheNodeIsToldAtTheFirst() throws Exception {
        api.rateLimitAlways();
        Instant before = Instant.now();

        Outcome outcome = executor.run(run("hello", "{}"));

        assertEquals(Outcome.Kind.RATE_LIMITED, outcome.kind(), outcome::toString);
        assertTrue(outcome.error().contains("429") && outcome.error().contains("rate_limit_error"), outcome.error());
        assertNotNull(outcome.resumeAt(), "retry-after: 1");
        assertTrue(!outcome.resumeAt().isBefore(before.plusSeconds(1)), outcome.resumeAt() + " after " + before);
        assertEquals(2, api.requests(), "one request and the client's one retry (agentturbo.anthropic.max-retries)");
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(1)), rateLimits, "each 429 told as it came");
    }

    @Test
    void a429ThatPassesWithinTheClientsRetriesIsASuccess() throws Exception {
        api.replyWith("through").rateLimitFor(1, 1);

        Outcome outcome = executor.run(run("hello", "{}"));

        assertEquals(Outcome.Kind.SUCCEEDED, outcome.kind(), outcome::toString);
        assertEquals("through", outcome.result());
        assertEquals(1, rateLimits.size(), "the node still backs off the fleet at the 429");
    }

    @Test
    void anOverloadedApiIsRateLimited() throws Exception {
        api.overloaded();

        Outcome outcome = executor.run(run("hello", "{}"));

        assertEquals(Outcome.Kind.RATE_LIMITED, outcome.kind(), outcome::toString);
        assertTrue(outcome.error().contains("529") && outcome.error().contains("overloaded_error"), outcome.error());
        assertNull(outcome.resumeAt(), "no retry-after");
        assertEquals(2, rateLimits.size());
    }

    @Test
    void theUsageLimitIsUsageLimitedUntilItsResetAndNotRetried() throws Exception {
        Instant reset = Instant.now().plus(3, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
        api.usageLimitUntil(reset);

        Outcome outcome = executor.run(run("hello", "{}"));

        assertEquals(Outcome.Kind.USAGE_LIMITED, outcome.kind(), outcome::toString);
        assertEquals(reset, outcome.resumeAt());
        assertTrue(outcome.error().startsWith("usage limit reached until " + reset), outcome.error());
        assertEquals(1, api.requests(), "a closed window is not asked again");
        assertEquals(List.of(), rateLimits, "a usage limit is no rate limit");
    }

    @Test
    void aRefusedKeyIsACredentialsOutcomeThatSaysWhatToDo() throws Exception {
        api.refuseCredentials();

        Outcome outcome = executor.run(run("hello", "{}"));

        assertEquals(Outcome.Kind.CREDENTIALS, outcome.kind(), outcome::toString);
        assertTrue(outcome.error().startsWith("the Messages API refused the key (401 authentication_error"),
                outcome.error());
        assertTrue(outcome.error().contains("set a valid ANTHROPIC_API_KEY"), outcome.error());
        assertEquals(1, api.requests(), "a refused key is not tried again");
    }

    @Test
    void aRequestTheApiRefusesFailsForGood() throws Exception {
        api.invalidRequest("model: claude-nonesuch-1");

        Outcome outcome = executor.run(run("hello", "{\"model\": \"claude-nonesuch-1\"}"));

        assertEquals(Outcome.Kind.PERMANENT, outcome.kind(), outcome::toString);
        assertEquals("the Messages API answered 400 (invalid_request_error): model: claude-nonesuch-1", outcome.error());
    }

    @Test
    void anUnreachableApiIsARetryableFailure() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + closedPort;
        try (AnthropicApi unreachable = executor(Map.of("ANTHROPIC_API_KEY", KEY, "ANTHROPIC_BASE_URL", url))) {
            Outcome outcome = unreachable.run(run("hello", "{}"));

            assertEquals(Outcome.Kind.RETRYABLE, outcome.kind(), outcome::toString);
            assertTrue(outcome.error().startsWith("could not reach the Messages API at " + url), outcome.error());
        }
    }

    @Test
    void withoutAKeyTheFirstTaskPausesTheExecutorAndNoRequestIsSent() throws Exception {
        try (AnthropicApi keyless = executor(Map.of("ANTHROPIC_API_KEY", "", "ANTHROPIC_BASE_URL", api.baseUrl()))) {
            assertEquals("none", keyless.credential());
            Outcome outcome = keyless.run(run("hello", "{}"));
            assertEquals(Outcome.Kind.CREDENTIALS, outcome.kind());
            assertTrue(outcome.error().contains("set ANTHROPIC_API_KEY in the node's environment and restart"),
                    outcome.error());
        }
        assertEquals(0, api.requests());
        assertEquals(AgentExecutor.fingerprint("key", KEY.getBytes(StandardCharsets.UTF_8)), executor.credential());
        assertTrue(executor.credential().matches("key:[0-9a-f]{12}"), executor.credential());
        assertTrue(executor.credentialProblem().isEmpty());
    }

    @Test
    void invalidOptionsAreRefusedWithWhatToChange() {
        List<String> problems = executor.check(options("""
                {"model": " ", "maxTokens": 200000, "temperature": 3, "system": 7,
                 "stopSequences": ["1", "2", "3", "4", "5", "6", "7", "8", "9"], "maxTurns": 3}"""), false);

        assertEquals(List.of(
                "options.maxTurns is not an option of executor 'anthropic-api'; its options are: maxTokens, model,"
                        + " stopSequences, system, temperature",
                "options.model must not be blank",
                "options.maxTokens must be from 1 to 128000, not 200000",
                "options.system must be a string",
                "options.temperature must be from 0 to 1, not 3",
                "options.stopSequences may hold at most 8 sequences"), problems);
        assertEquals(List.of("options.maxTokens must be from 1 to 128000, not 0",
                        "options.temperature must be a number from 0 to 1",
                        "options.stopSequences must be a string or an array of non-blank strings"),
                executor.check(options("{\"maxTokens\": 0, \"temperature\": \"hot\", \"stopSequences\": [\"\"]}"), false));
        assertEquals(List.of(), executor.check(options("""
                {"model": "claude-opus-4-5", "maxTokens": 128000, "temperature": 0, "system": "be brief",
                 "stopSequences": ["END"]}"""), false));
    }

    @Test
    void anAbortWhileTheAnswerHasNotBegunReturnsAtOnce() throws Exception {
        api.hang();
        assertAbortReturnsPromptly(run("wait", "{}"), () -> api.requests() == 1);
    }

    @Test
    void anAbortInTheMiddleOfAStreamedAnswerReturnsAtOnce() throws Exception {
        api.startThenHang("The beginning");
        assertAbortReturnsPromptly(run("wait", "{}"), () -> api.requests() == 1);
    }

    @Test
    void anInterruptedRunReturnsAtOnce() throws Exception {
        api.hang();
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            Future<Outcome> running = thread.submit(() -> executor.run(run("wait", "{}")));
            await().atMost(Duration.ofSeconds(20)).until(() -> api.requests() == 1);
            long start = System.nanoTime();
            running.cancel(true);
            thread.shutdown();
            assertTrue(thread.awaitTermination(2, TimeUnit.SECONDS), "the run ended within 2 s of the interrupt");
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2000);
        } finally {
            thread.shutdownNow();
        }
    }

    private void assertAbortReturnsPromptly(AgentRun run, java.util.concurrent.Callable<Boolean> started) throws Exception {
        CompletableFuture<Outcome> running = CompletableFuture.supplyAsync(() -> {
            try {
                return executor.run(run);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(20)).until(started);
        Thread.sleep(200);
        assertFalse(running.isDone(), "the answer hangs");
        long start = System.nanoTime();
        run.abort();
        Outcome outcome = running.get(2, TimeUnit.SECONDS);
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2000);
        assertEquals(Outcome.Kind.RETRYABLE, outcome.kind(), outcome::toString);
    }

    private AnthropicApi executor(Map<String, String> environment) {
        return new AnthropicApi(new AnthropicSettings(AnthropicSettings.DEFAULTS.defaultModel(),
                AnthropicSettings.DEFAULTS.defaultMaxTokens(), 1, PRICES), new HashMap<>(environment), Clock.systemUTC());
    }

    private AgentRun run(String prompt, String optionsJson) {
        long id = IDS.incrementAndGet();
        ClaimedTask task = new ClaimedTask(id, 1, 3, id, "it-worker", 0, AnthropicApi.NAME, prompt, optionsJson, 120, java.time.Duration.ZERO);
        AgentOutput collect = (stream, kind, text, event) -> output.add(new String[]{kind, text});
        return AgentRun.of(task, Path.of("target", "anthropic-api-it"), Path.of("target", "anthropic-api-it"), collect,
                (reason, retryAfter) -> rateLimits.add(retryAfter));
    }

    private List<String> texts(String kind) {
        synchronized (output) {
            return output.stream().filter(o -> o[0].equals(kind)).map(o -> o[1]).toList();
        }
    }

    private static JsonObject options(String json) {
        try (var reader = Json.createReader(new StringReader(json))) {
            return reader.readObject();
        }
    }
}
