package dev.agentturbo.workers.control;

import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;

/**
 * Wakes this node's idle slots. A slot reads the generation before it looks at the queue and waits only while
 * the generation is unchanged, so a ring between its look and its wait is never lost.
 */
@ApplicationScoped
public class Doorbell {

    private long generation;

    public synchronized long generation() {
        return generation;
    }

    public synchronized void ring() {
        generation++;
        notifyAll();
    }

    /** Waits until the bell rang after {@code seen}, or the timeout passed; true when it rang. */
    public synchronized boolean await(long seen, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (generation == seen) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000), (int) (left % 1_000_000 / 1000));
        }
        return true;
    }
}
