package dev.agentturbo.tasks.control;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.agents.control.ClaudeCli;
import dev.agentturbo.platform.Violations;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.SubmissionLimits;
import dev.agentturbo.tasks.entity.TaskRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import jakarta.validation.Validator;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns submitted tasks into tasks to store, or into a list of what to fix: the record's own constraints (Bean
 * Validation) and what depends on this node (limits from the configuration, the executors and their option rules,
 * the caller's privileges), all said at once. Nothing is stored unless every field of every task is acceptable.
 */
@ApplicationScoped
public class TaskRequests {

    @Inject
    SubmissionLimits limits;
    @Inject
    AgentExecutors executors;
    @Inject
    Validator validator;

    protected TaskRequests() {
    }

    public TaskRequests(SubmissionLimits limits, AgentExecutors executors, Validator validator) {
        this.limits = limits;
        this.executors = executors;
        this.validator = validator;
    }

    /**
     * One task; {@code headerKey} is the Idempotency-Key header, if any.
     *
     * @param privileged whether the caller may ask for what only operators may (privileged permission modes)
     */
    public NewTask accept(TaskRequest request, String headerKey, boolean privileged) {
        List<String> problems = new ArrayList<>();
        NewTask task = task(request, "", headerKey, privileged, problems);
        if (!problems.isEmpty()) {
            throw new InvalidTaskException(problems);
        }
        return task;
    }

    /** Many tasks, stored together or not at all: at most agentturbo.tasks.max-batch-size, each key once. */
    public List<NewTask> acceptAll(List<TaskRequest> requests, boolean privileged) {
        if (requests.size() > limits.maxBatchSize()) {
            throw new InvalidTaskException(List.of("a batch holds at most " + limits.maxBatchSize() + " tasks, not "
                    + requests.size() + "; split it"));
        }
        List<String> problems = new ArrayList<>();
        List<NewTask> tasks = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < requests.size(); i++) {
            String at = "[" + i + "].";
            NewTask task = task(requests.get(i), at, null, privileged, problems);
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

    private NewTask task(TaskRequest r, String at, String headerKey, boolean privileged, List<String> problems) {
        int before = problems.size();
        for (String problem : Violations.problems(validator.validate(r))) {
            problems.add(at + problem);
        }
        if (r.prompt() != null && r.prompt().length() > limits.maxPromptChars()) {
            problems.add(at + "prompt has " + r.prompt().length() + " characters; the limit is " + limits.maxPromptChars());
        }
        int timeout = r.timeoutSeconds() == null ? limits.defaultTimeoutSeconds() : r.timeoutSeconds();
        if (timeout < 1 || timeout > limits.maxTimeoutSeconds()) {
            problems.add(at + "timeoutSeconds must be from 1 to " + limits.maxTimeoutSeconds() + ", not " + timeout);
        }
        JsonObject options = r.options() == null ? JsonValue.EMPTY_JSON_OBJECT : r.options();
        String optionsJson = options.toString();
        if (optionsJson.length() > limits.maxOptionsChars()) {
            problems.add(at + "options take " + optionsJson.length() + " characters as JSON; the limit is "
                    + limits.maxOptionsChars());
        }
        String executor = r.executor() == null ? ClaudeCli.NAME : r.executor();
        for (String problem : executors.check(executor, options, privileged)) {
            problems.add(at + problem);
        }
        String key = headerKey;
        if (r.idempotencyKey() != null) {
            if (headerKey != null && !headerKey.equals(r.idempotencyKey())) {
                problems.add(at + "idempotencyKey differs from the Idempotency-Key header; send one of them");
            }
            key = r.idempotencyKey();
        }
        if (key != null && (key.isBlank() || key.length() > SubmissionLimits.MAX_KEY_CHARS)) {
            problems.add(at + "the idempotency key must have 1 to " + SubmissionLimits.MAX_KEY_CHARS + " characters");
        } else if (key != null && key.chars().anyMatch(Character::isISOControl)) {
            problems.add(at + "the idempotency key must not contain control characters");
        } else if (key != null && dev.agentturbo.platform.JsonBodies.unpairedSurrogate(key)) {
            problems.add(at + "the idempotency key contains an unpaired surrogate, which is no character");
        }
        if (problems.size() > before) {
            return null;
        }
        return new NewTask(executor, r.prompt(), r.priority() == null ? 0 : r.priority(),
                r.maxAttempts() == null ? limits.defaultMaxAttempts() : r.maxAttempts(), timeout, optionsJson, key);
    }
}
