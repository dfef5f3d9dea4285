package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.ConcurrencyLimits;
import dev.agentturbo.tasks.entity.Outcome;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Every statement of the lease protocol: claim, renew, record an attempt's end, requeue expired leases, promote
 * scheduled tasks, delete old finished ones. Each method runs on the connection it is given, in whatever
 * transaction the caller has open: a node's dispatcher groups a round's records and its claim into one commit.
 * <p>
 * The invariants: a pending task is claimed by one holder only ({@code FOR UPDATE SKIP LOCKED}); each claim takes a
 * new lease token from one sequence, so tokens only grow; every write after the claim names (id, lease token) and
 * {@code status = 'running'}, so a holder whose lease was taken over changes nothing; an expired lease is requeued
 * only by a node that, like the database, has been up for a whole lease (so holders cut off with everybody else
 * renew first).
 */
public final class TaskLeases {

    private static final Logger LOG = Logger.getLogger(TaskLeases.class.getName());
    /** A node whose heartbeat is older than this is not live (three heartbeats of the defaults). */
    private static final Duration DEFAULT_GONE_AFTER = Duration.ofSeconds(6);

    private final Duration goneAfter;
    private final ConcurrencyLimits concurrency;

    /** The lease protocol with one task of a concurrency key at a time, whatever the key. */
    public TaskLeases() {
        this(ConcurrencyLimits.DEFAULT, DEFAULT_GONE_AFTER);
    }

    /** @param concurrency how many tasks of one concurrency key may run at once across the fleet */
    public TaskLeases(ConcurrencyLimits concurrency) {
        this(concurrency, DEFAULT_GONE_AFTER);
    }

    /**
     * @param concurrency how many tasks of one concurrency key may run at once across the fleet
     * @param goneAfter a node whose heartbeat is older than this is not live: a task no other live node can take
     *                  fails rather than waits
     */
    public TaskLeases(ConcurrencyLimits concurrency, Duration goneAfter) {
        this.concurrency = concurrency;
        this.goneAfter = goneAfter;
    }

