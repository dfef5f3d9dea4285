package dev.agentturbo.workers.entity;

import java.time.Instant;

/**
 * A node of the fleet as agent_workers records it.
 *
 * @param slots the slots it is configured to run
 * @param liveSlots the slots whose loops really run (a slot that died and was not restarted yet is missing)
 * @param busySlots the slots holding a task
 * @param heartbeatAgeSeconds how long ago it last wrote its heartbeat, by the database's clock
 */
public record Worker(String id, String host, int slots, int liveSlots, int busySlots, String state, String version,
                     Instant startedAt, double heartbeatAgeSeconds) {
}
