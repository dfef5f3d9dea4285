package dev.agentturbo.workers.entity;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How this node works the queue (the agentturbo.worker.*, agentturbo.retry.* and retention keys).
 *
 * @param workerId this node's name in agent_tasks.assigned_worker_id and agent_workers.id
 * @param slots how many agents this node runs at once; 0 serves the API only
 * @param lease how long a claimed task stays this node's without a renewal
 * @param heartbeat how often leases are renewed, the node's heartbeat written and expired leases requeued
 * @param poll how long a node with idle slots waits for a wake-up before it looks at the queue anyway
 * @param drainGrace how long running agents may go on when the node stops, before they are released
 * @param workRoot where slots keep their config and tasks get their working directories
 * @param retryBase the first retry's delay; each further retry doubles it, with jitter
 * @param retryMax the longest delay between retries
 * @param unrenewedStop how long an agent goes on while its lease cannot be renewed (database away, or this node
 *                      cut off from it) before the node stops it
 * @param retention finished tasks older than this are deleted; zero keeps them
 */
public record WorkerSettings(String workerId, int slots, Duration lease, Duration heartbeat, Duration poll,
                             Duration drainGrace, Path workRoot, Duration retryBase, Duration retryMax,
                             Duration unrenewedStop, Duration retention) {

    public WorkerSettings {
        if (slots < 0) {
            throw new IllegalArgumentException("agentturbo.worker.slots must be 0 or more, not " + slots);
        }
        if (heartbeat.isZero() || heartbeat.isNegative()) {
            throw new IllegalArgumentException("agentturbo.worker.heartbeat-seconds must be 1 or more");
        }
        if (!heartbeat.multipliedBy(2).minus(lease).isNegative()) {
            throw new IllegalArgumentException("agentturbo.worker.lease-seconds (" + lease.toSeconds()
                    + ") must be more than twice agentturbo.worker.heartbeat-seconds (" + heartbeat.toSeconds() + ")");
        }
        if (unrenewedStop.compareTo(heartbeat.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("agentturbo.worker.unrenewed-stop-seconds (" + unrenewedStop.toSeconds()
                    + ") must be at least twice agentturbo.worker.heartbeat-seconds (" + heartbeat.toSeconds() + ")");
        }
        if (retention.isNegative()) {
            throw new IllegalArgumentException("agentturbo.tasks.retention-hours must be 0 (keep) or more");
        }
    }

    /** The same settings with another slot count. */
    public WorkerSettings withSlots(int newSlots) {
        return new WorkerSettings(workerId, newSlots, lease, heartbeat, poll, drainGrace, workRoot, retryBase, retryMax,
                unrenewedStop, retention);
    }
}
