package dev.agentturbo.workers.control;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.tasks.control.TaskQueue;
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

/** This node's slots: opened by the batch partitions, and told here about cancels and shutdown. */
@ApplicationScoped
public class SlotBoard {

    @Inject
    WorkerSettings settings;
    @Inject
    TaskQueue queue;
    @Inject
    AgentExecutors executors;
    @Inject
    @AgentThreads
    ExecutorService agents;
    @Inject
    Doorbell doorbell;

    private final Map<Integer, Slot> slots = new ConcurrentHashMap<>();
    private volatile boolean draining;

    /** Makes the slot a partition will run. */
    public Slot open(int number) {
        Slot slot = new Slot(number, settings, queue, executors, agents, doorbell);
        if (draining) {
            slot.drain(Instant.now());
        }
        slots.put(number, slot);
        return slot;
    }

    public void closed(Slot slot) {
        slots.remove(slot.number(), slot);
    }

    /** Kills the agent of this task if one of this node's slots runs it. */
    public boolean cancel(long taskId) {
        return slots.values().stream().anyMatch(s -> s.cancel(taskId));
    }

    public int open() {
        return slots.size();
    }

    public int busy() {
        return (int) slots.values().stream().filter(s -> s.current().isPresent()).count();
    }

    /** The tasks running here, by slot number. */
    public List<Map.Entry<Integer, Optional<ClaimedTask>>> view() {
        return slots.values().stream().sorted(Comparator.comparingInt(Slot::number))
                .map(s -> Map.entry(s.number(), s.current())).toList();
    }

    /**
     * Stops claiming everywhere; running agents get {@code grace} to finish before they are released. What is
     * left is recorded through {@code via}.
     */
    public void drainAll(Duration grace, TaskQueue via) {
        draining = true;
        Instant until = Instant.now().plus(grace);
        slots.values().forEach(s -> s.drain(until, via));
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
