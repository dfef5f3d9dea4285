package dev.agentturbo.tasks.entity;

/** What a lease renewal found. */
public enum LeaseState {
    /** The lease is ours and was extended. */
    HELD,
    /** The lease is ours and was extended, and a user asked to cancel the task. */
    CANCEL_REQUESTED,
    /** The task is no longer ours (lease expired and requeued, or taken by another slot): stop touching it. */
    LOST
}
