package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.OutputLimits;
import dev.agentturbo.agents.entity.Sandbox;
import dev.agentturbo.agents.entity.WorktreeSettings;
import dev.agentturbo.agents.entity.WorktreeSettings.Cleanup;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Worktrees of tasks in a real git repository made in a temporary folder, with the real git program. */
class GitWorktreesIT {

    @TempDir
    Path dir;
    Path repo;
    Path root;
    Confinement confinement;
    String first;

    @BeforeEach
    void repository() throws Exception {
        repo = dir.resolve("repos/app");
        Files.createDirectories(repo);
        root = dir.resolve("work/worktrees");
        git(repo, "init", "-q", "-b", "main");
        git(repo, "config", "user.name", "Test");
        git(repo, "config", "user.email", "test@example.com");
        Files.writeString(repo.resolve("README"), "one\ntwo\nthree\n");
        git(repo, "add", "README");
        git(repo, "commit", "-q", "-m", "first");
        first = git(repo, "rev-parse", "HEAD");
        Sandbox sandbox = new Sandbox(Sandbox.DEFAULT_ENVIRONMENT, List.of(dir.resolve("repos")), dir.resolve("work"),
                java.util.Set.of("default"), java.util.Set.of());
        confinement = new Confinement(sandbox);
    }

    @Test
    void worktreeIsMadeOnTheTasksBranchFromTheBaseAndTheDiffSummaryIsRight() throws Exception {
        GitWorktrees worktrees = worktrees(Cleanup.KEEP);
        GitWorktrees.Prepared w = worktrees.prepare(run(1, 1, 3, Map.of())).orElseThrow();
        assertEquals(root.resolve("task-1"), w.path());
        assertEquals("agent-turbo/task-1", w.branch());
        assertEquals(first, w.base());
        assertEquals("agent-turbo/task-1", git(w.path(), "symbolic-ref", "--short", "HEAD"));
        assertEquals(first, git(w.path(), "rev-parse", "HEAD"));

        Files.writeString(w.path().resolve("new.txt"), "a\nb\nc\n");
        Files.writeString(w.path().resolve("README"), "one\n2\nthree\n");
        git(w.path(), "add", "--all");
        git(w.path(), "commit", "-q", "-m", "agent's work");
        String head = git(w.path(), "rev-parse", "HEAD");

        JsonObject facts = facts(worktrees.finish(w, Outcome.succeeded("done", 0), true));
        assertEquals(head, facts.getString("head"));
        assertEquals(first, facts.getString("base"));
        assertEquals(2, facts.getInt("filesChanged"));
        assertEquals(4, facts.getInt("insertions"));
        assertEquals(1, facts.getInt("deletions"));
        assertFalse(facts.getBoolean("uncommitted"));
        assertEquals("kept", facts.getString("cleanup"));
        assertEquals("keep", facts.getString("policy"));
        assertTrue(Files.isDirectory(w.path()));
        assertEquals("one\ntwo\nthree\n", Files.readString(repo.resolve("README")), "the repository's own checkout is untouched");
    }

    @Test
    void removeWhenCleanRemovesACleanWorktreeAndKeepsTheBranch() throws Exception {
        GitWorktrees worktrees = worktrees(Cleanup.REMOVE_WHEN_CLEAN);
        GitWorktrees.Prepared w = worktrees.prepare(run(2, 1, 1, Map.of())).orElseThrow();
        commitFile(w.path(), "clean.txt", "x\n");
        JsonObject facts = facts(worktrees.finish(w, Outcome.succeeded("done", 0), true));
        assertEquals("removed", facts.getString("cleanup"));
        assertFalse(Files.exists(w.path()));
        assertEquals(facts.getString("head"), git(repo, "rev-parse", "refs/heads/agent-turbo/task-2"));
        assertEquals(1, facts.getInt("filesChanged"));
    }

