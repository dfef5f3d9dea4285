package dev.agentturbo.workers.control;

import dev.agentturbo.tasks.control.TaskQueue;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * This node's one LISTEN connection. A NOTIFY on the ready channel rings the doorbell (idle slots claim at once);
 * one on the cancel channel tells the slots which task to kill. The connection is the driver's own, outside the
 * pool, since it is held for the node's life. If it drops, it is opened again and the doorbell rung, so a
 * notification lost meanwhile costs at most one poll interval.
 */
public final class TaskSignals implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TaskSignals.class.getName());
    private static final int WAIT_MS = 1000;
    private static final long KEEPALIVE_MS = 15_000;

    private final String url;
    private final Properties credentials;
    private final Doorbell doorbell;
    private final LongConsumer onCancel;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean listening;

    public TaskSignals(String url, String user, String password, Doorbell doorbell, LongConsumer onCancel) {
        this.url = url;
        this.credentials = new Properties();
        credentials.setProperty("user", user);
        credentials.setProperty("password", password == null ? "" : password);
        credentials.setProperty("ApplicationName", "agent-turbo-listener");
        this.doorbell = doorbell;
        this.onCancel = onCancel;
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
            try (Connection c = new org.postgresql.Driver().connect(url, credentials)) {
                if (c == null) {
                    throw new SQLException("not a PostgreSQL JDBC URL: " + url);
                }
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + TaskQueue.READY_CHANNEL);
                    s.execute("LISTEN " + TaskQueue.CANCEL_CHANNEL);
                }
                listening = true;
                backoffMs = 500;
                doorbell.ring();
                PGConnection pg = c.unwrap(PGConnection.class);
                long lastCheck = System.currentTimeMillis();
                while (running) {
                    PGNotification[] notes = pg.getNotifications(WAIT_MS);
                    if (notes != null) {
                        dispatch(notes);
                    }
                    if (System.currentTimeMillis() - lastCheck > KEEPALIVE_MS) {
                        try (Statement s = c.createStatement()) {
                            s.execute("SELECT 1"); // notices a dead connection
                        }
                        lastCheck = System.currentTimeMillis();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                listening = false;
                if (running) {
                    LOG.log(Level.WARNING, "LISTEN connection lost; slots fall back to polling, reconnecting in "
                            + backoffMs + " ms: " + e.getMessage());
                    sleep(backoffMs);
                    backoffMs = Math.min(backoffMs * 2, 10_000);
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
            } else if (TaskQueue.CANCEL_CHANNEL.equals(n.getName())) {
                try {
                    onCancel.accept(Long.parseLong(n.getParameter()));
                } catch (NumberFormatException e) {
                    LOG.warning("ignoring a cancel notification with payload '" + n.getParameter() + "'");
                }
            }
        }
        if (ready) {
            doorbell.ring();
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
