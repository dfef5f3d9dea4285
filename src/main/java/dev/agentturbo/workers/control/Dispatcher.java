package dev.agentturbo.workers.control;

import dev.agentturbo.agents.entity.ExecutorLimit;
import dev.agentturbo.platform.DatabaseLink;
import dev.agentturbo.platform.OutageLog;
import dev.agentturbo.tasks.control.TaskEvents;
import dev.agentturbo.tasks.control.TaskLeases;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.workers.entity.Wanted;
import dev.agentturbo.workers.entity.WorkerSettings;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node's one line to the queue: a single thread on a single connection does all the database work of the
 * slots, so that what the database sees grows with nodes, not with slots.
 * <ul>
 * <li><b>Claim.</b> Idle slots register here. When a wake-up came (NOTIFY), the poll interval passed, or the last
 * claim took all it asked for, one statement claims as many tasks as slots are idle, and each goes to one slot.</li>
 * <li><b>Record.</b> Slots hand back how their attempt ended. The next round writes all endings waiting, fenced,
 * in the same transaction as its claim: one commit. Nothing waits for company: a round starts as soon as there is
 * something to do, so a single ending waits only for the round in flight.</li>
 * <li><b>Renew.</b> Every heartbeat one statement extends every lease the node holds, from the claim until the
 * attempt's end is recorded, and returns the cancel flags; a lease missing from the answer is lost.</li>
 * <li><b>Housekeeping</b> ({@link Housekeeping}), every heartbeat, and the promotion of scheduled tasks also at the
 * moment the next one is due.</li>
 * </ul>
 * When the database does not answer, nothing is dropped: endings stay in the outbox, slots stay idle, and the
 * round is tried again (100 ms, doubling to 2 s) until it lands. A write that the database answers with "no such
 * lease" is the proof that the task is someone else's: only then is an ending dropped.
 */
public final class Dispatcher {

    private static final Logger LOG = Logger.getLogger(Dispatcher.class.getName());
    private static final long FIRST_RETRY_MS = 100;
    private static final long MAX_RETRY_MS = 2000;
    /**
     * How long an ending may wait for others to share its commit, unless every lease the node holds has ended
     * already: each commit waits for the disk, so short agents finishing together are written together.
     */
    private static final long GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    /** How one attempt ended, as a slot hands it back; a null outcome means the lease was lost: nothing to write. */
    public record Ended(Lease lease, Outcome outcome, Duration retryDelay) {
    }

    private final WorkerSettings settings;
    private final TaskLeases leases;
    private final Housekeeping housekeeping;
    private final DatabaseLink link;
    private final IntSupplier liveSlots;
    private final OutageLog outage;
    private final Thread thread;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // guarded by lock
    private final ArrayDeque<Slot> idle = new ArrayDeque<>();
    private final List<Ended> outbox = new ArrayList<>();
    private long oldestEnding;
    private boolean rung = true;
    private boolean lastClaimFull;
    private boolean claiming = true;
    private boolean closing;
    private boolean stopping;
    private final ExecutorPauses pauses;
    private volatile TaskEvents events = TaskEvents.NONE;
    private String state = "active";
    private long nextPoll;
    private long nextRenewal;
    private long nextBeat;
    private long nextPromote = Long.MAX_VALUE;

    // by lease token (the node may hold a task again under a newer lease while the old one's end is not written);
    // written by the dispatcher thread, read by the listener (cancel) and the boundary (views)
    private final Map<Long, Lease> held = new ConcurrentHashMap<>();
    private volatile boolean registered;
    private volatile boolean connected;

    public Dispatcher(WorkerSettings settings, TaskLeases leases, WorkerRegistry registry, DatabaseLink link,
                      String host, String version, IntSupplier liveSlots, ThreadFactory threads) {
        this(settings, leases, registry, link, host, version, liveSlots, settings::slots, w -> {
        }, threads);
    }

    /**
     * @param slots  how many slots the node runs now (written with the heartbeat)
     * @param wanted takes what operators asked of the node (a slot count, a drain) at registration and with every
     *               heartbeat, on the dispatcher's thread: it must return at once
     */
    public Dispatcher(WorkerSettings settings, TaskLeases leases, WorkerRegistry registry, DatabaseLink link,
                      String host, String version, IntSupplier liveSlots, IntSupplier slots,
                      Consumer<Wanted> wanted, ThreadFactory threads) {
        this(settings, leases, registry, link, host, version, liveSlots, slots, wanted, executor -> "-", threads);
    }

