package dev.agentturbo.tasks.entity;

import dev.agentturbo.platform.JsonBody;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A task as a client submits it. Only the prompt is required. What depends on this node's configuration (the
 * prompt's and options' size, the longest timeout, the executors and their options) is checked by
 * {@code TaskRequests}, together with these constraints, so that every problem is said at once.
 */
@JsonBody(title = "Invalid task", noun = "task", example = "{\"prompt\": \"...\"}")
@Schema(name = "TaskSubmission", description = "A task to run: only the prompt is required",
        requiredProperties = "prompt")
public record TaskRequest(
        @NotNull(message = "is required: the instructions for the agent")
        @Pattern(regexp = "(?s).*\\S.*", message = "must not be blank")
        @Schema(description = "the instructions for the agent (at most agentturbo.tasks.max-prompt-chars characters)",
                example = "Fix the failing test in src/test and commit")
        String prompt,
        @Schema(description = "how the task runs: claude-cli (default), anthropic-api, command or simulated",
                example = "simulated")
        String executor,
        @Min(value = SubmissionLimits.MIN_PRIORITY, message = SubmissionLimits.PRIORITY_RANGE)
        @Max(value = SubmissionLimits.MAX_PRIORITY, message = SubmissionLimits.PRIORITY_RANGE)
        @Schema(description = "higher runs first; default 0", example = "0")
        Integer priority,
        @Min(value = 1, message = SubmissionLimits.ATTEMPTS_RANGE)
        @Max(value = SubmissionLimits.MAX_ATTEMPTS, message = SubmissionLimits.ATTEMPTS_RANGE)
        @Schema(description = "how often it may run before it fails; default agentturbo.tasks.default-max-attempts",
                example = "3")
        Integer maxAttempts,
        @Schema(description = "seconds an attempt may run, from 1 to agentturbo.tasks.max-timeout-seconds; default"
                + " agentturbo.tasks.default-timeout-seconds", minimum = "1", example = "600")
        Integer timeoutSeconds,
        @Schema(description = "the executor's options (see the README), as a JSON object", example = "{\"durationMs\": 10}")
        JsonObject options,
        @Schema(description = "the same key again returns the first task instead of storing a new one (or send the"
                + " Idempotency-Key header); 1 to 200 characters", example = "build-4711")
        String idempotencyKey,
        @Schema(description = "tasks with the same key never run more at once, across the fleet, than the key's limit"
                + " (agentturbo.concurrency.*; 1 unless configured); 1 to 200 characters", example = "repo:/srv/app")
        String concurrencyKey,
        @Schema(type = SchemaType.ARRAY, description = "the tasks it waits for: it runs only once all of them completed,"
                + " and is cancelled when one fails or is cancelled. Task ids, or in a batch \"#N\" for item N of the"
                + " same batch (counted from 0)", example = "[4711, \"#0\"]")
        JsonArray dependsOn) {

    /**
     * Declared rather than implied, so that the components' constraints stay on the fields: on the parameters of
     * an implied constructor Payara's OpenAPI takes @Min and @Max for those of a JAX-RS parameter, and fails.
     */
    public TaskRequest(String prompt, String executor, Integer priority, Integer maxAttempts, Integer timeoutSeconds,
                       JsonObject options, String idempotencyKey, String concurrencyKey, JsonArray dependsOn) {
        this.prompt = prompt;
        this.executor = executor;
        this.priority = priority;
        this.maxAttempts = maxAttempts;
        this.timeoutSeconds = timeoutSeconds;
        this.options = options;
        this.idempotencyKey = idempotencyKey;
        this.concurrencyKey = concurrencyKey;
        this.dependsOn = dependsOn;
    }
}
