package dev.agentturbo.agents.control;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

/**
 * What a person reads of one stream-json event of the {@code claude} program, and its kind: the assistant's text,
 * a tool call with its input, a tool's result, a system event (start, API retry, rate limit) or the result.
 */
public final class ClaudeEvents {

    /** One event as the output shows it. */
    public record Described(String kind, String text) {
    }

    private ClaudeEvents() {
    }

    public static Described describe(JsonObject event) {
        String type = event.getString("type", "");
        return switch (type) {
            case "assistant" -> assistant(event);
            case "user" -> toolResults(event);
            case "result" -> new Described("result", result(event));
            case "rate_limit_event" -> new Described("system", rateLimit(event));
            case "system" -> new Described("system", system(event));
            default -> new Described("system", type.isEmpty() ? "event" : type);
        };
    }

    private static Described assistant(JsonObject event) {
        StringBuilder text = new StringBuilder();
        boolean tool = false;
        for (JsonObject block : blocks(event)) {
            String type = block.getString("type", "");
            if (type.equals("text")) {
                append(text, block.getString("text", ""));
            } else if (type.equals("tool_use")) {
                tool = true;
                JsonValue input = block.get("input");
                append(text, block.getString("name", "tool") + " " + (input == null ? "{}" : input.toString()));
            } else if (type.equals("thinking")) {
                append(text, "(thinking) " + block.getString("thinking", ""));
            }
        }
        return new Described(tool ? "tool_use" : "assistant", text.toString());
    }

    private static Described toolResults(JsonObject event) {
        StringBuilder text = new StringBuilder();
        for (JsonObject block : blocks(event)) {
            if (!block.getString("type", "").equals("tool_result")) {
                continue;
            }
            if (block.getBoolean("is_error", false)) {
                append(text, "(error) ");
            }
            JsonValue content = block.get("content");
            if (content instanceof JsonString s) {
                text.append(s.getString());
            } else if (content instanceof JsonArray parts) {
                for (JsonValue part : parts) {
                    if (part instanceof JsonObject p && p.get("text") instanceof JsonString s) {
                        text.append(s.getString());
                    }
                }
            }
        }
        return new Described("tool_result", text.toString());
    }

    private static String result(JsonObject event) {
        String subtype = event.getString("subtype", "");
        String text = event.get("result") instanceof JsonString s ? s.getString() : "";
        boolean error = event.getBoolean("is_error", false);
        // the program says "success" for a run that ended normally even when its answer is an error (not logged in)
        StringBuilder line = new StringBuilder(!error ? "done"
                : subtype.isEmpty() || subtype.equals("success") ? "failed" : "failed (" + subtype + ")");
        if (event.get("total_cost_usd") instanceof JsonNumber cost) {
            line.append(", $").append(cost.bigDecimalValue().stripTrailingZeros().toPlainString());
        }
        if (event.get("num_turns") instanceof JsonNumber turns) {
            line.append(", ").append(turns.intValue()).append(" turns");
        }
        return text.isEmpty() ? line.toString() : line + ": " + text;
    }

    private static String rateLimit(JsonObject event) {
        JsonObject info = event.get("rate_limit_info") instanceof JsonObject o ? o : JsonValue.EMPTY_JSON_OBJECT;
        String line = "rate limit " + info.getString("status", "?") + " (" + info.getString("rateLimitType", "?") + ")";
        if (info.get("resetsAt") instanceof JsonNumber n) {
            line += ", resets at " + java.time.Instant.ofEpochSecond(n.longValue());
        }
        return line;
    }

    private static String system(JsonObject event) {
        String subtype = event.getString("subtype", "");
        return switch (subtype) {
            case "init" -> "started: model " + event.getString("model", "?") + ", working in "
                    + event.getString("cwd", "?");
            case "api_retry" -> "API retry " + event.get("attempt") + " of " + event.get("max_retries") + " after "
                    + event.get("retry_delay_ms") + " ms (" + event.get("error_status") + " " + event.get("error") + ")";
            default -> subtype.isEmpty() ? "system" : subtype;
        };
    }

    private static java.util.List<JsonObject> blocks(JsonObject event) {
        if (event.get("message") instanceof JsonObject message && message.get("content") instanceof JsonArray content) {
            return content.stream().filter(v -> v instanceof JsonObject).map(v -> (JsonObject) v).toList();
        }
        return java.util.List.of();
    }

    private static void append(StringBuilder text, String part) {
        if (!text.isEmpty() && text.charAt(text.length() - 1) != ' ') {
            text.append('\n');
        }
        text.append(part);
    }
}
