package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.WorktreeSettings;
import dev.agentturbo.agents.entity.WorktreeSettings.Cleanup;
import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A git worktree of its own for each task that names a {@code repository}: made on the task's branch before its
 * agent starts (or found again for a retry), looked at when the attempt ends (the commit it ended on, the diff
 * summary against the base, uncommitted changes) and cleaned up by the task's policy when the task ends for good.
 * Uncommitted work is never deleted: {@code git worktree remove} is never forced. Every git command that changes a
 * repository's worktrees runs under its {@link RepositoryLock}.
 */
public final class GitWorktrees {

    private static final Logger LOG = Logger.getLogger(GitWorktrees.class.getName());
    private static final Pattern SHORTSTAT = Pattern.compile("(\\d+) files? changed(?:, (\\d+) insertions?\\(\\+\\))?"
            + "(?:, (\\d+) deletions?\\(-\\))?");

    /** A task's worktree, ready for its agent. */
    public record Prepared(long taskId, Path repository, Path path, String branch, String base, Cleanup cleanup) {
    }

    /** Why a task's worktree cannot be had: the outcome its attempt ends with (not here, or a failure). */
    public static final class Refused extends Exception {
        private final transient Outcome outcome;

        Refused(Outcome outcome) {
            super(outcome.error());
            this.outcome = outcome;
        }

        public Outcome outcome() {
            return outcome;
        }
    }

    private final WorktreeSettings settings;
    private final Confinement confinement;
    private final Git git;

    GitWorktrees(WorktreeSettings settings, Confinement confinement, Git git) {
        this.settings = settings;
        this.confinement = confinement;
        this.git = git;
    }

    /**
     * Makes or finds the task's worktree; empty when the task names no repository.
     *
     * @throws Refused when the repository is not on this host (not here: another node may have it) or the worktree
     *                 cannot be made (a bad base, a branch checked out elsewhere)
     */
    public Optional<Prepared> prepare(AgentRun run) throws Refused, InterruptedException {
        String named = run.options().getString("repository", null);
        if (named == null) {
            return Optional.empty();
        }
        long id = run.task().id();
        Path repository;
        try {
            repository = confinement.real(Path.of(named), "repository");
        } catch (IllegalArgumentException e) {
            throw new Refused(Outcome.notHere("repository '" + named + "' is not within this node's allowed roots: "
                    + e.getMessage()));
        }
        if (!Files.isDirectory(repository)) {
            throw new Refused(Outcome.notHere("repository '" + named + "' does not exist on this host"));
        }
        Git.Result common = git.run(repository, "rev-parse", "--path-format=absolute", "--git-common-dir");
        if (!common.ok()) {
            throw new Refused(Outcome.notHere("repository '" + named + "' is not a git repository on this host ("
                    + common.err() + ")"));
        }
        Git.Result top = git.run(repository, "rev-parse", "--show-toplevel");
        boolean isTop = top.ok() && realOrSelf(Path.of(top.line())).equals(repository);
        if (!isTop && !"true".equals(git.run(repository, "rev-parse", "--is-bare-repository").line())) {
            throw new Refused(Outcome.notHere("repository '" + named + "' is not the top folder of a git repository"
                    + " on this host" + (top.ok() ? " (it lies in " + top.line() + ")" : "")));
        }
        Path gitDir = Path.of(common.line());
        String branch = run.options().getString("branch", "agent-turbo/task-" + id);
        Cleanup cleanup = run.options().containsKey("cleanup") ? Cleanup.of(run.options().getString("cleanup"))
                : settings.cleanup();
        try (RepositoryLock ignored = RepositoryLock.take(gitDir)) {
            return Optional.of(make(run, repository, branch, cleanup));
        } catch (IOException e) {
            throw new Refused(Outcome.retryable("could not lock repository " + repository + ": " + e, null));
        } catch (Git.Failure e) {
            throw new Refused(Outcome.retryable("could not make the worktree of task " + id + ": " + e.getMessage(),
                    null));
        }
    }

