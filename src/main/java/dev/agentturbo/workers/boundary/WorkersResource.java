package dev.agentturbo.workers.boundary;

import dev.agentturbo.workers.control.WorkerRegistry;
import dev.agentturbo.workers.entity.Worker;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.spi.JsonProvider;
import jakarta.json.JsonArrayBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;


/** The nodes of the fleet: configured, live and busy slots, state and the age of their heartbeat. */
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

    /** Each node; one whose heartbeat is older than three heartbeat intervals shows the state {@code gone}. */
    @GET
    public String list() {
        double goneAfter = settings.heartbeat().toSeconds() * (double) WorkerRegistry.GONE_AFTER_HEARTBEATS;
        JsonArrayBuilder nodes = JSON.createArrayBuilder();
        for (Worker w : registry.list()) {
            nodes.add(JSON.createObjectBuilder()
                    .add("id", w.id())
                    .add("host", w.host())
                    .add("slots", w.slots())
                    .add("liveSlots", w.liveSlots())
                    .add("busySlots", w.busySlots())
                    .add("state", !"stopped".equals(w.state()) && w.heartbeatAgeSeconds() > goneAfter ? "gone" : w.state())
                    .add("version", w.version())
                    .add("startedAt", w.startedAt().toString())
                    .add("heartbeatAgeSeconds", Math.round(w.heartbeatAgeSeconds() * 10) / 10.0));
        }
        return JSON.createObjectBuilder().add("workers", nodes).build().toString();
    }
}
