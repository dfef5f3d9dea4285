package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What users do to the queue: submit tasks (one, or a batch in one transaction), cancel and retry them. Each call is one
 * short transaction on a pooled connection. The lease protocol (claim, renew, record, requeue) is
 * {@link TaskLeases}, run by each node's dispatcher on a connection of its own.
 */
@ApplicationScoped
public class TaskQueue {

    /** NOTIFY channel: a task became ready to claim. */
    public static final String READY_CHANNEL = "agent_turbo_tasks";
    /** NOTIFY channel: a user asked to cancel the running task whose id is the payload. */
    public static final String CANCEL_CHANNEL = "agent_turbo_cancel";

    private static final Logger LOG = Logger.getLogger(TaskQueue.class.getName());

    // Stores one submission and tells listening nodes, in one statement (the NOTIFY is delivered when the
    // transaction commits; repeated ones in a batch's transaction collapse into one). A repeated idempotency key
    // stores nothing and the first task is returned instead.
    // A task that waits for others is stored blocked, with the number of them that have not completed yet.
    private static final String INSERT = """
            WITH stored AS (
                INSERT INTO agent_tasks (executor, prompt, priority, max_attempts, timeout_seconds, options, idempotency_key,
                                         submitted_by, concurrency_key, status, waiting_for)
                VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, CASE WHEN ? > 0 THEN 'blocked' ELSE 'pending' END, ?)
                ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING id, status)
            SELECT id, CASE WHEN status = 'pending' THEN pg_notify('agent_turbo_tasks', '') END FROM stored
            """;

    // The tasks a new task waits for, locked until the submission commits (a dependency that finishes meanwhile
    // waits for it, so its trigger sees the new task's edges) and marked as having dependents. With an owner, only
    // that submitter's tasks count: another's is not found, as everywhere a submitter sees only its own.
    private static final String LOCK_DEPENDENCIES = """
            UPDATE agent_tasks SET has_dependents = true
             WHERE id = ANY(?::bigint[]) AND (?::text IS NULL OR submitted_by = ?::text)
            RETURNING id, status
            """;

    private static final String INSERT_DEPENDENCIES = """
            INSERT INTO task_dependencies (task_id, depends_on, satisfied)
            SELECT ?, d.id, d.met FROM unnest(?::bigint[], ?::boolean[]) AS d(id, met)
            """;

    private static final String FIND_BY_KEY = """
            SELECT id, executor, prompt FROM agent_tasks WHERE idempotency_key = ?
            """;

    // A user's cancel: a task waiting in the queue is cancelled at once; a running one is flagged for its holder,
    // whose renewals return the flag (and every fenced end of the attempt honours it).
    private static final String CANCEL = """
            WITH target AS (SELECT id, status AS was FROM agent_tasks WHERE id = ? FOR UPDATE)
            UPDATE agent_tasks t
               SET status = CASE WHEN t.status = 'running' THEN t.status ELSE 'cancelled' END,
                   completed_at = CASE WHEN t.status = 'running' THEN t.completed_at ELSE now() END,
                   error = CASE WHEN t.status = 'running' THEN t.error ELSE 'cancelled by user before it started' END,
                   cancel_requested = true
              FROM target
             WHERE t.id = target.id AND t.status IN ('blocked', 'scheduled', 'pending', 'running')
            RETURNING t.status, target.was, t.executor
            """;

    // A user's retry: a finished task (completed, failed or cancelled) runs again, same id, as further attempts with
    // as many attempts as it was submitted with. Its output and the history of its attempts stay; cost and tokens
    // go on adding up (they are what was paid). Nodes that could not run it (its repository was missing) may try
    // again. A task that still waits for dependencies is blocked again; one that
    // waits for a failed or cancelled task is not retried (it could never run). Nothing happens to a task that is
    // not finished.
    private static final String RETRY = """
            WITH target AS (SELECT id, status AS was FROM agent_tasks WHERE id = ? FOR UPDATE)
            UPDATE agent_tasks t
               SET status = CASE WHEN t.waiting_for > 0 THEN 'blocked' ELSE 'pending' END,
                   run_after = now(), cancel_requested = false,
                   attempts_per_run = coalesce(t.attempts_per_run, t.max_attempts),
                   max_attempts = t.attempt + coalesce(t.attempts_per_run, t.max_attempts),
                   retried = t.retried + 1, completed_at = NULL, assigned_worker_id = NULL, slot = NULL,
                   result = NULL, error = NULL, exit_code = NULL, unable_workers = NULL
              FROM target
             WHERE t.id = target.id AND t.status IN ('completed', 'failed', 'cancelled')
               AND NOT EXISTS (SELECT 1 FROM task_dependencies d JOIN agent_tasks p ON p.id = d.depends_on
                                WHERE d.task_id = t.id AND NOT d.satisfied AND p.status IN ('failed', 'cancelled'))
            RETURNING target.was, t.status, CASE WHEN t.status = 'pending' THEN pg_notify('agent_turbo_tasks', '') END
            """;

