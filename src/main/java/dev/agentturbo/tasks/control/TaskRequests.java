package dev.agentturbo.tasks.control;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.agents.control.ClaudeCli;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.SubmissionLimits;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.spi.JsonProvider;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonParsingException;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.CharacterCodingException;
import java.nio.ByteBuffer;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns the JSON a client sent into tasks, or into a list of what to fix. Nothing is stored unless every
 * field of every task is acceptable.
 */
@ApplicationScoped
public class TaskRequests {

    /** Looked up once: JsonProvider.provider() searches the class path on every call. */
    private static final JsonProvider JSON = JsonProvider.provider();


    static final Set<String> FIELDS = Set.of("prompt", "executor", "priority", "maxAttempts", "timeoutSeconds",
            "options", "idempotencyKey");

    @Inject
    SubmissionLimits limits;
    @Inject
    AgentExecutors executors;

    protected TaskRequests() {
    }

    public TaskRequests(SubmissionLimits limits, AgentExecutors executors) {
        this.limits = limits;
        this.executors = executors;
    }

    /** One task from a JSON object; {@code headerKey} is the Idempotency-Key header, if any. */
    /**
     * One task from the bytes of a JSON object.
     *
     * @param privileged whether the caller may ask for what only operators may (privileged permission modes)
     */
    public NewTask one(byte[] body, String headerKey, boolean privileged) {
        return one(text(body), headerKey, privileged);
    }

    /** Many tasks from the bytes of a JSON array of task objects. */
    public List<NewTask> many(byte[] body, boolean privileged) {
        return many(text(body), privileged);
    }

    public NewTask one(String body, String headerKey) {
        return one(body, headerKey, false);
    }

    public List<NewTask> many(String body) {
        return many(body, false);
    }

    NewTask one(String body, String headerKey, boolean privileged) {
        JsonValue value = read(body);
        if (!(value instanceof JsonObject object)) {
            throw new InvalidTaskException(List.of("the body must be a JSON object such as {\"prompt\": \"...\"}"));
        }
        List<String> problems = new ArrayList<>();
        NewTask task = task(object, "", headerKey, problems, privileged);
        if (!problems.isEmpty()) {
            throw new InvalidTaskException(problems);
        }
        return task;
    }

    /** Many tasks from a JSON array of task objects. */
    List<NewTask> many(String body, boolean privileged) {
        JsonValue value = read(body);
        if (!(value instanceof JsonArray array)) {
            throw new InvalidTaskException(List.of("the body must be a JSON array of task objects"));
        }
        if (array.isEmpty()) {
            throw new InvalidTaskException(List.of("the array is empty: send at least one task"));
        }
        if (array.size() > limits.maxBatchSize()) {
            throw new InvalidTaskException(List.of("a batch holds at most " + limits.maxBatchSize() + " tasks, not "
                    + array.size() + "; split it"));
        }
        List<String> problems = new ArrayList<>();
        List<NewTask> tasks = new ArrayList<>();
        Set<String> keys = new java.util.HashSet<>();
        for (int i = 0; i < array.size(); i++) {
            String at = "[" + i + "].";
            if (!(array.get(i) instanceof JsonObject object)) {
                problems.add(at.substring(0, at.length() - 1) + " must be a task object");
                continue;
            }
            NewTask task = task(object, at, null, problems, privileged);
            if (task != null && task.idempotencyKey() != null && !keys.add(task.idempotencyKey())) {
                problems.add(at + "idempotencyKey '" + task.idempotencyKey() + "' appears twice in this batch");
            }
            tasks.add(task);
        }
        if (!problems.isEmpty()) {
            throw new InvalidTaskException(problems);
        }
        return tasks;
    }

