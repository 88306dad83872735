-- Accounts of the auth plugin. Timestamps are ISO-8601 UTC text of one fixed width
-- ('2030-01-01T12:00:00.000000+00:00'), so comparing them as text compares the instants.
-- The *_lower columns hold the Python-lowered spelling: uniqueness is case-insensitive while
-- the original spelling is kept.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL CONSTRAINT users_email_unique UNIQUE,
    username TEXT NOT NULL,
    username_lower TEXT NOT NULL CONSTRAINT users_username_unique UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CONSTRAINT users_role_known CHECK (role IN ('developer', 'admin')),
    is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)),
    is_verified INTEGER NOT NULL CHECK (is_verified IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- Every refresh token issued; the tokens rotated from one login share a family_id.
CREATE TABLE refresh_tokens (
    jti TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);

-- Email-verification and password-reset tokens, by the SHA-256 digest of the token.
CREATE TABLE one_time_tokens (
    digest TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
) WITHOUT ROWID;
CREATE INDEX one_time_tokens_user_id_purpose ON one_time_tokens (user_id, purpose);

-- API keys, by the SHA-256 digest of the key; scopes is a JSON array of strings.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    digest TEXT NOT NULL CONSTRAINT api_keys_digest_unique UNIQUE,
    prefix TEXT NOT NULL,
    scopes TEXT NOT NULL CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX api_keys_user_id ON api_keys (user_id);
