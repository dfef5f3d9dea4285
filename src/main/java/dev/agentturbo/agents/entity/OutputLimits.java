package dev.agentturbo.agents.entity;

/**
 * How much of an agent's output the node keeps (the agentturbo.agents.max-line-chars and
 * agentturbo.tasks.max-result-chars / max-error-chars keys).
 *
 * @param maxLineChars the longest line of an agent's output kept whole; the rest of a longer line is dropped
 * @param maxResultChars the longest result stored
 * @param maxErrorChars the longest error text stored
 */
public record OutputLimits(int maxLineChars, int maxResultChars, int maxErrorChars) {

    public static final OutputLimits DEFAULTS = new OutputLimits(4_000_000, 1_000_000, 20_000);

    public OutputLimits {
        if (maxLineChars < 1000 || maxResultChars < 1000 || maxErrorChars < 1000) {
            throw new IllegalArgumentException("the output limits (agentturbo.agents.max-line-chars,"
                    + " agentturbo.tasks.max-result-chars, agentturbo.tasks.max-error-chars) must be at least 1000");
        }
    }
}
