package dev.agentturbo.platform;

import java.util.List;

/** A request the API cannot act on, with what to change: answered 400 (or the given status) as problem+json. */
public class InvalidRequestException extends RuntimeException {

    private final int status;
    private final String title;
    private final List<String> problems;

    public InvalidRequestException(int status, String title, String detail, List<String> problems) {
        super(detail);
        this.status = status;
        this.title = title;
        this.problems = List.copyOf(problems);
    }

    public static InvalidRequestException badRequest(String detail) {
        return new InvalidRequestException(400, "Invalid request", detail, List.of());
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public List<String> problems() {
        return problems;
    }
}
