package dev.agentturbo.workers.boundary;

import dev.agentturbo.workers.control.WorkerRegistry;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** The nodes of the fleet: slots, busy slots, state and the age of their heartbeat. */
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
        for (Object[] r : registry.list()) {
            double age = ((Number) r[8]).doubleValue();
            String state = (String) r[4];
            nodes.add(Json.createObjectBuilder()
                    .add("id", (String) r[0])
                    .add("host", (String) r[1])
                    .add("slots", ((Number) r[2]).intValue())
                    .add("busySlots", ((Number) r[3]).intValue())
                    .add("state", !"stopped".equals(state) && age > goneAfter ? "gone" : state)
                    .add("version", (String) r[5])
                    .add("startedAt", time(r[6]))
                    .add("heartbeatAgeSeconds", Math.round(age * 10) / 10.0));
        }
        return Json.createObjectBuilder().add("workers", nodes).build().toString();
    }

    private static String time(Object value) {
        if (value instanceof OffsetDateTime t) {
            return t.withOffsetSameInstant(ZoneOffset.UTC).toString();
        }
        if (value instanceof java.sql.Timestamp t) {
            return t.toInstant().toString();
        }
        return String.valueOf(value);
    }
}
