-- Agents of the agents plugin and the ordered feed of their changes. api_endpoints,
-- capabilities and tags are text[] (capabilities GIN-indexed for "contains"); pricing,
-- metadata and card_summary jsonb (pricing may be NULL). human_readable_id_lower holds the
-- Python-lowered slug: unique case-insensitively while the original spelling is kept. id and
-- the *_lower column use the "C" collation so that keyset order (created_at, id) is code-point
-- order, as on SQLite, whatever the database's locale.
CREATE TABLE agents (
    id text COLLATE "C" PRIMARY KEY,
    did text NOT NULL CONSTRAINT agents_did_unique UNIQUE,
    name text NOT NULL,
    agent_type text NOT NULL,
    status text NOT NULL CONSTRAINT agents_status_known
        CHECK (status IN ('active', 'inactive', 'deprecated', 'deleted')),
    description text NOT NULL,
    developer_id text NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    human_readable_id text NOT NULL,
    human_readable_id_lower text COLLATE "C" NOT NULL
        CONSTRAINT agents_human_readable_id_unique UNIQUE,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    api_endpoints text[] NOT NULL,
    capabilities text[] NOT NULL,
    tags text[] NOT NULL,
    pricing jsonb,
    teg_wallet_address text,
    metadata jsonb NOT NULL,
    verified boolean NOT NULL,
    verified_at timestamptz,
    card_hash text,
    card_blob_key text,
    card_summary jsonb NOT NULL,
    version integer NOT NULL CHECK (version >= 1)
);
CREATE INDEX agents_name ON agents (name);
-- The listings, newest first: everything, by status, by developer. The status and developer
-- indexes also serve plain lookups by those columns (and the RESTRICT check on users).
CREATE INDEX agents_created_at ON agents (created_at DESC, id DESC);
CREATE INDEX agents_status_created_at ON agents (status, created_at DESC, id DESC);
CREATE INDEX agents_developer_id_created_at ON agents (developer_id, created_at DESC, id DESC);
CREATE INDEX agents_agent_type_status ON agents (agent_type, status);
CREATE INDEX agents_capabilities ON agents USING gin (capabilities);

-- Every change of an agent. Writers append under a transaction advisory lock held to commit,
-- so seq order is commit order: a reader that has seen seq N never later finds a smaller one.
-- No foreign key: the feed outlives what it describes.
CREATE TABLE agent_events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type text NOT NULL,
    agent_id text NOT NULL,
    actor_id text,
    occurred_at timestamptz NOT NULL,
    snapshot jsonb NOT NULL
);
CREATE INDEX agent_events_agent_id ON agent_events (agent_id, seq);
