package dev.agentturbo.workers.control;

import dev.agentturbo.tasks.entity.Outcome;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;

/**
 * A slot's thread on the agent executor service: one long task on the managed executor that runs the slot's agents
 * one after another. The container captures and sets up the thread context once per slot instead of once per
 * agent (Payara's managed executor looks up every thread-context provider on the class path at each submit,
 * which costs more than a short agent run). A cancel interrupts only the agent it was meant for.
 */
final class AgentRunner {

    private static final long OFFER_SECONDS = 5;

    private final ExecutorService agents;
    private final String name;
    private final SynchronousQueue<FutureTask<Outcome>> jobs = new SynchronousQueue<>();
    private volatile Future<?> loop;
    private volatile boolean stopped;

    AgentRunner(ExecutorService agents, String name) {
        this.agents = agents;
        this.name = name;
    }

    /**
     * Runs the work on this slot's thread of the agent executor service.
     *
     * @throws RejectedExecutionException when the executor service takes no more work (it is shutting down)
     */
    Future<Outcome> submit(Callable<Outcome> work) throws InterruptedException {
        FutureTask<Outcome> job = new FutureTask<>(work);
        for (int attempt = 0; attempt < 2; attempt++) {
            ensureLoop();
            if (jobs.offer(job, OFFER_SECONDS, TimeUnit.SECONDS)) {
                return job;
            }
            restart(); // the loop does not take work: it was ended (by the container, or a cancel of its own)
        }
        throw new RejectedExecutionException(name + ": the agent thread does not take work");
    }

    private synchronized void ensureLoop() {
        if (loop == null || loop.isDone()) {
            loop = agents.submit(this::run);
        }
    }

    private synchronized void restart() {
        if (loop != null) {
            loop.cancel(true);
            loop = null;
        }
    }

    private void run() {
        while (!stopped) {
            try {
                FutureTask<Outcome> job = jobs.poll(500, TimeUnit.MILLISECONDS);
                if (job != null) {
                    job.run();
                }
            } catch (InterruptedException e) {
                if (stopped) {
                    return;
                }
            }
            // an agent's cancel may interrupt this thread as the agent ends: it must not reach the next one
            Thread.interrupted();
        }
    }

    /** Ends the thread; an agent still running is the slot's to stop first. */
    synchronized void stop() {
        stopped = true;
        if (loop != null) {
            loop.cancel(true);
        }
    }
}
