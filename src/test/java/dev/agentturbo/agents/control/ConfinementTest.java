package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.Sandbox;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.Json;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an agent may reach: working directories inside the allowed roots only, and the allowed variables only. */
class ConfinementTest {

    @TempDir
    Path dir;
    Path work;
    Path repos;
    Confinement confinement;

    @BeforeEach
    void sandbox() throws Exception {
        work = Files.createDirectories(dir.resolve("node"));
        Files.createDirectories(work.resolve("slot-2/claude-config"));
        Files.createDirectories(work.resolve("tasks"));
        repos = Files.createDirectories(dir.resolve("repos/webapp"));
        Sandbox defaults = Sandbox.of(work);
        confinement = new Confinement(new Sandbox(defaults.environment(), List.of(dir.resolve("repos"), work), work,
                defaults.permissionModes(), defaults.privilegedPermissionModes()));
    }

    @Test
    void aFolderInAnAllowedRootIsAllowedEvenBeforeItExists() {
        assertEquals(Optional.empty(), confinement.refuse(repos.toString()));
        assertEquals(Optional.empty(), confinement.refuse(dir.resolve("repos/new/deeper").toString()));
        assertEquals(Optional.empty(), confinement.refuse(work.resolve("tasks/mine").toString()));
        assertEquals(repos, confinement.real(Path.of(repos + "/./src/..")));
    }

    @Test
    void escapesAreRefusedWithTheAllowedRoots() throws Exception {
        Files.createSymbolicLink(dir.resolve("repos/etc-link"), Path.of("/etc"));
        Files.createSymbolicLink(dir.resolve("repos/dangling"), dir.resolve("nowhere/at/all"));
        for (String escape : List.of("/etc", "/", "/tmp/../etc", repos + "/../../..", dir.resolve("repos/etc-link").toString(),
                dir.resolve("repos/etc-link/ssh").toString(), dir.resolve("repos/dangling").toString(),
                work.resolve("slot-2").toString(), work.resolve("slot-2/claude-config").toString(),
                work.resolve("tasks/../slot-2").toString(), work.toString(), "relative/path")) {
            Optional<String> problem = confinement.refuse(escape);
            assertTrue(problem.isPresent(), escape + " was allowed");
            assertTrue(problem.get().contains("options.workingDirectory"), problem.get());
        }
        assertTrue(confinement.refuse("/etc").orElseThrow().contains(dir.resolve("repos").toString()),
                "the message names the allowed roots");
    }

    @Test
    void anAgentGetsOnlyTheAllowedVariablesOfTheNode() {
        Map<String, String> env = confinement.environment(Map.of("PATH", "/usr/bin", "HOME", "/home/n", "LC_ALL", "C",
                "ANTHROPIC_API_KEY", "k", "CLAUDE_CODE_OAUTH_TOKEN", "t", "DB_URL", "jdbc:…", "DB_PASSWORD", "secret",
                "AGENTTURBO_BOOTSTRAP_TOKEN", "x", "AWS_SECRET_ACCESS_KEY", "y", "PATHEXT", "z"), Map.of("CLAUDE_CONFIG_DIR", "/c"));

        assertEquals(Set.of("PATH", "HOME", "LC_ALL", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CONFIG_DIR"),
                env.keySet());
    }

    @Test
    void aCommandAgentPrintsNoneOfTheNodesOtherVariables() throws Exception {
        AllowedCommand env = new AllowedCommand(List.of("/usr/bin/env"), confinement,
                dev.agentturbo.agents.entity.OutputLimits.DEFAULTS);
        ClaimedTask task = new ClaimedTask(1, 1, 1, 1, "w", 1, "command", "", "{\"command\": \"/usr/bin/env\"}", 60, java.time.Duration.ZERO);
        Outcome outcome = env.run(AgentRun.of(task, work.resolve("slot-1"), work.resolve("tasks")));

        assertEquals(Outcome.Kind.SUCCEEDED, outcome.kind(), outcome::toString);
        for (String line : outcome.result().split("\n")) {
            String name = line.substring(0, line.indexOf('='));
            assertTrue(Set.of("PATH", "HOME", "LANG", "TZ", "CLAUDE_CONFIG_DIR").contains(name) || name.startsWith("LC_")
                    || name.startsWith("ANTHROPIC_") || name.startsWith("CLAUDE_CODE_") || name.equals("PWD"), line);
        }
    }

    @Test
    void onlyAnOperatorMayAskForAPrivilegedPermissionMode() {
        Sandbox sandbox = Sandbox.of(work);
        ClaudeCli cli = new ClaudeCli("claude", Map.of(), java.time.Clock.systemUTC(), sandbox, confinement,
                dev.agentturbo.agents.entity.OutputLimits.DEFAULTS);
        var bypass = Json.createReader(new StringReader("{\"permissionMode\": \"bypassPermissions\"}")).readObject();
        var unknown = Json.createReader(new StringReader("{\"permissionMode\": \"yolo\"}")).readObject();

        assertTrue(cli.check(bypass, false).get(0).contains("may only be asked for by an operator"));
        assertEquals(List.of(), cli.check(bypass, true));
        assertTrue(cli.check(unknown, true).get(0).contains("must be one of acceptEdits, default, dontAsk, plan"));
        assertFalse(cli.check(Json.createReader(new StringReader("{\"permissionMode\": \"plan\"}")).readObject(), false)
                .iterator().hasNext());
    }
}
