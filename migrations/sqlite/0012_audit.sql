-- The audit trail (server/src/audit): every state-changing request, every credential reveal,
-- every sign-in and every refusal, recorded by the gate. Append-only: the triggers below refuse
-- UPDATE and DELETE, so nothing in Tileworks (nor a mistaken statement) can rewrite history.

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- When the answer was given, RFC 3339 UTC to the second ("2026-12-05T05:00:00Z"): the same
    -- width everywhere, so text comparison is time order.
    time TEXT NOT NULL,
    -- The user or API client (for a failed sign-in, the name that was typed; for the broker,
    -- its basic-auth user); NULL when nobody was identified.
    principal TEXT,
    role TEXT,
    -- The client's IP address.
    address TEXT,
    method TEXT NOT NULL,
    -- The route pattern the router matched ("/api/v0/staged/products/{guid}/properties").
    route TEXT NOT NULL,
    -- The path and query the request named.
    target TEXT NOT NULL,
    -- The HTTP status of the answer, and what it meant: success | failure | refused.
    status INTEGER NOT NULL,
    result TEXT NOT NULL,
    -- write | reveal | sign_in | sign_out | refusal
    kind TEXT NOT NULL,
    -- The request body as JSON with every credential value replaced by "[FILTERED]"
    -- (server/src/audit/filter.rs), or a note of what was left out (uploads); NULL without one.
    body TEXT
);

CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_principal ON audit_events (principal, id);
CREATE INDEX audit_events_kind ON audit_events (kind, id);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: rows are never updated');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: rows are never deleted');
END;
