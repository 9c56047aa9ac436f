-- What a refused stale save tells its operator needs the values before each save, not only the
-- names it changed: per change-log entry, reference → the value before the save (JSON object).
-- Credentials are never written here (their entries are absent); older rows have NULL.
ALTER TABLE config_changes ADD COLUMN previous TEXT;
