package dev.agentturbo.platform;

import dev.agentturbo.workers.control.AgentThreads;
import jakarta.annotation.Resource;
import jakarta.annotation.sql.DataSourceDefinition;
import jakarta.enterprise.concurrent.ManagedExecutorDefinition;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import javax.sql.DataSource;
import java.util.concurrent.ExecutorService;

/**
 * The container resources the application defines for itself: the PostgreSQL pool of the API (submissions,
 * cancels, reads), configured from MicroProfile Config (db.url, db.user, db.password; environment DB_URL, DB_USER,
 * DB_PASSWORD), and the managed executor service agents run on.
 * <p>
 * The pool is small on purpose: the slots' database work goes through the node's dispatcher on a connection of
 * its own, so the pool serves only the API, whose statements take milliseconds. With the dispatcher's connection
 * and the LISTEN connection a node holds at most 4 connections, whatever its slot count. Every connection has a
 * connect, socket and keep-alive timeout, so that a database that does not answer costs a request seconds, not
 * forever. Each checkout checks that its connection still leads to a server that takes writes
 * ({@link DirectConnections#WRITABLE}); one that fails empties the pool, so that after a failover the next
 * connections are opened anew, to the server {@code db.url} names as the primary then.
 */
@DataSourceDefinition(
        name = Resources.DATA_SOURCE,
        className = "org.postgresql.ds.PGSimpleDataSource",
        url = "${MPCONFIG=db.url}",
        user = "${MPCONFIG=db.user}",
        password = "${MPCONFIG=db.password}",
        minPoolSize = 1,
        maxPoolSize = 2,
        maxIdleTime = 300,
        loginTimeout = 10,
        properties = {"connectTimeout=5", "socketTimeout=30", "tcpKeepAlive=true",
                "ApplicationName=agent-turbo-api",
                "fish.payara.max-wait-time-in-millis=10000",
                "fish.payara.is-connection-validation-required=true",
                // checked at every checkout with SELECT count(*) FROM <this>: fails on a dead connection and on
                // one to a server that no longer takes writes (a standby, a demoted or read-only primary)
                "fish.payara.connection-validation-method=table",
                "fish.payara.validation-table-name=" + DirectConnections.WRITABLE,
                // one failed check drops every pooled connection: after a failover they all lead to the old primary
                "fish.payara.fail-all-connections=true"})
@ManagedExecutorDefinition(name = Resources.AGENT_EXECUTOR, maxAsync = 256)
@ApplicationScoped
public class Resources {

    public static final String DATA_SOURCE = "java:app/jdbc/agentturbo";
    public static final String AGENT_EXECUTOR = "java:app/concurrent/agents";

    @Resource(lookup = DATA_SOURCE)
    DataSource dataSource;

    @Resource(lookup = AGENT_EXECUTOR)
    ManagedExecutorService agents;

    @Produces
    DataSource dataSource() {
        return dataSource;
    }

    @Produces
    @AgentThreads
    ExecutorService agents() {
        return agents;
    }
}
