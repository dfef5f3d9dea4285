package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.Task;
import dev.agentturbo.tasks.entity.TaskSummary;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.enterprise.context.ApplicationScoped;
import dev.agentturbo.platform.Entities;
import jakarta.inject.Inject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads tasks for the API and the console. The shared cache is off: rows change under JPA's feet all the time. */
@ApplicationScoped
public class TaskCatalog {

    @Inject
    Entities entities;

    public Optional<Task> find(long id) {
        return entities.read(em -> Optional.ofNullable(em.find(Task.class, id)));
    }

    /**
     * A page of tasks, newest first.
     *
     * @param status only tasks in this status; null for all
     * @param before only tasks with a smaller id (the cursor of the previous page); null for the first page
     */
    public List<TaskSummary> page(TaskStatus status, Long before, int limit) {
        return page(status, before, limit, null);
    }

    /**
     * A page of summaries, newest first.
     *
     * @param submittedBy only the tasks of this caller; null for everybody's
     */
    public List<TaskSummary> page(TaskStatus status, Long before, int limit, String submittedBy) {
        // only the columns a summary shows, prompt and error cut in the database: a page stays small
        String sql = "SELECT id, status, priority, executor, left(prompt, " + TaskSummary.PREVIEW_CHARS + "),"
                + " length(prompt), attempt, max_attempts, assigned_worker_id, created_at, started_at, completed_at,"
                + " exit_code, cost_usd, input_tokens, output_tokens, left(error, " + TaskSummary.PREVIEW_CHARS + "),"
                + " submitted_by FROM agent_tasks WHERE true" + (status == null ? "" : " AND status = ?1")
                + (before == null ? "" : " AND id < ?2") + (submittedBy == null ? "" : " AND submitted_by = ?4")
                + " ORDER BY id DESC LIMIT ?3";
        List<?> rows = entities.read(em -> {
            var q = em.createNativeQuery(sql).setParameter(3, limit);
            if (status != null) {
                q.setParameter(1, status.value());
            }
            if (before != null) {
                q.setParameter(2, before);
            }
            if (submittedBy != null) {
                q.setParameter(4, submittedBy);
            }
            return q.getResultList();
        });
        return rows.stream().map(r -> (Object[]) r).map(r -> new TaskSummary(((Number) r[0]).longValue(),
                TaskStatus.of((String) r[1]), ((Number) r[2]).intValue(), (String) r[3], (String) r[4],
                ((Number) r[5]).intValue(), ((Number) r[6]).intValue(), ((Number) r[7]).intValue(), (String) r[8],
                instant(r[9]), instant(r[10]), instant(r[11]), r[12] == null ? null : ((Number) r[12]).intValue(),
                (java.math.BigDecimal) r[13], r[14] == null ? null : ((Number) r[14]).longValue(),
                r[15] == null ? null : ((Number) r[15]).longValue(), (String) r[16], (String) r[17])).toList();
    }

    private static java.time.Instant instant(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof java.sql.Timestamp t) {
            return t.toInstant();
        }
        if (value instanceof java.time.OffsetDateTime t) {
            return t.toInstant();
        }
        throw new IllegalStateException("a time of type " + value.getClass());
    }

    /** How many tasks are in each status (every status appears, 0 included). */
    public Map<TaskStatus, Long> countByStatus() {
        Map<TaskStatus, Long> counts = new LinkedHashMap<>();
        for (TaskStatus s : TaskStatus.values()) {
            counts.put(s, 0L);
        }
        List<?> rows = entities.read(em -> em.createNativeQuery("SELECT status, COUNT(*) FROM agent_tasks GROUP BY status")
                .getResultList());
        for (Object row : rows) {
            Object[] r = (Object[]) row;
            counts.put(TaskStatus.of((String) r[0]), ((Number) r[1]).longValue());
        }
        return counts;
    }

    /** Running and completed tasks per worker: the fleet's share of the work. */
    @SuppressWarnings("unchecked")
    public List<Object[]> perWorker() {
        return entities.read(em -> em.createNativeQuery("""
                SELECT assigned_worker_id,
                       COUNT(*) FILTER (WHERE status = 'running')   AS running,
                       COUNT(*) FILTER (WHERE status = 'completed') AS completed
                  FROM agent_tasks
                 WHERE status IN ('running', 'completed') AND assigned_worker_id IS NOT NULL
                 GROUP BY assigned_worker_id ORDER BY assigned_worker_id
                """).getResultList());
    }
}
