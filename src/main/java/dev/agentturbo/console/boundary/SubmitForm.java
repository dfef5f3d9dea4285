package dev.agentturbo.console.boundary;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.agents.entity.ExecutorSettings;
import dev.agentturbo.agents.entity.Sandbox;
import jakarta.enterprise.inject.Instance;
import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.tasks.control.IdempotencyConflictException;
import dev.agentturbo.tasks.control.InvalidTaskException;
import dev.agentturbo.tasks.control.TaskCatalog;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.tasks.control.TaskRequests;
import dev.agentturbo.tasks.entity.TaskRequest;
import dev.agentturbo.platform.JsonBodies;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.Submitted;
import dev.agentturbo.tasks.entity.Task;
import jakarta.faces.application.FacesMessage;
import jakarta.faces.view.ViewScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.Serializable;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * The submit page: one task or a batch (a prompt a line) with every option of each executor. The form becomes the
 * JSON the API takes and goes through the same {@link JsonBodies} and {@link TaskRequests}, so a mistake gets the API's own message.
 */
@Named
@ViewScoped
public class SubmitForm implements Serializable {

    @Inject
    TaskRequests requests;
    @Inject
    TaskQueue queue;
    @Inject
    TaskCatalog catalog;
    @Inject
    AgentExecutors executors;
    @Inject
    Instance<ExecutorSettings> settings;
    @Inject
    ConsoleCaller caller;

    private Long copyOf;
    private boolean batch;
    private String prompt;
    private String executor = "claude-cli";
    private Integer priority;
    private Integer maxAttempts;
    private Integer timeoutSeconds;
    private String idempotencyKey;
    private String concurrencyKey;
    private String dependsOn;
    private boolean chain;
    // claude-cli
    private String model;
    private Integer maxTurns;
    private String allowedTools;
    private String permissionMode;
    private String appendSystemPrompt;
    private String workingDirectory;
    // command
    private String command;
    private String args;
    // simulated
    private Long durationMs;
    private String outcome;

    private List<String> problems = List.of();
    private List<Long> submitted = List.of();

