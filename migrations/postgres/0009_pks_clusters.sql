-- PostgreSQL form of migrations/sqlite/0009_pks_clusters.sql.
ALTER TABLE broker_instances ADD COLUMN cluster_name TEXT;
ALTER TABLE broker_instances ADD COLUMN created_by TEXT;
CREATE UNIQUE INDEX broker_instances_cluster_name ON broker_instances (cluster_name)
    WHERE cluster_name IS NOT NULL;
