-- Bootstrap tokens of the onboarding plugin, by the SHA-256 digest of the token. Timestamps
-- are ISO-8601 UTC text of one fixed width, as in 0002; metadata is a JSON object. A consumed
-- token is kept: it records which token made which agent.
CREATE TABLE bootstrap_tokens (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL CONSTRAINT bootstrap_tokens_digest_unique UNIQUE,
    creator_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    agent_type_hint TEXT,
    metadata TEXT NOT NULL CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
    -- Its own column, not implied by consumed_by_agent_id: should the agent it made go (SET
    -- NULL), the token stays spent.
    consumed INTEGER NOT NULL CHECK (consumed IN (0, 1)),
    consumed_at TEXT,
    consumed_by_agent_id TEXT REFERENCES agents (id) ON DELETE SET NULL,
    revoked_at TEXT
) WITHOUT ROWID;
-- A developer's token list, newest first; also the CASCADE from users.
CREATE INDEX bootstrap_tokens_creator_id_created_at
    ON bootstrap_tokens (creator_id, created_at DESC, id DESC);
-- The purge of expired tokens; consumed ones are never purged, so they stay out of it.
CREATE INDEX bootstrap_tokens_expires_at ON bootstrap_tokens (expires_at) WHERE consumed = 0;

-- An agent's own API key, minted when it redeems a token, names the agent it acts for. It
-- goes with the agent: were it set to NULL instead, the key would act for the developer.
ALTER TABLE api_keys ADD COLUMN agent_id TEXT REFERENCES agents (id) ON DELETE CASCADE;
CREATE INDEX api_keys_agent_id ON api_keys (agent_id);