    /** With {@code ?copy=ID}: the form holds that task's prompt and options. */
    public void prefill() {
        if (copyOf == null) {
            return;
        }
        Task task = catalog.find(copyOf).filter(caller::sees).orElse(null);
        if (task == null) {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "No such task", "there is no task " + copyOf + " to copy");
            return;
        }
        prompt = task.getPrompt();
        executor = task.getExecutor();
        priority = task.getPriority();
        maxAttempts = task.getMaxAttempts();
        timeoutSeconds = task.getTimeoutSeconds();
        concurrencyKey = task.getConcurrencyKey();
        JsonObject options;
        try (JsonReader r = Json.createReader(new StringReader(task.getOptions() == null ? "{}" : task.getOptions()))) {
            options = r.readObject();
        }
        model = string(options, "model");
        maxTurns = options.get("maxTurns") instanceof JsonNumber n ? n.intValue() : null;
        allowedTools = strings(options, "allowedTools", ", ");
        permissionMode = string(options, "permissionMode");
        appendSystemPrompt = string(options, "appendSystemPrompt");
        workingDirectory = string(options, "workingDirectory");
        command = string(options, "command");
        args = strings(options, "args", "\n");
        durationMs = options.get("durationMs") instanceof JsonNumber n ? n.longValue() : null;
        outcome = string(options, "outcome");
        ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "Copy of task " + copyOf, "change what you like and submit");
    }

    /** Submits the task (or each line as a task); on any problem nothing is stored and each problem is shown. */
    public void submit() {
        problems = List.of();
        submitted = List.of();
        if (caller.refuses(caller.isSubmitter(), "submit tasks")) {
            return;
        }
        boolean privileged = caller.isOperator();
        try {
            List<Submitted> stored;
            if (batch) {
                JsonArrayBuilder tasks = Json.createArrayBuilder();
                int item = 0;
                for (String line : (prompt == null ? "" : prompt).split("\\R")) {
                    if (!line.isBlank()) {
                        JsonObjectBuilder task = json(line.strip());
                        if (chain && item > 0) {
                            JsonArrayBuilder after = dependencies();
                            after.add("#" + (item - 1));
                            task.add("dependsOn", after);
                        }
                        tasks.add(task);
                        item++;
                    }
                }
                List<NewTask> many = requests.acceptAll(JsonBodies.many(bytes(tasks.build().toString()),
                        TaskRequest.class), privileged);
                stored = queue.submitAll(many.stream().map(t -> t.by(caller.getName())).toList(), caller.isOwnTasksOnly());
            } else {
                NewTask one = requests.accept(JsonBodies.one(bytes(json(prompt).build().toString()), TaskRequest.class),
                        null, privileged);
                stored = List.of(queue.submit(one.by(caller.getName()), caller.isOwnTasksOnly()));
            }
            submitted = stored.stream().map(Submitted::id).toList();
            boolean allNew = stored.stream().allMatch(Submitted::created);
            ConsoleCaller.say(FacesMessage.SEVERITY_INFO, stored.size() == 1 ? "Task submitted" : stored.size()
                            + " tasks submitted", (stored.size() == 1 ? "task " : "tasks ") + String.join(", ",
                    submitted.stream().map(String::valueOf).toList()) + (allNew ? " queued"
                    : " (an earlier submission with the same idempotency key is shown)"));
        } catch (InvalidTaskException e) {
            problems = e.problems();
            ConsoleCaller.say(FacesMessage.SEVERITY_ERROR, "Not submitted", problems.size() == 1 ? problems.get(0)
                    : problems.size() + " problems: see the list");
        } catch (InvalidRequestException e) {
            problems = e.problems().isEmpty() ? List.of(e.getMessage()) : e.problems();
            ConsoleCaller.say(FacesMessage.SEVERITY_ERROR, "Not submitted", e.title());
        } catch (IdempotencyConflictException e) {
            problems = List.of(e.getMessage());
            ConsoleCaller.say(FacesMessage.SEVERITY_ERROR, "Not submitted", e.getMessage());
        }
    }

    /** The task ids typed into "Waits for" (commas or spaces between them), as the API's dependsOn. */
    private JsonArrayBuilder dependencies() {
        JsonArrayBuilder ids = Json.createArrayBuilder();
        for (String id : (dependsOn == null ? "" : dependsOn).split("[,\\s]+")) {
            if (id.isBlank()) {
                continue;
            }
            String digits = id.strip().replaceFirst("^#", "");
            try {
                ids.add(Long.parseLong(digits));
            } catch (NumberFormatException e) {
                ids.add(id.strip()); // the API's message says what an entry must be
            }
        }
        return ids;
    }

    /** The task as the API's JSON: only the fields the form filled in, the options of the chosen executor. */
    JsonObjectBuilder json(String text) {
        JsonObjectBuilder o = Json.createObjectBuilder();
        if (text != null) {
            o.add("prompt", text);
        }
        if (executor != null && !executor.isBlank()) {
            o.add("executor", executor);
        }
        if (priority != null) {
            o.add("priority", priority);
        }
        if (maxAttempts != null) {
            o.add("maxAttempts", maxAttempts);
        }
        if (timeoutSeconds != null) {
            o.add("timeoutSeconds", timeoutSeconds);
        }
        if (!batch && idempotencyKey != null && !idempotencyKey.isBlank()) {
            o.add("idempotencyKey", idempotencyKey);
        }
        if (concurrencyKey != null && !concurrencyKey.isBlank()) {
            o.add("concurrencyKey", concurrencyKey);
        }
        if (dependsOn != null && !dependsOn.isBlank()) {
            o.add("dependsOn", dependencies());
        }
        JsonObjectBuilder options = Json.createObjectBuilder();
        switch (executor == null ? "" : executor) {
            case "claude-cli" -> {
                put(options, "model", model);
                if (maxTurns != null) {
                    options.add("maxTurns", maxTurns);
                }
                if (allowedTools != null && !allowedTools.isBlank()) {
                    options.add("allowedTools", array(allowedTools.split("[,\\n]")));
                }
                put(options, "permissionMode", permissionMode);
                put(options, "appendSystemPrompt", appendSystemPrompt);
                put(options, "workingDirectory", workingDirectory);
            }
            case "command" -> {
                put(options, "command", command);
                if (args != null && !args.isBlank()) {
                    options.add("args", array(args.split("\\R")));
                }
                put(options, "workingDirectory", workingDirectory);
            }
            case "simulated" -> {
                if (durationMs != null) {
                    options.add("durationMs", durationMs);
                }
                put(options, "outcome", outcome);
            }
            default -> {
            }
        }
        JsonObject built = options.build();
        if (!built.isEmpty()) {
            o.add("options", built);
        }
        return o;
    }

    private static JsonArray array(String[] values) {
        JsonArrayBuilder a = Json.createArrayBuilder();
        Arrays.stream(values).map(String::strip).filter(v -> !v.isEmpty()).forEach(a::add);
        return a.build();
    }

    private static void put(JsonObjectBuilder o, String key, String value) {
        if (value != null && !value.isBlank()) {
            o.add(key, value.strip());
        }
    }

    private static String string(JsonObject o, String key) {
        return o.get(key) instanceof JsonString s ? s.getString() : null;
    }

    private static String strings(JsonObject o, String key, String separator) {
        if (!(o.get(key) instanceof JsonArray a)) {
            return null;
        }
        List<String> values = new ArrayList<>();
        for (JsonValue v : a) {
            values.add(v instanceof JsonString s ? s.getString() : v.toString());
        }
        return String.join(separator, values);
    }

    private static byte[] bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }

    public List<String> getExecutors() {
        return executors.names();
    }

    /** The permission modes this user may ask for. */
    public List<String> getPermissionModes() {
        Sandbox sandbox = settings.get().sandbox();
        TreeSet<String> modes = new TreeSet<>(sandbox.permissionModes());
        if (caller.isOperator()) {
            modes.addAll(sandbox.privilegedPermissionModes());
        }
        return List.copyOf(modes);
    }

    public List<String> getProblems() {
        return problems;
    }

    public List<Long> getSubmitted() {
        return submitted;
    }

    public Long getCopyOf() {
        return copyOf;
    }

    public void setCopyOf(Long copyOf) {
        this.copyOf = copyOf;
    }

    public boolean isBatch() {
        return batch;
    }

    public void setBatch(boolean batch) {
        this.batch = batch;
    }

    public String getPrompt() {
        return prompt;
    }

    public void setPrompt(String prompt) {
        this.prompt = prompt;
    }

    public String getExecutor() {
        return executor;
    }

    public void setExecutor(String executor) {
        this.executor = executor;
    }

    public Integer getPriority() {
        return priority;
    }

    public void setPriority(Integer priority) {
        this.priority = priority;
    }

    public Integer getMaxAttempts() {
        return maxAttempts;
    }

    public void setMaxAttempts(Integer maxAttempts) {
        this.maxAttempts = maxAttempts;
    }

    public Integer getTimeoutSeconds() {
        return timeoutSeconds;
    }

    public void setTimeoutSeconds(Integer timeoutSeconds) {
        this.timeoutSeconds = timeoutSeconds;
    }

    public String getIdempotencyKey() {
        return idempotencyKey;
    }

    public void setIdempotencyKey(String idempotencyKey) {
        this.idempotencyKey = idempotencyKey;
    }

    public String getConcurrencyKey() {
        return concurrencyKey;
    }

    public void setConcurrencyKey(String concurrencyKey) {
        this.concurrencyKey = concurrencyKey;
    }

    public String getDependsOn() {
        return dependsOn;
    }

    public void setDependsOn(String dependsOn) {
        this.dependsOn = dependsOn;
    }

    /** In a batch: each line waits for the line before it. */
    public boolean isChain() {
        return chain;
    }

    public void setChain(boolean chain) {
        this.chain = chain;
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public Integer getMaxTurns() {
        return maxTurns;
    }

    public void setMaxTurns(Integer maxTurns) {
        this.maxTurns = maxTurns;
    }

    public String getAllowedTools() {
        return allowedTools;
    }

    public void setAllowedTools(String allowedTools) {
        this.allowedTools = allowedTools;
    }

    public String getPermissionMode() {
        return permissionMode;
    }

    public void setPermissionMode(String permissionMode) {
        this.permissionMode = permissionMode;
    }

    public String getAppendSystemPrompt() {
        return appendSystemPrompt;
    }

    public void setAppendSystemPrompt(String appendSystemPrompt) {
        this.appendSystemPrompt = appendSystemPrompt;
    }

    public String getWorkingDirectory() {
        return workingDirectory;
    }

    public void setWorkingDirectory(String workingDirectory) {
        this.workingDirectory = workingDirectory;
    }

    public String getCommand() {
        return command;
    }

    public void setCommand(String command) {
        this.command = command;
    }

    public String getArgs() {
        return args;
    }

    public void setArgs(String args) {
        this.args = args;
    }

    public Long getDurationMs() {
        return durationMs;
    }

    public void setDurationMs(Long durationMs) {
        this.durationMs = durationMs;
    }

    public String getOutcome() {
        return outcome;
    }

    public void setOutcome(String outcome) {
        this.outcome = outcome;
    }
}
