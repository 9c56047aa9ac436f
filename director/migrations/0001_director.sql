-- The Director stand-in's own state (never shared with Tileworks's database).

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    description TEXT NOT NULL,
    deployment TEXT,
    user TEXT NOT NULL,
    context_id TEXT NOT NULL DEFAULT '',
    result TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);

CREATE TABLE deployments (
    name TEXT PRIMARY KEY,
    manifest TEXT NOT NULL,
    releases TEXT NOT NULL DEFAULT '[]',
    stemcells TEXT NOT NULL DEFAULT '[]',
    cloud_config_id INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    deployment TEXT NOT NULL,
    instance_group TEXT NOT NULL,
    idx INTEGER NOT NULL,
    az TEXT,
    ips TEXT NOT NULL DEFAULT '[]',
    vm_cid TEXT,
    agent_id TEXT,
    vm_created_at INTEGER,
    disk_cid TEXT,
    disk_size INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'started',
    spec_hash TEXT NOT NULL DEFAULT '',
    vm_hash TEXT NOT NULL DEFAULT '',
    vm_type TEXT,
    stemcell TEXT,
    cloud_properties TEXT NOT NULL DEFAULT '{}',
    lifecycle TEXT NOT NULL DEFAULT 'service',
    bootstrap INTEGER NOT NULL DEFAULT 0,
    jobs TEXT NOT NULL DEFAULT '[]',
    agent_alive INTEGER NOT NULL DEFAULT 1,
    unresponsive INTEGER NOT NULL DEFAULT 0,
    ignore_instance INTEGER NOT NULL DEFAULT 0,
    resurrection_paused INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX instances_deployment ON instances (deployment, instance_group, idx);

CREATE TABLE stemcells (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    operating_system TEXT NOT NULL,
    cid TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE releases (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    commit_hash TEXT NOT NULL DEFAULT '',
    uncommitted_changes INTEGER NOT NULL DEFAULT 0,
    -- JSON list of job names, or NULL when only the name and version were uploaded.
    jobs TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE configs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX configs_type_name ON configs (type, name, id);

-- Config-server values, sealed with the key file in the data dir (never stored here).
CREATE TABLE variables (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment TEXT NOT NULL,
    name TEXT NOT NULL,
    var_type TEXT NOT NULL,
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (deployment, name)
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp INTEGER NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_name TEXT,
    task TEXT,
    deployment TEXT,
    instance TEXT,
    context TEXT NOT NULL DEFAULT '{}',
    error TEXT
);

CREATE TABLE problems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT NOT NULL,
    instance_group TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    resolved INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
