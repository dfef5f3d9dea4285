package dev.agentturbo.agents.control;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Checks an executor's options and says, in words a user can act on, what to change. */
final class OptionRules {

    private final String executor;
    private final JsonObject options;
    private final List<String> problems = new ArrayList<>();

    private OptionRules(String executor, JsonObject options, Set<String> known) {
        this.executor = executor;
        this.options = options;
        for (String key : options.keySet()) {
            if (!known.contains(key)) {
                problems.add("options." + key + " is not an option of executor '" + executor + "'; its options are: "
                        + String.join(", ", new TreeSet<>(known)));
            }
        }
    }

    static OptionRules of(String executor, JsonObject options, String... known) {
        return new OptionRules(executor, options, Set.of(known));
    }

    OptionRules string(String key, int maxLength) {
        JsonValue v = options.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return this;
        }
        if (!(v instanceof JsonString s)) {
            problems.add("options." + key + " must be a string");
        } else if (s.getString().isBlank()) {
            problems.add("options." + key + " must not be blank");
        } else if (s.getString().length() > maxLength) {
            problems.add("options." + key + " must be at most " + maxLength + " characters");
        }
        return this;
    }

    OptionRules oneOf(String key, Set<String> allowed) {
        JsonValue v = options.get(key);
        if (v instanceof JsonString s && !allowed.contains(s.getString())) {
            problems.add("options." + key + " must be one of " + String.join(", ", new TreeSet<>(allowed))
                    + ", not '" + s.getString() + "'");
        } else if (v != null && v.getValueType() != JsonValue.ValueType.NULL && !(v instanceof JsonString)) {
            problems.add("options." + key + " must be one of " + String.join(", ", new TreeSet<>(allowed)));
        }
        return this;
    }

    OptionRules integer(String key, long min, long max) {
        JsonValue v = options.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return this;
        }
        if (!(v instanceof JsonNumber n) || !n.isIntegral()) {
            problems.add("options." + key + " must be a whole number from " + min + " to " + max);
        } else if (n.bigIntegerValue().compareTo(java.math.BigInteger.valueOf(min)) < 0
                || n.bigIntegerValue().compareTo(java.math.BigInteger.valueOf(max)) > 0) {
            problems.add("options." + key + " must be from " + min + " to " + max + ", not " + n);
        }
        return this;
    }

    /** A number from min to max, fractions allowed. */
    OptionRules number(String key, java.math.BigDecimal min, java.math.BigDecimal max) {
        JsonValue v = options.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return this;
        }
        String range = min.toPlainString() + " to " + max.toPlainString();
        if (!(v instanceof JsonNumber n)) {
            problems.add("options." + key + " must be a number from " + range);
        } else if (n.bigDecimalValue().compareTo(min) < 0 || n.bigDecimalValue().compareTo(max) > 0) {
            problems.add("options." + key + " must be from " + range + ", not " + n);
        }
        return this;
    }

    /** A string, or an array of non-blank strings. */
    OptionRules strings(String key) {
        JsonValue v = options.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL || v instanceof JsonString) {
            return string(key, 10_000);
        }
        if (!(v instanceof JsonArray a) || a.stream().anyMatch(e -> !(e instanceof JsonString s) || s.getString().isBlank())) {
            problems.add("options." + key + " must be a string or an array of non-blank strings");
        }
        return this;
    }

    OptionRules absolutePath(String key) {
        string(key, 4096);
        if (options.get(key) instanceof JsonString s && !s.getString().startsWith("/")) {
            problems.add("options." + key + " must be an absolute path, not '" + s.getString() + "'");
        }
        return this;
    }

    /** An absolute path that the node's sandbox allows as a working directory. */
    OptionRules workingDirectory(String key, Confinement confinement) {
        absolutePath(key);
        if (options.get(key) instanceof JsonString s && s.getString().startsWith("/") && s.getString().length() <= 4096) {
            confinement.refuse(s.getString()).ifPresent(problems::add);
        }
        return this;
    }

    /**
     * A git repository to work in, in a worktree of the task's own ({@code repository}, with {@code branch},
     * {@code baseRef} and {@code cleanup}), or a working directory: not both.
     */
    OptionRules repository(Confinement confinement) {
        absolutePath("repository");
        if (options.get("repository") instanceof JsonString s && s.getString().startsWith("/")
                && s.getString().length() <= 4096) {
            confinement.refuse(s.getString(), "repository").ifPresent(problems::add);
        }
        boolean hasRepository = options.containsKey("repository") && !options.isNull("repository");
        if (hasRepository && options.containsKey("workingDirectory") && !options.isNull("workingDirectory")) {
            problems.add("options.repository and options.workingDirectory exclude each other: with a repository the"
                    + " agent works in a git worktree of the task's own; leave out workingDirectory");
        }
        for (String key : List.of("branch", "baseRef", "cleanup")) {
            if (!hasRepository && options.containsKey(key) && !options.isNull(key)) {
                problems.add("options." + key + " needs options.repository (the git repository the task works on)");
            }
        }
        string("branch", 200);
        if (options.get("branch") instanceof JsonString s && !s.getString().isBlank()) {
            BranchName.problem(s.getString()).ifPresent(p -> problems.add("options.branch '" + s.getString()
                    + "' is not a valid git branch name: it " + p));
        }
        string("baseRef", 200);
        if (options.get("baseRef") instanceof JsonString s && !s.getString().isBlank()
                && (s.getString().startsWith("-") || s.getString().chars().anyMatch(c -> c < 0x20 || c == ' '))) {
            problems.add("options.baseRef '" + s.getString() + "' must name a commit (a branch, tag or commit id),"
                    + " without spaces and not beginning with '-'");
        }
        return oneOf("cleanup", Set.copyOf(dev.agentturbo.agents.entity.WorktreeSettings.Cleanup.names()));
    }

    /** A permission mode any submitter may ask for, or a privileged one if the submitter may. */
    OptionRules permissionMode(String key, dev.agentturbo.agents.entity.Sandbox sandbox, boolean privileged) {
        JsonValue v = options.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return this;
        }
        Set<String> open = sandbox.permissionModes();
        String choices = String.join(", ", new TreeSet<>(open));
        if (!(v instanceof JsonString s)) {
            problems.add("options." + key + " must be one of " + choices);
        } else if (sandbox.privilegedPermissionModes().contains(s.getString())) {
            if (!privileged) {
                problems.add("options." + key + " '" + s.getString() + "' may only be asked for by an operator;"
                        + " use one of " + choices);
            }
        } else if (!open.contains(s.getString())) {
            problems.add("options." + key + " must be one of " + choices + ", not '" + s.getString() + "'"
                    + " (agentturbo.claude.permission-modes)");
        }
        return this;
    }

    OptionRules require(String key) {
        if (!options.containsKey(key) || options.isNull(key)) {
            problems.add("options." + key + " is required by executor '" + executor + "'");
        }
        return this;
    }

    OptionRules check(boolean ok, String problem) {
        if (!ok) {
            problems.add(problem);
        }
        return this;
    }

    List<String> problems() {
        return List.copyOf(problems);
    }

    /** The values of a string-or-array option, empty when absent. */
    static List<String> values(JsonObject options, String key) {
        JsonValue v = options.get(key);
        if (v instanceof JsonString s) {
            return List.of(s.getString());
        }
        if (v instanceof JsonArray a) {
            return a.getValuesAs(JsonString.class).stream().map(JsonString::getString).toList();
        }
        return List.of();
    }
}
