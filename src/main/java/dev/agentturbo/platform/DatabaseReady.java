package dev.agentturbo.platform;

/** A CDI event: the node reached its database and the schema is migrated. Fired once per node start. */
public record DatabaseReady() {
}
