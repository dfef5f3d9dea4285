package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.TaskFilter;
import dev.agentturbo.tasks.entity.TaskStatus;
import dev.agentturbo.tasks.entity.TaskSummary;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Pages of tasks for the console's table: filtered, sorted, and never more than one page read. With no filter but
 * the status or the submitter the newest-first order is served by agent_tasks_status_id or agent_tasks_submitted_by;
 * a piece of prompt text scans newest first and stops as soon as the page is full.
 */
@ApplicationScoped
public class TaskSearch {

    /**
     * The columns a table may sort by, by the name the table uses. Creation time sorts by id: ids are given in the
     * order tasks are stored, and the primary key serves that order without a sort.
     */
    static final Map<String, String> SORTABLE = Map.ofEntries(Map.entry("id", "id"), Map.entry("status", "status"),
            Map.entry("priority", "priority"), Map.entry("executor", "executor"),
            Map.entry("workerId", "assigned_worker_id"), Map.entry("submittedBy", "submitted_by"),
            Map.entry("createdAt", "id"), Map.entry("startedAt", "started_at"),
            Map.entry("completedAt", "completed_at"), Map.entry("costUsd", "cost_usd"), Map.entry("attempt", "attempt"));

    private static final String COLUMNS = "id, status, priority, executor, left(prompt, " + TaskSummary.PREVIEW_CHARS
            + "), length(prompt), attempt, max_attempts, assigned_worker_id, created_at, started_at, completed_at,"
            + " exit_code, cost_usd, input_tokens, output_tokens, left(error, " + TaskSummary.PREVIEW_CHARS + "),"
            + " submitted_by";

    @Inject
    DataSource dataSource;

    protected TaskSearch() {
    }

    public TaskSearch(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * One page of tasks.
     *
     * @param sortBy a name of {@link #SORTABLE}; null or unknown: newest first
     */
    public List<TaskSummary> page(TaskFilter filter, String sortBy, boolean ascending, int offset, int limit) {
        List<Object> params = new ArrayList<>();
        String where = where(filter, params);
        String column = sortBy == null ? null : SORTABLE.get(sortBy);
        String order = column == null || column.equals("id") ? "id " + (column != null && ascending ? "ASC" : "DESC")
                : column + (ascending ? " ASC NULLS FIRST" : " DESC NULLS LAST") + ", id DESC";
        String sql = "SELECT " + COLUMNS + " FROM agent_tasks" + where + " ORDER BY " + order + " LIMIT ? OFFSET ?";
        params.add(limit);
        params.add(Math.max(0, offset));
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            try (ResultSet rs = ps.executeQuery()) {
                List<TaskSummary> page = new ArrayList<>();
                while (rs.next()) {
                    page.add(summary(rs));
                }
                return page;
            }
        } catch (SQLException e) {
            throw new QueueException("could not list tasks", e);
        }
    }

    /**
     * How many tasks match the filter, counted up to {@code cap + 1}: an answer above {@code cap} means "more than
     * cap", and counting stops there however many tasks there are.
     */
    public long count(TaskFilter filter, int cap) {
        List<Object> params = new ArrayList<>();
        String sql = "SELECT count(*) FROM (SELECT 1 FROM agent_tasks" + where(filter, params) + " LIMIT ?) matched";
        params.add(cap + 1);
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new QueueException("could not count tasks", e);
        }
    }

    private static String where(TaskFilter f, List<Object> params) {
        StringBuilder w = new StringBuilder(" WHERE true");
        if (f.status() != null) {
            w.append(" AND status = ?");
            params.add(f.status().value());
        }
        if (blank(f.executor())) {
            w.append(" AND executor = ?");
            params.add(f.executor().trim());
        }
        if (blank(f.worker())) {
            w.append(" AND assigned_worker_id = ?");
            params.add(f.worker().trim());
        }
        if (blank(f.submittedBy())) {
            w.append(" AND submitted_by = ?");
            params.add(f.submittedBy().trim());
        }
        if (blank(f.text())) {
            w.append(" AND prompt ILIKE ? ESCAPE '\\'");
            params.add("%" + f.text().trim().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
        }
        if (f.createdFrom() != null) {
            w.append(" AND created_at >= ?");
            params.add(Timestamp.from(f.createdFrom()));
        }
        if (f.createdTo() != null) {
            w.append(" AND created_at < ?");
            params.add(Timestamp.from(f.createdTo()));
        }
        return w.toString();
    }

    private static boolean blank(String s) {
        return s != null && !s.isBlank();
    }

    private static void bind(PreparedStatement ps, List<Object> params) throws SQLException {
        for (int i = 0; i < params.size(); i++) {
            ps.setObject(i + 1, params.get(i));
        }
    }

    static TaskSummary summary(ResultSet rs) throws SQLException {
        return new TaskSummary(rs.getLong(1), TaskStatus.of(rs.getString(2)), rs.getInt(3), rs.getString(4),
                rs.getString(5), rs.getInt(6), rs.getInt(7), rs.getInt(8), rs.getString(9), instant(rs, 10),
                instant(rs, 11), instant(rs, 12), (Integer) rs.getObject(13), rs.getBigDecimal(14),
                (Long) rs.getObject(15), (Long) rs.getObject(16), rs.getString(17), rs.getString(18));
    }

    private static java.time.Instant instant(ResultSet rs, int column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
