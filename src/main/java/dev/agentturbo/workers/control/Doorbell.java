package dev.agentturbo.workers.control;

import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes this node's idle slots. A slot reads the generation before it looks at the queue and waits only while
 * the generation is unchanged, so a ring between its look and its wait is never lost.
 * <p>
 * The lock is a private object, not {@code synchronized} methods: callers hold a CDI client proxy, and a
 * synchronized method would also lock the proxy, which {@code wait()} does not release.
 */
@ApplicationScoped
public class Doorbell {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition rung = lock.newCondition();
    private long generation;

    public long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    public void ring() {
        lock.lock();
        try {
            generation++;
            rung.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the bell rang after {@code seen}, or the timeout passed; true when it rang. */
    public boolean await(long seen, Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (generation == seen) {
                if (left <= 0) {
                    return false;
                }
                left = rung.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
