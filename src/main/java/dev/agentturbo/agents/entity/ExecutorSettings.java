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
 */
public record ExecutorSettings(String claudeCommand, List<String> allowedCommands, Sandbox sandbox,
                               OutputLimits limits, AnthropicSettings anthropic) {

    /** The default sandbox around the given work dir, the default output limits, the Messages API without prices. */
    public static ExecutorSettings of(String claudeCommand, List<String> allowedCommands, Path workRoot) {
        return new ExecutorSettings(claudeCommand, allowedCommands, Sandbox.of(workRoot), OutputLimits.DEFAULTS,
                AnthropicSettings.DEFAULTS);
    }
}