    /**
     * @param credentialOf the fingerprint of the credential this node's agents of an executor use: a pause of the
     *                     executor for that credential (a usage limit) stops this node's claims of its tasks
     */
    public Dispatcher(WorkerSettings settings, TaskLeases leases, WorkerRegistry registry, DatabaseLink link,
                      String host, String version, IntSupplier liveSlots, IntSupplier slots,
                      Consumer<Wanted> wanted, Function<String, String> credentialOf, ThreadFactory threads) {
        this.pauses = new ExecutorPauses(settings.workerId(), credentialOf);
        this.settings = settings;
        this.leases = leases;
        this.housekeeping = new Housekeeping(settings, leases, registry, host, version, slots, wanted, () -> events);
        this.link = link;
        this.liveSlots = liveSlots;
        this.outage = new OutageLog(LOG, "node " + settings.workerId() + ": the database at " + link.where());
        long now = System.nanoTime();
        this.nextPoll = now;
        this.nextRenewal = now + settings.heartbeat().toNanos();
        this.nextBeat = now;
        this.thread = threads.newThread(this::loop);
        thread.setName("agent-turbo-dispatcher");
        thread.setDaemon(true);
    }

    /**
     * How long the fleet backs off an executor whose API answers "rate limited" or "overloaded": {@code first},
     * doubling with each back-off in a row up to {@code max}, with jitter. Set before {@link #start()}.
     */
    public Dispatcher backingOff(Duration first, Duration max) {
        pauses.backingOff(new Backoff(first, max));
        return this;
    }

    /** Tells this node's claims, records and requeues to {@code events} (the node's metrics). Set before {@link #start()}. */
    public Dispatcher reporting(TaskEvents events) {
        this.events = events;
        return this;
    }

    /** Where this node's events are told. */
    TaskEvents events() {
        return events;
    }

    public Dispatcher start() {
        thread.start();
        return this;
    }

    // --- what slots call ----------------------------------------------------------------------------------------

