-- The Stemcell Library, stemcell assignments, and what revert and staged deletion need.

-- Imported stemcells. A full stemcell's tarball stays whole in `<data-dir>/stemcells/`; its
-- `stemcell.MF` is kept here as text so nothing reopens the tarball to list or assign it. A
-- *light* stemcell is a record without a tarball (the embedded Director registers it from the
-- manifest alone), imported on first start so the bundled tiles are deployable out of the box.
CREATE TABLE stemcells (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,          -- stemcell.MF `name` (bosh-vsphere-esxi-ubuntu-xenial-go_agent)
    os             TEXT NOT NULL,          -- stemcell.MF `operating_system`
    version        TEXT NOT NULL,
    infrastructure TEXT NOT NULL DEFAULT '',
    hypervisor     TEXT NOT NULL DEFAULT '',
    filename       TEXT NOT NULL,          -- the uploaded file's name (om compares it)
    manifest       TEXT NOT NULL,          -- stemcell.MF as YAML text
    file_path      TEXT,                   -- NULL for light stemcells
    sha256         TEXT,                   -- of the tarball; NULL for light stemcells
    size           INTEGER NOT NULL DEFAULT 0,
    light          INTEGER NOT NULL DEFAULT 0,
    imported_by    TEXT NOT NULL,
    imported_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (name, version)
);

-- Stemcells pinned to staged products by the operator (PATCH stemcell_assignments /
-- stemcell_associations, or a floating upload). One per product and OS. A product without a
-- row for an OS floats: it gets the newest imported stemcell its criteria accept.
CREATE TABLE stemcell_assignments (
    product_guid TEXT NOT NULL,
    os           TEXT NOT NULL,
    version      TEXT NOT NULL,
    assigned_by  TEXT NOT NULL,
    assigned_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (product_guid, os)
);

-- Set once the first start has imported the light stemcells, so that removing one later is
-- not undone by the next start.
CREATE TABLE stemcell_library_seeded (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seeded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The deployed layer is the installations' `deployed_products` table (0003), written only after
-- a product's deploy succeeded. It also records the stemcells that deploy used, JSON
-- [{"os","version"}], so pending changes and revert can compare and restore stemcell pins.
ALTER TABLE deployed_products ADD COLUMN stemcells TEXT NOT NULL DEFAULT '[]';

-- Deployed products the operator asked to delete. The product stays staged (and deployed)
-- until Apply Changes deletes its deployment and calls `Products::complete_deletion`.
CREATE TABLE staged_deletions (
    guid      TEXT PRIMARY KEY,
    staged_by TEXT NOT NULL,
    staged_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
