package dev.agentturbo.agents.control;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
 * input), fed the prompt on stdin, read line by line, and killed together with every process it started.
 */
public final class AgentProcess {

    private static final Logger LOG = Logger.getLogger(AgentProcess.class.getName());
    private static final int STDERR_TAIL_LINES = 40;
    private static final long TERM_GRACE_MS = 1500;

    private final Process process;
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private final Thread stderrReader;
    private volatile boolean killAtOnce;

    private AgentProcess(Process process) {
        this.process = process;
        this.stderrReader = daemon("agent-stderr-" + process.pid(),
                () -> readLines(process.getErrorStream(), this::keepStderr));
    }

    /**
     * Starts the program.
     *
     * @param extraEnv added to (and overriding) the environment this node runs with
     * @throws IOException when the program cannot be started (not found, not executable)
     */
    public static AgentProcess start(List<String> command, Path workDir, Map<String, String> extraEnv,
                                     String stdin) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().putAll(extraEnv);
        Process process = builder.start();
        AgentProcess agent = new AgentProcess(process);
        daemon("agent-stdin-" + process.pid(), () -> {
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                LOG.log(Level.FINE, "stdin of " + process.pid() + " closed early", e);
            }
        });
        return agent;
    }

    /** Reads stdout line by line until the process closes it; returns the exit code. */
    public int readStdout(Consumer<String> lines) throws InterruptedException {
        readLines(process.getInputStream(), lines);
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
     * SIGTERM to the process and all its descendants, then SIGKILL to whatever is left after a short grace (the
     * process itself at once if {@link #killAtOnce()}).
     */
    public void killTree() {
        ProcessHandle root = process.toHandle();
        List<ProcessHandle> tree = new ArrayList<>();
        tree.add(root);
        root.descendants().forEach(tree::add);
        if (killAtOnce) {
            root.destroyForcibly(); // first, so that it starts nothing more
        }
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.currentTimeMillis() + TERM_GRACE_MS;
        for (ProcessHandle p : tree) {
            long left = Math.max(0, deadline - System.currentTimeMillis());
            try {
                p.onExit().get(left, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // still alive after the grace: forced below
            }
        }
        // whatever is left, and what was started meanwhile, also below processes whose parent is gone
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

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private synchronized void keepStderr(String line) {
        stderrTail.addLast(line);
        if (stderrTail.size() > STDERR_TAIL_LINES) {
            stderrTail.removeFirst();
        }
    }

    private static void readLines(InputStream stream, Consumer<String> lines) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.accept(line);
            }
        } catch (IOException e) {
            // the process was killed and its pipe closed: the exit code tells the rest
        }
    }
}
