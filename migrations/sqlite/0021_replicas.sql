-- Several replicas on one database (issue 15): state that used to live in one process.
--
-- Failed logins per throttle key (`auth::throttle`): `account <name>`, `from <address> <name>`
-- or `address <address>`. Times are Unix milliseconds; rows past the window and unlocked are
-- swept when failures are recorded.
CREATE TABLE login_failures (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_at_ms      INTEGER NOT NULL,
    locked_until_ms INTEGER
);
CREATE INDEX login_failures_last_at ON login_failures (last_at_ms);

-- The Apply Changes lock is the running installation row (one at most, 0003's unique index);
-- it now names its holder (the replica running it, `--replica-id`) and carries a lease the
-- holder renews while it runs. A row whose lease ran out belongs to a replica that died: any
-- replica marks it failed.
ALTER TABLE installations ADD COLUMN holder TEXT;
ALTER TABLE installations ADD COLUMN lease_until_ms INTEGER;

-- Background work a replica runs (broker operations, fleet runs), claimed by one replica at a
-- time: `kind` and the work's id, the replica holding it and a lease it renews while it runs.
-- Another replica takes the work over only once the lease ran out (`crate::claims`).
CREATE TABLE work_claims (
    kind           TEXT NOT NULL,
    id             INTEGER NOT NULL,
    holder         TEXT NOT NULL,
    lease_until_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
