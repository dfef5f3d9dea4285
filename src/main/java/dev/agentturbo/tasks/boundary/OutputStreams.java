package dev.agentturbo.tasks.boundary;

import dev.agentturbo.platform.OutageLog;
import dev.agentturbo.tasks.control.TaskOutput;
import dev.agentturbo.tasks.entity.OutputItem;
import dev.agentturbo.tasks.entity.TaskStatus;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedScheduledExecutorService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import dev.agentturbo.platform.JsonBodies;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The output streams (SSE) this node serves. Every follower of every task is served by one poll of the database
 * every {@value #POLL_MS} ms, one statement for all of them, whichever node runs the tasks: the node that runs an
 * agent writes its output to PostgreSQL as it arrives, and every node reads it from there. No thread waits per
 * stream. A stream ends when its task has ended and its last output was sent (output written up to
 * {@value #END_GRACE_MS} ms after the end still arrives), or when the client goes.
 */
@ApplicationScoped
public class OutputStreams {

    private static final Logger LOG = Logger.getLogger(OutputStreams.class.getName());
    static final long POLL_MS = 250;
    static final long END_GRACE_MS = 1500;
    private static final long KEEPALIVE_MS = 15_000;
    private static final int PER_POLL = 500;
    private static final Set<TaskStatus> ENDED = Set.of(TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED);

    private static final class Follower {
        final long taskId;
        final SseEventSink sink;
        final Sse sse;
        volatile long after;
        long endedSince;
        long lastSent = System.nanoTime();

        Follower(long taskId, long after, SseEventSink sink, Sse sse) {
            this.taskId = taskId;
            this.after = after;
            this.sink = sink;
            this.sse = sse;
        }
    }

    @Inject
    TaskOutput output;
    @Inject
    @ConfigProperty(name = "agentturbo.output.max-streams")
    int maxStreams;
    @Resource(lookup = "java:comp/DefaultManagedScheduledExecutorService")
    ManagedScheduledExecutorService timer;

    private final Map<Follower, Boolean> followers = new ConcurrentHashMap<>();
    private final OutageLog trouble = new OutageLog(LOG, "following agents' output");
    private ScheduledFuture<?> polling;

    /**
     * Follows a task's output from {@code after} on this sink until the task ends.
     *
     * @return false when the node serves as many streams as it may
     */
    public synchronized boolean follow(long taskId, long after, SseEventSink sink, Sse sse) {
        if (followers.size() >= maxStreams) {
            return false;
        }
        followers.put(new Follower(taskId, after, sink, sse), true);
        if (polling == null || polling.isDone()) {
            polling = timer.scheduleWithFixedDelay(this::poll, 0, POLL_MS, TimeUnit.MILLISECONDS);
        }
        return true;
    }

    private void poll() {
        try {
            followers.keySet().removeIf(f -> f.sink.isClosed());
            List<Follower> now = List.copyOf(followers.keySet());
            if (now.isEmpty()) {
                return;
            }
            long[] ids = now.stream().mapToLong(f -> f.taskId).toArray();
            long[] after = now.stream().mapToLong(f -> f.after).toArray();
            Map<Integer, TaskOutput.Followed> answer = output.follow(ids, after, PER_POLL);
            long t = System.nanoTime();
            for (int i = 0; i < now.size(); i++) {
                serve(now.get(i), answer.get(i), t);
            }
            trouble.recovered();
        } catch (RuntimeException e) {
            trouble.failed(e, "streams wait and go on when the database answers");
        }
    }

    private void serve(Follower f, TaskOutput.Followed got, long now) {
        if (got == null) {
            end(f, "gone"); // deleted (retention) meanwhile
            return;
        }
        for (OutputItem item : got.items()) {
            f.sink.send(f.sse.newEventBuilder().id(Long.toString(item.seq())).name("output")
                    .mediaType(MediaType.APPLICATION_JSON_TYPE).data(String.class, JsonBodies.JSONB.toJson(OutputItemView.of(item))).build());
            f.after = item.seq();
            f.lastSent = now;
        }
        if (ENDED.contains(got.status())) {
            if (f.endedSince == 0) {
                f.endedSince = now;
            }
            if (got.items().isEmpty() && now - f.endedSince > TimeUnit.MILLISECONDS.toNanos(END_GRACE_MS)) {
                end(f, got.status().value());
            }
        } else {
            f.endedSince = 0;
            if (now - f.lastSent > TimeUnit.MILLISECONDS.toNanos(KEEPALIVE_MS)) {
                f.sink.send(f.sse.newEventBuilder().comment("still " + got.status().value()).build());
                f.lastSent = now;
            }
        }
    }

    private void end(Follower f, String status) {
        followers.remove(f);
        f.sink.send(f.sse.newEventBuilder().name("end").mediaType(MediaType.APPLICATION_JSON_TYPE)
                .data(String.class, JsonBodies.JSONB.toJson(new StreamEnd(status, f.after))).build())
                .whenComplete((ok, error) -> f.sink.close());
    }

    @PreDestroy
    void stop() {
        if (polling != null) {
            polling.cancel(false);
        }
        followers.keySet().forEach(f -> f.sink.close());
    }
}
