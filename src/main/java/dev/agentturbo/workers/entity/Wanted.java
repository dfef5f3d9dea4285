package dev.agentturbo.workers.entity;

/**
 * What operators asked of a node (agent_workers.slots_wanted and drain_wanted), read by the node with every
 * heartbeat.
 *
 * @param slots the slot count that replaces the configured one; null: the configured one
 * @param drain true: claim nothing, let running agents finish
 */
public record Wanted(Integer slots, boolean drain) {
}
