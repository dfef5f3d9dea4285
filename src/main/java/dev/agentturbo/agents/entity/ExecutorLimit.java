package dev.agentturbo.agents.entity;

import java.time.Instant;

/**
 * An executor paused for one credential, for the whole fleet.
 *
 * @param credential   the credential's fingerprint (kind and a hash prefix), never the credential
 * @param kind         usage-limit, rate-limit or credentials
 * @param until        when it ends by itself; null: when an operator lifts it
 * @param tasksWaiting tasks of the executor waiting (pending or scheduled) now, 0 where not counted
 */
public record ExecutorLimit(long id, String executor, String credential, String kind, Instant since, Instant until,
                            String reason, long tasksWaiting) {
}
