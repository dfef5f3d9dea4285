package dev.agentturbo.ops.boundary;

import dev.agentturbo.platform.Problem;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.microprofile.config.ConfigProvider;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.logging.Logger;

/**
 * Guards {@code /metrics} with a token when {@code agentturbo.metrics.token} is set (by default it is not, and
 * anyone who reaches the node may scrape it). Payara serves the endpoint in the application at the root context,
 * which is this WAR, so this filter sees its requests. The token is accepted as {@code Authorization: Bearer
 * <token>} or as the password of Basic authentication (any user name): Prometheus sends either
 * ({@code authorization: {credentials: …}} or {@code basic_auth}). Anything else is answered 401.
 */
@WebFilter(urlPatterns = {"/metrics", "/metrics/*"})
public class MetricsAccess extends HttpFilter {

    private static final Logger LOG = Logger.getLogger(MetricsAccess.class.getName());
    /** A shorter token would be guessed; a node with one refuses every scrape and says why. */
    static final int MIN_CHARS = 16;

    private byte[] token;
    private boolean tooShort;

    @Override
    public void init() {
        String configured = ConfigProvider.getConfig().getOptionalValue("agentturbo.metrics.token", String.class)
                .map(String::strip).orElse("");
        tooShort = !configured.isEmpty() && configured.length() < MIN_CHARS;
        token = configured.isEmpty() || tooShort ? null : configured.getBytes(StandardCharsets.UTF_8);
        if (tooShort) {
            LOG.severe(() -> "agentturbo.metrics.token (AGENTTURBO_METRICS_TOKEN) has " + configured.length()
                    + " characters, fewer than " + MIN_CHARS + ": /metrics refuses every request until it has more");
        } else if (token != null) {
            LOG.info("/metrics answers only requests with the metrics token (AGENTTURBO_METRICS_TOKEN)");
        }
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if ((token == null && !tooShort) || accepted(request.getHeader("Authorization"))) {
            chain.doFilter(request, response);
            return;
        }
        response.setStatus(401);
        response.setHeader("WWW-Authenticate", "Bearer realm=\"metrics\", Basic realm=\"metrics\"");
        response.setContentType(Problem.MEDIA_TYPE);
        response.setCharacterEncoding("UTF-8");
        String detail = tooShort
                ? "this node's agentturbo.metrics.token is shorter than " + MIN_CHARS + " characters, so /metrics"
                        + " answers nobody: set a longer one (AGENTTURBO_METRICS_TOKEN) and restart the node"
                : "send the metrics token (AGENTTURBO_METRICS_TOKEN) as Authorization: Bearer <token>, or as the"
                        + " password of Basic authentication";
        response.getWriter().write(Problem.json(401, "Unauthorized", detail, List.of()));
    }

    private boolean accepted(String header) {
        if (token == null || header == null) {
            return false;
        }
        String secret = null;
        if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            secret = header.substring(7).strip();
        } else if (header.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String pair = new String(Base64.getDecoder().decode(header.substring(6).strip()), StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                secret = colon < 0 ? null : pair.substring(colon + 1);
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return secret != null && MessageDigest.isEqual(token, secret.getBytes(StandardCharsets.UTF_8));
    }
}