    // The node takes up to n of the most urgent ready tasks for its n free slots, in one statement: tasks without a
    // key from the main claim index, and tasks of keys that have room. The keys with waiting tasks come from a skip
    // scan of the keyed claim index (one probe per key, however many tasks wait for it; at most KEYS_SCANNED keys),
    // each with its limit: that of the longest matching prefix (passed longest first), else the default. For up to
    // n of those that seem to have room by a count in the statement's snapshot, agent_turbo_key_room takes the key's
    // advisory lock (a key another claimer holds is passed over, never waited for) and counts its running tasks
    // again in a fresh snapshot, which sees every claim of the key that committed before; as many of the key's most
    // urgent tasks as it has room for are candidates. SKIP LOCKED lets concurrent
    // claimers pass each other's rows, so each pending row goes to exactly one of them; each claimed row gets a new
    // lease token (the fencing token) and slot number i of the array gets the i-th row. Executors paused for the
    // node's credential (a usage limit until its reset) are passed over, and so are tasks this node gave back
    // because they cannot run here. It also says how long each task waited since its submission (both times by the
    // database's clock).
    private static final String CLAIM = """
            WITH RECURSIVE keys AS (
                (SELECT concurrency_key AS k, 1 AS depth FROM agent_tasks
                  WHERE status = 'pending' AND concurrency_key IS NOT NULL
                  ORDER BY concurrency_key LIMIT 1)
                UNION ALL
                SELECT (SELECT concurrency_key FROM agent_tasks
                         WHERE status = 'pending' AND concurrency_key IS NOT NULL AND concurrency_key > keys.k
                         ORDER BY concurrency_key LIMIT 1), keys.depth + 1
                  FROM keys WHERE keys.k IS NOT NULL AND keys.depth < ?),
            limited AS (
                SELECT k, coalesce((SELECT p.lim FROM unnest(?::text[], ?::int[]) WITH ORDINALITY AS p(prefix, lim, o)
                                     WHERE starts_with(keys.k, p.prefix) ORDER BY p.o LIMIT 1), ?) AS lim
                  FROM keys WHERE k IS NOT NULL),
            room AS MATERIALIZED (
                SELECT k, free FROM (
                    SELECT k, agent_turbo_key_room(k, lim) AS free FROM (
                        SELECT k, lim FROM limited
                         WHERE (SELECT count(*) FROM agent_tasks r
                                 WHERE r.status = 'running' AND r.concurrency_key = limited.k) < limited.lim
                        OFFSET 0) seemingly) counted
                 WHERE free > 0
                 LIMIT ?),
            candidates AS (
                SELECT id, priority FROM (
                    SELECT id, priority FROM agent_tasks
                     WHERE status = 'pending' AND concurrency_key IS NULL AND run_after <= now()
                       AND executor <> ALL(?::text[]) AND (unable_workers IS NULL OR NOT ? = ANY(unable_workers))
                     ORDER BY priority DESC, id
                     LIMIT ?
                     FOR UPDATE SKIP LOCKED) unkeyed
                UNION ALL
                SELECT keyed.id, keyed.priority
                  FROM room, LATERAL (
                    SELECT id, priority FROM agent_tasks
                     WHERE status = 'pending' AND concurrency_key = room.k AND run_after <= now()
                       AND executor <> ALL(?::text[]) AND (unable_workers IS NULL OR NOT ? = ANY(unable_workers))
                     ORDER BY priority DESC, id
                     LIMIT least(room.free, ?)
                     FOR UPDATE SKIP LOCKED) keyed),
            next AS (
                SELECT id, row_number() OVER (ORDER BY priority DESC, id) AS n
                  FROM candidates ORDER BY priority DESC, id LIMIT ?)
            UPDATE agent_tasks t
               SET status = 'running', assigned_worker_id = ?, slot = (?::int[])[next.n], attempt = t.attempt + 1,
                   lease_token = nextval('agent_tasks_lease_token'),
                   lease_expires_at = now() + make_interval(secs => ?), started_at = now(), completed_at = NULL
              FROM next
             WHERE t.id = next.id
            RETURNING t.id, t.attempt, t.max_attempts, t.lease_token, t.slot, t.executor, t.prompt, t.options::text,
                      t.timeout_seconds, EXTRACT(EPOCH FROM t.started_at - t.created_at)
            """;

    /** How many keys with waiting tasks one claim looks at, at most (keys at their limit included). */
    static final int KEYS_SCANNED = 4096;

    // One statement extends every lease the node holds, each fenced by its token; a row that does not come back
    // is no longer the node's. Only lease_expires_at changes and no index covers it: a HOT update.
    private static final String RENEW = """
            UPDATE agent_tasks t SET lease_expires_at = now() + make_interval(secs => ?)
              FROM unnest(?::bigint[], ?::bigint[]) AS held(id, token)
             WHERE t.id = held.id AND t.lease_token = held.token AND t.status = 'running'
            RETURNING t.lease_token, t.cancel_requested
            """;

    // Attempts that succeeded: completed, each fenced by its own token; one statement for all of a round's successes.
    // Cost and tokens add up over attempts: they are what was paid (sum() skips unknowns and stays null while no
    // attempt reported any, e.g. for a command).
    private static final String COMPLETE = """
            UPDATE agent_tasks t
               SET status = 'completed', completed_at = now(), lease_expires_at = NULL,
                   result = e.result, error = NULL, exit_code = e.exit_code,
                   cost_usd = (SELECT sum(v) FROM (VALUES (t.cost_usd), (e.cost_usd)) paid(v)),
                   input_tokens = (SELECT sum(v) FROM (VALUES (t.input_tokens), (e.input_tokens)) paid(v)),
                   output_tokens = (SELECT sum(v) FROM (VALUES (t.output_tokens), (e.output_tokens)) paid(v)),
                   num_turns = e.num_turns, session_id = e.session_id
              FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::int[], ?::numeric[], ?::bigint[], ?::bigint[],
                          ?::int[], ?::text[])
                   AS e(id, token, result, exit_code, cost_usd, input_tokens, output_tokens, num_turns, session_id)
             WHERE t.id = e.id AND t.lease_token = e.token AND t.status = 'running'
            RETURNING t.lease_token
            """;

