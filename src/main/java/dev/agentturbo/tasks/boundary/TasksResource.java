package dev.agentturbo.tasks.boundary;

import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.platform.Problem;
import dev.agentturbo.platform.Requests;
import dev.agentturbo.security.boundary.Callers;
import dev.agentturbo.security.entity.Caller;
import dev.agentturbo.security.entity.Role;
import dev.agentturbo.tasks.control.TaskAttempts;
import dev.agentturbo.tasks.control.TaskCatalog;
import dev.agentturbo.tasks.control.TaskOutput;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.tasks.control.TaskRequests;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.OutputItem;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.Task;
import dev.agentturbo.tasks.entity.TaskSummary;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.spi.JsonProvider;
import jakarta.json.JsonArrayBuilder;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/** Submit, read, list, cancel and retry agent tasks; read and follow their output. */
@Path("tasks")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
public class TasksResource {

    /** Looked up once: JsonProvider.provider() searches the class path on every call. */
    private static final JsonProvider JSON = JsonProvider.provider();

    static final int DEFAULT_PAGE = 50;
    static final int MAX_PAGE = 500;

    @Inject
    TaskRequests requests;
    @Inject
    TaskQueue queue;
    @Inject
    TaskCatalog catalog;
    @Inject
    TaskAttempts attempts;
    @Inject
    TaskOutput output;
    @Inject
    OutputStreams streams;
    @Context
    UriInfo uri;
    @Context
    SecurityContext security;

    /**
     * Submits one task. Answers 201 with the stored task; with an Idempotency-Key already used for the same task,
     * 200 with that first task and nothing new stored.
     */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({"submitter", "operator"})
    public Response submit(byte[] body, @HeaderParam("Idempotency-Key") String idempotencyKey) {
        Caller caller = Callers.of(security);
        NewTask task = requests.one(body, idempotencyKey, caller.role() == Role.OPERATOR).by(caller.name());
        Submitted stored = queue.submit(task);
        URI location = uri.getBaseUriBuilder().path("tasks").path(Long.toString(stored.id())).build();
        return Response.status(stored.created() ? Response.Status.CREATED : Response.Status.OK)
                .location(location)
                .entity(TaskJson.of(catalog.find(stored.id()).orElseThrow()).toString())
                .build();
    }

    /** Submits many tasks in one transaction: all are stored, or (on any problem) none. */
    @POST
    @Path("batch")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({"submitter", "operator"})
    public Response submitBatch(byte[] body) {
        Caller caller = Callers.of(security);
        List<NewTask> tasks = requests.many(body, caller.role() == Role.OPERATOR).stream().map(t -> t.by(caller.name()))
                .toList();
        List<Submitted> stored = queue.submitAll(tasks);
        JsonArrayBuilder items = JSON.createArrayBuilder();
        for (Submitted s : stored) {
            items.add(JSON.createObjectBuilder().add("id", s.id()).add("created", s.created())
                    .add("href", uri.getBaseUriBuilder().path("tasks").path(Long.toString(s.id())).build().toString()));
        }
        return Response.status(Response.Status.CREATED)
                .entity(JSON.createObjectBuilder().add("count", stored.size()).add("tasks", items).build().toString())
                .build();
    }

    /** One task with its status, worker, outcome, cost and tokens, and the history of its attempts. */
    @GET
    @Path("{id}")
    @RolesAllowed({"viewer", "submitter", "operator"})
    public Response get(@PathParam("id") String id) {
        return visible(id).map(t -> Response.ok(TaskJson.of(t, attempts.of(t.getId())).toString()).build())
                .orElseGet(() -> notFound(id));
    }

    /**
     * What the task's agents printed, in order: {@code {"items": [...], "next", "taskStatus"}}. {@code after} is
     * the {@code next} of the previous page (0, or absent, from the start); {@code limit} 1–500, default 100.
     */
    @GET
    @Path("{id}/output")
    @RolesAllowed({"viewer", "submitter", "operator"})
    public Response output(@PathParam("id") String id, @QueryParam("after") String after,
                           @QueryParam("limit") String limit) {
        Optional<Task> task = visible(id);
        if (task.isEmpty()) {
            return notFound(id);
        }
        long from = seq("after", after);
        int size = limit == null || limit.isBlank() ? 100 : (int) number("limit", limit, 1, MAX_PAGE);
        List<OutputItem> items = output.read(task.get().getId(), from, size);
        JsonArrayBuilder list = JSON.createArrayBuilder();
        items.forEach(i -> list.add(TaskJson.of(i)));
        return Response.ok(JSON.createObjectBuilder().add("items", list)
                .add("next", items.isEmpty() ? from : items.get(items.size() - 1).seq())
                .add("taskStatus", task.get().getStatus().value()).build().toString()).build();
    }

