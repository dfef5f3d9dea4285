package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.Sandbox;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringReader;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the executors do without any agent program: argument lists, refusals, programs that cannot start. */
class ExecutorsTest {

    @TempDir
    Path dir;

    @Test
    void claudeOptionsBecomeFlagsInTheEqualsFormAndThePromptIsNoArgument() {
        ClaudeCli cli = new ClaudeCli("/opt/bin/claude --debug-off", Clock.systemUTC(), Sandbox.of(dir));
        List<String> args = cli.arguments(options("""
                {"model": "-sonnet", "maxTurns": 7, "allowedTools": ["Read", "Bash(git log:*)"],
                 "permissionMode": "acceptEdits", "appendSystemPrompt": "--be brief"}"""));

        assertEquals(List.of("/opt/bin/claude", "--debug-off", "-p", "--output-format", "stream-json", "--verbose",
                "--model=-sonnet", "--max-turns=7", "--allowedTools=Read,Bash(git log:*)",
                "--permission-mode=acceptEdits", "--append-system-prompt=--be brief"), args);
    }

    @Test
    void aClaudeProgramThatCannotBeStartedFailsTheTaskForGood() throws Exception {
        Outcome outcome = new ClaudeCli(dir.resolve("no-such-claude").toString(), Clock.systemUTC(), Sandbox.of(dir))
                .run(run("{}"));

        assertEquals(Outcome.Kind.PERMANENT, outcome.kind());
        assertTrue(outcome.error().contains("could not start the claude program"), outcome.error());
        assertTrue(outcome.error().contains("AGENTTURBO_CLAUDE_COMMAND"), outcome.error());
    }

    @Test
    void anAllowedCommandThatDoesNotExistFailsTheTaskForGood() throws Exception {
        String missing = dir.resolve("missing-tool").toString();
        Outcome outcome = new AllowedCommand(List.of(missing), confinement(), dev.agentturbo.agents.entity.OutputLimits.DEFAULTS).run(run("{\"command\": \"" + missing + "\"}"));

        assertEquals(Outcome.Kind.PERMANENT, outcome.kind());
        assertTrue(outcome.error().startsWith("could not start " + missing), outcome.error());
    }

    @Test
    void aCommandOutsideTheAllowListNeverRuns() throws Exception {
        Outcome outcome = new AllowedCommand(List.of("/usr/bin/cat"), confinement(), dev.agentturbo.agents.entity.OutputLimits.DEFAULTS).run(run("{\"command\": \"/bin/sh\", \"args\": [\"-c\", \"touch x\"]}"));

        assertEquals(Outcome.Kind.PERMANENT, outcome.kind());
        assertFalse(dir.resolve("work/task-1/x").toFile().exists());
    }

    @Test
    void aCommandsNonZeroExitIsARetryableFailureWithItsStderr() throws Exception {
        Outcome outcome = new AllowedCommand(List.of("/bin/sh"), confinement(), dev.agentturbo.agents.entity.OutputLimits.DEFAULTS).run(run("{\"command\": \"/bin/sh\", \"args\": [\"-c\", \"echo out; echo broken >&2; exit 3\"]}"));

        assertEquals(Outcome.Kind.RETRYABLE, outcome.kind());
        assertEquals(3, outcome.exitCode());
        assertEquals("out\n", outcome.result());
        assertTrue(outcome.error().contains("exited with 3: broken"), outcome.error());
    }

    @Test
    void theSimulatedExecutorEndsAsItIsTold() throws Exception {
        assertEquals(Outcome.Kind.SUCCEEDED, new Simulated().run(run("{\"durationMs\": 1}")).kind());
        assertEquals(Outcome.Kind.RETRYABLE, new Simulated().run(run("{\"durationMs\": 1, \"outcome\": \"failure\"}")).kind());
    }

    private Confinement confinement() {
        return new Confinement(Sandbox.of(dir));
    }

    private AgentRun run(String optionsJson) {
        ClaimedTask task = new ClaimedTask(1, 1, 3, 1, "test", 1, "x", "the prompt", optionsJson, 60, java.time.Duration.ZERO);
        return AgentRun.of(task, dir.resolve("slot"), dir.resolve("work"));
    }

    private static JsonObject options(String json) {
        try (var reader = Json.createReader(new StringReader(json))) {
            return reader.readObject();
        }
    }
}
