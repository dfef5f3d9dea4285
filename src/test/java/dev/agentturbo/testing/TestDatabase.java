package dev.agentturbo.testing;

import dev.agentturbo.platform.Schema;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A throw-away database on the real local PostgreSQL, migrated with the project's own migrations, dropped on
 * close. The server is the one db/postgres.sh --test prepares (role agentturbo with CREATEDB); the admin URL
 * comes from the system property or environment variable TEST_DB_ADMIN_URL.
 */
public final class TestDatabase implements AutoCloseable {

    public static final String USER = System.getenv().getOrDefault("DB_USER", "agentturbo");
    public static final String PASSWORD = System.getenv().getOrDefault("DB_PASSWORD", "agentturbo");

    private final String name;
    private final String url;
    private final PGSimpleDataSource dataSource;

    private TestDatabase(String name) {
        this.name = name;
        String admin = adminUrl();
        this.url = admin.substring(0, admin.lastIndexOf('/') + 1) + name;
        this.dataSource = new PGSimpleDataSource();
        dataSource.setUrl(url);
        dataSource.setUser(USER);
        dataSource.setPassword(PASSWORD);
    }

    /** A new, empty database with the schema applied. */
    public static TestDatabase create(String purpose) {
        String name = "at_" + purpose.toLowerCase().replaceAll("[^a-z0-9]", "_") + "_"
                + UUID.randomUUID().toString().substring(0, 8);
        exec(admin(), "CREATE DATABASE " + name);
        TestDatabase db = new TestDatabase(name);
        Schema.migrate(db.dataSource);
        return db;
    }

    /**
     * Makes sure the database a JDBC URL names exists (creating it empty when not), for nodes that migrate it
     * themselves. For the Arquillian tests, whose node is configured before any test code runs.
     */
    public static void ensureExists(String jdbcUrl) {
        String name = jdbcUrl.substring(jdbcUrl.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
        if (!name.matches("[a-z0-9_]+")) {
            throw new IllegalArgumentException("not a test database name: " + name);
        }
        try (Connection c = admin().getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
            if (!rs.next()) {
                s.execute("CREATE DATABASE " + name);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not make sure database " + name + " exists: " + e.getMessage(), e);
        }
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public String url() {
        return url;
    }

    public String name() {
        return name;
    }

    /** Runs one SQL statement. */
    public void exec(String sql) {
        exec(dataSource, sql);
    }

    @Override
    public void close() {
        for (int attempt = 1; ; attempt++) {
            try {
                exec(admin(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
                return;
            } catch (IllegalStateException e) {
                // an autovacuum worker on it cannot be terminated by the test role: it ends by itself soon
                if (attempt == 30) {
                    throw e;
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static String adminUrl() {
        return System.getProperty("test.db.admin.url", System.getenv().getOrDefault("TEST_DB_ADMIN_URL",
                "jdbc:postgresql://127.0.0.1:5432/postgres"));
    }

    private static DataSource admin() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(adminUrl());
        ds.setUser(USER);
        ds.setPassword(PASSWORD);
        return ds;
    }

    private static void exec(DataSource ds, String sql) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }
}
