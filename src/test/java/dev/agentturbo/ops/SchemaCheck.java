package dev.agentturbo.ops;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks a JSON value against an OpenAPI 3.0 schema, for the subset an OpenAPI document of this API uses: type,
 * nullable, properties (an object may hold no field its schema does not name, unless additionalProperties says
 * so), required, items, enum, additionalProperties, allOf, $ref into components/schemas. Returns every mismatch,
 * each with its JSON path.
 */
final class SchemaCheck {

    private final JsonObject document;

    SchemaCheck(JsonObject document) {
        this.document = document;
    }

    List<String> problems(JsonValue value, JsonObject schema) {
        List<String> problems = new ArrayList<>();
        check(value, schema, "$", problems, 0);
        return problems;
    }

    private JsonObject resolve(JsonObject schema) {
        int hops = 0;
        while (schema.containsKey("$ref")) {
            String ref = schema.getString("$ref");
            if (!ref.startsWith("#/components/schemas/") || ++hops > 20) {
                throw new IllegalArgumentException("unsupported $ref " + ref);
            }
            JsonObject target = document.getJsonObject("components").getJsonObject("schemas")
                    .getJsonObject(ref.substring("#/components/schemas/".length()));
            if (target == null) {
                throw new IllegalArgumentException("$ref to a missing schema: " + ref);
            }
            schema = target;
        }
        return schema;
    }

    private void check(JsonValue value, JsonObject raw, String at, List<String> problems, int depth) {
        if (depth > 50) {
            problems.add(at + ": nested too deep");
            return;
        }
        JsonObject schema = resolve(raw);
        if (schema.containsKey("allOf")) {
            for (JsonValue part : schema.getJsonArray("allOf")) {
                check(value, part.asJsonObject(), at, problems, depth + 1);
            }
        }
        if (value.getValueType() == JsonValue.ValueType.NULL) {
            if (!schema.getBoolean("nullable", false) && schema.containsKey("type")) {
                problems.add(at + ": null, but the schema does not allow null");
            }
            return;
        }
        if (schema.containsKey("enum")) {
            JsonArray allowed = schema.getJsonArray("enum");
            if (!allowed.contains(value)) {
                problems.add(at + ": " + value + " is none of " + allowed);
            }
        }
        String type = schema.containsKey("type") ? schema.getString("type") : null;
        if (type == null) {
            return;
        }
        switch (type) {
            case "string" -> {
                if (!(value instanceof JsonString)) {
                    problems.add(at + ": " + value.getValueType() + ", documented string");
                }
            }
            case "integer" -> {
                if (!(value instanceof JsonNumber n) || !n.isIntegral()) {
                    problems.add(at + ": " + value + ", documented integer");
                }
            }
            case "number" -> {
                if (!(value instanceof JsonNumber)) {
                    problems.add(at + ": " + value.getValueType() + ", documented number");
                }
            }
            case "boolean" -> {
                if (value != JsonValue.TRUE && value != JsonValue.FALSE) {
                    problems.add(at + ": " + value.getValueType() + ", documented boolean");
                }
            }
            case "array" -> {
                if (!(value instanceof JsonArray array)) {
                    problems.add(at + ": " + value.getValueType() + ", documented array");
                } else if (schema.containsKey("items")) {
                    for (int i = 0; i < array.size(); i++) {
                        check(array.get(i), schema.getJsonObject("items"), at + "[" + i + "]", problems, depth + 1);
                    }
                }
            }
            case "object" -> {
                if (!(value instanceof JsonObject object)) {
                    problems.add(at + ": " + value.getValueType() + ", documented object");
                    return;
                }
                JsonObject properties = schema.containsKey("properties") ? schema.getJsonObject("properties")
                        : JsonValue.EMPTY_JSON_OBJECT;
                if (schema.containsKey("required")) {
                    for (JsonValue name : schema.getJsonArray("required")) {
                        if (!object.containsKey(((JsonString) name).getString())) {
                            problems.add(at + ": required field " + name + " is missing");
                        }
                    }
                }
                JsonValue additional = schema.get("additionalProperties");
                for (var field : object.entrySet()) {
                    if (properties.containsKey(field.getKey())) {
                        check(field.getValue(), properties.getJsonObject(field.getKey()), at + "." + field.getKey(),
                                problems, depth + 1);
                    } else if (additional instanceof JsonObject more) {
                        check(field.getValue(), more, at + "." + field.getKey(), problems, depth + 1);
                    } else if (!properties.isEmpty() && additional != JsonValue.TRUE) {
                        problems.add(at + ": field " + field.getKey() + " is not documented");
                    }
                }
            }
            default -> problems.add(at + ": unsupported schema type " + type);
        }
    }
}
