package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.LeaseState;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Every statement that changes agent_tasks. Each runs in its own short transaction on a pooled connection that is
 * given back at once: nothing here is held while an agent runs.
 * <p>
 * The invariants: a pending task is claimed by one slot only ({@code FOR UPDATE SKIP LOCKED}); every update after
 * the claim names (id, attempt, worker), so a slot whose lease expired cannot overwrite the attempt that replaced
 * it; a task whose lease expired goes back to pending (or fails after its last attempt) on whichever node looks.
 */
@ApplicationScoped
public class TaskQueue {

    /** NOTIFY channel: a task became ready to claim. */
    public static final String READY_CHANNEL = "agent_turbo_tasks";
    /** NOTIFY channel: a user asked to cancel the running task whose id is the payload. */
    public static final String CANCEL_CHANNEL = "agent_turbo_cancel";

    private static final Logger LOG = Logger.getLogger(TaskQueue.class.getName());

    // Stores one submission; a repeated idempotency key stores nothing and the first task is returned instead.
    private static final String INSERT = """
            INSERT INTO agent_tasks (executor, prompt, priority, max_attempts, timeout_seconds, options, idempotency_key)
            VALUES (?, ?, ?, ?, ?, ?::jsonb, ?)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
            """;

    private static final String FIND_BY_KEY = """
            SELECT id, executor, prompt FROM agent_tasks WHERE idempotency_key = ?
            """;

    // One slot takes the most urgent ready task. SKIP LOCKED lets concurrent claimers pass each other's rows,
    // so each pending row is taken by exactly one of them; attempt + 1 makes the new fencing token.
    private static final String CLAIM = """
            UPDATE agent_tasks t
               SET status = 'running', assigned_worker_id = ?, slot = ?, attempt = t.attempt + 1,
                   lease_expires_at = now() + make_interval(secs => ?), started_at = now(), completed_at = NULL
              FROM (SELECT id FROM agent_tasks
                     WHERE status = 'pending' AND run_after <= now()
                     ORDER BY priority DESC, id
                     LIMIT 1
                     FOR UPDATE SKIP LOCKED) next
             WHERE t.id = next.id
            RETURNING t.id, t.attempt, t.max_attempts, t.executor, t.prompt, t.options::text, t.timeout_seconds
            """;

    // Only the holder of the current attempt can extend its lease (fenced); it also learns of a cancel request.
    private static final String RENEW = """
            UPDATE agent_tasks SET lease_expires_at = now() + make_interval(secs => ?)
             WHERE id = ? AND attempt = ? AND assigned_worker_id = ? AND status = 'running'
            RETURNING cancel_requested
            """;

    // The attempt succeeded: completed, fenced. Cost and tokens add up over attempts: they are what was paid
    // (sum() skips unknowns and stays null while no attempt reported any, e.g. for a command).
    private static final String COMPLETE = """
            UPDATE agent_tasks
               SET status = 'completed', completed_at = now(), lease_expires_at = NULL,
                   result = ?, error = NULL, exit_code = ?,
                   cost_usd = (SELECT sum(v) FROM (VALUES (cost_usd), (?::numeric)) paid(v)),
                   input_tokens = (SELECT sum(v) FROM (VALUES (input_tokens), (?::bigint)) paid(v)),
                   output_tokens = (SELECT sum(v) FROM (VALUES (output_tokens), (?::bigint)) paid(v)),
                   num_turns = ?, session_id = ?
             WHERE id = ? AND attempt = ? AND assigned_worker_id = ? AND status = 'running'
            """;

    // The attempt failed: pending again after the backoff while attempts remain, else failed; fenced.
    // A permanent failure passes 0 remaining attempts and fails at once. A user's cancel that came in meanwhile
    // holds: the task is cancelled, not run again.
    private static final String FAIL = """
            UPDATE agent_tasks
               SET status = CASE WHEN cancel_requested THEN 'cancelled'
                                 WHEN attempt >= max_attempts OR ? THEN 'failed' ELSE 'pending' END,
                   completed_at = CASE WHEN cancel_requested OR attempt >= max_attempts OR ? THEN now() END,
                   assigned_worker_id = CASE WHEN cancel_requested OR attempt >= max_attempts OR ?
                                             THEN assigned_worker_id END,
                   slot = CASE WHEN cancel_requested OR attempt >= max_attempts OR ? THEN slot END,
                   run_after = now() + make_interval(secs => ?), lease_expires_at = NULL,
                   result = ?, error = ?, exit_code = ?,
                   cost_usd = (SELECT sum(v) FROM (VALUES (cost_usd), (?::numeric)) paid(v)),
                   input_tokens = (SELECT sum(v) FROM (VALUES (input_tokens), (?::bigint)) paid(v)),
                   output_tokens = (SELECT sum(v) FROM (VALUES (output_tokens), (?::bigint)) paid(v)),
                   num_turns = ?, session_id = ?
             WHERE id = ? AND attempt = ? AND assigned_worker_id = ? AND status = 'running'
            RETURNING status
            """;

