package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.OutputItem;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * task_output: what agents printed, stored as it arrives, read in order. The statements that write it run on
 * whatever connection a node's output recorder gives them, one statement for the new lines of every agent of the
 * node; reads are short statements on the API's pool.
 */
@ApplicationScoped
public class TaskOutput {

    // New lines of many tasks in one statement. A seq taken already (an earlier holder of the task, cut off, still
    // writing) keeps what is there: the output of the attempt that holds the task now wins.
    private static final String INSERT = """
            INSERT INTO task_output (task_id, seq, attempt, at, stream, kind, text, event)
            SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::int[], ?::timestamptz[], ?::text[], ?::text[], ?::text[],
                                 ?::text[])
            ON CONFLICT (task_id, seq) DO NOTHING
            """;

    // The line that says how much of the middle was dropped, written when an attempt first passes the cap and
    // rewritten with each drop.
    private static final String MARKER = """
            INSERT INTO task_output (task_id, seq, attempt, at, stream, kind, text)
            SELECT id, seq, attempt, now(), 'system', 'system', text
              FROM unnest(?::bigint[], ?::bigint[], ?::int[], ?::text[]) AS m(id, seq, attempt, text)
            ON CONFLICT (task_id, seq) DO UPDATE SET text = EXCLUDED.text
            """;

    private static final String DROP = """
            DELETE FROM task_output o USING unnest(?::bigint[], ?::bigint[]) AS d(id, seq)
             WHERE o.task_id = d.id AND o.seq = d.seq
            """;

    // Where each task's output stands: the highest seq and the characters kept, for an attempt about to add to it.
    private static final String STORED = """
            SELECT task_id, max(seq), sum(length(text) + coalesce(length(event), 0))
              FROM task_output WHERE task_id = ANY(?::bigint[]) GROUP BY task_id
            """;

    private static final String READ = """
            SELECT seq, at, attempt, stream, kind, text, event FROM task_output
             WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?
            """;

    // The new output of many followed tasks at once (one statement per poll of a node, however many follow).
    private static final String FOLLOW = """
            SELECT f.n, o.seq, o.at, o.attempt, o.stream, o.kind, o.text, o.event, t.status
              FROM unnest(?::bigint[], ?::bigint[]) WITH ORDINALITY AS f(id, after, n)
              JOIN agent_tasks t ON t.id = f.id
              LEFT JOIN LATERAL (SELECT * FROM task_output o
                                  WHERE o.task_id = f.id AND o.seq > f.after ORDER BY o.seq LIMIT ?) o ON true
             ORDER BY f.n, o.seq
            """;

    /** A line about to be written. */
    public record Line(long taskId, long seq, int attempt, java.time.Instant at, String stream, String kind, String text,
                       String event) {
    }

    /** Where a task's output stands. */
    public record Stored(long maxSeq, long chars) {
    }

    /** What a follower gets: the task's status now and its output after the seq it asked from. */
    public record Followed(TaskStatus status, List<OutputItem> items) {
    }

    @Inject
    DataSource dataSource;

    protected TaskOutput() {
    }

