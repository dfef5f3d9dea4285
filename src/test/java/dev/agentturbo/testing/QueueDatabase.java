package dev.agentturbo.testing;

import dev.agentturbo.tasks.control.TaskQueue;

import javax.sql.DataSource;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A test database for tests of the queue's statements: the database, a pool for the queue, the rows to read and
 * poke. The queue's one line per state change is quieted while it is open (thousands of them would only slow the
 * tests down).
 */
public final class QueueDatabase implements AutoCloseable {

    private static final Logger QUEUE_LOG = Logger.getLogger(TaskQueue.class.getName());

    private final TestDatabase db;
    private final PooledDataSource pool;
    private final TaskRows rows;

    private QueueDatabase(TestDatabase db, int connections) {
        this.db = db;
        this.pool = new PooledDataSource(db.dataSource(), connections);
        this.rows = new TaskRows(pool);
    }

    public static QueueDatabase create(String name, int connections) {
        QUEUE_LOG.setLevel(Level.WARNING);
        return new QueueDatabase(TestDatabase.create(name), connections);
    }

    /** A queue on an empty table. */
    public TaskQueue emptyQueue() {
        rows.deleteAll();
        return new TaskQueue(pool);
    }

    /** Connections of their own, outside the pool (a node's, in a LeaseHolder). */
    public DataSource direct() {
        return db.dataSource();
    }

    public TaskRows rows() {
        return rows;
    }

    @Override
    public void close() {
        QUEUE_LOG.setLevel(null);
        Closing.all(pool, db);
    }
}
