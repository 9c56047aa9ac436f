-- PostgreSQL form of migrations/sqlite/0006_session_digests.sql.
DELETE FROM sessions;
