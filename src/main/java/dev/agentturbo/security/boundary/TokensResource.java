package dev.agentturbo.security.boundary;

import dev.agentturbo.platform.Requests;
import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.platform.Problem;
import dev.agentturbo.security.control.TokenStore;
import dev.agentturbo.security.entity.ApiToken;
import dev.agentturbo.security.entity.Role;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
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

import java.time.Instant;
import java.util.List;
import java.util.Set;

/** API tokens, for operators: make one (its secret shown this once), list them, revoke one at once. */
@Path("tokens")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed("operator")
public class TokensResource {

    private static final JsonProvider JSON = JsonProvider.provider();

    @Inject
    TokenStore tokens;
    @Context
    SecurityContext security;

    /** {@code {"name", "role"}} → 201 {@code {"id", "name", "role", "token", "createdAt"}}: the token, this once. */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(byte[] body) {
        JsonObject o = Requests.object(body, Set.of("name", "role"));
        String name = o.get("name") instanceof JsonString s ? s.getString().strip() : null;
        Role role = o.get("role") instanceof JsonString s ? Role.parse(s.getString()).orElse(null) : null;
        List<String> problems = new java.util.ArrayList<>();
        if (name == null || name.isEmpty() || name.length() > 100 || name.chars().anyMatch(Character::isISOControl)) {
            problems.add("name must be a string of 1 to 100 characters, no control characters");
        }
        if (role == null) {
            problems.add("role must be one of " + Role.names());
        }
        if (!problems.isEmpty()) {
            throw new InvalidRequestException(400, "Invalid token", String.join("; ", problems), problems);
        }
        TokenStore.Made made = tokens.create(name, role, Callers.of(security).name());
        JsonObjectBuilder json = json(made.token()).add("token", made.secret());
        return Response.status(201).entity(json.build().toString()).build();
    }

    /** Every token, live or revoked, without secrets. */
    @GET
    public String list() {
        var items = JSON.createArrayBuilder();
        tokens.list().forEach(t -> items.add(json(t)));
        return JSON.createObjectBuilder().add("tokens", items).build().toString();
    }

    /** Revokes a token: from now on no node accepts it. 204; 404 when there is no live token of this id. */
    @DELETE
    @Path("{id}")
    public Response revoke(@PathParam("id") String id) {
        if (Requests.id(id).filter(value -> tokens.revoke(value, Callers.of(security).name())).isPresent()) {
            return Response.noContent().build();
        }
        return Problem.of(Response.Status.NOT_FOUND, "Token not found", "there is no live token with id '" + id + "'");
    }

    private static JsonObjectBuilder json(ApiToken t) {
        JsonObjectBuilder b = JSON.createObjectBuilder().add("id", t.id()).add("name", t.name()).add("role", t.role().value())
                .add("createdBy", t.createdBy()).add("createdAt", t.createdAt().toString());
        time(b, "lastUsedAt", t.lastUsedAt());
        time(b, "revokedAt", t.revokedAt());
        return b;
    }

    private static void time(JsonObjectBuilder b, String name, Instant value) {
        if (value == null) {
            b.addNull(name);
        } else {
            b.add(name, value.toString());
        }
    }
}
