package dev.agentturbo.tasks.entity;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * A task as a listing shows it: its prompt and error cut to a preview, no options and no result, so that a page of
 * tasks stays small whatever the tasks hold.
 *
 * @param promptPreview the first {@link #PREVIEW_CHARS} characters of the prompt
 * @param promptLength the prompt's whole length, in characters
 * @param errorPreview the first {@link #PREVIEW_CHARS} characters of the error, if any
 */
public record TaskSummary(long id, TaskStatus status, int priority, String executor, String promptPreview,
                          int promptLength, int attempt, int maxAttempts, String workerId, Instant createdAt,
                          Instant startedAt, Instant completedAt, Integer exitCode, BigDecimal costUsd,
                          Long inputTokens, Long outputTokens, String errorPreview, String submittedBy) {

    public static final int PREVIEW_CHARS = 200;
}
