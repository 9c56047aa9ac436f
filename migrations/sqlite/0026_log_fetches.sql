-- Instance log fetches (`crate::deployed::instance_logs`), in the database so that any replica
-- answers their status and download (issue 15), not only the one that started them. The
-- replica fetching (`holder`) renews `lease_until_ms` while it works; a running fetch whose
-- lease ran out belongs to a replica that died, and whoever looks at it marks it failed.
-- `bundle` is the recorded path of the finished tarball (a file in the data dir's `logs/`, or
-- with an object store the object `logs/<name>`). Times are Unix milliseconds, besides the
-- RFC 3339 texts the API shows.
CREATE TABLE log_fetches (
    id              TEXT PRIMARY KEY,
    guid            TEXT NOT NULL,
    instance_group  TEXT NOT NULL,
    instance_index  INTEGER,
    log_types       TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT,
    file_name       TEXT NOT NULL,
    bundle          TEXT,
    holder          TEXT NOT NULL,
    lease_until_ms  INTEGER NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    finished_ms     INTEGER
);
CREATE INDEX log_fetches_finished ON log_fetches (finished_ms);