    // Back to pending without counting the attempt (usage limit reached, or this node is shutting down); fenced.
    // A task a user asked to cancel meanwhile is cancelled instead.
    private static final String RELEASE = """
            UPDATE agent_tasks
               SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
                   completed_at = CASE WHEN cancel_requested THEN now() END,
                   attempt = CASE WHEN cancel_requested THEN attempt ELSE attempt - 1 END,
                   assigned_worker_id = CASE WHEN cancel_requested THEN assigned_worker_id END,
                   slot = CASE WHEN cancel_requested THEN slot END,
                   lease_expires_at = NULL, run_after = GREATEST(now(), ?), error = ?
             WHERE id = ? AND attempt = ? AND assigned_worker_id = ? AND status = 'running'
            RETURNING status
            """;

    // The slot killed the agent because a user asked to cancel: cancelled, fenced.
    private static final String CANCELLED = """
            UPDATE agent_tasks
               SET status = 'cancelled', completed_at = now(), lease_expires_at = NULL, error = ?
             WHERE id = ? AND attempt = ? AND assigned_worker_id = ? AND status = 'running'
            """;

    // A user's cancel: a pending task is cancelled at once; a running one is flagged for the slot that holds it.
    private static final String CANCEL = """
            UPDATE agent_tasks
               SET status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
                   completed_at = CASE WHEN status = 'pending' THEN now() ELSE completed_at END,
                   error = CASE WHEN status = 'pending' THEN 'cancelled by user before it started' ELSE error END,
                   cancel_requested = true
             WHERE id = ? AND status IN ('pending', 'running')
            RETURNING status
            """;

    private static final String STATUS_OF = "SELECT status FROM agent_tasks WHERE id = ?";

    // Any node returns tasks whose slot stopped renewing its lease (node died or hung). The lost attempt counts;
    // after the last one the task fails with the reason. SKIP LOCKED: two nodes reaping at once never collide.
    private static final String REQUEUE_EXPIRED = """
            UPDATE agent_tasks t
               SET status = CASE WHEN t.cancel_requested THEN 'cancelled'
                                 WHEN t.attempt >= t.max_attempts THEN 'failed' ELSE 'pending' END,
                   completed_at = CASE WHEN t.cancel_requested OR t.attempt >= t.max_attempts THEN now() END,
                   error = 'lease expired: worker ' || t.assigned_worker_id || ' stopped renewing attempt ' || t.attempt,
                   assigned_worker_id = CASE WHEN t.cancel_requested OR t.attempt >= t.max_attempts
                                             THEN t.assigned_worker_id END,
                   slot = NULL, lease_expires_at = NULL, run_after = now()
              FROM (SELECT id FROM agent_tasks
                     WHERE status = 'running' AND lease_expires_at < now()
                     FOR UPDATE SKIP LOCKED) expired
             WHERE t.id = expired.id
            RETURNING t.id, t.status, t.attempt, t.error
            """;

    private static final String NOTIFY = "SELECT pg_notify(?, ?)";

    @Inject
    DataSource dataSource;

    protected TaskQueue() {
    }

