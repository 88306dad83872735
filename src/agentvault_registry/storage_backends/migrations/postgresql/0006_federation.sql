-- Peer registries of the federation plugin. name_lower holds the Python-lowered name, as
-- users.username_lower does: unique case-insensitively, and folded the same way as on SQLite
-- whatever the database's locale, while the original spelling is kept. outbound_token is
-- ciphertext; inbound_token_digest the SHA-256 of the token the peer presents. id uses the
-- "C" collation so that list order (created_at, id) is code-point order, as on SQLite. No
-- index beyond the unique ones: a registry has tens of peers.
CREATE TABLE federation_peers (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    name_lower text NOT NULL CONSTRAINT federation_peers_name_unique UNIQUE,
    registry_url text NOT NULL CONSTRAINT federation_peers_registry_url_unique UNIQUE,
    admin_contact text NOT NULL,
    status text NOT NULL CONSTRAINT federation_peers_status_known
        CHECK (status IN ('active', 'disabled', 'unhealthy')),
    outbound_token text NOT NULL,
    inbound_token_digest text NOT NULL
        CONSTRAINT federation_peers_inbound_token_digest_unique UNIQUE,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    spiffe_id text,
    last_seen_at timestamptz,
    last_error text,
    last_failure_at timestamptz,
    consecutive_failures integer NOT NULL CHECK (consecutive_failures >= 0),
    last_latency_ms double precision,
    change_cursor bigint NOT NULL CHECK (change_cursor >= 0)
);

-- The agents of each peer as its change feed last described them; document is a jsonb
-- object. agent_id uses the "C" collation so that pages in agent_id order are in code-point
-- order, as on SQLite. The primary key serves that listing and the CASCADE from peers.
CREATE TABLE federation_mirror (
    peer_id text COLLATE "C" NOT NULL REFERENCES federation_peers (id) ON DELETE CASCADE,
    agent_id text COLLATE "C" NOT NULL,
    did text NOT NULL,
    document jsonb NOT NULL CONSTRAINT federation_mirror_document_object
        CHECK (jsonb_typeof(document) = 'object'),
    seq bigint NOT NULL,
    mirrored_at timestamptz,
    PRIMARY KEY (peer_id, agent_id)
);
