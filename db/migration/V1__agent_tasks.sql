-- Agent Turbo schema, version 1: the task queue, the worker registry and bounded task output.
-- The table and the columns used by the original system's monitoring queries keep their names
-- (agent_tasks.status, assigned_worker_id, executor, attempt, created_at, started_at, completed_at).

CREATE TABLE agent_tasks (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status              text        NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    priority            integer     NOT NULL DEFAULT 0,
    executor            text        NOT NULL,
    prompt              text        NOT NULL,
    options             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    timeout_seconds     integer     NOT NULL CHECK (timeout_seconds > 0),
    idempotency_key     text        UNIQUE,
    run_after           timestamptz NOT NULL DEFAULT now(),
    attempt             integer     NOT NULL DEFAULT 0,
    max_attempts        integer     NOT NULL CHECK (max_attempts > 0),
    assigned_worker_id  text,
    slot                integer,
    lease_expires_at    timestamptz,
    cancel_requested    boolean     NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    completed_at        timestamptz,
    result              text,
    error               text,
    exit_code           integer,
    cost_usd            numeric(14, 6),
    input_tokens        bigint,
    output_tokens       bigint,
    num_turns           integer,
    session_id          text
);

-- The claim order: only pending rows are indexed, so the index stays small however many tasks have finished.
CREATE INDEX agent_tasks_claim_order ON agent_tasks (priority DESC, id) WHERE status = 'pending';
-- Requeueing expired leases looks only at running rows.
CREATE INDEX agent_tasks_running_leases ON agent_tasks (lease_expires_at) WHERE status = 'running';
-- Listing by status, newest first, with an id cursor.
CREATE INDEX agent_tasks_status_id ON agent_tasks (status, id DESC);

-- A queue table is rewritten all day: vacuum it far more often than the defaults would.
ALTER TABLE agent_tasks SET (
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_analyze_scale_factor = 0.0,
    autovacuum_analyze_threshold = 5000,
    fillfactor = 80
);

CREATE TABLE agent_workers (
    id            text PRIMARY KEY,
    host          text        NOT NULL,
    slots         integer     NOT NULL CHECK (slots >= 0),
    busy_slots    integer     NOT NULL DEFAULT 0,
    state         text        NOT NULL CHECK (state IN ('active', 'draining', 'stopped')),
    version       text        NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE task_output (
    task_id  bigint      NOT NULL REFERENCES agent_tasks (id) ON DELETE CASCADE,
    attempt  integer     NOT NULL,
    seq      integer     NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    stream   text        NOT NULL CHECK (stream IN ('stdout', 'stderr', 'event')),
    text     text        NOT NULL,
    PRIMARY KEY (task_id, attempt, seq)
);
