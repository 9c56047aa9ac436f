-- Audit retention (server/src/audit/retention.rs): entries older than the retention period are
-- pruned in the background, and each prune is itself an entry. The trail stays append-only for
-- everything else: the delete trigger now lets a row go only when it is older than the cutoff
-- the last prune recorded here (one row), so no other statement can remove an entry.

CREATE TABLE audit_retention (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- RFC 3339 UTC to the second, like audit_events.time: rows before it may be deleted.
    prune_before TEXT NOT NULL
);

DROP TRIGGER audit_events_no_delete;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN OLD.time >= COALESCE((SELECT prune_before FROM audit_retention WHERE id = 1), '')
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: rows are deleted only by the retention prune');
END;
