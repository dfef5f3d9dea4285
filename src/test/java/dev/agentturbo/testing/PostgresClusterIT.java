package dev.agentturbo.testing;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The private server the outage tests stop, restart and kill: it does so, and leaves nothing behind. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresClusterIT {

    static PostgresCluster pg;

    @BeforeAll
    static void create() {
        pg = PostgresCluster.create("cluster-it");
    }

    @AfterAll
    static void closeIfLeft() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    @Order(1)
    void theApplicationRoleLogsInWithItsPasswordOverTcp() throws SQLException {
        assertTrue(pg.running());
        assertEquals(1, selectOne());
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user, rolcreatedb, current_setting('max_connections'),"
                     + " current_setting('fsync') FROM pg_roles WHERE rolname = current_user")) {
            assertTrue(rs.next());
            assertEquals(TestDatabase.USER, rs.getString(1));
            assertTrue(rs.getBoolean(2), "CREATEDB");
            assertEquals("200", rs.getString(3));
            assertEquals("off", rs.getString(4));
        }
    }

    @Test
    @Order(2)
    void restartIsANewServerOnTheSamePort() throws SQLException {
        int port = pg.port();
        OffsetDateTime before = startTime();
        pg.restart();
        assertEquals(port, pg.port());
        assertNotEquals(before, startTime());
    }

    @Test
    @Order(3)
    void aStoppedServerRefusesConnectionsUntilStarted() throws SQLException {
        pg.stop();
        assertFalse(pg.running());
        assertThrows(SQLException.class, () -> connect().close());
        pg.start();
        assertTrue(pg.running());
        assertEquals(1, selectOne());
    }

    @Test
    @Order(4)
    void afterKillOpenConnectionsFailAndTheNextStartRecovers() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS survivor (id int)");
            s.execute("INSERT INTO survivor VALUES (1)");
            pg.kill();
            assertFalse(pg.running());
            assertThrows(SQLException.class, () -> s.executeQuery("SELECT 1"));
        }
        assertThrows(SQLException.class, () -> connect().close());
        pg.start();
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM survivor")) {
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1), "a committed row survives kill -9");
        }
    }

    @Test
    @Order(5)
    void closeStopsTheServerAndDeletesItsData() throws SQLException {
        Path dataDir = pg.dataDir();
        int port = pg.port();
        pg.close();
        assertFalse(pg.running());
        assertFalse(Files.exists(dataDir), dataDir + " deleted");
        assertTrue(Files.exists(pg.log()), "the log stays for the post-mortem");
        assertThrows(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + port + "/agentturbo", TestDatabase.USER, TestDatabase.PASSWORD));
        pg = null;
    }

    private static Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", TestDatabase.USER);
        props.setProperty("password", TestDatabase.PASSWORD);
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "10");
        return DriverManager.getConnection(pg.jdbcUrl("agentturbo"), props);
    }

    private static int selectOne() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    private static OffsetDateTime startTime() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_postmaster_start_time()")) {
            assertTrue(rs.next());
            return rs.getObject(1, OffsetDateTime.class);
        }
    }
}
