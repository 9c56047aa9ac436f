-- Imported tiles. The `.pivotal` itself stays a file in `<data-dir>/tiles/`; the metadata is kept
-- here as text so listing and staging never reopen the archive. Bundled tiles (compiled into the
-- binary) have no file.
CREATE TABLE available_products (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    label       TEXT NOT NULL,
    metadata    TEXT NOT NULL,          -- the product template (metadata/*.yml) as YAML text
    file_path   TEXT,                   -- NULL for bundled tiles
    sha256      TEXT NOT NULL,          -- of the .pivotal (of the metadata for bundled tiles)
    size        INTEGER NOT NULL,       -- bytes
    bundled     INTEGER NOT NULL DEFAULT 0,
    imported_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (name, version)
);

-- Products on the dashboard (the staged layer). One per product name. `config` is the JSON of the
-- staged settings without credential values; those are in `secrets`, sealed with the key file of
-- the data dir (never in this database in clear). `config_version` grows by one with every save,
-- so a save made against an older version is refused instead of silently overwriting.
CREATE TABLE staged_products (
    guid           TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    version        TEXT NOT NULL,
    config         TEXT NOT NULL,
    secrets        BLOB,
    config_version INTEGER NOT NULL DEFAULT 1,
    staged_at      TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- What each save changed (property references, resource-config.JOB, networks_and_azs…), so a
-- refused stale save can say what changed since the version it was based on.
CREATE TABLE config_changes (
    subject    TEXT NOT NULL,           -- a staged product guid, or 'director'
    version    INTEGER NOT NULL,        -- the config_version this save produced
    changed    TEXT NOT NULL,           -- JSON list of changed keys
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (subject, version)
);

-- The Director tile (p-bosh): one row. Same split as staged products: IaaS secrets sealed.
CREATE TABLE director_config (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    guid           TEXT NOT NULL,
    config         TEXT NOT NULL,
    secrets        BLOB,
    config_version INTEGER NOT NULL DEFAULT 1
);

-- The installation's root CA, which signs generated certificates. The private key is sealed.
CREATE TABLE installation_ca (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    cert_pem           TEXT NOT NULL,
    sealed_private_key BLOB NOT NULL,
    created_at         TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