    @Test
    void removeWhenCleanKeepsADirtyWorktreeAndSaysSo() throws Exception {
        GitWorktrees worktrees = worktrees(Cleanup.REMOVE_WHEN_CLEAN);
        GitWorktrees.Prepared w = worktrees.prepare(run(3, 1, 1, Map.of())).orElseThrow();
        commitFile(w.path(), "done.txt", "x\n");
        Files.writeString(w.path().resolve("half-done.txt"), "not committed\n");
        JsonObject facts = facts(worktrees.finish(w, Outcome.retryable("crashed", 1), true));
        assertEquals("kept", facts.getString("cleanup"));
        assertTrue(facts.getBoolean("uncommitted"));
        assertTrue(facts.getString("note").contains("uncommitted"), facts.toString());
        assertEquals("not committed\n", Files.readString(w.path().resolve("half-done.txt")));
    }

    @Test
    void commitAndRemoveCommitsWhatWasLeftThenRemoves() throws Exception {
        GitWorktrees worktrees = worktrees(Cleanup.KEEP);
        GitWorktrees.Prepared w = worktrees.prepare(run(4, 1, 1, Map.of("cleanup", "commit-and-remove")))
                .orElseThrow();
        assertEquals(Cleanup.COMMIT_AND_REMOVE, w.cleanup(), "the task's policy wins over the configured one");
        Files.writeString(w.path().resolve("left.txt"), "l1\nl2\n");
        JsonObject facts = facts(worktrees.finish(w, Outcome.permanent("gave up"), true));
        assertEquals("committed-and-removed", facts.getString("cleanup"));
        assertTrue(facts.getBoolean("uncommitted"));
        assertFalse(Files.exists(w.path()));
        String tip = git(repo, "rev-parse", "refs/heads/agent-turbo/task-4");
        assertEquals(tip, facts.getString("head"));
        assertEquals("Agent Turbo task 4: uncommitted work", git(repo, "log", "-1", "--format=%s", tip));
        assertEquals("l1\nl2", git(repo, "show", tip + ":left.txt"));
        assertEquals(2, facts.getInt("insertions"));
    }

    @Test
    void aRetryReusesTheWorktreeAndTheBranch() throws Exception {
        GitWorktrees worktrees = worktrees(Cleanup.REMOVE_WHEN_CLEAN);
        GitWorktrees.Prepared w = worktrees.prepare(run(5, 1, 3, Map.of())).orElseThrow();
        commitFile(w.path(), "first-try.txt", "1\n");
        Files.writeString(w.path().resolve("scratch.txt"), "uncommitted\n");
        JsonObject facts = facts(worktrees.finish(w, Outcome.retryable("crashed", 1), false));
        assertEquals("kept", facts.getString("cleanup"), "a retryable failure keeps the worktree for the retry");
        git(repo, "commit", "-q", "--allow-empty", "-m", "the repository moved on");

        GitWorktrees.Prepared again = worktrees.prepare(run(5, 2, 3, Map.of())).orElseThrow();
        assertEquals(w.path(), again.path());
        assertEquals(w.branch(), again.branch());
        assertEquals(first, again.base(), "the base is remembered, not the repository's HEAD now");
        assertEquals("uncommitted\n", Files.readString(again.path().resolve("scratch.txt")));
        assertTrue(Files.exists(again.path().resolve("first-try.txt")));
    }

    @Test
    void aRemovedWorktreeIsMadeAgainFromItsBranch() throws Exception {
        GitWorktrees worktrees = worktrees(Cleanup.REMOVE_WHEN_CLEAN);
        GitWorktrees.Prepared w = worktrees.prepare(run(6, 1, 1, Map.of())).orElseThrow();
        commitFile(w.path(), "kept-on-branch.txt", "k\n");
        worktrees.finish(w, Outcome.succeeded("done", 0), true);
        assertFalse(Files.exists(w.path()));
        git(repo, "commit", "-q", "--allow-empty", "-m", "the repository moved on");

        GitWorktrees.Prepared again = worktrees.prepare(run(6, 2, 2, Map.of())).orElseThrow();
        assertEquals(w.path(), again.path());
        assertEquals(first, again.base());
        assertEquals("k\n", Files.readString(again.path().resolve("kept-on-branch.txt")));
        JsonObject facts = facts(worktrees.finish(again, Outcome.succeeded("done", 0), true));
        assertEquals(1, facts.getInt("filesChanged"));
    }

