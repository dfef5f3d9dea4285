package dev.agentturbo.console.boundary;

import dev.agentturbo.tasks.control.TaskAttempts;
import dev.agentturbo.tasks.control.TaskCatalog;
import dev.agentturbo.tasks.control.TaskOutput;
import dev.agentturbo.tasks.entity.Attempt;
import dev.agentturbo.tasks.entity.OutputItem;
import dev.agentturbo.tasks.entity.Task;
import org.primefaces.PrimeFaces;
import jakarta.faces.application.FacesMessage;
import jakarta.faces.view.ViewScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The page of one task ({@code task.xhtml?id=N}): every field, each attempt, the agent's output as a conversation,
 * cancel and retry. While the task may still change, the page's poll calls {@link #follow()} every two seconds:
 * the task is read again and the output stored since the last item shown is added to the conversation. A
 * submitter sees only its own tasks; another's reads as "not found", as in the API.
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
    @Inject
    TaskOutput output;
    @Inject
    TaskAttempts attempts;
    @Inject
    dev.agentturbo.tasks.control.TaskDependencies dependencies;

    /** Items read per poll, and the most the page keeps (the oldest go first; the API has them all). */
    static final int READ_LIMIT = 500;
    static final int KEEP = 5000;

    private Long id;
    private transient Task task;
    private transient List<Attempt> attemptList;
    private transient List<dev.agentturbo.tasks.entity.Dependency> dependencyList;
    private final List<OutputTurn> conversation = new ArrayList<>();
    private long lastSeq;
    private int dropped;
    private int quietPollsSinceEnd;

    /** Polls with nothing new after the task's end before the page stops following. */
    static final int QUIET_POLLS_TO_STOP = 3;

    /** Reads the task of the page's {@code id} and the output not shown yet. */
    public void load() {
        task = id == null ? null : catalog.find(id).filter(caller::sees).orElse(null);
        attemptList = null;
        dependencyList = null;
        if (task != null) {
            readOutput();
        }
    }

    /**
     * The poll: the task again, and what its agent printed since. Stops a few polls after the task has ended and
     * nothing more came: a node writes the last of the output just after the task's end.
     */
    public void follow() {
        int before = conversation.size() + dropped;
        load();
        if (isLive()) {
            quietPollsSinceEnd = 0;
        } else if (conversation.size() + dropped == before && ++quietPollsSinceEnd >= QUIET_POLLS_TO_STOP) {
            PrimeFaces.current().executeScript("PF('follow').stop()");
        }
    }

    private void readOutput() {
        List<OutputItem> items;
        do {
            items = output.read(id, lastSeq, READ_LIMIT);
            for (OutputItem item : items) {
                conversation.add(new OutputTurn(item));
                lastSeq = item.seq();
            }
        } while (items.size() == READ_LIMIT && conversation.size() < 2 * KEEP);
        if (conversation.size() > KEEP) {
            int over = conversation.size() - KEEP;
            conversation.subList(0, over).clear();
            dropped += over;
        }
    }

    public List<OutputTurn> getConversation() {
        return conversation;
    }

    /** How many of the oldest items the page no longer shows. */
    public int getDropped() {
        return dropped;
    }

    public List<Attempt> getAttempts() {
        if (attemptList == null && isFound()) {
            attemptList = attempts.of(id);
        }
        return attemptList == null ? List.of() : attemptList;
    }

    /** The tasks this one waits for, with their status now; empty when it waits for none. */
    public List<dev.agentturbo.tasks.entity.Dependency> getDependencies() {
        if (dependencyList == null && isFound()) {
            dependencyList = dependencies.of(id);
        }
        return dependencyList == null ? List.of() : dependencyList;
    }

    public void retry() {
        if (!isFound()) {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "Task not found", "there is no task " + id);
            return;
        }
        actions.retry(List.of(id));
        load();
        quietPollsSinceEnd = 0;
        if (isLive()) {
            PrimeFaces.current().executeScript("PF('follow').start()");
        }
    }

    public Task getTask() {
        if (task == null && id != null) {
            load();
        }
        return task;
    }

    /** The task's git worktree as its last attempt left it; null when it names no repository or has not run. */
    public dev.agentturbo.tasks.boundary.WorktreeView getWorktree() {
        Task t = getTask();
        return t == null ? null : dev.agentturbo.tasks.boundary.WorktreeView.of(t.getWorktree());
    }

    public boolean isFound() {
        return getTask() != null;
    }

    /** True while something may still happen to the task: the page keeps following it. */
    public boolean isLive() {
        return isFound() && !task.getStatus().finished();
    }

    /** True when the page should poll: the task runs or waits, or ended so recently that output may still come. */
    public boolean isFollowing() {
        return isLive() || (isFound() && task.getCompletedAt() != null
                && task.getCompletedAt().toInstant().isAfter(java.time.Instant.now().minusSeconds(10)));
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
