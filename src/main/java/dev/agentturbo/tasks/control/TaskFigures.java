package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.TaskSummary;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The fleet's figures for the console's dashboard: spend, the last hour minute by minute, recent failures and the
 * tasks waiting for a usage-limit reset. Every figure is read from agent_tasks as it is now.
 */
@ApplicationScoped
public class TaskFigures {

    /** Cost and tokens of the tasks that finished in a period. */
    public record Spend(BigDecimal costUsd, long inputTokens, long outputTokens, long tasks) {
    }

    /** One minute of the last hour: tasks that completed or failed in it, and the tasks waiting at its end. */
    public record Minute(Instant start, long completed, long failed, long waiting) {
    }

    /** Tasks parked until the subscription's usage limit resets, and the earliest reset. */
    public record UsagePause(long tasks, Instant earliestReset) {
    }

    // Spend since the start of a period, finished tasks only: agent_tasks_finished_at covers the range.
    private static final String SPEND = """
            SELECT coalesce(sum(cost_usd), 0), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), count(*)
              FROM agent_tasks
             WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at >= date_trunc(?, now())
            """;

    // Completions and failures per minute of the last hour, through agent_tasks_finished_at.
    private static final String FINISHED = """
            SELECT date_trunc('minute', completed_at), count(*) FILTER (WHERE status = 'completed'),
                   count(*) FILTER (WHERE status = 'failed')
              FROM agent_tasks
             WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at >= ?
             GROUP BY 1
            """;

    // Waiting now: blocked, scheduled and pending (agent_tasks_status_id).
    private static final String WAITING = "SELECT count(*) FROM agent_tasks WHERE status IN ('blocked', 'scheduled', 'pending')";

    // Arrivals per minute of the last hour, and departures from the queue (a claim, or a cancel before any claim)
    // of the tasks not waiting now: the queue's depth at each minute follows back from its depth now. Both read
    // only the last hour's rows, however many tasks the table holds: ids grow with creation, so the arrivals are
    // the ids after the newest task older than the hour (found walking the primary key back from the end); a task
    // that left the queue in the last hour is running now, or finished in the last hour (agent_tasks_finished_at).
    private static final String BEFORE_THE_HOUR = """
            SELECT coalesce((SELECT id FROM agent_tasks WHERE created_at < ? ORDER BY id DESC LIMIT 1), 0)
            """;
    private static final String ARRIVED = """
            SELECT date_trunc('minute', created_at), count(*) FROM agent_tasks WHERE id > ? AND created_at >= ? GROUP BY 1
            """;
    private static final String DEPARTED = """
            SELECT date_trunc('minute', coalesce(started_at, completed_at)), count(*)
              FROM (SELECT started_at, completed_at FROM agent_tasks
                     WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at >= ?
                    UNION ALL
                    SELECT started_at, completed_at FROM agent_tasks WHERE status = 'running') left_queue
             WHERE coalesce(started_at, completed_at) >= ?
             GROUP BY 1
            """;

    // The newest failures (agent_tasks_status_id, or agent_tasks_submitted_by for one submitter).
    private static final String FAILURES = """
            SELECT id, status, priority, executor, left(prompt, %1$d), length(prompt), attempt, max_attempts,
                   assigned_worker_id, created_at, started_at, completed_at, exit_code, cost_usd, input_tokens,
                   output_tokens, left(error, %1$d), submitted_by
              FROM agent_tasks
             WHERE status = 'failed' AND (?::text IS NULL OR submitted_by = ?)
             ORDER BY id DESC LIMIT ?
            """.formatted(TaskSummary.PREVIEW_CHARS);

    // Tasks parked by a usage limit (the error their release recorded), through agent_tasks_scheduled.
    private static final String USAGE_PAUSE = """
            SELECT count(*), min(run_after) FROM agent_tasks
             WHERE status = 'scheduled' AND error LIKE 'usage limit reached%'
            """;

    @Inject
    DataSource dataSource;

