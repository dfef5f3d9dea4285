package dev.agentturbo.agents.control;

import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.JsonObject;

import java.util.List;

/** One way of running an agent: the {@code executor} a task names. */
public interface AgentExecutor {

    /** The name tasks use to pick this executor. */
    String name();

    /**
     * A fingerprint of the credential this node's agents of this executor use (its kind and a hash prefix, never
     * the credential), or {@code -} for an executor that uses none: limits are paused per executor and credential.
     */
    default String credential() {
        return "-";
    }

    /**
     * The fingerprint {@link #credential()} gives a secret: its kind ({@code key}, {@code oauth}, …), a colon and
     * the first 12 hex digits of its SHA-256. Equal secrets give equal fingerprints on every node.
     */
    static String fingerprint(String kind, byte[] secret) {
        try {
            byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(secret);
            return kind + ":" + java.util.HexFormat.of().formatHex(hash, 0, 6);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Why this node's agents of this executor cannot run at all for want of a credential, checked when the node
     * starts (it may take a second); empty when they have one or the executor needs none.
     */
    default java.util.Optional<String> credentialProblem() {
        return java.util.Optional.empty();
    }

    /**
     * What is wrong with these options, one sentence a problem; empty when they are fine.
     *
     * @param privileged whether the submitter may ask for what only operators may (e.g. a privileged permission
     *                   mode); at run time the options are checked again as privileged, the submission having
     *                   been checked as its submitter
     */
    List<String> check(JsonObject options, boolean privileged);

    /**
     * Runs one attempt and blocks until it ends. Must return promptly once {@link AgentRun#abort()} was called
     * or the thread interrupted; a process it started must be killed with its children.
     */
    Outcome run(AgentRun run) throws InterruptedException;
}
