package dev.agentturbo.platform;

import java.util.Optional;

/** What the API reads from paths: ids such as the 7 of {@code /api/tasks/7}. */
public final class Requests {

    private Requests() {
    }

    /** A positive id from a path, such as {@code /api/tasks/{id}}; empty for anything else. */
    public static Optional<Long> id(String text) {
        try {
            long value = Long.parseLong(text);
            return value > 0 ? Optional.of(value) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
