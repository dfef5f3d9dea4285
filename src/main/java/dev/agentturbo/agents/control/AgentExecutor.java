package dev.agentturbo.agents.control;

import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.JsonObject;

import java.util.List;

/** One way of running an agent: the {@code executor} a task names. */
public interface AgentExecutor {

    /** The name tasks use to pick this executor. */
    String name();

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
