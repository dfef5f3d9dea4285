package dev.agentturbo.tasks.control;

import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.ConcurrencyLimits;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.testing.LeaseHolder;
import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.QueueDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Concurrency keys against a real PostgreSQL: never more tasks of a key running than its limit, however many
 * claimers race, and tasks of other keys (or none) are not held up by a key at its limit.
 */
class ConcurrencyKeysIT {

    private static final Duration LEASE = Duration.ofSeconds(30);
    private static QueueDatabase db;
    private static TaskRows rows;
    private TaskQueue queue;

    @BeforeAll
    static void createDatabase() {
        db = QueueDatabase.create("concurrency_keys_it", 20);
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
    void aKeyAtItsLimitHoldsUpOnlyItsOwnTasks() {
        List<Long> repo = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            repo.add(submit(task("repo " + i, 10).keyed("repo:/srv/app")));
        }
        long other = submit(task("other key", 5).keyed("repo:/srv/site"));
        long free1 = submit(task("no key", 0));
        long free2 = submit(task("no key either", 0));

        try (LeaseHolder node = new LeaseHolder(db.direct(), "w")) {
            List<ClaimedTask> first = node.claim(10, LEASE);
            assertEquals(List.of(repo.get(0), other, free1, free2), ids(first),
                    "one task of each key (the most urgent first), and every task without a key");
            assertTrue(node.claim(10, LEASE).isEmpty(), "the other 49 wait for their key");

            assertEquals("completed", node.finish(first.get(0), Outcome.succeeded("ok", 0), Duration.ZERO));
            assertEquals(List.of(repo.get(1)), ids(node.claim(10, LEASE)), "the next of the key, in submission order");
        }
    }

    @Test
    void aPrefixGivesItsKeysALimitOfTheirOwn() {
        ConcurrencyLimits limits = ConcurrencyLimits.parse(1, List.of("repo:=3", "repo:/srv/big=5"));
        for (int i = 0; i < 10; i++) {
            submit(task("small " + i, 0).keyed("repo:/srv/small"));
            submit(task("big " + i, 0).keyed("repo:/srv/big"));
            submit(task("build " + i, 0).keyed("build"));
        }
        try (LeaseHolder node = new LeaseHolder(db.direct(), "w", limits)) {
            Map<String, Long> byKey = new java.util.TreeMap<>();
            for (ClaimedTask t : node.claim(30, LEASE)) {
                byKey.merge((String) rows.row(t.id()).get("concurrency_key"), 1L, Long::sum);
            }
            assertEquals(Map.of("build", 1L, "repo:/srv/big", 5L, "repo:/srv/small", 3L), byKey,
                    "the longest matching prefix wins; no prefix: the default");
        }
    }

    @Test
    void racingClaimersNeverRunMoreOfAKeyThanItsLimit() throws Exception {
        ConcurrencyLimits limits = ConcurrencyLimits.parse(1, List.of("two=2"));
        List<String> keys = List.of("one-a", "one-b", "two");
        for (int i = 0; i < 300; i++) {
            submit(task("t" + i, 0).keyed(keys.get(i % keys.size())));
        }
        for (int i = 0; i < 30; i++) {
            submit(task("free " + i, 0));
        }
        int claimers = 6;
        ExecutorService pool = Executors.newFixedThreadPool(claimers + 1);
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger samples = new AtomicInteger();
        Map<String, Integer> most = new ConcurrentHashMap<>();
        try {
            Future<?> watcher = pool.submit(() -> {
                while (!done.get()) {
                    for (Map<String, Object> r : rows.query("SELECT concurrency_key, count(*) AS n FROM agent_tasks"
                            + " WHERE status = 'running' AND concurrency_key IS NOT NULL GROUP BY 1")) {
                        most.merge((String) r.get("concurrency_key"), ((Number) r.get("n")).intValue(), Math::max);
                    }
                    samples.incrementAndGet();
                }
                return null;
            });
            List<Future<Integer>> workers = new ArrayList<>();
            for (int w = 0; w < claimers; w++) {
                String id = "w" + w;
                workers.add(pool.submit(() -> {
                    int finished = 0;
                    try (LeaseHolder node = new LeaseHolder(db.direct(), id, limits)) {
                        List<ClaimedTask> held = new ArrayList<>();
                        int idle = 0;
                        while (idle < 50) {
                            held.addAll(node.claim(3 - held.size(), LEASE));
                            if (held.isEmpty()) {
                                idle++;
                                Thread.sleep(5);
                                continue;
                            }
                            idle = 0;
                            Thread.sleep(ThreadLocalRandom.current().nextInt(3));
                            ClaimedTask t = held.remove(ThreadLocalRandom.current().nextInt(held.size()));
                            assertEquals("completed", node.finish(t, Outcome.succeeded("ok", 0), Duration.ZERO));
                            finished++;
                        }
                    }
                    return finished;
                }));
            }
            int total = 0;
            for (Future<Integer> f : workers) {
                total += f.get();
            }
            done.set(true);
            watcher.get();
            assertEquals(330, total, "every task ran once");
        } finally {
            done.set(true);
            pool.shutdownNow();
        }
        assertEquals(330, rows.count("status = 'completed' AND attempt = 1"));
        assertTrue(samples.get() > 20, "the database was sampled " + samples.get() + " times while they ran");
        assertEquals(1, most.getOrDefault("one-a", 0), "most running at once, by key: " + most);
        assertEquals(1, most.getOrDefault("one-b", 0), "most running at once, by key: " + most);
        assertTrue(most.getOrDefault("two", 0) <= 2, "most running at once, by key: " + most);
    }

    private long submit(NewTask task) {
        return queue.submit(task).id();
    }

    private static NewTask task(String prompt, int priority) {
        return new NewTask("simulated", prompt, priority, 3, 60, "{}", null);
    }

    private static List<Long> ids(List<ClaimedTask> claimed) {
        return claimed.stream().map(ClaimedTask::id).toList();
    }
}
