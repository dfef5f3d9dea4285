package dev.agentturbo.tasks.entity;

/**
 * What a submission may contain (agentturbo.tasks.* keys), and the defaults for what it leaves out.
 */
public record SubmissionLimits(int maxPromptChars, int maxBatchSize, int maxOptionsChars, int defaultMaxAttempts,
                               int defaultTimeoutSeconds, int maxTimeoutSeconds) {

    /** The most attempts a task may ask for. */
    public static final int MAX_ATTEMPTS = 20;
    /** The range of priorities; higher runs first. */
    public static final int MIN_PRIORITY = -1000;
    public static final int MAX_PRIORITY = 1000;
    /** Bean Validation's messages for the ranges (the value refused is interpolated). */
    public static final String PRIORITY_RANGE = "must be from " + MIN_PRIORITY + " to " + MAX_PRIORITY
            + ", not ${validatedValue}";
    public static final String ATTEMPTS_RANGE = "must be from 1 to " + MAX_ATTEMPTS + ", not ${validatedValue}";
    /** The longest idempotency key. */
    public static final int MAX_KEY_CHARS = 200;
    /** The most tasks one task may wait for. */
    public static final int MAX_DEPENDENCIES = 100;
}
