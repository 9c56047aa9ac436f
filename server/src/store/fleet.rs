//! Fleet runs and their clusters' state (migrations/0016_fleet_runs.sql). The enum columns and
//! the options' JSON are written and read by `crate::broker::fleet`, the only caller.

use sqlx::AnyPool;

use crate::Result;

/// One fleet run.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FleetRunRow {
    pub id: i64,
    pub kind: String,
    pub options: String,
    pub state: String,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
}

/// One cluster of a run, at its `position` in the run's order.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FleetClusterRow {
    pub run_id: i64,
    pub position: i64,
    pub instance_id: String,
    pub deployment: String,
    pub cluster_name: Option<String>,
    #[sqlx(try_from = "crate::store::Flag")]
    pub canary: bool,
    pub state: String,
    pub attempts: i64,
    pub operation_id: Option<i64>,
    pub task_id: Option<i64>,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

const RUN_COLUMNS: &str = "id, kind, options, state, started_by, started_at, finished_at, error";
const CLUSTER_COLUMNS: &str = "run_id, position, instance_id, deployment, cluster_name, canary, \
     state, attempts, operation_id, task_id, error, started_at, finished_at";

/// The states of a run that has not ended.
const UNFINISHED: &str = "('pending', 'in_progress')";

pub struct Fleet<'a> {
    pool: &'a AnyPool,
}

impl<'a> Fleet<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        Fleet { pool }
    }

    /// Records a new run and its clusters unless a run has not ended: the new run's id, or
    /// `Err` with the unfinished run's row. One transaction; the caller serializes starts
    /// within the process (one Tileworks process owns a data dir).
    pub async fn begin(
        &self,
        run: &FleetRunRow,
        clusters: &[FleetClusterRow],
    ) -> Result<std::result::Result<i64, FleetRunRow>> {
        // The check reads outside the transaction: a deferred transaction that reads and then
        // writes cannot wait for another writer in WAL mode ("database is locked"); the
        // transaction below starts with its write instead.
        if let Some(busy) = sqlx::query_as::<_, FleetRunRow>(&format!(
            "SELECT {RUN_COLUMNS} FROM fleet_runs WHERE state IN {UNFINISHED} ORDER BY id LIMIT 1"
        ))
        .fetch_optional(self.pool)
        .await?
        {
            return Ok(Err(busy));
        }
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO fleet_runs (kind, options, state, started_by, started_at, finished_at,
             error) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&run.kind)
        .bind(&run.options)
        .bind(&run.state)
        .bind(&run.started_by)
        .bind(&run.started_at)
        .bind(&run.finished_at)
        .bind(&run.error)
        .fetch_one(&mut *tx)
        .await?;
        for c in clusters {
            sqlx::query(&format!(
                "INSERT INTO fleet_run_clusters ({CLUSTER_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ))
            .bind(id)
            .bind(c.position)
            .bind(&c.instance_id)
            .bind(&c.deployment)
            .bind(&c.cluster_name)
            .bind(i64::from(c.canary))
            .bind(&c.state)
            .bind(c.attempts)
            .bind(c.operation_id)
            .bind(c.task_id)
            .bind(&c.error)
            .bind(&c.started_at)
            .bind(&c.finished_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// Writes a run's state, end and error.
    pub async fn set_run(
        &self,
        id: i64,
        state: &str,
        finished_at: Option<&str>,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE fleet_runs SET state = $1, finished_at = $2, error = $3 WHERE id = $4")
            .bind(state)
            .bind(finished_at)
            .bind(error)
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Writes one cluster's state (every column but its identity).
    pub async fn set_cluster(&self, c: &FleetClusterRow) -> Result<()> {
        sqlx::query(
            "UPDATE fleet_run_clusters SET state = $1, attempts = $2, operation_id = $3,
             task_id = $4, error = $5, started_at = $6, finished_at = $7
             WHERE run_id = $8 AND position = $9",
        )
        .bind(&c.state)
        .bind(c.attempts)
        .bind(c.operation_id)
        .bind(c.task_id)
        .bind(&c.error)
        .bind(&c.started_at)
        .bind(&c.finished_at)
        .bind(c.run_id)
        .bind(c.position)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn run(&self, id: i64) -> Result<Option<FleetRunRow>> {
        Ok(sqlx::query_as::<_, FleetRunRow>(&format!(
            "SELECT {RUN_COLUMNS} FROM fleet_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// The newest `limit` runs, newest first.
    pub async fn runs(&self, limit: i64) -> Result<Vec<FleetRunRow>> {
        Ok(sqlx::query_as::<_, FleetRunRow>(&format!(
            "SELECT {RUN_COLUMNS} FROM fleet_runs ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool)
        .await?)
    }

    /// Runs that have not ended (after a restart: the ones to resume or fail).
    pub async fn unfinished(&self) -> Result<Vec<FleetRunRow>> {
        Ok(sqlx::query_as::<_, FleetRunRow>(&format!(
            "SELECT {RUN_COLUMNS} FROM fleet_runs WHERE state IN {UNFINISHED} ORDER BY id"
        ))
        .fetch_all(self.pool)
        .await?)
    }

    /// A run's clusters in the run's order.
    pub async fn clusters(&self, run_id: i64) -> Result<Vec<FleetClusterRow>> {
        Ok(sqlx::query_as::<_, FleetClusterRow>(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM fleet_run_clusters WHERE run_id = $1 ORDER BY position"
        ))
        .bind(run_id)
        .fetch_all(self.pool)
        .await?)
    }

    /// Forgets ended runs beyond the newest `keep` (their clusters go with them).
    pub async fn prune(&self, keep: i64) -> Result<()> {
        sqlx::query(&format!(
            "DELETE FROM fleet_runs WHERE state NOT IN {UNFINISHED}
             AND id NOT IN (SELECT id FROM fleet_runs ORDER BY id DESC LIMIT $1)"
        ))
        .bind(keep)
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
