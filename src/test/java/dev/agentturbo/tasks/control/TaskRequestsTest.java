package dev.agentturbo.tasks.control;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.agents.entity.ExecutorSettings;
import dev.agentturbo.tasks.entity.NewTask;
import dev.agentturbo.tasks.entity.SubmissionLimits;
import dev.agentturbo.platform.InvalidRequestException;
import dev.agentturbo.platform.JsonBodies;
import dev.agentturbo.tasks.entity.TaskRequest;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskRequestsTest {

    static final Validator VALIDATOR = Validation.buildDefaultValidatorFactory().getValidator();

    final TaskRequests taskRequests = new TaskRequests(new SubmissionLimits(100, 3, 200, 3, 1800, 3600),
            new AgentExecutors(ExecutorSettings.of("claude", List.of("/usr/bin/cat"), java.nio.file.Path.of("/tmp/agent-turbo-test")), Map.of()),
            VALIDATOR);

    /** The way the API goes: the body bound to its record by JSON-B, then checked by the control layer. */
    final Requests requests = new Requests();

    final class Requests {
        NewTask one(String body, String headerKey) {
            return taskRequests.accept(JsonBodies.one(body.getBytes(StandardCharsets.UTF_8), TaskRequest.class),
                    headerKey, false);
        }

        List<NewTask> many(String body) {
            return taskRequests.acceptAll(JsonBodies.many(body.getBytes(StandardCharsets.UTF_8), TaskRequest.class),
                    false);
        }
    }

    @Test
    void onlyThePromptIsRequiredAndTheRestHasDefaults() {
        NewTask task = requests.one("{\"prompt\": \"fix it\"}", null);

        assertEquals("claude-cli", task.executor());
        assertEquals("fix it", task.prompt());
        assertEquals(0, task.priority());
        assertEquals(3, task.maxAttempts());
        assertEquals(1800, task.timeoutSeconds());
        assertEquals("{}", task.optionsJson());
        assertNull(task.idempotencyKey());
    }

    @Test
    void theIdempotencyKeyComesFromTheHeaderOrTheBody() {
        assertEquals("k1", requests.one("{\"prompt\": \"p\"}", "k1").idempotencyKey());
        assertEquals("k2", requests.one("{\"prompt\": \"p\", \"idempotencyKey\": \"k2\"}", null).idempotencyKey());
        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"idempotencyKey\": \"k2\"}", "k1"),
                "idempotencyKey differs from the Idempotency-Key header");
    }

    @Test
    void everyProblemOfATaskIsReportedAtOnce() {
        InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> requests.one("""
                {"prompt": "", "executor": "simulated", "priority": 5000, "maxAttempts": 0, "timeoutSeconds": 7200,
                 "options": {"durationMs": -1, "outcome": "maybe"}}""", null));

        List<String> problems = e.problems();
        assertEquals(6, problems.size(), problems::toString);
        assertTrue(problems.contains("prompt must not be blank"), problems::toString);
        assertTrue(problems.contains("priority must be from -1000 to 1000, not 5000"), problems::toString);
        assertTrue(problems.contains("maxAttempts must be from 1 to 20, not 0"), problems::toString);
        assertTrue(problems.contains("timeoutSeconds must be from 1 to 3600, not 7200"), problems::toString);
        assertTrue(problems.contains("options.durationMs must be from 0 to 86400000, not -1"), problems::toString);
        assertTrue(problems.contains("options.outcome must be one of failure, success, not 'maybe'"), problems::toString);
        assertEquals("prompt must not be blank", problems.get(0), "in the order of the fields");
    }

    @Test
    void unknownFieldsAndValuesOfTheWrongKindAreReportedAtOnceBeforeTheRest() {
        assertProblems(() -> requests.one("""
                {"prompt": 5, "priority": 5000, "maxAttempts": "3", "colour": "blue"}""", null),
                "colour is not a task field; the fields are concurrencyKey, dependsOn, executor, idempotencyKey, maxAttempts, options, priority,"
                        + " prompt, timeoutSeconds", "prompt must be a string",
                "maxAttempts must be a whole number from 1 to 20");
    }

    @Test
    void whatPostgresCannotStoreIsRefused() {
        assertProblems(() -> requests.one("{\"prompt\": \"lone \\ud800\"}", null), "prompt contains an unpaired surrogate");
        assertProblems(() -> requests.one("{\"prompt\": \"x\", \"options\": {\"model\": \"\\ud83d\"}}", null),
                "options contains an unpaired surrogate");
        assertProblems(() -> requests.one("{\"prompt\": \"nul \\u0000\"}", null), "escaped NUL");
        assertProblems(() -> requests.one("{\"prompt\": \"x\", \"prompt\": \"y\"}", null), "repeats the key 'prompt'");
        assertProblems(() -> requests.one("{\"prompt\": " + "[".repeat(33) + "]".repeat(33) + "}", null),
                "more than 32 levels deep");
    }

    @Test
    void limitsOnSizesAreEnforced() {
        assertProblems(() -> requests.one("{\"prompt\": \"" + "x".repeat(101) + "\"}", null),
                "prompt has 101 characters; the limit is 100");
        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"options\": {\"appendSystemPrompt\": \"" + "y".repeat(300) + "\"}}", null),
                "options take");
        assertProblems(() -> requests.many("[{\"prompt\": \"a\"}, {\"prompt\": \"b\"}, {\"prompt\": \"c\"}, {\"prompt\": \"d\"}]"),
                "a batch holds at most 3 tasks, not 4");
    }

    @Test
    void aBatchNamesTheItemOfEachProblem() {
        assertProblems(() -> requests.many("[{\"prompt\": \"a\"}, 7, {\"prompt\": 3}]"),
                "[1] must be a task object", "[2].prompt must be a string");
        assertProblems(() -> requests.many("[{\"prompt\": \"a\"}, {\"prompt\": \" \"}, {\"prompt\": \"c\", \"executor\": \"x\"}]"),
                "[1].prompt must not be blank", "[2].executor 'x' is unknown");
        assertProblems(() -> requests.many("[{\"prompt\": \"a\", \"idempotencyKey\": \"k\"}, {\"prompt\": \"b\", \"idempotencyKey\": \"k\"}]"),
                "[1].idempotencyKey 'k' appears twice in this batch");
        assertProblems(() -> requests.many("[]"), "the array is empty");
        assertProblems(() -> requests.many("{\"prompt\": \"a\"}"), "the body must be a JSON array");
    }

    @Test
    void malformedOrMistypedBodiesSayWhatIsWrong() {
        assertProblems(() -> requests.one("", null), "the body is empty");
        assertProblems(() -> requests.one("{\"prompt\": ", null), "the body is not valid JSON (line 1");
        assertProblems(() -> requests.one("[\"prompt\"]", null), "the body must be a JSON object");
        assertProblems(() -> requests.one("{\"prompt\": 42}", null), "prompt must be a string");
        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"priority\": 1.5}", null), "priority must be a whole number");
        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"options\": []}", null), "options must be a JSON object");
    }

    @Test
    void theOptionsOfEachExecutorAreChecked() {
        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"options\": {\"maxTurns\": 0}}", null),
                "options.maxTurns must be from 1 to 10000, not 0");
        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"options\": {\"permissionMode\": \"yolo\"}}", null),
                "options.permissionMode must be one of");
        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"options\": {\"workingDirectory\": \"repo\"}}", null),
                "options.workingDirectory must be an absolute path");
        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"executor\": \"command\"}", null),
                "options.command is required by executor 'command'");
        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"executor\": \"command\", \"options\": {\"command\": \"rm\"}}", null),
                "options.command must be one of the programs this node allows (/usr/bin/cat)");
        assertEquals("{\"command\":\"/usr/bin/cat\",\"args\":[\"-n\"]}", requests.one(
                "{\"prompt\": \"p\", \"executor\": \"command\", \"options\": {\"command\": \"/usr/bin/cat\", \"args\": [\"-n\"]}}", null).optionsJson());
    }

    /** Problems of the body (InvalidRequestException) or of the task (InvalidTaskException), one entry each. */
    private static void assertProblems(org.junit.jupiter.api.function.Executable call, String... expected) {
        RuntimeException e = assertThrows(RuntimeException.class, call);
        List<String> problems = e instanceof InvalidTaskException t ? t.problems()
                : e instanceof InvalidRequestException r ? r.problems() : List.of(e.toString());
        for (String text : expected) {
            assertTrue(problems.stream().anyMatch(p -> p.contains(text)), () -> "no problem mentions '" + text + "': " + problems);
        }
        assertEquals(String.join("; ", problems), e.getMessage(), "the detail joins the problems");
    }

    // --- dependencies and concurrency keys ------------------------------------------------------------------------

    @Test
    void dependenciesAreTaskIdsAndInABatchItemsOfIt() {
        NewTask one = requests.one("{\"prompt\": \"p\", \"dependsOn\": [12, 7, 12], \"concurrencyKey\": \"repo:/srv/app\"}", null);
        assertEquals(List.of(12L, 7L), one.dependsOn(), "each once, in the order given");
        assertEquals("repo:/srv/app", one.concurrencyKey());

        List<NewTask> batch = requests.many("[{\"prompt\": \"a\"}, {\"prompt\": \"b\", \"dependsOn\": [\"#2\", 5]},"
                + " {\"prompt\": \"c\", \"dependsOn\": [\"#0\"]}]");
        assertEquals(List.of(2), batch.get(1).dependsOnItems());
        assertEquals(List.of(5L), batch.get(1).dependsOn());
        assertEquals(List.of(0, 2, 1), TaskRequests.storeOrder(batch), "every item after those it waits for");
    }

    @Test
    void aCycleInABatchIsRefusedWithTheItemsThatFormIt() {
        InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> requests.many(
                "[{\"prompt\": \"a\", \"dependsOn\": [\"#2\"]}, {\"prompt\": \"b\", \"dependsOn\": [\"#0\"]},"
                        + " {\"prompt\": \"c\", \"dependsOn\": [\"#1\"]}]"));
        assertEquals(List.of("[0].dependsOn: items #0 → #2 → #1 → #0 wait for each other in a cycle, so none could ever"
                + " run; remove one of these dependencies"), e.problems());
    }

    @Test
    void dependenciesThatCannotBeMetAreRefusedEachWithWhatToFix() {
        InvalidTaskException single = assertThrows(InvalidTaskException.class, () -> requests.one(
                "{\"prompt\": \"p\", \"dependsOn\": [\"#0\", 0, -3, 1.5, \"x\", null, 99999999999999999999]}", null));
        assertEquals(List.of(
                "dependsOn '#0' names an item of a batch; this is a single task: name task ids, or submit the tasks"
                        + " together to POST /api/tasks/batch",
                "dependsOn entries must be task ids (whole numbers from 1), not 0",
                "dependsOn entries must be task ids (whole numbers from 1), not -3",
                "dependsOn entries must be task ids (whole numbers from 1), not 1.5",
                "dependsOn entries must be task ids (whole numbers from 1), not \"x\"",
                "dependsOn entries must be task ids (whole numbers from 1), not null",
                "dependsOn entries must be task ids (whole numbers from 1), not 99999999999999999999"), single.problems());

        InvalidTaskException batch = assertThrows(InvalidTaskException.class, () -> requests.many(
                "[{\"prompt\": \"a\", \"dependsOn\": [\"#0\"]}, {\"prompt\": \"b\", \"dependsOn\": [\"#5\"]}]"));
        assertEquals(List.of("[0].dependsOn '#0' is this task itself; a task cannot wait for itself",
                "[1].dependsOn '#5' names no item: the batch has items #0 to #1"), batch.problems());

        assertProblems(() -> requests.one("{\"prompt\": \"p\", \"dependsOn\": 5}", null), "dependsOn must be an array");
    }

    @Test
    void aConcurrencyKeyMustBeAShortLineOfText() {
        for (String key : List.of("\"\"", "\"   \"", "\"" + "k".repeat(201) + "\"")) {
            InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> requests.one(
                    "{\"prompt\": \"p\", \"concurrencyKey\": " + key + "}", null));
            assertEquals(List.of("concurrencyKey must have 1 to 200 characters and not be blank"), e.problems());
        }
        InvalidTaskException control = assertThrows(InvalidTaskException.class, () -> requests.one(
                "{\"prompt\": \"p\", \"concurrencyKey\": \"a\\nb\"}", null));
        assertEquals(List.of("concurrencyKey must not contain control characters"), control.problems());
    }
}
