package dev.agentturbo.workers.control;

import dev.agentturbo.agents.control.AgentExecutor;
import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.agents.control.AgentRun;
import dev.agentturbo.agents.control.GitWorktrees;
import dev.agentturbo.agents.entity.AgentOutput;
import dev.agentturbo.agents.entity.LimitSignal;
import dev.agentturbo.platform.OutageLog;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.workers.entity.WorkerSettings;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * One agent slot: the supervisor loop a batch partition runs. It takes a task from the node's
 * {@link Dispatcher}, runs its agent on its own thread of the agent executor service ({@link AgentRunner}), watches it (cancel, timeout, drain, a lost
 * lease, a lease that could not be renewed for too long) and hands back how the attempt ended. It never talks to
 * the database itself, so no database error can stop it; any other error is logged and the loop goes on.
 */
public final class Slot {

    private static final Logger LOG = Logger.getLogger(Slot.class.getName());
    /** How often the supervisor looks at its agent; bounds how late a cancel or timeout acts. */
    private static final long WATCH_STEP_MS = 100;
    private static final long IDLE_STEP_MS = 500;
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private final int number;
    private final WorkerSettings settings;
    private final Dispatcher dispatcher;
    private final AgentExecutors executors;
    private final AgentRunner runner;
    private final Backoff backoff;
    private final OutageLog trouble;
    private final BlockingQueue<Lease> inbox = new ArrayBlockingQueue<>(1);
    private final CountDownLatch finished = new CountDownLatch(1);

    private volatile boolean draining;
    private volatile Instant releaseAfter;
    private volatile Lease current;

    private final java.util.function.Supplier<Optional<OutputRecorder>> recorder;

    public Slot(int number, WorkerSettings settings, Dispatcher dispatcher, AgentExecutors executors,
                ExecutorService agents) {
        this(number, settings, dispatcher, executors, agents, Optional::empty);
    }

    /** @param recorder where agents' output is stored, when the node stores it */
    public Slot(int number, WorkerSettings settings, Dispatcher dispatcher, AgentExecutors executors,
                ExecutorService agents, java.util.function.Supplier<Optional<OutputRecorder>> recorder) {
        this.recorder = recorder;
        this.number = number;
        this.settings = settings;
        this.dispatcher = dispatcher;
        this.executors = executors;
        this.runner = new AgentRunner(agents, "agent of slot " + settings.workerId() + "/" + number);
        this.backoff = new Backoff(settings.retryBase(), settings.retryMax());
        this.trouble = new OutageLog(LOG, "slot " + settings.workerId() + "/" + number);
    }

    public int number() {
        return number;
    }

    /** The task this slot runs now, if any. */
    public Optional<ClaimedTask> current() {
        Lease lease = current;
        return lease == null ? Optional.empty() : Optional.of(lease.task());
    }

    /** The dispatcher gives this slot its next task; false when the slot cannot take it (it stopped meanwhile). */
    boolean deliver(Lease lease) {
        return !draining && inbox.offer(lease);
    }

    /** True once the slot was told to stop taking tasks. */
    boolean draining() {
        return draining;
    }

