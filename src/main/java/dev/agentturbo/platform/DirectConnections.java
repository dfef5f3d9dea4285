package dev.agentturbo.platform;

import org.postgresql.Driver;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

/**
 * Connections of the driver's own, outside the container's pool, for the parts of a node that hold one for its
 * whole life (the dispatcher, the LISTEN connection) or that must work before or after the application does
 * (start-up, the schema migration). Each has timeouts, so that a database that does not answer, or a half-open
 * TCP connection, costs seconds and not forever: connect 5 s, login 10 s, a socket read the given time, TCP
 * keep-alive on, and a statement timeout on the server. Parameters in {@code db.url} override these defaults.
 * <p>
 * {@code db.url} may name several servers ({@code jdbc:postgresql://h1:5432,h2:5432/agentturbo?targetServerType=primary}):
 * the driver tries them in order and keeps the first that takes writes. A connection that breaks is opened again
 * by its owner, and so reaches whichever server is the primary then.
 */
public final class DirectConnections {

    /**
     * A FROM item that yields one row on a server that takes writes and fails on a standby or a read-only server
     * (the cast of 'read-only server' to int raises an error): {@code SELECT count(*) FROM} it checks a connection
     * that is already open. With a multi-host {@code db.url} and {@code targetServerType=primary} the driver picks a
     * primary when it connects, but a connection stays where it was opened; this check lets the pool and the LISTEN
     * connection drop one to a server that is no longer the primary, so that the next goes to the new one.
     */
    public static final String WRITABLE = "(SELECT 1 WHERE CAST(CASE WHEN pg_is_in_recovery()"
            + " OR current_setting('transaction_read_only') <> 'off' THEN 'read-only server' ELSE '1' END AS int) > 0)"
            + " AS writable";

    static final int CONNECT_TIMEOUT_SECONDS = 5;
    static final int LOGIN_TIMEOUT_SECONDS = 10;

    private final String url;
    private final String user;
    private final String password;

    public DirectConnections(String url, String user, String password) {
        this.url = url;
        this.user = user;
        this.password = password == null ? "" : password;
    }

    /**
     * Opens a connection.
     *
     * @param applicationName what pg_stat_activity shows for it
     * @param socketTimeout how long a read may wait for the server; zero waits forever (only for LISTEN, which
     *                      checks its connection itself)
     * @param statementTimeout how long the server lets one statement run; zero for no limit
     */
    public Connection open(String applicationName, Duration socketTimeout, Duration statementTimeout)
            throws SQLException {
        Connection c = new Driver().connect(url, properties(applicationName, socketTimeout));
        if (c == null) {
            throw new SQLException("db.url is not a PostgreSQL JDBC URL: " + where());
        }
        if (!statementTimeout.isZero()) {
            try (Statement s = c.createStatement()) {
                s.execute("SET statement_timeout = " + statementTimeout.toMillis());
            } catch (SQLException e) {
                c.close();
                throw e;
            }
        }
        return c;
    }

    /** A data source of such connections (each call opens a new one), for Flyway and for the shutdown path. */
    public DataSource dataSource(String applicationName, Duration socketTimeout) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser(user);
        ds.setPassword(password);
        ds.setApplicationName(applicationName);
        ds.setConnectTimeout(CONNECT_TIMEOUT_SECONDS);
        ds.setLoginTimeout(LOGIN_TIMEOUT_SECONDS);
        ds.setSocketTimeout((int) socketTimeout.toSeconds());
        ds.setTcpKeepAlive(true);
        return ds;
    }

    /** The database's address without credentials, for log lines: host, port and database name. */
    public String where() {
        String rest = url.startsWith("jdbc:postgresql:") ? url.substring("jdbc:postgresql:".length()) : url;
        int query = rest.indexOf('?');
        return query < 0 ? rest : rest.substring(0, query);
    }

    private Properties properties(String applicationName, Duration socketTimeout) {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        p.setProperty("loginTimeout", Integer.toString(LOGIN_TIMEOUT_SECONDS));
        p.setProperty("socketTimeout", Long.toString(socketTimeout.toSeconds()));
        p.setProperty("tcpKeepAlive", "true");
        return p;
    }
}
