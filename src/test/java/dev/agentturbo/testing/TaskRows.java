package dev.agentturbo.testing;

import dev.agentturbo.tasks.entity.NewTask;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Reads and pokes agent_tasks directly, for the assertions and set-ups of the tests. */
public final class TaskRows {

    private final DataSource dataSource;

    public TaskRows(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** A task for the simulated executor with the usual defaults. */
    public static NewTask simulated(String prompt, long durationMs) {
        return new NewTask("simulated", prompt, 0, 3, 60, "{\"durationMs\": " + durationMs + "}", null);
    }

    /** Every column of the task's row, by column name; empty when there is no such task. */
    public Map<String, Object> row(long id) {
        List<Map<String, Object>> rows = query("SELECT * FROM agent_tasks WHERE id = ?", id);
        return rows.isEmpty() ? Map.of() : rows.get(0);
    }

    public String status(long id) {
        return (String) row(id).get("status");
    }

    /** The one value the query selects. */
    public Object value(String sql, Object... params) {
        List<Map<String, Object>> rows = query(sql, params);
        if (rows.size() != 1 || rows.get(0).size() != 1) {
            throw new IllegalStateException(sql + " gave " + rows + ", not one value");
        }
        return rows.get(0).values().iterator().next();
    }

    public long count(String where, Object... params) {
        return ((Number) value("SELECT count(*) FROM agent_tasks WHERE " + where, params)).longValue();
    }

    public List<Map<String, Object>> query(String sql, Object... params) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData meta = rs.getMetaData();
                List<Map<String, Object>> rows = new ArrayList<>();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= meta.getColumnCount(); i++) {
                        row.put(meta.getColumnLabel(i), rs.getObject(i));
                    }
                    rows.add(row);
                }
                return rows;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** Runs one changing statement; returns the rows it changed. */
    public int update(String sql, Object... params) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** Moves the lease of a running task into the past, as if its slot had stopped renewing it. */
    public void expireLease(long id) {
        if (update("UPDATE agent_tasks SET lease_expires_at = now() - interval '1 second' WHERE id = ?", id) != 1) {
            throw new IllegalStateException("no task " + id);
        }
    }

    public void deleteAll() {
        update("TRUNCATE agent_tasks, task_output, task_attempts, task_dependencies RESTART IDENTITY");
    }

    /** Polls until the condition holds; fails with the message when it does not within the timeout. */
    public static void await(Duration timeout, String what, BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static void bind(PreparedStatement ps, Object... params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            ps.setObject(i + 1, params[i]);
        }
    }
}
