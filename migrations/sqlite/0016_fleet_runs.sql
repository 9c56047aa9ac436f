-- Fleet runs (upgrade-all, recreate-all, delete-all; server/src/broker/fleet.rs) and the state of
-- each cluster in them, so a run survives a Tileworks restart: one in progress is resumed, or
-- marked failed when it cannot be, and `GET /pks/v1/fleet-runs` reads what is here.
CREATE TABLE fleet_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,           -- upgrade | recreate | delete
    options TEXT NOT NULL,        -- JSON: canaries, max_in_flight, attempts, attempt_interval_ms
    state TEXT NOT NULL,          -- pending | in_progress | succeeded | failed
    started_by TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT
);

CREATE TABLE fleet_run_clusters (
    run_id INTEGER NOT NULL REFERENCES fleet_runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,    -- the run's order: canaries first, oldest instance first
    instance_id TEXT NOT NULL,
    deployment TEXT NOT NULL,
    cluster_name TEXT,
    canary INTEGER NOT NULL,
    state TEXT NOT NULL,          -- pending | in_progress | succeeded | failed | skipped
    attempts INTEGER NOT NULL,
    operation_id INTEGER,
    task_id INTEGER,
    error TEXT,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, position)
);
