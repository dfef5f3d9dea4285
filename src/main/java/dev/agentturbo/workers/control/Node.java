package dev.agentturbo.workers.control;

import dev.agentturbo.platform.ClassPreloader;
import dev.agentturbo.platform.Schema;
import dev.agentturbo.tasks.control.TaskQueue;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.batch.operations.JobOperator;
import jakarta.batch.runtime.BatchRuntime;
import jakarta.batch.runtime.BatchStatus;
import jakarta.batch.runtime.JobExecution;
import jakarta.enterprise.concurrent.ManagedScheduledExecutorService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Startup;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * This host's life in the fleet. On start: migrate the schema, register, open the LISTEN connection, start the
 * heartbeat (which also requeues expired leases, fleet-wide) and start the agent-worker batch job with one
 * partition per slot. On stop (SIGTERM): stop claiming, give running agents the drain grace, release what is
 * left, stop the job, mark the node stopped.
 * <p>
 * Batch execution ids are not used as keys of anything: Payara's batch repository may restart them at 1 on each
 * boot. The node is known by its worker id.
 */
@ApplicationScoped
public class Node {

    private static final Logger LOG = Logger.getLogger(Node.class.getName());
    public static final String JOB = "agent-worker";
    private static final Set<BatchStatus> ENDED = EnumSet.of(BatchStatus.COMPLETED, BatchStatus.FAILED,
            BatchStatus.STOPPED, BatchStatus.ABANDONED);

    @Inject
    WorkerSettings settings;
    @Inject
    DataSource dataSource;
    @Inject
    TaskQueue queue;
    @Inject
    SlotBoard board;
    @Inject
    Doorbell doorbell;
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

    @Resource(lookup = "java:comp/DefaultManagedScheduledExecutorService")
    ManagedScheduledExecutorService timer;

    private TaskSignals signals;
    private ScheduledFuture<?> heartbeat;
    private volatile Long execution;
    private volatile boolean stopping;
    private volatile String state = "active";

    void start(@Observes Startup startup) {
        int preloaded = ClassPreloader.loadAll(Node.class);
        LOG.info(() -> preloaded + " application classes loaded");
        Schema.migrate(dataSource);
        if (registry.aliveElsewhere(settings.workerId(), settings.lease())) {
            LOG.severe(() -> "another node with worker id " + settings.workerId() + " wrote a heartbeat moments ago;"
                    + " worker ids must be unique in the fleet (set AGENTTURBO_WORKER_ID)");
        }
        registry.register(settings.workerId(), host(), settings.slots(), version());
        signals = new TaskSignals(dbUrl, dbUser, dbPassword, doorbell, board::cancel).start();
        heartbeat = timer.scheduleWithFixedDelay(this::beat, settings.heartbeat().toMillis(),
                settings.heartbeat().toMillis(), TimeUnit.MILLISECONDS);
        if (settings.slots() > 0) {
            // started from a managed thread once deployment is over: the batch runtime needs the application
            timer.schedule(this::ensureJobRunning, 500, TimeUnit.MILLISECONDS);
        }
        LOG.info(() -> "node " + settings.workerId() + " started with " + settings.slots() + " agent slots");
    }

    /** The heartbeat: renew this node's row, requeue expired leases anywhere, keep the slots' job running. */
    private void beat() {
        try {
            registry.heartbeat(settings.workerId(), board.busy(), state);
            queue.requeueExpired();
            if (settings.slots() > 0 && !stopping) {
                ensureJobRunning();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "heartbeat of " + settings.workerId() + " failed; next in " + settings.heartbeat(), e);
        }
    }

    private synchronized void ensureJobRunning() {
        if (stopping) {
            return;
        }
        JobOperator operator = BatchRuntime.getJobOperator();
        try {
            if (execution != null) {
                BatchStatus status = operator.getJobExecution(execution).getBatchStatus();
                if (!ENDED.contains(status)) {
                    return;
                }
                LOG.warning(() -> "the agent-worker job ended (" + status + ") while the node runs; starting it again");
            }
            Properties parameters = new Properties();
            parameters.setProperty(SlotPartitionMapper.SLOTS, Integer.toString(settings.slots()));
            parameters.setProperty("worker", settings.workerId());
            execution = operator.start(JOB, parameters);
            LOG.info(() -> "agent-worker job started with " + settings.slots() + " partitions");
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not start the agent-worker job; trying again at the next heartbeat", e);
        }
    }

    /**
     * Graceful stop. By the time the container calls this, it may already have closed the application's
     * connection pool, so what is left is recorded over connections of the driver's own.
     */
    @PreDestroy
    void stop() {
        stopping = true;
        state = "draining";
        shutdownLine("node " + settings.workerId() + " stopping: no new claims; " + board.busy()
                + " running agents have " + settings.drainGrace().toSeconds() + " s to finish");
        DataSource direct = directDataSource();
        WorkerRegistry directRegistry = new WorkerRegistry(direct);
        try {
            directRegistry.heartbeat(settings.workerId(), board.busy(), state);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not mark the node draining", e);
        }
        board.drainAll(settings.drainGrace(), new TaskQueue(direct));
        try {
            if (!board.awaitStopped(settings.drainGrace().plusSeconds(10))) {
                LOG.warning("some slots did not stop in time; their leases will expire");
            }
            stopJob();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (heartbeat != null) {
                heartbeat.cancel(false);
            }
            if (signals != null) {
                signals.close();
            }
            try {
                directRegistry.heartbeat(settings.workerId(), 0, "stopped");
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "could not mark the node stopped", e);
            }
            shutdownLine("node " + settings.workerId() + " stopped");
        }
    }

    /** The container closes its log handler early in a shutdown: say it on standard error too. */
    private static void shutdownLine(String line) {
        LOG.info(line);
        System.err.println("[agent-turbo] " + java.time.Instant.now() + " " + line);
    }

    private DataSource directDataSource() {
        PGSimpleDataSource direct = new PGSimpleDataSource();
        direct.setUrl(dbUrl);
        direct.setUser(dbUser);
        direct.setPassword(dbPassword);
        direct.setApplicationName("agent-turbo-shutdown");
        return direct;
    }

    private void stopJob() throws InterruptedException {
        Long id = execution;
        if (id == null) {
            return;
        }
        try {
            JobOperator operator = BatchRuntime.getJobOperator();
            JobExecution current = operator.getJobExecution(id);
            if (!ENDED.contains(current.getBatchStatus())) {
                operator.stop(id);
            }
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!ENDED.contains(operator.getJobExecution(id).getBatchStatus()) && System.nanoTime() < until) {
                Thread.sleep(100);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not stop the agent-worker job cleanly", e);
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
