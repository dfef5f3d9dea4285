package dev.agentturbo.console.boundary;

import dev.agentturbo.security.entity.Caller;
import dev.agentturbo.security.entity.Role;
import dev.agentturbo.tasks.entity.Task;
import jakarta.enterprise.context.RequestScoped;
import jakarta.faces.application.FacesMessage;
import jakarta.faces.context.FacesContext;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import jakarta.servlet.http.HttpServletRequest;

/**
 * The signed-in user of a console page and what the role allows: viewers read; submitters submit, cancel and retry
 * their own tasks; operators do everything. Roles are read with {@link HttpServletRequest#isUserInRole}, which is
 * right from the first page after sign-in.
 */
@Named("caller")
@RequestScoped
public class ConsoleCaller {

    @Inject
    HttpServletRequest request;

    public String getName() {
        return request.getUserPrincipal() == null ? "anonymous" : request.getUserPrincipal().getName();
    }

    public Role role() {
        if (request.isUserInRole(Role.OPERATOR.value())) {
            return Role.OPERATOR;
        }
        return request.isUserInRole(Role.SUBMITTER.value()) ? Role.SUBMITTER : Role.VIEWER;
    }

    public String getRole() {
        return role().value();
    }

    public Caller caller() {
        return new Caller(getName(), role());
    }

    public boolean isOperator() {
        return role() == Role.OPERATOR;
    }

    public boolean isSubmitter() {
        return role() != Role.VIEWER;
    }

    /** True when the user sees only the tasks it submitted. */
    public boolean isOwnTasksOnly() {
        return role() == Role.SUBMITTER;
    }

    /** True when the user may see this task. */
    public boolean sees(Task task) {
        return !isOwnTasksOnly() || getName().equals(task.getSubmittedBy());
    }

    /** True when the user may cancel or retry this task. */
    public boolean manages(Task task) {
        return isOperator() || (isSubmitter() && getName().equals(task.getSubmittedBy()));
    }

    /** True when the user may cancel or retry a task of this submitter. */
    public boolean manages(String submittedBy) {
        return isOperator() || (isSubmitter() && getName().equals(submittedBy));
    }

    /** Says on the page that the role does not allow this; true when it does not. */
    public boolean refuses(boolean allowed, String what) {
        if (!allowed) {
            say(FacesMessage.SEVERITY_WARN, "Not allowed", getName() + " (" + getRole() + ") may not " + what);
        }
        return !allowed;
    }

    static void say(FacesMessage.Severity severity, String summary, String detail) {
        FacesContext.getCurrentInstance().addMessage(null, new FacesMessage(severity, summary, detail));
    }
}
