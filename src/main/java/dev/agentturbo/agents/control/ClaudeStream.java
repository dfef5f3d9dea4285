package dev.agentturbo.agents.control;

import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.spi.JsonProvider;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

import java.io.StringReader;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what {@code claude -p --output-format stream-json --verbose} prints, one JSON object a line, and decides
 * the attempt's outcome from it. It matches on fields, not on display text, except where the program offers
 * nothing else (the reset time of a usage limit in older versions).
 */
public final class ClaudeStream {

    /** Looked up once: JsonProvider.provider() searches the class path on every call. */
    private static final JsonProvider JSON = JsonProvider.provider();

    private static final Pattern EPOCH_LIMIT = Pattern.compile("usage limit reached\\|(\\d{9,11})", Pattern.CASE_INSENSITIVE);
    /**
     * "resets 2am", "resets 5:10pm (Europe/Paris)", and when the reset is more than a day away (weekly limits)
     * "resets Dec 2, 4:50pm (UTC)", with the year when it is not this year's: "resets Jan 3, 2027, 5pm (UTC)".
     */
    private static final Pattern RESETS_AT = Pattern.compile("limit.*?resets\\s+"
            + "(?:([a-z]{3})[a-z]*\\.?\\s+(\\d{1,2}),?\\s+(?:(\\d{4}),?\\s+)?(?:at\\s+)?)?"
            + "(\\d{1,2})(?::(\\d{2}))?\\s*(am|pm)(?:\\s*\\(([^)]+)\\))?", Pattern.CASE_INSENSITIVE);
    private static final List<String> MONTHS = List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
            "oct", "nov", "dec");

    /** Said with every credentials outcome of the {@code claude} program: what the operator does about it. */
    public static final String WHAT_TO_DO = "give this node's agents a valid credential: run `claude setup-token` and"
            + " set CLAUDE_CODE_OAUTH_TOKEN (a subscription), or set ANTHROPIC_API_KEY, in the node's environment and"
            + " restart the node (or run `claude login` as the node's user); a restart with another credential ends"
            + " the pause for that node, POST /api/limits/{id}/lift ends it for all";

    /**
     * What the program prints (result text) when its credential is missing or refused, seen in 2.1.197: checked
     * as prefixes, because the program offers no field for it when the API was never asked ("Not logged in").
     */
    private static final List<String> CREDENTIAL_TEXTS = List.of("not logged in", "invalid api key",
            "oauth token revoked", "oauth token has expired", "failed to authenticate",
            "your anthropic_api_key belongs to a disabled organization",
            "your organization has disabled api key authentication", "credit balance is too low");

    /**
     * One {@code api_retry} line: the program will try the API again by itself.
     *
     * @param status the HTTP status the API answered, or null when it could not be reached
     * @param error  the program's word for it ({@code rate_limit}, {@code authentication_failed}, …)
     * @param delay  how long the program waits before it tries again
     */
    public record ApiRetry(Integer status, String error, java.time.Duration delay) {

        /** The credential was refused: retrying will not help, and the program would go on for minutes. */
        public boolean refusedCredential() {
            return Integer.valueOf(401).equals(status) || "authentication_failed".equals(error);
        }

        /** The API is rate-limited (429) or overloaded (529): the fleet backs off. */
        public boolean limited() {
            return status != null && (status == 429 || status == 529)
                    || "rate_limit".equals(error) || "overloaded".equals(error);
        }
    }

    private final Clock clock;
    private ApiRetry refused;
    private int limitedRetries;
    private String sessionId;
    private JsonObject result;
    private Instant rejectedUntil;
    private int lines;
    private int events;
    private int apiRetries;

    public ClaudeStream(Clock clock) {
        this.clock = clock;
    }

    /**
     * Takes one line of the program's stdout; lines that are not JSON objects are ignored.
     *
     * @return the event the line holds, or null when it is not a JSON object
     */
    public JsonObject accept(String line) {
        lines++;
        JsonObject event;
        try (var reader = JSON.createReader(new StringReader(line))) {
            JsonValue value = reader.readValue();
            if (!(value instanceof JsonObject o)) {
                return null;
            }
            event = o;
        } catch (JsonException | IllegalStateException e) {
            return null;
        }
        events++;
        String type = event.getString("type", "");
        if (event.containsKey("session_id") && event.get("session_id") instanceof jakarta.json.JsonString s) {
            sessionId = s.getString();
        }
        switch (type) {
            case "result" -> result = event;
            case "rate_limit_event" -> {
                JsonObject info = event.getJsonObject("rate_limit_info");
                if (info != null && "rejected".equals(info.getString("status", "")) && info.get("resetsAt") instanceof JsonNumber n) {
                    rejectedUntil = Instant.ofEpochSecond(n.longValue());
                }
            }
            case "system" -> {
                ApiRetry retry = apiRetry(event);
                if (retry != null) {
                    apiRetries++;
                    if (retry.refusedCredential() && refused == null) {
                        refused = retry;
                    }
                    if (retry.limited()) {
                        limitedRetries++;
                    }
                }
            }
            default -> {
            }
        }
        return event;
    }

    /** The retry the event announces, or null when it is not an {@code api_retry} line. */
    public static ApiRetry apiRetry(JsonObject event) {
        if (!"system".equals(event.getString("type", "")) || !"api_retry".equals(event.getString("subtype", ""))) {
            return null;
        }
        Integer status = event.get("error_status") instanceof JsonNumber n ? n.intValue() : null;
        String error = event.get("error") instanceof jakarta.json.JsonString s ? s.getString() : "";
        java.time.Duration delay = event.get("retry_delay_ms") instanceof JsonNumber n
                ? java.time.Duration.ofMillis(Math.max(0, n.longValue())) : null;
        return new ApiRetry(status, error, delay);
    }

    /**
     * Whether the event shows that the API accepted a request: an assistant message from a model (the program
     * makes up {@code <synthetic>} ones for its own errors), or the subscription's limits reported as allowed.
     */
    public static boolean apiAnswered(JsonObject event) {
        String type = event.getString("type", "");
        if ("assistant".equals(type) && event.get("message") instanceof JsonObject m) {
            return !"<synthetic>".equals(m.getString("model", "<synthetic>"));
        }
        if ("rate_limit_event".equals(type) && event.get("rate_limit_info") instanceof JsonObject info) {
            return info.getString("status", "").startsWith("allowed");
        }
        return false;
    }

    /** True once the program said it retries because its credential was refused. */
    public boolean credentialRefused() {
        return refused != null;
    }

    public String sessionId() {
        return sessionId;
    }

    /** How many JSON objects were read; the program prints its first one (system init) as soon as it runs. */
    int events() {
        return events;
    }

    /** True once the program printed its result line: without one, the attempt did not finish. */
    public boolean sawResult() {
        return result != null;
    }

    /** Decides the attempt from what was read and the program's exit code. */
    public Outcome outcome(int exitCode) {
        if (result == null && refused != null) {
            return new Outcome(Outcome.Kind.CREDENTIALS, null, "the API refused the credential of claude (status "
                    + refused.status() + ", " + refused.error() + "): " + WHAT_TO_DO, exitCode, null, null, null,
                    null, sessionId, null);
        }
        if (result == null) {
            // the session id of the init line still names the transcript the program kept
            return new Outcome(Outcome.Kind.RETRYABLE, null, "claude exited with " + exitCode
                    + " without a result line (" + lines + " lines read"
                    + (apiRetries > 0 ? ", " + apiRetries + " API retries" : "") + ")", exitCode, null, null, null,
                    null, sessionId, null);
        }
        String text = result.get("result") instanceof jakarta.json.JsonString s ? s.getString() : null;
        BigDecimal cost = result.get("total_cost_usd") instanceof JsonNumber n ? n.bigDecimalValue() : null;
        JsonObject usage = result.get("usage") instanceof JsonObject u ? u : JsonValue.EMPTY_JSON_OBJECT;
        Long inputTokens = tokens(usage, "input_tokens");
        Long outputTokens = tokens(usage, "output_tokens");
        Integer turns = result.get("num_turns") instanceof JsonNumber n ? n.intValue() : null;
        String session = result.getString("session_id", sessionId);
        boolean isError = result.getBoolean("is_error", false);
        if (!isError) {
            return new Outcome(Outcome.Kind.SUCCEEDED, text, null, exitCode, cost, inputTokens, outputTokens, turns,
                    session, null);
        }
        Instant resume = usageLimitReset(text);
        if (resume != null) {
            return new Outcome(Outcome.Kind.USAGE_LIMITED, text, "usage limit reached: " + text, exitCode, cost,
                    inputTokens, outputTokens, turns, session, resume);
        }
        String subtype = result.getString("subtype", "");
        Integer status = result.get("api_error_status") instanceof JsonNumber n ? n.intValue() : null;
        String said = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (Integer.valueOf(401).equals(status) || refused != null
                || CREDENTIAL_TEXTS.stream().anyMatch(said::startsWith)) {
            return new Outcome(Outcome.Kind.CREDENTIALS, text, "claude has no valid credential ("
                    + (text == null || text.isBlank() ? "API status " + status : text) + "): " + WHAT_TO_DO, exitCode,
                    cost, inputTokens, outputTokens, turns, session, null);
        }
        if (status != null && (status == 429 || status == 529) || said.startsWith("repeated 529")) {
            return new Outcome(Outcome.Kind.RATE_LIMITED, text, "the API stayed "
                    + (Integer.valueOf(429).equals(status) ? "rate-limited (429)" : "overloaded (529)")
                    + (limitedRetries > 0 ? " through " + limitedRetries + " retries of claude" : "")
                    + (text == null || text.isBlank() ? "" : ": " + text), exitCode, cost, inputTokens, outputTokens,
                    turns, session, null);
        }
        String error = "claude reported an error"
                + (subtype.isEmpty() || "success".equals(subtype) ? "" : " (" + subtype + ")")
                + (status == null ? "" : " (API status " + status + ")")
                + (text == null || text.isBlank() ? "" : ": " + text);
        // a limit the task itself set (turns, budget) would only be hit again, at the same price: fail now
        Outcome.Kind kind = LIMITS_THE_TASK_SET.contains(subtype) ? Outcome.Kind.PERMANENT : Outcome.Kind.RETRYABLE;
        return new Outcome(kind, text, error, exitCode, cost, inputTokens, outputTokens, turns, session, null);
    }

    private static final java.util.Set<String> LIMITS_THE_TASK_SET = java.util.Set.of("error_max_turns",
            "error_max_budget_usd");

    /** When the subscription's usage window resets, if this error is that limit; else null. */
    Instant usageLimitReset(String text) {
        if (rejectedUntil != null) {
            return rejectedUntil;
        }
        if (text == null) {
            return null;
        }
        Matcher epoch = EPOCH_LIMIT.matcher(text);
        if (epoch.find()) {
            return Instant.ofEpochSecond(Long.parseLong(epoch.group(1)));
        }
        Matcher at = RESETS_AT.matcher(text);
        if (at.find()) {
            int hour = Integer.parseInt(at.group(4)) % 12 + ("pm".equals(at.group(6).toLowerCase(Locale.ROOT)) ? 12 : 0);
            int minute = at.group(5) == null ? 0 : Integer.parseInt(at.group(5));
            if (minute > 59) {
                return null;
            }
            ZoneId zone;
            try {
                zone = at.group(7) == null ? ZoneId.systemDefault() : ZoneId.of(at.group(7).trim());
            } catch (RuntimeException e) {
                zone = ZoneId.systemDefault();
            }
            ZonedDateTime now = ZonedDateTime.now(clock.withZone(zone));
            if (at.group(1) == null) {
                ZonedDateTime reset = now.with(LocalTime.of(hour, minute));
                return (reset.isAfter(now) ? reset : reset.plusDays(1)).toInstant();
            }
            int month = MONTHS.indexOf(at.group(1).toLowerCase(Locale.ROOT)) + 1;
            if (month == 0) {
                return null;
            }
            try {
                int year = at.group(3) == null ? now.getYear() : Integer.parseInt(at.group(3));
                ZonedDateTime reset = ZonedDateTime.of(year, month, Integer.parseInt(at.group(2)), hour, minute, 0, 0, zone);
                // the program leaves out the year when it is this one: a reset "Jan 2" seen on Dec 31 is next year's
                return (at.group(3) == null && reset.isBefore(now.minusDays(1)) ? reset.plusYears(1) : reset).toInstant();
            } catch (DateTimeException e) {
                return null;
            }
        }
        return null;
    }

    private static Long tokens(JsonObject usage, String key) {
        return usage.get(key) instanceof JsonNumber n ? n.longValue() : null;
    }
}
