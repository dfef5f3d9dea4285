package dev.agentturbo.tasks.boundary;

import dev.agentturbo.tasks.control.TaskCatalog;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.spi.JsonProvider;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** The fleet at a glance: tasks by status, running/completed tasks per worker, and the executors paused. */
@Path("stats")
@RequestScoped
@RolesAllowed({"viewer", "submitter", "operator"})
@Produces(MediaType.APPLICATION_JSON)
public class StatsResource {

    /** Looked up once: JsonProvider.provider() searches the class path on every call. */
    private static final JsonProvider JSON = JsonProvider.provider();

    @Inject
    TaskCatalog catalog;
    @Inject
    dev.agentturbo.agents.control.ExecutorLimits limits;

    @GET
    public String stats() {
        JsonObjectBuilder byStatus = JSON.createObjectBuilder();
        catalog.countByStatus().forEach((status, count) -> byStatus.add(status.value(), count));
        JsonArrayBuilder workers = JSON.createArrayBuilder();
        for (Object[] row : catalog.perWorker()) {
            workers.add(JSON.createObjectBuilder()
                    .add("workerId", (String) row[0])
                    .add("running", ((Number) row[1]).longValue())
                    .add("completed", ((Number) row[2]).longValue()));
        }
        return JSON.createObjectBuilder().add("tasks", byStatus).add("workers", workers)
                .add("limits", dev.agentturbo.agents.boundary.LimitsResource.json(limits.active())).build().toString();
    }
}
