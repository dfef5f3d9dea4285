package dev.agentturbo.workers.entity;

import java.time.Instant;

/**
 * A node of the fleet as agent_workers records it.
 *
 * @param heartbeatAgeSeconds how long ago it last wrote its heartbeat, by the database's clock
 */
public record Worker(String id, String host, int slots, int busySlots, String state, String version,
                     Instant startedAt, double heartbeatAgeSeconds) {
}
