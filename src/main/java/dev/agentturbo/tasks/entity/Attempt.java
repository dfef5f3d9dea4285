package dev.agentturbo.tasks.entity;

import java.time.Instant;

/**
 * One attempt of a task: where it ran, when, and how it ended.
 *
 * @param outcome completed, failed, cancelled, retrying (failed and tried again), released (given back without
 *                counting: node stopped, usage limit), expired (its node stopped renewing the lease), or running
 * @param endedAt null while it runs
 */
public record Attempt(int attempt, String worker, Instant startedAt, Instant endedAt, String outcome, String error) {
}
