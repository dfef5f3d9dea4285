package dev.agentturbo.security.entity;

import java.util.Arrays;
import java.util.Optional;

/**
 * What a caller may do. {@code viewer}: read tasks, workers and stats. {@code submitter}: submit tasks, and read
 * and cancel the tasks it submitted; read workers and stats. {@code operator}: everything, every task, tokens and
 * users.
 */
public enum Role {
    VIEWER, SUBMITTER, OPERATOR;

    /** The role's name in the API, the database and the container ({@code viewer}, …). */
    public String value() {
        return name().toLowerCase();
    }

    public static Optional<Role> parse(String value) {
        return Arrays.stream(values()).filter(r -> r.value().equals(value)).findFirst();
    }

    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(Role::value).toList());
    }
}
