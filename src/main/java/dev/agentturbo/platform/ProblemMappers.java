package dev.agentturbo.platform;

import dev.agentturbo.tasks.control.IdempotencyConflictException;
import dev.agentturbo.tasks.control.InvalidTaskException;
import dev.agentturbo.tasks.control.QueueException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

import java.util.List;
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

    /**
     * Bean Validation's verdict on a request body ({@code @Valid}): 400 with one entry per problem, titled as the
     * body's {@link JsonBody} says.
     */
    @Provider
    public static class InvalidBody implements ExceptionMapper<ConstraintViolationException> {
        @Override
        public Response toResponse(ConstraintViolationException e) {
            String title = e.getConstraintViolations().stream().map(ConstraintViolation::getLeafBean)
                    .filter(b -> b != null && b.getClass().isAnnotationPresent(JsonBody.class)).findFirst()
                    .map(b -> b.getClass().getAnnotation(JsonBody.class).title()).orElse("Invalid request");
            List<String> problems = Violations.problems(e.getConstraintViolations());
            return Problem.of(400, title, String.join("; ", problems), problems);
        }
    }

    @Provider
    public static class InvalidRequest implements ExceptionMapper<InvalidRequestException> {
        @Override
        public Response toResponse(InvalidRequestException e) {
            return Problem.of(e.status(), e.title(), e.getMessage(), e.problems());
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
            if (refusedValues(e)) {
                LOG.log(Level.INFO, "the database refused values of a request", e);
                return Problem.of(Response.Status.BAD_REQUEST, "Invalid task",
                        "the database refused a value of the request; nothing was stored");
            }
            LOG.log(Level.WARNING, "task queue unavailable", e);
            // a commit whose answer was lost (the server stopped, a failover) may have been stored: only a repeat
            // with the same Idempotency-Key is sure to store a task once
            return Response.fromResponse(Problem.of(Response.Status.SERVICE_UNAVAILABLE, "Task queue unavailable",
                    "the database did not answer (restarting, failing over or unreachable); send the request again"
                            + " in a few seconds, with the same Idempotency-Key so that a task is stored at most once"))
                    .header("Retry-After", "2").build();
        }

        /** A data exception (SQL state class 22) or a constraint (23): the request's values, not the database. */
        private static boolean refusedValues(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null
                        && (sql.getSQLState().startsWith("22") || sql.getSQLState().startsWith("23"))) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Anything else: still problem+json, never a bare 500; the log has the cause under the same id. */
    @Provider
    public static class Unexpected implements ExceptionMapper<Throwable> {
        private static final Logger LOG = Logger.getLogger(Unexpected.class.getName());

        @Override
        public Response toResponse(Throwable e) {
            String id = java.util.UUID.randomUUID().toString().substring(0, 8);
            LOG.log(Level.SEVERE, "unexpected error " + id + " answering a request", e);
            return Problem.of(500, "Internal error", "the node failed to answer this request (error " + id
                    + " in its log); nothing was stored", java.util.List.of());
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
