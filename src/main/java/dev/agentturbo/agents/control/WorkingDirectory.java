package dev.agentturbo.agents.control;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where a process-based executor runs a task: the folder the task names, else one of its own under the work root. */
final class WorkingDirectory {

    private WorkingDirectory() {
    }

    static Path of(AgentRun run) {
        String named = run.options().getString("workingDirectory", null);
        Path dir = named != null ? Path.of(named) : run.workRoot().resolve("task-" + run.task().id());
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create working directory " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }
}
