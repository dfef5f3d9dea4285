package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.AgentOutput;
import dev.agentturbo.agents.entity.LimitSignal;
import dev.agentturbo.tasks.entity.ClaimedTask;
import jakarta.json.spi.JsonProvider;
import jakarta.json.JsonObject;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One attempt of one task as an executor sees it, and the handle its supervising slot uses to stop it.
 *
 * @param slotHome a folder that belongs to this slot alone (the {@code claude} program's config lives there)
 * @param workRoot where tasks without a working directory of their own get one
 * @param worktree the task's git worktree, where its agent works; null when the task names no repository
 */
public record AgentRun(ClaimedTask task, JsonObject options, Path slotHome, Path workRoot, AgentOutput output,
                       LimitSignal limits, AtomicReference<Runnable> stop, AtomicBoolean aborted, Path worktree) {

    /** Looked up once: JsonProvider.provider() searches the class path on every call. */
    private static final JsonProvider JSON = JsonProvider.provider();

    public static AgentRun of(ClaimedTask task, Path slotHome, Path workRoot) {
        return of(task, slotHome, workRoot, AgentOutput.NONE);
    }

    /** @param output where the agent's output goes as it arrives */
    public static AgentRun of(ClaimedTask task, Path slotHome, Path workRoot, AgentOutput output) {
        return of(task, slotHome, workRoot, output, LimitSignal.NONE);
    }

    /**
     * @param output where the agent's output goes as it arrives
     * @param limits whom the agent tells, while it runs, that the API limits it
     */
    public static AgentRun of(ClaimedTask task, Path slotHome, Path workRoot, AgentOutput output, LimitSignal limits) {
        JsonObject options;
        try (var reader = JSON.createReader(new StringReader(task.optionsJson() == null ? "{}" : task.optionsJson()))) {
            options = reader.readObject();
        }
        return new AgentRun(task, options, slotHome, workRoot, output, limits, new AtomicReference<>(),
                new AtomicBoolean(), null);
    }

    /** The same run, its agent working in the task's git worktree. */
    public AgentRun in(Path taskWorktree) {
        return new AgentRun(task, options, slotHome, workRoot, output, limits, stop, aborted, taskWorktree);
    }

    /** Remembers the process this attempt started, so that {@link #abort()} can kill it. */
    public void attach(AgentProcess started) {
        onAbort(started::killTree);
    }

    /**
     * Remembers how to stop what this attempt started (a process tree, an API request); run at once when the
     * attempt was aborted already. It may run twice when an abort races it, so it must be safe to repeat.
     */
    public void onAbort(Runnable stopIt) {
        stop.set(stopIt);
        if (aborted.get()) {
            stopIt.run();
        }
    }

    /**
     * Stops the attempt: kills its process and all of the process's children, or ends its API request. Safe to
     * call more than once.
     */
    public void abort() {
        aborted.set(true);
        Runnable s = stop.get();
        if (s != null) {
            s.run();
        }
    }

    public boolean isAborted() {
        return aborted.get();
    }
}
