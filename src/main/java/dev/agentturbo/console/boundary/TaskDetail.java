package dev.agentturbo.console.boundary;

import dev.agentturbo.tasks.control.TaskCatalog;
import dev.agentturbo.tasks.entity.Task;
import jakarta.faces.application.FacesMessage;
import jakarta.faces.view.ViewScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import java.io.Serializable;
import java.util.List;

/**
 * The page of one task ({@code task.xhtml?id=N}): every field, and cancel. A submitter sees only its own tasks;
 * another's reads as "not found", as in the API.
 */
@Named
@ViewScoped
public class TaskDetail implements Serializable {

    @Inject
    TaskCatalog catalog;
    @Inject
    ConsoleCaller caller;
    @Inject
    TaskActions actions;

    private Long id;
    private transient Task task;

    /** Reads the task of the page's {@code id} (again on every poll while it runs). */
    public void load() {
        task = id == null ? null : catalog.find(id).filter(caller::sees).orElse(null);
    }

    public Task getTask() {
        if (task == null && id != null) {
            load();
        }
        return task;
    }

    public boolean isFound() {
        return getTask() != null;
    }

    /** True while something may still happen to the task: the page keeps following it. */
    public boolean isLive() {
        return isFound() && !task.getStatus().finished();
    }

    public boolean isManageable() {
        return isFound() && caller.manages(task);
    }

    public void cancel() {
        if (!isFound()) {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "Task not found", "there is no task " + id);
            return;
        }
        actions.cancel(List.of(id));
        load();
    }

    public Long getId() {
        return id;
    }

    public void setId(Long id) {
        this.id = id;
    }
}
