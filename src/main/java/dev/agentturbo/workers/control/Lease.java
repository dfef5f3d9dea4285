package dev.agentturbo.workers.control;

import dev.agentturbo.tasks.entity.ClaimedTask;

import java.time.Duration;

/**
 * A task this node holds, as its dispatcher and the slot running it share it: the dispatcher renews it and says
 * when it was lost or a user asked to cancel; the slot reads that while it watches its agent. From the claim
 * until the attempt's end is recorded (or found fenced out), the dispatcher keeps renewing it.
 */
public final class Lease {

    private final ClaimedTask task;
    private final long claimedAt = System.nanoTime();
    private volatile long renewedAt;
    private volatile boolean lost;
    private volatile boolean cancelRequested;

    Lease(ClaimedTask task) {
        this.task = task;
        this.renewedAt = System.nanoTime();
    }

    public ClaimedTask task() {
        return task;
    }

    /** The database extended it just now. */
    void renewed(boolean cancel) {
        renewedAt = System.nanoTime();
        if (cancel) {
            cancelRequested = true;
        }
    }

    /** The task is no longer this node's: its lease expired and it was requeued, or it is running elsewhere. */
    void lose() {
        lost = true;
    }

    /** A user asked to cancel the task. */
    void requestCancel() {
        cancelRequested = true;
    }

    public boolean lost() {
        return lost;
    }

    public boolean cancelRequested() {
        return cancelRequested;
    }

    /** How long ago the task was claimed, on the monotonic clock. */
    public Duration heldFor() {
        return Duration.ofNanos(System.nanoTime() - claimedAt);
    }

    /** How long ago the lease was last extended (or claimed), on the monotonic clock. */
    public Duration unrenewedFor() {
        return Duration.ofNanos(System.nanoTime() - renewedAt);
    }

    @Override
    public String toString() {
        return task.toString();
    }
}
