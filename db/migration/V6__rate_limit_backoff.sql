-- Agent Turbo schema, version 6: the fleet's back-off from a rate-limited or overloaded API.
--
-- A rate-limit row of executor_limits backs off an executor for one credential. strikes counts the back-offs in a
-- row: one that begins soon after the last one ended doubles its length (up to a configured maximum, with jitter);
-- one that begins after a quiet spell starts again from the first length.
ALTER TABLE executor_limits ADD COLUMN strikes integer NOT NULL DEFAULT 1 CHECK (strikes >= 1);
