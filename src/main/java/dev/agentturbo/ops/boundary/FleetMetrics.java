package dev.agentturbo.ops.boundary;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.tasks.control.QueueDepth;
import dev.agentturbo.tasks.control.TaskEvents;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.Outcome;
import dev.agentturbo.tasks.entity.TaskStatus;
import dev.agentturbo.workers.control.Dispatcher;
import dev.agentturbo.workers.control.Node;
import dev.agentturbo.workers.control.SlotBoard;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Startup;
import jakarta.inject.Inject;
import org.eclipse.microprofile.metrics.Counter;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.MetricUnits;
import org.eclipse.microprofile.metrics.Tag;
import org.eclipse.microprofile.metrics.Timer;
import org.eclipse.microprofile.metrics.annotation.RegistryScope;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * The node's metrics, in the application scope of MicroProfile Metrics: Payara Micro serves them as Prometheus
 * text at {@code /metrics} (names as in the README's table). Counters count what this node wrote to the database
 * (a submission on the node that took the request, an attempt's end on the node whose dispatcher recorded it), so
 * that their sum over the nodes is the fleet's. Nothing here names a task or shows its content.
 */
@ApplicationScoped
public class FleetMetrics implements TaskEvents {

    private static final List<String> PAUSE_KINDS = List.of("usage-limit", "rate-limit", "credentials");

    @Inject
    @RegistryScope(scope = MetricRegistry.APPLICATION_SCOPE)
    MetricRegistry registry;
    @Inject
    QueueDepth depth;
    @Inject
    SlotBoard board;
    @Inject
    Node node;
    @Inject
    AgentExecutors executors;

    private final Map<String, ByExecutor> byExecutor = new ConcurrentHashMap<>();
    private final Map<String, Counter> pauses = new ConcurrentHashMap<>();
    private volatile Timer claimStatement;

    /** The counters and timers of one executor, made once: events look them up in a small map. */
    private record ByExecutor(Counter submitted, Counter claimed, Counter completed, Counter failed, Counter cancelled,
                              Counter retried, Counter released, Counter expired, Counter inputTokens,
                              Counter outputTokens, DoubleAdder costUsd, Timer run, Timer pickUp) {
    }

    /** Registers every metric at start, so that each executor's counters are there (at 0) before its first task. */
    void start(@Observes Startup startup) {
        for (TaskStatus status : TaskStatus.values()) {
            registry.gauge(meta("agentturbo_queue_tasks", "Tasks in this status in the whole queue (read at most"
                    + " every 5 s; finished statuses are estimated past 100,000 rows)", MetricUnits.NONE),
                    () -> depth.of(status).stream().mapToDouble(n -> n).findFirst().orElse(Double.NaN),
                    new Tag("status", status.value()));
        }
        registry.gauge(meta("agentturbo_slots_busy", "Slots of this node running an agent now", MetricUnits.NONE),
                board::busy);
        registry.gauge(meta("agentturbo_slots_running", "Slots of this node whose loop runs now (busy or idle)",
                MetricUnits.NONE), board::open);
        registry.gauge(meta("agentturbo_executors_paused", "Executors this node starts no task of now: paused"
                + " fleet-wide for the credential its agents use", MetricUnits.NONE),
                () -> node.dispatcher().map(Dispatcher::paused).map(java.util.Set::size).orElse(0));
        claimStatement = registry.timer(meta("agentturbo_claim", "Time of this node's claim statements (one per"
                + " dispatcher round that claims)", MetricUnits.SECONDS));
        executors.names().forEach(this::of);
    }

    private ByExecutor of(String executor) {
        ByExecutor known = byExecutor.get(executor);
        return known != null ? known : byExecutor.computeIfAbsent(executor, this::register);
    }

    private ByExecutor register(String executor) {
        Tag tag = new Tag("executor", executor);
        for (String kind : PAUSE_KINDS) {
            pause(executor, kind);
        }
        DoubleAdder cost = new DoubleAdder();
        registry.gauge(meta("agentturbo_cost_usd", "US dollars of the attempts this node recorded, as the agents"
                + " reported them (only grows; 0 again when the node restarts)", MetricUnits.NONE), cost::sum, tag);
        return new ByExecutor(
                counter("agentturbo_tasks_submitted", "Tasks stored by this node's API and console", tag),
                counter("agentturbo_tasks_claimed", "Tasks this node claimed (each attempt, each release taken again)", tag),
                counter("agentturbo_tasks_completed", "Tasks this node recorded as completed", tag),
                counter("agentturbo_tasks_failed", "Tasks that failed for good: recorded by this node, or its lease"
                        + " expired on the last attempt and this node requeued it", tag),
                counter("agentturbo_tasks_cancelled", "Tasks cancelled: while waiting, by a request to this node;"
                        + " while running, recorded by the node that ran them", tag),
                counter("agentturbo_tasks_retried", "Failed attempts this node recorded that will run again"
                        + " (retry after a back-off)", tag),
                counter("agentturbo_tasks_released", "Tasks this node gave back without counting the attempt (node"
                        + " stopping, usage limit, rate limit, credentials)", tag),
                counter("agentturbo_leases_expired", "Expired leases this node requeued (their holder stopped"
                        + " renewing)", tag),
                counter("agentturbo_input_tokens", "Input tokens of the attempts this node recorded", tag),
                counter("agentturbo_output_tokens", "Output tokens of the attempts this node recorded", tag),
                cost,
                registry.timer(meta("agentturbo_agent_run", "How long this node's slots held a task: from the claim"
                        + " to the end of the attempt", MetricUnits.SECONDS), tag),
                registry.timer(meta("agentturbo_task_pickup", "How long tasks waited from submission to their first"
                        + " claim (claims by this node of first attempts)", MetricUnits.SECONDS), tag));
    }

    private Counter pause(String executor, String kind) {
        return pauses.computeIfAbsent(executor + "\n" + kind, k -> counter("agentturbo_executor_pauses",
                "Fleet-wide pauses this node began (usage-limit: until the reset; rate-limit: a back-off;"
                        + " credentials: until lifted)", new Tag("executor", executor), new Tag("kind", kind)));
    }

    private Counter counter(String name, String description, Tag... tags) {
        return registry.counter(meta(name, description, MetricUnits.NONE), tags);
    }

    private static Metadata meta(String name, String description, String unit) {
        return Metadata.builder().withName(name).withDescription(description).withUnit(unit).build();
    }

    // --- what the node tells ---------------------------------------------------------------------------------------

    @Override
    public void submitted(String executor, int count) {
        of(executor).submitted().inc(count);
    }

    @Override
    public void cancelledWaiting(String executor) {
        of(executor).cancelled().inc();
    }

    @Override
    public void claimed(ClaimedTask task) {
        ByExecutor m = of(task.executor());
        m.claimed().inc();
        if (task.attempt() == 1) {
            m.pickUp().update(task.waited());
        }
    }

    @Override
    public void claimStatement(Duration took) {
        Timer t = claimStatement;
        if (t != null) {
            t.update(took);
        }
    }

    @Override
    public void recorded(ClaimedTask task, Outcome outcome, String after) {
        ByExecutor m = of(task.executor());
        switch (after) {
            case "completed" -> m.completed().inc();
            case "failed" -> m.failed().inc();
            case "cancelled" -> m.cancelled().inc();
            default -> (outcome.kind() == Outcome.Kind.RETRYABLE ? m.retried() : m.released()).inc();
        }
        if (outcome.inputTokens() != null) {
            m.inputTokens().inc(outcome.inputTokens());
        }
        if (outcome.outputTokens() != null) {
            m.outputTokens().inc(outcome.outputTokens());
        }
        if (outcome.costUsd() != null) {
            m.costUsd().add(outcome.costUsd().doubleValue());
        }
    }

    @Override
    public void ran(ClaimedTask task, Duration took) {
        of(task.executor()).run().update(took);
    }

    @Override
    public void leaseExpired(String executor, String after) {
        ByExecutor m = of(executor);
        m.expired().inc();
        if ("failed".equals(after)) {
            m.failed().inc();
        } else if ("cancelled".equals(after)) {
            m.cancelled().inc();
        }
    }

    @Override
    public void pauseBegan(String executor, String kind) {
        pause(executor, kind).inc();
    }
}
