package dev.agentturbo.workers.control;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/** This node's slots: opened by the batch partitions, counted, drained; and the node's dispatcher they work for. */
@ApplicationScoped
public class SlotBoard {

    @Inject
    WorkerSettings settings;
    @Inject
    AgentExecutors executors;
    @Inject
    @AgentThreads
    ExecutorService agents;

    private final Map<Integer, Slot> slots = new ConcurrentHashMap<>();
    private final Map<Integer, Long> closedAt = new ConcurrentHashMap<>();
    private volatile Dispatcher dispatcher;
    private volatile OutputRecorder recorder;
    private volatile Instant drainedUntil;
    private volatile int wanted = -1;

    /** The dispatcher the slots take their tasks from; set before the slots' job starts. */
    public void use(Dispatcher dispatcher) {
        this.dispatcher = dispatcher;
    }

    /** Where slots' agents put their output; without one it is not stored. */
    public void use(OutputRecorder recorder) {
        this.recorder = recorder;
    }

    /** The recorder of agents' output, if any. */
    Optional<OutputRecorder> recorder() {
        return Optional.ofNullable(recorder);
    }

    /** How many slots this node runs: the configured count until an operator set another. */
    public int wanted() {
        int w = wanted;
        return w < 0 ? settings.slots() : w;
    }

    /**
     * Runs this many slots from now on: slots above the number take no more tasks and stop once their agent has
     * finished (it is not cut short); the node starts missing ones at its next look (see {@link SlotJobs}).
     *
     * @return true when the number changed
     */
    public synchronized boolean resize(int slots) {
        int before = wanted();
        wanted = slots;
        this.slots.values().stream().filter(s -> s.number() > slots).forEach(s -> s.drain(null));
        return before != slots;
    }

    /**
     * Makes the slot a partition will run; empty when a live slot has this number already (the partition then
     * ends at once) or when the node has no dispatcher yet.
     */
    public Optional<Slot> open(int number) {
        Dispatcher d = dispatcher;
        if (d == null) {
            return Optional.empty();
        }
        if (number > wanted()) {
            return Optional.empty(); // the node was made smaller since its partition was planned
        }
        Slot slot = new Slot(number, settings, d, executors, agents, this::recorder);
        if (slots.putIfAbsent(number, slot) != null) {
            return Optional.empty();
        }
        Instant until = drainedUntil;
        if (until != null) {
            slot.drain(until);
        }
        return Optional.of(slot);
    }

    public void closed(Slot slot) {
        if (slots.remove(slot.number(), slot)) {
            closedAt.put(slot.number(), System.nanoTime());
        }
    }

    /** Kills the agent of this task if this node runs it. */
    public boolean cancel(long taskId) {
        Dispatcher d = dispatcher;
        return d != null && d.cancel(taskId);
    }

    /** How many slots' loops run now. */
    public int open() {
        return (int) slots.values().stream().filter(s -> !s.stopped()).count();
    }

    public boolean isOpen(int number) {
        Slot s = slots.get(number);
        return s != null && !s.stopped();
    }

    /** When the slot of this number last closed ({@link System#nanoTime()}), if it ever did. */
    public Optional<Long> closedAt(int number) {
        return Optional.ofNullable(closedAt.get(number));
    }

    public int busy() {
        return (int) slots.values().stream().filter(s -> s.current().isPresent()).count();
    }

    /** The tasks running here, by slot number. */
    public List<Map.Entry<Integer, Optional<ClaimedTask>>> view() {
        return slots.values().stream().sorted(Comparator.comparingInt(Slot::number))
                .map(s -> Map.entry(s.number(), s.current())).toList();
    }

    /** The slot of this number, if open. */
    public Optional<Slot> slot(int number) {
        return Optional.ofNullable(slots.get(number));
    }

    /** Stops taking tasks everywhere; running agents get {@code grace} to finish before they are released. */
    public void drainAll(Duration grace) {
        Instant until = Instant.now().plus(grace);
        drainedUntil = until;
        slots.values().forEach(s -> s.drain(until));
    }

    /** Waits until every slot's loop has returned. */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        Instant until = Instant.now().plus(timeout);
        for (Slot s : List.copyOf(slots.values())) {
            Duration left = Duration.between(Instant.now(), until);
            if (left.isNegative() || !s.awaitStopped(left)) {
                return false;
            }
        }
        return true;
    }
}
