package dev.agentturbo.security.control;

import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.security.entity.Caller;
import dev.agentturbo.security.entity.ConsoleUser;
import dev.agentturbo.security.entity.Role;
import dev.agentturbo.tasks.control.QueueException;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.security.enterprise.identitystore.Pbkdf2PasswordHash;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The console's users in console_users, with PBKDF2 hashes of their passwords (Jakarta Security's
 * {@link Pbkdf2PasswordHash}: HMAC-SHA512, 210,000 iterations, a random salt per password).
 */
@ApplicationScoped
public class UserStore {

    private static final Logger LOG = Logger.getLogger(UserStore.class.getName());
    public static final int MIN_PASSWORD_CHARS = 12;
    /** A hash to verify against when the user does not exist, so that both cases take as long. */
    private String decoy;

    private static final String CREATE = """
            INSERT INTO console_users (name, password_hash, role, created_by) VALUES (?, ?, ?, ?)
            ON CONFLICT (name) DO NOTHING
            """;
    private static final String FIND = "SELECT password_hash, role FROM console_users WHERE name = ?";
    private static final String LIST = "SELECT name, role, created_by, created_at FROM console_users ORDER BY name";
    private static final String COUNT = "SELECT count(*) FROM console_users";
    // the last operator stays: without one, nobody could manage the fleet from the console
    private static final String DELETE = """
            DELETE FROM console_users WHERE name = ?
               AND (role <> 'operator' OR (SELECT count(*) FROM console_users WHERE role = 'operator') > 1)
            """;
    private static final String EXISTS = "SELECT 1 FROM console_users WHERE name = ?";

    @Inject
    DataSource dataSource;
    @Inject
    Pbkdf2PasswordHash hash;

    @PostConstruct
    void init() {
        hash.initialize(Map.of(
                "Pbkdf2PasswordHash.Algorithm", "PBKDF2WithHmacSHA512",
                "Pbkdf2PasswordHash.Iterations", "210000",
                "Pbkdf2PasswordHash.SaltSizeBytes", "32",
                "Pbkdf2PasswordHash.KeySizeBytes", "64"));
        decoy = hash.generate("not a password of anyone".toCharArray());
    }

    /**
     * Adds a user; false when one of that name exists already (nothing changed).
     *
     * @throws InvalidRequestException when the name or password will not do
     */
    public boolean create(String name, char[] password, Role role, String createdBy) {
        List<String> problems = new ArrayList<>();
        if (name == null || !name.matches("[A-Za-z0-9._@-]{1,100}")) {
            problems.add("name must be 1 to 100 letters, digits or . _ @ -");
        }
        if (password == null || password.length < MIN_PASSWORD_CHARS) {
            problems.add("password must have at least " + MIN_PASSWORD_CHARS + " characters");
        }
        if (!problems.isEmpty()) {
            throw new InvalidRequestException(400, "Invalid user", String.join("; ", problems), problems);
        }
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(CREATE)) {
            ps.setString(1, name);
            ps.setString(2, hash.generate(password));
            ps.setString(3, role.value());
            ps.setString(4, createdBy);
            boolean created = ps.executeUpdate() == 1;
            if (created) {
                LOG.info(() -> "console user '" + name + "' (" + role.value() + ") added by " + createdBy);
            }
            return created;
        } catch (SQLException e) {
            throw new QueueException("could not store the user", e);
        }
    }

    /** The caller these credentials belong to, if the password is right. */
    public Optional<Caller> verify(String name, char[] password) {
        if (name == null || password == null || name.length() > 100 || password.length > 1000) {
            return Optional.empty();
        }
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FIND)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    hash.verify(password, decoy);
                    return Optional.empty();
                }
                String stored = rs.getString(1);
                Optional<Role> role = Role.parse(rs.getString(2));
                return hash.verify(password, stored) ? role.map(r -> Caller.user(name, r)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new QueueException("could not check the login", e);
        }
    }

    public List<ConsoleUser> list() {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(LIST);
             ResultSet rs = ps.executeQuery()) {
            List<ConsoleUser> users = new ArrayList<>();
            while (rs.next()) {
                users.add(new ConsoleUser(rs.getString(1), Role.parse(rs.getString(2)).orElseThrow(), rs.getString(3),
                        rs.getTimestamp(4).toInstant()));
            }
            return users;
        } catch (SQLException e) {
            throw new QueueException("could not list the users", e);
        }
    }

    public long count() {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(COUNT);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new QueueException("could not count the users", e);
        }
    }

    /**
     * Removes a user.
     *
     * @return false when there is no such user
     * @throws InvalidRequestException (409) for the last operator
     */
    public boolean delete(String name, String by) {
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement(DELETE)) {
                ps.setString(1, name);
                if (ps.executeUpdate() == 1) {
                    LOG.info(() -> "console user '" + name + "' removed by " + by);
                    return true;
                }
            }
            try (PreparedStatement ps = c.prepareStatement(EXISTS)) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        throw new InvalidRequestException(409, "Last operator", "'" + name + "' is the last operator;"
                                + " add another operator first", List.of());
                    }
                    return false;
                }
            }
        } catch (SQLException e) {
            throw new QueueException("could not remove the user", e);
        }
    }
}
