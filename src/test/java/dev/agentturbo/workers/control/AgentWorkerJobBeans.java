package dev.agentturbo.workers.control;

import dev.agentturbo.agents.entity.ExecutorSettings;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import javax.sql.DataSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What the application server and MicroProfile Config give the worker beans in production, given here by the
 * test instead: the test's database, small worker settings and a plain thread pool for the agents.
 */
public class AgentWorkerJobBeans {

    private static volatile DataSource dataSource;
    private static volatile WorkerSettings workerSettings;
    private static volatile ExecutorSettings executorSettings;

    /** Sets what the next container produces; call before it starts. */
    static void use(DataSource dataSource, WorkerSettings worker, ExecutorSettings executors) {
        AgentWorkerJobBeans.dataSource = dataSource;
        AgentWorkerJobBeans.workerSettings = worker;
        AgentWorkerJobBeans.executorSettings = executors;
    }

    @Produces
    DataSource dataSource() {
        return dataSource;
    }

    @Produces
    WorkerSettings workerSettings() {
        return workerSettings;
    }

    @Produces
    ExecutorSettings executorSettings() {
        return executorSettings;
    }

    @Produces
    @Singleton
    @AgentThreads
    ExecutorService agentThreads() {
        return Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "agent");
            t.setDaemon(true);
            return t;
        });
    }

    void shutDown(@Disposes @AgentThreads ExecutorService agents) {
        agents.shutdownNow();
    }
}