    @Test
    void whatAnotherRepositoryLeftUnderTheSameTaskIdIsNotTakenForTheBase() throws Exception {
        Files.createDirectories(root);
        Files.writeString(root.resolve("task-11.properties"), "repository=" + repo + "\nbranch=agent-turbo/task-11\n"
                + "base=0123456789012345678901234567890123456789\n");
        GitWorktrees.Prepared w = worktrees(Cleanup.KEEP).prepare(run(11, 1, 1, Map.of())).orElseThrow();
        assertEquals(first, w.base());
    }

    @Test
    void branchAndBaseRefAreTheTasksToName() throws Exception {
        Files.writeString(repo.resolve("README"), "changed on main\n");
        git(repo, "commit", "-q", "-am", "second");
        GitWorktrees worktrees = worktrees(Cleanup.KEEP);
        GitWorktrees.Prepared w = worktrees.prepare(run(7, 1, 1, Map.of("branch", "feature/x", "baseRef", first)))
                .orElseThrow();
        assertEquals("feature/x", git(w.path(), "symbolic-ref", "--short", "HEAD"));
        assertEquals(first, w.base());
        assertEquals("one\ntwo\nthree\n", Files.readString(w.path().resolve("README")));

        GitWorktrees.Refused bad = assertThrows(GitWorktrees.Refused.class,
                () -> worktrees.prepare(run(8, 1, 1, Map.of("baseRef", "no-such-ref"))));
        assertEquals(Outcome.Kind.PERMANENT, bad.outcome().kind());
        assertTrue(bad.outcome().error().contains("no-such-ref"), bad.outcome().error());

        GitWorktrees.Refused taken = assertThrows(GitWorktrees.Refused.class,
                () -> worktrees.prepare(run(9, 1, 1, Map.of("branch", "main"))));
        assertEquals(Outcome.Kind.PERMANENT, taken.outcome().kind());
        assertTrue(taken.outcome().error().contains("checked out"), taken.outcome().error());
    }

    @Test
    void aRepositoryThatIsNotOnThisHostIsNotHere() throws Exception {
        GitWorktrees worktrees = worktrees(Cleanup.KEEP);
        Files.createDirectories(dir.resolve("repos/plain"));
        Files.createDirectories(dir.resolve("elsewhere/app"));
        for (String missing : List.of(dir.resolve("repos/missing").toString(), dir.resolve("repos/plain").toString(),
                dir.resolve("elsewhere/app").toString())) {
            GitWorktrees.Refused refused = assertThrows(GitWorktrees.Refused.class,
                    () -> worktrees.prepare(run(10, 1, 1, Map.of("repository", missing))));
            assertEquals(Outcome.Kind.NOT_HERE, refused.outcome().kind(), missing);
            assertTrue(refused.outcome().error().contains(missing), refused.outcome().error());
        }
    }