    private Prepared make(AgentRun run, Path repository, String branch, Cleanup cleanup) throws Refused,
            InterruptedException, IOException {
        long id = run.task().id();
        String baseRef = run.options().getString("baseRef", null);
        Path path = settings.root().resolve("task-" + id);
        git.output(repository, "worktree", "prune");
        Optional<Path> checkedOut = checkedOutAt(repository, branch);
        if (checkedOut.isPresent()) {
            if (!checkedOut.get().getFileName().toString().equals("task-" + id)) {
                throw new Refused(Outcome.permanent("branch '" + branch + "' is checked out in " + checkedOut.get()
                        + "; name another branch (options.branch) or free that one"));
            }
            path = checkedOut.get(); // this task's, from an attempt before (on a node with another root, maybe)
        } else {
            if (Files.exists(path) && !isEmptyFolder(path)) {
                throw new Refused(Outcome.permanent("worktree folder " + path + " exists and is not a worktree of "
                        + repository + " on branch '" + branch + "'; move it away"));
            }
            Files.createDirectories(settings.root());
            Files.deleteIfExists(path);
            if (git.run(repository, "rev-parse", "--verify", "--quiet", "refs/heads/" + branch).ok()) {
                add(repository, "worktree", "add", path.toString(), branch);
            } else {
                add(repository, "worktree", "add", "-b", branch, path.toString(),
                        commit(repository, baseRef == null ? "HEAD" : baseRef));
            }
        }
        Path file = path.resolveSibling("task-" + id + ".properties");
        Properties remembered = remembered(file);
        String base = remembered.getProperty("base");
        // what is remembered must be of this repository and branch: a task id of another database (one recreated)
        // may have left a file of the same name
        if (base == null || !branch.equals(remembered.getProperty("branch"))
                || !repository.toString().equals(remembered.getProperty("repository"))
                || !git.run(path, "merge-base", "--is-ancestor", base, "HEAD").ok()) {
            // the first attempt: the base named, else where the branch stood before the agent began
            base = baseRef == null ? commit(path, "HEAD") : commit(repository, baseRef);
            remembered.setProperty("repository", repository.toString());
            remembered.setProperty("branch", branch);
            remembered.setProperty("base", base);
            try (Writer w = Files.newBufferedWriter(file)) {
                remembered.store(w, "the git worktree of task " + id);
            }
        }
        Path at = path;
        LOG.info(() -> "task=" + id + " worktree " + at + " on branch " + branch);
        return new Prepared(id, repository, path, branch, base, cleanup);
    }

    /** The commit a ref names in the folder's repository. */
    private String commit(Path dir, String ref) throws Refused, InterruptedException {
        Git.Result r = git.run(dir, "rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}");
        if (!r.ok()) {
            throw new Refused(Outcome.permanent("options.baseRef '" + ref + "' names no commit in repository "
                    + dir + (ref.equals("HEAD") ? " (it has no commit yet)" : "")));
        }
        return r.line();
    }

    private void add(Path repository, String... args) throws Refused, InterruptedException {
        Git.Result r = git.run(repository, args);
        if (!r.ok()) {
            throw new Refused(Outcome.permanent("could not make the worktree: git " + String.join(" ", args) + ": "
                    + r.err()));
        }
    }

    /** Where the branch is checked out, if anywhere (the repository's own folder included). */
    private Optional<Path> checkedOutAt(Path repository, String branch) throws InterruptedException {
        Path at = null;
        for (String line : git.output(repository, "worktree", "list", "--porcelain").split("\n")) {
            if (line.startsWith("worktree ")) {
                at = Path.of(line.substring("worktree ".length()));
            } else if (line.equals("branch refs/heads/" + branch) && at != null) {
                return Optional.of(at);
            }
        }
        return Optional.empty();
    }

