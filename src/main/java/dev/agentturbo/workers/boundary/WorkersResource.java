package dev.agentturbo.workers.boundary;

import dev.agentturbo.workers.control.WorkerRegistry;
import dev.agentturbo.workers.entity.Worker;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.spi.JsonProvider;
import jakarta.json.JsonArrayBuilder;
import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.platform.Problem;
import dev.agentturbo.platform.Requests;
import dev.agentturbo.workers.control.WorkerControl;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Set;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;


/**
 * The nodes of the fleet: slots, live and busy slots, state and the age of their heartbeat; and, for operators,
 * drain, resume and a new slot count for one of them.
 */
@Path("workers")
@RequestScoped
@RolesAllowed({"viewer", "submitter", "operator"})
@Produces(MediaType.APPLICATION_JSON)
public class WorkersResource {

    /** Looked up once: JsonProvider.provider() searches the class path on every call. */
    private static final JsonProvider JSON = JsonProvider.provider();

    @Inject
    WorkerRegistry registry;
    @Inject
    WorkerSettings settings;
    @Inject
    WorkerControl control;

    /** Each node; one whose heartbeat is older than three heartbeat intervals shows the state {@code gone}. */
    @GET
    public String list() {
        JsonArrayBuilder nodes = JSON.createArrayBuilder();
        for (Worker w : registry.list()) {
            nodes.add(json(w));
        }
        return JSON.createObjectBuilder().add("workers", nodes).build().toString();
    }

    /** One node, as in the list. */
    @GET
    @Path("{id}")
    public Response get(@PathParam("id") String id) {
        return registry.list().stream().filter(w -> w.id().equals(id)).findFirst()
                .map(w -> Response.ok(json(w).build().toString()).build())
                .orElseGet(() -> notFound(id));
    }

    /**
     * Drains a node: it claims nothing more and its running agents finish. 202: the node shows {@code draining}
     * within a heartbeat (at once when it hears the notification). Until {@code resume} or its restart.
     */
    @POST
    @Path("{id}/drain")
    @RolesAllowed("operator")
    public Response drain(@PathParam("id") String id) {
        return control.drain(id) ? accepted(id) : notFound(id);
    }

    /** A drained node takes work again. 202. */
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
    @PUT
    @Path("{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed("operator")
    public Response resize(@PathParam("id") String id, byte[] body) {
        JsonObject o = Requests.object(body, Set.of("slots"));
        if (!(o.get("slots") instanceof JsonNumber n) || !n.isIntegral() || n.bigIntegerValue().bitLength() > 31
                || n.intValue() < 0 || n.intValue() > control.maxSlots()) {
            String problem = "slots must be a whole number from 0 to " + control.maxSlots()
                    + " (agentturbo.worker.max-slots)";
            throw new InvalidRequestException(400, "Invalid slot count", problem, List.of(problem));
        }
        return control.resize(id, n.intValue()) ? accepted(id) : notFound(id);
    }

    private Response accepted(String id) {
        return registry.list().stream().filter(w -> w.id().equals(id)).findFirst()
                .map(w -> Response.accepted(json(w).build().toString()).build())
                .orElseGet(() -> notFound(id));
    }

    private static Response notFound(String id) {
        return Problem.of(Response.Status.NOT_FOUND, "Worker not found", "there is no worker with id '" + id
                + "' (GET /api/workers lists them)");
    }

    private JsonObjectBuilder json(Worker w) {
        double goneAfter = settings.heartbeat().toSeconds() * (double) WorkerRegistry.GONE_AFTER_HEARTBEATS;
        {
            return JSON.createObjectBuilder()
                    .add("id", w.id())
                    .add("host", w.host())
                    .add("slots", w.slots())
                    .add("liveSlots", w.liveSlots())
                    .add("busySlots", w.busySlots())
                    .add("state", !"stopped".equals(w.state()) && w.heartbeatAgeSeconds() > goneAfter ? "gone" : w.state())
                    .add("version", w.version())
                    .add("startedAt", w.startedAt().toString())
                    .add("heartbeatAgeSeconds", Math.round(w.heartbeatAgeSeconds() * 10) / 10.0);
        }
    }
}
