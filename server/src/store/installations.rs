//! Installations (Apply Changes runs), their logs and Director tasks, and the deployed layer of
//! each product. JSON columns are written and read by the installations service
//! (`crate::installations`), which is the only caller; sealing happens there too.

use sqlx::AnyPool;

use super::changes::announce;
use super::Backend;
use crate::Result;

/// One installation.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InstallationRow {
    pub id: i64,
    pub status: String,
    pub user_name: String,
    pub request: String,
    pub products: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub result: Option<String>,
}

/// A Director task started by an installation.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskRow {
    pub installation_id: i64,
    pub task_id: i64,
    pub product_guid: String,
    pub description: String,
    pub state: String,
}

/// The deployed snapshot of one product (or of the Director tile).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeployedRow {
    pub guid: String,
    pub name: String,
    pub version: String,
    pub settings: Vec<u8>,
    pub manifest: String,
    pub installation_id: i64,
    pub deployed_at: String,
}

/// The outcome of trying to start an installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// Created with this id.
    Created(i64),
    /// Another installation is running (its id).
    Busy(i64),
}

const COLUMNS: &str = "id, status, user_name, request, products, started_at, finished_at, result";

pub struct Installations<'a> {
    pool: &'a AnyPool,
    /// For announcing changes to other replicas (`super::changes`).
    backend: Backend,
}

impl<'a> Installations<'a> {
    pub(super) fn new(pool: &'a AnyPool, backend: Backend) -> Self {
        Installations { pool, backend }
    }