    public TaskOutput(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** A task's output after {@code after}, in order, at most {@code limit} items. */
    public List<OutputItem> read(long taskId, long after, int limit) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(READ)) {
            ps.setLong(1, taskId);
            ps.setLong(2, after);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<OutputItem> items = new ArrayList<>();
                while (rs.next()) {
                    items.add(item(rs, 1));
                }
                return items;
            }
        } catch (SQLException e) {
            throw new QueueException("could not read the output of task " + taskId, e);
        }
    }

    /**
     * The output of several tasks after a seq each, at most {@code limit} items each, with their status: index i of
     * the answer is for task i of the question; a task that does not exist (any more) is missing from the map.
     */
    public Map<Integer, Followed> follow(long[] taskIds, long[] after, int limit) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FOLLOW)) {
            ps.setArray(1, c.createArrayOf("bigint", box(taskIds)));
            ps.setArray(2, c.createArrayOf("bigint", box(after)));
            ps.setInt(3, limit);
            Map<Integer, Followed> answer = new HashMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int i = rs.getInt(1) - 1;
                    TaskStatus status = TaskStatus.of(rs.getString(9));
                    Followed f = answer.computeIfAbsent(i, k -> new Followed(status, new ArrayList<>()));
                    rs.getLong(2);
                    if (!rs.wasNull()) {
                        f.items().add(item(rs, 2));
                    }
                }
            }
            return answer;
        } catch (SQLException e) {
            throw new QueueException("could not read the output of tasks being followed", e);
        }
    }

    private static OutputItem item(ResultSet rs, int from) throws SQLException {
        Timestamp at = rs.getTimestamp(from + 1);
        return new OutputItem(rs.getLong(from), at.toInstant(), rs.getInt(from + 2), rs.getString(from + 3),
                rs.getString(from + 4), rs.getString(from + 5), rs.getString(from + 6));
    }

    // --- what a node's output recorder writes, on its own connection and transaction -------------------------------

    /** Where the output of these tasks stands now. */
    public static Map<Long, Stored> stored(Connection c, Collection<Long> taskIds) throws SQLException {
        Map<Long, Stored> stored = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(STORED)) {
            ps.setArray(1, c.createArrayOf("bigint", taskIds.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    stored.put(rs.getLong(1), new Stored(rs.getLong(2), rs.getLong(3)));
                }
            }
        }
        return stored;
    }

    /** Writes lines of any number of tasks in one statement. */
    public static void insert(Connection c, List<Line> lines) throws SQLException {
        if (lines.isEmpty()) {
            return;
        }
        int n = lines.size();
        Object[] ids = new Object[n], seqs = new Object[n], attempts = new Object[n], ats = new Object[n];
        Object[] streams = new Object[n], kinds = new Object[n], texts = new Object[n], events = new Object[n];
        for (int i = 0; i < n; i++) {
            Line l = lines.get(i);
            ids[i] = l.taskId();
            seqs[i] = l.seq();
            attempts[i] = l.attempt();
            ats[i] = Timestamp.from(l.at());
            streams[i] = l.stream();
            kinds[i] = l.kind();
            texts[i] = l.text();
            events[i] = l.event();
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setArray(1, c.createArrayOf("bigint", ids));
            ps.setArray(2, c.createArrayOf("bigint", seqs));
            ps.setArray(3, c.createArrayOf("int4", attempts));
            ps.setArray(4, c.createArrayOf("timestamptz", ats));
            ps.setArray(5, c.createArrayOf("text", streams));
            ps.setArray(6, c.createArrayOf("text", kinds));
            ps.setArray(7, c.createArrayOf("text", texts));
            ps.setArray(8, c.createArrayOf("text", events));
            ps.executeUpdate();
        }
    }

    /** Writes (or rewrites) the lines that say how much was dropped: task, seq, attempt and text of each. */
    public static void markers(Connection c, List<Line> markers) throws SQLException {
        if (markers.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(MARKER)) {
            ps.setArray(1, c.createArrayOf("bigint", markers.stream().map(Line::taskId).toArray()));
            ps.setArray(2, c.createArrayOf("bigint", markers.stream().map(Line::seq).toArray()));
            ps.setArray(3, c.createArrayOf("int4", markers.stream().map(Line::attempt).toArray()));
            ps.setArray(4, c.createArrayOf("text", markers.stream().map(Line::text).toArray()));
            ps.executeUpdate();
        }
    }

    /** Deletes lines of the middle of tasks' output: pairs of task id and seq. */
    public static void drop(Connection c, List<long[]> dropped) throws SQLException {
        if (dropped.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(DROP)) {
            ps.setArray(1, c.createArrayOf("bigint", dropped.stream().map(d -> d[0]).toArray()));
            ps.setArray(2, c.createArrayOf("bigint", dropped.stream().map(d -> d[1]).toArray()));
            ps.executeUpdate();
        }
    }

    private static Long[] box(long[] values) {
        Long[] boxed = new Long[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return boxed;
    }
}
