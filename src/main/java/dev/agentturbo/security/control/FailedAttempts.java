package dev.agentturbo.security.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Failed logins and bad tokens, per client address, on this node: past agentturbo.security.max-failures-per-minute
 * in a minute, the client is refused (429) until that minute is over, whatever it sends.
 */
@ApplicationScoped
public class FailedAttempts {

    private static final long WINDOW_NANOS = Duration.ofMinutes(1).toNanos();
    private static final int MAX_CLIENTS = 100_000;

    private record Window(long start, int failures) {
    }

    @Inject
    @ConfigProperty(name = "agentturbo.security.max-failures-per-minute")
    int maxPerMinute;

    private final Map<String, Window> byClient = new ConcurrentHashMap<>();

    protected FailedAttempts() {
    }

    public FailedAttempts(int maxPerMinute) {
        this.maxPerMinute = maxPerMinute;
    }

    /** How long this client must wait before it may try again; zero when it may now. */
    public Duration blockedFor(String client) {
        Window w = byClient.get(client);
        if (w == null || w.failures() < maxPerMinute) {
            return Duration.ZERO;
        }
        long left = w.start() + WINDOW_NANOS - System.nanoTime();
        return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
    }

    public void failed(String client) {
        if (byClient.size() > MAX_CLIENTS) {
            long now = System.nanoTime();
            byClient.values().removeIf(w -> now - w.start() > WINDOW_NANOS);
        }
        byClient.compute(client, (k, w) -> {
            long now = System.nanoTime();
            return w == null || now - w.start() > WINDOW_NANOS ? new Window(now, 1) : new Window(w.start(), w.failures() + 1);
        });
    }
}
