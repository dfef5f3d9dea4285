package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.ExecutorSettings;
import dev.agentturbo.agents.entity.OutputLimits;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;

import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The executors a task can name, by name. */
@ApplicationScoped
public class AgentExecutors {

    private static final Logger LOG = Logger.getLogger(AgentExecutors.class.getName());

    @Inject
    ExecutorSettings settings;

    /**
     * Added to this node's environment as the agents see it (the {@code claude} program's, and the Messages API
     * settings of {@code anthropic-api}); empty in production.
     */
    private Map<String, String> claudeEnvironment = Map.of();
    private Map<String, AgentExecutor> byName;
    private GitWorktrees worktrees;

    protected AgentExecutors() {
    }

    public AgentExecutors(ExecutorSettings settings) {
        this(settings, Map.of());
    }

    /**
     * @param claudeEnvironment added to the environment the {@code claude} program inherits and the
     *                          {@code anthropic-api} executor reads, e.g. ANTHROPIC_BASE_URL
     */
    public AgentExecutors(ExecutorSettings settings, Map<String, String> claudeEnvironment) {
        this.settings = settings;
        this.claudeEnvironment = Map.copyOf(claudeEnvironment);
        init();
    }

    @PostConstruct
    void init() {
        Map<String, AgentExecutor> all = new LinkedHashMap<>();
        Confinement confinement = new Confinement(settings.sandbox());
        for (AgentExecutor e : List.of(
                new ClaudeCli(settings.claudeCommand(), claudeEnvironment, Clock.systemUTC(), settings.sandbox(), confinement,
                        settings.limits()),
                new AllowedCommand(settings.allowedCommands(), confinement, settings.limits()), new Simulated(),
                new AnthropicApi(settings.anthropic(), nodeEnvironment(), Clock.systemUTC()))) {
            all.put(e.name(), e);
        }
        byName = Map.copyOf(all);
        worktrees = new GitWorktrees(settings.worktrees(), confinement, new Git());
    }

    /** The git worktrees of tasks that name a repository. */
    public GitWorktrees worktrees() {
        return worktrees;
    }

    private Map<String, String> nodeEnvironment() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(claudeEnvironment);
        return env;
    }

    /**
     * Ends what the executors hold open (the Messages API client's connections and threads). Called by the node
     * once its slots have stopped: a container's own order of destroying beans could end it under running agents.
     */
    public void close() {
        byName.values().stream().filter(AutoCloseable.class::isInstance).forEach(e -> {
            try {
                ((AutoCloseable) e).close();
            } catch (Exception ex) {
                LOG.log(Level.WARNING, "could not close executor " + e.name(), ex);
            }
        });
    }

    /** How much of an agent's output is kept. */
    public OutputLimits limits() {
        return settings.limits();
    }

    public Optional<AgentExecutor> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The fingerprint of the credential this node's agents of this executor use ({@code -}: none). */
    public String credentialOf(String executor) {
        return find(executor).map(AgentExecutor::credential).orElse("-");
    }

    /** Each executor whose agents cannot run on this node for want of a credential, with why (takes a second). */
    public Map<String, String> credentialProblems() {
        Map<String, String> problems = new LinkedHashMap<>();
        byName.forEach((name, e) -> e.credentialProblem().ifPresent(p -> problems.put(name, p)));
        return problems;
    }

    public List<String> names() {
        return byName.keySet().stream().sorted().toList();
    }

    /**
     * What is wrong with a task's executor and options; empty when it can run.
     *
     * @param privileged whether the submitter may ask for what only operators may
     */
    public List<String> check(String executor, JsonObject options, boolean privileged) {
        return find(executor).map(e -> e.check(options, privileged))
                .orElseGet(() -> List.of("executor '" + executor + "' is unknown; use one of " + String.join(", ", names())));
    }
}
