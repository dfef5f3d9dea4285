package dev.agentturbo.tasks.control;

/** The database could not be reached or refused a statement of the task queue. */
public class QueueException extends RuntimeException {
    public QueueException(String message, Throwable cause) {
        super(message + (cause == null ? "" : ": " + cause.getMessage()), cause);
    }
}