    // The attempt failed, fenced. A user's cancel that came in meanwhile wins; then the last attempt or a
    // permanent failure fails the task; else it waits for its backoff (scheduled) or is claimable at once.
    private static final String FAIL = """
            WITH held AS (
                SELECT id, CASE WHEN cancel_requested THEN 'cancelled'
                                WHEN attempt >= max_attempts OR ? THEN 'failed'
                                WHEN ? > 0 THEN 'scheduled' ELSE 'pending' END AS next
                  FROM agent_tasks
                 WHERE id = ? AND lease_token = ? AND status = 'running'
                   FOR UPDATE)
            UPDATE agent_tasks t
               SET status = held.next,
                   completed_at = CASE WHEN held.next IN ('failed', 'cancelled') THEN now() END,
                   assigned_worker_id = CASE WHEN held.next IN ('failed', 'cancelled') THEN t.assigned_worker_id END,
                   slot = CASE WHEN held.next IN ('failed', 'cancelled') THEN t.slot END,
                   run_after = now() + make_interval(secs => ?), lease_expires_at = NULL,
                   result = ?, error = ?, exit_code = ?,
                   cost_usd = (SELECT sum(v) FROM (VALUES (t.cost_usd), (?::numeric)) paid(v)),
                   input_tokens = (SELECT sum(v) FROM (VALUES (t.input_tokens), (?::bigint)) paid(v)),
                   output_tokens = (SELECT sum(v) FROM (VALUES (t.output_tokens), (?::bigint)) paid(v)),
                   num_turns = ?, session_id = ?
              FROM held
             WHERE t.id = held.id
            RETURNING t.status
            """;

    // Back to the queue without counting the attempt (this node stops, or the usage limit holds until a reset),
    // fenced; the lease token is not given back. A user's cancel that came in meanwhile wins.
    private static final String RELEASE = """
            WITH held AS (
                SELECT id, CASE WHEN cancel_requested THEN 'cancelled'
                                WHEN ?::timestamptz > now() THEN 'scheduled' ELSE 'pending' END AS next
                  FROM agent_tasks
                 WHERE id = ? AND lease_token = ? AND status = 'running'
                   FOR UPDATE)
            UPDATE agent_tasks t
               SET status = held.next,
                   completed_at = CASE WHEN held.next = 'cancelled' THEN now() END,
                   attempt = CASE WHEN held.next = 'cancelled' THEN t.attempt ELSE t.attempt - 1 END,
                   assigned_worker_id = CASE WHEN held.next = 'cancelled' THEN t.assigned_worker_id END,
                   slot = CASE WHEN held.next = 'cancelled' THEN t.slot END,
                   lease_expires_at = NULL, run_after = GREATEST(now(), ?), error = ?
              FROM held
             WHERE t.id = held.id
            RETURNING t.status
            """;

