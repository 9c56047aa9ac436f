-- The job specs read at import from the release tarballs a `.pivotal` carries
-- (server/src/release_job_specs.rs), so Review Pending Changes and the pre-deploy check can
-- check rendered manifests against them without reopening the archive, and the job-spec
-- warnings the import found (shown by the import answer and the product's page). JSON:
-- {"specs": {"releases": [...]}, "unreadable": [...], "warnings": [...]}. NULL: bundled
-- tiles (their summaries are compiled in) and tiles imported before this column existed.
ALTER TABLE available_products ADD COLUMN job_specs TEXT;
