package dev.agentturbo.console.boundary;

import dev.agentturbo.workers.control.WorkerRegistry;
import dev.agentturbo.workers.entity.Worker;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import java.util.List;

/** The hosts page: every node of the fleet as it last reported. */
@Named("hosts")
@RequestScoped
public class HostsView {

    @Inject
    WorkerRegistry registry;

    private List<Worker> workers;

    public List<Worker> getWorkers() {
        if (workers == null) {
            workers = registry.list();
        }
        return workers;
    }
}
