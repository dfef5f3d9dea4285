package dev.agentturbo.workers.control;

import dev.agentturbo.agents.control.AgentProcess;
import dev.agentturbo.platform.ClassPreloader;
import dev.agentturbo.platform.DatabaseLink;
import dev.agentturbo.platform.DatabaseReady;
import dev.agentturbo.platform.DirectConnections;
import dev.agentturbo.platform.OutageLog;
import dev.agentturbo.platform.Schema;
import dev.agentturbo.tasks.control.TaskLeases;
import dev.agentturbo.tasks.entity.OutputSettings;
import dev.agentturbo.workers.entity.Wanted;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.batch.runtime.BatchRuntime;
import jakarta.enterprise.concurrent.ManagedScheduledExecutorService;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Startup;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * This host's life in the fleet. The application deploys without touching the database; then, on a managed
 * thread, the node waits for PostgreSQL (with back-off, saying what it waits for), migrates the schema, starts
 * its dispatcher (which registers the node and does all the slots' database work), opens the LISTEN connection
 * and starts the agent-worker batch job with one partition per slot. On stop (SIGTERM): stop claiming, give
 * running agents the drain grace, release what is left, record everything, mark the node stopped.
 */
@ApplicationScoped
public class Node {

    private static final Logger LOG = Logger.getLogger(Node.class.getName());
    private static final Duration MAX_WAIT_STEP = Duration.ofSeconds(15);

    @Inject
    WorkerSettings settings;
    @Inject
    SlotBoard board;
    @Inject
    WorkerRegistry registry;
    @Inject
    @ConfigProperty(name = "db.url")
    String dbUrl;
    @Inject
    @ConfigProperty(name = "db.user")
    String dbUser;
    @Inject
    @ConfigProperty(name = "db.password")
    String dbPassword;

    @Inject
    Event<DatabaseReady> databaseReady;

    @Resource(lookup = "java:comp/DefaultManagedScheduledExecutorService")
    ManagedScheduledExecutorService timer;
    @Resource(lookup = "java:comp/DefaultManagedThreadFactory")
    ManagedThreadFactory threads;

    @Inject
    OutputSettings outputSettings;
    @Inject
    dev.agentturbo.agents.control.AgentExecutors executors;
    @Inject
    dev.agentturbo.agents.entity.BackOffSettings backOff;
    @Inject
    dev.agentturbo.tasks.control.TaskEvents events;
    @Inject
    dev.agentturbo.tasks.entity.ConcurrencyLimits concurrency;

    private volatile Dispatcher dispatcher;
    private volatile OutputRecorder recorder;
    private volatile DirectConnections connections;
    private volatile TaskSignals signals;
    private volatile SlotJobs jobs;
    private volatile ScheduledFuture<?> keeper;
    private volatile boolean stopping;
    private volatile Thread booting;

    void start(@Observes Startup startup) {
        int preloaded = ClassPreloader.loadAll(Node.class);
        LOG.info(() -> preloaded + " application classes loaded");
        // agents of an earlier run of a node on this host whose guard could not act (it watches its node's pid)
        int orphans = AgentProcess.killOrphans();
        if (orphans > 0) {
            LOG.warning(() -> orphans + " agent process groups of nodes that are gone were killed");
        }
        // the deployment ends now; the node comes up once the database answers, however long that takes
        timer.execute(this::boot);
    }

    private void boot() {
        booting = Thread.currentThread();
        DirectConnections connections = new DirectConnections(dbUrl, dbUser, dbPassword);
        if (!awaitDatabase(connections)) {
            return;
        }
        try {
            Schema.migrate(connections.dataSource("agent-turbo-migration", Duration.ofMinutes(10)));
            databaseReady.fire(new DatabaseReady());
            this.connections = connections;
            recorder = new OutputRecorder(outputSettings, new DatabaseLink(connections, "agent-turbo-output",
                    Duration.ofSeconds(30), Duration.ofSeconds(30)), threads).start();
            board.use(recorder);
            DatabaseLink link = new DatabaseLink(connections, "agent-turbo-dispatcher", settings.lease(),
                    settings.lease().dividedBy(2));
            TaskLeases leases = new TaskLeases(concurrency,
                    settings.heartbeat().multipliedBy(WorkerRegistry.GONE_AFTER_HEARTBEATS));
            dispatcher = new Dispatcher(settings, leases, registry, link, host(), version(), board::open,
                    board::wanted, this::apply, executors::credentialOf, threads)
                    .backingOff(backOff.first(), backOff.max()).reporting(events).start();
            board.use(dispatcher);
            Dispatcher d = dispatcher;
            // a node whose agents have no credential says so at once (a pause of its credential), not with a task
            timer.execute(() -> executors.credentialProblems().forEach((executor, problem) -> {
                LOG.warning(() -> "node " + settings.workerId() + ": " + executor + " agents cannot run: " + problem);
                d.missingCredential(executor, problem);
            }));
            keeper = timer.scheduleWithFixedDelay(this::keepSlots, 0, settings.heartbeat().toMillis(),
                    TimeUnit.MILLISECONDS);
            LOG.info(() -> "node " + settings.workerId() + " started with " + board.wanted() + " agent slots");
        } catch (RuntimeException e) {
            LOG.log(java.util.logging.Level.SEVERE, "node " + settings.workerId() + " could not start; it serves"
                    + " the API but runs no agents until it is restarted", e);
        } finally {
            booting = null;
        }
    }

    /** Waits until the database answers; false when the node is stopped meanwhile. */
    private boolean awaitDatabase(DirectConnections connections) {
        OutageLog waiting = new OutageLog(LOG, "node " + settings.workerId() + ": reaching PostgreSQL at "
                + connections.where());
        Duration step = Duration.ofSeconds(1);
        while (!stopping) {
            try (Connection c = connections.open("agent-turbo-start", Duration.ofSeconds(10), Duration.ZERO)) {
                if (registry.aliveElsewhere(c, settings.workerId(), settings.lease())) {
                    LOG.severe(() -> "another node with worker id " + settings.workerId() + " wrote a heartbeat"
                            + " moments ago; worker ids must be unique in the fleet (set AGENTTURBO_WORKER_ID)");
                }
                waiting.recovered();
                return true;
            } catch (SQLException e) {
                if ("42P01".equals(e.getSQLState())) {
                    waiting.recovered();
                    return true; // the database answers; the schema is not there yet
                }
                waiting.failed(e, "the node waits for it and tries again in " + step.toSeconds() + " s");
            }
            try {
                Thread.sleep(step.toMillis());
            } catch (InterruptedException e) {
                return false;
            }
            step = step.multipliedBy(2).compareTo(MAX_WAIT_STEP) > 0 ? MAX_WAIT_STEP : step.multipliedBy(2);
        }
        return false;
    }

    /**
     * Every heartbeat, and at once when the slot count changed: every slot's partition runs (one that ended is
     * started again, a missing one started). Waits for the node's registration, which brings the slot count an
     * operator set.
     */
    private synchronized void keepSlots() {
        Dispatcher d = dispatcher;
        if (stopping || d == null || !d.registered()) {
            return;
        }
        int wanted = board.wanted();
        if (wanted > 0 && jobs == null) {
            signals = new TaskSignals(connections, d::ring, board::cancel, settings.workerId(), d::beatNow,
                    d::limitsChanged).start();
            jobs = new SlotJobs(BatchRuntime::getJobOperator, board, settings.workerId());
        }
        if (jobs != null) {
            jobs.ensure(wanted);
        }
    }

    /**
     * What operators asked of this node, read at registration and with every heartbeat (on the dispatcher's
     * thread: returns at once).
     */
    private void apply(Wanted wanted) {
        int slots = wanted.slots() != null ? wanted.slots() : settings.slots();
        if (board.resize(slots)) {
            LOG.info(() -> "node " + settings.workerId() + " runs " + slots + " agent slots from now on"
                    + (wanted.slots() != null ? " (set by an operator)" : ""));
            Dispatcher d = dispatcher;
            if (d != null) {
                d.beatNow(); // the fleet sees the new count at once
            }
            if (!stopping) {
                timer.execute(this::keepSlots);
            }
        }
        Dispatcher d = dispatcher;
        if (d != null) {
            d.limits(wanted.limits());
            if (wanted.drain()) {
                d.pause();
            } else {
                d.resume();
            }
        }
    }

    /** The node's dispatcher, once the database answered. */
    public java.util.Optional<Dispatcher> dispatcher() {
        return java.util.Optional.ofNullable(dispatcher);
    }

    /** True once the node was told to stop (its application is being undeployed). */
    public boolean stopping() {
        return stopping;
    }

    /** True while the LISTEN connection is open. */
    public boolean listening() {
        TaskSignals s = signals;
        return s != null && s.listening();
    }

    /**
     * Graceful stop. The dispatcher records through its own connection, so it does not matter that the container
     * may already have closed the application's pool by the time this runs.
     */
    @PreDestroy
    void stop() {
        stopping = true;
        Thread boot = booting;
        if (boot != null) {
            boot.interrupt();
        }
        if (keeper != null) {
            keeper.cancel(false);
        }
        Dispatcher d = dispatcher;
        if (d == null) {
            shutdownLine("node " + settings.workerId() + " stopped before it reached the database");
            return;
        }
        d.stopClaiming();
        shutdownLine("node " + settings.workerId() + " stopping: no new claims; " + board.busy()
                + " running agents have " + settings.drainGrace().toSeconds() + " s to finish");
        board.drainAll(settings.drainGrace());
        try {
            if (!board.awaitStopped(settings.drainGrace().plusSeconds(10))) {
                LOG.warning("some slots did not stop in time; their leases will expire");
            }
            if (recorder != null) {
                recorder.close(Duration.ofSeconds(10));
            }
            d.close(Duration.ofSeconds(15));
            if (jobs != null) {
                jobs.stopAll(Duration.ofSeconds(10));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (signals != null) {
                signals.close();
            }
            executors.close();
            shutdownLine("node " + settings.workerId() + " stopped");
        }
    }

    /**
     * The JVM's log manager closes the handlers early in a shutdown; the node's own (payara/logging.properties)
     * stays for these last lines. Without it, the line goes to standard error too, or it would be lost.
     */
    private static void shutdownLine(String line) {
        LOG.info(line);
        if (java.util.logging.Logger.getLogger("").getHandlers().length == 0) {
            System.err.println("[agent-turbo] " + java.time.Instant.now() + " " + line);
        }
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    static String version() {
        try (InputStream in = Node.class.getResourceAsStream("/agent-turbo-version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
