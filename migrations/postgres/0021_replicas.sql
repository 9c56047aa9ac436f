-- PostgreSQL form of migrations/sqlite/0021_replicas.sql.
CREATE TABLE login_failures (
    key             TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_at_ms      BIGINT NOT NULL,
    locked_until_ms BIGINT
);
CREATE INDEX login_failures_last_at ON login_failures (last_at_ms);

ALTER TABLE installations ADD COLUMN holder TEXT;
ALTER TABLE installations ADD COLUMN lease_until_ms BIGINT;

CREATE TABLE work_claims (
    kind           TEXT NOT NULL,
    id             BIGINT NOT NULL,
    holder         TEXT NOT NULL,
    lease_until_ms BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
