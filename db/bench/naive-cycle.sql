-- The naive queue cycle the dispatcher is measured against (payara/benchmark.sh runs it with pgbench:
-- 10 clients, each claiming one task and completing it, two commits per task). Same table, same indexes,
-- same claim order as Agent Turbo; one script run is one task.
UPDATE agent_tasks t
   SET status = 'running', assigned_worker_id = 'pgbench', attempt = t.attempt + 1,
       lease_token = nextval('agent_tasks_lease_token'),
       lease_expires_at = now() + interval '30 seconds', started_at = now()
  FROM (SELECT id FROM agent_tasks
         WHERE status = 'pending' AND run_after <= now()
         ORDER BY priority DESC, id
         LIMIT 1
         FOR UPDATE SKIP LOCKED) next
 WHERE t.id = next.id
RETURNING t.id AS claimed, t.lease_token AS token \gset
UPDATE agent_tasks
   SET status = 'completed', completed_at = now(), lease_expires_at = NULL, result = 'done', exit_code = 0
 WHERE id = :claimed AND lease_token = :token AND status = 'running';
