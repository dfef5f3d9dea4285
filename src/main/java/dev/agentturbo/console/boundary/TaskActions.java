package dev.agentturbo.console.boundary;

import dev.agentturbo.tasks.control.TaskCatalog;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.tasks.entity.Task;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.enterprise.context.RequestScoped;
import jakarta.faces.application.FacesMessage;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Cancel and retry of tasks from the console, with the API's rules: a submitter acts on its own tasks only, an operator on
 * any; each task's result is said on the page.
 */
@RequestScoped
public class TaskActions {

    @Inject
    TaskQueue queue;
    @Inject
    TaskCatalog catalog;
    @Inject
    ConsoleCaller caller;

    /** Cancels the tasks the user may cancel; says what became of each. */
    public void cancel(List<Long> ids) {
        if (ids.isEmpty()) {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "Nothing selected", "select tasks to cancel first");
            return;
        }
        if (caller.refuses(caller.isSubmitter(), "cancel tasks")) {
            return;
        }
        List<String> cancelled = new ArrayList<>();
        List<String> stopping = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (long id : ids) {
            Optional<Task> task = catalog.find(id).filter(caller::manages);
            Optional<TaskStatus> after = task.isEmpty() ? Optional.empty() : queue.cancel(id);
            if (after.isEmpty()) {
                refused.add(id + " (not found)");
            } else if (after.get() == TaskStatus.CANCELLED) {
                cancelled.add(Long.toString(id));
            } else if (after.get() == TaskStatus.RUNNING || after.get() == TaskStatus.PENDING) {
                stopping.add(Long.toString(id));
            } else {
                refused.add(id + " (already " + after.get().value() + ")");
            }
        }
        if (!cancelled.isEmpty()) {
            ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "Cancelled", "task " + String.join(", ", cancelled)
                    + " cancelled");
        }
        if (!stopping.isEmpty()) {
            ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "Cancel requested", "task " + String.join(", ", stopping)
                    + ": the agent is being stopped; the task shows cancelled within seconds");
        }
        if (!refused.isEmpty()) {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "Not cancelled", "task " + String.join(", ", refused));
        }
    }

    /** Runs the finished tasks the user may retry again, each as a new attempt of the same task. */
    public void retry(List<Long> ids) {
        if (ids.isEmpty()) {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "Nothing selected", "select tasks to retry first");
            return;
        }
        if (caller.refuses(caller.isSubmitter(), "retry tasks")) {
            return;
        }
        List<String> queued = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (long id : ids) {
            Optional<Task> task = catalog.find(id).filter(caller::manages);
            Optional<Boolean> queuedAgain = task.isEmpty() ? Optional.empty() : queue.retry(id);
            if (queuedAgain.isEmpty()) {
                refused.add(id + " (not found)");
            } else if (queuedAgain.get()) {
                queued.add(Long.toString(id));
            } else {
                refused.add(id + " (" + task.get().getStatus().value() + ": only finished tasks run again)");
            }
        }
        if (!queued.isEmpty()) {
            ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "Retried", "task " + String.join(", ", queued)
                    + " queued again as a new attempt");
        }
        if (!refused.isEmpty()) {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "Not retried", "task " + String.join(", ", refused));
        }
    }
}
