package dev.agentturbo.workers.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.logging.Logger;

/**
 * What operators do to nodes, from whichever node they ask: drain one (it claims nothing more and lets its running
 * agents finish), let it take work again, change how many agents it runs at once without a restart. The wish is
 * stored in the node's row in agent_workers and the node is told at once (NOTIFY); it also reads the row with
 * every heartbeat, so a node that missed the notification acts within a heartbeat. A slot count stays across the
 * node's restarts (it replaces agentturbo.worker.slots until changed again); a drain does not (a node that starts
 * takes work).
 */
@ApplicationScoped
public class WorkerControl {

    private static final Logger LOG = Logger.getLogger(WorkerControl.class.getName());

    @Inject
    WorkerRegistry registry;
    @Inject
    @ConfigProperty(name = "agentturbo.worker.max-slots")
    int maxSlots;

    /** Asks the node to claim nothing more; false when there is no node of this id. */
    public boolean drain(String workerId) {
        boolean found = registry.wantDrain(workerId, true);
        if (found) {
            LOG.info(() -> "node " + workerId + " asked to drain");
        }
        return found;
    }

    /** Asks a drained node to take work again; false when there is no node of this id. */
    public boolean resume(String workerId) {
        boolean found = registry.wantDrain(workerId, false);
        if (found) {
            LOG.info(() -> "node " + workerId + " asked to take work again");
        }
        return found;
    }

    /**
     * Asks the node to run {@code slots} agents at once from now on (0: it runs none and serves the API only).
     * Slots taken away finish their agent first.
     *
     * @return false when there is no node of this id
     * @throws IllegalArgumentException when the count is below 0 or above {@link #maxSlots()}
     */
    public boolean resize(String workerId, int slots) {
        if (slots < 0 || slots > maxSlots) {
            throw new IllegalArgumentException("slots must be a whole number from 0 to " + maxSlots
                    + " (agentturbo.worker.max-slots), not " + slots);
        }
        boolean found = registry.wantSlots(workerId, slots);
        if (found) {
            LOG.info(() -> "node " + workerId + " asked to run " + slots + " agent slots");
        }
        return found;
    }

    /** The most slots an operator may give a node. */
    public int maxSlots() {
        return maxSlots;
    }
}
