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
import dev.agentturbo.platform.Requests;
import dev.agentturbo.security.control.TokenStore;
import dev.agentturbo.security.entity.Role;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
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

/** API tokens, for operators: make one (its secret shown this once), list them, revoke one at once. */
@Tag(name = "tokens")
@Path("tokens")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed("operator")
public class TokensResource {

    @Inject
    TokenStore tokens;
    @Context
    SecurityContext security;

    /** Makes a token: 201 with the token and its secret, this once. */
    @Operation(summary = "Make a token", description = "Its secret is shown in this answer only.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = TokenRequest.class), examples = {
            @ExampleObject(name = "ci", summary = "a submitter's token for a pipeline",
                    value = "{\"name\": \"ci-pipeline\", \"role\": \"submitter\"}"),
            @ExampleObject(name = "unknownRole", summary = "refused: no such role (400)",
                    value = "{\"name\": \"ci\", \"role\": \"admin\"}")}))
    @APIResponse(responseCode = "201", description = "made; token is the secret", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = TokenView.class)))
    @APIResponse(responseCode = "400", description = "what to fix", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class), examples = {@ExampleObject(name = "unknownRole",
            value = "{\"type\":\"about:blank\",\"title\":\"Invalid token\",\"status\":400,"
                    + "\"detail\":\"role must be one of viewer, submitter, operator\","
                    + "\"errors\":[\"role must be one of viewer, submitter, operator\"]}")}))
    @APIResponse(responseCode = "409", description = "a live token has this name", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(@Valid TokenRequest body) {
        TokenRequest request = JsonBodies.present(body, TokenRequest.class);
        TokenStore.Made made = tokens.create(request.name().strip(), Role.parse(request.role()).orElseThrow(),
                Callers.of(security).name());
        return Response.status(201).entity(TokenView.of(made.token(), made.secret())).build();
    }

    /** Every token, live or revoked, without secrets. */
    @Operation(summary = "List the tokens", description = "Live and revoked, without secrets.")
    @APIResponse(responseCode = "200", description = "every token", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = Tokens.class)))
    @GET
    public Tokens list() {
        return new Tokens(tokens.list().stream().map(t -> TokenView.of(t, null)).toList());
    }

    /** Revokes a token: from now on no node accepts it. 204; 404 when there is no live token of this id. */
    @Operation(summary = "Revoke a token", description = "From now on no node accepts it.")
    @APIResponse(responseCode = "204", description = "revoked")
    @APIResponse(responseCode = "404", description = "no live token of this id", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @DELETE
    @Path("{id}")
    public Response revoke(@PathParam("id") String id) {
        if (Requests.id(id).filter(value -> tokens.revoke(value, Callers.of(security).name())).isPresent()) {
            return Response.noContent().build();
        }
        return Problem.of(Response.Status.NOT_FOUND, "Token not found", "there is no live token with id '" + id + "'");
    }

    /** Every token. */
    @Schema(name = "Tokens", requiredProperties = "tokens")
    public record Tokens(List<TokenView> tokens) {
    }
}
