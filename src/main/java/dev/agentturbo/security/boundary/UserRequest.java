package dev.agentturbo.security.boundary;

import dev.agentturbo.platform.JsonBody;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A console user to add. The name's and password's rules are the user store's, which the console's own form goes
 * through too: "name must be 1 to 100 letters, digits or . _ @ -", "password must have at least 12 characters".
 */
@JsonBody(title = "Invalid user", noun = "user", example = "{\"name\": \"dana\", \"password\": \"…\", \"role\": \"viewer\"}",
        maxBytes = 10_000)
@Schema(name = "UserRequest", requiredProperties = {"name", "password", "role"})
public record UserRequest(
        @Schema(pattern = "[A-Za-z0-9._@-]{1,100}", example = "dana") String name,
        @Schema(minLength = 12, example = "a-long-password") String password,
        @RoleName @Schema(enumeration = {"viewer", "submitter", "operator"}, example = "viewer") String role) {
}
