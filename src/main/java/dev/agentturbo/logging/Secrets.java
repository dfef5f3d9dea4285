package dev.agentturbo.logging;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Takes credentials out of a log line before it is written: the values of the node's own secret variables
 * wherever they appear, and anything that has the shape of a credential (a bearer or basic authorization, an
 * Anthropic key, an API token of ours, a password in a JDBC URL or a property list). What is left says where a
 * credential stood ({@code ***}), never what it was.
 */
public final class Secrets {

    /** Variables (and -D properties) whose values are secrets; their values are blanked wherever they appear. */
    static final List<String> VARIABLES = List.of("DB_PASSWORD", "db.password", "ANTHROPIC_API_KEY",
            "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "AGENTTURBO_BOOTSTRAP_TOKEN",
            "agentturbo.security.bootstrap-token", "AGENTTURBO_ADMIN_PASSWORD", "agentturbo.security.admin-password",
            "AGENTTURBO_METRICS_TOKEN", "agentturbo.metrics.token");

    /** Shorter values are not looked for literally (a password "agentturbo" would blank every logger name). */
    static final int MIN_LITERAL = 12;

    private static final Pattern SHAPES = Pattern.compile(String.join("|",
            // Authorization: Bearer …, Basic …
            // (a word of letters only is no credential: "basic authentication", "bearer token")
            "(?i)(?<auth>\\b(?:bearer|basic)\\s+)(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}",
            // Anthropic keys and OAuth tokens: sk-ant-api03-…, sk-ant-oat01-…
            "(?<ant>sk-ant-)[A-Za-z0-9_-]+",
            // Agent Turbo's API tokens: at_ and 43 base64url characters
            "(?<at>\\bat_)[A-Za-z0-9_-]{20,}",
            // "password": "…" in JSON, up to the closing quote
            "(?i)(?<pwq>\\b(?:password|passwd|pwd|secret|token|api[_-]?key)\"?\\s*[=:]\\s*\")[^\"]*",
            // password=… in JDBC URLs, property lists and command lines
            "(?i)(?<pw>\\b(?:password|passwd|pwd|secret|token|api[_-]?key)\"?\\s*[=:]\\s*\"?)[^\\s\"&;,)}\\]]+",
            // NAME=value of the secret variables, as in an environment dump or a command line
            "(?<var>\\b(?:DB_PASSWORD|ANTHROPIC_API_KEY|ANTHROPIC_AUTH_TOKEN|CLAUDE_CODE_OAUTH_TOKEN"
                    + "|AGENTTURBO_BOOTSTRAP_TOKEN|AGENTTURBO_ADMIN_PASSWORD|AGENTTURBO_METRICS_TOKEN)=)\\S+",
            // x-api-key: … as a header
            "(?i)(?<hdr>\\bx-api-key\\s*[:=]\\s*)\\S+"));
    private static final String[] GROUPS = {"auth", "ant", "at", "pwq", "pw", "var", "hdr"};

    /** Words one of the shapes needs; most lines hold none, and a search for a few words costs less than the regex. */
    private static final String[] TRIGGERS = {"bearer", "basic", "sk-ant-", "at_", "pass", "pwd", "secret", "token",
        "key"};

    private final List<String> literals;

    Secrets(List<String> literals) {
        List<String> kept = new ArrayList<>();
        for (String s : literals) {
            if (s != null && s.length() >= MIN_LITERAL && !kept.contains(s)) {
                kept.add(s);
            }
        }
        kept.sort(Comparator.comparingInt(String::length).reversed());
        this.literals = List.copyOf(kept);
    }

    /** The secrets of this node: the values of {@link #VARIABLES} in its environment and system properties. */
    public static Secrets ofThisNode() {
        return of(System.getenv(), System.getProperties());
    }

    static Secrets of(Map<String, String> env, java.util.Properties properties) {
        List<String> values = new ArrayList<>();
        for (String name : VARIABLES) {
            values.add(env.get(name));
            values.add(properties.getProperty(name));
        }
        return new Secrets(values);
    }

    private static boolean mayHoldOne(String text) {
        String lower = text.toLowerCase(java.util.Locale.ROOT);
        for (String t : TRIGGERS) {
            if (lower.contains(t)) {
                return true;
            }
        }
        return false;
    }

    /** The text with every credential in it replaced by {@code ***}. */
    public String scrub(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (String secret : literals) {
            if (out.contains(secret)) {
                out = out.replace(secret, "***");
            }
        }
        if (!mayHoldOne(out)) {
            return out;
        }
        Matcher m = SHAPES.matcher(out);
        if (!m.find()) {
            return out;
        }
        StringBuilder b = new StringBuilder(out.length());
        do {
            String kept = "";
            for (String g : GROUPS) {
                if (m.group(g) != null) {
                    kept = m.group(g);
                    break;
                }
            }
            m.appendReplacement(b, Matcher.quoteReplacement(kept + "***"));
        } while (m.find());
        m.appendTail(b);
        return b.toString();
    }
}
