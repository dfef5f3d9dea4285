package dev.agentturbo.security.boundary;

import dev.agentturbo.security.entity.Caller;
import dev.agentturbo.security.entity.Role;
import jakarta.ws.rs.core.SecurityContext;

import java.util.List;

/** The caller of a request, with its strongest role. */
public final class Callers {

    private Callers() {
    }

    public static Caller of(SecurityContext security) {
        String name = security.getUserPrincipal() == null ? "anonymous" : security.getUserPrincipal().getName();
        for (Role role : List.of(Role.OPERATOR, Role.SUBMITTER, Role.VIEWER)) {
            if (security.isUserInRole(role.value())) {
                return new Caller(name, role);
            }
        }
        return new Caller(name, Role.VIEWER);
    }

    /** True when the caller sees and manages only the tasks it submitted. */
    public static boolean ownTasksOnly(Caller caller) {
        return caller.role() == Role.SUBMITTER;
    }
}
