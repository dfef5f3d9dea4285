package dev.agentturbo.agents.boundary;

import dev.agentturbo.agents.control.ExecutorLimits;
import dev.agentturbo.agents.entity.ExecutorLimit;
import dev.agentturbo.platform.Problem;
import dev.agentturbo.platform.Requests;
import dev.agentturbo.security.boundary.Callers;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.spi.JsonProvider;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

import java.util.List;

/**
 * The executors paused fleet-wide for a credential: a usage limit until its reset, a back-off from a rate-limited
 * API, missing or refused credentials until lifted. Operators may lift one early.
 */
@Path("limits")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
public class LimitsResource {

    private static final JsonProvider JSON = JsonProvider.provider();

    @Inject
    ExecutorLimits limits;
    @Context
    SecurityContext security;

    /** {@code {"limits": [{"id", "executor", "credential", "kind", "since", "until", "reason", "tasksWaiting"}]}}. */
    @GET
    @RolesAllowed({"viewer", "submitter", "operator"})
    public String list() {
        return JSON.createObjectBuilder().add("limits", json(limits.active())).build().toString();
    }

    /** Ends an active pause now (tasks parked until its reset become claimable); 404 when none is active. */
    @POST
    @Path("{id}/lift")
    @RolesAllowed("operator")
    public Response lift(@PathParam("id") String id) {
        return Requests.id(id).flatMap(value -> limits.lift(value, Callers.of(security).name()))
                .map(l -> Response.ok(json(l).build().toString()).build())
                .orElseGet(() -> Problem.of(Response.Status.NOT_FOUND, "Limit not found",
                        "there is no active limit with id '" + id + "' (GET /api/limits lists them)"));
    }

    /** The active pauses as JSON, for this resource and the stats. */
    public static JsonArrayBuilder json(List<ExecutorLimit> active) {
        JsonArrayBuilder list = JSON.createArrayBuilder();
        active.forEach(l -> list.add(json(l)));
        return list;
    }

    private static JsonObjectBuilder json(ExecutorLimit l) {
        JsonObjectBuilder b = JSON.createObjectBuilder().add("id", l.id()).add("executor", l.executor())
                .add("credential", l.credential()).add("kind", l.kind()).add("since", l.since().toString());
        if (l.until() == null) {
            b.addNull("until");
        } else {
            b.add("until", l.until().toString());
        }
        return b.add("reason", l.reason()).add("tasksWaiting", l.tasksWaiting());
    }
}
