-- Bootstrap tokens of the onboarding plugin, by the SHA-256 digest of the token; metadata is
-- a jsonb object. A consumed token is kept: it records which token made which agent. id uses
-- the "C" collation so that keyset order (created_at, id) is code-point order, as on SQLite,
-- whatever the database's locale.
CREATE TABLE bootstrap_tokens (
    id text COLLATE "C" PRIMARY KEY,
    digest text NOT NULL CONSTRAINT bootstrap_tokens_digest_unique UNIQUE,
    creator_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    agent_type_hint text,
    metadata jsonb NOT NULL CONSTRAINT bootstrap_tokens_metadata_object
        CHECK (jsonb_typeof(metadata) = 'object'),
    -- Its own column, not implied by consumed_by_agent_id: should the agent it made go (SET
    -- NULL), the token stays spent.
    consumed boolean NOT NULL,
    consumed_at timestamptz,
    consumed_by_agent_id text REFERENCES agents (id) ON DELETE SET NULL,
    revoked_at timestamptz
);
-- A developer's token list, newest first; also the CASCADE from users.
CREATE INDEX bootstrap_tokens_creator_id_created_at
    ON bootstrap_tokens (creator_id, created_at DESC, id DESC);
-- The purge of expired tokens; consumed ones are never purged, so they stay out of it.
CREATE INDEX bootstrap_tokens_expires_at ON bootstrap_tokens (expires_at) WHERE NOT consumed;

-- An agent's own API key, minted when it redeems a token, names the agent it acts for. It
-- goes with the agent: were it set to NULL instead, the key would act for the developer.
ALTER TABLE api_keys ADD COLUMN agent_id text REFERENCES agents (id) ON DELETE CASCADE;
CREATE INDEX api_keys_agent_id ON api_keys (agent_id);
