-- Agent Turbo schema, version 4: live output, the history of attempts, control of nodes, retries.

-- What agents print, as it arrives. seq grows along a task's output (over all its attempts) and is the cursor of
-- GET /api/tasks/{id}/output?after= and the SSE event id; the node that runs an attempt numbers its lines after the
-- highest seq stored. The event is the program's JSON line as it was printed (text, not jsonb: the program may
-- print escapes jsonb refuses, such as \u0000).
DROP TABLE task_output;
CREATE TABLE task_output (
    task_id  bigint      NOT NULL REFERENCES agent_tasks (id) ON DELETE CASCADE,
    seq      bigint      NOT NULL,
    attempt  integer     NOT NULL,
    at       timestamptz NOT NULL,
    stream   text        NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
    kind     text        NOT NULL CHECK (kind IN ('assistant', 'tool_use', 'tool_result', 'system', 'stdout',
                                                  'stderr', 'result')),
    text     text        NOT NULL,
    event    text,
    PRIMARY KEY (task_id, seq)
);
ALTER TABLE task_output SET (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0.05);

-- Every attempt that ended, however it ended (completed, failed, retrying, released, cancelled, expired), written by
-- the database itself when a task leaves 'running': every path out of 'running' (the dispatcher's records, the
-- requeue of expired leases, a release at shutdown) is covered without a second statement.
CREATE TABLE task_attempts (
    task_id      bigint      NOT NULL REFERENCES agent_tasks (id) ON DELETE CASCADE,
    lease_token  bigint      NOT NULL,
    attempt      integer     NOT NULL,
    worker       text,
    started_at   timestamptz,
    ended_at     timestamptz NOT NULL DEFAULT now(),
    outcome      text        NOT NULL,
    error        text,
    PRIMARY KEY (task_id, lease_token)
);

CREATE FUNCTION agent_turbo_attempt_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_attempts (task_id, lease_token, attempt, worker, started_at, outcome, error)
    VALUES (OLD.id, OLD.lease_token, OLD.attempt, OLD.assigned_worker_id, OLD.started_at,
            CASE WHEN NEW.status IN ('completed', 'failed', 'cancelled') THEN NEW.status
                 WHEN NEW.attempt < OLD.attempt THEN 'released'
                 WHEN NEW.error LIKE 'lease expired:%' THEN 'expired'
                 ELSE 'retrying' END,
            left(NEW.error, 2000))
    ON CONFLICT (task_id, lease_token) DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER agent_tasks_attempt_ended AFTER UPDATE OF status ON agent_tasks
    FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status <> 'running' AND OLD.lease_token IS NOT NULL)
    EXECUTE FUNCTION agent_turbo_attempt_ended();

-- A retry runs a finished task again, same id, as further attempts, with as many attempts as it was submitted
-- with: attempts_per_run keeps that number (the first retry sets it from max_attempts), and each retry moves
-- max_attempts to the attempts made so far plus it. retried counts the retries.
ALTER TABLE agent_tasks ADD COLUMN attempts_per_run integer;
ALTER TABLE agent_tasks ADD COLUMN retried integer NOT NULL DEFAULT 0;

-- What an operator asked of a node, from any node: drain (no new claims, running agents finish) and a slot count
-- that replaces the configured one, kept across the node's restarts. A node reads them with every heartbeat and
-- at once on NOTIFY agent_turbo_workers.
ALTER TABLE agent_workers ADD COLUMN slots_wanted integer CHECK (slots_wanted >= 0);
ALTER TABLE agent_workers ADD COLUMN drain_wanted boolean NOT NULL DEFAULT false;
