-- PostgreSQL form of migrations/sqlite/0025_audit_retention.sql: a row may be deleted only when
-- it is older than the cutoff the last retention prune recorded; updates and TRUNCATE stay
-- refused.
CREATE TABLE audit_retention (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    prune_before TEXT NOT NULL
);

CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_events is append-only: rows are never updated';
    END IF;
    IF TG_OP = 'DELETE' AND OLD.time < COALESCE(
        (SELECT prune_before FROM audit_retention WHERE id = 1), '') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: rows are deleted only by the retention prune';
END;
$$;
