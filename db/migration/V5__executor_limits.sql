-- Agent Turbo schema, version 5: pauses of an executor for one credential, for the whole fleet.
--
-- When an agent meets the subscription's usage limit, every node whose agents use that credential stops starting
-- tasks of that executor until the reset; nodes with another credential go on. The credential is a fingerprint
-- (its kind and the first 12 hex digits of its SHA-256), never the credential itself. A pause is active while it
-- is not lifted and its time has not passed (until null: until an operator lifts it). One row per executor,
-- credential and kind, reused by the next pause of the same kind.
CREATE TABLE executor_limits (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    executor   text        NOT NULL,
    credential text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('usage-limit', 'rate-limit', 'credentials')),
    since      timestamptz NOT NULL DEFAULT now(),
    until      timestamptz,
    reason     text        NOT NULL,
    lifted_at  timestamptz,
    lifted_by  text,
    UNIQUE (executor, credential, kind)
);
