package dev.agentturbo.testing;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy the network-failure tests put between a node and PostgreSQL, here in front of the shared server:
 * it forwards faithfully, a cut fails the client fast, and a blackhole only the client's socket timeout notices.
 */
class TcpProxyIT {

    static final URI SERVER = URI.create(System.getProperty("test.db.admin.url",
            "jdbc:postgresql://127.0.0.1:5432/postgres").substring("jdbc:".length()));

    TcpProxy proxy;

    @BeforeEach
    void startProxy() {
        proxy = TcpProxy.start(SERVER.getHost(), SERVER.getPort());
    }

    @AfterEach
    void closeProxy() {
        proxy.close();
    }

    @Test
    void forwardsEveryByteBothWays() throws SQLException {
        try (Connection c = connect(10); Statement s = c.createStatement()) {
            assertEquals(1, proxy.openConnections());
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
            }
            // several megabytes each way, checked on both ends
            String big = "x".repeat(3_000_000) + "end";
            try (var ps = c.prepareStatement("SELECT md5(?), ? || 'back'")) {
                ps.setString(1, big);
                ps.setString(2, big);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(md5(big), rs.getString(1));
                    assertEquals(big + "back", rs.getString(2));
                }
            }
        }
        awaitOpenConnections(0);
    }

    @Test
    void aCutFailsOpenAndNewConnectionsFastUntilRestored() throws SQLException {
        try (Connection c = connect(30); Statement s = c.createStatement()) {
            s.executeQuery("SELECT 1").close();
            proxy.cut();
            assertEquals(0, proxy.openConnections());
            assertFailsWithin(Duration.ofSeconds(5), () -> s.executeQuery("SELECT 1").close());
        }
        assertFailsWithin(Duration.ofSeconds(5), () -> connect(30).close());
        proxy.restore();
        try (Connection c = connect(10); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertTrue(rs.next());
        }
    }

    @Test
    void aBlackholeIsNoticedOnlyByTheSocketTimeout() throws SQLException {
        try (Connection c = connect(2); Statement s = c.createStatement()) {
            s.executeQuery("SELECT 1").close();
            proxy.blackhole();
            long start = System.nanoTime();
            assertThrows(SQLException.class, () -> s.executeQuery("SELECT 1").close());
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(took.compareTo(Duration.ofMillis(1_800)) >= 0 && took.compareTo(Duration.ofSeconds(4)) <= 0,
                    "failed after " + took);
        }
        assertEquals(1, proxy.openConnections(), "the close was lost too: the server still has the session");
        // a new connection gets no answer to its start-up packet either
        long start = System.nanoTime();
        assertThrows(SQLException.class, () -> connect(2).close());
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(Duration.ofSeconds(4)) <= 0, "failed after " + took);
        proxy.restore();
        try (Connection c = connect(10); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertTrue(rs.next());
        }
        awaitOpenConnections(0);
    }

    private Connection connect(int socketTimeoutSeconds) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", TestDatabase.USER);
        props.setProperty("password", TestDatabase.PASSWORD);
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", Integer.toString(socketTimeoutSeconds));
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.port() + SERVER.getPath(), props);
    }

    interface SqlAction {
        void run() throws SQLException;
    }

    private static void assertFailsWithin(Duration limit, SqlAction action) {
        long start = System.nanoTime();
        assertThrows(SQLException.class, action::run);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(limit) <= 0, "failed only after " + took);
    }

    private void awaitOpenConnections(int expected) {
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (proxy.openConnections() != expected && System.nanoTime() < until) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        assertEquals(expected, proxy.openConnections());
    }

    private static String md5(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
