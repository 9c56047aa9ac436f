-- Certificate authorities (issue 13): the installation's root CA that signs generated
-- certificates, and the others kept while a rotation is under way (a new CA generated or
-- imported, activated, the old one deleted). Exactly one is active; private keys are sealed.
-- The single root CA of installation_ca becomes the first, active, CA.
CREATE TABLE certificate_authorities (
    guid               TEXT PRIMARY KEY,
    cert_pem           TEXT NOT NULL,
    sealed_private_key BLOB NOT NULL,
    active             INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
);

CREATE UNIQUE INDEX certificate_authorities_one_active
    ON certificate_authorities (active) WHERE active = 1;

INSERT INTO certificate_authorities (guid, cert_pem, sealed_private_key, active, created_at)
SELECT lower(hex(randomblob(10))), cert_pem, sealed_private_key, 1,
       CAST(strftime('%s', created_at) AS INTEGER)
  FROM installation_ca;

DROP TABLE installation_ca;
