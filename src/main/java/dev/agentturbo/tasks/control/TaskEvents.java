package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;

import java.time.Duration;

/**
 * What happens to tasks on this node, told to whoever counts it (the node's metrics, {@code ops.boundary}). Each
 * event is told once, by the node that wrote it to the database, after its transaction committed: summed over the
 * nodes, the counts are the fleet's. Calls come from the dispatcher's thread and from slots: an implementation
 * must return at once and never throw.
 */
public interface TaskEvents {

    /** Tells nothing: for engines built without metrics (tests, tools). */
    TaskEvents NONE = new TaskEvents() {
    };

    /** Tasks of this executor were stored (repeated idempotency keys store nothing and are not told). */
    default void submitted(String executor, int count) {
    }

    /** A user cancelled a task of this executor before it ran (a running one is told by its holder's record). */
    default void cancelledWaiting(String executor) {
    }

    /** This node claimed the task; {@link ClaimedTask#waited()} is how long it had waited since its submission. */
    default void claimed(ClaimedTask task) {
    }

    /** How long one claim statement took (the claim of a dispatcher's round, before its commit). */
    default void claimStatement(Duration took) {
    }

    /**
     * An attempt's end was recorded: {@code after} is the task's status afterwards (completed, failed, cancelled,
     * or pending/scheduled for a retry or a release). Fenced-out writes changed nothing and are not told.
     */
    default void recorded(ClaimedTask task, Outcome outcome, String after) {
    }

    /** How long a slot held the task: from the claim to the end of its attempt. */
    default void ran(ClaimedTask task, Duration took) {
    }

    /** A task's lease expired and this node requeued it; {@code after}: pending, failed or cancelled. */
    default void leaseExpired(String executor, String after) {
    }

    /**
     * This node began a fleet-wide pause of the executor: {@code kind} {@code usage-limit}, {@code rate-limit}
     * (a back-off) or {@code credentials}.
     */
    default void pauseBegan(String executor, String kind) {
    }
}
