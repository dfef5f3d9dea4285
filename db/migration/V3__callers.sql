-- Agent Turbo schema, version 3: who may do what.
--
-- API tokens are stored as SHA-256 hashes of their secret (a token is 256 random bits: a slow hash adds nothing);
-- console users with a PBKDF2 hash of their password. Each task records who submitted it.

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role         text        NOT NULL CHECK (role IN ('viewer', 'submitter', 'operator')),
    secret_hash  text        NOT NULL UNIQUE,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
-- a name means one live token: tasks are recorded as submitted by "token:<name>"
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE console_users (
    name          text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('viewer', 'submitter', 'operator')),
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE agent_tasks ADD COLUMN submitted_by text;
-- a submitter's own tasks, newest first
CREATE INDEX agent_tasks_submitted_by ON agent_tasks (submitted_by, id DESC);
