package dev.agentturbo.security.boundary;

import dev.agentturbo.platform.Requests;
import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.platform.Problem;
import dev.agentturbo.security.control.UserStore;
import dev.agentturbo.security.entity.Role;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.spi.JsonProvider;
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

import java.util.List;
import java.util.Set;

/** The console's users, for operators: add one, list them, remove one (never the last operator). */
@Path("users")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed("operator")
public class UsersResource {

    private static final JsonProvider JSON = JsonProvider.provider();

    @Inject
    UserStore users;
    @Context
    SecurityContext security;

    /** {@code {"name", "password", "role"}} → 201 {@code {"name", "role"}}; 409 when the name is taken. */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(byte[] body) {
        JsonObject o = Requests.object(body, Set.of("name", "password", "role"));
        String name = o.get("name") instanceof JsonString s ? s.getString() : null;
        String password = o.get("password") instanceof JsonString s ? s.getString() : null;
        Role role = o.get("role") instanceof JsonString s ? Role.parse(s.getString()).orElse(null) : null;
        if (role == null) {
            throw new InvalidRequestException(400, "Invalid user", "role must be one of " + Role.names(), List.of());
        }
        if (!users.create(name, password == null ? null : password.toCharArray(), role, Callers.of(security).name())) {
            return Problem.of(Response.Status.CONFLICT, "User exists", "a user named '" + name + "' exists already");
        }
        return Response.status(201).entity(JSON.createObjectBuilder().add("name", name).add("role", role.value())
                .build().toString()).build();
    }

    @GET
    public String list() {
        var items = JSON.createArrayBuilder();
        users.list().forEach(u -> items.add(JSON.createObjectBuilder().add("name", u.name()).add("role", u.role().value())
                .add("createdBy", u.createdBy()).add("createdAt", u.createdAt().toString())));
        return JSON.createObjectBuilder().add("users", items).build().toString();
    }

    /** 204; 404 when there is no such user; 409 for the last operator. */
    @DELETE
    @Path("{name}")
    public Response delete(@PathParam("name") String name) {
        if (users.delete(name, Callers.of(security).name())) {
            return Response.noContent().build();
        }
        return Problem.of(Response.Status.NOT_FOUND, "User not found", "there is no user named '" + name + "'");
    }
}
