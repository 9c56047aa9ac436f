-- PostgreSQL form of migrations/sqlite/0026_log_fetches.sql.
CREATE TABLE log_fetches (
    id              TEXT PRIMARY KEY,
    guid            TEXT NOT NULL,
    instance_group  TEXT NOT NULL,
    instance_index  BIGINT,
    log_types       TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT,
    file_name       TEXT NOT NULL,
    bundle          TEXT,
    holder          TEXT NOT NULL,
    lease_until_ms  BIGINT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    finished_ms     BIGINT
);
CREATE INDEX log_fetches_finished ON log_fetches (finished_ms);
