package dev.agentturbo.tasks.entity;

import java.time.Duration;

/**
 * How a node stores agents' output (the agentturbo.output.* keys).
 *
 * @param maxCharsPerTask what a task keeps: the first half of it, and of each attempt past that the last half;
 *                        the middle is dropped and a line says how much
 * @param flushInterval   how long output waits in the node for company before it is written (one statement for
 *                        every running agent's new lines)
 * @param bufferChars     how much output a node holds while the database is away; past it new lines are dropped
 *                        and counted
 */
public record OutputSettings(int maxCharsPerTask, Duration flushInterval, long bufferChars) {

    public OutputSettings {
        if (maxCharsPerTask < 10_000) {
            throw new IllegalArgumentException("agentturbo.output.max-chars-per-task must be at least 10000, not "
                    + maxCharsPerTask);
        }
        if (flushInterval.isNegative() || flushInterval.isZero()) {
            throw new IllegalArgumentException("agentturbo.output.flush-millis must be 1 or more");
        }
        if (bufferChars < maxCharsPerTask) {
            throw new IllegalArgumentException("agentturbo.output.buffer-chars must be at least"
                    + " agentturbo.output.max-chars-per-task");
        }
    }
}
