package dev.agentturbo.platform;

import jakarta.annotation.security.DeclareRoles;
import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.info.License;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The REST API lives under /api; every call needs a caller with one of these roles (see CallerAuthentication).
 * Its description, served at /openapi, comes from the annotations of the resources and their records.
 */
@ApplicationPath("api")
@DeclareRoles({"viewer", "submitter", "operator"})
@OpenAPIDefinition(
        info = @Info(title = "Agent Turbo", version = "0.1.0", description = "Runs Claude agent tasks in parallel"
                + " across hosts, with one PostgreSQL table as the queue. Every call needs a bearer token: viewer reads,"
                + " submitter submits and manages its own tasks, operator does everything. Bad input is answered with"
                + " application/problem+json (RFC 9457), one entry in errors per problem, and changes nothing.",
                license = @License(name = "see the repository")),
        security = @SecurityRequirement(name = Api.BEARER),
        tags = {
                @Tag(name = "tasks", description = "submit, read, list, cancel and retry agent tasks; read and follow"
                        + " their output"),
                @Tag(name = "workers", description = "the nodes of the fleet; drain, resume and resize them"),
                @Tag(name = "limits", description = "executors paused fleet-wide for a credential"),
                @Tag(name = "stats", description = "the fleet at a glance"),
                @Tag(name = "tokens", description = "API tokens (operators)"),
                @Tag(name = "users", description = "the console's users (operators)")})
@SecurityScheme(securitySchemeName = Api.BEARER, type = SecuritySchemeType.HTTP, scheme = "bearer",
        description = "an API token made with POST /api/tokens, or the bootstrap token (agentturbo.security.bootstrap-token)")
public class Api extends Application {

    static final String BEARER = "bearer";
}
