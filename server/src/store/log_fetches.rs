//! Instance log fetches (`crate::deployed::instance_logs`): one row per fetch, so every replica
//! answers its status and download. The replica fetching holds a lease it renews; a running
//! fetch whose lease ran out is failed by whoever looks ([`LogFetches::fail_abandoned`]), and
//! a holder that lost its fetch so cannot finish it ([`LogFetches::finish`] answers `false`).
//! Times are Unix milliseconds.

use sqlx::AnyPool;

use crate::Result;

/// A fetch as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LogFetchRow {
    pub id: String,
    pub guid: String,
    pub instance_group: String,
    pub instance_index: Option<i64>,
    pub log_types: String,
    pub user_name: String,
    /// `running`, `ready` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub file_name: String,
    /// The recorded path of the finished bundle.
    pub bundle: Option<String>,
    pub holder: String,
    pub lease_until_ms: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
}

const COLUMNS: &str = "id, guid, instance_group, instance_index, log_types, user_name, status, \
                       error, file_name, bundle, holder, lease_until_ms, started_at, finished_at";

pub struct LogFetches<'a> {
    pool: &'a AnyPool,
}

impl<'a> LogFetches<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        LogFetches { pool }
    }

    /// Records a new running fetch (its `status` is taken as `running`).
    pub async fn insert(&self, row: &LogFetchRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO log_fetches (id, guid, instance_group, instance_index, log_types,
                user_name, status, file_name, holder, lease_until_ms, started_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $10)",
        )
        .bind(&row.id)
        .bind(&row.guid)
        .bind(&row.instance_group)
        .bind(row.instance_index)
        .bind(&row.log_types)
        .bind(&row.user_name)
        .bind(&row.file_name)
        .bind(&row.holder)
        .bind(row.lease_until_ms)
        .bind(&row.started_at)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<LogFetchRow>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM log_fetches WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// Extends `holder`'s lease on running fetch `id`; `false` when it no longer runs under
    /// `holder` (another replica failed it when the lease had run out).
    pub async fn renew(&self, id: &str, holder: &str, until: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE log_fetches SET lease_until_ms = $3
              WHERE id = $1 AND holder = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(holder)
        .bind(until)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends `holder`'s running fetch `id`: `ready` with its `bundle`, or `failed` with `error`.
    /// `false` when it no longer runs under `holder`, whose bundle then belongs to nobody.
    pub async fn finish(
        &self,
        id: &str,
        holder: &str,
        outcome: std::result::Result<&str, &str>,
        finished_at: &str,
        now: i64,
    ) -> Result<bool> {
        let (status, bundle, error) = match outcome {
            Ok(bundle) => ("ready", Some(bundle), None),
            Err(error) => ("failed", None, Some(error)),
        };
        let done = sqlx::query(
            "UPDATE log_fetches SET status = $3, bundle = $4, error = $5, finished_at = $6,
                    finished_ms = $7
              WHERE id = $1 AND holder = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(holder)
        .bind(status)
        .bind(bundle)
        .bind(error)
        .bind(finished_at)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Fails fetch `id` if it still runs and its lease ran out before `now` (its replica died),
    /// or its holder is `restarted` (this replica, at its start: what it ran before is gone);
    /// `why` is told the holder. One statement, so of several replicas looking one fails it.
    pub async fn fail_abandoned(
        &self,
        id: &str,
        now: i64,
        restarted: Option<&str>,
        finished_at: &str,
        why: impl Fn(&str) -> String,
    ) -> Result<bool> {
        let Some(row) = self.get(id).await? else {
            return Ok(false);
        };
        if row.status != "running"
            || (row.lease_until_ms >= now && restarted != Some(row.holder.as_str()))
        {
            return Ok(false);
        }
        // The holder and lease read above must still be the row's: a renewal in between
        // means the holder lives.
        let done = sqlx::query(
            "UPDATE log_fetches SET status = 'failed', error = $4, finished_at = $5,
                    finished_ms = $6
              WHERE id = $1 AND status = 'running' AND holder = $2 AND lease_until_ms = $3",
        )
        .bind(id)
        .bind(&row.holder)
        .bind(row.lease_until_ms)
        .bind(why(&row.holder))
        .bind(finished_at)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The running fetches `holder` held (at a restart under the same `--replica-id`).
    pub async fn running_of(&self, holder: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM log_fetches WHERE status = 'running' AND holder = $1",
        )
        .bind(holder)
        .fetch_all(self.pool)
        .await?)
    }

    /// Finished fetches to forget: those that finished before `finished_before`, and all but
    /// the newest `keep` finished ones. Running ones are never listed.
    pub async fn expired(&self, finished_before: i64, keep: i64) -> Result<Vec<LogFetchRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM log_fetches
              WHERE finished_ms IS NOT NULL
                AND (finished_ms < $1 OR id NOT IN (
                      SELECT id FROM log_fetches WHERE finished_ms IS NOT NULL
                       ORDER BY finished_ms DESC, id DESC LIMIT $2))"
        ))
        .bind(finished_before)
        .bind(keep)
        .fetch_all(self.pool)
        .await?)
    }

    /// Forgets every fetch (an export's copy of the database, which carries no bundles).
    pub async fn delete_all(&self) -> Result<()> {
        sqlx::query("DELETE FROM log_fetches")
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Forgets fetch `id` (after its bundle went).
    pub async fn delete(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM log_fetches WHERE id = $1")
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn running(id: &str, holder: &str, lease_until_ms: i64) -> LogFetchRow {
        LogFetchRow {
            id: id.into(),
            guid: "p-guid".into(),
            instance_group: "web".into(),
            instance_index: Some(0),
            log_types: "job".into(),
            user_name: "admin".into(),
            status: "running".into(),
            error: None,
            file_name: "dep-web-0.tgz".into(),
            bundle: None,
            holder: holder.into(),
            lease_until_ms,
            started_at: "t0".into(),
            finished_at: None,
        }
    }

    /// A live lease is left alone, a lapsed one is failed once with the holder named, and the
    /// holder that lost it can neither renew nor finish it.
    #[tokio::test]
    async fn a_fetch_whose_holder_stopped_renewing_is_failed_once_and_stays_failed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let fetches = store.log_fetches();
        fetches
            .insert(&running("f1", "replica-a", 1_000))
            .await
            .unwrap();
        let why = |holder: &str| format!("{holder} stopped");

        assert!(!fetches
            .fail_abandoned("f1", 999, None, "t1", why)
            .await
            .unwrap());
        assert!(fetches.renew("f1", "replica-a", 2_000).await.unwrap());
        assert!(!fetches
            .fail_abandoned("f1", 1_500, None, "t1", why)
            .await
            .unwrap());
        assert!(fetches
            .fail_abandoned("f1", 2_001, None, "t2", why)
            .await
            .unwrap());
        let row = fetches.get("f1").await.unwrap().unwrap();
        assert_eq!(row.status, "failed");
        assert_eq!(row.error.as_deref(), Some("replica-a stopped"));
        assert_eq!(row.finished_at.as_deref(), Some("t2"));
        assert!(!fetches
            .fail_abandoned("f1", 9_000, None, "t3", why)
            .await
            .unwrap());
        assert!(!fetches.renew("f1", "replica-a", 10_000).await.unwrap());
        assert!(!fetches
            .finish("f1", "replica-a", Ok("/logs/f1.tgz"), "t4", 4)
            .await
            .unwrap());
        assert_eq!(fetches.get("f1").await.unwrap().unwrap().bundle, None);

        // A restarted holder fails what it ran, whatever the lease says; others are left.
        fetches
            .insert(&running("f2", "replica-a", 50_000))
            .await
            .unwrap();
        fetches
            .insert(&running("f3", "replica-b", 50_000))
            .await
            .unwrap();
        assert_eq!(fetches.running_of("replica-a").await.unwrap(), ["f2"]);
        assert!(fetches
            .fail_abandoned("f2", 10, Some("replica-a"), "t5", why)
            .await
            .unwrap());
        assert!(!fetches
            .fail_abandoned("f3", 10, Some("replica-a"), "t5", why)
            .await
            .unwrap());
        assert!(fetches
            .finish("f3", "replica-b", Ok("/logs/f3.tgz"), "t6", 6)
            .await
            .unwrap());
        let done = fetches.get("f3").await.unwrap().unwrap();
        assert_eq!(
            (done.status.as_str(), done.bundle.as_deref()),
            ("ready", Some("/logs/f3.tgz"))
        );
    }

    #[tokio::test]
    async fn the_oldest_and_the_surplus_finished_fetches_expire_never_running_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let fetches = store.log_fetches();
        fetches
            .insert(&running("run", "r", 1_000_000))
            .await
            .unwrap();
        for n in 0..4i64 {
            let id = format!("done{n}");
            fetches.insert(&running(&id, "r", 1_000_000)).await.unwrap();
            // done0 finished last (newest), done3 first.
            let at = 100 - n;
            fetches.finish(&id, "r", Ok("b"), "t", at).await.unwrap();
        }
        let ids = |rows: Vec<LogFetchRow>| {
            let mut ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
            ids.sort();
            ids
        };
        assert_eq!(
            ids(fetches.expired(0, 2).await.unwrap()),
            ["done2", "done3"]
        );
        assert_eq!(
            ids(fetches.expired(99, 10).await.unwrap()),
            ["done2", "done3"]
        );
        assert_eq!(
            ids(fetches.expired(1_000, 10).await.unwrap()),
            ["done0", "done1", "done2", "done3"]
        );
        fetches.delete("done3").await.unwrap();
        assert_eq!(ids(fetches.expired(0, 2).await.unwrap()), ["done2"]);
    }
}
