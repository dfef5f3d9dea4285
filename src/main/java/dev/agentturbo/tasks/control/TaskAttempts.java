package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.Attempt;
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

/**
 * The attempts of a task: those that ended (task_attempts, written by the database when a task leaves 'running'),
 * and the one that runs now.
 */
@ApplicationScoped
public class TaskAttempts {

    private static final String OF = """
            SELECT attempt, worker, started_at, ended_at, outcome, error, lease_token
              FROM task_attempts WHERE task_id = ?
            UNION ALL
            SELECT attempt, assigned_worker_id, started_at, NULL, 'running', NULL, lease_token
              FROM agent_tasks WHERE id = ? AND status = 'running'
            ORDER BY 7
            """;

    @Inject
    DataSource dataSource;

    protected TaskAttempts() {
    }

    public TaskAttempts(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Every attempt of the task, oldest first. */
    public List<Attempt> of(long taskId) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(OF)) {
            ps.setLong(1, taskId);
            ps.setLong(2, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                List<Attempt> attempts = new ArrayList<>();
                while (rs.next()) {
                    attempts.add(new Attempt(rs.getInt(1), rs.getString(2), instant(rs.getTimestamp(3)),
                            instant(rs.getTimestamp(4)), rs.getString(5), rs.getString(6)));
                }
                return attempts;
            }
        } catch (SQLException e) {
            throw new QueueException("could not read the attempts of task " + taskId, e);
        }
    }

    private static java.time.Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
