package dev.agentturbo.agents.entity;

import java.nio.file.Path;
import java.util.List;

/**
 * How this node runs agents.
 *
 * @param claudeCommand the {@code claude} program (agentturbo.claude.command)
 * @param allowedCommands the programs the {@code command} executor may run, as absolute paths
 *                        (agentturbo.command.allowed)
 * @param sandbox what an agent may reach
 * @param limits how much of an agent's output is kept
 * @param anthropic how the {@code anthropic-api} executor talks to the Messages API
 * @param worktrees where and how tasks that name a repository get their git worktree
 */
public record ExecutorSettings(String claudeCommand, List<String> allowedCommands, Sandbox sandbox,
                               OutputLimits limits, AnthropicSettings anthropic, WorktreeSettings worktrees) {

    /** With the default worktree settings (under the sandbox's work dir). */
    public ExecutorSettings(String claudeCommand, List<String> allowedCommands, Sandbox sandbox, OutputLimits limits,
                            AnthropicSettings anthropic) {
        this(claudeCommand, allowedCommands, sandbox, limits, anthropic, WorktreeSettings.of(sandbox.workRoot()));
    }

    /** The default sandbox around the given work dir, the default output limits, the Messages API without prices. */
    public static ExecutorSettings of(String claudeCommand, List<String> allowedCommands, Path workRoot) {
        return new ExecutorSettings(claudeCommand, allowedCommands, Sandbox.of(workRoot), OutputLimits.DEFAULTS,
                AnthropicSettings.DEFAULTS);
    }
}
