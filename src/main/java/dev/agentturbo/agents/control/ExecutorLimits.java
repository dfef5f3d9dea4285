package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.ExecutorLimit;
import dev.agentturbo.tasks.control.QueueException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * executor_limits: the executors paused for a credential, fleet-wide. A node's dispatcher writes a pause in the
 * transaction that records the attempt that met the limit, and tells the fleet (NOTIFY agent_turbo_limits); every
 * node reads the active pauses with its heartbeat and does not claim tasks of an executor paused for the
 * credential its own agents use.
 */
@ApplicationScoped
public class ExecutorLimits {

    /** NOTIFY channel: a pause began or was lifted. */
    public static final String CHANNEL = "agent_turbo_limits";

    // A pause for (executor, credential, kind): a new one, or the row of an earlier one taken again. A pause that
    // is still active is only ever lengthened. Says whether this began a pause (none was active), for the log.
    private static final String PAUSE = """
            INSERT INTO executor_limits AS l (executor, credential, kind, until, reason)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (executor, credential, kind) DO UPDATE
               SET since = CASE WHEN l.lifted_at IS NULL AND (l.until IS NULL OR l.until > now()) THEN l.since ELSE now() END,
                   until = CASE WHEN l.lifted_at IS NULL AND (l.until IS NULL OR l.until > now())
                                THEN greatest(l.until, EXCLUDED.until) ELSE EXCLUDED.until END,
                   reason = EXCLUDED.reason, lifted_at = NULL, lifted_by = NULL
            RETURNING since = now(), pg_notify('agent_turbo_limits', executor)
            """;

    // The rate-limit row of an executor and credential, locked: how many back-offs in a row, and whether the last
    // one is still on or ended less than the quiet spell ago.
    private static final String STRIKES = """
            SELECT strikes, lifted_at IS NULL AND until > now(),
                   lifted_at IS NULL AND until > now() - make_interval(secs => ?)
              FROM executor_limits
             WHERE executor = ? AND credential = ? AND kind = 'rate-limit'
               FOR UPDATE
            """;

    // A back-off: a new one, or the one that is on lengthened to at least the new end.
    private static final String BACK_OFF = """
            INSERT INTO executor_limits AS l (executor, credential, kind, until, reason, strikes)
            VALUES (?, ?, 'rate-limit', now() + make_interval(secs => ?), ?, ?)
            ON CONFLICT (executor, credential, kind) DO UPDATE
               SET since = CASE WHEN l.lifted_at IS NULL AND l.until > now() THEN l.since ELSE now() END,
                   until = CASE WHEN l.lifted_at IS NULL AND l.until > now()
                                THEN greatest(l.until, EXCLUDED.until) ELSE EXCLUDED.until END,
                   strikes = EXCLUDED.strikes, reason = EXCLUDED.reason, lifted_at = NULL, lifted_by = NULL
            RETURNING since = now(), until, strikes, pg_notify('agent_turbo_limits', executor)
            """;

    /**
     * A back-off the fleet keeps from a rate-limited API.
     *
     * @param began   whether this began it (none was on)
     * @param until   when it ends
     * @param strikes how many back-offs in a row, this one included
     */
    public record BackOff(boolean began, Instant until, int strikes) {
    }

    static final String ACTIVE = "lifted_at IS NULL AND (until IS NULL OR until > now())";

    private static final String LIST = """
            SELECT l.id, l.executor, l.credential, l.kind, l.since, l.until, l.reason,
                   (SELECT count(*) FROM agent_tasks t
                     WHERE t.status IN ('pending', 'scheduled') AND t.executor = l.executor)
              FROM executor_limits l
             WHERE\s""" + ACTIVE + " ORDER BY l.since";

