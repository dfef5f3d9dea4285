package dev.agentturbo.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private PostgreSQL server of its own (initdb into target/pg/NAME-RANDOM, a free loopback port), for the tests
 * that stop, restart or kill the database: doing that to the shared server on 5432 would break every other test.
 * It has the role and the database the application expects (agentturbo, password agentturbo, CREATEDB; trust
 * authentication, so any password passes). PostgreSQL refuses to run as root, so as root (CI) every server program
 * runs as the user postgres, which then owns the data directory. The server's output goes to target/pg/NAME-RANDOM.log,
 * which stays after close.
 */
public final class PostgresCluster implements AutoCloseable {

    private static final int START_SECONDS = 30;
    private static final String OS_USER = "postgres";
    private static final String SUPERUSER = "postgres";

    private final String name;
    private final Path dataDir;
    private final Path socketDir;
    private final Path log;
    private final int port;
    private final Thread shutdownHook;
    private boolean closed;

    private PostgresCluster(String name, Path dataDir, Path socketDir, Path log, int port) {
        this.name = name;
        this.dataDir = dataDir;
        this.socketDir = socketDir;
        this.log = log;
        this.port = port;
        this.shutdownHook = new Thread(this::destroy, "stop PostgreSQL " + name);
    }

    /** Initialises, configures and starts a new server, and returns once it accepts connections. */
    public static PostgresCluster create(String name) {
        return create(name, new String[0]);
    }

