package dev.agentturbo.workers.control;

import dev.agentturbo.agents.entity.AgentOutput;
import dev.agentturbo.platform.DatabaseLink;
import dev.agentturbo.platform.OutageLog;
import dev.agentturbo.tasks.control.TaskOutput;
import dev.agentturbo.tasks.entity.ClaimedTask;
import dev.agentturbo.tasks.entity.OutputSettings;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Stores what this node's agents print, as it arrives, without slowing them: an agent's reading thread only puts a
 * line in memory; one thread of the node writes the new lines of every agent in one statement every flush interval
 * (default 200 ms), on a connection of its own that it opens when there is output and closes when there has been
 * none for a minute. No connection is held for an agent.
 * <p>
 * A task keeps the first half of {@code max-chars-per-task} of its output, and of each attempt past that the last
 * half: once an attempt passes the head, a line says so, and lines of the middle are deleted as new ones come, so
 * that the first and the last output are always there and a follower still sees output live. While the database
 * is away, lines wait in memory up to {@code buffer-chars}; past that new lines are dropped and counted, and the
 * count is written as a line when the database is back.
 */
public final class OutputRecorder {

    private static final Logger LOG = Logger.getLogger(OutputRecorder.class.getName());
    private static final Duration IDLE_CLOSE = Duration.ofMinutes(1);
    private static final long MAX_RETRY_MS = 5000;

    /** A line waiting to be written. */
    private record Pending(Attempt attempt, Instant at, String stream, String kind, String text, String event) {
        long chars() {
            return text.length() + (event == null ? 0 : event.length());
        }
    }

    private final OutputSettings settings;
    private final DatabaseLink link;
    private final OutageLog outage;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong buffered = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ended = lock.newCondition();
    private volatile boolean closing;

    public OutputRecorder(OutputSettings settings, DatabaseLink link, ThreadFactory threads) {
        this.settings = settings;
        this.link = link;
        this.outage = new OutageLog(LOG, "storing agents' output in the database at " + link.where());
        this.thread = threads.newThread(this::loop);
        thread.setName("agent-turbo-output");
        thread.setDaemon(true);
    }

    public OutputRecorder start() {
        thread.start();
        return this;
    }

    /** Where the output of this attempt goes; {@link Attempt#close()} it when the attempt ends. */
    public Attempt open(ClaimedTask task) {
        return new Attempt(task);
    }

    /**
     * Writes what is left and ends the thread; waits up to {@code flush} for the database.
     */
    public void close(Duration flush) throws InterruptedException {
        closing = true;
        lock.lock();
        try {
            ended.signalAll();
        } finally {
            lock.unlock();
        }
        thread.join(flush.toMillis());
        if (thread.isAlive()) {
            LOG.warning(() -> queue.size() + " lines of agents' output were not stored: the database did not answer");
            thread.interrupt();
            thread.join(2000);
        }
        link.close();
    }

    /**
     * One attempt's output: its lines numbered after what the task stored before, and the cap kept. Its lines are
     * added from the agent's reading threads; everything else happens on the recorder's thread.
     */
    public final class Attempt implements AgentOutput {

        private final ClaimedTask task;
        private final AtomicLong dropped = new AtomicLong();
        private final AtomicLong droppedChars = new AtomicLong();
        // the rest belongs to the recorder's thread
        private long nextSeq = -1;
        private long headLeft;
        private long markerSeq = -1;
        private final ArrayDeque<long[]> tail = new ArrayDeque<>(); // seq, chars
        private long tailChars;
        private long middleDropped;
        private long middleDroppedChars;
        private volatile boolean closed;

        private Attempt(ClaimedTask task) {
            this.task = task;
        }

        @Override
        public void line(String stream, String kind, String text, String event) {
            if (closed) {
                return;
            }
            int half = settings.maxCharsPerTask() / 2;
            String shown = text.length() > half ? text.substring(0, half) + " … [cut at " + half + " characters]" : text;
            String raw = event != null && shown.length() + event.length() > half ? null : event;
            Pending p = new Pending(this, Instant.now(), stream, kind, shown, raw);
            if (buffered.addAndGet(p.chars()) > settings.bufferChars()) {
                buffered.addAndGet(-p.chars());
                dropped.incrementAndGet();
                droppedChars.addAndGet(p.chars());
                return;
            }
            queue.add(p);
        }

        /** The attempt ended: its lines still waiting are written, nothing more is taken. */
        public void close() {
            closed = true;
            if (dropped.get() > 0) {
                queue.add(new Pending(this, Instant.now(), "system", null, "", null)); // says what was dropped
            }
        }

        private long half() {
            return settings.maxCharsPerTask() / 2;
        }
    }

    // --- the recorder's thread -------------------------------------------------------------------------------------

    private void loop() {
        long retryMs = settings.flushInterval().toMillis();
        long lastWrite = System.nanoTime();
        List<Pending> batch = new ArrayList<>();
        while (true) {
            try {
                if (batch.isEmpty()) {
                    await(settings.flushInterval());
                    Pending p;
                    while ((p = queue.poll()) != null) {
                        batch.add(p);
                    }
                }
                if (batch.isEmpty()) {
                    if (closing) {
                        return;
                    }
                    if (link.up() && System.nanoTime() - lastWrite > IDLE_CLOSE.toNanos()) {
                        link.close();
                    }
                    continue;
                }
                write(batch);
                batch.forEach(p -> buffered.addAndGet(-p.chars()));
                batch.clear();
                lastWrite = System.nanoTime();
                outage.recovered();
                retryMs = settings.flushInterval().toMillis();
            } catch (InterruptedException e) {
                return;
            } catch (SQLException | RuntimeException e) {
                link.broken();
                outage.failed(e, "keeping " + (batch.size() + queue.size()) + " lines in memory (up to "
                        + settings.bufferChars() + " characters) and trying again in " + retryMs + " ms");
                try {
                    Thread.sleep(retryMs);
                } catch (InterruptedException ie) {
                    return;
                }
                retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
            }
        }
    }

