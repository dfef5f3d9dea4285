package dev.agentturbo.security.boundary;

import dev.agentturbo.platform.DatabaseReady;
import dev.agentturbo.security.control.UserStore;
import dev.agentturbo.security.entity.Role;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.security.SecureRandom;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The first operator, once the database answers: when no console user exists, the user of
 * agentturbo.security.admin-user with the password of agentturbo.security.admin-password, or, when none is
 * configured, a generated one that this node prints once. Also says whether the bootstrap token is accepted.
 */
@ApplicationScoped
public class SecuritySetup {

    private static final Logger LOG = Logger.getLogger(SecuritySetup.class.getName());
    public static final int MIN_BOOTSTRAP_CHARS = 24;
    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    @Inject
    UserStore users;
    @Inject
    @ConfigProperty(name = "agentturbo.security.admin-user")
    String adminUser;
    @Inject
    @ConfigProperty(name = "agentturbo.security.admin-password")
    Optional<String> adminPassword;
    @Inject
    @ConfigProperty(name = "agentturbo.security.bootstrap-token")
    Optional<String> bootstrapToken;

    void ready(@Observes DatabaseReady ready) {
        bootstrapToken.filter(t -> !t.isBlank()).ifPresent(t -> {
            if (t.length() < MIN_BOOTSTRAP_CHARS) {
                LOG.severe(() -> "agentturbo.security.bootstrap-token (AGENTTURBO_BOOTSTRAP_TOKEN) is refused: it has "
                        + t.length() + " characters, at least " + MIN_BOOTSTRAP_CHARS + " are needed");
            } else {
                LOG.info("the bootstrap token (AGENTTURBO_BOOTSTRAP_TOKEN) is accepted as an operator token");
            }
        });
        if (users.count() > 0) {
            return;
        }
        Optional<String> configured = adminPassword.filter(p -> !p.isBlank());
        String password = configured.orElseGet(SecuritySetup::generate);
        if (users.create(adminUser, password.toCharArray(), Role.OPERATOR, "first start")) {
            if (configured.isPresent()) {
                LOG.info(() -> "console operator '" + adminUser + "' created with the configured password");
            } else {
                String line = "console operator created: user '" + adminUser + "', password '" + password + "' (shown"
                        + " this once; set AGENTTURBO_ADMIN_PASSWORD to choose it)";
                LOG.warning(line);
                System.err.println("[agent-turbo] " + line);
            }
        }
    }

    static String generate() {
        SecureRandom random = new SecureRandom();
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            s.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return s.toString();
    }
}
