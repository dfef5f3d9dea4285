package dev.agentturbo.agents.entity;

/**
 * Where an agent's output goes as it arrives: every event of the {@code claude} program, every line of a
 * {@code command}, each with its stream and kind. Called on the agent's reading threads; must not block (the node
 * stores output in the background, in batches).
 */
@FunctionalInterface
public interface AgentOutput {

    /** Drops everything: for runs whose output is not kept. */
    AgentOutput NONE = (stream, kind, text, event) -> {
    };

    /**
     * @param stream {@code stdout}, {@code stderr} or {@code system} (said by the node, not the program)
     * @param kind   {@code assistant}, {@code tool_use}, {@code tool_result}, {@code system}, {@code stdout},
     *               {@code stderr} or {@code result}
     * @param text   what a person reads
     * @param event  the program's JSON line as it was printed, or null
     */
    void line(String stream, String kind, String text, String event);
}
