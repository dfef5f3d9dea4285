package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.AgentOutput;
import dev.agentturbo.agents.entity.Sandbox;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.testing.ClaudeProgram;
import dev.agentturbo.testing.ClaudeProgram.Auth;
import dev.agentturbo.testing.FakeMessagesApi;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The {@code claude-cli} executor driving the real {@code claude} program (npm {@code @anthropic-ai/claude-code},
 * the version {@link ClaudeProgram} pins) against a {@link FakeMessagesApi}: no mock of the program anywhere.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClaudeCliIT {

    private static final Logger LOG = Logger.getLogger(ClaudeCliIT.class.getName());
    private static final AtomicLong IDS = new AtomicLong(System.currentTimeMillis() % 1_000_000 * 1000);

    private static Path program;
    private FakeMessagesApi api;
    private Path root;

    @BeforeAll
    static void install() {
        program = ClaudeProgram.path();
    }

    @BeforeEach
    void start(TestInfo test) throws IOException {
        api = FakeMessagesApi.start();
        root = Files.createDirectories(Path.of("target", "claude-cli-it",
                test.getTestMethod().orElseThrow().getName() + "-" + IDS.incrementAndGet()).toAbsolutePath());
    }

    @AfterEach
    void stop() throws InterruptedException {
        try {
            assertEquals(List.of(), claudeProcessesLeft(Duration.ofSeconds(5)), "claude processes left behind");
        } finally {
            api.close();
        }
    }

    @Test
    void aReplyIsASuccessWithItsCostTokensTurnsAndSession() throws Exception {
        api.replyWith("The answer is 42.", 1200, 340);
        // stdin carries the prompt verbatim: a leading dash, quotes, a shell's special characters, two lines
        String prompt = "--version \"quoted\" $HOME `id` ; rm -rf / #\nsecond line: ünïcødé";

        Instant start = Instant.now();
        Outcome outcome = cli(Auth.API_KEY).run(run(prompt, "{}"));
        LOG.info(() -> "success run took " + Duration.between(start, Instant.now()).toMillis() + " ms: " + outcome);

        assertEquals(Outcome.Kind.SUCCEEDED, outcome.kind(), outcome::toString);
        assertEquals("The answer is 42.", outcome.result());
        assertNull(outcome.error());
        assertEquals(0, outcome.exitCode());
        assertNotNull(outcome.costUsd());
        assertTrue(outcome.costUsd().compareTo(BigDecimal.ZERO) > 0, "cost " + outcome.costUsd());
        assertEquals(1200L, outcome.inputTokens());
        assertEquals(340L, outcome.outputTokens());
        assertEquals(1, outcome.numTurns());
        assertTrue(outcome.sessionId() != null && outcome.sessionId().matches("[0-9a-f-]{36}"), outcome.sessionId());
        assertEquals(1, api.requests());
        assertTrue(userTexts(api.requestBodies().get(0)).contains(prompt),
                "the prompt arrives verbatim as a user message: " + userTexts(api.requestBodies().get(0)));
    }

    @Test
    void aRateLimitThatDoesNotPassBacksOffTheFleetWhileTheProgramRetriesAndEndsRateLimited() throws Exception {
        api.rateLimitAlways();
        // the program retries a 429 by itself, 10 times by default with up to ~40 s between tries; two here
        Instant start = Instant.now();
        List<Duration> signals = new java.util.concurrent.CopyOnWriteArrayList<>();
        AgentRun run = run("hello", "{}");
        run = AgentRun.of(run.task(), run.slotHome(), run.workRoot(), AgentOutput.NONE,
                (reason, retryAfter) -> signals.add(retryAfter));
        Outcome outcome = cli(Auth.API_KEY, Map.of("CLAUDE_CODE_MAX_RETRIES", "2")).run(run);
        Duration took = Duration.between(start, Instant.now());
        LOG.info(() -> "rate-limited run took " + took.toMillis() + " ms: " + outcome);

        assertEquals(Outcome.Kind.RATE_LIMITED, outcome.kind(), outcome::toString);
        assertTrue(outcome.error().startsWith("the API stayed rate-limited (429) through 2 retries of claude"),
                outcome.error());
        assertEquals(2, signals.size(), "each retry of the program told the node at once: " + signals);
        assertEquals(1, outcome.exitCode());
        assertNull(outcome.resumeAt());
        assertEquals(3, api.requests(), "one request and the program's own two retries");
        assertTrue(took.compareTo(Duration.ofSeconds(60)) < 0, "took " + took);
    }

    @Test
    void theSubscriptionsUsageLimitPausesUntilItsReset() throws Exception {
        Instant reset = Instant.now().plus(3, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).plusSeconds(17);
        api.usageLimitUntil(reset);

        Instant start = Instant.now();
        Outcome outcome = cli(Auth.SUBSCRIPTION).run(run("hello", "{}"));
        Duration took = Duration.between(start, Instant.now());
        LOG.info(() -> "usage-limited run took " + took.toMillis() + " ms: " + outcome);

        assertEquals(Outcome.Kind.USAGE_LIMITED, outcome.kind(), outcome::toString);
        assertEquals(reset, outcome.resumeAt());
        assertEquals(1, api.requests(), "the program does not retry a usage limit");
        assertEquals(1, outcome.exitCode());
        assertTrue(outcome.error().startsWith("usage limit reached"), outcome.error());
    }

    @Test
    void thePlainRateLimitOfASubscriptionIsNoUsageLimitButARateLimit() throws Exception {
        api.rateLimitAlways();
        Outcome outcome = cli(Auth.SUBSCRIPTION).run(run("hello", "{}"));

        assertEquals(Outcome.Kind.RATE_LIMITED, outcome.kind(), outcome::toString);
        assertNull(outcome.resumeAt());
        assertTrue(outcome.error().startsWith("the API stayed rate-limited (429)"), outcome.error());
    }

    @Test
    void abortingAHungRunKillsTheProgramAndReturnsPromptly() throws Exception {
        api.hang();
        AgentRun run = run("hello", "{}");
        ClaudeCli cli = cli(Auth.API_KEY);
        CompletableFuture<Outcome> running = inBackground(cli, run);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (api.requests() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(1, api.requests(), "the program sent its request and waits for the answer");
        Thread.sleep(2000);
        assertFalse(running.isDone(), "a hung server keeps the run waiting");
        assertFalse(claudeProcessesLeft(Duration.ZERO).isEmpty(), "the program runs");

        Instant abort = Instant.now();
        run.abort();
        Outcome outcome = running.get(10, TimeUnit.SECONDS);
        Duration took = Duration.between(abort, Instant.now());
        LOG.info(() -> "aborted run returned " + took.toMillis() + " ms after abort(): " + outcome);

        assertTrue(took.compareTo(Duration.ofSeconds(3)) < 0, "took " + took);
        assertEquals(Outcome.Kind.RETRYABLE, outcome.kind(), outcome::toString);
        assertEquals(137, outcome.exitCode(), "killed at once (SIGKILL)");
        assertNotNull(outcome.sessionId(), "from the init line");
        assertEquals(List.of(), claudeProcessesLeft(Duration.ZERO));
    }

    @Test
    void abortingARunningToolKillsTheToolToo() throws Exception {
        String marker = "sleep 301";
        api.useToolThenReply("Bash", "{\"command\":\"" + marker + "\",\"timeout\":600000}", "slept");
        AgentRun run = run("sleep", "{\"allowedTools\":[\"Bash\"]}");
        ClaudeCli cli = cli(Auth.API_KEY);
        CompletableFuture<Outcome> running = inBackground(cli, run);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        // the tool itself, not only the shell that will start it: a shell's start-up (a user's profile sourced by the
        // program's shell snapshot, e.g. pyenv's) can take seconds before the command runs
        while (toolRunning(marker).isEmpty() && System.nanoTime() < deadline && !running.isDone()) {
            Thread.sleep(50);
        }
        Thread.sleep(1000); // the program is waiting for its tool
        List<String> tree = ProcessHandle.current().descendants().map(ClaudeCliIT::describe).toList();
        LOG.info(() -> "process tree while the tool runs: " + tree);
        assertFalse(toolRunning(marker).isEmpty(), "the tool runs: " + tree);

        Instant abort = Instant.now();
        run.abort();
        Outcome outcome = running.get(10, TimeUnit.SECONDS);
        Duration took = Duration.between(abort, Instant.now());
        LOG.info(() -> "run with a tool returned " + took.toMillis() + " ms after abort(): " + outcome);

        assertEquals(Outcome.Kind.RETRYABLE, outcome.kind(), outcome::toString);
        assertEquals(137, outcome.exitCode(), "killed at once");
        assertTrue(took.compareTo(Duration.ofSeconds(3)) < 0, "took " + took);
        assertEquals(List.of(), processesWith(marker), "the tool's processes are gone");
        Thread.sleep(500);
        assertEquals(1, api.requests(), "the agent did not go on with a next turn");
    }

    @Test
    void modelAndAppendedSystemPromptReachTheRequest() throws Exception {
        api.replyWith("ok", 1_000_000, 1_000_000);
        String marker = "Always answer in Latin. Marker 7f3c-appended.";
        JsonObject options = Json.createObjectBuilder().add("model", "claude-haiku-4-5")
                .add("appendSystemPrompt", marker).build();

        Outcome outcome = cli(Auth.API_KEY).run(run("hello", options.toString()));

        assertEquals(Outcome.Kind.SUCCEEDED, outcome.kind(), outcome::toString);
        JsonObject request = api.requestBodies().get(0);
        assertEquals("claude-haiku-4-5", request.getString("model"));
        assertTrue(systemText(request).contains(marker), "system prompt: " + systemText(request));
        // the program prices the run by the model it asked for: Haiku 4.5 at $1 / $5 per million tokens
        assertEquals(0, new BigDecimal("6").compareTo(outcome.costUsd()), "cost " + outcome.costUsd());
    }

    @Test
    void allowedToolsLetTheAgentRunATool() throws Exception {
        api.useToolThenReply("Bash", "{\"command\":\"echo proof > proof.txt\",\"description\":\"write proof\"}",
                "done");

        AgentRun denied = run("write the proof", "{}");
        Outcome without = cli(Auth.API_KEY).run(denied);
        AgentRun allowed = run("write the proof", "{\"allowedTools\":[\"Bash\"]}");
        Outcome with = cli(Auth.API_KEY).run(allowed);

        assertEquals(Outcome.Kind.SUCCEEDED, without.kind(), without::toString);
        assertFalse(Files.exists(WorkingDirectory.of(denied, confinement()).resolve("proof.txt")), "not allowed, not run");
        assertTrue(without.result().contains("\"is_error\":true"), without.result());
        assertEquals(Outcome.Kind.SUCCEEDED, with.kind(), with::toString);
        assertEquals(2, with.numTurns());
        assertEquals("proof\n", Files.readString(WorkingDirectory.of(allowed, confinement()).resolve("proof.txt")),
                "the tool ran in the task's working directory");
    }

    @Test
    void permissionModeAcceptEditsLetsTheAgentWriteFiles() throws Exception {
        Path dir = Files.createDirectories(root.resolve("edits"));
        api.useToolThenReply("Write", Json.createObjectBuilder()
                .add("file_path", dir.resolve("notes.txt").toString()).add("content", "written\n").build()
                .toString(), "done");

        Outcome asking = cli(Auth.API_KEY).run(run("write notes", workingDirectory(dir, "default")));
        assertFalse(Files.exists(dir.resolve("notes.txt")), "mode default: headless, nobody grants the edit");
        Outcome accepting = cli(Auth.API_KEY).run(run("write notes", workingDirectory(dir, "acceptEdits")));

        assertEquals(Outcome.Kind.SUCCEEDED, asking.kind(), asking::toString);
        assertEquals(Outcome.Kind.SUCCEEDED, accepting.kind(), accepting::toString);
        assertEquals("written\n", Files.readString(dir.resolve("notes.txt")));
    }

    @Test
    void maxTurnsStopsTheAgent() throws Exception {
        api.useToolThenReply("Bash", "{\"command\":\"true\"}", "done");

        Outcome outcome = cli(Auth.API_KEY).run(run("loop", "{\"maxTurns\":1,\"allowedTools\":\"Bash\"}"));

        assertEquals(Outcome.Kind.PERMANENT, outcome.kind(), outcome::toString);
        assertTrue(outcome.error().contains("error_max_turns"), outcome.error());
        assertEquals(1, outcome.exitCode());
        assertEquals(1, api.requests(), "no second turn");
    }

    @Test
    void bypassingPermissionsAsRootIsRefusedForGood() throws Exception {
        assumeTrue(isRoot(), "the program refuses --dangerously-skip-permissions only to root");

        // IS_SANDBOX=1 or CLAUDE_CODE_BUBBLEWRAP would let root bypass permissions: not here
        Outcome outcome = cli(Auth.API_KEY, Map.of("IS_SANDBOX", "", "CLAUDE_CODE_BUBBLEWRAP", ""))
                .run(run("hello", "{\"permissionMode\":\"bypassPermissions\"}"));

        assertEquals(Outcome.Kind.PERMANENT, outcome.kind(), outcome::toString);
        assertTrue(outcome.error().contains("root"), outcome.error());
        assertEquals(0, api.requests());
    }

    // ---------------------------------------------------------------------------------------------------------

    private ClaudeCli cli(Auth auth) {
        return cli(auth, Map.of());
    }

    private ClaudeCli cli(Auth auth, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(ClaudeProgram.environment(api, auth));
        env.putAll(extra);
        return new ClaudeCli(program.toString(), env, Clock.systemUTC(), sandbox(), confinement(),
                dev.agentturbo.agents.entity.OutputLimits.DEFAULTS);
    }

    /** Tasks may work anywhere under this test's folder; the node's work dir is a folder of its own in it. */
    private Sandbox sandbox() {
        Sandbox defaults = Sandbox.of(root.resolve("node"));
        return new Sandbox(defaults.environment(), List.of(root), root.resolve("node"), defaults.permissionModes(),
                defaults.privilegedPermissionModes());
    }

    private Confinement confinement() {
        return new Confinement(sandbox());
    }

    private AgentRun run(String prompt, String optionsJson) {
        long id = IDS.incrementAndGet();
        ClaimedTask task = new ClaimedTask(id, 1, 3, id, "it-worker", 0, ClaudeCli.NAME, prompt, optionsJson, 120, java.time.Duration.ZERO);
        return AgentRun.of(task, root.resolve("slot-0"), root.resolve("work"));
    }

    private static String workingDirectory(Path dir, String permissionMode) {
        return Json.createObjectBuilder().add("workingDirectory", dir.toString())
                .add("permissionMode", permissionMode).build().toString();
    }

    /** The texts of the request's user messages. */
    private static List<String> userTexts(JsonObject request) {
        return request.getJsonArray("messages").getValuesAs(JsonObject.class).stream()
                .filter(m -> "user".equals(m.getString("role")))
                .flatMap(m -> m.get("content") instanceof JsonString s ? List.of(s.getString()).stream()
                        : m.getJsonArray("content").getValuesAs(JsonObject.class).stream()
                        .filter(c -> "text".equals(c.getString("type", "")))
                        .map(c -> c.getString("text")))
                .toList();
    }

    private static String systemText(JsonObject request) {
        JsonValue system = request.get("system");
        if (system instanceof JsonString s) {
            return s.getString();
        }
        if (system instanceof JsonArray a) {
            return a.getValuesAs(JsonObject.class).stream().map(b -> b.getString("text", ""))
                    .collect(Collectors.joining("\n"));
        }
        return "";
    }

    /** The claude processes this JVM started that are still alive after waiting up to {@code wait}. */
    static List<String> claudeProcessesLeft(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<String> left = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                    .filter(p -> p.info().commandLine().or(() -> p.info().command()).orElse("").contains("claude"))
                    .map(p -> p.pid() + " " + p.info().commandLine().or(() -> p.info().command()).orElse("?"))
                    .toList();
            if (left.isEmpty() || System.nanoTime() >= deadline) {
                return left;
            }
            Thread.sleep(100);
        }
    }

    /** Processes anywhere on this machine whose command line contains {@code text}. */
    /** The processes that run this command itself (a shell whose command line mentions it is not one). */
    private static List<String> toolRunning(String command) {
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().orElse("").endsWith("/" + command))
                .map(ClaudeCliIT::describe).toList();
    }

    private static List<String> processesWith(String text) {
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().orElse("").contains(text))
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .map(ClaudeCliIT::describe).toList();
    }

    private static String describe(ProcessHandle p) {
        return p.pid() + "<" + p.parent().map(ProcessHandle::pid).orElse(-1L) + " "
                + p.info().commandLine().or(() -> p.info().command()).orElse("?");
    }

    private static boolean isRoot() {
        try {
            return "0".equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid").toString());
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** Runs the executor on another thread, as a slot's agent thread would. */
    private static CompletableFuture<Outcome> inBackground(ClaudeCli cli, AgentRun run) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return cli.run(run);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
