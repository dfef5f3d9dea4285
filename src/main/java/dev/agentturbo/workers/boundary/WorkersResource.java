package dev.agentturbo.workers.boundary;

import dev.agentturbo.workers.control.WorkerRegistry;
import dev.agentturbo.workers.entity.Worker;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;


/** The nodes of the fleet: configured, live and busy slots, state and the age of their heartbeat. */
@Path("workers")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
public class WorkersResource {

    @Inject
    WorkerRegistry registry;
    @Inject
    WorkerSettings settings;

    /** Each node; one whose heartbeat is older than three heartbeat intervals shows the state {@code gone}. */
    @GET
    public String list() {
        double goneAfter = settings.heartbeat().toSeconds() * (double) WorkerRegistry.GONE_AFTER_HEARTBEATS;
        JsonArrayBuilder nodes = Json.createArrayBuilder();
        for (Worker w : registry.list()) {
            nodes.add(Json.createObjectBuilder()
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
        return Json.createObjectBuilder().add("workers", nodes).build().toString();
    }
}
