package dev.agentturbo.platform;

import jakarta.annotation.security.DeclareRoles;
import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;

/** The REST API lives under /api; every call needs a caller with one of these roles (see CallerAuthentication). */
@ApplicationPath("api")
@DeclareRoles({"viewer", "submitter", "operator"})
public class Api extends Application {
}
