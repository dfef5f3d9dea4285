-- Agent Turbo schema, version 7: work that must not run side by side, work that must wait for other work, and
-- tasks that change a git repository in a worktree of their own.
--
-- 1. Concurrency keys. A task may carry a key (for example the repository it changes): across the fleet no more
--    tasks of one key run at once than its limit (the nodes' configuration, per key prefix). Pending tasks with a
--    key leave the main claim index for one of their own, ordered by key, so that thousands of tasks waiting for
--    one busy key cost a claim nothing: it reads each key's head only.
-- 2. Dependencies. A task may depend on others: it is 'blocked' (out of every claim path) until all of them
--    completed. The database itself moves it on, in the transaction that finishes its last dependency, whichever
--    path finished it: when one fails or is cancelled, the blocked tasks that wait for it are cancelled with the
--    reason, and theirs in turn.
-- 3. Worktrees. What the git worktree of a task came to (path, branch, base and head commits, the diff summary),
--    and the nodes that gave a task back because it cannot run there (its repository is not on that host).

ALTER TABLE agent_tasks DROP CONSTRAINT agent_tasks_status_check;
ALTER TABLE agent_tasks ADD CONSTRAINT agent_tasks_status_check
    CHECK (status IN ('blocked', 'scheduled', 'pending', 'running', 'completed', 'failed', 'cancelled'));

ALTER TABLE agent_tasks ADD COLUMN concurrency_key text CHECK (length(concurrency_key) BETWEEN 1 AND 200);
-- how many of its dependencies have not completed yet; 'blocked' while above 0
ALTER TABLE agent_tasks ADD COLUMN waiting_for integer NOT NULL DEFAULT 0 CHECK (waiting_for >= 0);
-- set when a task is named as a dependency: the trigger below looks only at such rows
ALTER TABLE agent_tasks ADD COLUMN has_dependents boolean NOT NULL DEFAULT false;
-- nodes that gave the task back because it cannot run there; they pass it over
ALTER TABLE agent_tasks ADD COLUMN unable_workers text[];
ALTER TABLE agent_tasks ADD COLUMN worktree jsonb;

-- The claim of tasks without a key reads only them. Nodes of version 6 still claim, without this index, until
-- they are upgraded (a rolling upgrade takes minutes).
DROP INDEX agent_tasks_claim_order;
CREATE INDEX agent_tasks_claim_order ON agent_tasks (priority DESC, id)
    WHERE status = 'pending' AND concurrency_key IS NULL;
-- Keyed pending tasks: the keys that have any (a skip scan), and each key's most urgent ones.
CREATE INDEX agent_tasks_keyed_claim_order ON agent_tasks (concurrency_key, priority DESC, id)
    WHERE status = 'pending' AND concurrency_key IS NOT NULL;
-- How many tasks of a key run now.
CREATE INDEX agent_tasks_running_keys ON agent_tasks (concurrency_key)
    WHERE status = 'running' AND concurrency_key IS NOT NULL;

-- Room for more running tasks of a key, for the claim (which calls it only for keys that seemed to have room): 0
-- when another claimer holds the key. It takes the key's advisory lock (held until the claim commits) and then
-- counts the key's running tasks. VOLATILE, so the count takes a fresh snapshot: it sees every claim of the key that
-- committed before the lock was taken, even one that committed after the claim statement began; and none can commit
-- until this one does.
CREATE FUNCTION agent_turbo_key_room(key text, key_limit integer) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('agent_turbo_key:' || key, 0)) THEN
        RETURN 0;
    END IF;
    RETURN greatest(0, key_limit - (SELECT count(*) FROM agent_tasks
                                     WHERE status = 'running' AND concurrency_key = key));
END $$;

CREATE TABLE task_dependencies (
    task_id    bigint  NOT NULL REFERENCES agent_tasks (id) ON DELETE CASCADE,
    depends_on bigint  NOT NULL REFERENCES agent_tasks (id) ON DELETE CASCADE,
    -- the dependency completed (once is enough: a later retry of it does not block the dependent again)
    satisfied  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (task_id, depends_on),
    CHECK (task_id <> depends_on)
);
CREATE INDEX task_dependencies_depends_on ON task_dependencies (depends_on);

-- A dependency finished. Completed: each edge to it is met once, and a dependent whose last edge that was becomes
-- claimable (or scheduled, if it may not run yet). Failed or cancelled: every blocked dependent still waiting for
-- it is cancelled, which fires this again for its own dependents. Row locks on the dependents serialize two
-- dependencies that finish at once, so the count cannot miss one.
CREATE FUNCTION agent_turbo_dependency_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'completed' THEN
        WITH met AS (
            UPDATE task_dependencies SET satisfied = true
             WHERE depends_on = NEW.id AND NOT satisfied
            RETURNING task_id)
        UPDATE agent_tasks t
           SET waiting_for = t.waiting_for - 1,
               status = CASE WHEN t.status = 'blocked' AND t.waiting_for = 1
                             THEN CASE WHEN t.run_after > now() THEN 'scheduled' ELSE 'pending' END
                             ELSE t.status END
          FROM met
         WHERE t.id = met.task_id;
        IF FOUND THEN
            PERFORM pg_notify('agent_turbo_tasks', '');
        END IF;
    ELSE
        UPDATE agent_tasks t
           SET status = 'cancelled', completed_at = now(), cancel_requested = true,
               error = left('dependency ' || NEW.id || ' ' || NEW.status
                            || coalesce(': ' || NEW.error, ''), 2000)
         WHERE t.status = 'blocked'
           AND t.id IN (SELECT task_id FROM task_dependencies WHERE depends_on = NEW.id AND NOT satisfied);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER agent_tasks_dependency_finished AFTER UPDATE OF status ON agent_tasks
    FOR EACH ROW WHEN (NEW.has_dependents AND OLD.status IS DISTINCT FROM NEW.status
                       AND NEW.status IN ('completed', 'failed', 'cancelled'))
    EXECUTE FUNCTION agent_turbo_dependency_finished();

-- A task with a key stopped running: another of its key may start now, on any node.
CREATE FUNCTION agent_turbo_key_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('agent_turbo_tasks', '');
    RETURN NULL;
END $$;

CREATE TRIGGER agent_tasks_key_freed AFTER UPDATE OF status ON agent_tasks
    FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status <> 'running' AND NEW.concurrency_key IS NOT NULL)
    EXECUTE FUNCTION agent_turbo_key_freed();
