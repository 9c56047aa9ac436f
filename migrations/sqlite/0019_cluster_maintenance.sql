-- The catalog `maintenance_info.version` a cluster runs (server/src/broker/instances.rs): an
-- operation records the version its manifest was rendered under, and a successful deploy
-- gives it to the instance. A cluster whose version is not the catalog's (the PKS tile was
-- upgraded and applied since) shows "Upgrade available". NULL: deployed before this column
-- existed or never deployed; compared as "not the catalog's", as the OSB platform does.
ALTER TABLE broker_instances ADD COLUMN maintenance_version TEXT;
ALTER TABLE broker_operations ADD COLUMN maintenance_version TEXT;
