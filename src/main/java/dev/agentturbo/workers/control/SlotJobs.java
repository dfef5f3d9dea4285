package dev.agentturbo.workers.control;

import dev.agentturbo.platform.OutageLog;
import jakarta.batch.operations.JobOperator;
import jakarta.batch.runtime.BatchStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The executions of the agent-worker job on this node. The first one runs slots 1 to N; if a slot's partition
 * ends while the node runs (it should not: the slot's loop survives every error, but a batch runtime may end a
 * partition), the next {@link #ensure(int)} starts one more execution for the missing slot numbers.
 * <p>
 * Batch execution ids are used here only, in memory, to check and stop this node's own executions: Payara's
 * batch repository may start them at 1 again on every boot.
 */
public final class SlotJobs {

    public static final String JOB = "agent-worker";
    private static final Logger LOG = Logger.getLogger(SlotJobs.class.getName());
    private static final Set<BatchStatus> ENDED = EnumSet.of(BatchStatus.COMPLETED, BatchStatus.FAILED,
            BatchStatus.STOPPED, BatchStatus.ABANDONED);

    private record Started(long execution, long at) {
    }

    private final Supplier<JobOperator> operator;
    private final SlotBoard board;
    private final String workerId;
    private final Map<Integer, Started> started = new HashMap<>();
    private final List<Long> executions = new ArrayList<>();
    private final OutageLog trouble;

    public SlotJobs(Supplier<JobOperator> operator, SlotBoard board, String workerId) {
        this.operator = operator;
        this.board = board;
        this.workerId = workerId;
        this.trouble = new OutageLog(LOG, "node " + workerId + ": starting the agent-worker job");
    }

    /**
     * Starts an execution for the slots among 1 to {@code desired} that neither run nor are starting.
     *
     * @return how many slots it started
     */
    public synchronized int ensure(int desired) {
        List<Integer> missing = new ArrayList<>();
        for (int n = 1; n <= desired; n++) {
            if (board.isOpen(n)) {
                continue;
            }
            Started s = started.get(n);
            boolean closedSince = s != null && board.closedAt(n).map(t -> t - s.at() > 0).orElse(false);
            if (s != null && !closedSince && !ended(s.execution())) {
                continue; // its partition is still starting (the first job after a boot can take many seconds)
            }
            missing.add(n);
        }
        if (missing.isEmpty()) {
            return 0;
        }
        String numbers = missing.stream().map(String::valueOf).collect(Collectors.joining(","));
        if (!started.isEmpty()) {
            LOG.warning(() -> "node " + workerId + ": slots " + numbers + " are not running; starting them again");
        }
        Properties parameters = new Properties();
        parameters.setProperty(SlotPartitionMapper.SLOT_NUMBERS, numbers);
        parameters.setProperty("worker", workerId);
        try {
            long execution = operator.get().start(JOB, parameters);
            long now = System.nanoTime();
            missing.forEach(n -> started.put(n, new Started(execution, now)));
            executions.add(execution);
            trouble.recovered();
            LOG.info(() -> "agent-worker job execution " + execution + " started for slots " + numbers);
            return missing.size();
        } catch (RuntimeException e) {
            trouble.failed(e, "trying again at the next heartbeat");
            return 0;
        }
    }

    /** Stops every execution still running and waits up to {@code timeout} for them to end. */
    public synchronized void stopAll(Duration timeout) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        for (long id : executions) {
            try {
                if (!ended(id)) {
                    operator.get().stop(id);
                }
            } catch (RuntimeException e) {
                LOG.warning(() -> "could not stop agent-worker execution " + id + ": " + e.getMessage());
            }
        }
        for (long id : executions) {
            while (!ended(id) && System.nanoTime() - until < 0) {
                Thread.sleep(100);
            }
        }
    }

    private boolean ended(long execution) {
        try {
            return ENDED.contains(operator.get().getJobExecution(execution).getBatchStatus());
        } catch (RuntimeException e) {
            return true; // the runtime does not know it (any more)
        }
    }
}
