-- Apply Changes runs. `request` is the JSON of what was asked (deploy_products, one-time errand
-- overrides, ignore_warnings); `products` is the JSON list of per-product progress (action,
-- status, started/finished times), rewritten as the run goes. Times are RFC 3339 UTC text.
CREATE TABLE installations (
    id          INTEGER PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    user_name   TEXT NOT NULL,
    request     TEXT NOT NULL,
    products    TEXT NOT NULL DEFAULT '[]',
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    result      TEXT
);
-- Exactly one installation runs at a time: a second running row cannot be inserted.
CREATE UNIQUE INDEX installations_one_running ON installations (status) WHERE status = 'running';

-- The installation log, line by line; it only grows.
CREATE TABLE installation_logs (
    installation_id INTEGER NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    line            TEXT NOT NULL,
    PRIMARY KEY (installation_id, seq)
);

-- Director tasks an installation started, so a restart can find the ones still running.
CREATE TABLE installation_tasks (
    installation_id INTEGER NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    task_id         INTEGER NOT NULL,
    product_guid    TEXT NOT NULL,
    description     TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'processing',
    PRIMARY KEY (installation_id, task_id)
);

-- The deployed layer: per product (and the Director tile) what the last successful deploy of it
-- used. `settings` is the whole settings JSON sealed (it holds credentials); `manifest` is the
-- deployed manifest with credentials as ((placeholders)), JSON text (the cloud config for the
-- Director tile). Written only after that product's deploy and errands succeeded.
CREATE TABLE deployed_products (
    guid            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    settings        BLOB NOT NULL,
    manifest        TEXT NOT NULL,
    installation_id INTEGER NOT NULL,
    deployed_at     TEXT NOT NULL
);
