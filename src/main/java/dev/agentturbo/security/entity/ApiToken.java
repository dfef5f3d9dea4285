package dev.agentturbo.security.entity;

import java.time.Instant;

/** An API token as operators see it: never its secret, which is shown once, when it is made. */
public record ApiToken(long id, String name, Role role, String createdBy, Instant createdAt, Instant lastUsedAt,
                       Instant revokedAt) {
}
