-- The data generation (see migrations/sqlite/0027_data_generation.sql). On PostgreSQL nothing
-- moves it: several replicas write concurrently, and one counter row updated by every
-- transaction would serialise their writes and deadlock transactions that touch two tables in
-- opposite orders. The rendered-page cache is off on PostgreSQL (server/src/http/page_cache.rs);
-- the table exists so both backends have the same versions.
CREATE TABLE data_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO data_generation (id, n) VALUES (1, 0);
