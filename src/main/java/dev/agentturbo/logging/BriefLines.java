package dev.agentturbo.logging;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * What a person at a terminal wants to read (payara/run.sh): Agent Turbo's own lines and the server's warnings and
 * errors that matter, one short line each ({@code 14:02:11 INFO  node … started with 5 agent slots}). The app
 * server's boot chatter and the warnings every node prints and nobody can act on (the JDK trust store's expired CA
 * certificates, Micro's temporary runtime folder, a JDBC driver left registered at shutdown) stay in the log file.
 */
public final class BriefLines extends Formatter {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss")
            .withZone(ZoneId.systemDefault());
    private static final String OURS = "dev.agentturbo.";

    /** Warnings of the server that every node prints at start or stop, and that ask nothing of anyone. */
    private static final List<String[]> NOISE = List.of(
            // the JDK's trust store ships CA certificates that expired; Micro lists each one (some 150 lines)
            new String[] {"javax.enterprise.system.security.ssl", "has expired"},
            new String[] {"PayaraMicro", "Runtime directory is located in a temporary file location"},
            new String[] {"jakarta.enterprise.web.util", "failed to unregister"},
            // clustering is off (--nocluster); other nodes on the host hold the data grid's ports
            new String[] {"com.hazelcast.instance.impl.Node", "Some of the ports seem occupied"},
            // the data source's settings, read before the application's own defaults are there
            new String[] {"", "MicroProfile Config: property 'db."});

    private final Secrets secrets;
    private final JsonLines messages;

    public BriefLines() {
        this(Secrets.ofThisNode());
    }

    BriefLines(Secrets secrets) {
        this.secrets = secrets;
        this.messages = new JsonLines(secrets);
    }

    static boolean ours(LogRecord record) {
        return record.getLoggerName() != null && record.getLoggerName().startsWith(OURS);
    }

    /** Whether a terminal shows this record: Agent Turbo's own, or a warning or error of another part that matters. */
    public static boolean shows(LogRecord record) {
        String logger = record.getLoggerName() == null ? "" : record.getLoggerName();
        if (logger.startsWith(OURS)) {
            return true;
        }
        if (record.getLevel().intValue() < Level.WARNING.intValue()) {
            return false;
        }
        String message = record.getMessage() == null ? "" : record.getMessage();
        String text = message;
        if (record.getResourceBundle() != null && record.getResourceBundle().containsKey(message)) {
            text = record.getResourceBundle().getString(message);
        }
        for (String[] noise : NOISE) {
            if (logger.equals(noise[0]) && (text.contains(noise[1]) || message.contains(noise[1]))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String format(LogRecord record) {
        String logger = record.getLoggerName() == null ? "" : record.getLoggerName();
        StringBuilder b = new StringBuilder(160);
        b.append(TIME.format(record.getInstant())).append(' ');
        String level = record.getLevel().getName();
        b.append(level).append(" ".repeat(Math.max(1, 8 - level.length())));
        if (!logger.startsWith(OURS) && !logger.isEmpty()) {
            b.append('[').append(logger).append("] ");
        }
        String message = messages.text(record).strip();
        int newline = message.indexOf('\n');
        // one line each: the rest of a long message is in the log file
        b.append(newline < 0 ? message : message.substring(0, newline).stripTrailing() + " …");
        if (record.getThrown() != null) {
            b.append(" (").append(record.getThrown()).append(")");
        }
        return secrets.scrub(b.toString()) + System.lineSeparator();
    }
}
