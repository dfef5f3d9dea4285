package dev.agentturbo.security.entity;

/**
 * Who makes a request, as tasks record it ({@code submittedBy}): {@code token:<name>} for an API token,
 * {@code user:<name>} for a console user, {@code bootstrap} for the bootstrap token.
 */
public record Caller(String name, Role role) {

    public static Caller token(String tokenName, Role role) {
        return new Caller("token:" + tokenName, role);
    }

    public static Caller user(String userName, Role role) {
        return new Caller("user:" + userName, role);
    }
}
