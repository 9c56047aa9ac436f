-- People who log in through the browser (and, with the password grant, through the API).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    -- argon2id PHC string; never the password itself.
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'admin',
    created_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Automation clients for the client_credentials grant (`tileworks admin create-client`).
CREATE TABLE api_clients (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    role        TEXT NOT NULL DEFAULT 'admin',
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Bearer tokens issued by /uaa/oauth/token. Only a SHA-256 of the token is kept, so a copy of the
-- database does not hand out working tokens.
CREATE TABLE access_tokens (
    token_sha256 TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('user', 'client')),
    subject_name TEXT NOT NULL,
    role         TEXT NOT NULL,
    expires_at   INTEGER NOT NULL  -- unix seconds
);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);

-- Browser sessions (tower-sessions records), so a restart keeps people logged in.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    record      TEXT NOT NULL,     -- JSON of the tower-sessions record
    expires_at  INTEGER NOT NULL   -- unix seconds
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
