package dev.agentturbo.agents.entity;

/**
 * How this node's {@code anthropic-api} executor talks to the Messages API.
 *
 * @param defaultModel     the model of a task that names none (agentturbo.anthropic.default-model)
 * @param defaultMaxTokens {@code max_tokens} of a task that gives none (agentturbo.anthropic.default-max-tokens)
 * @param maxRetries       how often the client itself repeats a request that failed for a passing reason
 *                         (agentturbo.anthropic.max-retries); kept small so that the fleet's back-off from a
 *                         rate-limited key governs, not each agent on its own
 * @param prices           what each model family costs (agentturbo.anthropic.prices)
 */
public record AnthropicSettings(String defaultModel, int defaultMaxTokens, int maxRetries, ModelPrices prices) {

    /** The most {@code max_tokens} a task may ask for: the largest output of any current model. */
    public static final int MAX_TOKENS = 128_000;

    /** The defaults without prices (every cost unknown): for runs outside a node. */
    public static final AnthropicSettings DEFAULTS = new AnthropicSettings("claude-sonnet-4-5", 4096, 2, ModelPrices.NONE);

    public AnthropicSettings {
        if (defaultModel == null || defaultModel.isBlank()) {
            throw new IllegalArgumentException("agentturbo.anthropic.default-model must name a model");
        }
        if (defaultMaxTokens < 1 || defaultMaxTokens > MAX_TOKENS) {
            throw new IllegalArgumentException("agentturbo.anthropic.default-max-tokens must be from 1 to " + MAX_TOKENS);
        }
        if (maxRetries < 0 || maxRetries > 10) {
            throw new IllegalArgumentException("agentturbo.anthropic.max-retries must be from 0 to 10");
        }
    }
}
