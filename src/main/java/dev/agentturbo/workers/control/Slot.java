package dev.agentturbo.workers.control;

import dev.agentturbo.agents.control.AgentExecutor;
import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.agents.control.AgentRun;
import dev.agentturbo.tasks.control.QueueException;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.LeaseState;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.workers.entity.WorkerSettings;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One agent slot: the supervisor loop a batch partition runs. Claim a task, run its agent on the agent executor
 * service, and meanwhile renew the lease, watch for cancel, timeout and shutdown; record the outcome; again.
 * The claim and every record are short statements of their own: no connection is held while the agent runs.
 */
public final class Slot {

    private static final Logger LOG = Logger.getLogger(Slot.class.getName());
    /** How often the supervisor looks at its agent; bounds how late a cancel or timeout acts. */
    private static final long WATCH_STEP_MS = 100;
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private final int number;
    private final WorkerSettings settings;
    private volatile TaskQueue queue;
    private final AgentExecutors executors;
    private final ExecutorService agents;
    private final Doorbell doorbell;
    private final Backoff backoff;
    private final CountDownLatch finished = new CountDownLatch(1);

    private volatile boolean draining;
    private volatile Instant releaseAfter;
    private volatile ClaimedTask current;
    /** The id of the task a user asked to cancel; an id, not a flag, so that a late cancel cannot hit the next task. */
    private volatile long cancelRequested = -1;

    public Slot(int number, WorkerSettings settings, TaskQueue queue, AgentExecutors executors,
                ExecutorService agents, Doorbell doorbell) {
        this.number = number;
        this.settings = settings;
        this.queue = queue;
        this.executors = executors;
        this.agents = agents;
        this.doorbell = doorbell;
        this.backoff = new Backoff(settings.retryBase(), settings.retryMax());
    }

    public int number() {
        return number;
    }

    /** The task this slot runs now, if any. */
    public Optional<ClaimedTask> current() {
        return Optional.ofNullable(current);
    }