    @Test
    void manyWorktreesMadeAndRemovedAtOnceOnOneRepository() throws Exception {
        // two roots: two nodes of one host, each with worktrees of its own
        GitWorktrees a = worktrees(Cleanup.COMMIT_AND_REMOVE);
        GitWorktrees b = new GitWorktrees(new WorktreeSettings(dir.resolve("other/worktrees"),
                Cleanup.COMMIT_AND_REMOVE, WorktreeSettings.DEFAULT_COMMIT_MESSAGE), confinement, new Git());
        int tasks = 16;
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<JsonObject>> done = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                long id = 100 + i;
                GitWorktrees worktrees = i % 2 == 0 ? a : b;
                done.add(pool.submit(() -> {
                    GitWorktrees.Prepared w = worktrees.prepare(run(id, 1, 1, Map.of())).orElseThrow();
                    commitFile(w.path(), "file-" + id + ".txt", id + "\n");
                    Files.writeString(w.path().resolve("left-" + id + ".txt"), "left\n");
                    return facts(worktrees.finish(w, Outcome.succeeded("ok", 0), true));
                }));
            }
            for (int i = 0; i < tasks; i++) {
                JsonObject facts = done.get(i).get();
                assertEquals("committed-and-removed", facts.getString("cleanup"), facts.toString());
                assertFalse(facts.containsKey("note"), facts.toString());
                assertEquals(2, facts.getInt("filesChanged"));
                long id = 100 + i;
                assertEquals(List.of("README", "file-" + id + ".txt", "left-" + id + ".txt"),
                        List.of(git(repo, "ls-tree", "--name-only", "agent-turbo/task-" + id).split("\n")));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, git(repo, "worktree", "list").split("\n").length, "only the repository's own is left");
    }

    @Test
    void optionsAreCheckedWithWordsAUserCanActOn() {
        AllowedCommand command = new AllowedCommand(List.of("/bin/true"), confinement, OutputLimits.DEFAULTS);
        String repository = repo.toString();
        assertEquals(List.of(), command.check(options(Map.of("command", "/bin/true", "repository", repository,
                "branch", "agent/fix-1", "baseRef", "main", "cleanup", "remove-when-clean")), false));
        List<String> both = command.check(options(Map.of("command", "/bin/true", "repository", repository,
                "workingDirectory", repository)), false);
        assertTrue(both.stream().anyMatch(p -> p.contains("exclude each other")), both.toString());
        for (String bad : List.of("a..b", "x.lock", "-x", "a b", "a~1", "/a", "a/", "a//b", ".hidden", "a@{1}", "end.",
                "HEAD")) {
            List<String> problems = command.check(options(Map.of("command", "/bin/true", "repository", repository,
                    "branch", bad)), false);
            assertTrue(problems.stream().anyMatch(p -> p.contains("not a valid git branch name")), bad + ": " + problems);
        }
        List<String> alone = command.check(options(Map.of("command", "/bin/true", "branch", "x")), false);
        assertTrue(alone.stream().anyMatch(p -> p.contains("options.branch needs options.repository")), alone.toString());
        List<String> cleanup = command.check(options(Map.of("command", "/bin/true", "repository", repository,
                "cleanup", "delete")), false);
        assertTrue(cleanup.stream().anyMatch(p -> p.contains("options.cleanup must be one of")), cleanup.toString());
        List<String> outside = command.check(options(Map.of("command", "/bin/true", "repository",
                dir.resolve("elsewhere").toString())), false);
        assertTrue(outside.stream().anyMatch(p -> p.contains("options.repository") && p.contains("must lie in")),
                outside.toString());
    }

    private GitWorktrees worktrees(Cleanup cleanup) {
        return new GitWorktrees(new WorktreeSettings(root, cleanup, WorktreeSettings.DEFAULT_COMMIT_MESSAGE),
                confinement, new Git("git", Duration.ofSeconds(60)));
    }

    private AgentRun run(long id, int attempt, int maxAttempts, Map<String, String> options) {
        Map<String, String> all = new java.util.HashMap<>(Map.of("command", "/bin/true", "repository", repo.toString()));
        all.putAll(options);
        ClaimedTask task = new ClaimedTask(id, attempt, maxAttempts, id * 10 + attempt, "test-node", 0, "command", "p",
                options(all).toString(), 60, Duration.ZERO);
        return AgentRun.of(task, dir.resolve("slot"), dir.resolve("work/tasks"));
    }

    private static JsonObject options(Map<String, String> values) {
        var b = Json.createObjectBuilder();
        values.forEach(b::add);
        return b.build();
    }

    private static JsonObject facts(Outcome outcome) {
        return Json.createReader(new StringReader(outcome.worktree())).readObject();
    }

    private static void commitFile(Path worktree, String name, String text) throws Exception {
        Files.writeString(worktree.resolve(name), text);
        git(worktree, "add", name);
        git(worktree, "commit", "-q", "-m", "add " + name);
    }

    static String git(Path in, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("git", "-C", in.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + out);
        }
        return out;
    }
}
