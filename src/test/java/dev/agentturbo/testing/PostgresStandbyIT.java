package dev.agentturbo.testing;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The failover test's tool: a streaming standby of a {@link PostgresCluster}, synchronous, that is read-only until
 * promoted; and what the driver does with a multi-host URL asking for the primary, before and after a promotion.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresStandbyIT {

    static PostgresCluster primary;
    static PostgresCluster standby;

    @BeforeAll
    static void create() {
        primary = PostgresCluster.create("standby-it-primary");
        standby = primary.standby("standby-it-standby", true);
    }

    @AfterAll
    static void close() {
        Closing.all(standby, primary);
    }

    @Test
    @Order(1)
    void aSynchronousStandbyHasEveryAcknowledgedCommitAndRefusesWrites() throws Exception {
        assertEquals("sync", primary.replicationState());
        assertTrue(standby.inRecovery());
        try (Connection c = connect(primary.jdbcUrl("agentturbo")); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (id int PRIMARY KEY)");
            s.execute("INSERT INTO t VALUES (1)");
        }
        // synchronous_commit = on waits for the standby's flush, not its replay: the row shows a moment later
        TaskRows.await(java.time.Duration.ofSeconds(10), "the row on the standby", () -> count(standby) == 1);
        try (Connection c = connect(standby.jdbcUrl("agentturbo")); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.execute("INSERT INTO t VALUES (2)"));
            assertEquals("25006", e.getSQLState(), "read-only: " + e.getMessage());
        }
    }

    @Test
    @Order(2)
    void aMultiHostUrlReachesWhicheverServerIsThePrimary() throws SQLException {
        String url = "jdbc:postgresql://127.0.0.1:" + primary.port() + ",127.0.0.1:" + standby.port()
                + "/agentturbo?targetServerType=primary";
        String reversed = "jdbc:postgresql://127.0.0.1:" + standby.port() + ",127.0.0.1:" + primary.port()
                + "/agentturbo?targetServerType=primary";
        assertEquals(primary.port(), serverPort(url));
        assertEquals(primary.port(), serverPort(reversed), "the standby is skipped even when listed first");

        primary.stop("immediate");
        SQLException none = assertThrows(SQLException.class, () -> serverPort(url));
        assertEquals("08001", none.getSQLState(), "no primary yet (the standby is not taken): " + none.getMessage());

        standby.promote();
        assertFalse(standby.inRecovery());
        assertEquals(standby.port(), serverPort(url));
        try (Connection c = connect(url); Statement s = c.createStatement()) {
            s.execute("INSERT INTO t VALUES (2)");
        }
        assertEquals(2, count(standby));
    }

    static int serverPort(String url) throws SQLException {
        try (Connection c = connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static long count(PostgresCluster server) {
        try (Connection c = connect(server.jdbcUrl("agentturbo")); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    static Connection connect(String url) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestDatabase.USER);
        p.setProperty("password", TestDatabase.PASSWORD);
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(url, p);
    }
}
