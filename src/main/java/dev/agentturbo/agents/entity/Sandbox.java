package dev.agentturbo.agents.entity;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * What an agent may reach on this node (the agentturbo.agents.* and agentturbo.claude.*-permission-modes keys).
 *
 * @param environment the variables of the node an agent gets: names, or prefixes ending in {@code *}
 * @param allowedRoots the folders a task's working directory must lie in (after its symlinks are resolved)
 * @param workRoot the node's work dir: inside it, only its {@code tasks} folder is a task's to work in (the slots'
 *                 config folders are there too)
 * @param permissionModes the {@code permissionMode} values any submitter may ask for
 * @param privilegedPermissionModes the ones only an operator may ask for
 */
public record Sandbox(List<String> environment, List<Path> allowedRoots, Path workRoot, Set<String> permissionModes,
                      Set<String> privilegedPermissionModes) {

    /** The variables an agent gets unless configured otherwise. */
    public static final List<String> DEFAULT_ENVIRONMENT = List.of("PATH", "HOME", "LANG", "LC_*", "TZ", "ANTHROPIC_*",
            "CLAUDE_CODE_*", "CLAUDE_CONFIG_DIR");

    public Sandbox {
        environment = List.copyOf(environment);
        allowedRoots = allowedRoots.isEmpty() ? List.of(workRoot) : List.copyOf(allowedRoots);
        permissionModes = Set.copyOf(permissionModes);
        privilegedPermissionModes = Set.copyOf(privilegedPermissionModes);
    }

    /** The defaults: the listed environment, tasks under the work dir, every permission mode but bypassPermissions. */
    public static Sandbox of(Path workRoot) {
        return new Sandbox(DEFAULT_ENVIRONMENT, List.of(), workRoot, Set.of("default", "acceptEdits", "plan", "dontAsk"),
                Set.of("bypassPermissions"));
    }
}
