-- Session ids are stored as SHA-256 digests (`sessions.id` now holds the digest, and the record
-- JSON no longer carries the id), so a copy of the database opens no session. Rows written
-- before hold the id itself: they are removed, which signs those browsers out once.
DELETE FROM sessions;
