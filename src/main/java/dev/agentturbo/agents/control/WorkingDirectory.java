package dev.agentturbo.agents.control;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a process-based executor runs a task: its git worktree when it names a repository; else the folder the task
 * names, checked again now that it runs (a symlink may have changed since the submission), else one of its own under
 * the node's tasks folder.
 */
final class WorkingDirectory {

    private WorkingDirectory() {
    }

    /** @throws IllegalArgumentException when the named folder is not, or no longer, one a task may work in */
    static Path of(AgentRun run, Confinement confinement) {
        if (run.worktree() != null) {
            return run.worktree();
        }
        String named = run.options().getString("workingDirectory", null);
        Path dir = named != null ? confinement.real(Path.of(named)) : run.workRoot().resolve("task-" + run.task().id());
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create working directory " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }
}
