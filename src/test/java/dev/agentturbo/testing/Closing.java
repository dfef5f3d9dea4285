package dev.agentturbo.testing;

import java.util.logging.Level;
import java.util.logging.Logger;

/** Closes what a test started, each whatever happens to the others (a node that failed to stop, a dropped database). */
public final class Closing {

    private static final Logger LOG = Logger.getLogger(Closing.class.getName());

    private Closing() {
    }

    /** Closes each in turn; nulls (never started) are skipped, a failure is logged and the rest still close. */
    public static void all(AutoCloseable... started) {
        for (AutoCloseable c : started) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.log(Level.WARNING, "could not close " + c, e);
                }
            }
        }
    }
}
