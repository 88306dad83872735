-- The activity log and the daily usage counters (see storage_backends/activity.py).
-- Timestamps are ISO-8601 UTC text of one fixed width, as in 0002, so the first ten
-- characters of occurred_at are its UTC day.
--
-- No foreign keys: the log outlives the users, agents and tokens it names.
CREATE TABLE activity (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'agent', 'peer', 'system')),
    actor_id TEXT,
    subject_type TEXT NOT NULL,
    subject_id TEXT,
    owner_id TEXT,
    occurred_at TEXT NOT NULL,
    request_id TEXT,
    details TEXT NOT NULL CHECK (json_valid(details))
);
-- Each filter walks its index in seq order, the order every page is read in.
CREATE INDEX activity_action ON activity (action, seq);
CREATE INDEX activity_actor ON activity (actor_id, seq);
CREATE INDEX activity_owner ON activity (owner_id, seq);
CREATE INDEX activity_subject ON activity (subject_type, subject_id, seq);
CREATE INDEX activity_occurred_at ON activity (occurred_at);

-- Counts per UTC day of a named counter for one key ('' = registry-wide, else a user id).
-- Each flush adds to the row (INSERT ... ON CONFLICT DO UPDATE), so processes sharing the
-- file all count; the key order serves one counter's days in order.
CREATE TABLE usage_counters (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (name, key, day)
) WITHOUT ROWID;
