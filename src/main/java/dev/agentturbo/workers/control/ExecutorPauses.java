package dev.agentturbo.workers.control;

import dev.agentturbo.agents.control.ExecutorLimits;
import dev.agentturbo.agents.entity.ExecutorLimit;
import dev.agentturbo.tasks.control.TaskEvents;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * What one node knows of the fleet's pauses of executors (usage limits, rate-limit back-offs, refused
 * credentials), for the {@link Dispatcher}: which executors it may not start now, what it learnt that the fleet must
 * be told (written with the dispatcher's next round), and the probe that starts an executor again after a pause.
 * <p>
 * A pause that ends is probed by one task: should the limit still hold (a reset read wrong, a lift too early), one
 * agent meets it rather than all; and that one starts without the company of the others. The probe ends when its
 * agent's request was answered, when its attempt ends, or after {@link #PROBE_NANOS}.
 * <p>
 * Thread-safe; it never calls out while it holds its own lock, so the dispatcher may call it under its own lock.
 * Methods that return {@code true} tell the dispatcher to claim again at once.
 */
final class ExecutorPauses {

    private static final Logger LOG = Logger.getLogger(ExecutorPauses.class.getName());

    /** How long the other tasks of an executor wait for its probe's agent to be answered, at most. */
    static final long PROBE_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** The outcomes that mean an executor's API refuses this node's credential for now. */
    private static final Set<Outcome.Kind> LIMITS = EnumSet.of(Outcome.Kind.USAGE_LIMITED, Outcome.Kind.RATE_LIMITED,
            Outcome.Kind.CREDENTIALS);

    /**
     * What the node learnt about an executor's API outside an attempt's end, written with the next round: a
     * {@code rate-limit} an agent saw while it runs, or missing {@code credentials} found at start.
     */
    record Signal(String executor, String kind, Duration retryAfter, String reason) {
    }

    /** A fleet-wide pause this node began: executor, kind, and the line that says so. */
    private record Began(String executor, String kind, String line) {
    }

    /** What a round wrote to the fleet's limits: the pauses it began, and until when each executor is paused here. */
    record Written(List<Began> began, Map<String, Instant> paused) {
        static final Written NOTHING = new Written(List.of(), Map.of());
    }

    /** How the set of paused executors changed: whether to claim again, and when the earliest pause ends. */
    record Change(boolean claimAgain, Optional<Instant> earliestEnd) {
    }

    /** The lease token of the probe's task, 0 while none is claimed yet, and since when. */
    private record Probe(long leaseToken, long since) {
    }

    private final String node;
    private final Function<String, String> credentialOf;
    private volatile Backoff backOff = new Backoff(Duration.ofSeconds(5), Duration.ofMinutes(5));
    /** Executors this node may not start now (paused for its credential), and when the pause ends. */
    private volatile Map<String, Instant> paused = Map.of();
    // guarded by this
    private final List<Signal> signals = new ArrayList<>();
    private boolean readLimits;
    private final Map<String, Probe> probes = new HashMap<>();

    /**
     * @param credentialOf the fingerprint of the credential this node's agents of an executor use: a pause of the
     *                     executor for that credential stops this node's claims of its tasks
     */
    ExecutorPauses(String node, Function<String, String> credentialOf) {
        this.node = node;
        this.credentialOf = credentialOf;
    }

    void backingOff(Backoff policy) {
        this.backOff = policy;
    }

    /** The executors this node starts no task of now. */
    Set<String> paused() {
        return paused.keySet();
    }

    // --- what the node learns ---------------------------------------------------------------------------------

    /**
     * An agent saw the API answer "rate limited" or "overloaded": to be written with the next round. Dropped while
     * this node already backs off for longer. True when there is something to write.
     */
    boolean rateLimited(String executor, Duration retryAfter, String reason) {
        Instant until = paused.get(executor);
        if (until != null && until.isAfter(Instant.now().plus(retryAfter == null ? Duration.ZERO : retryAfter))) {
            return false;
        }
        return signal(new Signal(executor, "rate-limit", retryAfter, reason));
    }

    /** This node's agents of an executor have no credential. True when there is something to write. */
    boolean missingCredential(String executor, String reason) {
        return signal(new Signal(executor, "credentials", null, reason));
    }

    private synchronized boolean signal(Signal s) {
        if (signals.stream().noneMatch(x -> x.executor().equals(s.executor()) && x.kind().equals(s.kind()))) {
            signals.add(s);
            return true;
        }
        return false;
    }

    /** A pause began or was lifted somewhere in the fleet: the next round reads the pauses before it claims. */
    synchronized void limitsChanged() {
        readLimits = true;
    }

    /** True while there is something for the next round to write or read. */
    synchronized boolean pending() {
        return !signals.isEmpty() || readLimits;
    }

    /** Takes what the next round writes. */
    synchronized List<Signal> takeSignals() {
        List<Signal> said = List.copyOf(signals);
        signals.clear();
        return said;
    }

    /** Takes whether the next round reads the fleet's pauses first. */
    synchronized boolean takeReadLimits() {
        boolean read = readLimits;
        readLimits = false;
        return read;
    }

    /** A round that failed: what it took waits again, first. */
    synchronized void giveBack(List<Signal> said, boolean read) {
        signals.addAll(0, said);
        readLimits |= read;
    }

    // --- the fleet's pauses -----------------------------------------------------------------------------------

    /** The fleet's active pauses (read with the heartbeat, or before a claim): keeps the ones for this node's credentials. */
    Change use(List<ExecutorLimit> active) {
        Map<String, Instant> mine = new HashMap<>();
        for (ExecutorLimit l : active) {
            if (l.credential().equals(credentialOf.apply(l.executor()))) {
                mine.merge(l.executor(), l.until() == null ? Instant.MAX : l.until(), ExecutorPauses::later);
            }
        }
        return replace(mine);
    }

    /** The pauses a committed round began (or extended) here, on top of the ones known. */
    Change add(Written written, TaskEvents events) {
        for (Began b : written.began()) {
            LOG.warning(b.line());
            events.pauseBegan(b.executor(), b.kind());
        }
        if (written.paused().isEmpty()) {
            return new Change(false, Optional.empty());
        }
        Map<String, Instant> mine = new HashMap<>(paused);
        written.paused().forEach((executor, until) -> mine.merge(executor, until, ExecutorPauses::later));
        return replace(mine);
    }

    private Change replace(Map<String, Instant> mine) {
        Map<String, Instant> before;
        synchronized (this) {
            before = paused;
            paused = Map.copyOf(mine);
            before.keySet().stream().filter(e -> !mine.containsKey(e))
                    .forEach(e -> probes.put(e, new Probe(0, System.nanoTime())));
            mine.keySet().forEach(probes::remove);
        }
        for (String executor : before.keySet()) {
            if (!mine.containsKey(executor)) {
                LOG.info(() -> "node " + node + " starts " + executor + " tasks again: its pause ended");
            }
        }
        for (var e : mine.entrySet()) {
            if (!before.containsKey(e.getKey())) {
                LOG.info(() -> "node " + node + " starts no " + e.getKey() + " tasks until "
                        + (e.getValue() == Instant.MAX ? "the pause is lifted" : e.getValue())
                        + " (paused for the credential its agents use)");
            }
        }
        return new Change(!before.keySet().equals(mine.keySet()),
                mine.values().stream().filter(t -> t != Instant.MAX).min(Comparator.naturalOrder()));
    }

    /**
     * The executors a round claims no task of: the paused ones, the ones whose limit an ending or a signal of this
     * very round met, and the ones whose probe runs.
     */
    Set<String> skip(List<Dispatcher.Ended> toWrite, List<Signal> said) {
        Set<String> skip = new HashSet<>(paused.keySet());
        toWrite.stream().filter(e -> LIMITS.contains(e.outcome().kind()))
                .forEach(e -> skip.add(e.lease().task().executor()));
        said.forEach(s -> skip.add(s.executor()));
        synchronized (this) {
            probes.forEach((executor, p) -> {
                if (p.leaseToken() != 0) {
                    skip.add(executor);
                }
            });
        }
        return skip;
    }

    /**
     * Writes the fleet's limits that a round's endings and signals met, in its transaction: a usage limit pauses
     * the executor for the credential until the reset; a rate limit backs it off (once per executor a round);
     * missing or refused credentials pause it until lifted. {@code after[i]} is null for an ending fenced out.
     */
    Written write(Connection c, List<Dispatcher.Ended> toWrite, String[] after, List<Signal> said) throws SQLException {
        Map<String, Instant> newlyPaused = new HashMap<>();
        List<Began> began = new ArrayList<>();
        Map<String, Signal> rateLimits = new LinkedHashMap<>();
        Map<String, String> credentials = new LinkedHashMap<>();
        for (int i = 0; i < toWrite.size(); i++) {
            Outcome o = toWrite.get(i).outcome();
            ClaimedTask t = toWrite.get(i).lease().task();
            if (after[i] == null) {
                continue; // fenced out: not this node's to say
            }
            String where = " (task " + t.id() + " on " + node + ")";
            switch (o.kind()) {
                case USAGE_LIMITED -> {
                    if (o.resumeAt() != null) {
                        String credential = credentialOf.apply(t.executor());
                        if (ExecutorLimits.pause(c, t.executor(), credential, "usage-limit", o.resumeAt(),
                                "usage limit reached" + where)) {
                            began.add(new Began(t.executor(), "usage-limit", t.executor() + " (" + credential
                                    + ") paused fleet-wide until " + o.resumeAt() + ": usage limit reached by task "
                                    + t.id() + " on " + node));
                        }
                        newlyPaused.merge(t.executor(), o.resumeAt(), ExecutorPauses::later);
                    }
                }
                case RATE_LIMITED -> {
                    Duration asked = o.resumeAt() == null ? null : Duration.between(Instant.now(), o.resumeAt());
                    rateLimits.merge(t.executor(), new Signal(t.executor(), "rate-limit", asked, o.error() + where),
                            ExecutorPauses::longer);
                }
                case CREDENTIALS -> credentials.putIfAbsent(t.executor(), o.error() + where);
                default -> {
                }
            }
        }
        for (Signal s : said) {
            if (s.kind().equals("credentials")) {
                credentials.putIfAbsent(s.executor(), s.reason() + " (node " + node + ")");
            } else {
                rateLimits.merge(s.executor(), new Signal(s.executor(), s.kind(), s.retryAfter(),
                        s.reason() + " (node " + node + ")"), ExecutorPauses::longer);
            }
        }
        Backoff policy = backOff;
        for (Signal s : rateLimits.values()) {
            String credential = credentialOf.apply(s.executor());
            var b = ExecutorLimits.backOff(c, s.executor(), credential, s.retryAfter(), s.reason(), policy::after,
                    policy.max());
            if (b.began()) {
                began.add(new Began(s.executor(), "rate-limit", s.executor() + " (" + credential
                        + ") backs off fleet-wide until " + b.until() + " (back-off " + b.strikes() + " in a row): "
                        + s.reason()));
            }
            newlyPaused.merge(s.executor(), b.until(), ExecutorPauses::later);
        }
        for (var e : credentials.entrySet()) {
            String credential = credentialOf.apply(e.getKey());
            if (ExecutorLimits.pause(c, e.getKey(), credential, "credentials", null, e.getValue())) {
                began.add(new Began(e.getKey(), "credentials", e.getKey() + " (" + credential
                        + ") paused fleet-wide until lifted: " + e.getValue()));
            }
            newlyPaused.put(e.getKey(), Instant.MAX);
        }
        return began.isEmpty() && newlyPaused.isEmpty() ? Written.NOTHING : new Written(began, newlyPaused);
    }

    // --- probes -----------------------------------------------------------------------------------------------

    /** True while an executor waits for its probe to be claimed: a round then claims one task. */
    synchronized boolean awaitingProbe() {
        return probes.values().stream().anyMatch(p -> p.leaseToken() == 0);
    }

    /** Ends the probes that were neither answered nor ended within {@link #PROBE_NANOS}. */
    synchronized boolean expireProbes(long now) {
        return probes.values().removeIf(p -> p.leaseToken() != 0 && now - p.since() > PROBE_NANOS);
    }

    /** The API answered the agent of this task: if it probed the executor, the executor's other tasks start now. */
    synchronized boolean answered(String executor, long leaseToken) {
        Probe p = probes.get(executor);
        if (p != null && p.leaseToken() == leaseToken) {
            probes.remove(executor);
            return true;
        }
        return false;
    }

    /** Attempts that ended (however they ended): a probe among them holds nothing back any more. */
    synchronized boolean ended(List<Dispatcher.Ended> ended) {
        boolean any = false;
        for (Dispatcher.Ended e : ended) {
            ClaimedTask t = e.lease().task();
            Probe p = probes.get(t.executor());
            if (p != null && p.leaseToken() == t.leaseToken()) {
                probes.remove(t.executor());
                any = true;
            }
        }
        return any;
    }

    /**
     * The first task claimed of an executor waiting for its probe is the probe. A claim that found nothing to
     * claim ends the waiting: with no task of the executor in the queue there is nothing to probe with.
     */
    void claimed(List<ClaimedTask> claimed, int asked) {
        List<ClaimedTask> probing = new ArrayList<>();
        synchronized (this) {
            for (ClaimedTask t : claimed) {
                Probe p = probes.get(t.executor());
                if (p != null && p.leaseToken() == 0) {
                    probes.put(t.executor(), new Probe(t.leaseToken(), System.nanoTime()));
                    probing.add(t);
                }
            }
            if (asked > 0 && claimed.isEmpty()) {
                probes.values().removeIf(p -> p.leaseToken() == 0);
            }
        }
        probing.forEach(t -> LOG.info(() -> "node " + node + " probes " + t.executor() + " with task " + t.id()
                + " before it starts its other tasks"));
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Signal longer(Signal a, Signal b) {
        if (a.retryAfter() == null) {
            return b;
        }
        return b.retryAfter() != null && b.retryAfter().compareTo(a.retryAfter()) > 0 ? b : a;
    }
}
