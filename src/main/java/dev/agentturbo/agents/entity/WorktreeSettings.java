package dev.agentturbo.agents.entity;

import java.nio.file.Path;
import java.util.List;

/**
 * Where and how tasks that name a {@code repository} get their git worktree (the agentturbo.worktrees.* keys).
 *
 * @param root          the folder the worktrees are made in, one {@code task-<id>} folder a task
 * @param cleanup       what happens to a worktree when its task ends for good, unless the task says otherwise
 * @param commitMessage the message of the commit {@code commit-and-remove} makes; {@code {id}} becomes the task's id
 */
public record WorktreeSettings(Path root, Cleanup cleanup, String commitMessage) {

    public static final String DEFAULT_COMMIT_MESSAGE = "Agent Turbo task {id}: uncommitted work";

    /** What becomes of a task's worktree once the task ended for good. Its branch always stays. */
    public enum Cleanup {
        /** The worktree stays as the agent left it. */
        KEEP("keep"),
        /** Removed when {@code git status --porcelain} shows nothing; else kept, and the task says so. */
        REMOVE_WHEN_CLEAN("remove-when-clean"),
        /** What is not committed is committed on the branch, then the worktree is removed. */
        COMMIT_AND_REMOVE("commit-and-remove");

        private final String value;

        Cleanup(String value) {
            this.value = value;
        }

        public String value() {
            return value;
        }

        /** The policies' names, as tasks and the configuration spell them. */
        public static List<String> names() {
            return java.util.Arrays.stream(values()).map(Cleanup::value).toList();
        }

        /** @throws IllegalArgumentException naming the values there are */
        public static Cleanup of(String value) {
            for (Cleanup c : values()) {
                if (c.value.equals(value)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("'" + value + "' is no cleanup policy; use one of "
                    + String.join(", ", names()));
        }
    }

    /** Worktrees under the node's work dir, kept, with the default commit message. */
    public static WorktreeSettings of(Path workRoot) {
        return new WorktreeSettings(workRoot.resolve("worktrees"), Cleanup.KEEP, DEFAULT_COMMIT_MESSAGE);
    }

    /** The commit message for a task's uncommitted work. */
    public String commitMessage(long taskId) {
        return commitMessage.replace("{id}", Long.toString(taskId));
    }
}
