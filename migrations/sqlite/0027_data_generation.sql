-- The data generation: a counter every change to what pages show moves on, in the same
-- transaction as the change. The rendered-page cache (server/src/http/page_cache.rs) keys pages by
-- it, so a page is served from the cache only while nothing it could show has changed, whoever
-- wrote (a form, the API, an apply running in the background, an import).
--
-- Left out, because no cached page shows them and they change on most requests or many times a
-- second: sessions, login_failures, access_tokens (sign-ins), audit_events, audit_retention
-- (every write is audited), installation_logs (an apply's log lines), work_claims (lease
-- renewals), log_fetches. `store::generation`'s test fails when a table is neither here nor in
-- that list.
CREATE TABLE data_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO data_generation (id, n) VALUES (1, 0);

CREATE TRIGGER api_clients_insert_generation AFTER INSERT ON api_clients
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER api_clients_update_generation AFTER UPDATE ON api_clients
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER api_clients_delete_generation AFTER DELETE ON api_clients
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER available_products_insert_generation AFTER INSERT ON available_products
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER available_products_update_generation AFTER UPDATE ON available_products
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER available_products_delete_generation AFTER DELETE ON available_products
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_bindings_insert_generation AFTER INSERT ON broker_bindings
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_bindings_update_generation AFTER UPDATE ON broker_bindings
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_bindings_delete_generation AFTER DELETE ON broker_bindings
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_instances_insert_generation AFTER INSERT ON broker_instances
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_instances_update_generation AFTER UPDATE ON broker_instances
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_instances_delete_generation AFTER DELETE ON broker_instances
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_operations_insert_generation AFTER INSERT ON broker_operations
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_operations_update_generation AFTER UPDATE ON broker_operations
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_operations_delete_generation AFTER DELETE ON broker_operations
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER certificate_authorities_insert_generation AFTER INSERT ON certificate_authorities
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER certificate_authorities_update_generation AFTER UPDATE ON certificate_authorities
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER certificate_authorities_delete_generation AFTER DELETE ON certificate_authorities
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER config_changes_insert_generation AFTER INSERT ON config_changes
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER config_changes_update_generation AFTER UPDATE ON config_changes
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER config_changes_delete_generation AFTER DELETE ON config_changes
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER deployed_products_insert_generation AFTER INSERT ON deployed_products
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER deployed_products_update_generation AFTER UPDATE ON deployed_products
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER deployed_products_delete_generation AFTER DELETE ON deployed_products
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER director_config_insert_generation AFTER INSERT ON director_config
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER director_config_update_generation AFTER UPDATE ON director_config
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER director_config_delete_generation AFTER DELETE ON director_config
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER fleet_run_clusters_insert_generation AFTER INSERT ON fleet_run_clusters
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER fleet_run_clusters_update_generation AFTER UPDATE ON fleet_run_clusters
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER fleet_run_clusters_delete_generation AFTER DELETE ON fleet_run_clusters
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER fleet_runs_insert_generation AFTER INSERT ON fleet_runs
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER fleet_runs_update_generation AFTER UPDATE ON fleet_runs
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER fleet_runs_delete_generation AFTER DELETE ON fleet_runs
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER installation_tasks_insert_generation AFTER INSERT ON installation_tasks
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER installation_tasks_update_generation AFTER UPDATE ON installation_tasks
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER installation_tasks_delete_generation AFTER DELETE ON installation_tasks
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER installations_insert_generation AFTER INSERT ON installations
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER installations_update_generation AFTER UPDATE ON installations
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER installations_delete_generation AFTER DELETE ON installations
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER keyring_insert_generation AFTER INSERT ON keyring
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER keyring_update_generation AFTER UPDATE ON keyring
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER keyring_delete_generation AFTER DELETE ON keyring
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER sealed_settings_insert_generation AFTER INSERT ON sealed_settings
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER sealed_settings_update_generation AFTER UPDATE ON sealed_settings
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER sealed_settings_delete_generation AFTER DELETE ON sealed_settings
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER staged_deletions_insert_generation AFTER INSERT ON staged_deletions
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER staged_deletions_update_generation AFTER UPDATE ON staged_deletions
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER staged_deletions_delete_generation AFTER DELETE ON staged_deletions
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER staged_products_insert_generation AFTER INSERT ON staged_products
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER staged_products_update_generation AFTER UPDATE ON staged_products
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER staged_products_delete_generation AFTER DELETE ON staged_products
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER stemcell_assignments_insert_generation AFTER INSERT ON stemcell_assignments
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER stemcell_assignments_update_generation AFTER UPDATE ON stemcell_assignments
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER stemcell_assignments_delete_generation AFTER DELETE ON stemcell_assignments
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER stemcell_library_seeded_insert_generation AFTER INSERT ON stemcell_library_seeded
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER stemcell_library_seeded_update_generation AFTER UPDATE ON stemcell_library_seeded
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER stemcell_library_seeded_delete_generation AFTER DELETE ON stemcell_library_seeded
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER stemcells_insert_generation AFTER INSERT ON stemcells
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER stemcells_update_generation AFTER UPDATE ON stemcells
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER stemcells_delete_generation AFTER DELETE ON stemcells
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_insert_generation AFTER INSERT ON users
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_update_generation AFTER UPDATE ON users
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_delete_generation AFTER DELETE ON users
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER verifier_settings_insert_generation AFTER INSERT ON verifier_settings
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER verifier_settings_update_generation AFTER UPDATE ON verifier_settings
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER verifier_settings_delete_generation AFTER DELETE ON verifier_settings
BEGIN UPDATE data_generation SET n = n + 1 WHERE id = 1; END;
