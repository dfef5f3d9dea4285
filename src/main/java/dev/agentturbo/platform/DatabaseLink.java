package dev.agentturbo.platform;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One connection a part of the node keeps for itself, opened again after it broke. It knows since when it has
 * been up without a break (on the monotonic clock): the requeue of expired leases waits until its connection has
 * been up for a whole lease. Not thread-safe: it belongs to one thread.
 */
public final class DatabaseLink implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(DatabaseLink.class.getName());

    private final DirectConnections connections;
    private final String name;
    private final Duration socketTimeout;
    private final Duration statementTimeout;
    private Connection connection;
    private long upSince;

    public DatabaseLink(DirectConnections connections, String name, Duration socketTimeout, Duration statementTimeout) {
        this.connections = connections;
        this.name = name;
        this.socketTimeout = socketTimeout;
        this.statementTimeout = statementTimeout;
    }

    /** The connection, opened when there is none; with auto-commit off: the caller commits. */
    public Connection get() throws SQLException {
        if (connection == null) {
            Connection c = connections.open(name, socketTimeout, statementTimeout);
            c.setAutoCommit(false);
            connection = c;
            upSince = System.nanoTime();
        }
        return connection;
    }

    /** True while a connection is open (it may still turn out to be broken at its next use). */
    public boolean up() {
        return connection != null;
    }

    /** How long the current connection has been up; zero when there is none. */
    public Duration upFor() {
        return connection == null ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - upSince);
    }

    /** Drops the connection after an error: whatever its state, the next {@link #get()} opens a new one. */
    public void broken() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.log(Level.FINE, name + ": closing a broken connection failed", e);
            }
        }
    }

    /** Rolls back what the current transaction did, or drops the connection if even that fails. */
    public void rollback() {
        if (connection != null) {
            try {
                connection.rollback();
            } catch (SQLException e) {
                broken();
            }
        }
    }

    public String where() {
        return connections.where();
    }

    @Override
    public void close() {
        broken();
    }
}
