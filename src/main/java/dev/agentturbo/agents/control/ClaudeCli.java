package dev.agentturbo.agents.control;

import dev.agentturbo.agents.entity.OutputLimits;
import dev.agentturbo.agents.entity.Sandbox;
import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code claude-cli} executor: the real {@code claude} program, headless. The prompt goes on stdin, the
 * options become flags, the output is read as stream-json and the outcome decided on the result line. The
 * program gets the variables of this node that agents may see (ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY,
 * CLAUDE_CODE_OAUTH_TOKEN … by default; never the database's) and a config folder of its slot's own, since
 * processes sharing one race on it.
 */
public final class ClaudeCli implements AgentExecutor {

    public static final String NAME = "claude-cli";
    private static final Logger LOG = Logger.getLogger(ClaudeCli.class.getName());
    /** Linux takes at most 128 KiB in one argument (MAX_ARG_STRLEN), the flag's name included. */
    static final int MAX_ARGUMENT_BYTES = 120_000;

    private final List<String> command;
    private final Map<String, String> environment;
    private final Clock clock;
    private final Sandbox sandbox;
    private final Confinement confinement;
    private final OutputLimits limits;

    /** @param command the program and any fixed leading arguments, e.g. {@code claude} or {@code /opt/bin/claude} */
    public ClaudeCli(String command, Clock clock, Sandbox sandbox) {
        this(command, Map.of(), clock, sandbox, new Confinement(sandbox), OutputLimits.DEFAULTS);
    }

    /**
     * @param command     the program and any fixed leading arguments, e.g. {@code claude} or {@code /opt/bin/claude}
     * @param environment variables added to (and overriding) the ones of this node an agent may see,
     *                    e.g. {@code ANTHROPIC_BASE_URL}; the slot's {@code CLAUDE_CONFIG_DIR} always wins. The
     *                    program treats a variable set to the empty string as not set.
     */
    ClaudeCli(String command, Map<String, String> environment, Clock clock, Sandbox sandbox, Confinement confinement,
              OutputLimits limits) {
        this.limits = limits;
        this.command = Arrays.stream(command.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        this.environment = Map.copyOf(environment);
        this.clock = clock;
        this.sandbox = sandbox;
        this.confinement = confinement;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * The credential the program will use, as a fingerprint: {@code oauth:…} (CLAUDE_CODE_OAUTH_TOKEN, a
     * subscription), {@code key:…} (ANTHROPIC_API_KEY), {@code token:…} (ANTHROPIC_AUTH_TOKEN), {@code login:…} (the
     * node user's {@code claude login}), or {@code none}. Nodes that share a credential share its limits.
     */
    @Override
    public String credential() {
        Map<String, String> env = confinement.environment(System.getenv(), environment);
        for (String[] kind : new String[][]{{"CLAUDE_CODE_OAUTH_TOKEN", "oauth"}, {"ANTHROPIC_API_KEY", "key"},
                {"ANTHROPIC_AUTH_TOKEN", "token"}}) {
            String value = env.get(kind[0]);
            if (value != null && !value.isBlank()) {
                return AgentExecutor.fingerprint(kind[1], value.strip().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        Path login = Path.of(System.getProperty("user.home"), ".claude", ".credentials.json");
        try {
            return Files.isReadable(login) ? AgentExecutor.fingerprint("login", Files.readAllBytes(login)) : "none";
        } catch (IOException e) {
            return "none";
        }
    }

    /**
     * Asks the program itself ({@code claude auth status}, which reads only local state) when the environment and
     * the node user's login file hold no credential: a login the program keeps elsewhere (the macOS keychain)
     * still counts. Empty when there is a credential, or when the program cannot say (not installed: its tasks
     * fail with that reason).
     */
    @Override
    public java.util.Optional<String> credentialProblem() {
        if (!"none".equals(credential())) {
            return java.util.Optional.empty();
        }
        List<String> args = new ArrayList<>(command);
        args.addAll(List.of("auth", "status"));
        try {
            ProcessBuilder pb = new ProcessBuilder(args).redirectErrorStream(true);
            pb.environment().clear();
            pb.environment().putAll(confinement.environment(System.getenv(), environment));
            Process p = pb.start();
            p.getOutputStream().close();
            String said = new String(p.getInputStream().readNBytes(64 * 1024), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return java.util.Optional.empty();
            }
            return p.exitValue() != 0 && said.replace(" ", "").contains("\"loggedIn\":false")
                    ? java.util.Optional.of("the claude program on this node has no credential (claude auth status:"
                    + " not logged in): " + ClaudeStream.WHAT_TO_DO)
                    : java.util.Optional.empty();
        } catch (IOException e) {
            return java.util.Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Optional.empty();
        }
    }

    @Override
    public List<String> check(JsonObject options, boolean privileged) {
        return OptionRules.of(NAME, options, "model", "maxTurns", "allowedTools", "permissionMode",
                        "appendSystemPrompt", "workingDirectory", "repository", "branch", "baseRef", "cleanup")
                .string("model", 200)
                .integer("maxTurns", 1, 10_000)
                .strings("allowedTools")
                .permissionMode("permissionMode", sandbox, privileged)
                .string("appendSystemPrompt", 100_000)
                .check(!(options.get("appendSystemPrompt") instanceof jakarta.json.JsonString s)
                                || s.getString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= MAX_ARGUMENT_BYTES,
                        "options.appendSystemPrompt is too long for one program argument: at most " + MAX_ARGUMENT_BYTES
                                + " bytes as UTF-8 (put long instructions in the prompt instead)")
                .workingDirectory("workingDirectory", confinement)
                .repository(confinement)
                .problems();
    }

    /** The argument list for one run: never a shell, and every value in the {@code --flag=value} form. */
    List<String> arguments(JsonObject options) {
        List<String> args = new ArrayList<>(command);
        args.addAll(List.of("-p", "--output-format", "stream-json", "--verbose"));
        if (options.containsKey("model")) {
            args.add("--model=" + options.getString("model"));
        }
        if (options.containsKey("maxTurns")) {
            args.add("--max-turns=" + options.getInt("maxTurns"));
        }
        List<String> tools = OptionRules.values(options, "allowedTools");
        if (!tools.isEmpty()) {
            args.add("--allowedTools=" + String.join(",", tools));
        }
        if (options.containsKey("permissionMode")) {
            args.add("--permission-mode=" + options.getString("permissionMode"));
        }
        if (options.containsKey("appendSystemPrompt")) {
            args.add("--append-system-prompt=" + options.getString("appendSystemPrompt"));
        }
        return args;
    }

    @Override
    public Outcome run(AgentRun run) throws InterruptedException {
        List<String> problems = check(run.options(), true);
        if (!problems.isEmpty()) {
            return Outcome.permanent(String.join("; ", problems));
        }
        List<String> args = arguments(run.options());
        Path configDir = run.slotHome().resolve("claude-config");
        AgentProcess process;
        try {
            prepareConfigDir(configDir);
            Map<String, String> own = new HashMap<>(environment);
            own.put("CLAUDE_CONFIG_DIR", configDir.toString());
            // SIGTERM only interrupts the tool the program runs, not the program: see AgentProcess.killAtOnce
            process = AgentProcess.start(args, WorkingDirectory.of(run, confinement),
                    confinement.environment(System.getenv(), own), run.task().prompt(), limits.maxLineChars(),
                    line -> run.output().line("stderr", "stderr", line, null)).killAtOnce();
        } catch (IOException e) {
            return Outcome.permanent("could not start the claude program '" + command.get(0) + "' (set "
                    + "agentturbo.claude.command / AGENTTURBO_CLAUDE_COMMAND): " + e.getMessage());
        }
        run.attach(process);
        LOG.fine(() -> run.task() + " claude started, pid " + process.pid());
        ClaudeStream stream = new ClaudeStream(clock);
        int exit = process.readStdout(line -> {
            jakarta.json.JsonObject event = stream.accept(line);
            if (event == null) {
                run.output().line("stdout", "stdout", line, null);
                return;
            }
            ClaudeEvents.Described shown = ClaudeEvents.describe(event);
            run.output().line("stdout", shown.kind(), shown.text(), line);
            if (ClaudeStream.apiAnswered(event)) {
                run.limits().apiAnswered();
            }
            ClaudeStream.ApiRetry retry = ClaudeStream.apiRetry(event);
            if (retry != null && retry.refusedCredential()) {
                // the program would retry a refused key for minutes: no try of it can succeed
                process.killTree();
            } else if (retry != null && retry.limited()) {
                run.limits().rateLimited("claude: the API answered " + (retry.status() == null ? retry.error()
                        : retry.status() + " (" + retry.error() + ")") + " to task " + run.task().id()
                        + "; the program retries by itself", retry.delay());
            }
        });
        Outcome outcome = stream.outcome(exit);
        if (outcome.kind() == Outcome.Kind.CREDENTIALS) {
            return outcome;
        }
        if (!stream.sawResult()) {
            String stderr = process.stderrTail();
            if (refusedToStart(exit, stream, stderr) && !run.isAborted()) {
                return new Outcome(Outcome.Kind.PERMANENT, null, "claude refused to run with these options: "
                        + stderr, exit, null, null, null, null, null, null);
            }
            if (!stderr.isBlank()) {
                return new Outcome(Outcome.Kind.RETRYABLE, null, outcome.error() + ": " + stderr, exit, null, null,
                        null, null, outcome.sessionId(), null);
            }
        }
        return outcome;
    }

    /**
     * The program turns down its command line before it runs anything: exit code 1, not one line on stdout, the
     * reason on stderr. Seen with 2.1.197 for {@code --permission-mode=bypassPermissions} under root
     * ("--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons"), an
     * invalid option value and an empty prompt. The same task on the same node fails the same way every time.
     */
    static boolean refusedToStart(int exit, ClaudeStream stream, String stderr) {
        return exit == 1 && stream.events() == 0 && !stderr.isBlank();
    }

    /**
     * A slot's own config folder. When the node's user logged in with {@code claude login} rather than through
     * environment variables, that login is copied in so that the slot is signed in too.
     */
    private static void prepareConfigDir(Path configDir) throws IOException {
        Files.createDirectories(configDir);
        Path login = Path.of(System.getProperty("user.home"), ".claude", ".credentials.json");
        Path copy = configDir.resolve(".credentials.json");
        if (Files.isReadable(login) && !Files.exists(copy)) {
            try {
                Files.copy(login, copy, StandardCopyOption.COPY_ATTRIBUTES);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "could not copy the claude login into " + configDir, e);
            }
        }
    }
}
