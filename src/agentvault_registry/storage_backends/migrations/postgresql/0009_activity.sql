-- The activity log and the daily usage counters (see storage_backends/activity.py).
--
-- No foreign keys: the log outlives the users, agents and tokens it names. action is
-- COLLATE "C" so a prefix filter ('agent.') is a range scan of its index.
CREATE TABLE activity (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action text COLLATE "C" NOT NULL,
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'agent', 'peer', 'system')),
    actor_id text,
    subject_type text NOT NULL,
    subject_id text,
    owner_id text,
    occurred_at timestamptz NOT NULL,
    request_id text,
    details jsonb NOT NULL
);
-- Each filter walks its index in seq order, the order every page is read in.
CREATE INDEX activity_action ON activity (action, seq);
CREATE INDEX activity_actor ON activity (actor_id, seq);
CREATE INDEX activity_owner ON activity (owner_id, seq);
CREATE INDEX activity_subject ON activity (subject_type, subject_id, seq);
CREATE INDEX activity_occurred_at ON activity (occurred_at);

-- Counts per UTC day of a named counter for one key ('' = registry-wide, else a user id).
-- Each flush adds to the row (INSERT ... ON CONFLICT DO UPDATE), so processes sharing the
-- database all count; the key order serves one counter's days in order.
CREATE TABLE usage_counters (
    name text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    day date NOT NULL,
    count bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (name, key, day)
);
