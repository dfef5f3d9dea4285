package dev.agentturbo.tasks.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import dev.agentturbo.agents.boundary.LimitView;
import dev.agentturbo.agents.control.ExecutorLimits;
import dev.agentturbo.tasks.control.TaskCatalog;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The fleet at a glance: tasks by status, running/completed tasks per worker, and the executors paused. */
@Tag(name = "stats")
@Path("stats")
@RequestScoped
@RolesAllowed({"viewer", "submitter", "operator"})
@Produces(MediaType.APPLICATION_JSON)
public class StatsResource {

    @Inject
    TaskCatalog catalog;
    @Inject
    ExecutorLimits limits;

    /** Tasks by status, tasks per worker, and the executors paused. */
    @Operation(summary = "The fleet at a glance")
    @APIResponse(responseCode = "200", description = "tasks by status, tasks per worker, the executors paused", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = Stats.class)))
    @GET
    public Stats stats() {
        Map<String, Long> byStatus = new LinkedHashMap<>();
        catalog.countByStatus().forEach((status, count) -> byStatus.put(status.value(), count));
        List<WorkerTasks> workers = catalog.perWorker().stream().map(row -> new WorkerTasks((String) row[0],
                ((Number) row[1]).longValue(), ((Number) row[2]).longValue())).toList();
        return new Stats(byStatus, workers, limits.active().stream().map(LimitView::of).toList());
    }

    /** The fleet at a glance. */
    @JsonbPropertyOrder({"tasks", "workers", "limits"})
    @Schema(name = "Stats", requiredProperties = {"tasks", "workers", "limits"})
    public record Stats(
            @Schema(description = "tasks by status: pending, running, completed, failed, cancelled",
                    example = "{\"pending\": 3, \"running\": 5, \"completed\": 120, \"failed\": 2, \"cancelled\": 0}")
            Map<String, Long> tasks,
            List<WorkerTasks> workers,
            List<LimitView> limits) {
    }

    /** A worker's running tasks and the tasks it completed. */
    @JsonbPropertyOrder({"workerId", "running", "completed"})
    @Schema(name = "WorkerTasks", requiredProperties = {"workerId", "running", "completed"})
    public record WorkerTasks(String workerId, long running, long completed) {
    }
}
