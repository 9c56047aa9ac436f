-- PostgreSQL form of migrations/sqlite/0005_change_log_previous.sql.
ALTER TABLE config_changes ADD COLUMN previous TEXT;
