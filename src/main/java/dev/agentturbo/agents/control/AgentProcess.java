package dev.agentturbo.agents.control;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An agent's operating-system process: started from an argument list (never through a shell: the prompt is user
 * input), with the environment it is given and nothing else of the node's, fed the prompt on stdin, read line by
 * line, and killed together with every process it started.
 * <p>
 * Each agent runs in a process group (a session) of its own, under a small guard: {@code setsid sh -c GUARD
 * agent-turbo-guard NODE_PID program args…}. The guard starts the program in its group, passes its exit status on,
 * and watches the node: when the node's JVM is gone (kill -9, out of memory) it kills the whole group within a
 * second, so that an agent never outlives its node and never overlaps with the run another node starts after the
 * lease. Timeout, cancel and shutdown signal the whole group too, so children that re-parented themselves (a
 * double fork) go with it. A process that starts a session of its own leaves the group: that is outside what
 * this covers (see the README).
 */
public final class AgentProcess {

    private static final Logger LOG = Logger.getLogger(AgentProcess.class.getName());
    private static final int STDERR_TAIL_LINES = 40;
    private static final long TERM_GRACE_MS = 1500;
    /** The longest stderr line kept for error messages. */
    private static final int MAX_STDERR_LINE_CHARS = 2_000;
    /** The name the guard runs under ({@code $0}): how a node finds the guards of a node that died. */
    static final String GUARD_NAME = "agent-turbo-guard";
    private static final String GUARD = """
            node=$1; shift
            exec 3<&0
            "$@" <&3 3<&- &
            agent=$!
            exec 3<&- 0</dev/null
            trap ':' TERM INT HUP
            ( while kill -0 "$node" 2>/dev/null; do sleep 1; done; kill -KILL -$$ 2>/dev/null ) \
                </dev/null >/dev/null 2>&1 &
            watch=$!
            status=0
            while :; do wait "$agent"; status=$?; kill -0 "$agent" 2>/dev/null || break; done
            kill "$watch" 2>/dev/null
            exit "$status"
            """;
    /** How to start a program as the leader of a new session: setsid (Linux), or perl's POSIX::setsid (macOS). */
    private static final List<String> NEW_SESSION = newSession();

    private final Process process;
    private final boolean grouped;
    private final int maxLineChars;
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private final Thread stderrReader;
    private volatile boolean killAtOnce;

    private AgentProcess(Process process, boolean grouped, int maxLineChars, Consumer<String> stderrLines) {
        this.process = process;
        this.grouped = grouped;
        this.maxLineChars = maxLineChars;
        this.stderrReader = daemon("agent-stderr-" + process.pid(),
                () -> readLines(process.getErrorStream(), line -> {
                    keepStderr(line);
                    stderrLines.accept(line);
                }, maxLineChars));
    }

    /**
     * Starts the program.
     *
     * @param environment the whole environment of the program (nothing of the node's is added)
     * @throws IOException when the program cannot be started (not found, not executable)
     */
    public static AgentProcess start(List<String> command, Path workDir, Map<String, String> environment,
                                     String stdin, int maxLineChars) throws IOException {
        return start(command, workDir, environment, stdin, maxLineChars, line -> {
        });
    }

