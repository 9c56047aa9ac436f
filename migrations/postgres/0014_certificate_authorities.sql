-- PostgreSQL form of migrations/sqlite/0014_certificate_authorities.sql.
CREATE TABLE certificate_authorities (
    guid               TEXT PRIMARY KEY,
    cert_pem           TEXT NOT NULL,
    sealed_private_key BYTEA NOT NULL,
    active             BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    -- Insertion order, under SQLite's implicit name: the store lists CAs
    -- `ORDER BY created_at, rowid` on both backends.
    rowid              BIGINT GENERATED ALWAYS AS IDENTITY
);

CREATE UNIQUE INDEX certificate_authorities_one_active
    ON certificate_authorities (active) WHERE active = 1;

INSERT INTO certificate_authorities (guid, cert_pem, sealed_private_key, active, created_at)
SELECT substr(md5(random()::text || clock_timestamp()::text), 1, 20), cert_pem, sealed_private_key, 1,
       EXTRACT(EPOCH FROM (created_at::timestamp AT TIME ZONE 'UTC'))::BIGINT
  FROM installation_ca;

DROP TABLE installation_ca;
