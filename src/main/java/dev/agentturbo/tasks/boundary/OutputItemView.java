package dev.agentturbo.tasks.boundary;

import dev.agentturbo.tasks.entity.OutputItem;
import jakarta.json.JsonException;
import jakarta.json.JsonValue;
import jakarta.json.bind.annotation.JsonbNillable;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import jakarta.json.Json;
import dev.agentturbo.platform.JsonBodies;
import org.eclipse.microprofile.openapi.annotations.media.Schema;


/** One piece of output; its event is the program's JSON line as an object (as a string if it is not one). */
@JsonbNillable
@JsonbPropertyOrder({"seq", "at", "attempt", "stream", "kind", "text", "event"})
@Schema(name = "OutputItem", requiredProperties = {"seq", "at", "attempt", "stream", "kind", "text", "event"})
public record OutputItemView(
        @Schema(description = "grows along the task's output, over all its attempts") long seq,
        @Schema(format = "date-time") String at,
        int attempt,
        @Schema(enumeration = {"stdout", "stderr", "system"}) String stream,
        @Schema(description = "assistant, tool_use, tool_result, system, stdout, stderr or result") String kind,
        @Schema(description = "what a person reads") String text,
        @Schema(nullable = true, description = "the program's JSON line as printed (an object), or null")
        JsonValue event) {

    static OutputItemView of(OutputItem item) {
        return new OutputItemView(item.seq(), item.at().toString(), item.attempt(), item.stream(), item.kind(),
                item.text(), event(item.event()));
    }

    private static JsonValue event(String line) {
        if (line == null) {
            return JsonValue.NULL;
        }
        try {
            return JsonBodies.parse(line);
        } catch (JsonException | IllegalStateException e) {
            return Json.createValue(line);
        }
    }
}