    private static Properties remembered(Path file) throws IOException {
        Properties p = new Properties();
        if (Files.isReadable(file)) {
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            }
        }
        return p;
    }

    private static Path realOrSelf(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }

    private static boolean isEmptyFolder(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            return false;
        }
        try (var entries = Files.list(path)) {
            return entries.findAny().isEmpty();
        }
    }

    /**
     * Looks at the worktree now that the attempt ended and, when the task ended for good, cleans it up by its policy;
     * returns the outcome with what the worktree came to. Never fails: what could not be found out is said in
     * {@code note}.
     *
     * @param forGood whether the task ends with this attempt (else the worktree stays for the retry)
     */
    public Outcome finish(Prepared w, Outcome outcome, boolean forGood) throws InterruptedException {
        JsonObjectBuilder facts = Json.createObjectBuilder()
                .add("repository", w.repository().toString())
                .add("path", w.path().toString())
                .add("branch", w.branch())
                .add("base", w.base())
                .add("policy", w.cleanup().value());
        try (RepositoryLock ignored = RepositoryLock.take(gitDir(w))) {
            inspectAndClean(w, forGood, facts);
        } catch (IOException | Git.Failure e) {
            LOG.log(Level.WARNING, "task=" + w.taskId() + " could not look at or clean up worktree " + w.path(), e);
            facts.add("note", "could not look at or clean up the worktree: " + e.getMessage());
        }
        JsonObject json = facts.build();
        return outcome.withWorktree(json.toString());
    }

    private void inspectAndClean(Prepared w, boolean forGood, JsonObjectBuilder facts) throws InterruptedException {
        if (!Files.isDirectory(w.path())) {
            String head = git.output(w.repository(), "rev-parse", "refs/heads/" + w.branch()).strip();
            diff(w, head, facts);
            facts.add("uncommitted", false).add("cleanup", "removed")
                    .add("note", "the worktree was gone when the attempt ended");
            return;
        }
        String head = git.output(w.path(), "rev-parse", "HEAD").strip();
        String status = git.output(w.path(), "status", "--porcelain");
        boolean dirty = !status.isBlank();
        facts.add("uncommitted", dirty);
        String cleanup = "kept";
        String note = null;
        if (!forGood) {
            note = "kept for the task's next attempt";
        } else if (w.cleanup() == Cleanup.REMOVE_WHEN_CLEAN && dirty) {
            note = "kept: the agent left uncommitted changes (" + status.strip().split("\n").length + " paths)";
        } else if (w.cleanup() == Cleanup.COMMIT_AND_REMOVE && dirty) {
            Optional<String> committed = commitAll(w);
            if (committed.isPresent()) {
                note = "kept: could not commit the uncommitted changes: " + committed.get();
            } else {
                head = git.output(w.path(), "rev-parse", "HEAD").strip();
                cleanup = remove(w) ? "committed-and-removed" : "committed";
            }
        } else if (w.cleanup() != Cleanup.KEEP) {
            cleanup = remove(w) ? "removed" : "kept";
        }
        if (cleanup.equals("kept") && note == null && w.cleanup() != Cleanup.KEEP) {
            note = "kept: git worktree remove refused";
        }
        facts.add("head", head);
        diff(w, head, facts);
        facts.add("cleanup", cleanup);
        if (note != null) {
            facts.add("note", note);
        }
    }

    /** Commits everything in the worktree; the problem when git refused, else empty. */
    private Optional<String> commitAll(Prepared w) throws InterruptedException {
        Git.Result add = git.run(w.path(), "add", "--all");
        if (!add.ok()) {
            return Optional.of(add.err());
        }
        Map<String, String> identity = new java.util.HashMap<>();
        if (!git.run(w.path(), "config", "user.name").ok()) {
            identity.put("GIT_AUTHOR_NAME", "Agent Turbo");
            identity.put("GIT_COMMITTER_NAME", "Agent Turbo");
        }
        if (!git.run(w.path(), "config", "user.email").ok()) {
            identity.put("GIT_AUTHOR_EMAIL", "agent-turbo@localhost");
            identity.put("GIT_COMMITTER_EMAIL", "agent-turbo@localhost");
        }
        // hooks could refuse the commit and leave the work where a removal would lose it: this commit only saves it
        Git.Result commit = git.run(w.path(), identity, "commit", "--no-verify", "--quiet", "-m",
                settings.commitMessage(w.taskId()));
        return commit.ok() ? Optional.empty() : Optional.of(commit.err().isBlank() ? commit.out().strip() : commit.err());
    }

    /** {@code git worktree remove}, never forced: git itself refuses a worktree with changes. */
    private boolean remove(Prepared w) throws InterruptedException {
        Git.Result r = git.run(w.repository(), "worktree", "remove", w.path().toString());
        if (!r.ok()) {
            LOG.warning(() -> "task=" + w.taskId() + " worktree " + w.path() + " kept: " + r.err());
        }
        return r.ok();
    }

    private void diff(Prepared w, String head, JsonObjectBuilder facts) throws InterruptedException {
        String stat = git.output(w.repository(), "diff", "--shortstat", w.base(), head).strip();
        Matcher m = SHORTSTAT.matcher(stat);
        boolean any = m.find();
        facts.add("filesChanged", any ? Integer.parseInt(m.group(1)) : 0)
                .add("insertions", any && m.group(2) != null ? Integer.parseInt(m.group(2)) : 0)
                .add("deletions", any && m.group(3) != null ? Integer.parseInt(m.group(3)) : 0);
    }

    private Path gitDir(Prepared w) throws InterruptedException {
        return Path.of(git.output(w.repository(), "rev-parse", "--path-format=absolute", "--git-common-dir").strip());
    }
}
