-- PostgreSQL form of migrations/sqlite/0011_keyring.sql.
CREATE TABLE keyring (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    kdf TEXT NOT NULL,
    kdf_version BIGINT NOT NULL,
    memory_kib BIGINT NOT NULL,
    iterations BIGINT NOT NULL,
    parallelism BIGINT NOT NULL,
    salt BYTEA NOT NULL,
    sealed_data_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL
);

CREATE TABLE sealed_settings (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
