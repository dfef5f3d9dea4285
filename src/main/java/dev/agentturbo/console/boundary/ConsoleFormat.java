package dev.agentturbo.console.boundary;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** How the console writes times, ages, money and counts (times in UTC, as the API gives them). */
@Named("fmt")
@ApplicationScoped
public class ConsoleFormat {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    public String time(Object value) {
        Instant at = instant(value);
        return at == null ? "" : TIME.format(at);
    }

    /** Epoch milliseconds, for the page's scripts (countdowns). */
    public long millis(Object value) {
        Instant at = instant(value);
        return at == null ? 0 : at.toEpochMilli();
    }

    /** An age in seconds as "4 s", "3 min 5 s", "2 h 10 min". */
    public String age(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return (s / 60) + " min " + (s % 60) + " s";
        }
        return (s / 3600) + " h " + (s % 3600 / 60) + " min";
    }

    /** How long from one time to another (or to now when the end is null). */
    public String took(Object from, Object to) {
        Instant a = instant(from);
        if (a == null) {
            return "";
        }
        Instant b = instant(to) == null ? Instant.now() : instant(to);
        return age((b.toEpochMilli() - a.toEpochMilli()) / 1000.0);
    }

    public String money(BigDecimal usd) {
        return usd == null ? "" : "$" + usd.setScale(usd.compareTo(BigDecimal.ONE) < 0 ? 4 : 2, RoundingMode.HALF_UP)
                .toPlainString();
    }

    public String count(Number n) {
        return n == null ? "" : String.format(Locale.ROOT, "%,d", n.longValue());
    }

    static Instant instant(Object value) {
        if (value instanceof Instant i) {
            return i;
        }
        if (value instanceof OffsetDateTime t) {
            return t.toInstant();
        }
        return null;
    }
}
