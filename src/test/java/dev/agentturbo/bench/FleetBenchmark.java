package dev.agentturbo.bench;

import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fleet's speed, measured on two real nodes sharing one PostgreSQL: how soon an idle slot starts a task
 * submitted anywhere (LISTEN/NOTIFY wake-up), how busy a full queue keeps every slot (the gap between one task's
 * end and the same slot's next start), and what a node costs in memory. Not part of the test suite (its name
 * does not end in IT); run it with
 * {@code payara/test.sh -Dit.test=FleetBenchmark -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false}
 * and copy the table it prints into docs/BENCHMARKS.md. Times are the database's own timestamps.
 */
class FleetBenchmark {

    static final int SLOTS = 5;

    @Test
    void fleetOfTwo() throws Exception {
        try (TestDatabase db = TestDatabase.create("bench")) {
            Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
            env.put("AGENTTURBO_WORKER_SLOTS", Integer.toString(SLOTS));
            CompletableFuture<MicroNode> a = CompletableFuture.supplyAsync(() -> MicroNode.start("bench-alpha", env));
            CompletableFuture<MicroNode> b = CompletableFuture.supplyAsync(() -> MicroNode.start("bench-beta", env));
            try (MicroNode alpha = a.join(); MicroNode beta = b.join()) {
                List<String> report = new ArrayList<>();
                Thread.sleep(5000); // let both nodes settle after boot

                // 1. wake-up: one task at a time into an idle fleet, submitted on alpha
                for (int i = 0; i < 60; i++) {
                    alpha.post("/api/tasks", "{\"prompt\":\"wake " + i + "\",\"executor\":\"simulated\",\"options\":{\"durationMs\":0}}");
                    await(db, "status <> 'completed'", 0, Duration.ofSeconds(30));
                    Thread.sleep(150); // idle again: every slot waiting on its doorbell
                }
                List<Double> wake = column(db, "SELECT EXTRACT(EPOCH FROM started_at - created_at) * 1000 FROM agent_tasks");
                Map<String, Long> wakeBy = counts(db, "SELECT assigned_worker_id, COUNT(*) FROM agent_tasks GROUP BY 1");
                report.add(row("submit → claim on an idle fleet, 60 tasks (ms)", wake) + " claimed by " + wakeBy);
                db.exec("DELETE FROM agent_tasks");

                // 2. a full queue: 2,000 tasks of 50 ms on 10 slots
                int tasks = 2000;
                String batch = IntStream.range(0, tasks / 2).mapToObj(i ->
                                "{\"prompt\":\"full " + i + "\",\"executor\":\"simulated\",\"options\":{\"durationMs\":50}}")
                        .collect(Collectors.joining(",", "[", "]"));
                long t0 = System.nanoTime();
                assertEquals(201, alpha.post("/api/tasks/batch", batch).statusCode());
                assertEquals(201, beta.post("/api/tasks/batch", batch).statusCode());
                await(db, "status <> 'completed'", 0, Duration.ofMinutes(10));
                double seconds = (System.nanoTime() - t0) / 1e9;
                List<Double> gaps = column(db, """
                        SELECT EXTRACT(EPOCH FROM started_at - lag(completed_at) OVER w) * 1000
                          FROM agent_tasks WINDOW w AS (PARTITION BY assigned_worker_id, slot ORDER BY started_at)""");
                gaps.removeIf(g -> g == null || g.isNaN());
                assertEquals(tasks, count(db, "status = 'completed' AND attempt = 1"), "each task ran exactly once");
                double ideal = tasks * 0.050 / (2 * SLOTS);
                report.add(String.format("full queue: %d tasks × 50 ms on %d slots: %.1f s (ideal %.1f s, %.0f%% of ideal), %.0f tasks/s",
                        tasks, 2 * SLOTS, seconds, ideal, 100 * ideal / seconds, tasks / seconds));
                report.add(row("gap between a slot's tasks under a full queue (ms)", gaps));
                report.add("completed per node: " + counts(db, "SELECT assigned_worker_id, COUNT(*) FROM agent_tasks GROUP BY 1"));

                // 3. memory: resident set of each node after the run
                for (MicroNode n : List.of(alpha, beta)) {
                    report.add(n.id() + " resident memory: " + rssMb(n.pid()) + " MB (java -Xmx384m)");
                }
                System.out.println("\n=== FleetBenchmark ===");
                report.forEach(System.out::println);
            }
        }
    }

    static String row(String what, List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return String.format("%s: median %.1f, p90 %.1f, p99 %.1f, max %.1f (n=%d)", what,
                pct(sorted, 50), pct(sorted, 90), pct(sorted, 99), sorted.get(sorted.size() - 1), sorted.size());
    }

    static double pct(List<Double> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    static long rssMb(long pid) throws Exception {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    static void await(TestDatabase db, String where, long expected, Duration timeout) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        while (count(db, where) != expected) {
            if (System.nanoTime() > until) {
                throw new AssertionError("still " + count(db, where) + " tasks where " + where);
            }
            Thread.sleep(20);
        }
    }

    static long count(TestDatabase db, String where) {
        return column(db, "SELECT COUNT(*) FROM agent_tasks WHERE " + where).get(0).longValue();
    }

    static List<Double> column(TestDatabase db, String sql) {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<Double> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getObject(1) == null ? Double.NaN : rs.getDouble(1));
            }
            return values;
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    static Map<String, Long> counts(TestDatabase db, String sql) {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            Map<String, Long> values = new java.util.TreeMap<>();
            while (rs.next()) {
                values.put(rs.getString(1), rs.getLong(2));
            }
            return values;
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
