package dev.agentturbo.testing;

import dev.agentturbo.tasks.control.TaskLeases;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * The lease protocol as one node speaks it, for tests: {@link TaskLeases} on a connection of its own, each call
 * committed at once (a node's dispatcher groups them; the statements are the same).
 */
public final class LeaseHolder implements AutoCloseable {

    private final TaskLeases leases;
    private final Connection connection;
    private final String workerId;

    public LeaseHolder(DataSource db, String workerId) {
        this(db, workerId, dev.agentturbo.tasks.entity.ConcurrencyLimits.DEFAULT);
    }

    /** @param limits how many tasks of one concurrency key may run at once */
    public LeaseHolder(DataSource db, String workerId, dev.agentturbo.tasks.entity.ConcurrencyLimits limits) {
        this.leases = new TaskLeases(limits);
        this.workerId = workerId;
        try {
            this.connection = db.getConnection();
            connection.setAutoCommit(false);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public String workerId() {
        return workerId;
    }

    /** Claims up to n tasks, for slots 1 to n. */
    public List<ClaimedTask> claim(int n, Duration lease) {
        return commit(c -> leases.claim(c, workerId, IntStream.rangeClosed(1, n).toArray(), lease));
    }

    public Optional<ClaimedTask> claimOne(Duration lease) {
        return claim(1, lease).stream().findFirst();
    }

    public Map<Long, Boolean> renew(Collection<ClaimedTask> held, Duration lease) {
        return commit(c -> leases.renew(c, held, lease));
    }

    /** Records one ending; the status afterwards, or null when fenced out. */
    public String finish(ClaimedTask task, Outcome outcome, Duration retryDelay) {
        return commit(c -> leases.record(c, List.of(new TaskLeases.Ending(task, outcome, retryDelay))))[0];
    }

    public List<TaskLeases.Requeued> requeueExpired(Duration lease) {
        return commit(c -> leases.requeueExpired(c, lease));
    }

    public TaskLeases.Promotion promoteDue() {
        return commit(c -> leases.promoteDue(c, 1000));
    }

    public int deleteFinished(Duration age, int max) {
        return commit(c -> leases.deleteFinished(c, age, max));
    }

    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs the work in one transaction and commits it. */
    public <T> T commit(Work<T> work) {
        try {
            T result = work.run(connection);
            connection.commit();
            return result;
        } catch (SQLException e) {
            try {
                connection.rollback();
            } catch (SQLException ignored) {
                // the connection is gone
            }
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // already closed
        }
    }
}
