-- The decryption passphrase (SECURITY.md, server/src/passphrase.rs): the data key that seals
-- every secret at rest, itself sealed under a key derived from the passphrase with argon2id.
-- The row records the derivation's parameters and salt beside the sealed key; neither the
-- passphrase nor the derived key is stored anywhere.
CREATE TABLE keyring (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    kdf TEXT NOT NULL,
    kdf_version INTEGER NOT NULL,
    memory_kib INTEGER NOT NULL,
    iterations INTEGER NOT NULL,
    parallelism INTEGER NOT NULL,
    salt BLOB NOT NULL,
    sealed_data_key BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);

-- Secrets Tileworks keeps for itself, each sealed under the data key: the embedded Director
-- stand-in's client secret and its config server's sealing key.
CREATE TABLE sealed_settings (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
