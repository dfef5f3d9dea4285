package dev.agentturbo.workers.control;

import jakarta.batch.api.AbstractBatchlet;
import jakarta.batch.api.BatchProperty;
import jakarta.batch.runtime.BatchStatus;
import jakarta.enterprise.context.Dependent;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import java.time.Instant;
import java.util.Optional;

/**
 * The body of one partition of the agent-worker job: runs one {@link Slot} until the job is stopped.
 * {@link #stop()} releases the slot's task at once; the graceful part of a shutdown (letting agents finish)
 * happens before the job is stopped, see {@link Node}.
 */
@Named("slotBatchlet")
@Dependent
public class SlotBatchlet extends AbstractBatchlet {

    @Inject
    @BatchProperty(name = "slot")
    String slotNumber;

    @Inject
    SlotBoard board;

    private volatile Slot slot;
    private volatile boolean stopRequested;

    @Override
    public String process() {
        Optional<Slot> opened = board.open(Integer.parseInt(slotNumber));
        if (opened.isEmpty()) {
            // this slot number runs already (or the node is not started): nothing for this partition to do
            return BatchStatus.COMPLETED.name();
        }
        Slot running = opened.get();
        slot = running;
        if (stopRequested) {
            // stop() came before the slot existed: it could not drain it, so drain it now
            running.drain(Instant.now());
        }
        try {
            running.run();
        } finally {
            board.closed(running);
        }
        return BatchStatus.STOPPED.name();
    }

    @Override
    public void stop() {
        stopRequested = true;
        Slot running = slot;
        if (running != null) {
            running.drain(Instant.now());
        }
    }
}
