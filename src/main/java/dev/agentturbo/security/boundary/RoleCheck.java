package dev.agentturbo.security.boundary;

import dev.agentturbo.platform.Problem;
import dev.agentturbo.security.entity.Role;
import jakarta.annotation.Priority;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.ext.Provider;

import java.util.Arrays;
import java.util.List;

/**
 * What a caller may do: a resource method (or its class) names the roles that may call it with
 * {@link RolesAllowed}; any other caller gets 403 problem+json. A method that names none is for operators only.
 */
@Provider
@Priority(Priorities.AUTHORIZATION)
public class RoleCheck implements ContainerRequestFilter {

    @Context
    ResourceInfo resource;

    @Override
    public void filter(ContainerRequestContext request) {
        SecurityContext security = request.getSecurityContext();
        if (security.getUserPrincipal() == null) {
            request.abortWith(Problem.of(401, "Unauthorized", "send Authorization: Bearer <token>", List.of()));
            return;
        }
        RolesAllowed allowed = resource.getResourceMethod() == null ? null
                : resource.getResourceMethod().getAnnotation(RolesAllowed.class);
        if (allowed == null && resource.getResourceClass() != null) {
            allowed = resource.getResourceClass().getAnnotation(RolesAllowed.class);
        }
        List<String> roles = allowed == null ? List.of(Role.OPERATOR.value()) : Arrays.asList(allowed.value());
        if (roles.stream().noneMatch(security::isUserInRole)) {
            request.abortWith(Problem.of(403, "Forbidden", security.getUserPrincipal().getName() + " may not do this:"
                    + " it takes the role " + String.join(" or ", roles), List.of()));
        }
    }
}
