package dev.agentturbo.security.boundary;

import jakarta.servlet.http.HttpServletRequest;

import java.net.URI;

/**
 * Whether a form post comes from a page of this application: a browser names the page's origin in {@code Origin}
 * (every current browser does on a POST), and another site's page cannot claim ours. The console's sign-in and
 * sign-out are plain forms outside Faces' view state; this keeps another site from signing a user out, or into an
 * account of its choosing. A request without {@code Origin} (not from a browser) passes.
 */
final class SameOrigin {

    private SameOrigin() {
    }

    static boolean holds(HttpServletRequest request) {
        String origin = request.getHeader("Origin");
        if (origin == null || origin.isBlank()) {
            return true;
        }
        String host = request.getHeader("Host");
        try {
            URI o = URI.create(origin.trim());
            String authority = o.getPort() < 0 ? o.getHost() : o.getHost() + ":" + o.getPort();
            return host != null && authority != null && authority.equalsIgnoreCase(host.trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
