package dev.agentturbo.workers.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import dev.agentturbo.platform.JsonBodies;
import dev.agentturbo.platform.Problem;
import dev.agentturbo.workers.control.WorkerControl;
import dev.agentturbo.workers.control.WorkerRegistry;
import dev.agentturbo.workers.entity.Worker;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/**
 * The nodes of the fleet: slots, live and busy slots, state and the age of their heartbeat; and, for operators,
 * drain, resume and a new slot count for one of them.
 */
@Tag(name = "workers")
@Path("workers")
@RequestScoped
@RolesAllowed({"viewer", "submitter", "operator"})
@Produces(MediaType.APPLICATION_JSON)
public class WorkersResource {

    @Inject
    WorkerRegistry registry;
    @Inject
    WorkerSettings settings;
    @Inject
    WorkerControl control;

    /** Each node; one whose heartbeat is older than three heartbeat intervals shows the state {@code gone}. */
    @Operation(summary = "List the nodes")
    @APIResponse(responseCode = "200", description = "every node", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = Workers.class)))
    @GET
    public Workers list() {
        return new Workers(registry.list().stream().map(this::view).toList());
    }

    /** One node, as in the list. */
    @Operation(summary = "Read a node")
    @APIResponse(responseCode = "200", description = "the node", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = WorkerView.class)))
    @APIResponse(responseCode = "404", description = "no such node", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @GET
    @Path("{id}")
    public Response get(@PathParam("id") String id) {
        return registry.list().stream().filter(w -> w.id().equals(id)).findFirst()
                .map(w -> Response.ok(view(w)).build())
                .orElseGet(() -> notFound(id));
    }

    /**
     * Drains a node: it claims nothing more and its running agents finish. 202: the node shows {@code draining}
     * within a heartbeat (at once when it hears the notification). Until {@code resume} or its restart.
     */
    @Operation(summary = "Drain a node", description = "It claims nothing more; its running agents finish.")
    @APIResponse(responseCode = "202", description = "draining within a heartbeat", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = WorkerView.class)))
    @APIResponse(responseCode = "404", description = "no such node", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @POST
    @Path("{id}/drain")
    @RolesAllowed("operator")
    public Response drain(@PathParam("id") String id) {
        return control.drain(id) ? accepted(id) : notFound(id);
    }

    /** A drained node takes work again. 202. */
    @Operation(summary = "Resume a drained node")
    @APIResponse(responseCode = "202", description = "taking work again", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = WorkerView.class)))
    @APIResponse(responseCode = "404", description = "no such node", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @POST
    @Path("{id}/resume")
    @RolesAllowed("operator")
    public Response resume(@PathParam("id") String id) {
        return control.resume(id) ? accepted(id) : notFound(id);
    }

    /**
     * {@code {"slots": N}}: the node runs N agents at once from now on, without a restart, and keeps the number
     * across restarts. Slots taken away finish their agent first. 202.
     */
    @Operation(summary = "Resize a node", description = "It runs this many agents at once from now on, without a"
            + " restart, and keeps the number across restarts; slots taken away finish their agent first.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = SlotCount.class), examples = {
            @ExampleObject(name = "two", summary = "two slots", value = "{\"slots\": 2}"),
            @ExampleObject(name = "slotsAsText", summary = "refused: the count as a string (400)",
                    value = "{\"slots\": \"4\"}")}))
    @APIResponse(responseCode = "202", description = "resized", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = WorkerView.class)))
    @APIResponse(responseCode = "400", description = "what to fix", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class), examples = {@ExampleObject(name = "slotsAsText",
            value = "{\"type\":\"about:blank\",\"title\":\"Invalid slot count\",\"status\":400,"
                    + "\"detail\":\"slots must be a whole number\",\"errors\":[\"slots must be a whole number\"]}")}))
    @APIResponse(responseCode = "404", description = "no such node", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @PUT
    @Path("{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed("operator")
    public Response resize(@PathParam("id") String id, @Valid SlotCount body) {
        return control.resize(id, JsonBodies.present(body, SlotCount.class).slots()) ? accepted(id) : notFound(id);
    }

    private Response accepted(String id) {
        return registry.list().stream().filter(w -> w.id().equals(id)).findFirst()
                .map(w -> Response.accepted(view(w)).build())
                .orElseGet(() -> notFound(id));
    }

    private static Response notFound(String id) {
        return Problem.of(Response.Status.NOT_FOUND, "Worker not found", "there is no worker with id '" + id
                + "' (GET /api/workers lists them)");
    }

    private WorkerView view(Worker w) {
        double goneAfter = settings.heartbeat().toSeconds() * (double) WorkerRegistry.GONE_AFTER_HEARTBEATS;
        return new WorkerView(w.id(), w.host(), w.slots(), w.liveSlots(), w.busySlots(),
                !"stopped".equals(w.state()) && w.heartbeatAgeSeconds() > goneAfter ? "gone" : w.state(), w.version(),
                w.startedAt().toString(), Math.round(w.heartbeatAgeSeconds() * 10) / 10.0);
    }

    /** The nodes of the fleet. */
    @Schema(name = "Workers", requiredProperties = "workers")
    public record Workers(List<WorkerView> workers) {
    }
}
