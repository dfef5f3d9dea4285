package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.Dependency;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** What tasks wait for: the dependencies of a task, and whether each has completed. */
@ApplicationScoped
public class TaskDependencies {

    private static final String OF = """
            SELECT d.depends_on, t.status, d.satisfied
              FROM task_dependencies d JOIN agent_tasks t ON t.id = d.depends_on
             WHERE d.task_id = ?
             ORDER BY d.depends_on
            """;

    @Inject
    DataSource dataSource;

    protected TaskDependencies() {
    }

    public TaskDependencies(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The tasks this one depends on, by id (a dependency deleted by retention is left out). */
    public List<Dependency> of(long taskId) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(OF)) {
            ps.setLong(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                List<Dependency> all = new ArrayList<>();
                while (rs.next()) {
                    all.add(new Dependency(rs.getLong(1), TaskStatus.of(rs.getString(2)), rs.getBoolean(3)));
                }
                return all;
            }
        } catch (SQLException e) {
            throw new QueueException("could not read the dependencies of task " + taskId, e);
        }
    }
}
