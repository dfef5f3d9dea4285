package dev.agentturbo.tasks.entity;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * What one attempt of a task came to, and what should happen next.
 *
 * @param resumeAt for {@link Kind#USAGE_LIMITED}: when the subscription's window resets; else null
 */
public record Outcome(Kind kind, String result, String error, Integer exitCode, BigDecimal costUsd,
                      Long inputTokens, Long outputTokens, Integer numTurns, String sessionId, Instant resumeAt) {

    public enum Kind {
        /** The agent finished and reported no error. */
        SUCCEEDED,
        /** This attempt failed for a reason that may pass (crash, timeout, rate limit, unreachable server): retry. */
        RETRYABLE,
        /** Retrying cannot help (unknown executor, program not found, bad options): fail now. */
        PERMANENT,
        /** The subscription's usage limit was reached: back to the queue until {@code resumeAt}, attempt not counted. */
        USAGE_LIMITED,
        /** The node gave the task back before the agent finished (it is stopping): back to the queue, not counted. */
        RELEASED,
        /** A user asked to cancel the task and its agent was killed. */
        CANCELLED
    }

    public static Outcome succeeded(String result, Integer exitCode) {
        return new Outcome(Kind.SUCCEEDED, result, null, exitCode, null, null, null, null, null, null);
    }

    public static Outcome retryable(String error, Integer exitCode) {
        return new Outcome(Kind.RETRYABLE, null, error, exitCode, null, null, null, null, null, null);
    }

    public static Outcome permanent(String error) {
        return new Outcome(Kind.PERMANENT, null, error, null, null, null, null, null, null, null);
    }

    /** The node gives the task back unfinished; it runs again at once elsewhere, the attempt not counted. */
    public static Outcome released(String reason) {
        return new Outcome(Kind.RELEASED, null, reason, null, null, null, null, null, null, null);
    }

    /** The agent was killed because a user asked to cancel the task. */
    public static Outcome cancelled(String reason) {
        return new Outcome(Kind.CANCELLED, null, reason, null, null, null, null, null, null, null);
    }

    public Outcome withResult(String newResult) {
        return new Outcome(kind, newResult, error, exitCode, costUsd, inputTokens, outputTokens, numTurns, sessionId,
                resumeAt);
    }
}
