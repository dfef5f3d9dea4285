package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.testing.LeaseHolder;
import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.QueueDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tasks that wait for other tasks, against a real PostgreSQL: chains, fan-out and fan-in, failures that cancel
 * what waits, refusals at submission, retries, and two dependencies that complete at the same moment.
 */
class DependenciesIT {

    private static final Duration LEASE = Duration.ofSeconds(30);
    private static QueueDatabase db;
    private static TaskRows rows;
    private TaskQueue queue;

    @BeforeAll
    static void createDatabase() {
        db = QueueDatabase.create("dependencies_it", 10);
        rows = db.rows();
    }

    @AfterAll
    static void dropDatabase() {
        Closing.all(db);
    }

    @BeforeEach
    void emptyQueue() {
        queue = db.emptyQueue();
    }

    @Test
    void aChainRunsOneLinkAfterTheOther() {
        long a = submit(task("a"));
        long b = submit(task("b").after(List.of(a), List.of()));
        long c = submit(task("c").after(List.of(b), List.of()));
        assertEquals(List.of("pending", "blocked", "blocked"), statuses(a, b, c));

        try (LeaseHolder node = new LeaseHolder(db.direct(), "w")) {
            List<ClaimedTask> head = node.claim(5, LEASE);
            assertEquals(List.of(a), ids(head), "only the head of the chain can run");
            node.finish(head.get(0), Outcome.succeeded("done", 0), Duration.ZERO);
            assertEquals(List.of("completed", "pending", "blocked"), statuses(a, b, c));
            complete(node, b);
            assertEquals(List.of("completed", "completed", "pending"), statuses(a, b, c));
            complete(node, c);
        }
        assertEquals(List.of("completed", "completed", "completed"), statuses(a, b, c));
    }

    @Test
    void fanOutAndFanInInOneBatch() {
        // item 4 waits for items 1 to 3, which wait for item 0; stored in an order that needs sorting
        List<Submitted> stored = queue.submitAll(List.of(
                task("root"),
                task("left").after(List.of(), List.of(0)),
                task("middle").after(List.of(), List.of(0)),
                task("right").after(List.of(), List.of(0)),
                task("join").after(List.of(), List.of(1, 2, 3))));
        long root = stored.get(0).id();
        long join = stored.get(4).id();
        assertTrue(stored.get(1).id() > root && join > stored.get(3).id(), "stored after what they wait for");
        assertEquals(3, ((Number) rows.value("SELECT waiting_for FROM agent_tasks WHERE id = ?", join)).intValue());

        try (LeaseHolder node = new LeaseHolder(db.direct(), "w")) {
            complete(node, root);
            List<ClaimedTask> branches = node.claim(5, LEASE);
            assertEquals(List.of(stored.get(1).id(), stored.get(2).id(), stored.get(3).id()), ids(branches),
                    "the three branches run side by side; the join waits");
            node.finish(branches.get(0), Outcome.succeeded("done", 0), Duration.ZERO);
            node.finish(branches.get(1), Outcome.succeeded("done", 0), Duration.ZERO);
            assertEquals("blocked", rows.status(join));
            assertEquals(1, ((Number) rows.value("SELECT waiting_for FROM agent_tasks WHERE id = ?", join)).intValue());
            node.finish(branches.get(2), Outcome.succeeded("done", 0), Duration.ZERO);
            assertEquals("pending", rows.status(join));
        }
    }

    @Test
    void aFailureCancelsEverythingThatWaitsForItWithTheReason() {
        long a = submit(task("a"));
        long b = submit(task("b").after(List.of(a), List.of()));
        long c = submit(task("c").after(List.of(b), List.of()));
        long other = submit(task("unrelated"));
        try (LeaseHolder node = new LeaseHolder(db.direct(), "w")) {
            ClaimedTask held = node.claim(1, LEASE).get(0);
            assertEquals(a, held.id());
            assertEquals("failed", node.finish(held, Outcome.permanent("the build is broken"), Duration.ZERO));
        }
        assertEquals(List.of("failed", "cancelled", "cancelled", "pending"), statuses(a, b, c, other));
        assertEquals("dependency " + a + " failed: the build is broken", rows.row(b).get("error"));
        assertEquals("dependency " + b + " cancelled: dependency " + a + " failed: the build is broken",
                rows.row(c).get("error"));
    }

    @Test
    void cancellingATaskCancelsItsDependentsButNotWhatIsAlreadyFree() {
        long done = submit(task("done"));
        try (LeaseHolder node = new LeaseHolder(db.direct(), "w")) {
            complete(node, done);
        }
        long a = submit(task("a"));
        long b = submit(task("b").after(List.of(a, done), List.of()));
        assertEquals(1, ((Number) rows.value("SELECT waiting_for FROM agent_tasks WHERE id = ?", b)).intValue(),
                "a completed dependency counts as met at once");
        assertEquals(Optional.of(dev.agentturbo.tasks.entity.TaskStatus.CANCELLED), queue.cancel(a));
        assertEquals("cancelled", rows.status(b));
        assertEquals("dependency " + a + " cancelled: cancelled by user before it started", rows.row(b).get("error"));

        long onlyDone = submit(task("free").after(List.of(done), List.of()));
        assertEquals("pending", rows.status(onlyDone), "all its dependencies completed: claimable at once");
    }

