package dev.agentturbo.bench;

import dev.agentturbo.platform.Schema;
import dev.agentturbo.tasks.control.TaskLeases;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.testing.ClaudeProgram;
import dev.agentturbo.testing.Closing;
import dev.agentturbo.testing.FakeMessagesApi;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.PostgresCluster;
import dev.agentturbo.testing.TaskRows;
import dev.agentturbo.testing.TestDatabase;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's figures, each printed as one line starting with {@code BENCH} (payara/benchmark.sh keeps only those
 * lines; docs/BENCHMARKS.md records them). Not part of the test suite: its name does not end in IT. Real nodes,
 * a real PostgreSQL; times come from the database's own timestamps where a task's life is measured.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EngineBenchmark {

    static final int ROUNDS = 3;

    // --- dispatch throughput -----------------------------------------------------------------------------------

    /** One node of 10 slots works off 10,000 zero-length tasks; beside it, the naive SQL cycle under pgbench. */
    @Test
    @Order(1)
    void dispatchThroughput() throws Exception {
        try (TestDatabase db = TestDatabase.create("bench_dispatch"); TestDatabase naive = TestDatabase.create("bench_naive")) {
            Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
            env.put("AGENTTURBO_WORKER_SLOTS", "10");
            try (MicroNode node = MicroNode.start("bench-dispatch", env)) {
                TaskRows rows = new TaskRows(db.dataSource());
                Thread.sleep(5000);
                fill(db.dataSource(), 5_000); // warm-up: the JIT compiles the hot path
                awaitDone(rows, Duration.ofMinutes(2));
                List<Double> node10 = new ArrayList<>();
                List<Double> cycle = new ArrayList<>();
                List<Double> rounds = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    rows.deleteAll();
                    fill(db.dataSource(), 10_000);
                    awaitDone(rows, Duration.ofMinutes(5));
                    assertEquals(10_000, rows.count("attempt = 1"), "each ran once");
                    node10.add(10_000 / ((Number) rows.value(
                            "SELECT EXTRACT(EPOCH FROM max(completed_at) - min(started_at)) FROM agent_tasks")).doubleValue());
                    rounds.add(((Number) rows.value("SELECT count(DISTINCT started_at) FROM agent_tasks")).doubleValue());
                    cycle.add(naiveCycle(naive));
                }
                double n = median(node10);
                double c = median(cycle);
                bench("dispatch throughput: one node, 10 slots, 10,000 zero-length tasks: median %.0f tasks/s %s;"
                                + " naive SQL cycle (pgbench, 10 clients, claim one + complete one, 2 commits a task): median"
                                + " %.0f tasks/s %s; ratio %.2f",
                        n, runs(node10), c, runs(cycle), n / c);
                bench("dispatch rounds: 10,000 tasks took a median of %.0f transactions of the dispatcher (%.1f tasks"
                        + " claimed and recorded per commit)", median(rounds), 10_000 / median(rounds));
                bench("dispatch node resident memory after %d × 10,000 tasks: %d MB (java -Xmx384m)", ROUNDS,
                        rssMb(node.pid()));
            }
        }
    }

    /** pgbench runs db/bench/naive-cycle.sql over 10,000 pending tasks: 10 clients, 1,000 tasks each. */
    static double naiveCycle(TestDatabase db) throws Exception {
        TaskRows rows = new TaskRows(db.dataSource());
        rows.deleteAll();
        fill(db.dataSource(), 10_000);
        Path script = Path.of("db/bench/naive-cycle.sql").toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder("pgbench", "-n", "-c", "10", "-j", "2", "-t", "1000", "-f", script.toString(),
                "-h", "127.0.0.1", "-U", TestDatabase.USER, db.name()).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", TestDatabase.PASSWORD);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("pgbench failed:\n" + out);
        }
        assertEquals(10_000, rows.count("status = 'completed'"), "pgbench completed every task:\n" + out);
        Matcher m = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no tps in pgbench's output:\n" + out);
        }
        return Double.parseDouble(m.group(1));
    }

    // --- idle cost ---------------------------------------------------------------------------------------------

    /**
     * Two idle nodes of 20 slots, each logging in as a role of its own so that pg_stat_statements and
     * pg_stat_activity tell them apart; tasks are submitted through a third node that runs no agents.
     */
    @Test
    @Order(2)
    void idleCost() throws Exception {
        try (PostgresCluster pg = PostgresCluster.create("bench-idle", "shared_preload_libraries = 'pg_stat_statements'",
                "pg_stat_statements.track = all")) {
            String url = pg.jdbcUrl("agentturbo");
            try (Connection c = pg.superuser("agentturbo"); Statement s = c.createStatement()) {
                s.execute("CREATE EXTENSION pg_stat_statements");
                for (String role : List.of("node_a", "node_b", "node_front")) {
                    s.execute("CREATE ROLE " + role + " LOGIN PASSWORD 'bench' IN ROLE " + TestDatabase.USER);
                }
            }
            DataSource admin = dataSource(url, TestDatabase.USER, TestDatabase.PASSWORD);
            Schema.migrate(admin);
            CompletableFuture<MicroNode> a = CompletableFuture.supplyAsync(() -> MicroNode.start("bench-idle-a",
                    roleEnv(url, "node_a", 20)));
            CompletableFuture<MicroNode> b = CompletableFuture.supplyAsync(() -> MicroNode.start("bench-idle-b",
                    roleEnv(url, "node_b", 20)));
            CompletableFuture<MicroNode> f = CompletableFuture.supplyAsync(() -> MicroNode.start("bench-idle-front",
                    roleEnv(url, "node_front", 0)));
            try (MicroNode alpha = a.join(); MicroNode beta = b.join(); MicroNode front = f.join()) {
                Thread.sleep(15_000); // every node registered, its slots open, its pool settled
                Duration idle = Duration.ofSeconds(60);
                resetStatements(pg);
                Thread.sleep(idle.toMillis());
                Map<String, Long> idleCalls = statements(pg);
                Map<String, Long> connections = connections(pg);
                bench("idle cost: two idle nodes of 20 slots: %.2f and %.2f statements/s (%.2f and %.2f with BEGIN and"
                                + " COMMIT) over %d s; connections %d and %d (limit slots/2 + 3 = 13)",
                        idleCalls.get("node_a") / 60.0, idleCalls.get("node_b") / 60.0,
                        idleCalls.get("node_a+") / 60.0, idleCalls.get("node_b+") / 60.0, idle.toSeconds(),
                        connections.getOrDefault("node_a", 0L), connections.getOrDefault("node_b", 0L));

                int tasks = 50;
                TaskRows rows = new TaskRows(admin);
                resetStatements(pg);
                long t0 = System.nanoTime();
                for (int i = 0; i < tasks; i++) {
                    front.post("/api/tasks", "{\"prompt\":\"one " + i + "\",\"executor\":\"simulated\",\"options\":"
                            + "{\"durationMs\":0}}");
                    awaitDone(rows, Duration.ofSeconds(30));
                    Thread.sleep(300);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                Map<String, Long> busy = statements(pg);
                double perTaskA = (busy.get("node_a") - idleCalls.get("node_a") / 60.0 * seconds) / tasks;
                double perTaskB = (busy.get("node_b") - idleCalls.get("node_b") / 60.0 * seconds) / tasks;
                bench("idle cost: statements per submitted task, beyond the idle rate: %.2f on node a, %.2f on node b"
                                + " (%d tasks one at a time through a third node; claimed %s)", perTaskA, perTaskB, tasks,
                        counts(admin, "SELECT assigned_worker_id, count(*) FROM agent_tasks GROUP BY 1"));
            }
        }
    }

    static Map<String, String> roleEnv(String url, String role, int slots) {
        Map<String, String> env = new HashMap<>();
        env.put("DB_URL", url);
        env.put("DB_USER", role);
        env.put("DB_PASSWORD", "bench");
        env.put("AGENTTURBO_WORKER_SLOTS", Integer.toString(slots));
        return env;
    }

    static void resetStatements(PostgresCluster pg) throws SQLException {
        try (Connection c = pg.superuser("agentturbo"); Statement s = c.createStatement()) {
            s.execute("SELECT pg_stat_statements_reset()");
        }
    }

    /** Calls per role, without BEGIN and COMMIT; and with them, under "role+". */
    static Map<String, Long> statements(PostgresCluster pg) throws SQLException {
        Map<String, Long> calls = new TreeMap<>();
        try (Connection c = pg.superuser("agentturbo"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("""
                     SELECT r.rolname, sum(calls) FILTER (WHERE query !~* '^\\s*(BEGIN|COMMIT|ROLLBACK)'), sum(calls)
                       FROM pg_stat_statements p JOIN pg_roles r ON r.oid = p.userid
                      GROUP BY r.rolname""")) {
            while (rs.next()) {
                calls.put(rs.getString(1), rs.getLong(2));
                calls.put(rs.getString(1) + "+", rs.getLong(3));
            }
        }
        for (String role : List.of("node_a", "node_b", "node_front")) {
            calls.putIfAbsent(role, 0L);
            calls.putIfAbsent(role + "+", 0L);
        }
        return calls;
    }

    static Map<String, Long> connections(PostgresCluster pg) throws SQLException {
        Map<String, Long> by = new TreeMap<>();
        try (Connection c = pg.superuser("agentturbo"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT usename, count(*) FROM pg_stat_activity WHERE datname = 'agentturbo'"
                     + " GROUP BY usename")) {
            while (rs.next()) {
                by.put(rs.getString(1), rs.getLong(2));
            }
        }
        return by;
    }

    // --- scale on paper ----------------------------------------------------------------------------------------

    /** 100 nodes × 30 slots of simulated agents (10 s each on average) against one PostgreSQL. */
    @Test
    @Order(3)
    void scaleOnPaper() throws Exception {
        int nodes = 100;
        int slots = 30;
        try (PostgresCluster pg = PostgresCluster.create("bench-scale", "fsync = on", "full_page_writes = on",
                "max_connections = 300")) {
            DataSource db = dataSource(pg.jdbcUrl("agentturbo"), TestDatabase.USER, TestDatabase.PASSWORD);
            Schema.migrate(db);
            fill(db, 60_000);
            long postmaster = Long.parseLong(Files.readAllLines(pg.dataDir().resolve("postmaster.pid")).get(0).trim());
            AtomicLong cpuStart = new AtomicLong();
            AtomicLong cpuEnd = new AtomicLong();
            FleetSimulation.Result r = new FleetSimulation(db, nodes, slots, Duration.ofSeconds(10), Duration.ofSeconds(2))
                    .run(Duration.ofSeconds(20), Duration.ofSeconds(60),
                            () -> cpuStart.set(cpuTicks(postmaster)), () -> cpuEnd.set(cpuTicks(postmaster)));
            double dbCpu = (cpuEnd.get() - cpuStart.get()) / 100.0 / r.seconds();
            bench("scale on paper: %d nodes × %d slots, agents of 10 s on average: %.0f claims/s, %.0f renewal"
                            + " statements/s, %.0f heartbeats/s; a probe's claim (statement + commit) %s ms; database"
                            + " CPU %.0f%% of one core (%d cores)",
                    nodes, slots, r.claims() / r.seconds(), r.renewals() / r.seconds(), r.beats() / r.seconds(),
                    percentiles(r.probeClaimMs()), 100 * dbCpu, Runtime.getRuntime().availableProcessors());
        }
    }

    /** User and system CPU of the postmaster and all its children, in clock ticks (1/100 s). */
    static long cpuTicks(long postmaster) {
        long ticks = 0;
        List<ProcessHandle> all = new ArrayList<>();
        ProcessHandle.of(postmaster).ifPresent(p -> {
            all.add(p);
            p.descendants().forEach(all::add);
        });
        for (ProcessHandle p : all) {
            try {
                String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
            } catch (IOException | RuntimeException e) {
                // ended meanwhile
            }
        }
        return ticks;
    }

    // --- after a million tasks ---------------------------------------------------------------------------------

    /** Claim latency on a fresh table, then after 1,000,000 tasks went through the real claim and record statements. */
    @Test
    @Order(4)
    void claimsAfterAMillionTasks() throws Exception {
        try (TestDatabase db = TestDatabase.create("bench_million"); TestDatabase fresh = TestDatabase.create("bench_fresh")) {
            DataSource ds = db.dataSource();
            long t0 = System.nanoTime();
            int processed = processMillion(ds);
            double minutes = (System.nanoTime() - t0) / 6e10;
            System.out.println("after the run: " + tableStats(ds) + "\n" + plan(ds));
            // the machine is noisy: a fresh table and the big one take turns, 400 claims at a time
            List<List<Double>> right = alternate(fresh.dataSource(), ds);
            // then as the table settles: autovacuum (as configured, nothing run by hand) has had its look
            long settle = System.nanoTime();
            Thread.sleep(Duration.ofSeconds(30).toMillis());
            while (vacuumRunning(ds) && System.nanoTime() - settle < Duration.ofMinutes(3).toNanos()) {
                Thread.sleep(1000);
            }
            double settled = (System.nanoTime() - settle) / 1e9;
            System.out.println("settled: " + tableStats(ds) + "\n" + plan(ds));
            List<List<Double>> later = alternate(fresh.dataSource(), ds);
            bench("claims after %,d processed tasks (%.1f min of claim-10-and-record rounds on 4 connections;"
                            + " autovacuum_naptime %s), a claim of one task (statement + commit), the big table and a fresh"
                            + " one taking turns: right after, %s ms vs fresh %s ms (median ratio %.2f); %.0f s later,"
                            + " autovacuum done, %s ms vs fresh %s ms (median ratio %.2f)",
                    processed, minutes, setting(ds, "autovacuum_naptime"), percentiles(right.get(1)),
                    percentiles(right.get(0)), median(right.get(1)) / median(right.get(0)), settled,
                    percentiles(later.get(1)), percentiles(later.get(0)), median(later.get(1)) / median(later.get(0)));
        }
    }

    // --- claims beside a backlog of one concurrency key -------------------------------------------------------------

    /**
     * A claim of one task without a key, on a table where 10,000 tasks wait for one busy key (one of it running, at
     * its limit of 1) against one where 10 wait for it; the two take turns. Then again with 100 more keys, each with
     * one task running and one waiting, on the first table. Then the claim of keyed work itself: the busy key's next
     * task as soon as its running one ends.
     */
    @Test
    @Order(9)
    void claimsBesideAKeyBacklog() throws Exception {
        try (TestDatabase plain = TestDatabase.create("bench_keys_plain");
             TestDatabase backlog = TestDatabase.create("bench_keys_backlog")) {
            DataSource ds = backlog.dataSource();
            TaskRows rows = new TaskRows(ds);
            rows.update("""
                    INSERT INTO agent_tasks (executor, prompt, max_attempts, timeout_seconds, options, concurrency_key)
                    SELECT 'simulated', 'busy ' || g, 1, 60, '{}', 'repo:/srv/busy' FROM generate_series(1, 10000) g""");
            // one task of the key runs (and keeps its lease): the key is at its limit
            String holdHeads = """
                    UPDATE agent_tasks t SET status = 'running', attempt = 1, assigned_worker_id = 'holder',
                           lease_token = nextval('agent_tasks_lease_token'), started_at = now(),
                           lease_expires_at = now() + interval '1 day'
                      FROM (SELECT min(id) AS id FROM agent_tasks WHERE concurrency_key IS NOT NULL
                             GROUP BY concurrency_key HAVING bool_and(status = 'pending')) head
                     WHERE t.id = head.id""";
            rows.update(holdHeads);
            rows.update("ANALYZE agent_tasks");
            // the other table: the same busy key, with 10 tasks waiting instead of 10,000
            TaskRows few = new TaskRows(plain.dataSource());
            few.update("""
                    INSERT INTO agent_tasks (executor, prompt, max_attempts, timeout_seconds, options, concurrency_key)
                    SELECT 'simulated', 'busy ' || g, 1, 60, '{}', 'repo:/srv/busy' FROM generate_series(1, 11) g""");
            few.update(holdHeads);
            few.update("ANALYZE agent_tasks");
            List<List<Double>> oneKey = alternateUnkeyed(plain.dataSource(), ds);
            // 100 more keys, each with one task running and one waiting
            rows.update("""
                    INSERT INTO agent_tasks (executor, prompt, max_attempts, timeout_seconds, options, concurrency_key)
                    SELECT 'simulated', 'other ' || g, 1, 60, '{}', 'repo:/srv/other-' || (g % 100)
                      FROM generate_series(1, 200) g""");
            rows.update(holdHeads);
            rows.update("ANALYZE agent_tasks");
            List<List<Double>> turns = alternateUnkeyed(plain.dataSource(), ds);
            System.out.println("the keys' skip scan with 10,000 waiting for one key:\n" + keysPlan(ds));

            // keyed work: the busy key's running task ends and the next claim takes the key's next task
            TaskLeases leases = new TaskLeases();
            List<Double> keyed = new ArrayList<>();
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                rows.update("DELETE FROM agent_tasks WHERE status = 'pending' AND concurrency_key IS NULL");
                for (int i = 0; i < 400; i++) {
                    rows.update("UPDATE agent_tasks SET status = 'completed', completed_at = now()"
                            + " WHERE status = 'running' AND concurrency_key = 'repo:/srv/busy'");
                    long t0 = System.nanoTime();
                    List<ClaimedTask> got = leases.claim(c, "probe", new int[]{1}, Duration.ofSeconds(30), List.of());
                    c.commit();
                    keyed.add((System.nanoTime() - t0) / 1e6);
                    assertEquals(1, got.size(), "the busy key's next task");
                }
            }
            bench("claims beside a backlog of one concurrency key: a claim of one task without a key (statement + commit),"
                            + " two tables taking turns: 10,000 tasks waiting for a key at its limit %s ms vs 10 waiting"
                            + " %s ms (median ratio %.2f); with 100 more keys at their limits on the first table %s ms vs"
                            + " %s ms (median ratio %.2f); the busy key's next task once its running one ended: %s ms",
                    percentiles(oneKey.get(1)), percentiles(oneKey.get(0)), median(oneKey.get(1)) / median(oneKey.get(0)),
                    percentiles(turns.get(1)), percentiles(turns.get(0)), median(turns.get(1)) / median(turns.get(0)),
                    percentiles(keyed));
        }
    }

    /** Claim latencies of tasks without a key: 5 turns of 400 claims on each table. */
    static List<List<Double>> alternateUnkeyed(DataSource a, DataSource b) throws SQLException {
        List<Double> first = new ArrayList<>();
        List<Double> second = new ArrayList<>();
        for (int turn = 0; turn < 5; turn++) {
            first.addAll(claimLatencies(a, 400, "status = 'pending' AND concurrency_key IS NULL"));
            second.addAll(claimLatencies(b, 400, "status = 'pending' AND concurrency_key IS NULL"));
        }
        return List.of(first, second);
    }

    /** The plan of the keys' skip scan, with the pages it reads. */
    static String keysPlan(DataSource ds) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("""
                EXPLAIN (ANALYZE, BUFFERS)
                WITH RECURSIVE keys AS (
                    (SELECT concurrency_key AS k FROM agent_tasks
                      WHERE status = 'pending' AND concurrency_key IS NOT NULL ORDER BY concurrency_key LIMIT 1)
                    UNION ALL
                    SELECT (SELECT concurrency_key FROM agent_tasks
                             WHERE status = 'pending' AND concurrency_key IS NOT NULL AND concurrency_key > keys.k
                             ORDER BY concurrency_key LIMIT 1)
                      FROM keys WHERE keys.k IS NOT NULL)
                SELECT k, (SELECT count(*) FROM agent_tasks r WHERE r.status = 'running' AND r.concurrency_key = keys.k)
                  FROM keys WHERE k IS NOT NULL""")) {
            while (rs.next()) {
                out.append("  ").append(rs.getString(1)).append('\n');
            }
        }
        return out.toString();
    }

    /** Claim latencies of a fresh table and of the big one, 5 turns of 400 claims each. */
    static List<List<Double>> alternate(DataSource fresh, DataSource big) throws SQLException {
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        for (int turn = 0; turn < 5; turn++) {
            a.addAll(claimLatencies(fresh, 400));
            b.addAll(claimLatencies(big, 400));
        }
        return List.of(a, b);
    }

    static boolean vacuumRunning(DataSource ds) throws SQLException {
        return !doubles(ds, "SELECT 1 FROM pg_stat_progress_vacuum WHERE relid = 'agent_tasks'::regclass").isEmpty();
    }

    static String tableStats(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("""
                SELECT n_live_tup, n_dead_tup, autovacuum_count, autoanalyze_count, last_autovacuum,
                       pg_size_pretty(pg_relation_size('agent_tasks_claim_order')) AS claim_index
                  FROM pg_stat_user_tables WHERE relname = 'agent_tasks'""")) {
            rs.next();
            return "live " + rs.getLong(1) + ", dead " + rs.getLong(2) + ", autovacuums " + rs.getLong(3)
                    + ", autoanalyzes " + rs.getLong(4) + ", last autovacuum " + rs.getTimestamp(5)
                    + ", claim index " + rs.getString(6);
        }
    }

    /** How the claim's search for ready rows runs now, with the pages it reads. */
    static String plan(DataSource ds) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("""
                EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM agent_tasks
                 WHERE status = 'pending' AND run_after <= now() ORDER BY priority DESC, id LIMIT 1
                   FOR UPDATE SKIP LOCKED""")) {
            while (rs.next()) {
                out.append("  ").append(rs.getString(1)).append('\n');
            }
        }
        return out.toString();
    }

    /** n claims of one task (statement + commit), each completed right after, with 1,000 more waiting. */
    static List<Double> claimLatencies(DataSource ds, int n) throws SQLException {
        return claimLatencies(ds, n, "status = 'pending'");
    }

    /**
     * n claims of one task without a key (statement + commit), each completed right after, with 1,000 more waiting;
     * the waiting tasks that match {@code replaced} are deleted first.
     */
    static List<Double> claimLatencies(DataSource ds, int n, String replaced) throws SQLException {
        new TaskRows(ds).update("DELETE FROM agent_tasks WHERE " + replaced);
        fill(ds, n + 1_000);
        TaskLeases leases = new TaskLeases();
        List<Double> ms = new ArrayList<>();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                List<ClaimedTask> got = leases.claim(c, "probe", new int[]{1}, Duration.ofSeconds(30));
                c.commit();
                ms.add((System.nanoTime() - t0) / 1e6);
                assertTrue(got.get(0).optionsJson().contains("durationMs"), "a task without a key");
                leases.record(c, List.of(new TaskLeases.Ending(got.get(0), Outcome.succeeded("ok", 0), Duration.ZERO)));
                c.commit();
            }
        }
        return ms;
    }

    /** Four nodes' worth of claim-10-and-record-10 rounds until a million tasks went through. */
    static int processMillion(DataSource ds) throws Exception {
        int total = 1_000_000;
        AtomicLong done = new AtomicLong();
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        fill(ds, 100_000);
        AtomicLong filled = new AtomicLong(100_000);
        for (int w = 0; w < 4; w++) {
            String id = "million-" + w;
            workers.add(CompletableFuture.runAsync(() -> {
                TaskLeases leases = new TaskLeases();
                try (Connection c = ds.getConnection()) {
                    c.setAutoCommit(false);
                    List<ClaimedTask> held = List.of();
                    while (done.get() < total) {
                        if (!held.isEmpty()) {
                            leases.record(c, held.stream().map(t -> new TaskLeases.Ending(t, Outcome.succeeded("ok", 0),
                                    Duration.ZERO)).toList());
                            done.addAndGet(held.size());
                        }
                        held = leases.claim(c, id, new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Duration.ofSeconds(30));
                        c.commit();
                        synchronized (filled) {
                            if (filled.get() - done.get() < 20_000 && filled.get() < total + 10_000) {
                                fill(ds, 50_000);
                                filled.addAndGet(50_000);
                            }
                        }
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get();
        return (int) done.get();
    }

    // --- pick-up latency ---------------------------------------------------------------------------------------

    /**
     * 250 tasks, one at a time, submitted on a node without slots and picked up by idle slots of another, after
     * 500 unmeasured ones (a node that runs for days has its hot paths compiled; a fresh one interprets them).
     */
    @Test
    @Order(5)
    void pickUpLatency() throws Exception {
        try (TestDatabase db = TestDatabase.create("bench_pickup")) {
            Map<String, String> worker = new HashMap<>(MicroNode.databaseEnv(db));
            worker.put("AGENTTURBO_WORKER_SLOTS", "5");
            Map<String, String> api = new HashMap<>(MicroNode.databaseEnv(db));
            api.put("AGENTTURBO_WORKER_SLOTS", "0");
            CompletableFuture<MicroNode> w = CompletableFuture.supplyAsync(() -> MicroNode.start("bench-pickup-worker", worker));
            CompletableFuture<MicroNode> f = CompletableFuture.supplyAsync(() -> MicroNode.start("bench-pickup-front", api));
            try (MicroNode slots = w.join(); MicroNode front = f.join()) {
                TaskRows rows = new TaskRows(db.dataSource());
                Thread.sleep(5000);
                for (int i = 0; i < 500; i++) {
                    submitOne(front, "warm " + i);
                    awaitDone(rows, Duration.ofSeconds(30), 5);
                }
                rows.deleteAll();
                for (int i = 0; i < 250; i++) {
                    submitOne(front, "pick " + i);
                    awaitDone(rows, Duration.ofSeconds(30), 100);
                    Thread.sleep(100); // every slot idle again, waiting for a wake-up
                }
                List<Double> ms = doubles(db.dataSource(),
                        "SELECT EXTRACT(EPOCH FROM started_at - created_at) * 1000 FROM agent_tasks ORDER BY id");
                bench("pick-up latency across nodes (submitted on an API-only node, idle slots on another; after 500"
                        + " unmeasured): %s ms over %d tasks", percentiles(ms), ms.size());
            }
        }
    }

    /**
     * 30 busy agents on one node, first silent (sleeping), then each printing a 400-character line every 100 ms:
     * what storing their output adds to the database (statements, CPU, WAL), and that it keeps up.
     */
    @Test
    @Order(6)
    void outputOfBusyAgents() throws Exception {
        int agents = 30;
        try (PostgresCluster pg = PostgresCluster.create("bench-output", "shared_preload_libraries = 'pg_stat_statements'",
                "pg_stat_statements.track = all")) {
            String url = pg.jdbcUrl("agentturbo");
            try (Connection c = pg.superuser("agentturbo"); Statement s = c.createStatement()) {
                s.execute("CREATE EXTENSION pg_stat_statements");
                s.execute("CREATE ROLE node_a LOGIN PASSWORD 'bench' IN ROLE " + TestDatabase.USER);
            }
            DataSource admin = dataSource(url, TestDatabase.USER, TestDatabase.PASSWORD);
            Schema.migrate(admin);
            Map<String, String> env = roleEnv(url, "node_a", agents);
            env.put("AGENTTURBO_COMMAND_ALLOWED", "/bin/sh");
            long postmaster = Long.parseLong(Files.readAllLines(pg.dataDir().resolve("postmaster.pid")).get(0).trim());
            try (MicroNode node = MicroNode.start("bench-output", env)) {
                TaskRows rows = new TaskRows(admin);
                String line = "x".repeat(400);
                List<String> phases = List.of("sleep 70",
                        "i=0; while [ $i -lt 700 ]; do echo \\\"" + line + " $i\\\"; sleep 0.1; i=$((i+1)); done");
                List<double[]> measured = new ArrayList<>();
                for (String script : phases) {
                    for (int i = 0; i < agents; i++) {
                        var r = node.post("/api/tasks", "{\"executor\": \"command\", \"prompt\": \"go\", \"options\":"
                                + " {\"command\": \"/bin/sh\", \"args\": [\"-c\", \"" + script + "\"]}}");
                        assertEquals(201, r.statusCode(), r.body());
                    }
                    Thread.sleep(10_000); // every agent runs
                    if (rows.count("status = 'running'") != agents) {
                        throw new AssertionError("not every agent runs: " + rows.count("status = 'running'"));
                    }
                    resetStatements(pg);
                    long cpu0 = cpuTicks(postmaster);
                    long wal0 = walBytes(admin);
                    long lines0 = ((Number) rows.value("SELECT count(*) FROM task_output")).longValue();
                    Thread.sleep(40_000);
                    double calls = statements(pg).get("node_a+");
                    double cpu = (cpuTicks(postmaster) - cpu0) / 100.0;
                    double wal = walBytes(admin) - wal0;
                    double lines = ((Number) rows.value("SELECT count(*) FROM task_output")).longValue() - lines0;
                    measured.add(new double[]{calls / 40, cpu / 40, wal / 40 / 1e6, lines / 40});
                    awaitDone(rows, Duration.ofMinutes(3));
                }
                double[] silent = measured.get(0);
                double[] printing = measured.get(1);
                List<Double> lag = doubles(admin, """
                        SELECT EXTRACT(EPOCH FROM max(o.at) - min(o.at)) FROM task_output o GROUP BY task_id""");
                bench("output of %d busy agents (one node), each printing a 400-character line every 100 ms: %.0f lines/s"
                                + " stored; database load silent → printing: %.1f → %.1f statements/s (BEGIN/COMMIT"
                                + " included), CPU %.1f%% → %.1f%% of one core, WAL %.2f → %.2f MB/s",
                        agents, printing[3], silent[0], printing[0], 100 * silent[1], 100 * printing[1], silent[2],
                        printing[2]);
                bench("output of busy agents: every line of every agent stored (%d of %d); spread of each task's lines %s s",
                        ((Number) rows.value("SELECT count(*) FROM task_output WHERE kind = 'stdout'")).longValue(), agents * 700L, percentiles(lag));
            }
        }
    }

    /**
     * The console's tasks page with 100,000 tasks in the table: the first page as a signed-in operator opens it,
     * 200 times after 50 unmeasured (round trip on the loopback interface: the server's time, the network's is
     * nil); and the API's first page beside it.
     */
    @Test
    @Order(7)
    void tasksPageWith100000Tasks() throws Exception {
        try (TestDatabase db = TestDatabase.create("bench_console")) {
            Schema.migrate(db.dataSource());
            fill(db.dataSource(), 100_000);
            try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
                // a week of finished work from three nodes and two submitters, a few thousand waiting
                s.execute("""
                        UPDATE agent_tasks SET
                          status = (ARRAY['completed','completed','completed','failed','cancelled','pending'])[1 + id % 6],
                          attempt = 1, assigned_worker_id = 'node-' || (id % 3),
                          submitted_by = CASE WHEN id % 2 = 0 THEN 'token:ci' ELSE 'user:dana' END,
                          created_at = now() - make_interval(secs => (100000 - id) * 6),
                          started_at = now() - make_interval(secs => (100000 - id) * 6 - 1),
                          completed_at = CASE WHEN id % 6 < 5 THEN now() - make_interval(secs => (100000 - id) * 6 - 30) END,
                          cost_usd = 0.01 * (id % 7), input_tokens = 1000 + id % 500, output_tokens = 200 + id % 90""");
                s.execute("VACUUM ANALYZE agent_tasks");
            }
            Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
            env.put("AGENTTURBO_WORKER_SLOTS", "0");
            try (MicroNode node = MicroNode.start("bench-console", env)) {
                java.net.http.HttpClient browser = java.net.http.HttpClient.newBuilder()
                        .cookieHandler(new java.net.CookieManager())
                        .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
                // the first operator is made just after the node answers: sign in once it exists
                String signedIn = "";
                for (int attempt = 0; attempt < 20 && !signedIn.equals("/console/"); attempt++) {
                    Thread.sleep(attempt == 0 ? 0 : 500);
                    var login = browser.send(java.net.http.HttpRequest.newBuilder(node.uri("/console/login"))
                                    .header("Content-Type", "application/x-www-form-urlencoded")
                                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                            "username=admin&password=test-admin-password")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    signedIn = login.headers().firstValue("Location").orElse("").replaceAll("^https?://[^/]+", "");
                }
                assertEquals("/console/", signedIn, "signed in");
                var page = java.net.http.HttpRequest.newBuilder(node.uri("/console/tasks.xhtml")).build();
                List<Double> consoleMs = new ArrayList<>();
                for (int i = 0; i < 250; i++) {
                    long t0 = System.nanoTime();
                    var r = browser.send(page, java.net.http.HttpResponse.BodyHandlers.ofString());
                    double ms = (System.nanoTime() - t0) / 1e6;
                    assertEquals(200, r.statusCode());
                    if (!r.body().contains(">100000<") && !r.body().contains("100000")) {
                        throw new AssertionError("the first page does not show the newest task: " + r.body()
                                .substring(0, Math.min(2000, r.body().length())));
                    }
                    if (i >= 50) {
                        consoleMs.add(ms);
                    }
                }
                List<Double> apiMs = new ArrayList<>();
                for (int i = 0; i < 250; i++) {
                    long t0 = System.nanoTime();
                    var r = node.get("/api/tasks?limit=50");
                    double ms = (System.nanoTime() - t0) / 1e6;
                    assertEquals(200, r.statusCode());
                    if (i >= 50) {
                        apiMs.add(ms);
                    }
                }
                bench("console tasks page, first page of 100,000 tasks as an operator: %s ms (200 requests after 50);"
                        + " the API's first page of 50: %s ms", percentiles(consoleMs), percentiles(apiMs));
            }
        }
    }

    // --- the subscription's window -----------------------------------------------------------------------------

    /**
     * Two nodes of 3 slots share one subscription whose server allows 8 Messages requests a 25 s window and
     * answers the usage limit until the window's end past that; each task runs the real {@code claude} program
     * against it, and the queue holds more than the windows allow. The first window begins as the queue is
     * submitted to the idle fleet (a warm-up: the programs' first starts, reported apart); measured are the next 3
     * windows, each begun by a reset, and the 3 resets that end them:
     * <ul>
     * <li>runs completed per window: requests the server accepted in the window whose task completed (the
     * program's session id ties the request to the task), against the 8 allowed;</li>
     * <li>rejected requests per slot and window (the program's device id is one a slot: one config folder
     * each);</li>
     * <li>resume latency: from each reset to the first request after it (accepted, the window being fresh), and,
     * beside it, to the first claim after it and the program's own start (claim to request);</li>
     * <li>failed tasks, and the attempt count of every completed task (a usage-limit ending does not count).</li>
     * </ul>
     */
    @Test
    @Order(8)
    void subscriptionWindow() throws Exception {
        // six starts of the real program at once take some 5 s on 2 cores beside the nodes before their requests
        // go out, and their runs about 10 s: 8 allowed in 25 s leaves the wave that meets the limit inside each window
        int perWindow = 8;
        Duration length = Duration.ofSeconds(25);
        int first = 1;
        int last = 3;
        int measured = last - first + 1;
        int slots = 6;
        FakeMessagesApi api = FakeMessagesApi.start();
        TestDatabase db = null;
        MicroNode a = null;
        MicroNode b = null;
        try {
            db = TestDatabase.create("bench_window");
            Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
            env.put("AGENTTURBO_CLAUDE_COMMAND", ClaudeProgram.path().toString());
            env.put("AGENTTURBO_WORKER_SLOTS", Integer.toString(slots / 2));
            env.putAll(ClaudeProgram.environment(api, ClaudeProgram.Auth.SUBSCRIPTION));
            var na = CompletableFuture.supplyAsync(() -> MicroNode.start("bench-window-a", env));
            var nb = CompletableFuture.supplyAsync(() -> MicroNode.start("bench-window-b", env));
            a = na.join();
            b = nb.join();
            TaskRows rows = new TaskRows(db.dataSource());
            MicroNode front = a;
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> liveSlots(front) == slots);

            api.window(perWindow, length);
            StringBuilder batch = new StringBuilder("[");
            for (int i = 0; i < perWindow * (last + 4); i++) {
                batch.append(i == 0 ? "" : ", ").append("{\"prompt\": \"window task ").append(i).append("\"}");
            }
            var submitted = a.post("/api/tasks/batch", batch.append("]").toString());
            assertEquals(201, submitted.statusCode(), submitted.body());

            // the measured windows, the first request after the last of their resets, and every run they accepted ended
            Instant lastReset = api.windows().get(0).end().plus(length.multipliedBy(last));
            await().atMost(Duration.between(Instant.now(), lastReset).plusSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> api.windows().size() > last + 1 && api.windows().get(last + 1).first() != null);
            Set<String> accepted = api.windowRequests().stream().filter(r -> r.window() <= last && r.accepted())
                    .map(FakeMessagesApi.WindowRequest::session).collect(Collectors.toSet());
            try {
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                        .until(() -> completedSessions(rows).containsAll(accepted));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // counted below as runs not completed
            }
            Set<String> completed = completedSessions(rows);
            List<FakeMessagesApi.WindowCount> counts = api.windows().subList(0, last + 2);
            List<FakeMessagesApi.WindowRequest> requests = api.windowRequests().stream()
                    .filter(r -> r.window() <= last).toList();

            List<Long> done = new ArrayList<>();
            List<Long> rejected = new ArrayList<>();
            for (int k = 0; k <= last; k++) {
                int window = k;
                done.add(requests.stream().filter(r -> r.window() == window && r.accepted()
                        && completed.contains(r.session())).count());
                rejected.add(requests.stream().filter(r -> r.window() == window && !r.accepted()).count());
            }
            List<Long> doneMeasured = done.subList(first, last + 1);
            List<Long> rejectedMeasured = rejected.subList(first, last + 1);
            Map<String, Long> bySlotAndWindow = requests.stream().filter(r -> !r.accepted())
                    .collect(Collectors.groupingBy(r -> r.device() + "/" + r.window(), Collectors.counting()));
            long devices = api.windowRequests().stream().map(FakeMessagesApi.WindowRequest::device).distinct().count();
            long mostRejected = bySlotAndWindow.values().stream().mapToLong(Long::longValue).max().orElse(0);
            double meanRejected = rejectedMeasured.stream().mapToLong(Long::longValue).sum() / (double) (slots * measured);
            long total = doneMeasured.stream().mapToLong(Long::longValue).sum();
            double overall = 100.0 * total / (perWindow * measured);

            List<Double> resume = new ArrayList<>();
            List<Double> claim = new ArrayList<>();
            for (int k = first + 1; k <= last + 1; k++) {
                Instant reset = counts.get(k).start();
                resume.add((double) Duration.between(reset, counts.get(k).first()).toMillis());
                claim.add(((Number) rows.value("""
                        SELECT EXTRACT(EPOCH FROM least(
                                 (SELECT min(started_at) FROM task_attempts WHERE started_at >= ?),
                                 (SELECT min(started_at) FROM agent_tasks WHERE started_at >= ?)) - ?) * 1000""",
                        java.sql.Timestamp.from(reset), java.sql.Timestamp.from(reset), java.sql.Timestamp.from(reset)))
                        .doubleValue());
            }
            long failed = rows.count("status = 'failed'");
            Map<String, Long> attempts = counts(db.dataSource(),
                    "SELECT attempt, count(*) FROM agent_tasks WHERE status = 'completed' GROUP BY 1");
            Map<String, Long> endings = counts(db.dataSource(), "SELECT outcome, count(*) FROM task_attempts GROUP BY 1");
            List<Double> start = new ArrayList<>();
            Map<String, Instant> started = new HashMap<>();
            rows.query("SELECT session_id, started_at FROM agent_tasks WHERE status = 'completed'").forEach(r ->
                    started.put((String) r.get("session_id"), ((java.sql.Timestamp) r.get("started_at")).toInstant()));
            requests.stream().filter(r -> r.window() >= first && r.accepted() && started.containsKey(r.session()))
                    .forEach(r -> start.add((double) Duration.between(started.get(r.session()), r.at()).toMillis()));
            long releasedThenCompleted = ((Number) rows.value("""
                    SELECT count(DISTINCT t.id) FROM agent_tasks t JOIN task_attempts a ON a.task_id = t.id
                     WHERE t.status = 'completed' AND a.outcome = 'released'""")).longValue();

            bench("subscription window: 2 nodes × 3 slots, one subscription, %d requests a %d s window; the warm-up"
                            + " window from the idle fleet: %d completed, %d rejected; the next %d windows: runs completed"
                            + " %s of %d, overall %d of %d (%.1f %%); tasks failed %d; rejected requests %s, per slot and"
                            + " window max %d, mean %.2f (%d slots seen); resume after the reset, first request %s ms"
                            + " (median %.0f, max %.0f), first claim %s ms; the program's start (claim to request) %s ms;"
                            + " completed tasks by attempt %s (%d of them after a usage-limit release); attempt endings %s",
                    perWindow, length.toSeconds(), done.get(0), rejected.get(0), measured, doneMeasured, perWindow,
                    total, perWindow * measured, overall, failed, rejectedMeasured, mostRejected, meanRejected, devices,
                    runs(resume), median(resume), sorted(resume).get(resume.size() - 1), runs(claim),
                    percentiles(start), attempts, releasedThenCompleted, endings);

            assertTrue(overall >= 95, "at least 95 % of the runs the windows allow completed: " + doneMeasured);
            assertTrue(rejectedMeasured.stream().allMatch(n -> n > 0), "the fleet met the limit in every window: "
                    + rejectedMeasured);
            assertEquals(0, failed, "no task failed");
            assertEquals(0, rows.count("status = 'completed' AND attempt <> 1"), "no completed task counted an"
                    + " attempt for a usage limit: " + attempts);
            assertTrue(mostRejected <= 1, "at most one rejected request per slot and window: " + bySlotAndWindow);
            assertTrue(devices <= slots, "one device id a slot: " + devices);
            assertTrue(sorted(resume).get(resume.size() - 1) <= 5000, "resumed within 5 s of each reset: " + resume);
        } finally {
            Closing.all(a, b, api, db);
        }
    }

    /** The slots whose loops run, over the whole fleet. */
    static int liveSlots(MicroNode node) throws IOException {
        try (var reader = jakarta.json.Json.createReader(new java.io.StringReader(node.get("/api/workers").body()))) {
            return reader.readObject().getJsonArray("workers").getValuesAs(jakarta.json.JsonObject.class).stream()
                    .mapToInt(w -> w.getInt("liveSlots")).sum();
        }
    }

    static Set<String> completedSessions(TaskRows rows) {
        return rows.query("SELECT session_id FROM agent_tasks WHERE status = 'completed' AND session_id IS NOT NULL")
                .stream().map(r -> (String) r.get("session_id")).collect(Collectors.toSet());
    }

    static long walBytes(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void submitOne(MicroNode node, String prompt) throws IOException {
        var response = node.post("/api/tasks", "{\"prompt\":\"" + prompt + "\",\"executor\":\"simulated\",\"options\":"
                + "{\"durationMs\":0}}");
        assertEquals(201, response.statusCode(), response.body());
    }

    // --- helpers -----------------------------------------------------------------------------------------------

    /**
     * Waits until no task is pending or running, looking every 200 ms with a query the status index answers: a
     * count over the whole table every few milliseconds would take the database's time from what is measured.
     */
    static void awaitDone(TaskRows rows, Duration timeout) throws InterruptedException {
        awaitDone(rows, timeout, 200);
    }

    static void awaitDone(TaskRows rows, Duration timeout, long everyMs) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        while (rows.count("status IN ('scheduled', 'pending', 'running')") > 0) {
            if (System.nanoTime() - until > 0) {
                throw new AssertionError("tasks still waiting or running after " + timeout);
            }
            Thread.sleep(everyMs);
        }
    }

    static void bench(String format, Object... args) {
        System.out.println("BENCH " + String.format(format, args));
    }

    /** Adds n pending zero-length simulated tasks in one transaction and wakes the nodes. */
    static void fill(DataSource ds, int n) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("INSERT INTO agent_tasks (executor, prompt, max_attempts, timeout_seconds, options)"
                    + " SELECT 'simulated', 'bench ' || g, 1, 60, '{\"durationMs\": 0}' FROM generate_series(1, " + n + ") g");
            s.execute("SELECT pg_notify('agent_turbo_tasks', '')");
            c.commit();
        }
    }

    static DataSource dataSource(String url, String user, String password) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(url);
        ds.setUser(user);
        ds.setPassword(password);
        return ds;
    }

    static String setting(DataSource ds, String name) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('" + name + "')")) {
            rs.next();
            return rs.getString(1);
        }
    }

    static List<Double> doubles(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<Double> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getObject(1) == null ? Double.NaN : rs.getDouble(1));
            }
            return values;
        }
    }

    static Map<String, Long> counts(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            Map<String, Long> values = new TreeMap<>();
            while (rs.next()) {
                values.put(rs.getString(1), rs.getLong(2));
            }
            return values;
        }
    }

    static String percentiles(List<Double> values) {
        List<Double> s = sorted(values);
        return String.format("p50 %.1f, p90 %.1f, p99 %.1f, max %.1f (n=%d)", pct(s, 50), pct(s, 90), pct(s, 99),
                s.get(s.size() - 1), s.size());
    }

    static String runs(List<Double> values) {
        return values.stream().map(v -> String.format("%.0f", v)).toList().toString();
    }

    static List<Double> sorted(List<Double> values) {
        return values.stream().filter(v -> !v.isNaN()).sorted().toList();
    }

    static double median(List<Double> values) {
        return pct(sorted(values), 50);
    }

    static double pct(List<Double> sorted, int p) {
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1)));
    }

    static long rssMb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }
}