    // This node cannot run the task (its repository is not on this host), fenced: the node joins the task's
    // unable_workers and the task goes back to the queue, its attempt not counted, as long as a live node outside
    // that list is left (active or draining, with slots, a recent heartbeat); else it fails, naming the nodes that
    // lack what it needs. A user's cancel that came in meanwhile wins.
    private static final String NOT_HERE = """
            WITH held AS (
                SELECT id, cancel_requested,
                       CASE WHEN ? = ANY(coalesce(unable_workers, '{}')) THEN unable_workers
                            ELSE array_append(coalesce(unable_workers, '{}'), ?::text) END AS unable
                  FROM agent_tasks
                 WHERE id = ? AND lease_token = ? AND status = 'running'
                   FOR UPDATE),
            decided AS (
                SELECT id, unable,
                       CASE WHEN cancel_requested THEN 'cancelled'
                            WHEN EXISTS (SELECT 1 FROM agent_workers w
                                          WHERE w.state IN ('active', 'draining') AND w.slots > 0
                                            AND w.heartbeat_at > now() - make_interval(secs => ?)
                                            AND w.id <> ALL(held.unable)) THEN 'pending'
                            ELSE 'failed' END AS next
                  FROM held)
            UPDATE agent_tasks t
               SET status = decided.next, unable_workers = decided.unable,
                   completed_at = CASE WHEN decided.next = 'pending' THEN NULL ELSE now() END,
                   attempt = CASE WHEN decided.next = 'cancelled' THEN t.attempt ELSE t.attempt - 1 END,
                   assigned_worker_id = CASE WHEN decided.next = 'pending' THEN NULL ELSE t.assigned_worker_id END,
                   slot = CASE WHEN decided.next = 'pending' THEN NULL ELSE t.slot END,
                   lease_expires_at = NULL, run_after = now(),
                   error = CASE WHEN decided.next = 'failed'
                                THEN ?::text || '; no live node can run it (nodes without it: '
                                     || array_to_string(decided.unable, ', ') || ')'
                                ELSE ?::text END
              FROM decided
             WHERE t.id = decided.id
            RETURNING t.status
            """;

    // What the task's git worktree came to, fenced like the ending it comes with, and written just before it.
    private static final String WORKTREE = """
            UPDATE agent_tasks SET worktree = ?::jsonb WHERE id = ? AND lease_token = ? AND status = 'running'
            """;

    // The holder killed the agent because a user asked to cancel: cancelled, fenced.
    private static final String CANCELLED = """
            UPDATE agent_tasks
               SET status = 'cancelled', completed_at = now(), lease_expires_at = NULL, error = ?
             WHERE id = ? AND lease_token = ? AND status = 'running'
            RETURNING status
            """;

    // What became of a task whose fenced write matched nothing: for the log line only.
    private static final String NOW_HELD = "SELECT status, lease_token, assigned_worker_id FROM agent_tasks WHERE id = ?";

