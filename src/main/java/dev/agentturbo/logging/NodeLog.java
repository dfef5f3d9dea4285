package dev.agentturbo.logging;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.logging.ErrorManager;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;

/**
 * The node's one log handler, for every line of the JVM (the app server's and Agent Turbo's): each line goes to
 * stdout and to a file that rotates by size. It is on the server's class path ({@code --addLibs
 * agent-turbo-logging.jar}) and named in {@code payara/logging.properties} ({@code --logproperties}), so it is in
 * place before Payara Micro prints its first line, long before the application starts; its settings are
 * therefore read here, from -D system properties, then environment variables, then that file:
 * <ul>
 * <li>{@code agentturbo.log.format} ({@code AGENTTURBO_LOG_FORMAT}): {@code json} (one object a line) or
 * {@code text} (Payara's own format, as nodes wrote before);</li>
 * <li>{@code agentturbo.log.console} ({@code AGENTTURBO_LOG_CONSOLE}): {@code all} lines on stdout in that format,
 * {@code brief} (Agent Turbo's lines and the warnings that matter, short: payara/run.sh), or {@code none};</li>
 * <li>{@code agentturbo.log.file} ({@code AGENTTURBO_LOG_FILE}): the file, {@code none} for none; by default
 * {@code logs/node.log} in the work dir;</li>
 * <li>{@code agentturbo.log.file-max-mb}, {@code agentturbo.log.file-count}: its size before it rotates, and how
 * many rotated files are kept.</li>
 * </ul>
 */
public final class NodeLog extends Handler {

    static final String FORMAT = "agentturbo.log.format";
    static final String CONSOLE = "agentturbo.log.console";
    static final String FILE = "agentturbo.log.file";
    static final String FILE_MAX_MB = "agentturbo.log.file-max-mb";
    static final String FILE_COUNT = "agentturbo.log.file-count";

    private final Formatter format;
    private final Formatter brief;
    private final String console;
    private final PrintStream stdout;
    private final RotatingFile file;
    private final Settings settings;

