package dev.agentturbo.platform;

import dev.agentturbo.tasks.control.QueueException;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import jakarta.persistence.Persistence;
import jakarta.persistence.PersistenceException;

import javax.sql.DataSource;
import java.util.Map;
import java.util.function.Function;

/**
 * The JPA entity manager factory (EclipseLink) over the application's pool, created on first use rather than at
 * deployment: EclipseLink logs in to the database when it deploys a persistence unit, and a node must start (and
 * wait) while the database is away. A factory whose log-in failed is dropped, and the next read tries again.
 */
@ApplicationScoped
public class Entities {

    static final String UNIT = "agentturbo";
    static final String DESCRIPTOR = "META-INF/agent-turbo-persistence.xml";

    @Inject
    DataSource dataSource;

    private EntityManagerFactory factory;

    /** Runs a read with an entity manager of its own, closed afterwards. */
    public <T> T read(Function<EntityManager, T> work) {
        EntityManager em;
        try {
            em = factory().createEntityManager();
        } catch (PersistenceException e) {
            reset();
            throw new QueueException("could not reach the database", e);
        }
        try {
            return work.apply(em);
        } catch (PersistenceException e) {
            throw new QueueException("could not read tasks", e);
        } finally {
            em.close();
        }
    }

    private synchronized EntityManagerFactory factory() {
        if (factory == null) {
            factory = Persistence.createEntityManagerFactory(UNIT, Map.of(
                    "eclipselink.persistencexml", DESCRIPTOR,
                    "jakarta.persistence.nonJtaDataSource", dataSource,
                    "eclipselink.classloader", Entities.class.getClassLoader()));
        }
        return factory;
    }

    private synchronized void reset() {
        if (factory != null) {
            try {
                factory.close();
            } catch (RuntimeException ignored) {
                // it never worked
            }
            factory = null;
        }
    }

    @PreDestroy
    void close() {
        reset();
    }
}
