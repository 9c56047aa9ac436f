-- The PKS API (/pks/v1, server/src/http/pks.rs) names clusters: a cluster is a broker instance
-- with a name (unique) and the principal that created it ("own" clusters). Instances created
-- through the OSB API have neither.
ALTER TABLE broker_instances ADD COLUMN cluster_name TEXT;
ALTER TABLE broker_instances ADD COLUMN created_by TEXT;
CREATE UNIQUE INDEX broker_instances_cluster_name ON broker_instances (cluster_name)
    WHERE cluster_name IS NOT NULL;
