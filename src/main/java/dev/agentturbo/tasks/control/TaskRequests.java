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
        NewTask task = task(request, "", headerKey, privileged, -1, problems);
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
            NewTask task = task(requests.get(i), at, null, privileged, requests.size(), problems);
            if (task != null && task.idempotencyKey() != null && !keys.add(task.idempotencyKey())) {
                problems.add(at + "idempotencyKey '" + task.idempotencyKey() + "' appears twice in this batch");
            }
            tasks.add(task);
        }
        if (problems.isEmpty()) {
            cycle(tasks).ifPresent(problems::add);
        }
        if (!problems.isEmpty()) {
            throw new InvalidTaskException(problems);
        }
        return tasks;
    }

    /** A cycle among the items of a batch, in words; empty when they can be ordered. */
    static java.util.Optional<String> cycle(List<NewTask> batch) {
        int[] state = new int[batch.size()]; // 0 not seen, 1 on the path, 2 done
        java.util.Deque<Integer> path = new java.util.ArrayDeque<>();
        for (int start = 0; start < batch.size(); start++) {
            java.util.Optional<String> found = visit(batch, start, state, path);
            if (found.isPresent()) {
                return found;
            }
        }
        return java.util.Optional.empty();
    }

    private static java.util.Optional<String> visit(List<NewTask> batch, int item, int[] state,
                                                    java.util.Deque<Integer> path) {
        if (state[item] == 2) {
            return java.util.Optional.empty();
        }
        if (state[item] == 1) {
            List<Integer> loop = new ArrayList<>(path);
            java.util.Collections.reverse(loop);
            loop = new ArrayList<>(loop.subList(loop.indexOf(item), loop.size()));
            loop.add(item);
            return java.util.Optional.of("[" + loop.get(0) + "].dependsOn: items " + String.join(" → ",
                    loop.stream().map(i -> "#" + i).toList()) + " wait for each other in a cycle, so none could"
                    + " ever run; remove one of these dependencies");
        }
        state[item] = 1;
        path.push(item);
        for (int next : batch.get(item).dependsOnItems()) {
            java.util.Optional<String> found = visit(batch, next, state, path);
            if (found.isPresent()) {
                return found;
            }
        }
        path.pop();
        state[item] = 2;
        return java.util.Optional.empty();
    }

    /** The order to store a batch in: every item after the items it waits for (the batch has no cycle). */
    public static List<Integer> storeOrder(List<NewTask> batch) {
        List<Integer> order = new ArrayList<>();
        boolean[] placed = new boolean[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            place(batch, i, placed, order);
        }
        return order;
    }

    private static void place(List<NewTask> batch, int item, boolean[] placed, List<Integer> order) {
        if (placed[item]) {
            return;
        }
        placed[item] = true;
        for (int before : batch.get(item).dependsOnItems()) {
            place(batch, before, placed, order);
        }
        order.add(item);
    }

    /**
     * The dependencies: task ids (whole numbers), and in a batch of {@code batchSize} items (-1: not a batch) items
     * of it as "#N"; each at most once.
     */
    private static void dependencies(jakarta.json.JsonArray refs, String at, int batchSize, int self, List<Long> ids,
                                     List<Integer> items, List<String> problems) {
        if (refs == null) {
            return;
        }
        if (refs.size() > SubmissionLimits.MAX_DEPENDENCIES) {
            problems.add(at + "dependsOn names " + refs.size() + " tasks; the limit is "
                    + SubmissionLimits.MAX_DEPENDENCIES);
            return;
        }
        for (JsonValue ref : refs) {
            if (ref instanceof jakarta.json.JsonNumber n && n.isIntegral() && n.bigIntegerValue().bitLength() < 64
                    && n.longValue() > 0) {
                if (!ids.contains(n.longValue())) {
                    ids.add(n.longValue());
                }
            } else if (ref instanceof jakarta.json.JsonString s && s.getString().matches("#[0-9]{1,9}")) {
                int item = Integer.parseInt(s.getString().substring(1));
                if (batchSize < 0) {
                    problems.add(at + "dependsOn '" + s.getString() + "' names an item of a batch; this is a single"
                            + " task: name task ids, or submit the tasks together to POST /api/tasks/batch");
                } else if (item >= batchSize) {
                    problems.add(at + "dependsOn '" + s.getString() + "' names no item: the batch has items #0 to #"
                            + (batchSize - 1));
                } else if (item == self) {
                    problems.add(at + "dependsOn '" + s.getString() + "' is this task itself; a task cannot wait"
                            + " for itself");
                } else if (!items.contains(item)) {
                    items.add(item);
                }
            } else {
                problems.add(at + "dependsOn entries must be task ids (whole numbers from 1)"
                        + (batchSize < 0 ? "" : " or \"#N\" for item N of this batch") + ", not " + ref);
            }
        }
    }

    private NewTask task(TaskRequest r, String at, String headerKey, boolean privileged, int batchSize,
                         List<String> problems) {
        int before = problems.size();
        List<Long> dependsOn = new ArrayList<>();
        List<Integer> dependsOnItems = new ArrayList<>();
        int self = batchSize < 0 ? -1 : Integer.parseInt(at.substring(1, at.indexOf(']')));
        dependencies(r.dependsOn(), at, batchSize, self, dependsOn, dependsOnItems, problems);
        String concurrencyKey = r.concurrencyKey();
        if (concurrencyKey != null && (concurrencyKey.isBlank() || concurrencyKey.length() > SubmissionLimits.MAX_KEY_CHARS)) {
            problems.add(at + "concurrencyKey must have 1 to " + SubmissionLimits.MAX_KEY_CHARS + " characters and not"
                    + " be blank");
        } else if (concurrencyKey != null && concurrencyKey.chars().anyMatch(Character::isISOControl)) {
            problems.add(at + "concurrencyKey must not contain control characters");
        }
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
                r.maxAttempts() == null ? limits.defaultMaxAttempts() : r.maxAttempts(), timeout, optionsJson, key)
                .keyed(concurrencyKey).after(dependsOn, dependsOnItems);
    }
}