    private NewTask task(JsonObject o, String at, String headerKey, List<String> problems, boolean privileged) {
        int before = problems.size();
        for (String key : o.keySet()) {
            if (!FIELDS.contains(key)) {
                problems.add(at + key + " is not a task field; the fields are " + String.join(", ", new java.util.TreeSet<>(FIELDS)));
            }
        }
        String prompt = null;
        JsonValue p = o.get("prompt");
        if (p == null || p.getValueType() == JsonValue.ValueType.NULL) {
            problems.add(at + "prompt is required: the instructions for the agent");
        } else if (!(p instanceof JsonString s)) {
            problems.add(at + "prompt must be a string");
        } else if (s.getString().isBlank()) {
            problems.add(at + "prompt must not be blank");
        } else if (s.getString().length() > limits.maxPromptChars()) {
            problems.add(at + "prompt has " + s.getString().length() + " characters; the limit is " + limits.maxPromptChars());
        } else {
            prompt = s.getString();
        }
        String executor = ClaudeCli.NAME;
        JsonValue e = o.get("executor");
        if (e != null && e.getValueType() != JsonValue.ValueType.NULL) {
            if (e instanceof JsonString s) {
                executor = s.getString();
            } else {
                problems.add(at + "executor must be a string, one of " + String.join(", ", executors.names()));
                executor = null;
            }
        }
        int priority = integer(o, "priority", 0, SubmissionLimits.MIN_PRIORITY, SubmissionLimits.MAX_PRIORITY, at, problems);
        int maxAttempts = integer(o, "maxAttempts", limits.defaultMaxAttempts(), 1, SubmissionLimits.MAX_ATTEMPTS, at, problems);
        int timeout = integer(o, "timeoutSeconds", limits.defaultTimeoutSeconds(), 1, limits.maxTimeoutSeconds(), at, problems);
        JsonObject options = JsonValue.EMPTY_JSON_OBJECT;
        JsonValue opt = o.get("options");
        if (opt != null && opt.getValueType() != JsonValue.ValueType.NULL) {
            if (opt instanceof JsonObject obj) {
                options = obj;
                if (obj.toString().length() > limits.maxOptionsChars()) {
                    problems.add(at + "options take " + obj.toString().length() + " characters as JSON; the limit is "
                            + limits.maxOptionsChars());
                }
            } else {
                problems.add(at + "options must be a JSON object");
            }
        }
        if (executor != null) {
            for (String problem : executors.check(executor, options, privileged)) {
                problems.add(at + problem);
            }
        }
        String key = headerKey;
        JsonValue k = o.get("idempotencyKey");
        if (k != null && k.getValueType() != JsonValue.ValueType.NULL) {
            if (k instanceof JsonString s) {
                if (headerKey != null && !headerKey.equals(s.getString())) {
                    problems.add(at + "idempotencyKey differs from the Idempotency-Key header; send one of them");
                }
                key = s.getString();
            } else {
                problems.add(at + "idempotencyKey must be a string");
            }
        }
        if (key != null && (key.isBlank() || key.length() > SubmissionLimits.MAX_KEY_CHARS)) {
            problems.add(at + "the idempotency key must have 1 to " + SubmissionLimits.MAX_KEY_CHARS + " characters");
        } else if (key != null && key.chars().anyMatch(Character::isISOControl)) {
            problems.add(at + "the idempotency key must not contain control characters");
        }
        String optionsJson = options == null ? null : options.toString();
        for (var text : java.util.Map.of("prompt", prompt == null ? "" : prompt, "options", optionsJson == null ? ""
                : optionsJson, "idempotencyKey", key == null ? "" : key).entrySet()) {
            if (unpairedSurrogate(text.getValue())) {
                problems.add(at + text.getKey() + " contains an unpaired surrogate (such as \\ud800 alone), which is"
                        + " no character and cannot be stored");
            }
        }
        if (problems.size() > before) {
            return null;
        }
        return new NewTask(executor, prompt, priority, maxAttempts, timeout, optionsJson, key);
    }

