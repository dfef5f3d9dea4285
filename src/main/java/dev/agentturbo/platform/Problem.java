package dev.agentturbo.platform;

import jakarta.json.bind.annotation.JsonbNillable;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/**
 * An RFC 9457 problem detail: what went wrong and what to change, as application/problem+json.
 *
 * @param errors one entry per problem, when the request had several (absent otherwise)
 */
@JsonbNillable
@JsonbPropertyOrder({"type", "title", "status", "detail", "errors"})
@Schema(name = "Problem", description = "RFC 9457 problem detail (application/problem+json): what went wrong and what to"
        + " change; nothing was changed", requiredProperties = {"type", "title", "status", "detail"})
public record Problem(
        @Schema(description = "always about:blank", example = "about:blank") String type,
        @Schema(description = "what kind of problem", example = "Invalid task") String title,
        @Schema(description = "the HTTP status", example = "400") int status,
        @Schema(description = "what to change; the errors joined by '; '", example = "prompt must not be blank") String detail,
        @JsonbNillable(false) @Schema(type = SchemaType.ARRAY, implementation = String.class, description = "one entry per"
                + " problem (absent when there is one problem only to say)") List<String> errors) {

    @Schema(hidden = true)
    public static final String MEDIA_TYPE = "application/problem+json";

    public Problem(int status, String title, String detail, List<String> errors) {
        this("about:blank", title, status, detail, errors == null || errors.isEmpty() ? null : List.copyOf(errors));
    }

    public static Response of(Response.Status status, String title, String detail) {
        return of(status.getStatusCode(), title, detail, List.of());
    }

    public static Response of(int status, String title, String detail, List<String> errors) {
        return Response.status(status).type(MEDIA_TYPE).entity(json(status, title, detail, errors)).build();
    }

    /** The problem's JSON text, for answers written outside JAX-RS (the authentication mechanism). */
    public static String json(int status, String title, String detail, List<String> errors) {
        return JsonBodies.JSONB.toJson(new Problem(status, title, detail, errors));
    }
}
