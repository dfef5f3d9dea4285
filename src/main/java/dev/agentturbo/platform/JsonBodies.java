package dev.agentturbo.platform;

import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import jakarta.json.spi.JsonProvider;
import jakarta.json.stream.JsonParsingException;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;

import java.io.StringReader;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a request body into a {@link JsonBody} record (or a list of them), bound by JSON-B. Before binding it
 * refuses, with what to fix, what JSON-B would take silently or fail on with a message for programmers: bytes that
 * are no UTF-8, NUL characters and unpaired surrogates (PostgreSQL cannot store them), nesting deeper than
 * {@link #MAX_DEPTH}, a key twice in one object, trailing text, fields the record does not have, and values of the
 * wrong kind (JSON-B would turn 5 into "5" and 1.5 into 1). What the values must be beyond their kind is Bean
 * Validation's work, on the record.
 */
public final class JsonBodies {

    /** JSON-B for the API's bodies, requests and answers; looked up once, as it is costly to make. */
    public static final Jsonb JSONB = JsonbBuilder.create();

    private static final JsonProvider JSON = JsonProvider.provider();

    /** JSON text the node stored itself (a task's options, an agent's event line) as a value; null for null. */
    public static JsonValue parse(String text) {
        if (text == null) {
            return null;
        }
        try (var reader = JSON.createReader(new StringReader(text))) {
            return reader.readValue();
        }
    }

    /** How deep arrays and objects may nest in a body: a task needs three levels, its options a few more. */
    public static final int MAX_DEPTH = 32;

    private JsonBodies() {
    }

    /** One record of {@code type} from a JSON object. */
    public static <T extends Record> T one(byte[] body, Class<T> type) {
        JsonBody about = about(type);
        JsonValue value = read(body, about);
        if (!(value instanceof JsonObject object)) {
            throw invalid(about, List.of("the body must be a JSON object such as " + about.example()));
        }
        List<String> problems = new ArrayList<>();
        check(object, type, about, "", problems);
        if (!problems.isEmpty()) {
            throw invalid(about, problems);
        }
        return JSONB.fromJson(object.toString(), type);
    }

    /** Records of {@code type} from a JSON array of objects: at least one. */
    public static <T extends Record> List<T> many(byte[] body, Class<T> type) {
        JsonBody about = about(type);
        JsonValue value = read(body, about);
        if (!(value instanceof JsonArray array)) {
            throw invalid(about, List.of("the body must be a JSON array of " + about.noun() + " objects"));
        }
        if (array.isEmpty()) {
            throw invalid(about, List.of("the array is empty: send at least one " + about.noun()));
        }
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            if (array.get(i) instanceof JsonObject object) {
                check(object, type, about, "[" + i + "].", problems);
            } else {
                problems.add("[" + i + "] must be a " + about.noun() + " object");
            }
        }
        if (!problems.isEmpty()) {
            throw invalid(about, problems);
        }
        List<T> items = new ArrayList<>(array.size());
        array.forEach(item -> items.add(JSONB.fromJson(item.toString(), type)));
        return items;
    }

    /**
     * The body a resource method received; null (no body at all) is refused like an empty one, as what the runtime
     * does with an absent entity is its own affair.
     */
    public static <T> T present(T body, Class<? extends Record> type) {
        if (body == null) {
            JsonBody about = about(type);
            throw invalid(about, List.of("the body is empty: send a JSON " + about.noun() + " such as " + about.example()));
        }
        return body;
    }

    /** The record type of a body parameter: {@code TaskRequest} or {@code List<TaskRequest>}; null for others. */
    static Class<?> recordOf(Class<?> raw, Type generic) {
        if (raw.isRecord() && raw.isAnnotationPresent(JsonBody.class)) {
            return raw;
        }
        if (List.class.equals(raw) && generic instanceof ParameterizedType p
                && p.getActualTypeArguments()[0] instanceof Class<?> item && item.isRecord()
                && item.isAnnotationPresent(JsonBody.class)) {
            return item;
        }
        return null;
    }

    private static JsonBody about(Class<?> type) {
        JsonBody about = type.getAnnotation(JsonBody.class);
        if (about == null) {
            throw new IllegalArgumentException(type + " is no @JsonBody record");
        }
        return about;
    }

    private static InvalidRequestException invalid(JsonBody about, List<String> problems) {
        return new InvalidRequestException(400, about.title(), String.join("; ", problems), problems);
    }

    /** Unknown fields and values of the wrong kind, each named; unpaired surrogates anywhere in a field. */
    private static void check(JsonObject object, Class<?> type, JsonBody about, String at, List<String> problems) {
        Set<String> fields = new TreeSet<>();
        for (RecordComponent c : type.getRecordComponents()) {
            fields.add(c.getName());
        }
        for (String key : object.keySet()) {
            if (!fields.contains(key)) {
                problems.add(at + key + " is not a " + about.noun() + " field; the fields are " + String.join(", ", fields));
            }
        }
        for (RecordComponent c : type.getRecordComponents()) {
            JsonValue value = object.get(c.getName());
            if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
                continue;
            }
            String kind = kindProblem(c, value);
            if (kind != null) {
                problems.add(at + c.getName() + " must be " + kind);
            } else if (unpairedSurrogate(value)) {
                problems.add(at + c.getName() + " contains an unpaired surrogate (such as \\ud800 alone), which is"
                        + " no character and cannot be stored");
            }
        }
    }

    /** What the value should have been, when it is not of the component's kind; null when it is. */
    private static String kindProblem(RecordComponent c, JsonValue value) {
        Class<?> t = c.getType();
        if (t == String.class) {
            return value instanceof JsonString ? null : "a string";
        }
        if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
            // a record component's constraints land on its field (their targets do not name record components)
            Min min = field(c).getAnnotation(Min.class);
            Max max = field(c).getAnnotation(Max.class);
            String range = min != null && max != null ? " from " + min.value() + " to " + max.value() : "";
            if (!(value instanceof JsonNumber n) || !n.isIntegral()) {
                return "a whole number" + range;
            }
            int bits = t == Long.class || t == long.class ? 63 : 31;
            return n.bigIntegerValue().bitLength() > bits ? "a whole number" + (range.isEmpty() ? " of at most "
                    + bits + " bits" : range) : null;
        }
        if (t == Boolean.class || t == boolean.class) {
            return value.getValueType() == JsonValue.ValueType.TRUE || value.getValueType() == JsonValue.ValueType.FALSE
                    ? null : "true or false";
        }
        if (JsonObject.class.isAssignableFrom(t)) {
            return value instanceof JsonObject ? null : "a JSON object";
        }
        if (JsonArray.class.isAssignableFrom(t)) {
            return value instanceof JsonArray ? null : "an array";
        }
        if (List.class.isAssignableFrom(t)) {
            return value instanceof JsonArray a && a.stream().allMatch(v -> v instanceof JsonString) ? null
                    : "an array of strings";
        }
        return null;
    }

    private static java.lang.reflect.Field field(RecordComponent c) {
        try {
            return c.getDeclaringRecord().getDeclaredField(c.getName());
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean unpairedSurrogate(JsonValue value) {
        return switch (value.getValueType()) {
            case STRING -> unpairedSurrogate(((JsonString) value).getString());
            case OBJECT -> value.asJsonObject().entrySet().stream()
                    .anyMatch(e -> unpairedSurrogate(e.getKey()) || unpairedSurrogate(e.getValue()));
            case ARRAY -> value.asJsonArray().stream().anyMatch(JsonBodies::unpairedSurrogate);
            default -> false;
        };
    }

    /** True when a UTF-16 surrogate stands without its pair: the text is no valid Unicode. */
    public static boolean unpairedSurrogate(String text) {
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

    /** The body's one JSON value, once it is UTF-8, storable, not too deep, without repeated keys. */
    private static JsonValue read(byte[] bytes, JsonBody about) {
        if (bytes != null && bytes.length > about.maxBytes()) {
            throw invalid(about, List.of("the body has " + bytes.length + " bytes; a " + about.noun() + " has at most "
                    + about.maxBytes()));
        }
        String body = text(bytes, about);
        if (body.isBlank()) {
            throw invalid(about, List.of("the body is empty: send a JSON " + about.noun() + " such as " + about.example()));
        }
        refuseWhatCannotBeStored(body, about);
        try (var parser = JSON.createParser(new StringReader(body))) {
            refuseRepeatedKeys(body, about);
            parser.next();
            JsonValue value = parser.getValue();
            if (parser.hasNext()) {
                throw invalid(about, List.of("the body has more after its JSON value: send one value"));
            }
            return value;
        } catch (JsonParsingException e) {
            var loc = e.getLocation();
            throw invalid(about, List.of("the body is not valid JSON"
                    + (loc == null ? "" : " (line " + loc.getLineNumber() + ", column " + loc.getColumnNumber() + ")")
                    + ": " + e.getMessage()));
        } catch (JsonException | IllegalStateException | NumberFormatException | ArithmeticException e) {
            throw invalid(about, List.of("the body is not valid JSON: " + e.getMessage()));
        }
    }

    private static String text(byte[] body, JsonBody about) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body == null ? new byte[0] : body)).toString();
        } catch (CharacterCodingException e) {
            throw invalid(about, List.of("the body is not valid UTF-8: send JSON encoded as UTF-8"));
        }
    }

    /** An object with the same key twice is refused: which of its values would count? */
    private static void refuseRepeatedKeys(String body, JsonBody about) {
        Deque<Set<String>> objects = new ArrayDeque<>();
        try (var parser = JSON.createParser(new StringReader(body))) {
            while (parser.hasNext()) {
                switch (parser.next()) {
                    case START_OBJECT -> objects.push(new HashSet<>());
                    case START_ARRAY -> objects.push(Collections.emptySet());
                    case END_OBJECT, END_ARRAY -> objects.pop();
                    case KEY_NAME -> {
                        if (!objects.peek().add(parser.getString())) {
                            throw invalid(about, List.of("the body repeats the key '" + parser.getString()
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
    private static void refuseWhatCannotBeStored(String body, JsonBody about) {
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == 0) {
                throw invalid(about, List.of("the body contains a NUL character (U+0000), which cannot be stored"));
            }
            if (inString) {
                if (c == '\\') {
                    if (body.regionMatches(true, i + 1, "u0000", 0, 5)) {
                        throw invalid(about, List.of("the body contains an escaped NUL character (\\u0000),"
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
                    throw invalid(about, List.of("the body nests arrays and objects more than " + MAX_DEPTH
                            + " levels deep"));
                }
            } else if (c == ']' || c == '}') {
                depth--;
            }
        }
    }
}