    /**
     * A slot hands back how its attempt ended (if {@code ended} is not null) and, if {@code slot} is not null,
     * waits for its next task: the dispatcher delivers it through {@link Slot#deliver(Lease)}.
     */
    void handBack(Slot slot, Ended ended) {
        lock.lock();
        try {
            if (ended != null) {
                if (outbox.isEmpty()) {
                    oldestEnding = System.nanoTime();
                }
                outbox.add(ended);
            }
            if (slot != null && !idle.contains(slot)) {
                idle.addLast(slot);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The slot no longer wants a task (it is draining). */
    void leave(Slot slot) {
        lock.lock();
        try {
            idle.remove(slot);
        } finally {
            lock.unlock();
        }
    }

    // --- what the node calls ------------------------------------------------------------------------------------

    /** Tasks may have become claimable (a NOTIFY came, or the LISTEN connection was opened again). */
    public void ring() {
        lock.lock();
        try {
            rung = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A user asked to cancel this task: if this node holds it, its slot kills the agent. */
    public boolean cancel(long taskId) {
        boolean found = false;
        for (Lease lease : held.values()) {
            if (lease.task().id() == taskId) {
                lease.requestCancel();
                found = true;
            }
        }
        return found;
    }

    /** No more claims (the node stops); endings are still recorded and leases renewed. */
    public void stopClaiming() {
        lock.lock();
        try {
            stopping = true;
            claiming = false;
            state = "draining";
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * An operator's drain: no more claims until {@link #resume()}; running agents go on and finish, endings are
     * recorded, leases renewed. The node shows {@code draining}.
     */
    public void pause() {
        lock.lock();
        try {
            if (!stopping && !closing && claiming) {
                claiming = false;
                state = "draining";
                nextBeat = System.nanoTime(); // say so at once
                changed.signalAll();
                LOG.info(() -> "node " + settings.workerId() + " drains: no new claims; running agents finish");
            }
        } finally {
            lock.unlock();
        }
    }

    /** Claims again after {@link #pause()}; nothing once the node stops. */
    public void resume() {
        lock.lock();
        try {
            if (!stopping && !closing && !claiming) {
                claiming = true;
                state = "active";
                rung = true;
                nextBeat = System.nanoTime();
                changed.signalAll();
                LOG.info(() -> "node " + settings.workerId() + " takes work again");
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The fleet's active pauses (read with the heartbeat): this node claims no task of an executor paused for the
     * credential its own agents use, until the pause ends. Called on the dispatcher's thread.
     */
    public void limits(List<ExecutorLimit> active) {
        pausesChanged(pauses.use(active));
    }

    /** Claims again at once when the set of paused executors changed; looks again the moment the earliest pause ends. */
    private void pausesChanged(ExecutorPauses.Change change) {
        lock.lock();
        try {
            if (change.claimAgain()) {
                rung = true;
            }
            change.earliestEnd().ifPresent(t -> {
                long at = System.nanoTime() + Math.max(0, Duration.between(Instant.now(), t).toNanos())
                        + TimeUnit.MILLISECONDS.toNanos(100);
                if (at - nextBeat < 0) {
                    nextBeat = at;
                }
            });
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * An agent saw the API answer "rate limited" (429) or "overloaded" (529) while it runs: the next round backs
     * the executor off fleet-wide for this node's credential, and this node starts none of its tasks meanwhile.
     * Reports while this node already backs off for longer are dropped. Any thread; returns at once.
     */
    public void rateLimited(String executor, Duration retryAfter, String reason) {
        if (!isClosing() && pauses.rateLimited(executor, retryAfter, reason)) {
            wake(false);
        }
    }

    /**
     * The API answered the agent of this task: if it probed the executor after a pause, the executor's other tasks
     * start now. Any thread; returns at once.
     */
    public void answered(String executor, long leaseToken) {
        if (pauses.answered(executor, leaseToken)) {
            wake(true);
        }
    }

    /** This node's agents of an executor have no credential: it is paused for that credential until lifted. */
    public void missingCredential(String executor, String reason) {
        if (!isClosing() && pauses.missingCredential(executor, reason)) {
            wake(false);
        }
    }

    /**
     * A pause began or was lifted somewhere in the fleet (NOTIFY): the next round reads the active pauses before
     * it claims, so that a task released by a node that met a limit is not claimed here into the same limit.
     */
    public void limitsChanged() {
        pauses.limitsChanged();
        wake(false);
    }

    private boolean isClosing() {
        lock.lock();
        try {
            return closing;
        } finally {
            lock.unlock();
        }
    }

    private void wake(boolean claimAgain) {
        lock.lock();
        try {
            rung |= claimAgain;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Writes the heartbeat (and reads what operators asked of the node) now rather than at its time. */
    public void beatNow() {
        lock.lock();
        try {
            if (!closing) {
                nextBeat = System.nanoTime();
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records what is left, marks the node stopped and ends the thread. Waits up to {@code flush} for the
     * database; whatever could not be written by then is logged, and its lease will expire.
     */
    public void close(Duration flush) throws InterruptedException {
        lock.lock();
        try {
            closing = true;
            claiming = false;
            state = "stopped";
            nextBeat = System.nanoTime();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        thread.join(flush.toMillis());
        if (thread.isAlive()) {
            List<Ended> left;
            lock.lock();
            try {
                left = List.copyOf(outbox);
            } finally {
                lock.unlock();
            }
            int stillHeld = held.size();
            LOG.severe(() -> "node " + settings.workerId() + " stopped with " + left.size() + " endings not recorded"
                    + " (the database did not answer) and " + stillHeld + " leases held: "
                    + left.stream().map(e -> e.lease().toString()).toList()
                    + "; their leases will expire and the tasks run again");
            thread.interrupt();
            thread.join(2000);
        }
        link.close();
    }

    /** The executors this node starts no task of now: paused for the credential its agents use. */
    public Set<String> paused() {
        return pauses.paused();
    }

    /** The leases this node holds now (running agents, and endings not yet recorded). */
    public int held() {
        return held.size();
    }

    /** True once the node's row is written: the database answered at least once. */
    public boolean registered() {
        return registered;
    }

    /** True while the dispatcher's last round reached the database. */
    public boolean connected() {
        return connected;
    }

    /** True while the node claims tasks: not drained by an operator, not stopping. */
    public boolean claiming() {
        lock.lock();
        try {
            return claiming;
        } finally {
            lock.unlock();
        }
    }

    /** False once the dispatcher's thread ended: after {@link #close}, or because it died. */
    public boolean alive() {
        return thread.isAlive();
    }

    // --- the dispatcher thread ----------------------------------------------------------------------------------

    /** What one pass of the loop does. */
    private record Round(List<Ended> ended, List<Slot> slots, List<ExecutorPauses.Signal> signals, boolean readLimits,
                         boolean renew, boolean beat, boolean promote, String state) {
        boolean dispatches() {
            return !ended.isEmpty() || !slots.isEmpty() || !signals.isEmpty() || readLimits;
        }
    }

    private void loop() {
        long retryMs = FIRST_RETRY_MS;
        while (true) {
            Round round;
            try {
                round = next();
            } catch (InterruptedException e) {
                return;
            }
            if (round == null) {
                return;
            }
            boolean dispatched = false;
            try {
                Connection c = link.get();
                if (!registered) {
                    housekeeping.register(c);
                    registered = true;
                }
                // claims and endings first: a slot waits for them; renewals have most of a lease to spare
                if (round.dispatches()) {
                    dispatch(c, round);
                }
                dispatched = true;
                if (round.renew()) {
                    renew(c);
                }
                if (round.beat()) {
                    beat(c, round.state());
                } else if (round.promote()) {
                    schedulePromotion(housekeeping.promote(c));
                }
                connected = true;
                outage.recovered();
                retryMs = FIRST_RETRY_MS;
            } catch (SQLException | RuntimeException e) {
                connected = false;
                if (e instanceof SQLException) {
                    link.broken();
                } else {
                    link.rollback();
                }
                giveBack(round, dispatched);
                outage.failed(e, "trying again in " + retryMs + " ms; running agents go on, endings are kept ("
                        + held.size() + " leases held)");
                try {
                    Thread.sleep(retryMs);
                } catch (InterruptedException ie) {
                    return;
                }
                retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
            }
        }
    }

    /** Waits until there is something to do and takes it; null when closing and everything is written. */
    private Round next() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                long now = System.nanoTime();
                if (pauses.expireProbes(now)) {
                    rung = true; // a probe that was never answered nor ended holds the others back no longer
                }
                boolean renew = !held.isEmpty() && now - nextRenewal >= 0;
                boolean beat = now - nextBeat >= 0;
                boolean promote = now - nextPromote >= 0;
                idle.removeIf(Slot::draining);
                if (closing && outbox.isEmpty() && held.isEmpty() && !beat) {
                    return null;
                }
                // endings go as soon as nothing else can end, or after a short wait for company; a claim waits
                // with them, since the slots that handed them back want their next task in the same commit
                boolean record = !outbox.isEmpty() && (closing || outbox.size() >= held.size()
                        || now - oldestEnding >= GATHER_NANOS);
                boolean claim = claiming && !idle.isEmpty() && (rung || lastClaimFull || now - nextPoll >= 0)
                        && (outbox.isEmpty() || record);
                boolean signal = pauses.pending();
                if (renew || beat || promote || claim || record || signal) {
                    List<Ended> ended = List.copyOf(outbox);
                    outbox.clear();
                    List<ExecutorPauses.Signal> said = pauses.takeSignals();
                    boolean readLimits = pauses.takeReadLimits();
                    List<Slot> slots = new ArrayList<>();
                    if (claim) {
                        // one slot per number: a slot started again may meet its predecessor on the way out
                        Map<Integer, Slot> byNumber = new HashMap<>();
                        idle.forEach(s -> byNumber.put(s.number(), s));
                        slots.addAll(byNumber.values());
                        if (pauses.awaitingProbe()) {
                            // an executor waits for its probe: one task a round, until the probe is claimed
                            slots.sort(Comparator.comparingInt(Slot::number));
                            slots.subList(1, slots.size()).clear();
                        }
                        idle.removeAll(slots);
                        rung = false;
                        nextPoll = now + settings.poll().toNanos();
                    }
                    if (renew) {
                        nextRenewal = now + settings.heartbeat().toNanos();
                    }
                    if (beat) {
                        nextBeat = closing ? Long.MAX_VALUE : now + settings.heartbeat().toNanos();
                    }
                    if (beat || promote) {
                        nextPromote = Long.MAX_VALUE;
                    }
                    return new Round(ended, slots, said, readLimits, renew, beat, promote, state);
                }
                long wait = nextBeat - now;
                if (!held.isEmpty()) {
                    wait = Math.min(wait, nextRenewal - now);
                }
                if (nextPromote != Long.MAX_VALUE) {
                    wait = Math.min(wait, nextPromote - now);
                }
                if (claiming && !idle.isEmpty()) {
                    wait = Math.min(wait, nextPoll - now);
                }
                if (!outbox.isEmpty()) {
                    wait = Math.min(wait, oldestEnding + GATHER_NANOS - now);
                }
                changed.awaitNanos(Math.max(wait, TimeUnit.MICROSECONDS.toNanos(50)));
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * A round that failed: its endings wait again (first) and its slots are idle again, unless they were written
     * already; its timers are due again.
     */
    private void giveBack(Round round, boolean dispatched) {
        lock.lock();
        try {
            if (!dispatched) {
                if (outbox.isEmpty()) {
                    oldestEnding = System.nanoTime();
                }
                outbox.addAll(0, round.ended());
                pauses.giveBack(round.signals(), round.readLimits());
                for (Slot s : round.slots()) {
                    if (!idle.contains(s)) {
                        idle.addFirst(s);
                    }
                }
                if (!round.slots().isEmpty()) {
                    rung = true;
                }
            }
            long now = System.nanoTime();
            if (round.renew()) {
                nextRenewal = now;
            }
            if (round.beat()) {
                nextBeat = now;
            }
        } finally {
            lock.unlock();
        }
    }

    private void renew(Connection c) throws SQLException {
        List<Lease> snapshot = List.copyOf(held.values());
        Map<Long, Boolean> renewed = leases.renew(c, snapshot.stream().map(Lease::task).toList(), settings.lease());
        c.commit();
        for (Lease lease : snapshot) {
            Boolean cancel = renewed.get(lease.task().leaseToken());
            if (cancel == null) {
                if (!lease.lost()) {
                    lease.lose();
                    LOG.log(Level.WARNING, lease + ": lease lost (it expired and the task was requeued); its agent"
                            + " is stopped and its outcome will not be recorded", TaskQueue.fields(lease.task()));
                }
            } else {
                lease.renewed(cancel);
            }
        }
    }

    private void beat(Connection c, String nodeState) throws SQLException {
        boolean stopped = nodeState.equals("stopped");
        schedulePromotion(housekeeping.beat(c, nodeState, stopped ? 0 : held.size(),
                stopped ? 0 : liveSlots.getAsInt(), link.upFor()));
    }

    /** Promotes again when the next scheduled task is due, if that comes before the next heartbeat. */
    private void schedulePromotion(Duration nextDueIn) {
        if (nextDueIn == null) {
            return;
        }
        lock.lock();
        try {
            long at = System.nanoTime() + nextDueIn.toNanos() + TimeUnit.MILLISECONDS.toNanos(5);
            if (at - nextBeat < 0) {
                nextPromote = at;
            }
        } finally {
            lock.unlock();
        }
    }

    /** What a round's transaction wrote: how each ending came out, and the tasks claimed. */
    private record Written(List<Ended> written, String[] after, List<ClaimedTask> claimed) {
    }

    /** Records the round's endings and claims for its slots, in one transaction. */
    private void dispatch(Connection c, Round round) throws SQLException {
        List<Ended> toWrite = round.ended().stream().filter(e -> e.outcome() != null).toList();
        String[] after = toWrite.isEmpty() ? new String[0] : leases.record(c, toWrite.stream()
                .map(e -> new TaskLeases.Ending(e.lease().task(), e.outcome(), e.retryDelay())).toList());
        if (round.readLimits()) {
            limits(WorkerRegistry.activeLimits(c));
        }
        // an executor whose limit an ending or an agent of this very round met is not claimed again in it
        // (a task this node just gave back because it cannot run here is passed over by the claim below, which sees
        // this transaction's own write of unable_workers)
        Set<String> skip = pauses.skip(toWrite, round.signals());
        List<ClaimedTask> claimed = List.of();
        if (!round.slots().isEmpty()) {
            int[] numbers = round.slots().stream().mapToInt(Slot::number).toArray();
            long start = System.nanoTime();
            claimed = leases.claim(c, settings.workerId(), numbers, settings.lease(), skip);
            events.claimStatement(Duration.ofNanos(System.nanoTime() - start));
        }
        ExecutorPauses.Written paused = pauses.write(c, toWrite, after, round.signals());
        boolean readyAgain = false;
        for (String status : after) {
            readyAgain |= "pending".equals(status);
        }
        if (readyAgain) {
            leases.notifyReady(c);
        }
        c.commit();
        pausesChanged(pauses.add(paused, events));
        // committed: from here on nothing may send the round back to be written again
        try {
            settle(c, round, new Written(toWrite, after, claimed));
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "node " + settings.workerId() + ": could not hand out what was"
                    + " written; leases it could not hand out expire", e);
        }
    }

    /** After the commit: forget the recorded leases, log, and give each claimed task to its slot. */
    private void settle(Connection c, Round round, Written w) {
        for (int i = 0; i < w.written().size(); i++) {
            Ended e = w.written().get(i);
            held.remove(e.lease().task().leaseToken());
            logEnding(c, e, w.after()[i]);
            if (w.after()[i] != null) {
                events.recorded(e.lease().task(), e.outcome(), w.after()[i]);
            }
        }
        for (Ended e : round.ended()) {
            if (e.outcome() == null) {
                held.remove(e.lease().task().leaseToken());
            }
        }
        Map<Integer, Slot> bySlot = new HashMap<>();
        round.slots().forEach(s -> bySlot.put(s.number(), s));
        if (pauses.ended(round.ended())) {
            wake(true);
        }
        pauses.claimed(w.claimed(), round.slots().size());
        for (ClaimedTask task : w.claimed()) {
            Lease lease = new Lease(task);
            held.put(task.leaseToken(), lease);
            events.claimed(task);
            TaskQueue.log(LOG, Level.INFO, task, "pending", "running", "claimed");
            Slot slot = bySlot.remove(task.slot());
            if (slot == null || !slot.deliver(lease)) {
                // the slot stopped meanwhile: the task goes back at once, its attempt not counted
                handBack(null, new Ended(lease, Outcome.released("slot " + settings.workerId() + "/" + task.slot()
                        + " stopped before the task began"), Duration.ZERO));
            }
        }
        if (!round.slots().isEmpty()) {
            lock.lock();
            try {
                lastClaimFull = w.claimed().size() == round.slots().size();
                // the slots that got nothing wait again, ahead of the ones that came meanwhile
                round.slots().stream().filter(s -> bySlot.containsKey(s.number()))
                        .sorted((x, y) -> Integer.compare(y.number(), x.number()))
                        .forEach(s -> {
                            if (!idle.contains(s)) {
                                idle.addFirst(s);
                            }
                        });
            } finally {
                lock.unlock();
            }
        }
    }

    private void logEnding(Connection c, Ended e, String to) {
        ClaimedTask task = e.lease().task();
        Outcome o = e.outcome();
        if (to == null) {
            String holder = leases.holderOf(c, task.id());
            try {
                c.commit();
            } catch (SQLException ignored) {
                link.rollback();
            }
            TaskQueue.log(LOG, Level.WARNING, task, "running", "-", "fenced out: the lease is no longer this"
                    + " node's (" + holder + "); " + o.kind() + " not recorded");
            return;
        }
        String reason = switch (o.kind()) {
            case SUCCEEDED -> "agent succeeded";
            case RETRYABLE -> o.error() + ("scheduled".equals(to) ? " (retry in " + e.retryDelay().toMillis() + " ms)" : "");
            case USAGE_LIMITED -> "usage limit reached; resumes at " + o.resumeAt();
            case RATE_LIMITED, CREDENTIALS -> o.error() + " (attempt not counted)";
            case NOT_HERE -> "pending".equals(to) ? o.error() + " (released for another node, attempt not counted)"
                    : o.error();
            default -> o.error();
        };
        TaskQueue.log(LOG, Level.INFO, task, "running", to, reason);
    }
}