    // Lifting a usage-limit pause also makes the tasks parked until its reset claimable now.
    private static final String LIFT = """
            WITH lifted AS (
                UPDATE executor_limits SET lifted_at = now(), lifted_by = ?
                 WHERE id = ? AND\s""" + ACTIVE + """
                RETURNING id, executor, credential, kind, since, until, reason),
            parked AS (
                UPDATE agent_tasks t SET run_after = now()
                  FROM lifted
                 WHERE lifted.kind = 'usage-limit' AND t.status = 'scheduled' AND t.executor = lifted.executor
                   AND t.error LIKE 'usage limit reached%')
            SELECT id, executor, credential, kind, since, until, reason, pg_notify('agent_turbo_limits', executor)
              FROM lifted
            """;

    @Inject
    DataSource dataSource;

    protected ExecutorLimits() {
    }

    public ExecutorLimits(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Pauses an executor for a credential until {@code until}, in the caller's transaction, and tells the fleet
     * when it commits.
     *
     * @return true when this began a pause; false when one was active already (it may have been lengthened)
     */
    public static boolean pause(Connection c, String executor, String credential, String kind, Instant until,
                                String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(PAUSE)) {
            ps.setString(1, executor);
            ps.setString(2, credential);
            ps.setString(3, kind);
            ps.setTimestamp(4, until == null ? null : Timestamp.from(until));
            ps.setString(5, reason.length() > 1000 ? reason.substring(0, 1000) + " …" : reason);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Backs an executor off for a credential, fleet-wide, in the caller's transaction, after the API answered
     * "rate limited" or "overloaded". While a back-off is on, more reports only lengthen it to what the server
     * asked ({@code retryAfter}): they are the same episode seen by several agents. A report within {@code quiet}
     * of the end of the last back-off is the next strike: the back-off is {@code length.apply(strikes)} (which
     * grows and jitters), or {@code retryAfter} when that is longer. After a quiet spell the count starts again.
     */
    public static BackOff backOff(Connection c, String executor, String credential, Duration retryAfter,
                                  String reason, java.util.function.IntFunction<Duration> length, Duration quiet)
            throws SQLException {
        int strikes = 1;
        boolean on = false;
        try (PreparedStatement ps = c.prepareStatement(STRIKES)) {
            ps.setDouble(1, quiet.toMillis() / 1000.0);
            ps.setString(2, executor);
            ps.setString(3, credential);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    on = rs.getBoolean(2);
                    strikes = on ? rs.getInt(1) : rs.getBoolean(3) ? rs.getInt(1) + 1 : 1;
                }
            }
        }
        Duration asked = retryAfter == null || retryAfter.isNegative() ? Duration.ZERO : retryAfter;
        Duration wait = on ? asked : max(asked, length.apply(strikes));
        try (PreparedStatement ps = c.prepareStatement(BACK_OFF)) {
            ps.setString(1, executor);
            ps.setString(2, credential);
            ps.setDouble(3, wait.toMillis() / 1000.0);
            ps.setString(4, reason.length() > 1000 ? reason.substring(0, 1000) + " …" : reason);
            ps.setInt(5, strikes);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new BackOff(rs.getBoolean(1), rs.getTimestamp(2).toInstant(), rs.getInt(3));
            }
        }
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** The active pauses, the longest-standing first, each with the tasks of its executor waiting. */
    public List<ExecutorLimit> active() {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(LIST);
             ResultSet rs = ps.executeQuery()) {
            List<ExecutorLimit> limits = new ArrayList<>();
            while (rs.next()) {
                limits.add(limit(rs, rs.getLong(8)));
            }
            return limits;
        } catch (SQLException e) {
            throw new QueueException("could not read the executors' limits", e);
        }
    }

    /** Ends an active pause now; empty when there is no active pause of this id. */
    public Optional<ExecutorLimit> lift(long id, String by) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(LIFT)) {
            ps.setString(1, by);
            ps.setLong(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(limit(rs, 0)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new QueueException("could not lift limit " + id, e);
        }
    }

    private static ExecutorLimit limit(ResultSet rs, long waiting) throws SQLException {
        Timestamp until = rs.getTimestamp(6);
        return new ExecutorLimit(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                rs.getTimestamp(5).toInstant(), until == null ? null : until.toInstant(), rs.getString(7), waiting);
    }
}
