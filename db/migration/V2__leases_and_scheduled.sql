-- Agent Turbo schema, version 2: the engine at fleet scale.
--
-- 1. A fencing token of its own. Every claim takes the next value of a sequence, so a token only ever grows and
--    is never given back (a release used to give the attempt back, so (id, attempt) could repeat).
-- 2. Parked rows out of the claim path: a task that may not run before run_after (retry backoff, usage-limit
--    reset) is 'scheduled', not 'pending'; a node promotes it when it is due. 'pending' means "claimable now".
-- 3. Lease renewals that PostgreSQL can do as HOT updates: no index covers lease_expires_at any more.
-- 4. agent_workers says how many slots of a node really run.

CREATE SEQUENCE agent_tasks_lease_token AS bigint;
ALTER TABLE agent_tasks ADD COLUMN lease_token bigint;
-- Rows running now get a token too. Nodes of version 1 still fence on (id, attempt, worker) and claim with
-- run_after <= now(), so a fleet can be upgraded one node at a time.
UPDATE agent_tasks SET lease_token = nextval('agent_tasks_lease_token') WHERE status = 'running';

ALTER TABLE agent_tasks DROP CONSTRAINT agent_tasks_status_check;
ALTER TABLE agent_tasks ADD CONSTRAINT agent_tasks_status_check
    CHECK (status IN ('scheduled', 'pending', 'running', 'completed', 'failed', 'cancelled'));
UPDATE agent_tasks SET status = 'scheduled' WHERE status = 'pending' AND run_after > now();

-- Promotion of scheduled tasks looks only at scheduled rows, the earliest first.
CREATE INDEX agent_tasks_scheduled ON agent_tasks (run_after) WHERE status = 'scheduled';
-- Renewals change lease_expires_at on every running row every heartbeat: with no index on it they are HOT updates
-- (no new index entries, no bloat). The requeue of expired leases reads the running rows through
-- agent_tasks_status_id instead: a few thousand rows at most, one per slot of the fleet.
DROP INDEX agent_tasks_running_leases;
-- Retention deletes finished tasks by age, the oldest first.
CREATE INDEX agent_tasks_finished_at ON agent_tasks (completed_at)
    WHERE status IN ('completed', 'failed', 'cancelled');

-- Vacuum the queue table after every 1,000 changed rows and without the cost-based pauses: dead entries in
-- the claim index are what slows claims on a busy queue (see docs/ARCHITECTURE.md, "Keeping claims fast").
ALTER TABLE agent_tasks SET (
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.0,
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_analyze_scale_factor = 0.0,
    autovacuum_analyze_threshold = 5000,
    autovacuum_vacuum_cost_delay = 0
);

ALTER TABLE agent_workers ADD COLUMN live_slots integer NOT NULL DEFAULT 0;