    @Test
    void unknownFailedAndCancelledDependenciesAreRefusedAndNothingIsStored() {
        long failed = submit(task("will fail"));
        try (LeaseHolder node = new LeaseHolder(db.direct(), "w")) {
            node.finish(node.claim(1, LEASE).get(0), Outcome.permanent("no"), Duration.ZERO);
        }
        long cancelled = submit(task("will be cancelled"));
        queue.cancel(cancelled);
        long before = rows.count("true");

        InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> queue.submitAll(List.of(
                task("fine"),
                task("x").after(List.of(failed, 999_999L, cancelled), List.of()),
                task("y").after(List.of(), List.of(1)))));
        assertEquals(List.of(
                "[1].dependsOn: task " + failed + " failed, so this task could never run; retry task " + failed
                        + " first, or leave it out",
                "[1].dependsOn: task 999999 does not exist",
                "[1].dependsOn: task " + cancelled + " cancelled, so this task could never run; retry task "
                        + cancelled + " first, or leave it out"), e.problems());
        assertEquals(before, rows.count("true"), "nothing of the batch was stored");

        InvalidTaskException single = assertThrows(InvalidTaskException.class,
                () -> queue.submit(task("z").after(List.of(999_998L), List.of())));
        assertEquals(List.of("dependsOn: task 999998 does not exist"), single.problems());
        assertEquals(before, rows.count("true"));
    }

    @Test
    void aRepeatedSubmissionGetsItsFirstTaskEvenAfterItsDependencyFailed() {
        long a = submit(task("a"));
        NewTask keyed = new NewTask("simulated", "after a", 0, 3, 60, "{}", "after-a-1").after(List.of(a), List.of());
        Submitted first = queue.submit(keyed);
        try (LeaseHolder node = new LeaseHolder(db.direct(), "w")) {
            node.finish(node.claim(1, LEASE).get(0), Outcome.permanent("broken"), Duration.ZERO);
        }
        Submitted again = queue.submit(keyed);
        assertEquals(first.id(), again.id(), "the same task, not a refusal of a new one");
        assertEquals(false, again.created());
        assertEquals("cancelled", rows.status(first.id()));
    }

    @Test
    void aRetriedDependentWaitsAgainAndOneWaitingForAFailureIsNotRetried() {
        long a = submit(task("a"));
        long b = submit(task("b").after(List.of(a), List.of()));
        try (LeaseHolder node = new LeaseHolder(db.direct(), "w")) {
            node.finish(node.claim(1, LEASE).get(0), Outcome.permanent("broken"), Duration.ZERO);
            assertEquals("cancelled", rows.status(b));

            assertEquals(Optional.of(false), queue.retry(b), "its dependency failed: retrying it alone cannot help");
            assertEquals("cancelled", rows.status(b));

            assertEquals(Optional.of(true), queue.retry(a));
            assertEquals(Optional.of(true), queue.retry(b));
            assertEquals("blocked", rows.status(b), "waits for the retried dependency again");
            complete(node, a);
            assertEquals("pending", rows.status(b));
        }
    }

    @Test
    void twoDependenciesCompletingAtTheSameMomentFreeTheirDependentOnce() throws Exception {
        ExecutorService two = Executors.newFixedThreadPool(2);
        try (LeaseHolder first = new LeaseHolder(db.direct(), "w1");
             LeaseHolder second = new LeaseHolder(db.direct(), "w2")) {
            for (int round = 0; round < 30; round++) {
                long a = submit(task("a" + round));
                long b = submit(task("b" + round));
                long join = submit(task("join" + round).after(List.of(a, b), List.of()));
                ClaimedTask ta = first.claim(1, LEASE).get(0);
                ClaimedTask tb = second.claim(1, LEASE).get(0);
                CyclicBarrier together = new CyclicBarrier(2);
                Future<String> fa = two.submit(() -> {
                    together.await();
                    return first.finish(ta, Outcome.succeeded("ok", 0), Duration.ZERO);
                });
                Future<String> fb = two.submit(() -> {
                    together.await();
                    return second.finish(tb, Outcome.succeeded("ok", 0), Duration.ZERO);
                });
                assertEquals("completed", fa.get());
                assertEquals("completed", fb.get());
                assertEquals("pending", rows.status(join), "round " + round);
                assertEquals(0, ((Number) rows.value("SELECT waiting_for FROM agent_tasks WHERE id = ?", join)).intValue());
                complete(first, join);
            }
        } finally {
            two.shutdownNow();
        }
    }

    private long submit(NewTask task) {
        return queue.submit(task).id();
    }

    private static NewTask task(String prompt) {
        return TaskRows.simulated(prompt, 1);
    }

    private static void complete(LeaseHolder node, long id) {
        ClaimedTask held = node.claim(1, LEASE).stream().findFirst()
                .orElseThrow(() -> new AssertionError("task " + id + " is not claimable: " + rows.status(id)));
        assertEquals(id, held.id());
        assertEquals("completed", node.finish(held, Outcome.succeeded("done", 0), Duration.ZERO));
    }

    private static List<String> statuses(long... ids) {
        return java.util.Arrays.stream(ids).mapToObj(rows::status).toList();
    }

    private static List<Long> ids(List<ClaimedTask> claimed) {
        return claimed.stream().map(ClaimedTask::id).toList();
    }
}
