-- Users can be disabled (they cannot log in; their sessions and tokens end) without being
-- removed. Users created as `read_only` by earlier versions get that role's current name.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
UPDATE users SET role = 'restricted_view' WHERE role = 'read_only';
UPDATE access_tokens SET role = 'restricted_view'
    WHERE role = 'read_only' AND subject_kind = 'user';

-- Whose session a row is, so a password or role change, a disable or a delete ends that user's
-- sessions at once. Filled from the record for the sessions already stored.
ALTER TABLE sessions ADD COLUMN user_id INTEGER;
UPDATE sessions SET user_id = json_extract(record, '$.data.user_id');
CREATE INDEX sessions_user_id ON sessions (user_id);

-- Tokens are ended by subject (a revoked client, a changed user).
CREATE INDEX access_tokens_subject ON access_tokens (subject_kind, subject_name);
