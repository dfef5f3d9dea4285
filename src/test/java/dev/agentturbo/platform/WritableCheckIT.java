package dev.agentturbo.platform;

import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.PostgresCluster;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The check that the API pool and the LISTEN connection run on a connection already open
 * ({@link DirectConnections#WRITABLE}), and what a multi-host URL does when the primary is demoted rather than
 * stopped: it turns read-only and the standby is promoted, while connections to it stay open.
 */
class WritableCheckIT {

    static PostgresCluster primary;
    static PostgresCluster standby;

    @BeforeAll
    static void create() {
        primary = PostgresCluster.create("writable-primary");
        standby = primary.standby("writable-standby", false);
    }

    @AfterAll
    static void close() {
        Closing.all(standby, primary);
    }

    @Test
    void anOpenConnectionToAServerThatNoLongerTakesWritesFailsTheCheckAndANewOneGoesToTheNewPrimary()
            throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + primary.port() + ",127.0.0.1:" + standby.port()
                + "/agentturbo?targetServerType=primary";
        DirectConnections connections = new DirectConnections(url, TestDatabase.USER, TestDatabase.PASSWORD);
        try (Connection old = connections.open("check", Duration.ofSeconds(10), Duration.ZERO);
             Connection toStandby = connections(standby).open("check", Duration.ofSeconds(10), Duration.ZERO)) {
            assertEquals(primary.port(), port(old));
            assertEquals(1, check(old), "the primary passes");
            SQLException standbyFails = assertThrows(SQLException.class, () -> check(toStandby));
            assertTrue(standbyFails.getMessage().contains("read-only server"), standbyFails.getMessage());

            // the primary is demoted: read-only for every session, the open one included; the standby is promoted
            try (Connection su = primary.superuser("postgres"); Statement s = su.createStatement()) {
                s.execute("ALTER SYSTEM SET default_transaction_read_only = on");
                s.execute("SELECT pg_reload_conf()");
            }
            TaskRows.await(Duration.ofSeconds(10), "the open connection fails the check", () -> {
                try {
                    check(old);
                    return false;
                } catch (SQLException e) {
                    return e.getMessage().contains("read-only server");
                }
            });
            standby.promote();
            assertFalse(standby.inRecovery());
            assertEquals(1, check(toStandby), "the promoted standby passes on the connection opened before");
        }
        try (Connection fresh = connections.open("check", Duration.ofSeconds(10), Duration.ZERO)) {
            assertEquals(standby.port(), port(fresh), "a new connection passes over the read-only server listed first");
            assertEquals(1, check(fresh));
        }
    }

    static DirectConnections connections(PostgresCluster server) {
        return new DirectConnections(server.jdbcUrl("agentturbo"), TestDatabase.USER, TestDatabase.PASSWORD);
    }

    static long check(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + DirectConnections.WRITABLE)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static int port(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
