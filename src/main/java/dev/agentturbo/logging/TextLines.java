package dev.agentturbo.logging;

import java.util.logging.Formatter;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;

/**
 * The text format nodes wrote before JSON: Payara's own (ODL: {@code [time] [] [LEVEL] [] [logger] [tid: …]
 * message}), found on the server's class path; {@link SimpleFormatter}'s where it is not (a plain JVM). Credentials
 * are scrubbed from every line.
 */
public final class TextLines extends Formatter {

    static final String PAYARA = "com.sun.enterprise.server.logging.ODLLogFormatter";

    private final Formatter payara;
    private final Secrets secrets;

    public TextLines() {
        this(Secrets.ofThisNode());
    }

    TextLines(Secrets secrets) {
        this.secrets = secrets;
        this.payara = payaraFormatter();
    }

    private static Formatter payaraFormatter() {
        for (ClassLoader loader : new ClassLoader[] {TextLines.class.getClassLoader(),
                Thread.currentThread().getContextClassLoader()}) {
            try {
                if (loader != null) {
                    return (Formatter) Class.forName(PAYARA, true, loader).getConstructor().newInstance();
                }
            } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
                // not on a Payara node
            }
        }
        return new SimpleFormatter();
    }

    @Override
    public String format(LogRecord record) {
        return secrets.scrub(payara.format(record));
    }
}
