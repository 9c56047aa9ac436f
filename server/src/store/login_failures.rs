//! Failed logins per throttle key (`crate::auth::throttle` decides what a key is and when it
//! locks), in the database so every replica sharing it counts the same failures. Times are Unix
//! milliseconds.

use sqlx::AnyPool;

use crate::Result;

pub struct LoginFailures<'a> {
    pool: &'a AnyPool,
}

impl<'a> LoginFailures<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        LoginFailures { pool }
    }

    /// Until when `key` is locked (it may lie in the past), if it ever was.
    pub async fn locked_until(&self, key: &str) -> Result<Option<i64>> {
        let until: Option<Option<i64>> =
            sqlx::query_scalar("SELECT locked_until_ms FROM login_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(self.pool)
                .await?;
        Ok(until.flatten())
    }

    /// Whether `key` failed after `since`.
    pub async fn failed_since(&self, key: &str, since: i64) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT failures FROM login_failures
              WHERE key = $1 AND failures > 0 AND last_at_ms > $2",
        )
        .bind(key)
        .bind(since)
        .fetch_optional(self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Counts one failure of `key` at `now` (the count starting again when the last one was at
    /// or before `forget_before`); returns the count. One statement, so failures recorded at once
    /// by several replicas all count.
    pub async fn record(&self, key: &str, now: i64, forget_before: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO login_failures (key, failures, last_at_ms) VALUES ($1, 1, $2)
             ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN login_failures.last_at_ms <= $3 THEN 1
                                ELSE login_failures.failures + 1 END,
                last_at_ms = $2
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(forget_before)
        .fetch_one(self.pool)
        .await?)
    }

    /// Locks `key` until `until`, unless it is locked longer already (two replicas locking at
    /// once keep the longer lock).
    pub async fn lock(&self, key: &str, until: i64) -> Result<()> {
        sqlx::query(
            "UPDATE login_failures SET locked_until_ms = $2
              WHERE key = $1 AND (locked_until_ms IS NULL OR locked_until_ms < $2)",
        )
        .bind(key)
        .bind(until)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Forgets `key`'s failures and lock.
    pub async fn clear(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Deletes the keys whose last failure was at or before `forget_before` and that are not
    /// locked at `now`, so made-up names do not pile up.
    pub async fn sweep(&self, forget_before: i64, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM login_failures
              WHERE last_at_ms <= $1 AND (locked_until_ms IS NULL OR locked_until_ms <= $2)",
        )
        .bind(forget_before)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
