package dev.agentturbo.security.entity;

import java.time.Instant;

/** A user of the console, as operators see it: never the password or its hash. */
public record ConsoleUser(String name, Role role, String createdBy, Instant createdAt) {
}
