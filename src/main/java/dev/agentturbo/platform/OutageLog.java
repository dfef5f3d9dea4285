package dev.agentturbo.platform;

import java.time.Duration;
import java.util.Objects;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What a part of the node says while something it needs is down: the first failure once, with its cause; the
 * same failure again only as a count once a minute; a new kind of failure once; and one line when it works
 * again, saying for how long it did not. A loop that retries every second therefore does not fill the log
 * with stack traces. Thread-safe.
 */
public final class OutageLog {

    private static final long REMIND_NANOS = Duration.ofMinutes(1).toNanos();

    private final Logger log;
    private final String what;
    private String lastMessage;
    private long since;
    private long lastSaid;
    private int failures;

    /** @param what the thing that fails, as the subject of a sentence ("node-a: recording outcomes") */
    public OutageLog(Logger log, String what) {
        this.log = log;
        this.what = what;
    }

    /** Says that it failed (again), and what happens next. */
    public synchronized void failed(Throwable e, String next) {
        long now = System.nanoTime();
        String message = describe(e);
        failures++;
        if (failures == 1) {
            since = now;
            lastSaid = now;
            lastMessage = message;
            log.log(Level.WARNING, what + " failed: " + message + "; " + next, e);
        } else if (!Objects.equals(message, lastMessage)) {
            lastSaid = now;
            lastMessage = message;
            log.warning(what + " still failing (" + failures + " times), now: " + message + "; " + next);
        } else if (now - lastSaid >= REMIND_NANOS) {
            lastSaid = now;
            log.warning(what + " still failing after " + Duration.ofNanos(now - since).toSeconds() + " s ("
                    + failures + " times): " + message + "; " + next);
        }
    }

    /** Says that it works again, if it had failed. */
    public synchronized void recovered() {
        if (failures > 0) {
            log.info(what + " works again after " + Duration.ofNanos(System.nanoTime() - since).toMillis()
                    + " ms and " + failures + " failures");
            failures = 0;
            lastMessage = null;
        }
    }

    /** True while the last attempt failed. */
    public synchronized boolean failing() {
        return failures > 0;
    }

    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (root != e && root.getMessage() != null && !message.contains(root.getMessage())) {
            message += " (" + root.getMessage() + ")";
        }
        return message;
    }
}
