package dev.agentturbo.agents.entity;

import java.util.List;

/**
 * How this node runs agents.
 *
 * @param claudeCommand the {@code claude} program (agentturbo.claude.command)
 * @param allowedCommands the programs the {@code command} executor may run (agentturbo.command.allowed)
 */
public record ExecutorSettings(String claudeCommand, List<String> allowedCommands) {
}