    /** True when a UTF-16 surrogate stands without its pair: the text is no valid Unicode. */
    static boolean unpairedSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
                    return true;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static int integer(JsonObject o, String field, int fallback, int min, int max, String at, List<String> problems) {
        JsonValue v = o.get(field);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return fallback;
        }
        if (!(v instanceof JsonNumber n) || !n.isIntegral()) {
            problems.add(at + field + " must be a whole number from " + min + " to " + max);
            return fallback;
        }
        BigInteger value = n.bigIntegerValue();
        if (value.compareTo(BigInteger.valueOf(min)) < 0 || value.compareTo(BigInteger.valueOf(max)) > 0) {
            problems.add(at + field + " must be from " + min + " to " + max + ", not " + value);
            return fallback;
        }
        return value.intValue();
    }

    /** How deep arrays and objects may nest in a body: a task needs three levels, its options a few more. */
    static final int MAX_DEPTH = 32;

    /** A body as the API receives it: bytes that must be UTF-8. */
    public static String text(byte[] body) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body == null ? new byte[0] : body))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new InvalidTaskException(List.of("the body is not valid UTF-8: send JSON encoded as UTF-8"));
        }
    }

    private static JsonValue read(String body) {
        if (body == null || body.isBlank()) {
            throw new InvalidTaskException(List.of("the body is empty: send a JSON task such as {\"prompt\": \"...\"}"));
        }
        refuseWhatCannotBeStored(body);
        try (var parser = JSON.createParser(new StringReader(body))) {
            refuseRepeatedKeys(body);
            parser.next();
            JsonValue value = parser.getValue();
            if (parser.hasNext()) {
                throw new InvalidTaskException(List.of("the body has more after its JSON value: send one value"));
            }
            return value;
        } catch (JsonParsingException e) {
            var loc = e.getLocation();
            throw new InvalidTaskException(List.of("the body is not valid JSON"
                    + (loc == null ? "" : " (line " + loc.getLineNumber() + ", column " + loc.getColumnNumber() + ")")
                    + ": " + e.getMessage()));
        } catch (JsonException | IllegalStateException | NumberFormatException | ArithmeticException e) {
            throw new InvalidTaskException(List.of("the body is not valid JSON: " + e.getMessage()));
        }
    }

    /** An object with the same key twice is refused: which of its values would count? */
    private static void refuseRepeatedKeys(String body) {
        java.util.Deque<Set<String>> objects = new java.util.ArrayDeque<>();
        try (var parser = JSON.createParser(new StringReader(body))) {
            while (parser.hasNext()) {
                switch (parser.next()) {
                    case START_OBJECT -> objects.push(new java.util.HashSet<>());
                    case START_ARRAY -> objects.push(java.util.Collections.emptySet());
                    case END_OBJECT, END_ARRAY -> objects.pop();
                    case KEY_NAME -> {
                        if (!objects.peek().add(parser.getString())) {
                            throw new InvalidTaskException(List.of("the body repeats the key '" + parser.getString()
                                    + "' in one object: send each key once"));
                        }
                    }
                    default -> {
                    }
                }
            }
        }
    }

    /**
     * Before parsing: nesting deeper than {@link #MAX_DEPTH} (a parser would recurse for each level) and NUL
     * characters (PostgreSQL stores no NUL in text or jsonb), raw or escaped.
     */
    private static void refuseWhatCannotBeStored(String body) {
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == 0) {
                throw new InvalidTaskException(List.of("the body contains a NUL character (U+0000), which cannot be stored"));
            }
            if (inString) {
                if (c == '\\') {
                    if (body.regionMatches(true, i + 1, "u0000", 0, 5)) {
                        throw new InvalidTaskException(List.of("the body contains an escaped NUL character (\\u0000),"
                                + " which cannot be stored"));
                    }
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '[' || c == '{') {
                if (++depth > MAX_DEPTH) {
                    throw new InvalidTaskException(List.of("the body nests arrays and objects more than " + MAX_DEPTH
                            + " levels deep"));
                }
            } else if (c == ']' || c == '}') {
                depth--;
            }
        }
    }
}
