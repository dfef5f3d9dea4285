package dev.agentturbo.security.boundary;

import dev.agentturbo.platform.Problem;
import dev.agentturbo.security.control.FailedAttempts;
import dev.agentturbo.security.control.TokenStore;
import dev.agentturbo.security.control.UserStore;
import dev.agentturbo.security.entity.Caller;
import dev.agentturbo.security.entity.Role;
import dev.agentturbo.tasks.control.QueueException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.security.enterprise.AuthenticationStatus;
import jakarta.security.enterprise.authentication.mechanism.http.AutoApplySession;
import jakarta.security.enterprise.authentication.mechanism.http.HttpAuthenticationMechanism;
import jakarta.security.enterprise.authentication.mechanism.http.HttpMessageContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.IOException;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Who calls: the one authentication mechanism of the application (Jakarta Security).
 * <ul>
 * <li>{@code /api/…}: {@code Authorization: Bearer <token>}, an API token or the bootstrap token; or the session of a
 * signed-in console user. Nothing under /api answers anonymously: 401 problem+json with
 * {@code WWW-Authenticate: Bearer}.</li>
 * <li>{@code /console/…}: form login ({@code POST /console/login} with {@code username} and {@code password}), then
 * the session; anyone else is sent to {@code /console/login.html}.</li>
 * </ul>
 * Failed logins and bad tokens count per client address ({@link FailedAttempts}); a client past the limit gets 429.
 * What a caller may do is its role: see {@link RoleCheck}.
 */
@ApplicationScoped
@AutoApplySession
public class CallerAuthentication implements HttpAuthenticationMechanism {

    private static final Logger LOG = Logger.getLogger(CallerAuthentication.class.getName());
    public static final String LOGIN_PAGE = "/console/login.html";
    public static final String LOGIN = "/console/login";

    @Inject
    TokenStore tokens;
    @Inject
    UserStore users;
    @Inject
    FailedAttempts failures;
    @Inject
    @ConfigProperty(name = "agentturbo.security.bootstrap-token")
    Optional<String> bootstrapToken;

    @Override
    public AuthenticationStatus validateRequest(HttpServletRequest request, HttpServletResponse response,
                                                HttpMessageContext context) {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (path.startsWith("/api/") || path.equals("/api")) {
            return api(request, response, context);
        }
        if (path.startsWith("/console/") || path.equals("/console")) {
            return console(path, request, response, context);
        }
        return context.doNothing();
    }

    private AuthenticationStatus api(HttpServletRequest request, HttpServletResponse response, HttpMessageContext context) {
        String client = request.getRemoteAddr();
        Duration blocked = failures.blockedFor(client);
        if (!blocked.isZero()) {
            return refuse(response, 429, "Too many failed attempts", "too many bad tokens or logins from " + client
                    + "; try again in " + Math.max(1, blocked.toSeconds()) + " s", blocked);
        }
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return refuse(response, 401, "Unauthorized", "send Authorization: Bearer <token> (an operator makes tokens"
                    + " with POST /api/tokens)", null);
        }
        String secret = header.substring(7).trim();
        Optional<Caller> caller;
        try {
            caller = bootstrap(secret).or(() -> tokens.authenticate(secret));
        } catch (QueueException e) {
            return refuse(response, 503, "Task queue unavailable", "the database did not answer; the token could not be"
                    + " checked, send the request again", Duration.ofSeconds(2));
        }
        if (caller.isEmpty()) {
            failures.failed(client);
            LOG.info(() -> "refused a bad token from " + client);
            return refuse(response, 401, "Unauthorized", "the token is not valid (unknown or revoked)", null);
        }
        return context.notifyContainerAboutLogin(caller.get().name(), Set.of(caller.get().role().value()));
    }

    private Optional<Caller> bootstrap(String secret) {
        return bootstrapToken.filter(t -> t.length() >= SecuritySetup.MIN_BOOTSTRAP_CHARS)
                .filter(t -> MessageDigest.isEqual(t.getBytes(StandardCharsets.UTF_8), secret.getBytes(StandardCharsets.UTF_8)))
                .map(t -> new Caller("bootstrap", Role.OPERATOR));
    }

    private AuthenticationStatus console(String path, HttpServletRequest request, HttpServletResponse response,
                                         HttpMessageContext context) {
        if (path.equals(LOGIN_PAGE) || path.startsWith("/console/public/")) {
            return context.doNothing();
        }
        if (path.equals(LOGIN) && "POST".equals(request.getMethod())) {
            if (!SameOrigin.holds(request)) {
                LOG.info(() -> "refused a console sign-in posted by a page of another site (" + request.getHeader("Origin") + ")");
                return redirect(request, response, LOGIN_PAGE + "?failed");
            }
            String client = request.getRemoteAddr();
            if (!failures.blockedFor(client).isZero()) {
                return redirect(request, response, LOGIN_PAGE + "?blocked");
            }
            String name = request.getParameter("username");
            String password = request.getParameter("password");
            Optional<Caller> caller;
            try {
                caller = password == null ? Optional.empty() : users.verify(name, password.toCharArray());
            } catch (QueueException e) {
                return redirect(request, response, LOGIN_PAGE + "?unavailable");
            }
            if (caller.isEmpty()) {
                failures.failed(client);
                LOG.info(() -> "failed console login from " + client);
                return redirect(request, response, LOGIN_PAGE + "?failed");
            }
            context.setRegisterSession(caller.get().name(), Set.of(caller.get().role().value()));
            return context.notifyContainerAboutLogin(caller.get().name(), Set.of(caller.get().role().value()));
        }
        return redirect(request, response, LOGIN_PAGE);
    }

    private static AuthenticationStatus redirect(HttpServletRequest request, HttpServletResponse response, String to) {
        try {
            response.sendRedirect(request.getContextPath() + to);
        } catch (IOException e) {
            LOG.fine(() -> "could not redirect: " + e.getMessage());
        }
        return AuthenticationStatus.SEND_CONTINUE;
    }

    /** Answers the request here, as problem+json: the container adds nothing. */
    private static AuthenticationStatus refuse(HttpServletResponse response, int status, String title, String detail,
                                               Duration retryAfter) {
        try {
            response.setStatus(status);
            if (status == 401) {
                response.setHeader("WWW-Authenticate", "Bearer realm=\"agent-turbo\"");
            }
            if (retryAfter != null) {
                response.setHeader("Retry-After", Long.toString(Math.max(1, retryAfter.toSeconds())));
            }
            response.setContentType(Problem.MEDIA_TYPE);
            response.setCharacterEncoding("UTF-8");
            response.getWriter().write(Problem.json(status, title, detail, List.of()));
            response.flushBuffer();
        } catch (IOException e) {
            LOG.fine(() -> "could not answer: " + e.getMessage());
        }
        return AuthenticationStatus.SEND_FAILURE;
    }
}