    private static final String STATUS_OF = "SELECT status FROM agent_tasks WHERE id = ?";

    private static final String NOTIFY = "SELECT pg_notify(?, ?)";

    @Inject
    DataSource dataSource;
    @Inject
    jakarta.enterprise.inject.Instance<TaskEvents> listeners;

    protected TaskQueue() {
    }

    public TaskQueue(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Stores one task; the row is committed when this returns.
     *
     * @throws InvalidTaskException when a task it depends on does not exist, failed or was cancelled (nothing stored)
     */
    public Submitted submit(NewTask task) {
        return submit(task, false);
    }

    /**
     * Stores one task as {@link #submit(NewTask)} does.
     *
     * @param ownTasksOnly whether it may wait only for tasks of its own submitter (a submitter sees only those)
     */
    public Submitted submit(NewTask task, boolean ownTasksOnly) {
        if (task.hasDependencies()) {
            return submitAll(List.of(task), ownTasksOnly).get(0);
        }
        try (Connection c = dataSource.getConnection(); PreparedStatement insert = c.prepareStatement(INSERT)) {
            Submitted stored = insertOne(c, insert, task, 0); // one statement: committed on its own
            logSubmitted(List.of(stored));
            countSubmitted(List.of(task), List.of(stored));
            return stored;
        } catch (SQLException e) {
            throw new QueueException("could not store the task", e);
        }
    }

    /**
     * Stores the tasks in one transaction: all of them or, on any error, none. Items that wait for other items of
     * the batch are stored after them (the batch has no cycle: {@link TaskRequests} refuses those).
     *
     * @return what became of each task, in the order given
     * @throws InvalidTaskException when a task that one of them depends on does not exist, failed or was cancelled
     */
    public List<Submitted> submitAll(List<NewTask> tasks) {
        return submitAll(tasks, false);
    }

    /**
     * Stores the tasks as {@link #submitAll(List)} does.
     *
     * @param ownTasksOnly whether they may wait only for tasks of their own submitter (a submitter sees only those)
     */
    public List<Submitted> submitAll(List<NewTask> tasks, boolean ownTasksOnly) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Submitted[] byItem = new Submitted[tasks.size()];
                List<String> problems = new ArrayList<>();
                try (PreparedStatement insert = c.prepareStatement(INSERT)) {
                    for (int i : TaskRequests.storeOrder(tasks)) {
                        NewTask task = tasks.get(i);
                        String at = tasks.size() > 1 || !task.dependsOnItems().isEmpty() ? "[" + i + "]." : "";
                        byItem[i] = task.hasDependencies()
                                ? insertWaiting(c, insert, task, ownTasksOnly ? task.submittedBy() : null, byItem,
                                at, problems)
                                : insertOne(c, insert, task, 0);
                    }
                }
                if (!problems.isEmpty()) {
                    throw new InvalidTaskException(problems);
                }
                List<Submitted> stored = List.of(byItem);
                c.commit();
                logSubmitted(stored);
                countSubmitted(tasks, stored);
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

    /** Where this node's events are told: the node's metrics, or nobody (a queue built without a container). */
    private TaskEvents events() {
        return listeners != null && listeners.isResolvable() ? listeners.get() : TaskEvents.NONE;
    }

    private void countSubmitted(List<NewTask> tasks, List<Submitted> stored) {
        java.util.Map<String, Integer> created = new java.util.HashMap<>();
        for (int i = 0; i < tasks.size(); i++) {
            if (stored.get(i).created()) {
                created.merge(tasks.get(i).executor(), 1, Integer::sum);
            }
        }
        TaskEvents events = events();
        created.forEach(events::submitted);
    }

    private static void logSubmitted(List<Submitted> stored) {
        stored.stream().filter(s -> s.created() && !s.blocked()).forEach(s ->
                log(LOG, Level.INFO, s.id(), null, 0, "new", TaskStatus.PENDING.value(), "submitted"));
    }

    /**
     * Stores a task that waits for others: locks them, refuses those that do not exist, failed or were cancelled
     * (adding the problem; null is returned), and stores the task blocked while any has not completed.
     */
    private static Submitted insertWaiting(Connection c, PreparedStatement insert, NewTask task, String owner,
                                           Submitted[] byItem, String at, List<String> problems) throws SQLException {
        // a repeated submission gets the task stored the first time, whatever became of its dependencies since
        if (task.idempotencyKey() != null) {
            Optional<Submitted> earlier = stored(c, task);
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        java.util.LinkedHashSet<Long> ids = new java.util.LinkedHashSet<>(task.dependsOn());
        for (int item : task.dependsOnItems()) {
            if (byItem[item] == null) {
                return null; // that item was refused: its problem is said already
            }
            ids.add(byItem[item].id());
        }
        Map<Long, String> status = new java.util.HashMap<>();
        try (PreparedStatement lock = c.prepareStatement(LOCK_DEPENDENCIES)) {
            lock.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            lock.setString(2, owner);
            lock.setString(3, owner);
            try (ResultSet rs = lock.executeQuery()) {
                while (rs.next()) {
                    status.put(rs.getLong(1), rs.getString(2));
                }
            }
        }
        int before = problems.size();
        for (long id : task.dependsOn()) {
            String s = status.get(id);
            if (s == null) {
                problems.add(at + "dependsOn: task " + id + " does not exist");
            } else if (s.equals("failed") || s.equals("cancelled")) {
                problems.add(at + "dependsOn: task " + id + " " + s + ", so this task could never run; retry task "
                        + id + " first, or leave it out");
            }
        }
        if (problems.size() > before) {
            return null;
        }
        List<Long> open = ids.stream().filter(id -> !"completed".equals(status.get(id))).toList();
        Submitted stored = insertOne(c, insert, task, open.size());
        if (stored.created()) {
            try (PreparedStatement edges = c.prepareStatement(INSERT_DEPENDENCIES)) {
                edges.setLong(1, stored.id());
                edges.setArray(2, c.createArrayOf("bigint", ids.toArray()));
                edges.setArray(3, c.createArrayOf("boolean", ids.stream().map(id -> !open.contains(id)).toArray()));
                edges.executeUpdate();
            }
            if (!open.isEmpty()) {
                log(LOG, Level.INFO, stored.id(), null, 0, "new", TaskStatus.BLOCKED.value(),
                        "waits for tasks " + open.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")));
            }
        }
        return stored;
    }

    private static Submitted insertOne(Connection c, PreparedStatement insert, NewTask task, int waitingFor)
            throws SQLException {
        insert.setString(1, task.executor());
        insert.setString(2, task.prompt());
        insert.setInt(3, task.priority());
        insert.setInt(4, task.maxAttempts());
        insert.setInt(5, task.timeoutSeconds());
        insert.setString(6, task.optionsJson());
        insert.setString(7, task.idempotencyKey());
        insert.setString(8, task.submittedBy());
        insert.setString(9, task.concurrencyKey());
        insert.setInt(10, waitingFor);
        insert.setInt(11, waitingFor);
        try (ResultSet rs = insert.executeQuery()) {
            if (rs.next()) {
                return new Submitted(rs.getLong(1), true, waitingFor > 0);
            }
        }
        return stored(c, task).orElseThrow(
                () -> new QueueException("idempotency key " + task.idempotencyKey() + " vanished", null));
    }

    /**
     * The task an earlier submission with the same idempotency key stored, if any.
     *
     * @throws IdempotencyConflictException when that task has another executor or prompt
     */
    private static Optional<Submitted> stored(Connection c, NewTask task) throws SQLException {
        try (PreparedStatement find = c.prepareStatement(FIND_BY_KEY)) {
            find.setString(1, task.idempotencyKey());
            try (ResultSet rs = find.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                if (!rs.getString("executor").equals(task.executor()) || !rs.getString("prompt").equals(task.prompt())) {
                    throw new IdempotencyConflictException(task.idempotencyKey(), rs.getLong("id"));
                }
                return Optional.of(new Submitted(rs.getLong("id"), false));
            }
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
                        String was = rs.getString(2);
                        if (now == TaskStatus.RUNNING) {
                            notify(c, CANCEL_CHANNEL, Long.toString(id));
                        } else {
                            events().cancelledWaiting(rs.getString(3));
                        }
                        log(LOG, Level.INFO, id, null, 0, was, now.value(),
                                now == TaskStatus.RUNNING ? "cancel requested" : "cancelled by user");
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

    /**
     * A user's retry of a finished task: it runs again as a new attempt of the same task (same id, its output and
     * attempts kept).
     *
     * @return true when it was queued again (or blocked again, waiting for its dependencies); false when it is not
     * finished, or waits for a task that failed or was cancelled (nothing changes); empty when no task has this id
     */
    public Optional<Boolean> retry(long id) {
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement(RETRY)) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        String was = rs.getString(1);
                        log(LOG, Level.INFO, id, null, 0, was, rs.getString(2), "retried by user");
                        return Optional.of(true);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(STATUS_OF)) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(false) : Optional.empty();
                }
            }
        } catch (SQLException e) {
            throw new QueueException("could not retry task " + id, e);
        }
    }

