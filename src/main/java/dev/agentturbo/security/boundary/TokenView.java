package dev.agentturbo.security.boundary;

import dev.agentturbo.security.entity.ApiToken;
import jakarta.json.bind.annotation.JsonbNillable;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.Instant;

/** An API token as operators see it; its secret only in the answer that made it. */
@JsonbNillable
@JsonbPropertyOrder({"id", "name", "role", "createdBy", "createdAt", "lastUsedAt", "revokedAt", "token"})
@Schema(name = "Token", requiredProperties = {"id", "name", "role", "createdBy", "createdAt", "lastUsedAt", "revokedAt"})
public record TokenView(
        long id,
        String name,
        @Schema(enumeration = {"viewer", "submitter", "operator"}) String role,
        String createdBy,
        @Schema(format = "date-time") String createdAt,
        @Schema(nullable = true, format = "date-time") String lastUsedAt,
        @Schema(nullable = true, format = "date-time") String revokedAt,
        @JsonbNillable(false) @Schema(description = "the secret to send as Authorization: Bearer; only when made")
        String token) {

    static TokenView of(ApiToken t, String secret) {
        return new TokenView(t.id(), t.name(), t.role().value(), t.createdBy(), t.createdAt().toString(),
                text(t.lastUsedAt()), text(t.revokedAt()), secret);
    }

    private static String text(Instant at) {
        return at == null ? null : at.toString();
    }
}
