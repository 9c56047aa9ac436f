-- The on-demand broker (server/src/broker): service instances (Kubernetes clusters), the
-- operations on them (create, update, delete: each a chain of Director tasks) and bindings.

CREATE TABLE broker_instances (
    id TEXT PRIMARY KEY,
    service_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    -- The provision request as the platform sent it (JSON), to answer an identical repeat.
    request TEXT NOT NULL,
    -- The cluster parameters in force (JSON object: provision, then each update's merged in).
    parameters TEXT NOT NULL DEFAULT '{}',
    -- The manifest last deployed (YAML); NULL until a deploy task of the instance succeeded.
    manifest TEXT,
    -- The plan (tiles::odb::Plan JSON) that manifest was generated from.
    manifest_plan TEXT,
    -- Credentials a binding hands out (sealed JSON), made on the first bind.
    binding_secrets BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE broker_operations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    -- create | update | delete
    kind TEXT NOT NULL,
    -- in progress | succeeded | failed
    state TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    -- The parameters this operation applies (JSON object).
    parameters TEXT NOT NULL DEFAULT '{}',
    -- The manifest this operation deploys (YAML), NULL for a deletion.
    manifest TEXT,
    manifest_plan TEXT,
    -- The steps (JSON list: deploy, errands, delete) and how far the operation got.
    steps TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    -- The Director task of the current step, once started.
    task_id INTEGER,
    -- Why it failed (for the log and operators; OSB answers carry ODB's generic text).
    error TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT
);

-- At most one operation in progress per instance, whatever the callers race.
CREATE UNIQUE INDEX broker_operations_busy ON broker_operations (instance_id)
    WHERE state = 'in progress';
CREATE INDEX broker_operations_instance ON broker_operations (instance_id, id);

CREATE TABLE broker_bindings (
    instance_id TEXT NOT NULL,
    binding_id TEXT NOT NULL,
    -- The bind request (JSON), to answer an identical repeat.
    request TEXT NOT NULL,
    -- The binding's credentials (sealed JSON).
    credentials BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (instance_id, binding_id)
);
