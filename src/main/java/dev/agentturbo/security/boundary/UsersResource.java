package dev.agentturbo.security.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import dev.agentturbo.platform.JsonBodies;
import dev.agentturbo.platform.Problem;
import dev.agentturbo.security.control.UserStore;
import dev.agentturbo.security.entity.Role;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import jakarta.validation.Valid;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/** The console's users, for operators: add one, list them, remove one (never the last operator). */
@Tag(name = "users")
@Path("users")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed("operator")
public class UsersResource {

    @Inject
    UserStore users;
    @Context
    SecurityContext security;

    /** Adds a user: 201 with its name and role; 409 when the name is taken. */
    @Operation(summary = "Add a console user")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = UserRequest.class), examples = {
            @ExampleObject(name = "viewer", summary = "a user who reads",
                    value = "{\"name\": \"dana\", \"password\": \"a-long-password\", \"role\": \"viewer\"}"),
            @ExampleObject(name = "shortPassword", summary = "refused: a password under 12 characters (400)",
                    value = "{\"name\": \"eve\", \"password\": \"short\", \"role\": \"viewer\"}")}))
    @APIResponse(responseCode = "201", description = "added", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = UserView.class)))
    @APIResponse(responseCode = "400", description = "what to fix", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class), examples = {@ExampleObject(name = "shortPassword",
            value = "{\"type\":\"about:blank\",\"title\":\"Invalid user\",\"status\":400,"
                    + "\"detail\":\"password must have at least 12 characters\","
                    + "\"errors\":[\"password must have at least 12 characters\"]}")}))
    @APIResponse(responseCode = "409", description = "a user of this name exists", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(@Valid UserRequest body) {
        UserRequest request = JsonBodies.present(body, UserRequest.class);
        Role role = Role.parse(request.role()).orElseThrow();
        if (!users.create(request.name(), request.password() == null ? null : request.password().toCharArray(), role,
                Callers.of(security).name())) {
            return Problem.of(Response.Status.CONFLICT, "User exists", "a user named '" + request.name()
                    + "' exists already");
        }
        return Response.status(201).entity(new UserView(request.name(), role.value(), null, null)).build();
    }

    /** Every console user. */
    @Operation(summary = "List the console users")
    @APIResponse(responseCode = "200", description = "every user", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = Users.class)))
    @GET
    public Users list() {
        return new Users(users.list().stream().map(u -> new UserView(u.name(), u.role().value(), u.createdBy(),
                u.createdAt().toString())).toList());
    }

    /** 204; 404 when there is no such user; 409 for the last operator. */
    @Operation(summary = "Remove a console user")
    @APIResponse(responseCode = "204", description = "removed")
    @APIResponse(responseCode = "404", description = "no such user", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "the last operator cannot be removed", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @DELETE
    @Path("{name}")
    public Response delete(@PathParam("name") String name) {
        if (users.delete(name, Callers.of(security).name())) {
            return Response.noContent().build();
        }
        return Problem.of(Response.Status.NOT_FOUND, "User not found", "there is no user named '" + name + "'");
    }

    /** A console user; who added it and when are left out of the answer that adds it. */
    @JsonbPropertyOrder({"name", "role", "createdBy", "createdAt"})
    @Schema(name = "User", requiredProperties = {"name", "role"})
    public record UserView(String name, @Schema(enumeration = {"viewer", "submitter", "operator"}) String role,
                           String createdBy, @Schema(format = "date-time") String createdAt) {
    }

    /** Every console user. */
    @Schema(name = "Users", requiredProperties = "users")
    public record Users(List<UserView> users) {
    }
}
