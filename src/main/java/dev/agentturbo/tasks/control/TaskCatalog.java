package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.Task;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.enterprise.context.ApplicationScoped;
import dev.agentturbo.platform.Entities;
import jakarta.inject.Inject;
import jakarta.persistence.TypedQuery;

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
    public List<Task> page(TaskStatus status, Long before, int limit) {
        String where = (status == null ? "" : " AND t.status = :status") + (before == null ? "" : " AND t.id < :before");
        return entities.read(em -> {
            TypedQuery<Task> q = em.createQuery("SELECT t FROM Task t WHERE 1 = 1" + where + " ORDER BY t.id DESC",
                    Task.class);
            if (status != null) {
                q.setParameter("status", status.value());
            }
            if (before != null) {
                q.setParameter("before", before);
            }
            return q.setMaxResults(limit).getResultList();
        });
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
