-- PostgreSQL form of migrations/sqlite/0007_users_roles.sql.
ALTER TABLE users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
UPDATE users SET role = 'restricted_view' WHERE role = 'read_only';
UPDATE access_tokens SET role = 'restricted_view'
    WHERE role = 'read_only' AND subject_kind = 'user';

ALTER TABLE sessions ADD COLUMN user_id BIGINT;
UPDATE sessions SET user_id = (record::jsonb #>> '{data,user_id}')::BIGINT;
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE INDEX access_tokens_subject ON access_tokens (subject_kind, subject_name);
