package dev.agentturbo.agents.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code git} program, run from an argument list (never a shell) in a folder, with a timeout. It gets the
 * node's environment without any {@code GIT_*} variable (one naming another repository would redirect every
 * command), never asks on a terminal, and speaks in the C locale so that what it prints can be read.
 */
final class Git {

    /** What one git command came to. */
    record Result(int exit, String out, String err) {

        boolean ok() {
            return exit == 0;
        }

        /** The first line of stdout, without its line end. */
        String line() {
            int end = out.indexOf('\n');
            return (end < 0 ? out : out.substring(0, end)).strip();
        }
    }

    /** A git command that could not run, or did not end within the timeout. */
    static final class Failure extends RuntimeException {
        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final String program;
    private final Duration timeout;

    Git(String program, Duration timeout) {
        this.program = program;
        this.timeout = timeout;
    }

    Git() {
        this("git", Duration.ofMinutes(2));
    }

    /** Runs {@code git -C dir args…}. */
    Result run(Path dir, String... args) throws InterruptedException {
        return run(dir, Map.of(), args);
    }

    /**
     * Runs {@code git -C dir args…} with these variables added to its environment.
     *
     * @throws Failure when git cannot be started or does not end in time (it is killed then)
     */
    Result run(Path dir, Map<String, String> extra, String... args) throws InterruptedException {
        List<String> command = new ArrayList<>(List.of(program, "-C", dir.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(name -> name.startsWith("GIT_"));
        env.put("GIT_TERMINAL_PROMPT", "0");
        env.put("LC_ALL", "C");
        env.putAll(extra);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new Failure("could not start " + program + ": " + e.getMessage(), e);
        }
        try {
            p.getOutputStream().close();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread errReader = new Thread(() -> copy(p.getErrorStream(), err), "git-stderr-" + p.pid());
            errReader.setDaemon(true);
            errReader.start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            copy(p.getInputStream(), out);
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new Failure("git " + String.join(" ", args) + " did not end within " + timeout.toSeconds()
                        + " s", null);
            }
            errReader.join(1000);
            synchronized (err) {
                return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8),
                        err.toString(StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            throw new Failure("git " + String.join(" ", args) + ": " + e.getMessage(), e);
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
    }

    /** Runs git and returns its stdout; a non-zero exit is a {@link Failure} with git's own words. */
    String output(Path dir, String... args) throws InterruptedException {
        Result r = run(dir, args);
        if (!r.ok()) {
            throw new Failure("git " + String.join(" ", args) + " failed in " + dir + ": " + r.err(), null);
        }
        return r.out();
    }

    private static void copy(InputStream in, ByteArrayOutputStream to) {
        byte[] buffer = new byte[8192];
        try (in) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                synchronized (to) {
                    to.write(buffer, 0, n);
                }
            }
        } catch (IOException e) {
            // the process ended or was killed: what was read is kept
        }
    }
}