    // Tasks whose holder stopped renewing (node died, hung or was cut off) go back to the queue; the lost attempt
    // counts, and after the last one the task fails with the reason. Only when the database itself has been up
    // for a whole lease (the caller also checks its own connection): after a database restart every holder gets
    // a lease's time to renew first. SKIP LOCKED: two nodes reaping at once never collide.
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
                       AND pg_postmaster_start_time() < now() - make_interval(secs => ?)
                     FOR UPDATE SKIP LOCKED) expired
             WHERE t.id = expired.id
            RETURNING t.id, t.status, t.attempt, t.error, t.executor
            """;

    // Scheduled tasks whose time has come become claimable, the earliest first; the answer also says when the
    // next one is due, so that a node can promote it on time without polling.
    private static final String PROMOTE_DUE = """
            WITH due AS (
                SELECT id FROM agent_tasks
                 WHERE status = 'scheduled' AND run_after <= now()
                 ORDER BY run_after
                 LIMIT ?
                 FOR UPDATE SKIP LOCKED),
            promoted AS (
                UPDATE agent_tasks t SET status = 'pending' FROM due WHERE t.id = due.id RETURNING t.id)
            SELECT coalesce((SELECT array_agg(id) FROM promoted), '{}'::bigint[]),
                   (SELECT EXTRACT(EPOCH FROM min(run_after) - now())
                      FROM agent_tasks WHERE status = 'scheduled' AND run_after > now())
            """;

    // Retention: finished tasks older than the configured age go, oldest first, a small batch at a time (their
    // output goes with them). One node at a time: the others skip while the advisory lock is taken.
    private static final String DELETE_FINISHED = """
            DELETE FROM agent_tasks
             WHERE pg_try_advisory_xact_lock(hashtext('agent_turbo_retention'))
               AND id IN (SELECT id FROM agent_tasks
                           WHERE status IN ('completed', 'failed', 'cancelled')
                             AND completed_at < now() - make_interval(secs => ?)
                           ORDER BY completed_at
                           LIMIT ?
                           FOR UPDATE SKIP LOCKED)
            """;

    private static final String NOTIFY = "SELECT pg_notify(?, '')";

    /** What became of one task whose lease expired. */
    public record Requeued(long id, String status, int attempt, String reason, String executor) {
    }

    /**
     * Scheduled tasks made claimable, and how long until the next scheduled one is due by the database's clock
     * (null when none waits).
     */
    public record Promotion(List<Long> promoted, Duration nextDueIn) {
    }

    /**
     * Claims up to {@code slots.length} ready tasks: the i-th claimed row goes to slot {@code slots[i]}.
     *
     * @return the claimed tasks, fewer than asked (or none) when fewer were ready
     */
    public List<ClaimedTask> claim(Connection c, String workerId, int[] slots, Duration lease) throws SQLException {
        return claim(c, workerId, slots, lease, List.of());
    }

    /**
     * Claims as {@link #claim(Connection, String, int[], Duration)} does, leaving out tasks of the executors this
     * node may not start now (paused for the credential its agents use). Must run in a transaction (the keys it
     * locks stay locked until the commit); the caller commits soon after.
     */
    public List<ClaimedTask> claim(Connection c, String workerId, int[] slots, Duration lease, Collection<String> paused)
            throws SQLException {
        Array skip = c.createArrayOf("text", paused.toArray());
        List<Map.Entry<String, Integer>> prefixes = concurrency.longestFirst();
        try (PreparedStatement ps = c.prepareStatement(CLAIM)) {
            ps.setInt(1, KEYS_SCANNED);
            ps.setArray(2, c.createArrayOf("text", prefixes.stream().map(Map.Entry::getKey).toArray()));
            ps.setArray(3, c.createArrayOf("integer", prefixes.stream().map(Map.Entry::getValue).toArray()));
            ps.setInt(4, concurrency.defaultLimit());
            ps.setInt(5, slots.length);
            ps.setArray(6, skip);
            ps.setString(7, workerId);
            ps.setInt(8, slots.length);
            ps.setArray(9, skip);
            ps.setString(10, workerId);
            ps.setInt(11, slots.length);
            ps.setInt(12, slots.length);
            ps.setString(13, workerId);
            ps.setArray(14, c.createArrayOf("integer", java.util.Arrays.stream(slots).boxed().toArray()));
            ps.setLong(15, lease.toSeconds());
            List<ClaimedTask> claimed = new ArrayList<>(slots.length);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    claimed.add(new ClaimedTask(rs.getLong(1), rs.getInt(2), rs.getInt(3), rs.getLong(4), workerId,
                            rs.getInt(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getInt(9),
                            Duration.ofNanos(Math.max(0, (long) (rs.getDouble(10) * 1e9)))));
                }
            }
            // in the order of the slots, which is the claim order (most urgent first)
            List<Integer> order = java.util.Arrays.stream(slots).boxed().toList();
            claimed.sort(java.util.Comparator.comparingInt(t -> order.indexOf(t.slot())));
            return claimed;
        }
    }

    /**
     * Extends the leases of the tasks this node holds.
     *
     * @return by lease token, for each lease still held, whether a user asked to cancel its task; a lease missing
     * from the answer is no longer this node's (it expired and the task was requeued)
     */
    public Map<Long, Boolean> renew(Connection c, Collection<ClaimedTask> held, Duration lease) throws SQLException {
        Map<Long, Boolean> renewed = new HashMap<>();
        if (held.isEmpty()) {
            return renewed;
        }
        try (PreparedStatement ps = c.prepareStatement(RENEW)) {
            ps.setLong(1, lease.toSeconds());
            ps.setArray(2, longs(c, held.stream().map(ClaimedTask::id).toArray()));
            ps.setArray(3, longs(c, held.stream().map(ClaimedTask::leaseToken).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    renewed.put(rs.getLong(1), rs.getBoolean(2));
                }
            }
        }
        return renewed;
    }

    /** One attempt's end, to be recorded. {@code retryDelay} is how long a retryable failure waits. */
    public record Ending(ClaimedTask task, Outcome outcome, Duration retryDelay) {
    }

    /**
     * Records how attempts ended, fenced: all successes in one statement, the rest one statement each.
     *
     * @return for each ending, the task's status afterwards, or null where the write was fenced out (the task is
     * no longer running under that lease: nothing was changed)
     */
    public String[] record(Connection c, List<Ending> endings) throws SQLException {
        String[] after = new String[endings.size()];
        for (Ending e : endings) {
            if (e.outcome().worktree() != null) {
                try (PreparedStatement ps = c.prepareStatement(WORKTREE)) {
                    ps.setString(1, e.outcome().worktree());
                    ps.setLong(2, e.task().id());
                    ps.setLong(3, e.task().leaseToken());
                    ps.executeUpdate();
                }
            }
        }
        List<Integer> successes = new ArrayList<>();
        for (int i = 0; i < endings.size(); i++) {
            if (endings.get(i).outcome().kind() == Outcome.Kind.SUCCEEDED) {
                successes.add(i);
            } else {
                after[i] = recordOne(c, endings.get(i));
            }
        }
        if (!successes.isEmpty()) {
            List<Outcome> o = successes.stream().map(i -> endings.get(i).outcome()).toList();
            try (PreparedStatement ps = c.prepareStatement(COMPLETE)) {
                ps.setArray(1, c.createArrayOf("bigint", successes.stream().map(i -> endings.get(i).task().id()).toArray()));
                ps.setArray(2, c.createArrayOf("bigint",
                        successes.stream().map(i -> endings.get(i).task().leaseToken()).toArray()));
                ps.setArray(3, c.createArrayOf("text", o.stream().map(Outcome::result).toArray()));
                ps.setArray(4, c.createArrayOf("integer", o.stream().map(Outcome::exitCode).toArray()));
                ps.setArray(5, c.createArrayOf("numeric", o.stream().map(Outcome::costUsd).toArray()));
                ps.setArray(6, c.createArrayOf("bigint", o.stream().map(Outcome::inputTokens).toArray()));
                ps.setArray(7, c.createArrayOf("bigint", o.stream().map(Outcome::outputTokens).toArray()));
                ps.setArray(8, c.createArrayOf("integer", o.stream().map(Outcome::numTurns).toArray()));
                ps.setArray(9, c.createArrayOf("text", o.stream().map(Outcome::sessionId).toArray()));
                java.util.Set<Long> landed = new java.util.HashSet<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        landed.add(rs.getLong(1));
                    }
                }
                for (int i : successes) {
                    after[i] = landed.contains(endings.get(i).task().leaseToken()) ? "completed" : null;
                }
            }
        }
        return after;
    }

    private String recordOne(Connection c, Ending e) throws SQLException {
        ClaimedTask task = e.task();
        Outcome o = e.outcome();
        return switch (o.kind()) {
            case SUCCEEDED -> throw new IllegalArgumentException("successes are recorded together");
            case RETRYABLE, PERMANENT -> {
                boolean permanent = o.kind() == Outcome.Kind.PERMANENT;
                double delay = permanent ? 0 : e.retryDelay().toMillis() / 1000.0;
                try (PreparedStatement ps = c.prepareStatement(FAIL)) {
                    ps.setBoolean(1, permanent);
                    ps.setDouble(2, delay);
                    ps.setLong(3, task.id());
                    ps.setLong(4, task.leaseToken());
                    ps.setDouble(5, delay);
                    ps.setString(6, o.result());
                    ps.setString(7, o.error());
                    setInt(ps, 8, o.exitCode());
                    ps.setBigDecimal(9, o.costUsd());
                    setLong(ps, 10, o.inputTokens());
                    setLong(ps, 11, o.outputTokens());
                    setInt(ps, 12, o.numTurns());
                    ps.setString(13, o.sessionId());
                    yield single(ps);
                }
            }
            case USAGE_LIMITED -> release(c, task, o.resumeAt(), "usage limit reached; resumes at " + o.resumeAt());
            case RELEASED -> release(c, task, null, o.error());
            // back to the queue at once, not counted: nodes of the same credential pass it over while the fleet
            // backs off or pauses; nodes of another credential may run it
            case RATE_LIMITED, CREDENTIALS -> release(c, task, null, o.error());
            case NOT_HERE -> {
                try (PreparedStatement ps = c.prepareStatement(NOT_HERE)) {
                    ps.setString(1, task.workerId());
                    ps.setString(2, task.workerId());
                    ps.setLong(3, task.id());
                    ps.setLong(4, task.leaseToken());
                    ps.setDouble(5, goneAfter.toMillis() / 1000.0);
                    ps.setString(6, o.error());
                    ps.setString(7, o.error());
                    yield single(ps);
                }
            }
            case CANCELLED -> {
                try (PreparedStatement ps = c.prepareStatement(CANCELLED)) {
                    ps.setString(1, o.error());
                    ps.setLong(2, task.id());
                    ps.setLong(3, task.leaseToken());
                    yield single(ps);
                }
            }
        };
    }

    private static String release(Connection c, ClaimedTask task, Instant notBefore, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(RELEASE)) {
            Timestamp at = notBefore == null ? null : Timestamp.from(notBefore);
            ps.setTimestamp(1, at);
            ps.setLong(2, task.id());
            ps.setLong(3, task.leaseToken());
            ps.setTimestamp(4, at);
            ps.setString(5, reason);
            return single(ps);
        }
    }

    /** Who holds the task now, in words, for the line that says a write was fenced out. */
    public String holderOf(Connection c, long id) {
        try (PreparedStatement ps = c.prepareStatement(NOW_HELD)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? "now " + rs.getString(1) + ", lease " + rs.getLong(2) + ", worker "
                        + rs.getString(3) : "task deleted";
            }
        } catch (SQLException e) {
            LOG.log(Level.FINE, "could not read task " + id, e);
            return "unknown";
        }
    }

    /**
     * Requeues every task whose lease expired, fleet-wide, provided the database has been up for {@code lease};
     * the caller must also have been connected for that long.
     */
    public List<Requeued> requeueExpired(Connection c, Duration lease) throws SQLException {
        List<Requeued> requeued = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(REQUEUE_EXPIRED)) {
            ps.setLong(1, lease.toSeconds());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    requeued.add(new Requeued(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getString(4),
                            rs.getString(5)));
                }
            }
        }
        return requeued;
    }

    /** Makes up to {@code max} due scheduled tasks claimable. */
    public Promotion promoteDue(Connection c, int max) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(PROMOTE_DUE)) {
            ps.setInt(1, max);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                List<Long> ids = new ArrayList<>();
                for (Object id : (Object[]) rs.getArray(1).getArray()) {
                    ids.add(((Number) id).longValue());
                }
                double seconds = rs.getDouble(2);
                return new Promotion(ids, rs.wasNull() ? null : Duration.ofMillis(Math.max(0, (long) (seconds * 1000))));
            }
        }
    }

    /** Deletes up to {@code max} tasks that finished more than {@code age} ago; 0 when another node is at it. */
    public int deleteFinished(Connection c, Duration age, int max) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(DELETE_FINISHED)) {
            ps.setLong(1, age.toSeconds());
            ps.setInt(2, max);
            return ps.executeUpdate();
        }
    }

    /** Tells every listening node that tasks became claimable (delivered when the transaction commits). */
    public void notifyReady(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(NOTIFY)) {
            ps.setString(1, TaskQueue.READY_CHANNEL);
            ps.execute();
        }
    }

    private static String single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static Array longs(Connection c, Object[] values) throws SQLException {
        return c.createArrayOf("bigint", values);
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
}
