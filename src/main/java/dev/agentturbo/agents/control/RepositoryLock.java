package dev.agentturbo.agents.control;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serializes the git commands that change one repository's worktrees on this host: git's own lock files make a
 * second command fail rather than wait. A lock in this JVM per repository, then a file lock that other nodes on the
 * same host (other JVMs) honour too. The lock file lies in the repository's git folder, the one place every node
 * on the host that works on the repository shares, whatever its worktree root.
 */
final class RepositoryLock implements AutoCloseable {

    static final String FILE_NAME = "agent-turbo-worktrees.lock";
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();

    private final ReentrantLock local;
    private final FileChannel channel;
    private final FileLock lock;

    private RepositoryLock(ReentrantLock local, FileChannel channel, FileLock lock) {
        this.local = local;
        this.channel = channel;
        this.lock = lock;
    }

    /** Waits for the repository of this git folder ({@code git rev-parse --git-common-dir}) and takes it. */
    static RepositoryLock take(Path gitDir) throws IOException, InterruptedException {
        Path key = gitDir.toRealPath();
        ReentrantLock local = IN_JVM.computeIfAbsent(key, k -> new ReentrantLock());
        local.lockInterruptibly();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(key.resolve(FILE_NAME), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            return new RepositoryLock(local, channel, channel.lock());
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            local.unlock();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
            channel.close();
        } finally {
            local.unlock();
        }
    }
}
