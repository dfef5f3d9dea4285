package dev.agentturbo.tasks.entity;

/**
 * One task another waits for.
 *
 * @param id the task waited for
 * @param status its status now
 * @param satisfied whether it completed (once is enough)
 */
public record Dependency(long id, TaskStatus status, boolean satisfied) {
}