    /**
     * As {@link #create(String)}, with more lines of postgresql.conf that override the defaults, e.g.
     * {@code "fsync = on"} or {@code "shared_preload_libraries = 'pg_stat_statements'"}.
     */
    public static PostgresCluster create(String name, String... settings) {
        String dirName = name.toLowerCase().replaceAll("[^a-z0-9]+", "-") + "-" + UUID.randomUUID().toString().substring(0, 8);
        Path build = Path.of(System.getProperty("agentturbo.war", "target/agent-turbo.war")).toAbsolutePath().getParent();
        Path base = build.resolve("pg");
        if (root() && !reachableByOthers(build)) {
            // the server runs as the postgres user, who cannot reach into a project under a private folder (e.g.
            // /root): keep its files in /tmp instead
            base = Path.of("/tmp", "agent-turbo-pg");
        }
        Path dataDir = base.resolve(dirName);
        Path log = base.resolve(dirName + ".log");
        PostgresCluster cluster;
        try {
            Files.createDirectories(dataDir);
            Files.createFile(log);
            // a socket path may have some 107 bytes: .s.PGSQL.NNNNN in a deep project path can exceed that
            Path socketDir = dataDir.toString().length() > 80
                    ? Files.createTempDirectory(Path.of("/tmp"), "pg-") : dataDir;
            if (root()) {
                for (Path p : List.of(dataDir, log, socketDir)) {
                    ownedByPostgres(p);
                }
            }
            cluster = new PostgresCluster(name, dataDir, socketDir, log, MicroNode.freePort());
        } catch (IOException e) {
            throw new UncheckedIOException("could not prepare " + dataDir, e);
        }
        Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
        try {
            cluster.run(60, "initdb", "-D", dataDir.toString(), "-U", SUPERUSER, "--auth=trust",
                    "-E", "UTF8", "--locale=C", "--no-instructions", "--no-sync");
            Files.writeString(dataDir.resolve("postgresql.conf"), String.join("\n", "",
                    "# PostgresCluster (tests)",
                    "listen_addresses = '127.0.0.1'",
                    "port = " + cluster.port,
                    "unix_socket_directories = '" + cluster.socketDir + "'",
                    "max_connections = 200",
                    "shared_buffers = 32MB",
                    // fast, and still safe when the processes die (not the machine): what a commit wrote is in
                    // the kernel's page cache. synchronous_commit stays on: off would lose acknowledged commits
                    // on kill(), and the outage tests rely on what was committed being there after restart
                    "fsync = off",
                    "full_page_writes = off",
                    String.join("\n", settings),
                    ""), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            cluster.start();
            try (Connection c = cluster.connect("postgres", SUPERUSER, ""); Statement s = c.createStatement()) {
                s.execute("CREATE ROLE \"" + TestDatabase.USER + "\" LOGIN CREATEDB PASSWORD '"
                        + TestDatabase.PASSWORD.replace("'", "''") + "'");
                s.execute("CREATE DATABASE agentturbo OWNER \"" + TestDatabase.USER + "\"");
            }
            return cluster;
        } catch (IOException | SQLException | RuntimeException e) {
            cluster.close();
            throw new IllegalStateException("could not create PostgreSQL " + name + ": " + e.getMessage()
                    + "\nsee " + log + ", last lines:\n" + cluster.logTail(), e);
        }
    }

    /** A connection as the cluster's superuser, for set-ups a test role may not do (roles, extensions). */
    public Connection superuser(String database) throws SQLException {
        return connect(database, SUPERUSER, "");
    }

    public int port() {
        return port;
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE}; log in as {@link TestDatabase#USER}. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path log() {
        return log;
    }

    /** Starts the server (again, on the same port) and returns once it accepts connections; nothing when it runs. */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("PostgreSQL " + name + " is closed");
        }
        if (running()) {
            return;
        }
        try {
            run(START_SECONDS + 10, "pg_ctl", "start", "-D", dataDir.toString(), "-l", log.toString(),
                    "-w", "-t", Integer.toString(START_SECONDS), "-s");
        } catch (RuntimeException e) {
            // never leave a half-started server behind
            stopNow();
            throw new IllegalStateException("PostgreSQL " + name + " did not start (waited at most " + START_SECONDS
                    + " s): " + e.getMessage() + ", last lines:\n" + logTail(), e);
        }
    }

    /** A clean, fast shutdown (pg_ctl stop -m fast: sessions are ended, the checkpoint written); waits for it. */
    public synchronized void stop() {
        stop("fast");
    }

    /**
     * pg_ctl stop in this mode, waiting for it: {@code fast} ends the sessions and writes a shutdown checkpoint (a
     * primary first sends its standbys all of its WAL); {@code immediate} ends every process at once, like a crash
     * of the server (not of the machine): the next start recovers from the WAL, and a standby keeps only what had
     * reached it.
     */
    public synchronized void stop(String mode) {
        if (!List.of("fast", "immediate", "smart").contains(mode)) {
            throw new IllegalArgumentException("pg_ctl stop mode: fast, immediate or smart, not " + mode);
        }
        if (running()) {
            run(START_SECONDS + 10, "pg_ctl", "stop", "-D", dataDir.toString(), "-m", mode,
                    "-w", "-t", Integer.toString(START_SECONDS), "-s");
        }
    }

    /**
     * A streaming standby of this server: a new server on a free port, made with {@code pg_basebackup -R} (a copy of
     * the data directory, streaming the WAL written meanwhile, with {@code standby.signal} and
     * {@code primary_conninfo} pointing here), started, and returned once it streams (pg_stat_replication on this
     * server shows it). Read-only until {@link #promote()}.
     *
     * @param synchronous true: this server's commits wait until the standby has flushed them to its disk
     *                    ({@code synchronous_standby_names = '*'}, {@code synchronous_commit = on}), so that a commit
     *                    this server acknowledged is never lost at a failover; false: asynchronous replication, where
     *                    a commit acknowledged here but not yet streamed is lost when the standby is promoted
     */
    public PostgresCluster standby(String standbyName, boolean synchronous) {
        if (!running()) {
            throw new IllegalStateException("a standby needs its primary running: " + this);
        }
        String dirName = standbyName.toLowerCase().replaceAll("[^a-z0-9]+", "-") + "-"
                + UUID.randomUUID().toString().substring(0, 8);
        Path base = dataDir.getParent();
        Path standbyDir = base.resolve(dirName);
        Path standbyLog = base.resolve(dirName + ".log");
        PostgresCluster standby;
        try {
            Files.createDirectories(standbyDir);
            // the server refuses a data directory that others may read
            Files.setPosixFilePermissions(standbyDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            Files.createFile(standbyLog);
            Path standbySocket = standbyDir.toString().length() > 80
                    ? Files.createTempDirectory(Path.of("/tmp"), "pg-") : standbyDir;
            if (root()) {
                ownedByPostgres(standbyDir);
                ownedByPostgres(standbyLog);
                if (!standbySocket.equals(standbyDir)) {
                    ownedByPostgres(standbySocket);
                }
            }
            standby = new PostgresCluster(standbyName, standbyDir, standbySocket, standbyLog, MicroNode.freePort());
        } catch (IOException e) {
            throw new UncheckedIOException("could not prepare " + standbyDir, e);
        }
        Runtime.getRuntime().addShutdownHook(standby.shutdownHook);
        try {
            // initdb's pg_hba.conf lets 127.0.0.1 replicate (trust); the primary's defaults (wal_level = replica,
            // max_wal_senders = 10) allow a standby
            standby.run(120, "pg_basebackup", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", SUPERUSER,
                    "-D", standbyDir.toString(), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync");
            Files.writeString(standbyDir.resolve("postgresql.conf"), String.join("\n", "",
                    "# PostgresCluster standby of " + name,
                    "port = " + standby.port,
                    "unix_socket_directories = '" + standby.socketDir + "'",
                    "cluster_name = '" + standbyName.replace("'", "") + "'",
                    // once promoted it has no standby of its own: a commit must not wait for one
                    "synchronous_standby_names = ''",
                    ""), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            standby.start();
            try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
                s.execute("ALTER SYSTEM SET synchronous_standby_names = '" + (synchronous ? "*" : "") + "'");
                s.execute("SELECT pg_reload_conf()");
            }
            String wanted = synchronous ? "sync" : "async";
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
            while (!wanted.equals(replicationState())) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException("the standby does not stream as " + wanted + " after "
                            + START_SECONDS + " s: " + replicationState());
                }
                sleep(100);
            }
            return standby;
        } catch (IOException | SQLException | RuntimeException e) {
            standby.close();
            throw new IllegalStateException("could not make the standby " + standbyName + " of " + name + ": "
                    + e.getMessage() + "\nsee " + standbyLog + ", last lines:\n" + standby.logTail(), e);
        }
    }

    /** The sync_state of this primary's standby in pg_stat_replication ("sync", "async", …), null when none streams. */
    public String replicationState() throws SQLException {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Promotes a standby (pg_ctl promote, waiting until it accepts writes): it leaves recovery and becomes a primary. */
    public synchronized void promote() {
        run(START_SECONDS + 10, "pg_ctl", "promote", "-D", dataDir.toString(), "-w", "-t",
                Integer.toString(START_SECONDS), "-s");
    }

    /** Whether the server is a standby (in recovery); asked over a connection. */
    public boolean inRecovery() throws SQLException {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    public synchronized void restart() {
        stop();
        start();
    }

    /**
     * kill -9 of the postmaster and all its processes at once, as when the host or the OOM killer takes the server:
     * no session is ended cleanly, the next start recovers from the WAL. Returns once they are gone.
     */
    public synchronized void kill() {
        Optional<ProcessHandle> postmaster = postmaster();
        if (postmaster.isEmpty()) {
            return;
        }
        List<ProcessHandle> all = new ArrayList<>();
        all.add(postmaster.get());
        postmaster.get().descendants().forEach(all::add);
        all.forEach(ProcessHandle::destroyForcibly);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (all.stream().anyMatch(PostgresCluster::alive)) {
            if (System.nanoTime() > until) {
                throw new IllegalStateException("PostgreSQL " + name + " survived kill -9: "
                        + all.stream().filter(PostgresCluster::alive).toList());
            }
            sleep(20);
        }
        // The dead stay zombies until the init process reaps them (seconds here, never without one), and a new
        // postmaster takes a live PID in a lock file for a server still running: the locks go, as after a reboot.
        try {
            Files.deleteIfExists(dataDir.resolve("postmaster.pid"));
            Files.deleteIfExists(socketDir.resolve(".s.PGSQL." + port + ".lock"));
        } catch (IOException e) {
            throw new UncheckedIOException("could not remove the lock files of the killed PostgreSQL " + name, e);
        }
    }

    /** Whether the postmaster named in postmaster.pid is alive. */
    public boolean running() {
        return postmaster().isPresent();
    }

    /** Stops the server (immediate mode) and deletes its data directory; the log stays. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        destroy();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is exiting: the hook does the same
        }
    }

    private synchronized void destroy() {
        if (closed) {
            return;
        }
        closed = true;
        stopNow();
        delete(dataDir);
        delete(socketDir);
    }

    private void stopNow() {
        if (!running()) {
            return;
        }
        try {
            run(20, "pg_ctl", "stop", "-D", dataDir.toString(), "-m", "immediate", "-w", "-t", "15", "-s");
        } catch (RuntimeException e) {
            kill();
        }
    }

    private Optional<ProcessHandle> postmaster() {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
            return lines.isEmpty() ? Optional.empty()
                    : ProcessHandle.of(Long.parseLong(lines.get(0).trim())).filter(PostgresCluster::alive);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Alive and not a zombie (dead, waiting to be reaped), which {@link ProcessHandle#isAlive()} counts as alive. */
    private static boolean alive(ProcessHandle process) {
        if (!process.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            // "PID (COMMAND) STATE ...": the command may contain anything, the state follows the last ')'
            int end = stat.lastIndexOf(')');
            return end < 0 || end + 2 >= stat.length() || stat.charAt(end + 2) != 'Z';
        } catch (IOException e) {
            return process.isAlive();
        }
    }

    private Connection connect(String database, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /** Runs a PostgreSQL program (as the user postgres when we are root), its output appended to the log. */
    private void run(int timeoutSeconds, String program, String... args) {
        List<String> command = new ArrayList<>();
        if (root()) {
            command.addAll(List.of("runuser", "-u", OS_USER, "--"));
        }
        command.add(bin(program));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(program + " " + args[0] + " did not finish within " + timeoutSeconds
                        + " s; see " + log);
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + process.exitValue()
                        + "; see " + log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command, e);
        }
    }

    /** The program of the newest PostgreSQL under /usr/lib/postgresql (Debian), else the one on the PATH. */
    private static String bin(String program) {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.filter(v -> Files.isExecutable(v.resolve("bin").resolve(program)))
                    .max(Comparator.comparing(v -> version(v.getFileName().toString())))
                    .map(v -> v.resolve("bin").resolve(program).toString())
                    .orElse(program);
        } catch (IOException e) {
            return program;
        }
    }

    private static String version(String folder) {
        // "9.6" < "15" < "16": compare numerically, padded
        StringBuilder key = new StringBuilder();
        for (String part : folder.split("\\.")) {
            key.append(String.format("%08d", part.matches("\\d+") ? Integer.parseInt(part) : 0));
        }
        return key.toString();
    }

    /** True when every folder from / down to this one lets others pass through it. */
    private static boolean reachableByOthers(Path dir) {
        for (Path p = dir; p != null; p = p.getParent()) {
            try {
                if (Files.exists(p) && !Files.getPosixFilePermissions(p)
                        .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                    return false;
                }
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }
        return true;
    }

    private static boolean root() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static void ownedByPostgres(Path path) throws IOException {
        UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        view.setOwner(users.lookupPrincipalByName(OS_USER));
        view.setGroup(users.lookupPrincipalByGroupName(OS_USER));
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + dir, e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "PostgreSQL " + name + " on 127.0.0.1:" + port + " (" + dataDir + ")";
    }
}
