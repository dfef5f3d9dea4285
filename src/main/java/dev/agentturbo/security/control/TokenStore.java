package dev.agentturbo.security.control;

import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.security.entity.ApiToken;
import dev.agentturbo.security.entity.Caller;
import dev.agentturbo.security.entity.Role;
import dev.agentturbo.tasks.control.QueueException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * API tokens in api_tokens: made by operators, shown once, stored only as a SHA-256 hash of their secret, looked
 * up on every request (so that a revoked token is refused at once, on every node).
 */
@ApplicationScoped
public class TokenStore {

    private static final Logger LOG = Logger.getLogger(TokenStore.class.getName());
    /** Tokens start with this, so that a secret that leaked into a log or a repository is recognizable. */
    public static final String PREFIX = "at_";
    private static final SecureRandom RANDOM = new SecureRandom();

    private static final String CREATE = """
            INSERT INTO api_tokens (name, role, secret_hash, created_by) VALUES (?, ?, ?, ?)
            RETURNING id, created_at
            """;
    // the token of this secret, if it is live; marked used at most once a minute (not a write per request)
    private static final String AUTHENTICATE = """
            WITH found AS (SELECT id, name, role, last_used_at FROM api_tokens
                            WHERE secret_hash = ? AND revoked_at IS NULL),
                 used AS (UPDATE api_tokens t SET last_used_at = now() FROM found
                           WHERE t.id = found.id AND (found.last_used_at IS NULL
                                 OR found.last_used_at < now() - interval '1 minute'))
            SELECT name, role FROM found
            """;
    private static final String LIST = """
            SELECT id, name, role, created_by, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id
            """;
    private static final String REVOKE = """
            UPDATE api_tokens SET revoked_at = now() WHERE id = ? AND revoked_at IS NULL RETURNING name
            """;

    @Inject
    DataSource dataSource;

    protected TokenStore() {
    }

    public TokenStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** A token as it is made: the one time its secret is known. */
    public record Made(ApiToken token, String secret) {
    }

    public Made create(String name, Role role, String createdBy) {
        String secret = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(CREATE)) {
            ps.setString(1, name);
            ps.setString(2, role.value());
            ps.setString(3, hash(secret));
            ps.setString(4, createdBy);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                ApiToken token = new ApiToken(rs.getLong(1), name, role, createdBy, rs.getTimestamp(2).toInstant(),
                        null, null);
                LOG.info(() -> "token " + token.id() + " '" + name + "' (" + role.value() + ") made by " + createdBy);
                return new Made(token, secret);
            }
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                throw new InvalidRequestException(409, "Token name in use", "a live token is named '" + name
                        + "' already; revoke it first or choose another name", List.of());
            }
            throw new QueueException("could not store the token", e);
        }
    }

    /** The caller this secret belongs to, if it is a live token. */
    public Optional<Caller> authenticate(String secret) {
        if (secret == null || !secret.startsWith(PREFIX) || secret.length() > 200) {
            return Optional.empty();
        }
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(AUTHENTICATE)) {
            ps.setString(1, hash(secret));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Role.parse(rs.getString(2)).map(r -> callerOf(rs, r)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new QueueException("could not check the token", e);
        }
    }

    private static Caller callerOf(ResultSet rs, Role role) {
        try {
            return Caller.token(rs.getString(1), role);
        } catch (SQLException e) {
            throw new QueueException("could not read the token", e);
        }
    }

    public List<ApiToken> list() {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(LIST);
             ResultSet rs = ps.executeQuery()) {
            List<ApiToken> tokens = new ArrayList<>();
            while (rs.next()) {
                tokens.add(new ApiToken(rs.getLong(1), rs.getString(2), Role.parse(rs.getString(3)).orElseThrow(),
                        rs.getString(4), instant(rs.getTimestamp(5)), instant(rs.getTimestamp(6)),
                        instant(rs.getTimestamp(7))));
            }
            return tokens;
        } catch (SQLException e) {
            throw new QueueException("could not list the tokens", e);
        }
    }

    /** Revokes a live token at once; false when there is no live token of this id. */
    public boolean revoke(long id, String by) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(REVOKE)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                String name = rs.getString(1);
                LOG.info(() -> "token " + id + " '" + name + "' revoked by " + by);
                return true;
            }
        } catch (SQLException e) {
            throw new QueueException("could not revoke the token", e);
        }
    }

    static String hash(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
