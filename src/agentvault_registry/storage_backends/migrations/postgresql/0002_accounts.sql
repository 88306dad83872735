-- Accounts of the auth plugin. The *_lower columns hold the Python-lowered spelling:
-- uniqueness is case-insensitive while the original spelling is kept. They use the "C"
-- collation so users list in code-point order, as on SQLite, whatever the database's locale.
CREATE TABLE users (
    id text PRIMARY KEY,
    email text NOT NULL,
    email_lower text COLLATE "C" NOT NULL CONSTRAINT users_email_unique UNIQUE,
    username text NOT NULL,
    username_lower text COLLATE "C" NOT NULL CONSTRAINT users_username_unique UNIQUE,
    password_hash text NOT NULL,
    role text NOT NULL CONSTRAINT users_role_known CHECK (role IN ('developer', 'admin')),
    is_active boolean NOT NULL,
    is_verified boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Every refresh token issued; the tokens rotated from one login share a family_id.
CREATE TABLE refresh_tokens (
    jti text PRIMARY KEY,
    family_id text NOT NULL,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);

-- Email-verification and password-reset tokens, by the SHA-256 digest of the token.
CREATE TABLE one_time_tokens (
    digest text PRIMARY KEY,
    purpose text NOT NULL,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX one_time_tokens_user_id_purpose ON one_time_tokens (user_id, purpose);

-- API keys, by the SHA-256 digest of the key.
CREATE TABLE api_keys (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    digest text NOT NULL CONSTRAINT api_keys_digest_unique UNIQUE,
    prefix text NOT NULL,
    scopes text[] NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);
