package dev.agentturbo.bench;

import dev.agentturbo.tasks.control.TaskLeases;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.workers.control.WorkerRegistry;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * Many nodes on paper: each simulated node is one thread on one connection that speaks the lease protocol exactly
 * as a node's dispatcher does, with the real statements ({@link TaskLeases}, {@link WorkerRegistry}): it records
 * the endings of its tasks and claims for its free slots in one transaction, renews all its leases in one
 * statement every heartbeat, and writes its heartbeat, requeues expired leases and promotes scheduled tasks every
 * heartbeat. Its agents are timers. A probe node beside them claims one task every 100 ms and times the claim.
 */
final class FleetSimulation {

    record Result(long claims, long renewals, long beats, double seconds, List<Double> probeClaimMs) {
    }

    private final DataSource db;
    private final int nodes;
    private final int slots;
    private final Duration taskLength;
    private final Duration heartbeat;
    private final Duration lease;
    private final AtomicLong claims = new AtomicLong();
    private final AtomicLong renewals = new AtomicLong();
    private final AtomicLong beats = new AtomicLong();
    private final List<Double> probe = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean running = true;
    private volatile boolean measuring;

    FleetSimulation(DataSource db, int nodes, int slots, Duration taskLength, Duration heartbeat) {
        this.db = db;
        this.nodes = nodes;
        this.slots = slots;
        this.taskLength = taskLength;
        this.heartbeat = heartbeat;
        this.lease = heartbeat.multipliedBy(4);
    }

    /** Runs the fleet for {@code warmUp}, then counts for {@code measure}; {@code during} runs meanwhile. */
    Result run(Duration warmUp, Duration measure, Runnable atStart, Runnable atEnd) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            int node = n;
            Thread t = new Thread(() -> node("sim-" + node), "sim-" + node);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        Thread prober = new Thread(this::probe, "sim-probe");
        prober.setDaemon(true);
        prober.start();
        Thread.sleep(warmUp.toMillis());
        atStart.run();
        measuring = true;
        long t0 = System.nanoTime();
        Thread.sleep(measure.toMillis());
        measuring = false;
        double seconds = (System.nanoTime() - t0) / 1e9;
        atEnd.run();
        running = false;
        for (Thread t : threads) {
            t.join(10_000);
        }
        prober.join(10_000);
        return new Result(claims.get(), renewals.get(), beats.get(), seconds, List.copyOf(probe));
    }

    private void node(String id) {
        TaskLeases leases = new TaskLeases();
        WorkerRegistry registry = new WorkerRegistry(db);
        Map<Long, Long> endsAt = new HashMap<>();
        Map<Long, ClaimedTask> held = new HashMap<>();
        int[] slotNumbers = IntStream.rangeClosed(1, slots).toArray();
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            registry.register(c, id, "simulation", slots, "sim");
            c.commit();
            long nextRenewal = System.nanoTime() + heartbeat.toNanos();
            long nextBeat = System.nanoTime() + ThreadLocalRandom.current().nextLong(heartbeat.toNanos());
            while (running) {
                long now = System.nanoTime();
                List<TaskLeases.Ending> endings = new ArrayList<>();
                for (var e : List.copyOf(endsAt.entrySet())) {
                    if (e.getValue() - now <= 0) {
                        endings.add(new TaskLeases.Ending(held.remove(e.getKey()), Outcome.succeeded("sim", 0),
                                Duration.ZERO));
                        endsAt.remove(e.getKey());
                    }
                }
                int free = slots - held.size();
                if (free > 0) {
                    if (!endings.isEmpty()) {
                        leases.record(c, endings);
                    }
                    int[] numbers = java.util.Arrays.copyOf(slotNumbers, free);
                    for (ClaimedTask t : leases.claim(c, id, numbers, lease)) {
                        held.put(t.leaseToken(), t);
                        endsAt.put(t.leaseToken(), now + (long) (taskLength.toNanos()
                                * (0.5 + ThreadLocalRandom.current().nextDouble())));
                        if (measuring) {
                            claims.incrementAndGet();
                        }
                    }
                    c.commit();
                }
                if (now - nextRenewal >= 0) {
                    leases.renew(c, held.values(), lease);
                    c.commit();
                    nextRenewal = now + heartbeat.toNanos();
                    if (measuring) {
                        renewals.incrementAndGet();
                    }
                }
                if (now - nextBeat >= 0) {
                    registry.beat(c, id, slots, held.size(), slots, "active");
                    leases.requeueExpired(c, lease);
                    leases.promoteDue(c, 1000);
                    c.commit();
                    nextBeat = now + heartbeat.toNanos();
                    if (measuring) {
                        beats.incrementAndGet();
                    }
                }
                long next = Math.min(nextRenewal, nextBeat);
                for (long end : endsAt.values()) {
                    next = Math.min(next, end);
                }
                if (held.size() < slots) {
                    next = Math.min(next, now + 1_000_000_000L); // the poll of a node with free slots
                }
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        } catch (SQLException | InterruptedException e) {
            if (running) {
                throw new IllegalStateException(id + " failed: " + e.getMessage(), e);
            }
        }
    }

    private void probe() {
        TaskLeases leases = new TaskLeases();
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            while (running) {
                long t0 = System.nanoTime();
                List<ClaimedTask> got = leases.claim(c, "sim-probe", new int[]{1}, lease);
                c.commit();
                double ms = (System.nanoTime() - t0) / 1e6;
                if (measuring && !got.isEmpty()) {
                    probe.add(ms);
                }
                if (!got.isEmpty()) {
                    leases.record(c, List.of(new TaskLeases.Ending(got.get(0), Outcome.succeeded("probe", 0),
                            Duration.ZERO)));
                    c.commit();
                }
                Thread.sleep(100);
            }
        } catch (SQLException | InterruptedException e) {
            if (running) {
                throw new IllegalStateException("probe failed: " + e.getMessage(), e);
            }
        }
    }
}
