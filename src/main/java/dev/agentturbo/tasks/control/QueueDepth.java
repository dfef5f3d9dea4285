package dev.agentturbo.tasks.control;

import dev.agentturbo.platform.OutageLog;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How many tasks are in each status, for the metrics: read from PostgreSQL at most once every {@link #FRESH}
 * however often it is asked, and cheap however many tasks the table holds.
 * <ul>
 * <li>{@code blocked}, {@code scheduled}, {@code pending}, {@code running}: counted exactly, each through an index
 * ({@code agent_tasks_status_id}, {@code agent_tasks_scheduled}, the two claim indexes); these are what waits and
 * runs, a small part of the table.</li>
 * <li>{@code completed}, {@code failed}, {@code cancelled}: counted exactly while the planner estimates fewer than
 * {@link #EXACT_BELOW} finished rows (an index-only count of that many entries takes milliseconds); past that, the
 * planner's own estimate (the statistics of the last ANALYZE, scaled to the table's size now), which reads no row.
 * Autovacuum analyzes the table after every 5,000 changed rows (V2's settings), so the estimate stays close.</li>
 * </ul>
 */
@ApplicationScoped
public class QueueDepth {

    /** How long a reading is used before the next one. */
    public static final Duration FRESH = Duration.ofSeconds(5);
    /** Finished rows past which their counts are the planner's estimate rather than a count. */
    public static final long EXACT_BELOW = 100_000;

    private static final Logger LOG = Logger.getLogger(QueueDepth.class.getName());
    private static final List<TaskStatus> FINISHED = List.of(TaskStatus.COMPLETED, TaskStatus.FAILED,
            TaskStatus.CANCELLED);

    // What waits and runs, exactly: each count reads only its own index's entries.
    private static final String LIVE = """
            SELECT (SELECT count(*) FROM agent_tasks WHERE status = 'blocked'),
                   (SELECT count(*) FROM agent_tasks WHERE status = 'scheduled'),
                   (SELECT count(*) FROM agent_tasks WHERE status = 'pending'),
                   (SELECT count(*) FROM agent_tasks WHERE status = 'running')
            """;

    // The planner's estimate of one finished status's rows: planned, never run.
    private static final String ESTIMATE = "EXPLAIN SELECT 1 FROM agent_tasks WHERE status = '%s'";

    // Finished tasks, exactly, through agent_tasks_finished_at: only while there are few.
    private static final String FINISHED_EXACT = """
            SELECT status, count(*) FROM agent_tasks WHERE status IN ('completed', 'failed', 'cancelled') GROUP BY status
            """;

    private static final Pattern ROWS = Pattern.compile("rows=(\\d+)");

    @Inject
    DataSource dataSource;

    private final OutageLog trouble = new OutageLog(LOG, "the metrics: reading the queue's depth");
    // guarded by this
    private Map<TaskStatus, Long> last = Map.of();
    private long readAt;
    private boolean everRead;

    protected QueueDepth() {
    }

    public QueueDepth(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * The number of tasks in this status, as read at most {@link #FRESH} ago; empty while the database has not
     * answered yet. A failed reading keeps the last values and is tried again after {@link #FRESH}.
     */
    public synchronized OptionalLong of(TaskStatus status) {
        long now = System.nanoTime();
        if (!everRead || now - readAt >= FRESH.toNanos()) {
            everRead = true;
            readAt = now;
            try {
                last = read();
                trouble.recovered();
            } catch (SQLException e) {
                trouble.failed(e, "the last reading stays; tried again in " + FRESH.toSeconds() + " s");
            }
        }
        Long n = last.get(status);
        return n == null ? OptionalLong.empty() : OptionalLong.of(n);
    }

    private Map<TaskStatus, Long> read() throws SQLException {
        Map<TaskStatus, Long> depth = new EnumMap<>(TaskStatus.class);
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout(5);
            try (ResultSet rs = s.executeQuery(LIVE)) {
                rs.next();
                depth.put(TaskStatus.BLOCKED, rs.getLong(1));
                depth.put(TaskStatus.SCHEDULED, rs.getLong(2));
                depth.put(TaskStatus.PENDING, rs.getLong(3));
                depth.put(TaskStatus.RUNNING, rs.getLong(4));
            }
            long estimated = 0;
            for (TaskStatus status : FINISHED) {
                long rows = estimate(s, status);
                depth.put(status, rows);
                estimated += rows;
            }
            if (estimated < EXACT_BELOW) {
                FINISHED.forEach(status -> depth.put(status, 0L));
                try (ResultSet rs = s.executeQuery(FINISHED_EXACT)) {
                    while (rs.next()) {
                        depth.put(TaskStatus.of(rs.getString(1)), rs.getLong(2));
                    }
                }
            }
        }
        return depth;
    }

    private static long estimate(Statement s, TaskStatus status) throws SQLException {
        try (ResultSet rs = s.executeQuery(ESTIMATE.formatted(status.value()))) {
            Matcher m = rs.next() ? ROWS.matcher(rs.getString(1)) : null;
            if (m == null || !m.find()) {
                throw new SQLException("no row estimate in the plan of " + status.value() + " tasks");
            }
            return Long.parseLong(m.group(1));
        }
    }
}