    private static void notify(Connection c, String channel, String payload) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(NOTIFY)) {
            ps.setString(1, channel);
            ps.setString(2, payload);
            ps.execute();
        }
    }

    /** The line for a change of a task a node holds: its worker and slot, attempt and lease token. */
    public static String transition(ClaimedTask t, String from, String to, String reason) {
        return "task=" + t.id() + " worker=" + t.workerId() + "/" + t.slot() + " attempt=" + t.attempt()
                + " lease=" + t.leaseToken() + " " + from + "->" + to + " reason=\"" + clean(reason) + "\"";
    }

    /**
     * Logs a state change of a claimed task: the line {@link #transition(ClaimedTask, String, String, String)} and,
     * as the record's parameter, its fields (task, worker, slot, attempt, lease, from, to, reason), which the
     * node's JSON log writes as fields of their own.
     */
    public static void log(Logger log, Level level, ClaimedTask t, String from, String to, String reason) {
        if (log.isLoggable(level)) {
            log.log(level, transition(t, from, to, reason),
                    fields(t.id(), t.workerId(), t.slot(), t.attempt(), t.leaseToken(), from, to, reason));
        }
    }

    /** Logs a state change of a task that no slot holds (worker null) or is known only by its id. */
    public static void log(Logger log, Level level, long id, String worker, int attempt, String from, String to,
                           String reason) {
        if (log.isLoggable(level)) {
            log.log(level, transition(id, worker, attempt, from, to, reason),
                    fields(id, worker, null, attempt, null, from, to, reason));
        }
    }

    /** The fields of a claimed task (task, worker, slot, attempt, lease), for a log line about it. */
    public static Map<String, Object> fields(ClaimedTask t) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("task", t.id());
        f.put("worker", t.workerId());
        f.put("slot", t.slot());
        f.put("attempt", t.attempt());
        f.put("lease", t.leaseToken());
        return f;
    }

    /** A task's fields for a log line; a field that does not apply (null) is left out. */
    public static Map<String, Object> fields(long id, String worker, Integer slot, int attempt, Long lease,
                                             String from, String to, String reason) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("task", id);
        if (worker != null) {
            f.put("worker", worker);
        }
        if (slot != null) {
            f.put("slot", slot);
        }
        f.put("attempt", attempt);
        if (lease != null) {
            f.put("lease", lease);
        }
        f.put("from", from);
        f.put("to", to);
        f.put("reason", reason == null ? "" : reason);
        return f;
    }

    /** One structured line per state change: task, worker, attempt, from → to, reason. */
    public static String transition(long id, String worker, int attempt, String from, String to, String reason) {
        return "task=" + id + " worker=" + (worker == null ? "-" : worker) + " attempt=" + attempt
                + " " + from + "->" + to + " reason=\"" + clean(reason) + "\"";
    }

    private static String clean(String reason) {
        return reason == null ? "" : reason.replace('"', '\'').replace('\n', ' ');
    }
}
