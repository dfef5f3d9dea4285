package dev.agentturbo.security.boundary;

import dev.agentturbo.platform.JsonBody;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A token to make: its name (unique among live tokens) and the role it carries. */
@JsonBody(title = "Invalid token", noun = "token", example = "{\"name\": \"ci\", \"role\": \"submitter\"}",
        maxBytes = 10_000)
@Schema(name = "TokenRequest", requiredProperties = {"name", "role"})
public record TokenRequest(
        @NotNull(message = TokenRequest.Messages.NAME)
        @Size(max = 100, message = TokenRequest.Messages.NAME)
        @Pattern(regexp = "(?s)[^\\p{Cntrl}]*[^\\p{Cntrl}\\s][^\\p{Cntrl}]*", message = TokenRequest.Messages.NAME)
        @Schema(description = "1 to 100 characters, no control characters", example = "ci-pipeline")
        String name,
        @RoleName
        @Schema(enumeration = {"viewer", "submitter", "operator"}, example = "submitter")
        String role) {

    /** Declared rather than implied: see TaskRequest (Payara's OpenAPI and @Size on a constructor's parameter). */
    public TokenRequest(String name, String role) {
        this.name = name;
        this.role = role;
    }

    /** Its messages: records' static fields would show as properties in the OpenAPI schema. */
    interface Messages {
        String NAME = "must be a string of 1 to 100 characters, no control characters";
    }
}