    protected TaskFigures() {
    }

    public TaskFigures(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Spend since the start of the database's current day ({@code "day"}) or week ({@code "week"}). */
    public Spend spendSince(String period) {
        if (!period.equals("day") && !period.equals("week")) {
            throw new IllegalArgumentException("period: day or week, not " + period);
        }
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(SPEND)) {
            ps.setString(1, period);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Spend(rs.getBigDecimal(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
            }
        } catch (SQLException e) {
            throw new QueueException("could not read the spend", e);
        }
    }

    /** The last 60 minutes, oldest first; the last one is the current, unfinished minute. */
    public List<Minute> lastHour() {
        Instant now = Instant.now();
        Instant first = now.truncatedTo(ChronoUnit.MINUTES).minus(59, ChronoUnit.MINUTES);
        try (Connection c = dataSource.getConnection()) {
            Map<Instant, long[]> finished = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(FINISHED)) {
                ps.setTimestamp(1, Timestamp.from(first));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        finished.put(rs.getTimestamp(1).toInstant(), new long[]{rs.getLong(2), rs.getLong(3)});
                    }
                }
            }
            long waitingNow;
            try (PreparedStatement ps = c.prepareStatement(WAITING); ResultSet rs = ps.executeQuery()) {
                rs.next();
                waitingNow = rs.getLong(1);
            }
            long before;
            try (PreparedStatement ps = c.prepareStatement(BEFORE_THE_HOUR)) {
                ps.setTimestamp(1, Timestamp.from(first));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    before = rs.getLong(1);
                }
            }
            Map<Instant, Long> arrived = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(ARRIVED)) {
                ps.setLong(1, before); // a constant, so that the primary key's range serves it
                ps.setTimestamp(2, Timestamp.from(first));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        arrived.put(rs.getTimestamp(1).toInstant(), rs.getLong(2));
                    }
                }
            }
            Map<Instant, Long> departed = perMinute(c, DEPARTED, first);
            List<Minute> minutes = new ArrayList<>();
            long waiting = waitingNow;
            // from the current minute back: before the tasks that arrived in a minute, fewer waited; before the
            // ones that left, more
            for (int i = 59; i >= 0; i--) {
                Instant start = first.plus(i, ChronoUnit.MINUTES);
                long[] f = finished.getOrDefault(start, new long[2]);
                minutes.add(0, new Minute(start, f[0], f[1], Math.max(0, waiting)));
                waiting = waiting - arrived.getOrDefault(start, 0L) + departed.getOrDefault(start, 0L);
            }
            return minutes;
        } catch (SQLException e) {
            throw new QueueException("could not read the last hour", e);
        }
    }

    private static Map<Instant, Long> perMinute(Connection c, String sql, Instant from) throws SQLException {
        Map<Instant, Long> counts = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(from));
            ps.setTimestamp(2, Timestamp.from(from));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counts.put(rs.getTimestamp(1).toInstant(), rs.getLong(2));
                }
            }
        }
        return counts;
    }

    /**
     * The newest failed tasks.
     *
     * @param submittedBy only this caller's; null for everybody's
     */
    public List<TaskSummary> recentFailures(String submittedBy, int limit) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FAILURES)) {
            ps.setString(1, submittedBy);
            ps.setString(2, submittedBy);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<TaskSummary> failures = new ArrayList<>();
                while (rs.next()) {
                    failures.add(TaskSearch.summary(rs));
                }
                return failures;
            }
        } catch (SQLException e) {
            throw new QueueException("could not read the failures", e);
        }
    }

    /** The tasks waiting for a usage-limit reset, if any. */
    public Optional<UsagePause> usagePause() {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(USAGE_PAUSE);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            long tasks = rs.getLong(1);
            return tasks == 0 ? Optional.empty() : Optional.of(new UsagePause(tasks, rs.getTimestamp(2).toInstant()));
        } catch (SQLException e) {
            throw new QueueException("could not read the usage-limit pause", e);
        }
    }
}