    public TaskQueue(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Stores one task; the row is committed when this returns. */
    public Submitted submit(NewTask task) {
        return submitAll(List.of(task)).get(0);
    }

    /** Stores the tasks in one transaction: all of them or, on any error, none. */
    public List<Submitted> submitAll(List<NewTask> tasks) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                List<Submitted> stored = new ArrayList<>(tasks.size());
                try (PreparedStatement insert = c.prepareStatement(INSERT)) {
                    for (NewTask task : tasks) {
                        stored.add(insertOne(c, insert, task));
                    }
                }
                if (stored.stream().anyMatch(Submitted::created)) {
                    notify(c, READY_CHANNEL, "");
                }
                c.commit();
                stored.stream().filter(Submitted::created).forEach(s ->
                        LOG.info(() -> transition(s.id(), null, 0, "new", TaskStatus.PENDING.value(), "submitted")));
                return stored;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new QueueException("could not store the task", e);
        }
    }

    private static Submitted insertOne(Connection c, PreparedStatement insert, NewTask task) throws SQLException {
        insert.setString(1, task.executor());
        insert.setString(2, task.prompt());
        insert.setInt(3, task.priority());
        insert.setInt(4, task.maxAttempts());
        insert.setInt(5, task.timeoutSeconds());
        insert.setString(6, task.optionsJson());
        insert.setString(7, task.idempotencyKey());
        try (ResultSet rs = insert.executeQuery()) {
            if (rs.next()) {
                return new Submitted(rs.getLong(1), true);
            }
        }
        try (PreparedStatement find = c.prepareStatement(FIND_BY_KEY)) {
            find.setString(1, task.idempotencyKey());
            try (ResultSet rs = find.executeQuery()) {
                if (!rs.next()) {
                    throw new QueueException("idempotency key " + task.idempotencyKey() + " vanished", null);
                }
                if (!rs.getString("executor").equals(task.executor()) || !rs.getString("prompt").equals(task.prompt())) {
                    throw new IdempotencyConflictException(task.idempotencyKey(), rs.getLong("id"));
                }
                return new Submitted(rs.getLong("id"), false);
            }
        }
    }

    /** Takes the most urgent ready task for this slot, or nothing when none is ready. */
    public Optional<ClaimedTask> claim(String workerId, int slot, Duration lease) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(CLAIM)) {
            ps.setString(1, workerId);
            ps.setInt(2, slot);
            ps.setLong(3, lease.toSeconds());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                ClaimedTask task = new ClaimedTask(rs.getLong(1), rs.getInt(2), rs.getInt(3), workerId, slot,
                        rs.getString(4), rs.getString(5), rs.getString(6), rs.getInt(7));
                LOG.info(() -> transition(task, "pending", "running", "claimed"));
                return Optional.of(task);
            }
        } catch (SQLException e) {
            throw new QueueException("could not claim a task", e);
        }
    }

    /** Extends the lease of a task this slot holds; tells whether it is still held and whether to cancel it. */
    public LeaseState renew(ClaimedTask task, Duration lease) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(RENEW)) {
            ps.setLong(1, lease.toSeconds());
            fence(ps, 2, task);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return LeaseState.LOST;
                }
                return rs.getBoolean(1) ? LeaseState.CANCEL_REQUESTED : LeaseState.HELD;
            }
        } catch (SQLException e) {
            throw new QueueException("could not renew the lease of " + task, e);
        }
    }

    /**
     * Records the outcome of the attempt this slot holds.
     *
     * @param retryDelay how long a retryable failure waits before the task can be claimed again
     * @return false when the slot no longer held the task (fenced out): nothing was changed
     */
    public boolean finish(ClaimedTask task, Outcome outcome, Duration retryDelay) {
        return switch (outcome.kind()) {
            case SUCCEEDED -> complete(task, outcome);
            case RETRYABLE -> fail(task, outcome, false, retryDelay);
            case PERMANENT -> fail(task, outcome, true, Duration.ZERO);
            case USAGE_LIMITED -> release(task, outcome.resumeAt(), "usage limit reached; resumes at " + outcome.resumeAt());
        };
    }

    private boolean complete(ClaimedTask task, Outcome o) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(COMPLETE)) {
            ps.setString(1, o.result());
            setInt(ps, 2, o.exitCode());
            ps.setBigDecimal(3, o.costUsd());
            setLong(ps, 4, o.inputTokens());
            setLong(ps, 5, o.outputTokens());
            setInt(ps, 6, o.numTurns());
            ps.setString(7, o.sessionId());
            fence(ps, 8, task);
            boolean held = ps.executeUpdate() == 1;
            LOG.info(() -> held ? transition(task, "running", "completed", "agent succeeded")
                    : transition(task, "running", "-", "fenced out: lease lost, outcome discarded"));
            return held;
        } catch (SQLException e) {
            throw new QueueException("could not record the outcome of " + task, e);
        }
    }

    private boolean fail(ClaimedTask task, Outcome o, boolean permanent, Duration retryDelay) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FAIL)) {
            ps.setBoolean(1, permanent);
            ps.setBoolean(2, permanent);
            ps.setBoolean(3, permanent);
            ps.setBoolean(4, permanent);
            ps.setDouble(5, retryDelay.toMillis() / 1000.0);
            ps.setString(6, o.result());
            ps.setString(7, o.error());
            setInt(ps, 8, o.exitCode());
            ps.setBigDecimal(9, o.costUsd());
            setLong(ps, 10, o.inputTokens());
            setLong(ps, 11, o.outputTokens());
            setInt(ps, 12, o.numTurns());
            ps.setString(13, o.sessionId());
            fence(ps, 14, task);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    LOG.info(() -> transition(task, "running", "-", "fenced out: lease lost, failure discarded"));
                    return false;
                }
                String to = rs.getString(1);
                LOG.info(() -> transition(task, "running", to, o.error()
                        + ("pending".equals(to) ? " (retry in " + retryDelay.toMillis() + " ms)" : "")));
                if ("pending".equals(to) && retryDelay.isZero()) {
                    notify(c, READY_CHANNEL, "");
                }
                return true;
            }
        } catch (SQLException e) {
            throw new QueueException("could not record the failure of " + task, e);
        }
    }

    /**
     * Gives the task back to the queue without counting the attempt: this node is shutting down, or the
     * subscription's usage limit stops all work until {@code notBefore}.
     */
    public boolean release(ClaimedTask task, Instant notBefore, String reason) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(RELEASE)) {
            ps.setTimestamp(1, notBefore == null ? null : Timestamp.from(notBefore));
            ps.setString(2, reason);
            fence(ps, 3, task);
            String to;
            try (ResultSet rs = ps.executeQuery()) {
                to = rs.next() ? rs.getString(1) : null;
            }
            LOG.info(() -> transition(task, "running", to == null ? "-" : to, to == null
                    ? "fenced out: lease lost before release" : "released: " + reason));
            if ("pending".equals(to) && (notBefore == null || !notBefore.isAfter(Instant.now()))) {
                notify(c, READY_CHANNEL, ""); // ready now: wake the idle slots (not for a task that waits for a reset)
            }
            return to != null;
        } catch (SQLException e) {
            throw new QueueException("could not release " + task, e);
        }
    }

    /** Records that this slot killed the agent on the user's request. */
    public boolean markCancelled(ClaimedTask task, String reason) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(CANCELLED)) {
            ps.setString(1, reason);
            fence(ps, 2, task);
            boolean held = ps.executeUpdate() == 1;
            LOG.info(() -> transition(task, "running", held ? "cancelled" : "-", reason));
            return held;
        } catch (SQLException e) {
            throw new QueueException("could not record the cancellation of " + task, e);
        }
    }

    /**
     * A user's cancel. A pending task is cancelled at once; a running one is flagged and the slot that holds it
     * (on whichever node) is told at once, kills the agent and records the cancellation.
     *
     * @return the status after the request; empty when no task has this id
     */
    public Optional<TaskStatus> cancel(long id) {
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement(CANCEL)) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        TaskStatus now = TaskStatus.of(rs.getString(1));
                        if (now == TaskStatus.RUNNING) {
                            notify(c, CANCEL_CHANNEL, Long.toString(id));
                        }
                        LOG.info(() -> transition(id, null, 0, now == TaskStatus.RUNNING ? "running" : "pending",
                                now.value(), now == TaskStatus.RUNNING ? "cancel requested" : "cancelled by user"));
                        return Optional.of(now);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(STATUS_OF)) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(TaskStatus.of(rs.getString(1))) : Optional.empty();
                }
            }
        } catch (SQLException e) {
            throw new QueueException("could not cancel task " + id, e);
        }
    }

    /** Returns to the queue every task whose lease expired; cheap when none did. */
    public int requeueExpired() {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(REQUEUE_EXPIRED)) {
            int requeued = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    String to = rs.getString(2);
                    int attempt = rs.getInt(3);
                    String reason = rs.getString(4);
                    LOG.warning(transition(id, null, attempt, "running", to, reason));
                    if ("pending".equals(to)) {
                        requeued++;
                    }
                }
            }
            if (requeued > 0) {
                notify(c, READY_CHANNEL, "");
            }
            return requeued;
        } catch (SQLException e) {
            throw new QueueException("could not requeue expired leases", e);
        }
    }

    private static void notify(Connection c, String channel, String payload) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(NOTIFY)) {
            ps.setString(1, channel);
            ps.setString(2, payload);
            ps.execute();
        }
    }

    private static void fence(PreparedStatement ps, int index, ClaimedTask task) throws SQLException {
        ps.setLong(index, task.id());
        ps.setInt(index + 1, task.attempt());
        ps.setString(index + 2, task.workerId());
    }

    private static void setInt(PreparedStatement ps, int index, Integer value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.INTEGER);
        } else {
            ps.setInt(index, value);
        }
    }

    private static void setLong(PreparedStatement ps, int index, Long value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, value);
        }
    }

    private static String transition(ClaimedTask t, String from, String to, String reason) {
        return transition(t.id(), t.workerId() + "/" + t.slot(), t.attempt(), from, to, reason);
    }

    /** One structured line per state change: task, worker, attempt, from → to, reason. */
    static String transition(long id, String worker, int attempt, String from, String to, String reason) {
        return "task=" + id + " worker=" + (worker == null ? "-" : worker) + " attempt=" + attempt
                + " " + from + "->" + to + " reason=\"" + (reason == null ? "" : reason.replace('"', '\'')) + "\"";
    }
}
