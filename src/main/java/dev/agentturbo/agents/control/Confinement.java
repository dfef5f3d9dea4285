package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.Sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Keeps agents inside the node's sandbox: a task's working directory must really lie (symlinks resolved) in one
 * of the allowed roots and, inside the node's work dir, in its tasks folder; an agent gets only the allowed
 * variables of the node's environment.
 */
final class Confinement {

    private final Sandbox sandbox;

    Confinement(Sandbox sandbox) {
        this.sandbox = sandbox;
    }

    /** Why this working directory is not allowed, or empty when it is. */
    Optional<String> refuse(String requested) {
        return refuse(requested, "workingDirectory");
    }

    /** Why this folder is not allowed as the option named (a working directory, a repository), or empty. */
    Optional<String> refuse(String requested, String option) {
        try {
            real(Path.of(requested), option);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * Where a task asking for this working directory really works.
     *
     * @throws IllegalArgumentException saying why it may not
     */
    Path real(Path requested) {
        return real(requested, "workingDirectory");
    }

    /**
     * Where a task asking for this folder as the option named really works.
     *
     * @throws IllegalArgumentException saying why it may not
     */
    Path real(Path requested, String option) {
        if (!requested.isAbsolute()) {
            throw new IllegalArgumentException("options." + option + " must be an absolute path, not '" + requested + "'");
        }
        Path normalized = requested.normalize();
        // the longest part that exists, with its symlinks resolved; the rest is created later, below it
        Path existing = normalized;
        Path rest = normalized.getRoot().relativize(normalized.getRoot());
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            rest = existing.getFileName().resolve(rest);
            existing = existing.getParent();
        }
        Path real;
        try {
            real = (existing == null ? normalized.getRoot() : existing.toRealPath()).resolve(rest).normalize();
        } catch (IOException e) {
            throw new IllegalArgumentException("options." + option + " '" + requested + "' cannot be resolved ("
                    + e.getMessage() + "); it must lie in " + roots());
        }
        Path work = realOrSelf(sandbox.workRoot());
        if (real.startsWith(work) && !real.startsWith(work.resolve("tasks"))) {
            throw new IllegalArgumentException("options." + option + " '" + requested + "' lies in the node's work dir"
                    + " but not in its tasks folder " + work.resolve("tasks") + " (the slots' own folders are there)");
        }
        if (sandbox.allowedRoots().stream().map(Confinement::realOrSelf).noneMatch(real::startsWith)) {
            throw new IllegalArgumentException("options." + option + " '" + requested + "'"
                    + (real.equals(normalized) ? "" : " (really " + real + ")") + " must lie in " + roots()
                    + " (agentturbo.agents.allowed-roots)");
        }
        return real;
    }

    /** The node's variables an agent may see, plus the executor's own (which win). */
    Map<String, String> environment(Map<String, String> node, Map<String, String> own) {
        Map<String, String> env = new TreeMap<>();
        node.forEach((name, value) -> {
            if (allowed(name)) {
                env.put(name, value);
            }
        });
        env.putAll(own);
        return env;
    }

    boolean allowed(String variable) {
        for (String pattern : sandbox.environment()) {
            if (pattern.endsWith("*") ? variable.startsWith(pattern.substring(0, pattern.length() - 1))
                    : variable.equals(pattern)) {
                return true;
            }
        }
        return false;
    }

    private String roots() {
        List<Path> roots = sandbox.allowedRoots();
        return roots.stream().map(Path::toString).collect(Collectors.joining(", "));
    }

    private static Path realOrSelf(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }
}
