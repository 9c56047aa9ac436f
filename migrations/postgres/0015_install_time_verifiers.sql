-- PostgreSQL form of migrations/sqlite/0015_install_time_verifiers.sql.
CREATE TABLE verifier_settings (
    owner_guid TEXT NOT NULL,
    verifier TEXT NOT NULL,
    enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (owner_guid, verifier)
);
