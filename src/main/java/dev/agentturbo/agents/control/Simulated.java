package dev.agentturbo.agents.control;

import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.JsonObject;

import java.util.List;
import java.util.Set;

/**
 * The {@code simulated} executor: no agent at all, it waits {@code durationMs} and then succeeds or fails as told
 * by {@code outcome}. For demos, load tests and benchmarks of the queue itself.
 */
public final class Simulated implements AgentExecutor {

    public static final String NAME = "simulated";
    static final long DEFAULT_DURATION_MS = 1000;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> check(JsonObject options, boolean privileged) {
        return OptionRules.of(NAME, options, "durationMs", "outcome")
                .integer("durationMs", 0, 86_400_000L)
                .oneOf("outcome", Set.of("success", "failure"))
                .problems();
    }

    @Override
    public Outcome run(AgentRun run) throws InterruptedException {
        long duration = run.options().containsKey("durationMs")
                ? run.options().getJsonNumber("durationMs").longValue() : DEFAULT_DURATION_MS;
        Thread.sleep(duration);
        if ("failure".equals(run.options().getString("outcome", "success"))) {
            return Outcome.retryable("simulated failure after " + duration + " ms", 1);
        }
        return Outcome.succeeded("simulated run of " + duration + " ms", 0);
    }
}
