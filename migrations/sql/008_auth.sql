-- Authentication: people who log in to the admin UI, their sessions, API
-- tokens for programs, and the one-time link that creates the first admin.
-- Secrets are never stored: sessions, tokens and setup links keep only the
-- SHA-256 of a 32-byte random value; passwords keep an argon2id hash.
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email)),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'marketer', 'manager')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'marketer', 'manager')),
    token_hash   bytea NOT NULL UNIQUE,
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

CREATE TABLE setup_tokens (
    token_hash bytea PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

---- create above / drop below ----

DROP TABLE setup_tokens;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
