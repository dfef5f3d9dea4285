package dev.agentturbo.console.boundary;

import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.security.control.TokenStore;
import dev.agentturbo.security.control.UserStore;
import dev.agentturbo.security.entity.ApiToken;
import dev.agentturbo.security.entity.ConsoleUser;
import dev.agentturbo.security.entity.Role;
import jakarta.faces.application.FacesMessage;
import jakarta.faces.context.FacesContext;
import jakarta.faces.view.ViewScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * Tokens and users, for operators: make a token (its secret is in the one response that made it, never kept in
 * the view or shown again), revoke one; add a console user, remove one.
 */
@Named
@ViewScoped
public class AccessAdmin implements Serializable {

    /** The request attribute that holds a new token's secret for the response that shows it. */
    public static final String NEW_SECRET = "newTokenSecret";

    @Inject
    TokenStore tokens;
    @Inject
    UserStore users;
    @Inject
    ConsoleCaller caller;

    private String tokenName;
    private String tokenRole = Role.SUBMITTER.value();
    private String userName;
    private String userPassword;
    private String userRole = Role.VIEWER.value();

    public List<ApiToken> getTokens() {
        return caller.isOperator() ? tokens.list() : List.of();
    }

    public List<ConsoleUser> getUsers() {
        return caller.isOperator() ? users.list() : List.of();
    }

    public List<String> getRoles() {
        return Arrays.stream(Role.values()).map(Role::value).toList();
    }

    public void createToken() {
        if (caller.refuses(caller.isOperator(), "make tokens")) {
            return;
        }
        String name = tokenName == null ? "" : tokenName.strip();
        if (name.isEmpty() || name.length() > 100 || name.chars().anyMatch(Character::isISOControl)) {
            ConsoleCaller.say(FacesMessage.SEVERITY_ERROR, "Invalid token", "name must be a string of 1 to 100"
                    + " characters, no control characters");
            return;
        }
        try {
            TokenStore.Made made = tokens.create(name, Role.parse(tokenRole).orElse(Role.VIEWER), caller.getName());
            FacesContext.getCurrentInstance().getAttributes().put(NEW_SECRET, made.secret());
            ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "Token made", "token '" + name + "' ("
                    + made.token().role().value() + "): copy its secret now, it is shown this once");
            tokenName = null;
        } catch (InvalidRequestException e) {
            ConsoleCaller.say(FacesMessage.SEVERITY_ERROR, e.title(), e.getMessage());
        }
    }

    public void revoke(ApiToken token) {
        if (caller.refuses(caller.isOperator(), "revoke tokens")) {
            return;
        }
        if (tokens.revoke(token.id(), caller.getName())) {
            ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "Token revoked", "token '" + token.name() + "' is refused"
                    + " from now on, on every node");
        } else {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "Not revoked", "token '" + token.name() + "' was revoked"
                    + " already");
        }
    }

    public void createUser() {
        if (caller.refuses(caller.isOperator(), "add users")) {
            return;
        }
        try {
            char[] password = userPassword == null ? null : userPassword.toCharArray();
            if (users.create(userName == null ? null : userName.strip(), password, Role.parse(userRole).orElse(null),
                    caller.getName())) {
                ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "User added", "'" + userName.strip() + "' may sign in as "
                        + userRole);
                userName = null;
            } else {
                ConsoleCaller.say(FacesMessage.SEVERITY_ERROR, "User exists", "a user named '" + userName
                        + "' exists already");
            }
        } catch (InvalidRequestException e) {
            ConsoleCaller.say(FacesMessage.SEVERITY_ERROR, e.title(), e.getMessage());
        } finally {
            userPassword = null;
        }
    }

    public void delete(ConsoleUser user) {
        if (caller.refuses(caller.isOperator(), "remove users")) {
            return;
        }
        try {
            if (users.delete(user.name(), caller.getName())) {
                ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "User removed", "'" + user.name() + "' can no longer"
                        + " sign in");
            } else {
                ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "Not removed", "there is no user '" + user.name() + "'");
            }
        } catch (InvalidRequestException e) {
            ConsoleCaller.say(FacesMessage.SEVERITY_ERROR, e.title(), e.getMessage());
        }
    }

    public String getTokenName() {
        return tokenName;
    }

    public void setTokenName(String tokenName) {
        this.tokenName = tokenName;
    }

    public String getTokenRole() {
        return tokenRole;
    }

    public void setTokenRole(String tokenRole) {
        this.tokenRole = tokenRole;
    }

    public String getUserName() {
        return userName;
    }

    public void setUserName(String userName) {
        this.userName = userName;
    }

    public String getUserPassword() {
        return userPassword;
    }

    public void setUserPassword(String userPassword) {
        this.userPassword = userPassword;
    }

    public String getUserRole() {
        return userRole;
    }

    public void setUserRole(String userRole) {
        this.userRole = userRole;
    }
}