    /**
     * The task's output as server-sent events: first what is stored (after {@code Last-Event-ID} or {@code after}),
     * then, while the task runs, each new piece as it is stored, whichever node runs it; then an {@code end}
     * event with the task's status, and the stream closes. Each {@code output} event carries one item of
     * {@code GET …/output} as its data and its seq as its id.
     */
    @GET
    @Path("{id}/output/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RolesAllowed({"viewer", "submitter", "operator"})
    public void stream(@PathParam("id") String id, @QueryParam("after") String after,
                       @HeaderParam("Last-Event-ID") String lastEventId, @Context SseEventSink sink, @Context Sse sse) {
        Optional<Task> task = visible(id);
        if (task.isEmpty()) {
            throw new WebApplicationException(notFound(id));
        }
        long from = lastEventId != null && !lastEventId.isBlank() ? seq("Last-Event-ID", lastEventId) : seq("after", after);
        if (!streams.follow(task.get().getId(), from, sink, sse)) {
            throw new WebApplicationException(Problem.of(Response.Status.SERVICE_UNAVAILABLE, "Too many streams",
                    "this node serves as many output streams as it may (agentturbo.output.max-streams); read"
                            + " GET /api/tasks/" + id + "/output instead, or try again later"));
        }
    }

    /**
     * Runs a finished task (completed, failed or cancelled) again: the same task, as a new attempt, with as many
     * attempts as it was submitted with; its earlier output and attempts stay. 202; 409 when it is not finished.
     * (To run it as a new task, submit a copy.)
     */
    @POST
    @Path("{id}/retry")
    @RolesAllowed({"submitter", "operator"})
    public Response retry(@PathParam("id") String id) {
        Optional<Long> taskId = visible(id).map(Task::getId);
        if (taskId.isEmpty()) {
            return notFound(id);
        }
        Optional<Boolean> retried = queue.retry(taskId.get());
        if (retried.isEmpty()) {
            return notFound(id);
        }
        Task task = catalog.find(taskId.get()).orElseThrow();
        if (!retried.get()) {
            return Problem.of(Response.Status.CONFLICT, "Task not finished", "task " + id + " is "
                    + task.getStatus().value() + "; only completed, failed or cancelled tasks can be retried");
        }
        return Response.accepted(TaskJson.of(task, attempts.of(task.getId())).toString()).build();
    }

    private static long seq(String name, String value) {
        return value == null || value.isBlank() ? 0 : number(name, value, 0, Long.MAX_VALUE);
    }

    private static long number(String name, String value, long min, long max) {
        long n;
        try {
            n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            n = min - 1;
        }
        if (n < min || n > max) {
            throw new InvalidRequestException(400, "Invalid query", name + " must be a whole number from " + min
                    + (max == Long.MAX_VALUE ? " up" : " to " + max) + ", not '" + value + "'", List.of());
        }
        return n;
    }

    /** The task, if the caller may see it: a submitter sees only its own (another's is "not found"). */
    private Optional<Task> visible(String id) {
        Caller caller = Callers.of(security);
        return Requests.id(id).flatMap(catalog::find)
                .filter(t -> !Callers.ownTasksOnly(caller) || caller.name().equals(t.getSubmittedBy()));
    }

    /**
     * Tasks, newest first. {@code status} filters; {@code limit} (1–500, default 50) sizes the page;
     * {@code cursor} is the {@code nextCursor} of the previous page.
     */
    @GET
    @RolesAllowed({"viewer", "submitter", "operator"})
    public Response list(@QueryParam("status") String status, @QueryParam("limit") String limit,
                         @QueryParam("cursor") String cursor) {
        TaskStatus filter = null;
        if (status != null && !status.isBlank()) {
            Optional<TaskStatus> parsed = TaskStatus.parse(status);
            if (parsed.isEmpty()) {
                return Problem.of(Response.Status.BAD_REQUEST, "Invalid query",
                        "status must be one of " + TaskStatus.names() + ", not '" + status + "'");
            }
            filter = parsed.get();
        }
        int size = DEFAULT_PAGE;
        if (limit != null && !limit.isBlank()) {
            try {
                size = Integer.parseInt(limit);
            } catch (NumberFormatException e) {
                size = -1;
            }
            if (size < 1 || size > MAX_PAGE) {
                return Problem.of(Response.Status.BAD_REQUEST, "Invalid query",
                        "limit must be a whole number from 1 to " + MAX_PAGE + ", not '" + limit + "'");
            }
        }
        Long before = null;
        if (cursor != null && !cursor.isBlank()) {
            Optional<Long> parsed = Requests.id(cursor);
            if (parsed.isEmpty()) {
                return Problem.of(Response.Status.BAD_REQUEST, "Invalid query",
                        "cursor must be the nextCursor of a previous page, not '" + cursor + "'");
            }
            before = parsed.get();
        }
        Caller caller = Callers.of(security);
        List<TaskSummary> page = catalog.page(filter, before, size + 1,
                Callers.ownTasksOnly(caller) ? caller.name() : null);
        boolean more = page.size() > size;
        List<TaskSummary> shown = more ? page.subList(0, size) : page;
        JsonArrayBuilder items = JSON.createArrayBuilder();
        shown.forEach(t -> items.add(TaskJson.of(t)));
        var body = JSON.createObjectBuilder().add("items", items);
        if (more) {
            body.add("nextCursor", Long.toString(shown.get(shown.size() - 1).id()));
        } else {
            body.addNull("nextCursor");
        }
        return Response.ok(body.build().toString()).build();
    }

    /**
     * Cancels a task. A pending task is cancelled at once (200); for a running one the agent is killed on
     * whichever node runs it (202, the task shows cancelled within seconds). A finished task cannot be (409).
     */
    @POST
    @Path("{id}/cancel")
    @RolesAllowed({"submitter", "operator"})
    public Response cancel(@PathParam("id") String id) {
        Optional<Long> taskId = visible(id).map(Task::getId);
        if (taskId.isEmpty()) {
            return notFound(id);
        }
        Optional<TaskStatus> after = queue.cancel(taskId.get());
        if (after.isEmpty()) {
            return notFound(id);
        }
        Task task = catalog.find(taskId.get()).orElseThrow();
        return switch (after.get()) {
            case CANCELLED -> Response.ok(TaskJson.of(task).toString()).build();
            case RUNNING, PENDING -> Response.accepted(TaskJson.of(task).toString()).build();
            default -> Problem.of(Response.Status.CONFLICT, "Task already finished",
                    "task " + id + " is " + after.get().value() + "; only pending or running tasks can be cancelled");
        };
    }


    private static Response notFound(String id) {
        return Problem.of(Response.Status.NOT_FOUND, "Task not found", "there is no task with id '" + id + "'");
    }
}