    /** Takes and runs tasks until {@link #drain(Instant)} is called, then returns. */
    public void run() {
        LOG.info(() -> "slot " + settings.workerId() + "/" + number + " started");
        Dispatcher.Ended last = null;
        boolean interrupted = false;
        try {
            while (!draining && !interrupted) {
                try {
                    dispatcher.handBack(this, last);
                    last = null;
                    Lease lease = awaitLease();
                    if (lease == null) {
                        break;
                    }
                    current = lease;
                    last = supervise(lease);
                    dispatcher.events().ran(lease.task(), lease.heldFor());
                    trouble.recovered();
                } catch (InterruptedException e) {
                    interrupted = true;
                    Lease lease = current;
                    if (lease != null && last == null) {
                        last = new Dispatcher.Ended(lease, Outcome.released("node " + settings.workerId()
                                + " shutting down (slot interrupted)"), Duration.ZERO);
                    }
                } catch (RuntimeException | Error e) {
                    // a fault of this code or of an executor: the attempt fails, the slot goes on
                    Lease lease = current;
                    if (lease != null && last == null) {
                        last = new Dispatcher.Ended(lease, Outcome.retryable("the slot failed: " + e, null),
                                backoff.after(lease.task().attempt()));
                    }
                    trouble.failed(e, "the slot goes on");
                    interrupted = !pause(1000);
                } finally {
                    current = null;
                }
            }
        } finally {
            runner.stop();
            dispatcher.leave(this);
            Lease orphan = inbox.poll();
            if (orphan != null) {
                // claimed for this slot while it was told to stop: back to the queue at once, not counted
                dispatcher.handBack(null, new Dispatcher.Ended(orphan,
                        Outcome.released("slot " + settings.workerId() + "/" + number + " stopped before it began"),
                        Duration.ZERO));
            }
            dispatcher.handBack(null, last);
            finished.countDown();
            LOG.info(() -> "slot " + settings.workerId() + "/" + number + " stopped");
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private Lease awaitLease() throws InterruptedException {
        while (!draining) {
            Lease lease = inbox.poll(IDLE_STEP_MS, TimeUnit.MILLISECONDS);
            if (lease != null) {
                return lease;
            }
        }
        return null;
    }

    /**
     * Stops taking tasks. A running agent may go on until {@code releaseAfter}; then it is killed and its task given
     * back to the queue without counting the attempt. With null, the agent finishes however long it takes (the
     * node was made smaller); a later call with a time still bounds it (the node stops).
     */
    public void drain(Instant releaseAfter) {
        if (releaseAfter != null) {
            this.releaseAfter = releaseAfter;
        }
        this.draining = true;
    }

    /** Waits until the loop has returned. */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** True once the loop has returned. */
    public boolean stopped() {
        return finished.getCount() == 0;
    }

    private Dispatcher.Ended supervise(Lease lease) throws InterruptedException {
        ClaimedTask task = lease.task();
        Optional<AgentExecutor> executor = executors.find(task.executor());
        if (executor.isEmpty()) {
            return ended(lease, Outcome.permanent("executor '" + task.executor() + "' is unknown on worker "
                    + settings.workerId() + "; known: " + String.join(", ", executors.names())));
        }
        Optional<OutputRecorder.Attempt> output = recorder.get().map(r -> r.open(task));
        AgentRun run = AgentRun.of(task, settings.workRoot().resolve("slot-" + number),
                settings.workRoot().resolve("tasks"), output.map(o -> (AgentOutput) o).orElse(AgentOutput.NONE),
                new LimitSignal() {
                    @Override
                    public void rateLimited(String reason, Duration retryAfter) {
                        dispatcher.rateLimited(task.executor(), retryAfter, reason);
                    }

                    @Override
                    public void apiAnswered() {
                        dispatcher.answered(task.executor(), task.leaseToken());
                    }
                });
        Optional<GitWorktrees.Prepared> worktree;
        try {
            worktree = executors.worktrees().prepare(run);
        } catch (GitWorktrees.Refused e) {
            output.ifPresent(OutputRecorder.Attempt::close);
            return ended(lease, e.outcome());
        }
        AgentRun inWorktree = worktree.map(w -> run.in(w.path())).orElse(run);
        Future<Outcome> agent;
        try {
            agent = runner.submit(() -> executor.get().run(inWorktree));
        } catch (RejectedExecutionException e) {
            output.ifPresent(OutputRecorder.Attempt::close);
            return ended(lease, Outcome.released("agent executor service refused the task: " + e.getMessage()));
        }
        try {
            Dispatcher.Ended ended = watch(lease, inWorktree, agent);
            if (worktree.isPresent() && ended.outcome() != null) {
                if (!agent.isDone()) {
                    stop(inWorktree, agent);
                }
                Outcome o = executors.worktrees().finish(worktree.get(), ended.outcome(), endsForGood(task, ended.outcome()));
                return new Dispatcher.Ended(lease, o, ended.retryDelay());
            }
            return ended;
        } catch (InterruptedException e) {
            stop(run, agent);
            throw e;
        } finally {
            if (!agent.isDone()) {
                stop(run, agent);
            }
            output.ifPresent(OutputRecorder.Attempt::close);
        }
    }

    private Dispatcher.Ended watch(Lease lease, AgentRun run, Future<Outcome> agent) throws InterruptedException {
        ClaimedTask task = lease.task();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(task.timeoutSeconds());
        while (true) {
            Outcome outcome = null;
            try {
                outcome = agent.get(WATCH_STEP_MS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // still running: look at the lease, the cancel flag, the deadline below
            } catch (ExecutionException e) {
                outcome = Outcome.retryable("the executor failed: " + e.getCause(), null);
            } catch (CancellationException e) {
                outcome = Outcome.retryable("the agent was stopped", null);
            }
            if (lease.cancelRequested()) {
                stop(run, agent);
                return ended(lease, Outcome.cancelled("cancelled by user while running; the agent's process tree was killed"));
            }
            if (outcome != null) {
                return ended(lease, outcome);
            }
            if (lease.lost()) {
                stop(run, agent);
                return new Dispatcher.Ended(lease, null, null);
            }
            if (System.nanoTime() - deadline > 0) {
                stop(run, agent);
                return ended(lease, Outcome.retryable("timed out after " + task.timeoutSeconds()
                        + " s; the agent's process tree was killed", null));
            }
            Instant release = releaseAfter;
            if (draining && release != null && Instant.now().isAfter(release)) {
                stop(run, agent);
                return ended(lease, Outcome.released("node " + settings.workerId()
                        + " shut down before the agent finished"));
            }
            Duration unrenewed = lease.unrenewedFor();
            if (unrenewed.compareTo(settings.unrenewedStop()) > 0) {
                stop(run, agent);
                LOG.log(java.util.logging.Level.WARNING, lease + ": no lease renewal for " + unrenewed.toSeconds()
                        + " s (this node cannot reach the database); agent stopped, so that it cannot overlap with a"
                        + " run elsewhere", dev.agentturbo.tasks.control.TaskQueue.fields(lease.task()));
                return ended(lease, Outcome.retryable("stopped after " + unrenewed.toSeconds() + " s without a lease"
                        + " renewal: worker " + settings.workerId() + " could not reach the database", null));
            }
        }
    }

    /**
     * Whether the task ends with this attempt, so that its worktree is cleaned up: it succeeded, failed for good, or
     * failed its last attempt. A cancel also ends it (a retry asked for later makes the worktree again from its
     * branch). What goes back to the queue keeps its worktree for the next attempt.
     */
    static boolean endsForGood(ClaimedTask task, Outcome outcome) {
        return switch (outcome.kind()) {
            case SUCCEEDED, PERMANENT, CANCELLED -> true;
            case RETRYABLE -> task.attempt() >= task.maxAttempts();
            default -> false;
        };
    }

    private Dispatcher.Ended ended(Lease lease, Outcome outcome) {
        Duration delay = outcome.kind() == Outcome.Kind.RETRYABLE ? backoff.after(lease.task().attempt()) : Duration.ZERO;
        var limits = executors.limits();
        return new Dispatcher.Ended(lease, outcome.capped(limits.maxResultChars(), limits.maxErrorChars()), delay);
    }

    /** Kills the agent's process tree and waits for its thread to let go. */
    private static void stop(AgentRun run, Future<Outcome> agent) {
        run.abort();
        agent.cancel(true);
        long until = System.nanoTime() + KILL_WAIT.toNanos();
        while (!agent.isDone() && System.nanoTime() - until < 0) {
            if (!pause(20)) {
                return;
            }
        }
    }

    /** Sleeps; false when interrupted (the flag is set again). */
    private static boolean pause(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