    /**
     * Starts the program.
     *
     * @param environment the whole environment of the program (nothing of the node's is added)
     * @param stderrLines takes each line the program writes to stderr, as it comes
     * @throws IOException when the program cannot be started (not found, not executable)
     */
    public static AgentProcess start(List<String> command, Path workDir, Map<String, String> environment,
                                     String stdin, int maxLineChars, Consumer<String> stderrLines) throws IOException {
        String program = executable(command.get(0), environment.get("PATH"));
        List<String> argv = new ArrayList<>();
        boolean grouped = !NEW_SESSION.isEmpty();
        if (grouped) {
            argv.addAll(NEW_SESSION);
            argv.addAll(List.of("/bin/sh", "-c", GUARD, GUARD_NAME, Long.toString(ProcessHandle.current().pid())));
        }
        argv.add(program);
        argv.addAll(command.subList(1, command.size()));
        ProcessBuilder builder = new ProcessBuilder(argv).directory(workDir.toFile());
        builder.environment().clear();
        builder.environment().putAll(environment);
        Process process = builder.start();
        AgentProcess agent = new AgentProcess(process, grouped, maxLineChars, stderrLines);
        daemon("agent-stdin-" + process.pid(), () -> {
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                LOG.log(Level.FINE, "stdin of " + process.pid() + " closed early", e);
            }
        });
        return agent;
    }

    /**
     * The program's path: an absolute path as it is, a bare name looked up on the agent's PATH (never on the
     * node's); it must be an executable file.
     */
    static String executable(String program, String path) throws IOException {
        if (program.contains("/")) {
            Path p = Path.of(program);
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                throw new IOException("Cannot run program \"" + program + "\": not an executable file");
            }
            return p.toAbsolutePath().toString();
        }
        for (String dir : (path == null ? "" : path).split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, program);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return p.toString();
                }
            }
        }
        throw new IOException("Cannot run program \"" + program + "\": not found on the agents' PATH (" + path + ")");
    }

    private static List<String> newSession() {
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                return List.of(setsid);
            }
        }
        if (Files.isExecutable(Path.of("/usr/bin/perl"))) {
            return List.of("/usr/bin/perl", "-MPOSIX=setsid", "-e", "setsid() >= 0 or die \"setsid: $!\"; exec @ARGV or die");
        }
        LOG.warning("neither setsid nor perl found: agents run in the node's process group, and a node that dies"
                + " leaves them running");
        return List.of();
    }

    /**
     * Kills the process groups of agents whose node is gone (a node killed before its guards could act, or from
     * an earlier run of this node): found by their guard's name and the node process id it watches.
     *
     * @return how many groups were killed
     */
    public static int killOrphans() {
        int killed = 0;
        for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
            String[] args = p.info().arguments().orElse(new String[0]);
            for (int i = 0; i + 1 < args.length; i++) {
                String node = args[i + 1];
                if (args[i].equals(GUARD_NAME) && node.matches("[0-9]+")
                        && ProcessHandle.of(Long.parseLong(node)).map(h -> !h.isAlive()).orElse(true)) {
                    LOG.warning(() -> "killing the agent group " + p.pid() + " of a node that is gone (pid " + node + ")");
                    signalGroup(p.pid(), "KILL");
                    killed++;
                    break;
                }
            }
        }
        return killed;
    }

    /** Reads stdout line by line until the process closes it; returns the exit code. */
    public int readStdout(Consumer<String> lines) throws InterruptedException {
        readLines(process.getInputStream(), lines, maxLineChars);
        int exit = process.waitFor();
        stderrReader.join(2000);
        return exit;
    }

    /** The last lines the program wrote to stderr, for error messages. */
    public synchronized String stderrTail() {
        return String.join("\n", stderrTail);
    }

    public long pid() {
        return process.pid();
    }

    /**
     * Makes {@link #killTree()} SIGKILL this process itself at once rather than SIGTERM it first, for a program
     * that takes SIGTERM as "interrupt the current step" instead of "stop": {@code claude}, sent SIGTERM while a
     * tool runs, kills the tool and goes on with its next turn (seen with 2.1.197: it sent the tool's failure to
     * the API and finished with a success, exit code 0). Its descendants still get SIGTERM and the grace.
     */
    public AgentProcess killAtOnce() {
        killAtOnce = true;
        return this;
    }

    /**
     * SIGTERM to the agent's whole process group and every descendant, then SIGKILL to whatever is left after a
     * short grace (at once if {@link #killAtOnce()}).
     */
    public void killTree() {
        ProcessHandle root = process.toHandle();
        List<ProcessHandle> tree = new ArrayList<>();
        tree.add(root);
        root.descendants().forEach(tree::add);
        if (grouped) {
            signalGroup(root.pid(), killAtOnce ? "KILL" : "TERM");
        } else if (killAtOnce) {
            root.destroyForcibly(); // first, so that it starts nothing more
        }
        tree.forEach(ProcessHandle::destroy);
        // the guard (or the program) ends when its agent does; processes that re-parented themselves are not ours
        // to wait for (their zombies may linger until init reaps them): the group's SIGKILL below gets them
        try {
            process.waitFor(TERM_GRACE_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (grouped) {
            signalGroup(root.pid(), "KILL"); // the group, including children whose parent is gone
        }
        // whatever is left outside the group, and what was started meanwhile
        List<ProcessHandle> left = new ArrayList<>();
        root.descendants().forEach(left::add);
        for (ProcessHandle p : tree) {
            if (p.isAlive()) {
                p.descendants().forEach(left::add);
                left.add(p);
            }
        }
        left.forEach(ProcessHandle::destroyForcibly);
    }

    /** Sends a signal to every process of the group whose leader is {@code pgid}. */
    private static void signalGroup(long pgid, String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-s", signal, "--", "-" + pgid).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            kill.waitFor(2, TimeUnit.SECONDS);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not signal process group " + pgid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private synchronized void keepStderr(String line) {
        stderrTail.addLast(line.length() > MAX_STDERR_LINE_CHARS ? line.substring(0, MAX_STDERR_LINE_CHARS) + " …" : line);
        if (stderrTail.size() > STDERR_TAIL_LINES) {
            stderrTail.removeFirst();
        }
    }

    /**
     * Reads lines, each cut at {@code maxLineChars}: an agent that prints a line of gigabytes must not take the
     * node's memory with it. The rest of a cut line is read and dropped.
     */
    static void readLines(InputStream stream, Consumer<String> lines, int maxLineChars) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            StringBuilder line = new StringBuilder();
            boolean cut = false;
            int c;
            while ((c = reader.read()) != -1) {
                if (c == '\n') {
                    lines.accept(cut ? line + " [line cut at " + maxLineChars + " characters]" : line.toString());
                    line.setLength(0);
                    cut = false;
                } else if (line.length() < maxLineChars) {
                    line.append((char) c);
                } else {
                    cut = true;
                }
            }
            if (!line.isEmpty()) {
                lines.accept(cut ? line + " [line cut at " + maxLineChars + " characters]" : line.toString());
            }
        } catch (IOException e) {
            // the process was killed and its pipe closed: the exit code tells the rest
        }
    }
}