    private void await(Duration interval) throws InterruptedException {
        if (closing) {
            return;
        }
        lock.lock();
        try {
            ended.awaitNanos(interval.toNanos());
        } finally {
            lock.unlock();
        }
    }

    /** Numbers, caps and writes one batch in one transaction. */
    private void write(List<Pending> batch) throws SQLException {
        Connection c = link.get();
        Map<Attempt, Boolean> attempts = new LinkedHashMap<>();
        batch.forEach(p -> attempts.put(p.attempt(), true));
        // where the output of tasks new to this recorder stands
        List<Long> fresh = attempts.keySet().stream().filter(a -> a.nextSeq < 0).map(a -> a.task.id()).distinct().toList();
        // the state of attempts is changed only once the transaction committed: copy it first
        Map<Attempt, long[]> state = new HashMap<>();
        Map<Long, TaskOutput.Stored> stored = fresh.isEmpty() ? Map.of() : TaskOutput.stored(c, fresh);
        for (Attempt a : attempts.keySet()) {
            if (a.nextSeq < 0) {
                TaskOutput.Stored s = stored.getOrDefault(a.task.id(), new TaskOutput.Stored(0, 0));
                state.put(a, new long[]{s.maxSeq() + 1, Math.max(0, a.half() - s.chars()), -1, 0, 0, 0});
            } else {
                state.put(a, new long[]{a.nextSeq, a.headLeft, a.markerSeq, a.tailChars, a.middleDropped,
                        a.middleDroppedChars});
            }
        }
        Map<Attempt, ArrayDeque<long[]>> tails = new HashMap<>();
        attempts.keySet().forEach(a -> tails.put(a, new ArrayDeque<>(a.tail)));
        List<TaskOutput.Line> lines = new ArrayList<>();
        List<TaskOutput.Line> markers = new ArrayList<>();
        List<long[]> drops = new ArrayList<>();
        Map<Attempt, Boolean> marked = new HashMap<>();
        for (Pending p : batch) {
            if (p.kind() == null) {
                continue; // only there to have the attempt's drops said
            }
            Attempt a = p.attempt();
            long[] s = state.get(a); // nextSeq, headLeft, markerSeq, tailChars, middleDropped, middleDroppedChars
            long chars = p.chars();
            if (chars <= s[1] && s[2] < 0) {
                s[1] -= chars;
            } else {
                if (s[2] < 0) {
                    s[2] = s[0]++; // the marker's place: after the head, before the tail
                    marked.put(a, true);
                }
                ArrayDeque<long[]> tail = tails.get(a);
                tail.addLast(new long[]{s[0], chars});
                s[3] += chars;
                while (s[3] > a.half() && tail.size() > 1) {
                    long[] old = tail.removeFirst();
                    s[3] -= old[1];
                    s[4]++;
                    s[5] += old[1];
                    drops.add(new long[]{a.task.id(), old[0]});
                    marked.put(a, true);
                }
            }
            lines.add(new TaskOutput.Line(a.task.id(), s[0]++, a.task.attempt(), p.at(), p.stream(), p.kind(), p.text(),
                    p.event()));
        }
        for (Attempt a : marked.keySet()) {
            long[] s = state.get(a);
            markers.add(new TaskOutput.Line(a.task.id(), s[2], a.task.attempt(), Instant.now(), "system", "system",
                    marker(a, s[4], s[5]), null));
        }
        // lines dropped because the node held too much while the database was away
        Map<Attempt, long[]> said = new HashMap<>();
        for (Attempt a : attempts.keySet()) {
            long n = a.dropped.get();
            if (n > 0) {
                long chars = a.droppedChars.get();
                said.put(a, new long[]{n, chars});
                long[] s = state.get(a);
                lines.add(new TaskOutput.Line(a.task.id(), s[0]++, a.task.attempt(), Instant.now(), "system", "system",
                        n + " lines (" + chars + " characters) were not stored: the database was away and the node"
                                + " held as much output as it may (agentturbo.output.buffer-chars)", null));
            }
        }
        try {
            TaskOutput.insert(c, lines);
            // lines inserted and deleted in the same batch are simply gone
            TaskOutput.drop(c, drops);
            TaskOutput.markers(c, markers);
            c.commit();
        } catch (SQLException e) {
            link.rollback();
            throw e;
        }
        said.forEach((a, n) -> {
            a.dropped.addAndGet(-n[0]);
            a.droppedChars.addAndGet(-n[1]);
        });
        for (Attempt a : attempts.keySet()) {
            long[] s = state.get(a);
            a.nextSeq = s[0];
            a.headLeft = s[1];
            a.markerSeq = s[2];
            a.tailChars = s[3];
            a.middleDropped = s[4];
            a.middleDroppedChars = s[5];
            a.tail.clear();
            a.tail.addAll(tails.get(a));
        }
        LOG.log(Level.FINEST, () -> lines.size() + " output lines stored");
    }

    private String marker(Attempt a, long lines, long chars) {
        return lines == 0
                ? "output of attempt " + a.task.attempt() + " passed half of agentturbo.output.max-chars-per-task ("
                + settings.maxCharsPerTask() + " characters): the lines after this one are its last ones"
                : lines + " lines (" + chars + " characters) of the middle of attempt " + a.task.attempt()
                + " were dropped here (agentturbo.output.max-chars-per-task is " + settings.maxCharsPerTask() + ")";
    }
}
