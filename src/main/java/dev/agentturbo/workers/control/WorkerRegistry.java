package dev.agentturbo.workers.control;

import dev.agentturbo.tasks.control.QueueException;
import dev.agentturbo.agents.entity.ExecutorLimit;
import dev.agentturbo.workers.entity.Wanted;
import dev.agentturbo.workers.entity.Worker;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * agent_workers: each node registers when it first reaches the database, writes a heartbeat while it lives and
 * marks itself stopped at the end (through its dispatcher's connection); the API lists them. Times come from the
 * database's clock, so nodes with skewed clocks still agree on heartbeat ages.
 */
@ApplicationScoped
public class WorkerRegistry {

    /** A node whose heartbeat is older than this many heartbeat intervals shows as gone. */
    public static final int GONE_AFTER_HEARTBEATS = 3;

    // The fleet's active pauses, brought back by the heartbeat's own statement: id, executor, credential, kind and
    // until (epoch ms, empty for none) separated by unit separators, the pauses by record separators.
    private static final String LIMITS = """
            (SELECT string_agg(id || chr(31) || executor || chr(31) || credential || chr(31) || kind || chr(31)
                               || coalesce((extract(epoch FROM until) * 1000)::bigint::text, ''), chr(30))
               FROM executor_limits WHERE lifted_at IS NULL AND (until IS NULL OR until > now()))
            """;

    // A node (re)starting under its id starts afresh: active (a drain does not outlive a restart), new start time,
    // nothing busy; a slot count an operator set is kept and replaces the configured one.
    private static final String REGISTER = """
            INSERT INTO agent_workers (id, host, slots, busy_slots, live_slots, state, version, started_at, heartbeat_at)
            VALUES (?, ?, ?, 0, 0, 'active', ?, now(), now())
            ON CONFLICT (id) DO UPDATE
               SET host = EXCLUDED.host, slots = coalesce(agent_workers.slots_wanted, EXCLUDED.slots), busy_slots = 0,
                   live_slots = 0, state = 'active', version = EXCLUDED.version, started_at = now(),
                   heartbeat_at = now(), drain_wanted = false
            RETURNING slots_wanted, drain_wanted, """ + LIMITS;

    // The heartbeat also brings back what operators asked of the node.
    private static final String HEARTBEAT = """
            UPDATE agent_workers SET heartbeat_at = now(), slots = ?, busy_slots = ?, live_slots = ?, state = ?
             WHERE id = ?
            RETURNING slots_wanted, drain_wanted, """ + LIMITS;

    // An operator's wish, from any node; the node named reads it at once (NOTIFY) or at its next heartbeat.
    private static final String WANT_DRAIN = """
            UPDATE agent_workers SET drain_wanted = ? WHERE id = ? RETURNING pg_notify('agent_turbo_workers', id)
            """;
    private static final String WANT_SLOTS = """
            UPDATE agent_workers SET slots_wanted = ? WHERE id = ? RETURNING pg_notify('agent_turbo_workers', id)
            """;

    private static final String ALIVE = """
            SELECT 1 FROM agent_workers
             WHERE id = ? AND state <> 'stopped' AND heartbeat_at > now() - make_interval(secs => ?)
            """;

    private static final String LIST = """
            SELECT id, host, slots, live_slots, busy_slots, state, version, started_at,
                   EXTRACT(EPOCH FROM now() - heartbeat_at) AS heartbeat_age
              FROM agent_workers ORDER BY started_at DESC, id
            """;

    @Inject
    DataSource dataSource;

    protected WorkerRegistry() {
    }

    public WorkerRegistry(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** True when a node of this id, not stopped, wrote a heartbeat within {@code recent}: a duplicate id. */
    public boolean aliveElsewhere(Connection c, String id, Duration recent) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(ALIVE)) {
            ps.setString(1, id);
            ps.setDouble(2, recent.toSeconds());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Writes the node's row afresh; returns what operators asked of it (a slot count survives restarts). */
    public Wanted register(Connection c, String id, String host, int slots, String version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(REGISTER)) {
            ps.setString(1, id);
            ps.setString(2, host);
            ps.setInt(3, slots);
            ps.setString(4, version);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return wanted(rs);
            }
        }
    }

    /**
     * Writes the heartbeat; returns what operators asked of the node, or null when the node has no row (deleted by
     * hand): register it again.
     */
    public Wanted beat(Connection c, String id, int slots, int busySlots, int liveSlots, String state) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(HEARTBEAT)) {
            ps.setInt(1, slots);
            ps.setInt(2, busySlots);
            ps.setInt(3, liveSlots);
            ps.setString(4, state);
            ps.setString(5, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? wanted(rs) : null;
            }
        }
    }

    /** The fleet's active pauses (id, executor, credential, kind and until only), on the caller's connection. */
    public static List<ExecutorLimit> activeLimits(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + LIMITS); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return unpack(rs.getString(1));
        }
    }

    private static Wanted wanted(ResultSet rs) throws SQLException {
        int slots = rs.getInt(1);
        Integer wanted = rs.wasNull() ? null : slots;
        return new Wanted(wanted, rs.getBoolean(2), unpack(rs.getString(3)));
    }

    private static List<ExecutorLimit> unpack(String packed) {
        List<ExecutorLimit> limits = new ArrayList<>();
        if (packed != null) {
            for (String one : packed.split("\u001e")) {
                String[] f = one.split("\u001f", -1);
                limits.add(new ExecutorLimit(Long.parseLong(f[0]), f[1], f[2], f[3], null,
                        f[4].isEmpty() ? null : java.time.Instant.ofEpochMilli(Long.parseLong(f[4])), null, 0));
            }
        }
        return limits;
    }

    /** Asks a node to drain (true) or to take work again (false); false when there is no such node. */
    public boolean wantDrain(String id, boolean drain) {
        return want(WANT_DRAIN, id, ps -> ps.setBoolean(1, drain));
    }

    /** Asks a node to run this many slots from now on, also after restarts; false when there is no such node. */
    public boolean wantSlots(String id, int slots) {
        return want(WANT_SLOTS, id, ps -> ps.setInt(1, slots));
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private boolean want(String sql, String id, Binder first) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            first.bind(ps);
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new QueueException("could not change worker " + id, e);
        }
    }

    /** Every node, most recently started first. */
    public List<Worker> list() {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(LIST);
             ResultSet rs = ps.executeQuery()) {
            List<Worker> workers = new ArrayList<>();
            while (rs.next()) {
                workers.add(new Worker(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getInt(4), rs.getInt(5),
                        rs.getString(6), rs.getString(7), rs.getTimestamp(8).toInstant(), rs.getDouble(9)));
            }
            return workers;
        } catch (SQLException e) {
            throw new QueueException("could not list the workers", e);
        }
    }
}
