//! Claims on background work (`crate::claims`): one row per piece of work a replica runs, naming
//! the replica and the end of its lease. Times are Unix milliseconds.

use sqlx::AnyPool;

use crate::Result;

pub struct Claims<'a> {
    pool: &'a AnyPool,
}

impl<'a> Claims<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        Claims { pool }
    }

    /// Claims `kind`/`id` for `holder` until `until` when nobody holds it, its lease ran out
    /// before `now`, or (`or_holder`) `holder` held it already. One statement: of several
    /// replicas claiming at once exactly one gets it.
    pub async fn take(
        &self,
        kind: &str,
        id: i64,
        holder: &str,
        now: i64,
        until: i64,
        or_holder: bool,
    ) -> Result<bool> {
        let taken: Option<String> = sqlx::query_scalar(
            "INSERT INTO work_claims (kind, id, holder, lease_until_ms) VALUES ($1, $2, $3, $5)
             ON CONFLICT (kind, id) DO UPDATE SET holder = $3, lease_until_ms = $5
              WHERE work_claims.lease_until_ms < $4
                 OR (work_claims.holder = $3 AND $6 = 1)
             RETURNING holder",
        )
        .bind(kind)
        .bind(id)
        .bind(holder)
        .bind(now)
        .bind(until)
        .bind(i64::from(or_holder))
        .fetch_optional(self.pool)
        .await?;
        Ok(taken.is_some())
    }

    /// Extends `holder`'s lease on `kind`/`id`; `false` when it is no longer `holder`'s.
    pub async fn renew(&self, kind: &str, id: i64, holder: &str, until: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE work_claims SET lease_until_ms = $4
              WHERE kind = $1 AND id = $2 AND holder = $3",
        )
        .bind(kind)
        .bind(id)
        .bind(holder)
        .bind(until)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends `holder`'s claim on `kind`/`id` (the work ended).
    pub async fn release(&self, kind: &str, id: i64, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM work_claims WHERE kind = $1 AND id = $2 AND holder = $3")
            .bind(kind)
            .bind(id)
            .bind(holder)
            .execute(self.pool)
            .await?;
        Ok(())
    }
}
