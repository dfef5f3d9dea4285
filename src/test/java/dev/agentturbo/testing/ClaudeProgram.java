package dev.agentturbo.testing;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real {@code claude} program for tests, installed from the npm registry once per JVM into the folder the
 * system property {@code claude.dir} names (failsafe sets it to {@code target/claude-cli}), and the environment a
 * run of it needs to talk to a {@link FakeMessagesApi} instead of Anthropic.
 */
public final class ClaudeProgram {

    public static final String PACKAGE = "@anthropic-ai/claude-code";
    public static final String VERSION = "2.1.197";

    /** Which kind of account the program believes it has. */
    public enum Auth {
        /** {@code ANTHROPIC_API_KEY}: pay per token; the program retries a 429 by itself. */
        API_KEY,
        /** {@code CLAUDE_CODE_OAUTH_TOKEN}: a subscription; the program reads its usage-limit headers. */
        SUBSCRIPTION
    }

    private static Path executable;

    private ClaudeProgram() {
    }

    /** The program's executable, installing it first if needed. */
    public static synchronized Path path() {
        if (executable == null) {
            Path dir = Path.of(System.getProperty("claude.dir", "target/claude-cli")).toAbsolutePath();
            Path bin = dir.resolve("node_modules/.bin/claude");
            if (!Files.isExecutable(bin) || !version(bin).contains(VERSION)) {
                // the integration tests run in two JVMs at once: one installs, the other waits and finds it there
                try (FileChannel channel = FileChannel.open(dir.resolveSibling(dir.getFileName() + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock ignored = channel.lock()) {
                    if (!Files.isExecutable(bin) || !version(bin).contains(VERSION)) {
                        install(dir);
                    }
                } catch (IOException e) {
                    throw new IllegalStateException("could not lock " + dir + " to install the claude program", e);
                }
            }
            if (!Files.isExecutable(bin)) {
                throw new IllegalStateException("npm installed " + PACKAGE + "@" + VERSION + " into " + dir
                        + " but " + bin + " is not there");
            }
            executable = bin;
        }
        return executable;
    }

    /**
     * What to add to a run's environment so that it talks to {@code api}: the base URL, one credential (the other
     * set empty, which the program takes for unset, so that the tester's own credentials are not used) and the
     * switches that keep it from any other traffic. The config folder is the executor's business.
     */
    public static Map<String, String> environment(FakeMessagesApi api, Auth auth) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("ANTHROPIC_BASE_URL", api.baseUrl());
        env.put("ANTHROPIC_API_KEY", auth == Auth.API_KEY ? "sk-ant-fake-test-key" : "");
        env.put("CLAUDE_CODE_OAUTH_TOKEN", auth == Auth.SUBSCRIPTION ? "sk-ant-oat-fake-test-token" : "");
        env.put("ANTHROPIC_AUTH_TOKEN", "");
        env.put("ANTHROPIC_MODEL", "");
        env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
        env.put("DISABLE_TELEMETRY", "1");
        env.put("DISABLE_AUTOUPDATER", "1");
        env.put("DISABLE_ERROR_REPORTING", "1");
        env.put("DISABLE_BUG_COMMAND", "1");
        return env;
    }

    private static String version(Path bin) {
        try {
            Process p = new ProcessBuilder(bin.toString(), "--version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(60, TimeUnit.SECONDS) ? out.trim() : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static void install(Path dir) {
        List<String> command = List.of("npm", "install", "--prefix", dir.toString(), "--no-audit", "--no-fund",
                PACKAGE + "@" + VERSION);
        Path log = dir.resolveSibling(dir.getFileName() + "-npm.log");
        try {
            Files.createDirectories(dir);
            Process npm = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            npm.getOutputStream().close();
            if (!npm.waitFor(10, TimeUnit.MINUTES)) {
                npm.descendants().forEach(ProcessHandle::destroyForcibly);
                npm.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " took more than 10 minutes; see " + log);
            }
            if (npm.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed with exit code "
                        + npm.exitValue() + ":\n" + Files.readString(log));
            }
        } catch (IOException e) {
            throw new IllegalStateException("the tests need the real claude program, installed with `"
                    + String.join(" ", command) + "`, but npm could not be run (" + e.getMessage()
                    + "): install Node.js and npm, or install the package into " + dir + " by hand", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while installing the claude program", e);
        }
    }
}
