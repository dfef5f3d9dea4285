package dev.agentturbo.agents.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import dev.agentturbo.agents.control.ExecutorLimits;
import dev.agentturbo.platform.Problem;
import dev.agentturbo.platform.Requests;
import dev.agentturbo.security.boundary.Callers;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
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
@Tag(name = "limits")
@Path("limits")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
public class LimitsResource {

    @Inject
    ExecutorLimits limits;
    @Context
    SecurityContext security;

    /** The active pauses. */
    @Operation(summary = "List the active pauses")
    @APIResponse(responseCode = "200", description = "the active pauses", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = Limits.class)))
    @GET
    @RolesAllowed({"viewer", "submitter", "operator"})
    public Limits list() {
        return new Limits(limits.active().stream().map(LimitView::of).toList());
    }

    /** Ends an active pause now (tasks parked until its reset become claimable); 404 when none is active. */
    @Operation(summary = "Lift a pause now", description = "Tasks parked until its reset become claimable.")
    @APIResponse(responseCode = "200", description = "lifted", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = LimitView.class)))
    @APIResponse(responseCode = "404", description = "no active limit of this id", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @POST
    @Path("{id}/lift")
    @RolesAllowed("operator")
    public Response lift(@PathParam("id") String id) {
        return Requests.id(id).flatMap(value -> limits.lift(value, Callers.of(security).name()))
                .map(l -> Response.ok(LimitView.of(l)).build())
                .orElseGet(() -> Problem.of(Response.Status.NOT_FOUND, "Limit not found",
                        "there is no active limit with id '" + id + "' (GET /api/limits lists them)"));
    }

    /** The active pauses. */
    @org.eclipse.microprofile.openapi.annotations.media.Schema(name = "Limits", requiredProperties = "limits")
    public record Limits(List<LimitView> limits) {
    }
}
