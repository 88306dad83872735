-- Agents of the agents plugin and the ordered feed of their changes. Timestamps are ISO-8601
-- UTC text of one fixed width, as in 0002. api_endpoints, capabilities and tags are JSON
-- arrays of strings; pricing, metadata and card_summary JSON objects (pricing may be NULL).
-- human_readable_id_lower holds the Python-lowered slug: unique case-insensitively while the
-- original spelling is kept. A rowid table (not WITHOUT ROWID), so an FTS5 index can use
-- it as external content.
CREATE TABLE agents (
    id TEXT NOT NULL PRIMARY KEY,
    did TEXT NOT NULL CONSTRAINT agents_did_unique UNIQUE,
    name TEXT NOT NULL,
    agent_type TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT agents_status_known
        CHECK (status IN ('active', 'inactive', 'deprecated', 'deleted')),
    description TEXT NOT NULL,
    developer_id TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    human_readable_id TEXT NOT NULL,
    human_readable_id_lower TEXT NOT NULL CONSTRAINT agents_human_readable_id_unique UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    api_endpoints TEXT NOT NULL
        CHECK (json_valid(api_endpoints) AND json_type(api_endpoints) = 'array'),
    capabilities TEXT NOT NULL
        CHECK (json_valid(capabilities) AND json_type(capabilities) = 'array'),
    tags TEXT NOT NULL CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    pricing TEXT CHECK (pricing IS NULL OR json_valid(pricing)),
    teg_wallet_address TEXT,
    metadata TEXT NOT NULL CHECK (json_valid(metadata)),
    verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
    verified_at TEXT,
    card_hash TEXT,
    card_blob_key TEXT,
    card_summary TEXT NOT NULL CHECK (json_valid(card_summary)),
    version INTEGER NOT NULL CHECK (version >= 1)
);
CREATE INDEX agents_name ON agents (name);
-- The listings, newest first: everything, by status, by developer. The status and developer
-- indexes also serve plain lookups by those columns (and the RESTRICT check on users).
CREATE INDEX agents_created_at ON agents (created_at DESC, id DESC);
CREATE INDEX agents_status_created_at ON agents (status, created_at DESC, id DESC);
CREATE INDEX agents_developer_id_created_at ON agents (developer_id, created_at DESC, id DESC);
CREATE INDEX agents_agent_type_status ON agents (agent_type, status);

-- Every change of an agent, in commit order. AUTOINCREMENT: a seq is never reused, even after
-- the newest events are deleted, so a feed reader's position stays valid. No foreign key:
-- the feed outlives what it describes.
CREATE TABLE agent_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    actor_id TEXT,
    occurred_at TEXT NOT NULL,
    snapshot TEXT NOT NULL CHECK (json_valid(snapshot))
);
CREATE INDEX agent_events_agent_id ON agent_events (agent_id, seq);
