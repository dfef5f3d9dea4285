package dev.agentturbo.tasks.entity;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * What one attempt of a task came to, and what should happen next.
 *
 * @param resumeAt for {@link Kind#USAGE_LIMITED}: when the subscription's window resets; for
 *                 {@link Kind#RATE_LIMITED}: the earliest time the server said to try again (may be null); else null
 * @param worktree what the task's git worktree came to, as a JSON object (stored in agent_tasks.worktree), or null
 *                 when the task has none
 */
public record Outcome(Kind kind, String result, String error, Integer exitCode, BigDecimal costUsd,
                      Long inputTokens, Long outputTokens, Integer numTurns, String sessionId, Instant resumeAt,
                      String worktree) {

    public Outcome(Kind kind, String result, String error, Integer exitCode, BigDecimal costUsd, Long inputTokens,
                   Long outputTokens, Integer numTurns, String sessionId, Instant resumeAt) {
        this(kind, result, error, exitCode, costUsd, inputTokens, outputTokens, numTurns, sessionId, resumeAt, null);
    }

    public enum Kind {
        /** The agent finished and reported no error. */
        SUCCEEDED,
        /** This attempt failed for a reason that may pass (crash, timeout, rate limit, unreachable server): retry. */
        RETRYABLE,
        /** Retrying cannot help (unknown executor, program not found, bad options): fail now. */
        PERMANENT,
        /** The subscription's usage limit was reached: back to the queue until {@code resumeAt}, attempt not counted. */
        USAGE_LIMITED,
        /**
         * The API kept answering "rate limited" (429) or "overloaded" (529): the task goes back to the queue, its
         * attempt not counted, and the executor backs off for that credential fleet-wide.
         */
        RATE_LIMITED,
        /**
         * The agent's credential was refused or is missing (not logged in, invalid or expired key or token): the
         * task goes back to the queue, its attempt not counted, and the executor pauses for that credential until
         * an operator lifts the pause or a node brings other credentials.
         */
        CREDENTIALS,
        /** The node gave the task back before the agent finished (it is stopping): back to the queue, not counted. */
        RELEASED,
        /**
         * The task cannot run on this node (its repository is not on this host): back to the queue, not counted,
         * and this node is added to the task's {@code unable_workers}; when no live node is left outside that
         * list, the task fails with {@code error} and the nodes that lack what it needs.
         */
        NOT_HERE,
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

    /**
     * The API answered 429 or 529 until the agent gave up.
     *
     * @param notBefore the earliest time the server said to try again ({@code retry-after}), or null
     */
    public static Outcome rateLimited(String error, Instant notBefore) {
        return new Outcome(Kind.RATE_LIMITED, null, error, null, null, null, null, null, null, notBefore);
    }

    /** The agent's credential was refused or is missing; {@code error} says what the operator should do. */
    public static Outcome credentials(String error) {
        return new Outcome(Kind.CREDENTIALS, null, error, null, null, null, null, null, null, null);
    }

    /** The same outcome of another kind (an executor reclassifies what it read). */
    public Outcome as(Kind newKind, String newError) {
        return new Outcome(newKind, result, newError, exitCode, costUsd, inputTokens, outputTokens, numTurns,
                sessionId, resumeAt, worktree);
    }

    /** The node gives the task back unfinished; it runs again at once elsewhere, the attempt not counted. */
    public static Outcome released(String reason) {
        return new Outcome(Kind.RELEASED, null, reason, null, null, null, null, null, null, null);
    }

    /**
     * The task needs what this node does not have (its repository); another node may run it.
     *
     * @param reason what is missing here, e.g. "repository /srv/app does not exist on this host"
     */
    public static Outcome notHere(String reason) {
        return new Outcome(Kind.NOT_HERE, null, reason, null, null, null, null, null, null, null);
    }

    /** The same outcome with what the task's git worktree came to (a JSON object). */
    public Outcome withWorktree(String worktreeJson) {
        return new Outcome(kind, result, error, exitCode, costUsd, inputTokens, outputTokens, numTurns, sessionId,
                resumeAt, worktreeJson);
    }

    /** The agent was killed because a user asked to cancel the task. */
    public static Outcome cancelled(String reason) {
        return new Outcome(Kind.CANCELLED, null, reason, null, null, null, null, null, null, null);
    }

    /**
     * The same outcome with its result and error cut to what is stored: a cut text keeps its start and says how
     * much was left out.
     */
    public Outcome capped(int maxResultChars, int maxErrorChars) {
        String r = cut(result, maxResultChars);
        String e = cut(error, maxErrorChars);
        return r == result && e == error ? this
                : new Outcome(kind, r, e, exitCode, costUsd, inputTokens, outputTokens, numTurns, sessionId, resumeAt,
                worktree);
    }

    private static String cut(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        String note = " … [" + (text.length() - max) + " more characters not stored]";
        return text.substring(0, Math.max(0, max - note.length())) + note;
    }

    public Outcome withResult(String newResult) {
        return new Outcome(kind, newResult, error, exitCode, costUsd, inputTokens, outputTokens, numTurns, sessionId,
                resumeAt, worktree);
    }
}
