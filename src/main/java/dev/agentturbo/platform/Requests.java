package dev.agentturbo.platform;

import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.spi.JsonProvider;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Small request bodies (tokens, users, workers): one JSON object with known fields, nothing else. */
public final class Requests {

    private static final JsonProvider JSON = JsonProvider.provider();
    private static final int MAX_BYTES = 10_000;

    private Requests() {
    }

    /** A positive id from a path, such as {@code /api/tasks/{id}}; empty for anything else. */
    public static java.util.Optional<Long> id(String text) {
        try {
            long value = Long.parseLong(text);
            return value > 0 ? java.util.Optional.of(value) : java.util.Optional.empty();
        } catch (NumberFormatException e) {
            return java.util.Optional.empty();
        }
    }

    public static JsonObject object(byte[] body, Set<String> fields) {
        if (body == null || body.length == 0 || body.length > MAX_BYTES) {
            throw InvalidRequestException.badRequest("send a JSON object of at most " + MAX_BYTES + " bytes with "
                    + String.join(", ", new TreeSet<>(fields)));
        }
        JsonObject o;
        try (var reader = JSON.createReader(new java.io.StringReader(dev.agentturbo.tasks.control.TaskRequests.text(body)))) {
            o = reader.readObject();
        } catch (JsonException | IllegalStateException e) {
            throw InvalidRequestException.badRequest("the body is not a JSON object: " + e.getMessage());
        }
        List<String> unknown = o.keySet().stream().filter(k -> !fields.contains(k)).toList();
        if (!unknown.isEmpty()) {
            throw InvalidRequestException.badRequest(unknown + " are not fields of this request; its fields are "
                    + String.join(", ", new TreeSet<>(fields)));
        }
        return o;
    }
}
