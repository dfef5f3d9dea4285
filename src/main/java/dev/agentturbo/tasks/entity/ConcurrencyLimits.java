package dev.agentturbo.tasks.entity;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How many tasks of one concurrency key may run at once across the fleet (the agentturbo.concurrency.* keys): the
 * limit of the longest configured prefix the key starts with, else the default. Every node should have the same
 * limits: each applies its own when it claims.
 *
 * @param defaultLimit the limit of a key no prefix matches
 * @param byPrefix the limit of the keys that start with each prefix
 */
public record ConcurrencyLimits(int defaultLimit, Map<String, Integer> byPrefix) {

    /** The most tasks of one key that may be asked to run at once. */
    public static final int MAX_LIMIT = 10_000;
    /** One task of a key at a time, whatever the key. */
    public static final ConcurrencyLimits DEFAULT = new ConcurrencyLimits(1, Map.of());

    public ConcurrencyLimits {
        check("agentturbo.concurrency.default-limit", defaultLimit);
        byPrefix.forEach((prefix, limit) -> check("agentturbo.concurrency.limits '" + prefix + "'", limit));
        byPrefix = Map.copyOf(byPrefix);
    }

    private static void check(String what, int limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException(what + " must be from 1 to " + MAX_LIMIT + ", not " + limit);
        }
    }

    /**
     * Reads {@code prefix=limit} entries (the value of agentturbo.concurrency.limits split at its commas).
     *
     * @throws IllegalArgumentException saying which entry is wrong and how it should look
     */
    public static ConcurrencyLimits parse(int defaultLimit, List<String> entries) {
        Map<String, Integer> byPrefix = new LinkedHashMap<>();
        for (String entry : entries) {
            int eq = entry.lastIndexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("agentturbo.concurrency.limits: '" + entry
                        + "' must be PREFIX=LIMIT, e.g. repo:/srv/app=2");
            }
            String limit = entry.substring(eq + 1).trim();
            try {
                byPrefix.put(entry.substring(0, eq), Integer.parseInt(limit));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("agentturbo.concurrency.limits: the limit of '" + entry
                        + "' must be a whole number, not '" + limit + "'");
            }
        }
        return new ConcurrencyLimits(defaultLimit, byPrefix);
    }

    /** The prefixes, the longest first, and their limits: for the claim statement. */
    public List<Map.Entry<String, Integer>> longestFirst() {
        List<Map.Entry<String, Integer>> entries = new ArrayList<>(byPrefix.entrySet());
        entries.sort(Comparator.comparingInt((Map.Entry<String, Integer> e) -> e.getKey().length()).reversed());
        return entries;
    }
}
