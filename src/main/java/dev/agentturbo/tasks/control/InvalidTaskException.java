package dev.agentturbo.tasks.control;

import java.util.List;

/** A submission that cannot be stored as it is; each problem says what to change. */
public class InvalidTaskException extends RuntimeException {
    private final List<String> problems;

    public InvalidTaskException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
