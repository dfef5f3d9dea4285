package dev.agentturbo.fleet;

import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.StringReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tasks that name a git repository, on real nodes: six agents (a {@code command} program that edits and commits)
 * work on one repository at once, each in a worktree and on a branch of its own, and none sees another's changes;
 * the diff summary in the API is right. A second node whose allowed roots do not hold the repository gives such a
 * task back for the node that has it, its attempt not counted; a repository no node has fails the task, naming it
 * and the nodes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorktreeFleetIT {

    static final int AGENTS = 6;

    static Path dir;
    static Path repo;
    static TestDatabase db;
    static MicroNode nodeA;
    static MicroNode nodeB;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "worktree-fleet-");
        repo = dir.resolve("a/repo");
        Files.createDirectories(repo);
        Files.createDirectories(dir.resolve("b"));
        git(repo, "init", "-q", "-b", "main");
        git(repo, "config", "user.name", "Test");
        git(repo, "config", "user.email", "test@example.com");
        Files.writeString(repo.resolve("README"), "the repository\n");
        git(repo, "add", "README");
        git(repo, "commit", "-q", "-m", "first");
        // an agent: waits so that all run at once, says what it sees, writes a file of its own and commits it
        Path agent = dir.resolve("agent.sh");
        Files.writeString(agent, """
                #!/bin/sh
                set -e
                sleep 3
                echo "seen: $(ls | tr '\\n' ' ')"
                echo "the work of $1" > "own-$1.txt"
                git add "own-$1.txt"
                git commit -q -m "work of $1"
                """);
        Files.setPosixFilePermissions(agent, PosixFilePermissions.fromString("rwxr-xr-x"));

        db = TestDatabase.create("worktree_fleet");
        Map<String, String> a = new HashMap<>(MicroNode.databaseEnv(db));
        a.put("AGENTTURBO_COMMAND_ALLOWED", agent.toString());
        a.put("AGENTTURBO_AGENTS_ALLOWED_ROOTS", dir.resolve("a").toString());
        a.put("AGENTTURBO_WORKTREES_CLEANUP", "remove-when-clean");
        a.put("AGENTTURBO_WORKER_SLOTS", Integer.toString(AGENTS));
        nodeA = MicroNode.start("worktree-a", a);
        Map<String, String> b = new HashMap<>(a);
        b.put("AGENTTURBO_AGENTS_ALLOWED_ROOTS", dir.resolve("b").toString());
        b.put("AGENTTURBO_WORKER_SLOTS", "2");
        nodeB = MicroNode.start("worktree-b", b);
        // the first test is about one node: the other claims nothing until the second
        assertEquals(202, nodeA.post("/api/workers/worktree-b/drain", "").statusCode());
        await().atMost(Duration.ofSeconds(10)).until(() -> "draining".equals(state("worktree-b")));
    }

    @AfterAll
    static void stop() {
        Closing.all(nodeB, nodeA, db);
    }

    @Test
    @Order(1)
    void sixAgentsOnOneRepositoryEachWorkInAWorktreeAndOnABranchOfTheirOwn() throws Exception {
        String base = git(repo, "rev-parse", "HEAD");
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < AGENTS; i++) {
            ids.add(submit("{\"executor\": \"command\", \"prompt\": \"edit\", \"options\": {\"command\": \""
                    + dir.resolve("agent.sh") + "\", \"args\": [\"" + i + "\"], \"repository\": \"" + repo + "\"}}"));
        }
        AtomicInteger most = new AtomicInteger();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            most.accumulateAndGet(count("running"), Math::max);
            return ids.stream().allMatch(id -> status(id).equals("completed"));
        });
        assertEquals(AGENTS, most.get(), "all ran at once");
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < AGENTS; i++) {
            JsonObject task = task(ids.get(i));
            JsonObject w = task.getJsonObject("worktree");
            String branch = "agent-turbo/task-" + ids.get(i);
            assertEquals(branch, w.getString("branch"), w.toString());
            assertEquals(base, w.getString("base"));
            assertEquals(git(repo, "rev-parse", "refs/heads/" + branch), w.getString("head"));
            assertEquals(1, w.getInt("filesChanged"), w.toString());
            assertEquals(1, w.getInt("insertions"));
            assertEquals(0, w.getInt("deletions"));
            assertFalse(w.getBoolean("uncommitted"));
            assertEquals("removed", w.getString("cleanup"), w.toString());
            assertEquals(repo.toRealPath().toString(), w.getString("repository"));
            assertEquals("seen: README \n", task.getString("result"), "an agent sees none of the others' files");
            assertEquals(List.of("README", "own-" + i + ".txt"),
                    List.of(git(repo, "ls-tree", "--name-only", branch).split("\n")), "the branch has its own file only");
            assertFalse(Files.exists(Path.of(w.getString("path"))), "removed: it was clean");
            paths.add(w.getString("path"));
        }
        assertEquals(AGENTS, paths.stream().distinct().count(), "a worktree each");
        assertEquals("the repository\n", Files.readString(repo.resolve("README")));
        assertEquals(List.of("README"), List.of(git(repo, "ls-tree", "--name-only", "main").split("\n")),
                "the repository's own branch is untouched");
    }

    @Test
    @Order(2)
    void aTaskLandsOnTheNodeThatHasItsRepositoryAndOneNoNodeHasFails() throws Exception {
        // only node B takes work: it lacks the repository and gives the task back
        assertEquals(202, nodeA.post("/api/workers/worktree-b/resume", "").statusCode());
        assertEquals(202, nodeA.post("/api/workers/worktree-a/drain", "").statusCode());
        await().atMost(Duration.ofSeconds(10)).until(() -> "draining".equals(state("worktree-a"))
                && "active".equals(state("worktree-b")));
        long id = submit("{\"executor\": \"command\", \"prompt\": \"edit\", \"options\": {\"command\": \""
                + dir.resolve("agent.sh") + "\", \"args\": [\"x\"], \"repository\": \"" + repo + "\"}}");
        await().atMost(Duration.ofSeconds(20)).until(() -> unableWorkers(id).contains("worktree-b"));
        assertEquals(202, nodeA.post("/api/workers/worktree-a/resume", "").statusCode());
        await().atMost(Duration.ofSeconds(60)).until(() -> status(id).equals("completed"));
        JsonObject done = task(id);
        assertEquals("worktree-a", done.getString("workerId"));
        assertEquals(1, done.getInt("attempt"), "the other node's tries are not counted: " + done);
        assertEquals(1, done.getJsonObject("worktree").getInt("filesChanged"));
        assertTrue(done.getJsonArray("attempts").getValuesAs(JsonObject.class).stream()
                .anyMatch(a -> a.getString("outcome").equals("released") && "worktree-b".equals(a.getString("worker", null))),
                done.toString());

        String missing = dir.resolve("a/not-cloned-here").toString();
        long lost = submit("{\"executor\": \"command\", \"prompt\": \"edit\", \"options\": {\"command\": \""
                + dir.resolve("agent.sh") + "\", \"args\": [\"y\"], \"repository\": \"" + missing + "\"}}");
        await().atMost(Duration.ofSeconds(60)).until(() -> status(lost).equals("failed"));
        JsonObject failed = task(lost);
        String error = failed.getString("error");
        assertTrue(error.contains(missing) && error.contains("worktree-a") && error.contains("worktree-b")
                && error.contains("no live node"), error);
        assertEquals(List.of("worktree-a", "worktree-b"), unableWorkers(lost).stream().sorted().toList());
    }

    @Test
    @Order(3)
    void badOptionsAreRefusedWithTheirReasons() throws Exception {
        for (String[] bad : new String[][]{
                {"\"repository\": \"" + repo + "\", \"workingDirectory\": \"" + repo + "\"", "exclude each other"},
                {"\"repository\": \"" + repo + "\", \"branch\": \"a..b\"", "not a valid git branch name"},
                {"\"repository\": \"" + repo + "\", \"cleanup\": \"never\"", "options.cleanup must be one of"},
                {"\"baseRef\": \"main\"", "options.baseRef needs options.repository"},
                {"\"repository\": \"" + dir.resolve("b") + "\"", "agentturbo.agents.allowed-roots"}}) {
            HttpResponse<String> refused = nodeA.post("/api/tasks", "{\"executor\": \"command\", \"prompt\": \"p\","
                    + " \"options\": {\"command\": \"" + dir.resolve("agent.sh") + "\", " + bad[0] + "}}");
            assertEquals(400, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains(bad[1]), bad[1] + " in " + refused.body());
        }
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    static List<String> unableWorkers(long id) throws Exception {
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT unable_workers FROM agent_tasks WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                java.sql.Array a = rs.getArray(1);
                return a == null ? List.of() : List.of((String[]) a.getArray());
            }
        }
    }

    static int count(String status) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM agent_tasks WHERE status = '" + status + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static String state(String worker) throws Exception {
        return json(nodeA.get("/api/workers/" + worker).body()).getString("state");
    }

    static long submit(String body) throws Exception {
        HttpResponse<String> response = nodeA.post("/api/tasks", body);
        assertEquals(201, response.statusCode(), response.body());
        return json(response.body()).getJsonNumber("id").longValue();
    }

    static String status(long id) {
        try {
            return task(id).getString("status");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonObject task(long id) throws Exception {
        return json(nodeA.get("/api/tasks/" + id).body());
    }

    static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
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