    /** Claims and runs tasks until {@link #drain(Instant)} is called, then returns. */
    public void run() {
        LOG.info(() -> "slot " + settings.workerId() + "/" + number + " started");
        try {
            while (!draining) {
                long seen = doorbell.generation();
                Optional<ClaimedTask> next;
                try {
                    next = queue.claim(settings.workerId(), number, settings.lease());
                } catch (QueueException e) {
                    LOG.log(Level.WARNING, "slot " + number + ": claim failed, trying again in " + settings.poll(), e);
                    next = Optional.empty();
                }
                if (next.isPresent()) {
                    supervise(next.get());
                } else {
                    doorbell.await(seen, settings.poll());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            finished.countDown();
            LOG.info(() -> "slot " + settings.workerId() + "/" + number + " stopped");
        }
    }

    /**
     * Stops claiming. A running agent may go on until {@code releaseAfter}; then it is killed and its task given
     * back to the queue without counting the attempt.
     */
    public void drain(Instant releaseAfter) {
        drain(releaseAfter, queue);
    }

    /**
     * As {@link #drain(Instant)}, recording what is left through {@code via}: at shutdown the container's pool
     * may be gone before the slots are done.
     */
    public void drain(Instant releaseAfter, TaskQueue via) {
        this.queue = via;
        this.releaseAfter = releaseAfter;
        this.draining = true;
        doorbell.ring();
    }

    /** Waits until the loop has returned. */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A user asked to cancel this task: if this slot runs it, its agent is killed within one watch step. */
    public boolean cancel(long taskId) {
        ClaimedTask task = current;
        if (task == null || task.id() != taskId) {
            return false;
        }
        // the supervisor sees this within one watch step and kills the agent on its own thread: the caller
        // (the node's one LISTEN thread) must not wait for a process tree to die
        cancelRequested = taskId;
        return true;
    }

    private void supervise(ClaimedTask task) throws InterruptedException {
        current = task;
        try {
            Optional<AgentExecutor> executor = executors.find(task.executor());
            if (executor.isEmpty()) {
                record(task, Outcome.permanent("executor '" + task.executor() + "' is unknown on worker "
                        + settings.workerId() + "; known: " + String.join(", ", executors.names())));
                return;
            }
            AgentRun run = AgentRun.of(task, settings.workRoot().resolve("slot-" + number),
                    settings.workRoot().resolve("tasks"));
            Future<Outcome> agent;
            try {
                agent = agents.submit(() -> executor.get().run(run));
            } catch (RejectedExecutionException e) {
                queue.release(task, null, "agent executor service refused the task: " + e.getMessage());
                return;
            }
            watch(task, run, agent);
        } finally {
            current = null;
        }
    }

    private void watch(ClaimedTask task, AgentRun run, Future<Outcome> agent) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(task.timeoutSeconds());
        Instant nextRenewal = Instant.now().plus(settings.heartbeat());
        while (true) {
            Outcome outcome = null;
            try {
                outcome = agent.get(WATCH_STEP_MS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // still running: look at the lease, the cancel flag, the deadline below
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                outcome = cause instanceof InterruptedException && draining
                        ? null : Outcome.retryable("the executor failed: " + cause, null);
                if (outcome == null) {
                    queue.release(task, null, "node shutting down");
                    return;
                }
            } catch (CancellationException e) {
                outcome = Outcome.retryable("the agent was stopped", null);
            } catch (InterruptedException e) {
                stop(run, agent);
                releaseQuietly(task, "node shutting down (slot interrupted)");
                throw e;
            }
            if (cancelRequested == task.id()) {
                stop(run, agent);
                queue.markCancelled(task, "cancelled by user while running; the agent's process tree was killed");
                return;
            }
            if (outcome != null) {
                record(task, outcome);
                return;
            }
            Instant now = Instant.now();
            if (now.isAfter(deadline)) {
                stop(run, agent);
                record(task, Outcome.retryable("timed out after " + task.timeoutSeconds()
                        + " s; the agent's process tree was killed", null));
                return;
            }
            Instant release = releaseAfter;
            if (draining && release != null && now.isAfter(release)) {
                stop(run, agent);
                queue.release(task, null, "node " + settings.workerId() + " shut down before the agent finished");
                return;
            }
            if (!now.isBefore(nextRenewal)) {
                nextRenewal = now.plus(settings.heartbeat());
                LeaseState lease;
                try {
                    lease = queue.renew(task, settings.lease());
                } catch (QueueException e) {
                    LOG.log(Level.WARNING, task + ": lease renewal failed; will try again", e);
                    continue;
                }
                if (lease == LeaseState.LOST) {
                    stop(run, agent);
                    LOG.warning(() -> task + ": lease lost (expired and requeued elsewhere); agent killed, outcome dropped");
                    return;
                }
                if (lease == LeaseState.CANCEL_REQUESTED) {
                    cancelRequested = task.id();
                }
            }
        }
    }

    /** Kills the agent's process tree and waits for its thread to let go. */
    private static void stop(AgentRun run, Future<Outcome> agent) {
        run.abort();
        agent.cancel(true);
        long until = System.nanoTime() + KILL_WAIT.toNanos();
        while (!agent.isDone() && System.nanoTime() < until) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Records the outcome; retries a few times if the database blinks (the lease covers us meanwhile). */
    private void record(ClaimedTask task, Outcome outcome) throws InterruptedException {
        Duration retryDelay = backoff.after(task.attempt());
        for (int i = 1; ; i++) {
            try {
                queue.finish(task, outcome, retryDelay);
                return;
            } catch (QueueException e) {
                if (i == 5) {
                    LOG.log(Level.SEVERE, task + ": could not record the outcome; the lease will expire and the task"
                            + " run again", e);
                    return;
                }
                Thread.sleep(500L * i);
            }
        }
    }

    private void releaseQuietly(ClaimedTask task, String reason) {
        try {
            queue.release(task, null, reason);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, task + ": could not release; its lease will expire", e);
        }
    }
}
