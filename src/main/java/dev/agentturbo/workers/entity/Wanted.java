package dev.agentturbo.workers.entity;

/**
 * What the fleet asks of a node, read with every heartbeat: what operators asked (agent_workers.slots_wanted and
 * drain_wanted) and the executors paused for a credential (executor_limits).
 *
 * @param slots  the slot count that replaces the configured one; null: the configured one
 * @param drain  true: claim nothing, let running agents finish
 * @param limits the active pauses of the fleet (id, executor, credential, kind and until only)
 */
public record Wanted(Integer slots, boolean drain, java.util.List<dev.agentturbo.agents.entity.ExecutorLimit> limits) {

    public Wanted(Integer slots, boolean drain) {
        this(slots, drain, java.util.List.of());
    }
}