    /// Inserts a `running` installation unless one is running already (the unique index on
    /// running rows makes this safe against two requests at once, on one replica or several):
    /// the Apply Changes lock, held by `holder` (a replica id) until `lease_until_ms`.
    pub async fn start(
        &self,
        user_name: &str,
        request: &str,
        products: &str,
        started_at: &str,
        holder: &str,
        lease_until_ms: i64,
    ) -> Result<Started> {
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO installations
                    (status, user_name, request, products, started_at, holder, lease_until_ms)
             VALUES ('running', $1, $2, $3, $4, $5, $6)
             ON CONFLICT DO NOTHING
             RETURNING id",
        )
        .bind(user_name)
        .bind(request)
        .bind(products)
        .bind(started_at)
        .bind(holder)
        .bind(lease_until_ms)
        .fetch_optional(self.pool)
        .await?;
        match inserted {
            Some(id) => Ok(Started::Created(id)),
            None => {
                let running: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM installations WHERE status = 'running'")
                        .fetch_optional(self.pool)
                        .await?;
                // It may have finished in between: report it anyway, the caller retries.
                Ok(Started::Busy(running.unwrap_or(0)))
            }
        }
    }

    pub async fn get(&self, id: i64) -> Result<Option<InstallationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM installations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Newest first.
    pub async fn list(&self) -> Result<Vec<InstallationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM installations ORDER BY id DESC"
        ))
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn running(&self) -> Result<Vec<InstallationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM installations WHERE status = 'running' ORDER BY id"
        ))
        .fetch_all(self.pool)
        .await?)
    }

    /// The running installation's id, if one runs (on any replica).
    pub async fn running_id(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM installations WHERE status = 'running'")
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// Extends the lease of running installation `id` held by `holder`; `false` when it no
    /// longer runs under that holder (another replica found the lease run out and failed it).
    pub async fn renew_lease(&self, id: i64, holder: &str, lease_until_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE installations SET lease_until_ms = $3
              WHERE id = $1 AND holder = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(holder)
        .bind(lease_until_ms)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Fails the running installation whose holder is gone: its lease ran out before `now_ms`,
    /// or it has none (started before leases existed), or its holder is `restarted` (this
    /// replica's id, from before a restart). One statement, so of several replicas finding it
    /// at once exactly one fails it. In the same transaction each one's log ends with
    /// `explain(holder)`: a reader that sees the final status (another replica's events
    /// stream) finds the line that says why already stored. Returns the failed installations
    /// with their holders.
    pub async fn fail_abandoned(
        &self,
        now_ms: i64,
        restarted: Option<&str>,
        finished_at: &str,
        result: &str,
        explain: impl Fn(Option<&str>) -> String,
    ) -> Result<Vec<(i64, Option<String>)>> {
        let mut tx = self.pool.begin().await?;
        let failed: Vec<(i64, Option<String>)> = sqlx::query_as(
            "UPDATE installations SET status = 'failed', finished_at = $3, result = $4
              WHERE status = 'running'
                AND (lease_until_ms IS NULL OR lease_until_ms < $1 OR holder = $2)
             RETURNING id, holder",
        )
        .bind(now_ms)
        .bind(restarted)
        .bind(finished_at)
        .bind(result)
        .fetch_all(&mut *tx)
        .await?;
        for (id, holder) in &failed {
            sqlx::query(
                "INSERT INTO installation_logs (installation_id, seq, line)
                 SELECT $1, COALESCE(MAX(seq), 0) + 1, $2 FROM installation_logs
                  WHERE installation_id = $1",
            )
            .bind(id)
            .bind(explain(holder.as_deref()))
            .execute(&mut *tx)
            .await?;
            announce(&mut *tx, self.backend, *id).await?;
        }
        tx.commit().await?;
        Ok(failed)
    }

    pub async fn set_products(&self, id: i64, products: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE installations SET products = $1 WHERE id = $2")
            .bind(products)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        announce(&mut *tx, self.backend, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a running installation; `false` when it was not running.
    pub async fn finish(
        &self,
        id: i64,
        status: &str,
        finished_at: &str,
        result: Option<&str>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE installations SET status = $1, finished_at = $2, result = $3
              WHERE id = $4 AND status = 'running'",
        )
        .bind(status)
        .bind(finished_at)
        .bind(result)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        announce(&mut *tx, self.backend, id).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn append_log(&self, id: i64, seq: i64, line: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO installation_logs (installation_id, seq, line) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(seq)
        .bind(line)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Several numbered lines in one transaction: one commit (one fsync) for all the lines a
    /// busy installation wrote since the last store, so the stored log keeps up under load.
    /// A line already stored (a retry after an error that committed) is left as it is.
    pub async fn append_logs(&self, id: i64, lines: &[(i64, String)]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (seq, line) in lines {
            sqlx::query(
                "INSERT INTO installation_logs (installation_id, seq, line) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(seq)
            .bind(line)
            .execute(&mut *tx)
            .await?;
        }
        announce(&mut *tx, self.backend, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The log lines with their sequence numbers, from `after` on (exclusive).
    pub async fn log_lines(&self, id: i64, after: i64) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT seq, line FROM installation_logs
              WHERE installation_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(id)
        .bind(after)
        .fetch_all(self.pool)
        .await?)
    }

    /// The highest sequence number of a log (0 when empty).
    pub async fn last_seq(&self, id: i64) -> Result<i64> {
        let max: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM installation_logs WHERE installation_id = $1")
                .bind(id)
                .fetch_one(self.pool)
                .await?;
        Ok(max.unwrap_or(0))
    }

    pub async fn add_task(
        &self,
        id: i64,
        task_id: i64,
        product_guid: &str,
        description: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO installation_tasks (installation_id, task_id, product_guid, description)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(task_id)
        .bind(product_guid)
        .bind(description)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_task_state(&self, id: i64, task_id: i64, state: &str) -> Result<()> {
        sqlx::query(
            "UPDATE installation_tasks SET state = $1 WHERE installation_id = $2 AND task_id = $3",
        )
        .bind(state)
        .bind(id)
        .bind(task_id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Tasks whose end was never recorded (the process stopped while following them).
    pub async fn unfinished_tasks(&self) -> Result<Vec<TaskRow>> {
        Ok(sqlx::query_as(
            "SELECT installation_id, task_id, product_guid, description, state
               FROM installation_tasks
              WHERE state NOT IN ('done', 'error', 'cancelled', 'timeout')
              ORDER BY installation_id, task_id",
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Writes (or replaces) a product's deployed snapshot.
    pub async fn put_deployed(&self, row: &DeployedRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO deployed_products
                 (guid, name, version, settings, manifest, installation_id, deployed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (guid) DO UPDATE SET
                 name = excluded.name, version = excluded.version, settings = excluded.settings,
                 manifest = excluded.manifest, installation_id = excluded.installation_id,
                 deployed_at = excluded.deployed_at",
        )
        .bind(&row.guid)
        .bind(&row.name)
        .bind(&row.version)
        .bind(&row.settings)
        .bind(&row.manifest)
        .bind(row.installation_id)
        .bind(&row.deployed_at)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn deployed(&self) -> Result<Vec<DeployedRow>> {
        Ok(sqlx::query_as(
            "SELECT guid, name, version, settings, manifest, installation_id, deployed_at
               FROM deployed_products ORDER BY deployed_at, name",
        )
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn deployed_one(&self, guid: &str) -> Result<Option<DeployedRow>> {
        Ok(sqlx::query_as(
            "SELECT guid, name, version, settings, manifest, installation_id, deployed_at
               FROM deployed_products WHERE guid = $1",
        )
        .bind(guid)
        .fetch_optional(self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// Whoever sees the final status of an abandoned installation also finds the line that
    /// says why (one transaction), after the lines its holder stored; a live holder's lease and
    /// a finished installation are left alone.
    #[tokio::test]
    async fn an_abandoned_installation_is_failed_with_its_reason_in_one_step() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let installations = store.installations();
        let Started::Created(id) = installations
            .start("admin", "{}", "[]", "t0", "replica-a", 1_000)
            .await
            .unwrap()
        else {
            panic!("nothing else runs")
        };
        let lines = [(1, "t0 one".to_owned()), (2, "t0 two".to_owned())];
        installations.append_logs(id, &lines).await.unwrap();
        // A retried batch is stored once.
        installations.append_logs(id, &lines[1..]).await.unwrap();

        // The lease runs until 1,000 ms: at 999 it is alive.
        let why = |holder: Option<&str>| format!("t1 {} is gone", holder.unwrap_or("?"));
        assert!(installations
            .fail_abandoned(999, None, "t1", "gone", why)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            installations.get(id).await.unwrap().unwrap().status,
            "running"
        );

        let failed = installations
            .fail_abandoned(1_001, None, "t1", "gone", why)
            .await
            .unwrap();
        assert_eq!(failed, vec![(id, Some("replica-a".to_owned()))]);
        let row = installations.get(id).await.unwrap().unwrap();
        assert_eq!(row.status, "failed");
        assert_eq!(row.result.as_deref(), Some("gone"));
        assert_eq!(
            installations.log_lines(id, 0).await.unwrap(),
            vec![
                (1, "t0 one".to_owned()),
                (2, "t0 two".to_owned()),
                (3, "t1 replica-a is gone".to_owned())
            ]
        );
        // Failed once: a second look finds nothing to fail and writes nothing.
        assert!(installations
            .fail_abandoned(5_000, None, "t2", "gone", why)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(installations.last_seq(id).await.unwrap(), 3);
    }
}
