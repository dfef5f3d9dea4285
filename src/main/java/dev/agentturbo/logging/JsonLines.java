package dev.agentturbo.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per line: {@code time}, {@code level}, {@code logger}, {@code thread}, {@code message}, then the
 * fields of a line that carries them (a task's state change: {@code task}, {@code worker}, {@code slot},
 * {@code attempt}, {@code lease}, {@code from}, {@code to}, {@code reason}), then {@code exception} with the stack
 * trace when there is one. A record carries fields as its one parameter, a {@link Map}; any other record's
 * parameters are put into its message the usual way. Credentials are scrubbed from every text.
 */
public final class JsonLines extends Formatter {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX")
            .withZone(ZoneOffset.UTC);

    private final Secrets secrets;

    public JsonLines() {
        this(Secrets.ofThisNode());
    }

    JsonLines(Secrets secrets) {
        this.secrets = secrets;
    }

    @Override
    public String format(LogRecord record) {
        StringBuilder b = new StringBuilder(256);
        b.append("{\"time\":");
        string(b, TIME.format(record.getInstant()));
        b.append(",\"level\":");
        string(b, record.getLevel().getName());
        b.append(",\"logger\":");
        string(b, record.getLoggerName() == null ? "" : record.getLoggerName());
        b.append(",\"thread\":");
        string(b, Thread.currentThread().getName());
        b.append(",\"message\":");
        Map<?, ?> fields = fields(record);
        string(b, secrets.scrub(text(record)));
        if (fields != null) {
            for (Map.Entry<?, ?> e : fields.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    continue;
                }
                b.append(',');
                string(b, e.getKey().toString());
                b.append(':');
                Object v = e.getValue();
                if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Boolean) {
                    b.append(v);
                } else {
                    string(b, secrets.scrub(v.toString()));
                }
            }
        }
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            b.append(",\"exception\":");
            string(b, secrets.scrub(trace.toString()));
        }
        return b.append("}\n").toString();
    }

    /**
     * A record's text: a record with fields keeps its message as it is; another is localized (Payara logs message
     * keys such as NCLS-CORE-00013 with a resource bundle, which a record at shutdown may have lost: then the
     * logger's bundle is asked) and its parameters put in.
     */
    String text(LogRecord record) {
        if (fields(record) != null || record.getMessage() == null) {
            return record.getMessage() == null ? "" : record.getMessage();
        }
        if (record.getResourceBundle() == null && record.getResourceBundleName() != null
                && record.getLoggerName() != null) {
            java.util.ResourceBundle bundle = java.util.logging.Logger.getLogger(record.getLoggerName()).getResourceBundle();
            if (bundle != null && bundle.containsKey(record.getMessage())) {
                record.setResourceBundle(bundle);
            }
        }
        return formatMessage(record);
    }

    /** The fields a record carries: its one parameter, when that is a map with string keys. */
    static Map<?, ?> fields(LogRecord record) {
        Object[] parameters = record.getParameters();
        if (parameters != null && parameters.length == 1 && parameters[0] instanceof Map<?, ?> m) {
            return m;
        }
        return null;
    }

    /** A JSON string: quotes, backslashes and control characters escaped; an unpaired surrogate as \\uXXXX. */
    static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    boolean paired = Character.isHighSurrogate(c) && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1));
                    if (paired) {
                        b.append(c).append(s.charAt(++i));
                    } else if (c < 0x20 || Character.isSurrogate(c) || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
