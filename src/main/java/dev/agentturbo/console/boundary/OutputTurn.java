package dev.agentturbo.console.boundary;

import dev.agentturbo.tasks.entity.OutputItem;

import java.io.Serializable;
import java.time.Instant;

/**
 * One item of an agent's output as a turn of the conversation on the task page: the assistant's text, a tool call
 * with its input, a tool's result (folded), a system event, a line of stdout or stderr, the result.
 */
public class OutputTurn implements Serializable {

    private final long seq;
    private final Instant at;
    private final int attempt;
    private final String kind;
    private final String text;

    public OutputTurn(OutputItem item) {
        this.seq = item.seq();
        this.at = item.at();
        this.attempt = item.attempt();
        this.kind = item.kind() == null ? item.stream() : item.kind();
        this.text = item.text() == null ? "" : item.text();
    }

    public long getSeq() {
        return seq;
    }

    public Instant getAt() {
        return at;
    }

    public int getAttempt() {
        return attempt;
    }

    public String getKind() {
        return kind;
    }

    public String getText() {
        return text;
    }

    /** Who speaks, as the page labels it. */
    public String getLabel() {
        return switch (kind) {
            case "assistant" -> "assistant";
            case "tool_use" -> "tool call";
            case "tool_result" -> "tool result";
            case "result" -> "result";
            default -> kind;
        };
    }

    /** Tool results are folded: they are often long and rarely read whole. */
    public boolean isFolded() {
        return kind.equals("tool_result");
    }

    /** An error: stderr, a tool that failed, a failed result. */
    public boolean isError() {
        return kind.equals("stderr") || text.startsWith("(error)") || (kind.equals("result") && text.startsWith("failed"));
    }

    /** The first line, as the summary of a folded result. */
    public String getSummary() {
        String first = text.lines().findFirst().orElse("");
        return first.length() > 160 ? first.substring(0, 160) + " …" : first;
    }
}
