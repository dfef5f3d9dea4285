package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.OutputLimits;
import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.JsonObject;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code command} executor: runs a program named in the configured allow-list, with the prompt on stdin.
 * Its stdout becomes the result and its exit code the outcome (0 succeeded, anything else a retryable failure).
 */
public final class AllowedCommand implements AgentExecutor {

    public static final String NAME = "command";

    private final List<String> allowed;
    private final Confinement confinement;
    private final OutputLimits limits;

    /** @param allowed absolute paths of the programs tasks may run: a program is never looked up on the PATH */
    AllowedCommand(List<String> allowed, Confinement confinement, OutputLimits limits) {
        this.allowed = allowed.stream().filter(c -> c.startsWith("/")).toList();
        this.confinement = confinement;
        this.limits = limits;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> check(JsonObject options, boolean privileged) {
        return OptionRules.of(NAME, options, "command", "args", "workingDirectory", "repository", "branch", "baseRef",
                        "cleanup")
                .require("command")
                .string("command", 4096)
                .check(!(options.get("command") instanceof jakarta.json.JsonString s) || allowed.contains(s.getString()),
                        "options.command must be one of the programs this node allows ("
                                + (allowed.isEmpty() ? "none: set agentturbo.command.allowed" : String.join(", ", allowed))
                                + ")")
                .strings("args")
                .workingDirectory("workingDirectory", confinement)
                .repository(confinement)
                .problems();
    }

    @Override
    public Outcome run(AgentRun run) throws InterruptedException {
        List<String> problems = check(run.options(), true);
        if (!problems.isEmpty()) {
            return Outcome.permanent(String.join("; ", problems));
        }
        List<String> command = new ArrayList<>();
        command.add(run.options().getString("command"));
        command.addAll(OptionRules.values(run.options(), "args"));
        AgentProcess process;
        try {
            process = AgentProcess.start(command, WorkingDirectory.of(run, confinement),
                    confinement.environment(System.getenv(), Map.of()), run.task().prompt(), limits.maxLineChars(),
                    line -> run.output().line("stderr", "stderr", line, null));
        } catch (IOException e) {
            return Outcome.permanent("could not start " + command.get(0) + ": " + e.getMessage());
        }
        run.attach(process);
        StringBuilder out = new StringBuilder();
        int exit = process.readStdout(line -> {
            run.output().line("stdout", "stdout", line, null);
            if (out.length() < limits.maxResultChars()) {
                out.append(line).append('\n');
            }
        });
        String result = out.length() > limits.maxResultChars() ? out.substring(0, limits.maxResultChars()) : out.toString();
        if (exit == 0) {
            return Outcome.succeeded(result, 0);
        }
        String stderr = process.stderrTail();
        return Outcome.retryable(command.get(0) + " exited with " + exit
                + (stderr.isBlank() ? "" : ": " + stderr), exit).withResult(result.isEmpty() ? null : result);
    }
}
