package dev.agentturbo.tasks.boundary;

import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.platform.JsonBodies;
import dev.agentturbo.platform.Problem;
import dev.agentturbo.platform.Requests;
import dev.agentturbo.security.boundary.Callers;
import dev.agentturbo.security.entity.Caller;
import dev.agentturbo.security.entity.Role;
import dev.agentturbo.tasks.control.TaskAttempts;
import dev.agentturbo.tasks.control.TaskCatalog;
import dev.agentturbo.tasks.control.TaskDependencies;
import dev.agentturbo.tasks.control.TaskOutput;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.tasks.control.TaskRequests;
import dev.agentturbo.tasks.entity.Dependency;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.OutputItem;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.Task;
import dev.agentturbo.tasks.entity.TaskRequest;
import dev.agentturbo.tasks.entity.TaskSummary;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
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

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/** Submit, read, list, cancel and retry agent tasks; read and follow their output. */
@Path("tasks")
@Tag(name = "tasks")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
public class TasksResource {

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
    TaskDependencies dependencies;
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
    @Operation(summary = "Submit a task", description = "Stores the task and answers once its row is committed.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = TaskRequest.class), examples = {
            @ExampleObject(name = "simulated", summary = "a simulated task of 10 ms (demos, benchmarks)",
                    value = "{\"prompt\": \"Say hello\", \"executor\": \"simulated\", \"options\": {\"durationMs\": 10}}"),
            @ExampleObject(name = "once", summary = "with an idempotency key, a priority and fewer attempts",
                    value = "{\"prompt\": \"Summarise the build log\", \"executor\": \"simulated\", \"priority\": 5,"
                            + " \"maxAttempts\": 1, \"idempotencyKey\": \"build-4711-summary\"}"),
            @ExampleObject(name = "blankPrompt", summary = "refused: a blank prompt (400)",
                    value = "{\"prompt\": \"   \", \"executor\": \"simulated\"}")}))
    @APIResponse(responseCode = "201", description = "stored; Location is its URL", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = TaskView.class)))
    @APIResponse(responseCode = "200", description = "the key was used before for the same task: that first task,"
            + " nothing new stored", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = TaskView.class)))
    @APIResponse(responseCode = "400", description = "what to fix, one entry per problem", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class), examples = {@ExampleObject(name = "blankPrompt", value = "{\"type\":\"about:blank\","
            + "\"title\":\"Invalid task\",\"status\":400,\"detail\":\"prompt must not be blank\","
            + "\"errors\":[\"prompt must not be blank\"]}")}))
    @APIResponse(responseCode = "409", description = "the idempotency key was used for another task", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "the body is larger than agentturbo.api.max-body-bytes", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "415", description = "the body is not application/json", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "the database did not answer; nothing was stored", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({"submitter", "operator"})
    public Response submit(TaskRequest body,
                           @Parameter(description = "the same key again answers 200 with the first task instead of"
                                   + " storing a new one; 1 to 200 characters", example = "build-4711")
                           @HeaderParam("Idempotency-Key") String idempotencyKey) {
        Caller caller = Callers.of(security);
        NewTask task = requests.accept(JsonBodies.present(body, TaskRequest.class), idempotencyKey,
                caller.role() == Role.OPERATOR).by(caller.name());
        Submitted stored = queue.submit(task, Callers.ownTasksOnly(caller));
        URI location = uri.getBaseUriBuilder().path("tasks").path(Long.toString(stored.id())).build();
        return Response.status(stored.created() ? Response.Status.CREATED : Response.Status.OK)
                .location(location)
                .entity(TaskView.of(catalog.find(stored.id()).orElseThrow(), null, dependencies.of(stored.id())))
                .build();
    }

    /** Submits many tasks in one transaction: all are stored, or (on any problem) none. */
    @Operation(summary = "Submit many tasks", description = "All are stored in one transaction, or (on any problem) none;"
            + " at most agentturbo.tasks.max-batch-size.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(type = SchemaType.ARRAY, implementation = TaskRequest.class), examples = {
            @ExampleObject(name = "two", summary = "two simulated tasks",
                    value = "[{\"prompt\": \"first\", \"executor\": \"simulated\", \"options\": {\"durationMs\": 10}},"
                            + " {\"prompt\": \"second\", \"executor\": \"simulated\", \"options\": {\"durationMs\": 10}}]"),
            @ExampleObject(name = "secondBlank", summary = "refused: the second task has a blank prompt (400)",
                    value = "[{\"prompt\": \"first\", \"executor\": \"simulated\"}, {\"prompt\": \"\", \"executor\": \"simulated\"}]")}))
    @APIResponse(responseCode = "201", description = "every task stored", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = BatchReceipt.class)))
    @APIResponse(responseCode = "400", description = "what to fix, one entry per problem, each naming its task", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class), examples = {@ExampleObject(name = "secondBlank",
            value = "{\"type\":\"about:blank\",\"title\":\"Invalid task\",\"status\":400,"
                    + "\"detail\":\"[1].prompt must not be blank\",\"errors\":[\"[1].prompt must not be blank\"]}")}))
    @APIResponse(responseCode = "409", description = "an idempotency key was used for another task", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "the body is larger than agentturbo.api.max-body-bytes", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @POST
    @Path("batch")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({"submitter", "operator"})
    public Response submitBatch(List<TaskRequest> body) {
        Caller caller = Callers.of(security);
        List<NewTask> tasks = requests.acceptAll(JsonBodies.present(body, TaskRequest.class),
                caller.role() == Role.OPERATOR).stream().map(t -> t.by(caller.name())).toList();
        List<Submitted> stored = queue.submitAll(tasks, Callers.ownTasksOnly(caller));
        List<BatchReceipt.Stored> items = stored.stream().map(s -> new BatchReceipt.Stored(s.id(), s.created(),
                uri.getBaseUriBuilder().path("tasks").path(Long.toString(s.id())).build().toString())).toList();
        return Response.status(Response.Status.CREATED).entity(new BatchReceipt(items.size(), items)).build();
    }

    /** One task with its status, worker, outcome, cost and tokens, and the history of its attempts. */
    @Operation(summary = "Read a task", description = "With its outcome and the history of its attempts. A submitter"
            + " sees only its own tasks.")
    @APIResponse(responseCode = "200", description = "the task", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = TaskView.class)))
    @APIResponse(responseCode = "404", description = "no such task (or not the submitter's)", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @GET
    @Path("{id}")
    @RolesAllowed({"viewer", "submitter", "operator"})
    public Response get(@Parameter(description = "the task's id", example = "42") @PathParam("id") String id) {
        return visible(id).map(t -> Response.ok(TaskView.of(t, attempts.of(t.getId()), dependencies.of(t.getId()))).build())
                .orElseGet(() -> notFound(id));
    }

    /**
     * What the task's agents printed, in order: {@code {"items": [...], "next", "taskStatus"}}. {@code after} is
     * the {@code next} of the previous page (0, or absent, from the start); {@code limit} 1–500, default 100.
     */
    @Operation(summary = "Read a task's output", description = "What its agents printed, in order, a page at a time.")
    @APIResponse(responseCode = "200", description = "a page of output", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = OutputPage.class)))
    @APIResponse(responseCode = "400", description = "after or limit is no whole number in range", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "no such task (or not the submitter's)", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @GET
    @Path("{id}/output")
    @RolesAllowed({"viewer", "submitter", "operator"})
    public Response output(@PathParam("id") String id,
                           @Parameter(description = "the next of the previous page; 0 or absent from the start",
                                   schema = @Schema(type = SchemaType.INTEGER, minimum = "0")) @QueryParam("after") String after,
                           @Parameter(description = "items per page, 1 to 500, default 100",
                                   schema = @Schema(type = SchemaType.INTEGER, minimum = "1", maximum = "500"))
                           @QueryParam("limit") String limit) {
        Optional<Task> task = visible(id);
        if (task.isEmpty()) {
            return notFound(id);
        }
        long from = seq("after", after);
        int size = limit == null || limit.isBlank() ? 100 : (int) number("limit", limit, 1, MAX_PAGE);
        List<OutputItem> items = output.read(task.get().getId(), from, size);
        return Response.ok(new OutputPage(items.stream().map(OutputItemView::of).toList(),
                items.isEmpty() ? from : items.get(items.size() - 1).seq(), task.get().getStatus().value())).build();
    }

    /**
     * The task's output as server-sent events: first what is stored (after {@code Last-Event-ID} or {@code after}),
     * then, while the task runs, each new piece as it is stored, whichever node runs it; then an {@code end}
     * event with the task's status, and the stream closes. Each {@code output} event carries one item of
     * {@code GET …/output} as its data and its seq as its id.
     */
    @Operation(summary = "Follow a task's output", description = "Server-sent events: output events (data: an"
            + " OutputItem, id: its seq), then one end event (data: a StreamEnd) when the task has ended.")
    @APIResponse(responseCode = "200", description = "the event stream", content = @Content(
            mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(implementation = OutputItemView.class)))
    @APIResponse(responseCode = "400", description = "after or Last-Event-ID is no whole number", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "no such task (or not the submitter's)", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "this node serves as many streams as it may (agentturbo.output.max-streams)", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
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
    @Operation(summary = "Retry a finished task", description = "The same task runs again as a new attempt.")
    @APIResponse(responseCode = "202", description = "queued again", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = TaskView.class)))
    @APIResponse(responseCode = "404", description = "no such task (or not the submitter's)", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "the task is not finished", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
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
        List<Dependency> waitsFor = dependencies.of(task.getId());
        if (!retried.get() && task.getStatus().finished()) {
            List<String> failed = waitsFor.stream().filter(d -> !d.satisfied() && d.status().finished())
                    .map(d -> "task " + d.id() + " " + d.status().value()).toList();
            return Problem.of(Response.Status.CONFLICT, "A dependency failed", "task " + id + " waits for "
                    + String.join(" and ", failed) + ", so it could never run; retry "
                    + (failed.size() == 1 ? "that task" : "those tasks") + " first");
        }
        if (!retried.get()) {
            return Problem.of(Response.Status.CONFLICT, "Task not finished", "task " + id + " is "
                    + task.getStatus().value() + "; only completed, failed or cancelled tasks can be retried");
        }
        return Response.accepted(TaskView.of(task, attempts.of(task.getId()), waitsFor)).build();
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
    @Operation(summary = "List tasks", description = "Newest first, a page at a time. A submitter sees only its own.")
    @APIResponse(responseCode = "200", description = "a page of tasks", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = TaskPage.class)))
    @APIResponse(responseCode = "400", description = "status, limit or cursor will not do", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @GET
    @RolesAllowed({"viewer", "submitter", "operator"})
    public Response list(@Parameter(description = "only tasks of this status", schema = @Schema(type = SchemaType.STRING,
                                 enumeration = {"pending", "running", "completed", "failed", "cancelled"}))
                         @QueryParam("status") String status,
                         @Parameter(description = "tasks per page, 1 to 500, default 50", schema = @Schema(
                                 type = SchemaType.INTEGER, minimum = "1", maximum = "500")) @QueryParam("limit") String limit,
                         @Parameter(description = "the nextCursor of the previous page") @QueryParam("cursor") String cursor) {
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
        return Response.ok(new TaskPage(shown.stream().map(TaskListItem::of).toList(),
                more ? Long.toString(shown.get(shown.size() - 1).id()) : null)).build();
    }

    /**
     * Cancels a task. A pending task is cancelled at once (200); for a running one the agent is killed on
     * whichever node runs it (202, the task shows cancelled within seconds). A finished task cannot be (409).
     */
    @Operation(summary = "Cancel a task", description = "A pending task is cancelled at once; a running one is killed on"
            + " whichever node runs it.")
    @APIResponse(responseCode = "200", description = "cancelled", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = TaskView.class)))
    @APIResponse(responseCode = "202", description = "running: its agent is being stopped", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = TaskView.class)))
    @APIResponse(responseCode = "404", description = "no such task (or not the submitter's)", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "the task has finished already", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
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
            case CANCELLED -> Response.ok(TaskView.of(task)).build();
            case RUNNING, PENDING, SCHEDULED, BLOCKED -> Response.accepted(TaskView.of(task)).build();
            default -> Problem.of(Response.Status.CONFLICT, "Task already finished",
                    "task " + id + " is " + after.get().value() + "; only tasks that wait or run can be cancelled");
        };
    }


    private static Response notFound(String id) {
        return Problem.of(Response.Status.NOT_FOUND, "Task not found", "there is no task with id '" + id + "'");
    }
}
