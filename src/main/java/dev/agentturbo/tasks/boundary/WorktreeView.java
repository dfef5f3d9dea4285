package dev.agentturbo.tasks.boundary;

import dev.agentturbo.platform.JsonBodies;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import jakarta.json.bind.annotation.JsonbNillable;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What the git worktree of a task that names a repository came to, as its last attempt left it. */
@JsonbNillable
@JsonbPropertyOrder({"repository", "path", "branch", "base", "head", "filesChanged", "insertions", "deletions",
        "uncommitted", "policy", "cleanup", "note"})
@Schema(name = "Worktree", nullable = true, description = "The git worktree of a task that names a repository, as its"
        + " last attempt left it; null for other tasks", requiredProperties = {
        "repository", "path", "branch", "base"})
public record WorktreeView(
        @Schema(description = "the repository on the node's host") String repository,
        @Schema(description = "the worktree's folder on that host (gone once removed)") String path,
        String branch,
        @Schema(description = "the commit the branch started from (baseRef, or the repository's HEAD)") String base,
        @Schema(nullable = true, description = "the commit the agent ended on") String head,
        @Schema(nullable = true, description = "files changed from base to head") Integer filesChanged,
        @Schema(nullable = true, description = "lines added from base to head") Integer insertions,
        @Schema(nullable = true, description = "lines removed from base to head") Integer deletions,
        @Schema(nullable = true, description = "whether the agent left changes it did not commit") Boolean uncommitted,
        @Schema(nullable = true, enumeration = {"keep", "remove-when-clean", "commit-and-remove"},
                description = "the task's cleanup policy") String policy,
        @Schema(nullable = true, enumeration = {"kept", "removed", "committed", "committed-and-removed"},
                description = "what became of the worktree; the branch always stays") String cleanup,
        @Schema(nullable = true, description = "why the worktree was kept, or what could not be found out") String note) {

    /** The worktree column's JSON as the API shows it; null for a task without one. */
    public static WorktreeView of(String json) {
        if (json == null) {
            return null;
        }
        JsonObject o = JsonBodies.parse(json).asJsonObject();
        return new WorktreeView(o.getString("repository", null), o.getString("path", null),
                o.getString("branch", null), o.getString("base", null), o.getString("head", null),
                integer(o, "filesChanged"), integer(o, "insertions"), integer(o, "deletions"),
                o.get("uncommitted") == null || o.isNull("uncommitted") ? null : o.getBoolean("uncommitted"),
                o.getString("policy", null), o.getString("cleanup", null), o.getString("note", null));
    }

    private static Integer integer(JsonObject o, String key) {
        JsonValue v = o.get(key);
        return v instanceof JsonNumber n ? n.intValue() : null;
    }

    /** "3 files changed, +10 −2", for people. */
    public String summary() {
        return filesChanged == null ? "" : filesChanged + (filesChanged == 1 ? " file" : " files") + " changed, +"
                + insertions + " −" + deletions;
    }
}
