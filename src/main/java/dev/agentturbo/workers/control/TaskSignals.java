package dev.agentturbo.workers.control;

import dev.agentturbo.platform.DirectConnections;
import dev.agentturbo.platform.OutageLog;
import dev.agentturbo.agents.control.ExecutorLimits;
import dev.agentturbo.tasks.control.TaskQueue;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.LongConsumer;
import java.util.logging.Logger;

/**
 * This node's one LISTEN connection. A NOTIFY on the ready channel wakes the dispatcher (it claims for its idle
 * slots at once); one on the cancel channel names the task whose agent to kill. The connection is the driver's
 * own, outside the pool, since it is held for the node's life; it is checked every 15 s and has a socket timeout,
 * so a dead or half-open one is noticed. If it drops, it is opened again and the dispatcher woken, so a
 * notification lost meanwhile costs at most one poll interval.
 */
public final class TaskSignals implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TaskSignals.class.getName());
    private static final int WAIT_MS = 1000;
    private static final long KEEPALIVE_MS = 15_000;
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(10);

    /** NOTIFY channel: an operator asked something of the node whose id is the payload (drain, resume, slots). */
    public static final String WORKERS_CHANNEL = "agent_turbo_workers";

    private final DirectConnections connections;
    private final Runnable onReady;
    private final LongConsumer onCancel;
    private final String workerId;
    private final Runnable onWanted;
    private final Runnable onLimits;
    private final OutageLog outage;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean listening;

    public TaskSignals(DirectConnections connections, Runnable onReady, LongConsumer onCancel) {
        this(connections, onReady, onCancel, null, () -> {
        });
    }

    /**
     * @param workerId this node's id: a NOTIFY on the workers channel naming it runs {@code onWanted} (an operator
     *                 asked something of this node)
     */
    public TaskSignals(DirectConnections connections, Runnable onReady, LongConsumer onCancel, String workerId,
                       Runnable onWanted) {
        this(connections, onReady, onCancel, workerId, onWanted, onWanted);
    }

    /** @param onLimits runs when a pause of the fleet began or was lifted (NOTIFY on the limits channel) */
    public TaskSignals(DirectConnections connections, Runnable onReady, LongConsumer onCancel, String workerId,
                       Runnable onWanted, Runnable onLimits) {
        this.onLimits = onLimits;
        this.connections = connections;
        this.onReady = onReady;
        this.onCancel = onCancel;
        this.workerId = workerId;
        this.onWanted = onWanted;
        this.outage = new OutageLog(LOG, "the LISTEN connection to " + connections.where());
        this.thread = new Thread(this::listen, "agent-turbo-listener");
        thread.setDaemon(true);
    }

    public TaskSignals start() {
        thread.start();
        return this;
    }

    /** True while the LISTEN connection is open. */
    public boolean listening() {
        return listening;
    }

    private void listen() {
        long backoffMs = 500;
        while (running) {
            try (Connection c = connections.open("agent-turbo-listener", SOCKET_TIMEOUT, Duration.ZERO)) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + TaskQueue.READY_CHANNEL);
                    s.execute("LISTEN " + TaskQueue.CANCEL_CHANNEL);
                    if (workerId != null) {
                        s.execute("LISTEN " + WORKERS_CHANNEL);
                        s.execute("LISTEN " + ExecutorLimits.CHANNEL);
                    }
                }
                listening = true;
                backoffMs = 500;
                outage.recovered();
                onReady.run();
                PGConnection pg = c.unwrap(PGConnection.class);
                long lastCheck = System.currentTimeMillis();
                while (running) {
                    PGNotification[] notes = pg.getNotifications(WAIT_MS);
                    if (notes != null) {
                        dispatch(notes);
                    }
                    if (System.currentTimeMillis() - lastCheck > KEEPALIVE_MS) {
                        try (Statement s = c.createStatement()) {
                            // notices a dead connection, and one to a server that is no longer the primary
                            // (which would hear no NOTIFY of the new one)
                            s.execute("SELECT count(*) FROM " + DirectConnections.WRITABLE);
                        }
                        lastCheck = System.currentTimeMillis();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                listening = false;
                if (running) {
                    outage.failed(e, "the dispatcher falls back to polling; reconnecting in " + backoffMs + " ms");
                    sleep(backoffMs);
                    backoffMs = Math.min(backoffMs * 2, 2_000);
                }
            }
        }
        listening = false;
    }

    private void dispatch(PGNotification[] notes) {
        boolean ready = false;
        for (PGNotification n : notes) {
            if (TaskQueue.READY_CHANNEL.equals(n.getName())) {
                ready = true;
            } else if (ExecutorLimits.CHANNEL.equals(n.getName())) {
                onLimits.run(); // a pause began or was lifted: read the pauses before the next claim
            } else if (WORKERS_CHANNEL.equals(n.getName())) {
                if (n.getParameter().equals(workerId)) {
                    onWanted.run();
                }
            } else if (TaskQueue.CANCEL_CHANNEL.equals(n.getName())) {
                try {
                    onCancel.accept(Long.parseLong(n.getParameter()));
                } catch (NumberFormatException e) {
                    LOG.warning("ignoring a cancel notification with payload '" + n.getParameter() + "'");
                }
            }
        }
        if (ready) {
            onReady.run();
        }
    }

    private void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            running = false;
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(3000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
