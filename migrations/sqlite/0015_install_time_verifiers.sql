-- Install-time verifiers an operator switched off or on (om disable-director-verifiers,
-- disable-product-verifiers; server/src/products/verifiers.rs). A verifier without a row is
-- enabled. `owner_guid` is the Director tile's GUID or a staged product's; rows of a product
-- go with it.
CREATE TABLE verifier_settings (
    owner_guid TEXT NOT NULL,
    verifier TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (owner_guid, verifier)
);
