package dev.agentturbo.workers.control;

import dev.agentturbo.tasks.control.TaskEvents;
import dev.agentturbo.tasks.control.TaskLeases;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.workers.entity.Wanted;
import dev.agentturbo.workers.entity.WorkerSettings;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What every node does every heartbeat, on its dispatcher's connection and in one transaction: write its row in
 * agent_workers, requeue expired leases fleet-wide, promote scheduled tasks that are due, and delete finished
 * tasks past the retention age. Also the promotion alone, at the moment the next scheduled task is due.
 */
final class Housekeeping {

    private static final Logger LOG = Logger.getLogger(Housekeeping.class.getName());
    private static final int PROMOTE_BATCH = 1000;
    private static final int RETENTION_BATCH = 1000;

    private final WorkerSettings settings;
    private final TaskLeases leases;
    private final WorkerRegistry registry;
    private final String host;
    private final String version;
    private final IntSupplier slots;
    private final Consumer<Wanted> wanted;
    private final java.util.function.Supplier<TaskEvents> events;

    /**
     * @param slots  how many slots the node runs now
     * @param wanted takes what operators asked of the node, with every heartbeat
     * @param events  is told of the expired leases this node requeued
     */
    Housekeeping(WorkerSettings settings, TaskLeases leases, WorkerRegistry registry, String host, String version,
                 IntSupplier slots, Consumer<Wanted> wanted, java.util.function.Supplier<TaskEvents> events) {
        this.settings = settings;
        this.events = events;
        this.slots = slots;
        this.wanted = wanted;
        this.leases = leases;
        this.registry = registry;
        this.host = host;
        this.version = version;
    }

    /** Writes the node's row afresh: active, nothing busy, started now. */
    void register(Connection c) throws SQLException {
        Wanted w = registry.register(c, settings.workerId(), host, settings.slots(), version);
        c.commit();
        wanted.accept(w);
    }

    /**
     * The heartbeat's work.
     *
     * @param connectedFor how long the connection has been up without a break: expired leases are requeued only
     *                     after a whole lease of it (and of the database's own uptime), so that after an outage
     *                     every holder renews first
     * @return how long until the next scheduled task is due; null when none waits
     */
    Duration beat(Connection c, String state, int busy, int live, Duration connectedFor) throws SQLException {
        int slotCount = state.equals("stopped") ? 0 : slots.getAsInt();
        Wanted w = registry.beat(c, settings.workerId(), slotCount, busy, live, state);
        if (w == null) {
            registry.register(c, settings.workerId(), host, slotCount, version);
            w = registry.beat(c, settings.workerId(), slotCount, busy, live, state);
        }
        List<TaskLeases.Requeued> requeued = connectedFor.compareTo(settings.lease()) >= 0
                ? leases.requeueExpired(c, settings.lease()) : List.of();
        TaskLeases.Promotion promotion = leases.promoteDue(c, PROMOTE_BATCH);
        if (!promotion.promoted().isEmpty() || requeued.stream().anyMatch(r -> r.status().equals("pending"))) {
            leases.notifyReady(c);
        }
        int deleted = settings.retention().isZero() ? 0
                : leases.deleteFinished(c, settings.retention(), RETENTION_BATCH);
        c.commit();
        if (w != null && !state.equals("stopped")) {
            wanted.accept(w);
        }
        requeued.forEach(r -> TaskQueue.log(LOG, Level.WARNING, r.id(), null, r.attempt(), "running", r.status(),
                r.reason()));
        TaskEvents told = events.get();
        requeued.forEach(r -> told.leaseExpired(r.executor(), r.status()));
        if (deleted > 0) {
            LOG.info(() -> deleted + " tasks finished more than " + settings.retention().toHours()
                    + " h ago deleted (retention)");
        }
        return promoted(promotion);
    }

    /** Promotes the scheduled tasks that are due; returns how long until the next one is. */
    Duration promote(Connection c) throws SQLException {
        TaskLeases.Promotion promotion = leases.promoteDue(c, PROMOTE_BATCH);
        if (!promotion.promoted().isEmpty()) {
            leases.notifyReady(c);
        }
        c.commit();
        return promoted(promotion);
    }

    private static Duration promoted(TaskLeases.Promotion promotion) {
        promotion.promoted().forEach(id -> TaskQueue.log(LOG, Level.INFO, id, null, 0, "scheduled", "pending", "due"));
        // a full batch means more are due now
        return promotion.promoted().size() == PROMOTE_BATCH ? Duration.ZERO : promotion.nextDueIn();
    }
}
