package dev.agentturbo.platform;

import dev.agentturbo.tasks.control.IdempotencyConflictException;
import dev.agentturbo.tasks.control.InvalidTaskException;
import dev.agentturbo.tasks.control.QueueException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

import java.util.logging.Level;
import java.util.logging.Logger;

/** Every error of the API answers application/problem+json. */
public final class ProblemMappers {

    private ProblemMappers() {
    }

    @Provider
    public static class InvalidTask implements ExceptionMapper<InvalidTaskException> {
        @Override
        public Response toResponse(InvalidTaskException e) {
            return Problem.of(400, "Invalid task", e.getMessage(), e.problems());
        }
    }

    @Provider
    public static class IdempotencyConflict implements ExceptionMapper<IdempotencyConflictException> {
        @Override
        public Response toResponse(IdempotencyConflictException e) {
            return Problem.of(Response.Status.CONFLICT, "Idempotency key already used", e.getMessage());
        }
    }

    @Provider
    public static class QueueUnavailable implements ExceptionMapper<QueueException> {
        private static final Logger LOG = Logger.getLogger(QueueUnavailable.class.getName());

        @Override
        public Response toResponse(QueueException e) {
            LOG.log(Level.WARNING, "task queue unavailable", e);
            return Problem.of(Response.Status.SERVICE_UNAVAILABLE, "Task queue unavailable",
                    "the database did not answer; nothing was stored, send the request again");
        }
    }

    /** The JAX-RS runtime's own errors (404, 405, 415, …) in the same shape. */
    @Provider
    public static class Web implements ExceptionMapper<WebApplicationException> {
        @Override
        public Response toResponse(WebApplicationException e) {
            Response r = e.getResponse();
            if (r.hasEntity() && r.getMediaType() != null && Problem.MEDIA_TYPE.equals(r.getMediaType().toString())) {
                return r;
            }
            int status = r.getStatus();
            String title = r.getStatusInfo().getReasonPhrase();
            String detail = switch (status) {
                case 404 -> "no such resource; the API's paths are /api/tasks, /api/workers and /api/stats";
                case 405 -> "this method is not allowed on this path";
                case 406 -> "this resource answers application/json";
                case 415 -> "send the body as application/json";
                default -> e.getMessage() == null ? title : e.getMessage();
            };
            return Problem.of(status, title, detail, java.util.List.of());
        }
    }
}
