package dev.agentturbo.tasks.boundary;

import dev.agentturbo.tasks.entity.Task;
import dev.agentturbo.tasks.entity.TaskSummary;
import jakarta.json.spi.JsonProvider;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

import java.io.StringReader;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** A task as the API shows it. */
final class TaskJson {

    /** Looked up once: JsonProvider.provider() searches the class path on every call. */
    private static final JsonProvider JSON = JsonProvider.provider();

    private TaskJson() {
    }

    static JsonObject of(Task t) {
        JsonObjectBuilder b = JSON.createObjectBuilder()
                .add("id", t.getId())
                .add("status", t.getStatus().value())
                .add("priority", t.getPriority())
                .add("executor", t.getExecutor())
                .add("prompt", t.getPrompt())
                .add("options", options(t.getOptions()))
                .add("attempt", t.getAttempt())
                .add("maxAttempts", t.getMaxAttempts())
                .add("timeoutSeconds", t.getTimeoutSeconds())
                .add("cancelRequested", t.isCancelRequested());
        put(b, "idempotencyKey", t.getIdempotencyKey());
        put(b, "workerId", t.getWorkerId());
        put(b, "runAfter", t.getRunAfter());
        put(b, "createdAt", t.getCreatedAt());
        put(b, "startedAt", t.getStartedAt());
        put(b, "completedAt", t.getCompletedAt());
        put(b, "result", t.getResult());
        put(b, "error", t.getError());
        if (t.getExitCode() != null) {
            b.add("exitCode", t.getExitCode());
        } else {
            b.addNull("exitCode");
        }
        BigDecimal cost = t.getCostUsd();
        if (cost != null) {
            b.add("costUsd", cost.stripTrailingZeros());
        } else {
            b.addNull("costUsd");
        }
        putLong(b, "inputTokens", t.getInputTokens());
        putLong(b, "outputTokens", t.getOutputTokens());
        putLong(b, "numTurns", t.getNumTurns() == null ? null : t.getNumTurns().longValue());
        put(b, "sessionId", t.getSessionId());
        put(b, "submittedBy", t.getSubmittedBy());
        return b.build();
    }

    /** A task in a listing: no options, no result; prompt and error as previews, and the prompt's length. */
    static JsonObject of(TaskSummary t) {
        JsonObjectBuilder b = JSON.createObjectBuilder()
                .add("id", t.id())
                .add("status", t.status().value())
                .add("priority", t.priority())
                .add("executor", t.executor())
                .add("promptPreview", t.promptPreview())
                .add("promptLength", t.promptLength())
                .add("attempt", t.attempt())
                .add("maxAttempts", t.maxAttempts());
        put(b, "workerId", t.workerId());
        put(b, "createdAt", t.createdAt() == null ? null : t.createdAt().toString());
        put(b, "startedAt", t.startedAt() == null ? null : t.startedAt().toString());
        put(b, "completedAt", t.completedAt() == null ? null : t.completedAt().toString());
        put(b, "errorPreview", t.errorPreview());
        put(b, "submittedBy", t.submittedBy());
        if (t.exitCode() != null) {
            b.add("exitCode", t.exitCode());
        } else {
            b.addNull("exitCode");
        }
        if (t.costUsd() != null) {
            b.add("costUsd", t.costUsd().stripTrailingZeros());
        } else {
            b.addNull("costUsd");
        }
        putLong(b, "inputTokens", t.inputTokens());
        putLong(b, "outputTokens", t.outputTokens());
        return b.build();
    }

    /** A task with the history of its attempts. */
    static JsonObject of(Task t, java.util.List<dev.agentturbo.tasks.entity.Attempt> attempts) {
        var list = JSON.createArrayBuilder();
        for (var a : attempts) {
            JsonObjectBuilder b = JSON.createObjectBuilder().add("attempt", a.attempt()).add("outcome", a.outcome());
            put(b, "worker", a.worker());
            put(b, "startedAt", a.startedAt() == null ? null : a.startedAt().toString());
            put(b, "endedAt", a.endedAt() == null ? null : a.endedAt().toString());
            put(b, "error", a.error());
            list.add(b);
        }
        return JSON.createObjectBuilder(of(t)).add("attempts", list).build();
    }

    /** One piece of output; its event is the program's JSON line as an object (as a string if it is not one). */
    static JsonObject of(dev.agentturbo.tasks.entity.OutputItem item) {
        JsonObjectBuilder b = JSON.createObjectBuilder().add("seq", item.seq()).add("at", item.at().toString())
                .add("attempt", item.attempt()).add("stream", item.stream()).add("kind", item.kind())
                .add("text", item.text());
        if (item.event() == null) {
            b.addNull("event");
        } else {
            try (var reader = JSON.createReader(new java.io.StringReader(item.event()))) {
                b.add("event", reader.readValue());
            } catch (jakarta.json.JsonException | IllegalStateException e) {
                b.add("event", item.event());
            }
        }
        return b.build();
    }

    private static JsonObject options(String json) {
        try (var reader = JSON.createReader(new StringReader(json == null ? "{}" : json))) {
            return reader.readObject();
        }
    }

    private static void put(JsonObjectBuilder b, String name, String value) {
        if (value == null) {
            b.addNull(name);
        } else {
            b.add(name, value);
        }
    }

    private static void put(JsonObjectBuilder b, String name, OffsetDateTime value) {
        put(b, name, value == null ? null : value.withOffsetSameInstant(ZoneOffset.UTC).toString());
    }

    private static void putLong(JsonObjectBuilder b, String name, Long value) {
        if (value == null) {
            b.addNull(name);
        } else {
            b.add(name, value);
        }
    }
}