    /** As logging.properties makes it: settings from -D properties, the environment and the LogManager. */
    public NodeLog() {
        this(new Settings(System.getProperties(), System.getenv(), NodeLog.class.getName()),
                new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8), true);
    }

    NodeLog(Settings settings, PrintStream stdout, boolean takeStdStreams) {
        this.settings = settings;
        this.stdout = stdout;
        Secrets secrets = Secrets.ofThisNode();
        String formatName = settings.choice(FORMAT, "json", "json", "text");
        this.format = formatName.equals("text") ? new TextLines(secrets) : new JsonLines(secrets);
        this.brief = new BriefLines(secrets);
        this.console = settings.choice(CONSOLE, "all", "all", "brief", "none");
        setFormatter(format);
        setLevel(Level.ALL);
        // JUL's default ErrorManager prints to System.err, which this handler may have taken: a write that fails
        // would then come back here. Say it once on the process's own standard error instead.
        setErrorManager(new ErrorManager() {
            private boolean said;

            @Override
            public synchronized void error(String message, Exception e, int code) {
                if (!said) {
                    said = true;
                    PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
                    err.println("dev.agentturbo.logging.NodeLog: " + message + (e == null ? "" : ": " + e));
                }
            }
        });
        RotatingFile opened = null;
        String where = settings.get(FILE, "");
        Path path = where.isBlank() ? settings.workDir().resolve("logs").resolve("node.log") : Path.of(where);
        if (!where.equalsIgnoreCase("none")) {
            long maxMb = settings.number(FILE_MAX_MB, 20, 1, 100_000);
            int count = (int) settings.number(FILE_COUNT, 5, 0, 1000);
            try {
                opened = new RotatingFile(path, maxMb * 1024 * 1024, count);
            } catch (IOException | RuntimeException e) {
                settings.problem("cannot write the log file " + path + " (" + e + "): set " + FILE
                        + " (AGENTTURBO_LOG_FILE) to a file this user may write, or to none; logging to stdout only");
            }
        }
        this.file = opened;
        for (String problem : settings.problems()) {
            stdout.print(format.format(record(Level.WARNING, problem)));
        }
        if (takeStdStreams && formatName.equals("json")) {
            // what the server prints itself, bypassing the log (a few lines at start and stop), as lines of the log
            System.setOut(new PrintStream(new Lines("System.out", Level.INFO), false, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new Lines("System.err", Level.WARNING), false, StandardCharsets.UTF_8));
        }
        String said = file == null ? "no log file" : "the full log: " + file.path() + " (" + formatName
                + ", rotates at " + settings.number(FILE_MAX_MB, 20, 1, 100_000) + " MB, keeps "
                + settings.number(FILE_COUNT, 5, 0, 1000) + ")";
        publish(record(Level.INFO, said));
    }

    private LogRecord record(Level level, String message) {
        LogRecord r = new LogRecord(level, message);
        r.setLoggerName(NodeLog.class.getName());
        return r;
    }

    /** Where the full log goes; null when nowhere. */
    public Path file() {
        return file == null ? null : file.path();
    }

    @Override
    public synchronized void publish(LogRecord record) {
        if (record == null || !isLoggable(record)) {
            return;
        }
        try {
            String line = format.format(record);
            if (file != null) {
                file.write(line);
            }
            switch (console) {
                case "all" -> stdout.print(line);
                case "brief" -> {
                    // a stopping server warns about each of its parts that went away first: only its errors count then
                    if (BriefLines.shows(record) && (BriefLines.ours(record)
                            || record.getLevel().intValue() >= Level.SEVERE.intValue() || !shuttingDown())) {
                        stdout.print(brief.format(record));
                    }
                }
                default -> { }
            }
        } catch (IOException | RuntimeException e) {
            reportError("could not write a log line", e, ErrorManager.WRITE_FAILURE);
        }
    }

    @Override
    public synchronized void flush() {
        stdout.flush();
    }

    /**
     * Closes the file, except while the JVM shuts down: then the log manager resets (closes every handler) while
     * the server and the node are still stopping, and their last lines ("node … stopped") would be lost. This
     * handler stays on the root logger instead; every line is flushed as it is written, so nothing waits in it.
     */
    @Override
    public synchronized void close() {
        flush();
        if (shuttingDown()) {
            java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
            if (!java.util.Arrays.asList(root.getHandlers()).contains(this)) {
                root.addHandler(this);
            }
            return;
        }
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                reportError("could not close the log file", e, ErrorManager.CLOSE_FAILURE);
            }
        }
    }

    /** An output stream that publishes each line written to it as a log record of this handler. */
    private final class Lines extends java.io.OutputStream {
        private final String logger;
        private final Level level;
        private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

        Lines(String logger, Level level) {
            this.logger = logger;
            this.level = level;
        }

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                flushLine();
            } else if (line.size() < 1_000_000) {
                line.write(b);
            }
        }

        @Override
        public synchronized void flush() {
            if (line.size() > 0) {
                flushLine();
            }
        }

        private void flushLine() {
            String text = line.toString(StandardCharsets.UTF_8).stripTrailing();
            line.reset();
            if (!text.isEmpty()) {
                LogRecord r = new LogRecord(level, text);
                r.setLoggerName(logger);
                publish(r);
            }
        }
    }

    static boolean shuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    /** The handler's settings: a -D property, else the environment variable of the key, else logging.properties. */
    static final class Settings {
        private final Properties system;
        private final Map<String, String> env;
        private final String prefix;
        private final java.util.List<String> problems = new java.util.ArrayList<>();

        Settings(Properties system, Map<String, String> env, String prefix) {
            this.system = system;
            this.env = env;
            this.prefix = prefix;
        }

        static String variable(String key) {
            return key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
        }

        String get(String key, String fallback) {
            String v = system.getProperty(key);
            if (v == null) {
                v = env.get(variable(key));
            }
            if (v == null) {
                LogManager manager = LogManager.getLogManager();
                v = manager == null ? null : manager.getProperty(prefix + "." + key.substring(key.lastIndexOf('.') + 1));
            }
            return v == null ? fallback : v.strip();
        }

        String choice(String key, String fallback, String... allowed) {
            String v = get(key, fallback).toLowerCase(Locale.ROOT);
            for (String a : allowed) {
                if (a.equals(v)) {
                    return v;
                }
            }
            problems.add(key + " (" + variable(key) + ") must be one of " + String.join(", ", allowed) + ", not '"
                    + v + "'; using " + fallback);
            return fallback;
        }

        long number(String key, long fallback, long min, long max) {
            String v = get(key, Long.toString(fallback));
            try {
                long n = Long.parseLong(v);
                if (n >= min && n <= max) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // said below
            }
            String problem = key + " (" + variable(key) + ") must be a whole number from " + min + " to " + max
                    + ", not '" + v + "'; using " + fallback;
            if (!problems.contains(problem)) {
                problems.add(problem);
            }
            return fallback;
        }

        /** The node's work dir, as agentturbo.worker.work-dir says (its default: ~/.agent-turbo). */
        Path workDir() {
            String dir = get("agentturbo.worker.work-dir", "");
            if (dir.isBlank() || dir.equals("~") || dir.startsWith("~/")) {
                String home = system.getProperty("user.home", ".");
                return Path.of(home).resolve(dir.isBlank() ? ".agent-turbo" : dir.substring(Math.min(2, dir.length())));
            }
            return Path.of(dir);
        }

        void problem(String text) {
            problems.add(text);
        }

        java.util.List<String> problems() {
            return problems;
        }
    }
}
