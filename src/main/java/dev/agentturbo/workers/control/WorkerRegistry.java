package dev.agentturbo.workers.control;

import dev.agentturbo.workers.entity.Worker;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import jakarta.transaction.Transactional;

import java.util.List;

/**
 * agent_workers: each node registers at start, writes a heartbeat while it lives and marks itself stopped at the
 * end. Times come from the database's clock, so nodes with skewed clocks still agree on heartbeat ages.
 */
@ApplicationScoped
@Transactional
public class WorkerRegistry {

    /** A node whose heartbeat is older than this many heartbeat intervals shows as gone. */
    public static final int GONE_AFTER_HEARTBEATS = 3;

    @PersistenceContext(unitName = "agentturbo")
    EntityManager em;

    public void register(String id, String host, int slots, String version) {
        em.merge(new Worker(id, host, slots, "active", version));
        em.flush();
        em.createNativeQuery("UPDATE agent_workers SET started_at = now(), heartbeat_at = now(), busy_slots = 0 WHERE id = ?1")
                .setParameter(1, id).executeUpdate();
    }

    public void heartbeat(String id, int busySlots, String state) {
        em.createNativeQuery("UPDATE agent_workers SET heartbeat_at = now(), busy_slots = ?1, state = ?2 WHERE id = ?3")
                .setParameter(1, busySlots).setParameter(2, state).setParameter(3, id).executeUpdate();
    }

    /** Every node, newest first, with the age of its heartbeat in seconds (database clock). */
    @SuppressWarnings("unchecked")
    public List<Object[]> list() {
        return em.createNativeQuery("""
                SELECT id, host, slots, busy_slots, state, version, started_at, heartbeat_at,
                       EXTRACT(EPOCH FROM now() - heartbeat_at) AS heartbeat_age
                  FROM agent_workers ORDER BY started_at DESC, id
                """).getResultList();
    }
}
