package dev.agentturbo.agents.entity;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the Messages API charges per million input and output tokens, by model family (agentturbo.anthropic.prices).
 * <p>
 * The table is written as comma-separated entries {@code family=input/output}, in US dollars per million tokens:
 * {@code claude-opus-4-5=5/25,claude-opus-4=15/75}. A model is looked up without its snapshot date (a trailing
 * {@code -YYYYMMDD}), and the longest family that is the model itself or a dash-separated prefix of it wins: so
 * {@code claude-sonnet-4-5} and {@code claude-sonnet-4-5-20250929} both take {@code claude-sonnet-4}'s price, and
 * {@code claude-opus-4-5} takes its own entry where {@code claude-opus-4-1} falls back to {@code claude-opus-4}.
 *
 * @param byFamily the price of each family
 */
public record ModelPrices(Map<String, Price> byFamily) {

    /** No prices at all: every cost stays unknown. For runs outside a node. */
    public static final ModelPrices NONE = new ModelPrices(Map.of());

    private static final Pattern SNAPSHOT_DATE = Pattern.compile("-\\d{8}$");
    private static final Pattern ENTRY = Pattern.compile("([a-z0-9][a-z0-9.-]*)=(\\d+(?:\\.\\d+)?)/(\\d+(?:\\.\\d+)?)");

    /** US dollars per million tokens. */
    public record Price(BigDecimal input, BigDecimal output) {
    }

    public ModelPrices {
        byFamily = Map.copyOf(byFamily);
    }

    /**
     * Reads the configured table; an entry that is not {@code family=input/output} is refused with what it says, so
     * that a typo never silently leaves tasks without a cost.
     */
    public static ModelPrices parse(String table) {
        Map<String, Price> prices = new LinkedHashMap<>();
        for (String entry : table.split(",")) {
            String e = entry.strip();
            if (e.isEmpty()) {
                continue;
            }
            var m = ENTRY.matcher(e);
            if (!m.matches()) {
                throw new IllegalArgumentException("agentturbo.anthropic.prices: '" + e + "' is not family=input/output"
                        + " (US dollars per million tokens, e.g. claude-sonnet-4=3/15)");
            }
            if (prices.put(m.group(1), new Price(new BigDecimal(m.group(2)), new BigDecimal(m.group(3)))) != null) {
                throw new IllegalArgumentException("agentturbo.anthropic.prices: '" + m.group(1) + "' is priced twice");
            }
        }
        return new ModelPrices(prices);
    }

    /** The price of a model by its family; empty when no family of the table covers it. */
    public Optional<Price> of(String model) {
        String undated = SNAPSHOT_DATE.matcher(model).replaceFirst("");
        return byFamily.entrySet().stream()
                .filter(e -> undated.equals(e.getKey()) || undated.startsWith(e.getKey() + "-"))
                .max(java.util.Comparator.comparingInt(e -> e.getKey().length()))
                .map(Map.Entry::getValue);
    }

    /** What the tokens cost in US dollars; empty when the model has no price. */
    public Optional<BigDecimal> cost(String model, long inputTokens, long outputTokens) {
        return of(model).map(p -> p.input().multiply(BigDecimal.valueOf(inputTokens))
                .add(p.output().multiply(BigDecimal.valueOf(outputTokens))).movePointLeft(6));
    }
}
