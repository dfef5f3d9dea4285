package dev.agentturbo.platform;

import dev.agentturbo.agents.entity.AnthropicSettings;
import dev.agentturbo.agents.entity.ExecutorSettings;
import dev.agentturbo.agents.entity.ModelPrices;
import dev.agentturbo.agents.entity.OutputLimits;
import dev.agentturbo.agents.entity.Sandbox;
import dev.agentturbo.tasks.entity.ConcurrencyLimits;
import dev.agentturbo.tasks.entity.OutputSettings;
import dev.agentturbo.tasks.entity.SubmissionLimits;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.Config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Turns MicroProfile Config into the settings records the rest of the application uses. Every key has its
 * default in META-INF/microprofile-config.properties and is overridden by an environment variable of the same
 * name in upper case with dots and dashes as underscores (agentturbo.worker.slots → AGENTTURBO_WORKER_SLOTS).
 */
@ApplicationScoped
public class Configuration {

    private static final Logger LOG = Logger.getLogger(Configuration.class.getName());

    @Inject
    Config config;

    @Produces
    @Singleton
    WorkerSettings worker() {
        return new WorkerSettings(
                config.getOptionalValue("agentturbo.worker.id", String.class).filter(s -> !s.isBlank())
                        .orElseGet(this::defaultWorkerId),
                config.getValue("agentturbo.worker.slots", Integer.class),
                Duration.ofSeconds(config.getValue("agentturbo.worker.lease-seconds", Integer.class)),
                Duration.ofSeconds(config.getValue("agentturbo.worker.heartbeat-seconds", Integer.class)),
                Duration.ofMillis(config.getValue("agentturbo.worker.poll-millis", Integer.class)),
                Duration.ofSeconds(config.getValue("agentturbo.worker.drain-grace-seconds", Integer.class)),
                workRoot(),
                Duration.ofMillis(config.getValue("agentturbo.retry.base-millis", Integer.class)),
                Duration.ofSeconds(config.getValue("agentturbo.retry.max-seconds", Integer.class)),
                Duration.ofSeconds(config.getValue("agentturbo.worker.unrenewed-stop-seconds", Integer.class)),
                Duration.ofHours(config.getValue("agentturbo.tasks.retention-hours", Integer.class)));
    }

    @Produces
    @Singleton
    ExecutorSettings executors() {
        List<String> commands = list("agentturbo.command.allowed");
        commands.stream().filter(c -> !c.startsWith("/")).forEach(c -> LOG.severe(() -> "agentturbo.command.allowed"
                + " lists '" + c + "', which is not an absolute path: it is ignored (programs are never looked up on"
                + " the PATH)"));
        Sandbox sandbox = new Sandbox(list("agentturbo.agents.environment"),
                list("agentturbo.agents.allowed-roots").stream().map(Path::of).toList(), workRoot(),
                Set.copyOf(list("agentturbo.claude.permission-modes")),
                Set.copyOf(list("agentturbo.claude.privileged-permission-modes")));
        OutputLimits limits = new OutputLimits(config.getValue("agentturbo.agents.max-line-chars", Integer.class),
                config.getValue("agentturbo.tasks.max-result-chars", Integer.class),
                config.getValue("agentturbo.tasks.max-error-chars", Integer.class));
        AnthropicSettings anthropic = new AnthropicSettings(
                config.getValue("agentturbo.anthropic.default-model", String.class),
                config.getValue("agentturbo.anthropic.default-max-tokens", Integer.class),
                config.getValue("agentturbo.anthropic.max-retries", Integer.class),
                ModelPrices.parse(config.getOptionalValue("agentturbo.anthropic.prices", String.class).orElse("")));
        return new ExecutorSettings(config.getValue("agentturbo.claude.command", String.class), commands, sandbox, limits,
                anthropic, worktrees());
    }

    private dev.agentturbo.agents.entity.WorktreeSettings worktrees() {
        Path root = config.getOptionalValue("agentturbo.worktrees.root", String.class).filter(s -> !s.isBlank())
                .map(Path::of).orElse(workRoot().resolve("worktrees")).toAbsolutePath().normalize();
        String cleanup = config.getValue("agentturbo.worktrees.cleanup", String.class).strip();
        dev.agentturbo.agents.entity.WorktreeSettings.Cleanup policy;
        try {
            policy = dev.agentturbo.agents.entity.WorktreeSettings.Cleanup.of(cleanup);
        } catch (IllegalArgumentException e) {
            LOG.severe(() -> "agentturbo.worktrees.cleanup: " + e.getMessage() + "; worktrees are kept");
            policy = dev.agentturbo.agents.entity.WorktreeSettings.Cleanup.KEEP;
        }
        return new dev.agentturbo.agents.entity.WorktreeSettings(root, policy,
                config.getValue("agentturbo.worktrees.commit-message", String.class));
    }

    /** A comma-separated key as a list; empty when not set. */
    private List<String> list(String key) {
        return Arrays.stream(config.getOptionalValue(key, String.class).orElse("").split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private Path workRoot() {
        return Path.of(config.getOptionalValue("agentturbo.worker.work-dir", String.class).filter(s -> !s.isBlank())
                .orElse(Path.of(System.getProperty("user.home"), ".agent-turbo").toString())).toAbsolutePath();
    }

    @Produces
    @Singleton
    dev.agentturbo.agents.entity.BackOffSettings backOff() {
        return new dev.agentturbo.agents.entity.BackOffSettings(
                Duration.ofMillis(config.getValue("agentturbo.limits.backoff-first-millis", Integer.class)),
                Duration.ofSeconds(config.getValue("agentturbo.limits.backoff-max-seconds", Integer.class)));
    }

    @Produces
    @Singleton
    OutputSettings output() {
        return new OutputSettings(config.getValue("agentturbo.output.max-chars-per-task", Integer.class),
                Duration.ofMillis(config.getValue("agentturbo.output.flush-millis", Integer.class)),
                config.getValue("agentturbo.output.buffer-chars", Long.class));
    }

    @Produces
    @Singleton
    ConcurrencyLimits concurrency() {
        return ConcurrencyLimits.parse(config.getValue("agentturbo.concurrency.default-limit", Integer.class),
                list("agentturbo.concurrency.limits"));
    }

    @Produces
    @Singleton
    SubmissionLimits limits() {
        return new SubmissionLimits(
                config.getValue("agentturbo.tasks.max-prompt-chars", Integer.class),
                config.getValue("agentturbo.tasks.max-batch-size", Integer.class),
                config.getValue("agentturbo.tasks.max-options-chars", Integer.class),
                config.getValue("agentturbo.tasks.default-max-attempts", Integer.class),
                config.getValue("agentturbo.tasks.default-timeout-seconds", Integer.class),
                config.getValue("agentturbo.tasks.max-timeout-seconds", Integer.class));
    }

    /**
     * The host name and this instance's HTTP port, e.g. {@code build-3:8080}: unique per node on a machine.
     * Payara Micro publishes its port as the config key payara.instance.http.port.
     */
    String defaultWorkerId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = System.getenv().getOrDefault("HOSTNAME", "localhost");
        }
        return host + ":" + config.getOptionalValue("payara.instance.http.port", String.class)
                .orElse("pid" + ProcessHandle.current().pid());
    }
}
