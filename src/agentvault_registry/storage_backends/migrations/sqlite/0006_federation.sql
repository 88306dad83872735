-- Peer registries of the federation plugin. Timestamps are ISO-8601 UTC text of one fixed
-- width, as in 0002. name_lower holds the Python-lowered name, as users.username_lower does:
-- unique case-insensitively (SQLite's own lower() folds ASCII only) while the original
-- spelling is kept. outbound_token is ciphertext; inbound_token_digest the SHA-256 of the
-- token the peer presents. No index beyond the unique ones: a registry has tens of peers.
CREATE TABLE federation_peers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL CONSTRAINT federation_peers_name_unique UNIQUE,
    registry_url TEXT NOT NULL CONSTRAINT federation_peers_registry_url_unique UNIQUE,
    admin_contact TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT federation_peers_status_known
        CHECK (status IN ('active', 'disabled', 'unhealthy')),
    outbound_token TEXT NOT NULL,
    inbound_token_digest TEXT NOT NULL
        CONSTRAINT federation_peers_inbound_token_digest_unique UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    spiffe_id TEXT,
    last_seen_at TEXT,
    last_error TEXT,
    last_failure_at TEXT,
    consecutive_failures INTEGER NOT NULL CHECK (consecutive_failures >= 0),
    last_latency_ms REAL,
    change_cursor INTEGER NOT NULL CHECK (change_cursor >= 0)
) WITHOUT ROWID;

-- The agents of each peer as its change feed last described them; document is a JSON object.
-- A rowid table (not WITHOUT ROWID): documents run to kilobytes, larger than the rows SQLite
-- advises keeping inside a WITHOUT ROWID b-tree. The primary key serves the listing by
-- agent_id and the CASCADE from peers.
CREATE TABLE federation_mirror (
    peer_id TEXT NOT NULL REFERENCES federation_peers (id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL,
    did TEXT NOT NULL,
    document TEXT NOT NULL CHECK (json_valid(document) AND json_type(document) = 'object'),
    seq INTEGER NOT NULL,
    mirrored_at TEXT,
    PRIMARY KEY (peer_id, agent_id)
);
