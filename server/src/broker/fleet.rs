//! Fleet operations: one operation on every cluster the broker knows — ODB's
//! `upgrade-all-service-instances` and `recreate-all-service-instances` errands and PKS's
//! `delete-all-clusters` (bosh-cfcr-pks-odb.md §4.10).
//!
//! A run goes through the instances oldest first: the `canaries` first (at most
//! `max_in_flight` of them at once), and only if every canary succeeded the rest,
//! `max_in_flight` at a time. Each cluster is one broker operation (upgrade, recreate or
//! delete, the same ones the management API and the OSB API start), tried up to `attempts`
//! times: an instance busy with another operation, or an operation that failed, is tried again
//! after a pause. The run fails if any cluster failed, and its error names every one of them
//! (ODB's own errand once exited 0 after failures; this one never does).
//!
//! Runs and each cluster's state are stored (`store::fleet`, migration 0016) as they change, so
//! the API and the installation log show them live and they outlive a restart; one run at a
//! time. After a restart ([`Broker::recover_fleet_runs`]) a run started through the API is
//! resumed: a cluster whose operation was under way is judged by that operation's end (the
//! runner follows it again; one the restart killed counts as a failed attempt and is retried),
//! pending clusters run as before. A run the PKS tile's errand started during Apply Changes is
//! marked failed, because that Apply Changes ended with the restart; so is any run while PKS is
//! no longer deployed.

use crate::claims::FLEET_RUN;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::catalog::{BrokerConfig, INSTANCE_PREFIX, PKS_PRODUCT};
use super::operations::OperationToken;
use super::{now, Broker, Deprovision};
use crate::installations::errand_runners::{ErrandLog, ErrandRunner};
use crate::store::broker::InstanceRow;
use crate::store::fleet::{FleetClusterRow, FleetRunRow};
use crate::{Error, Result};

/// What a fleet run does to each cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FleetKind {
    /// Re-render with the current catalog and deploy (`upgrade-all-service-instances`).
    Upgrade,
    /// Deploy again, every VM recreated (`recreate-all-service-instances`).
    Recreate,
    /// Delete, pre-delete errands first (`delete-all-clusters`).
    Delete,
}

impl FleetKind {
    /// The errand that runs this kind of fleet operation in the PKS tile.
    pub fn errand(self) -> &'static str {
        match self {
            FleetKind::Upgrade => "upgrade-all-service-instances",
            FleetKind::Recreate => "recreate-all-service-instances",
            FleetKind::Delete => "delete-all-clusters",
        }
    }

    /// The kind an errand of the PKS tile runs, if it is a fleet errand.
    pub fn of_errand(errand: &str) -> Option<FleetKind> {
        [FleetKind::Upgrade, FleetKind::Recreate, FleetKind::Delete]
            .into_iter()
            .find(|k| k.errand() == errand)
    }

    fn verb(self) -> &'static str {
        match self {
            FleetKind::Upgrade => "upgrade",
            FleetKind::Recreate => "recreate",
            FleetKind::Delete => "delete",
        }
    }
}

/// How a run proceeds (ODB's errand properties `canaries`, `max_in_flight`, `attempt_limit`,
/// `attempt_interval_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetOptions {
    pub canaries: u32,
    pub max_in_flight: u32,
    pub attempts: u32,
    /// Pause before trying a cluster again, in milliseconds.
    pub attempt_interval_ms: u64,
}

impl Default for FleetOptions {
    /// The PKS tile's errand settings: one cluster at a time, no canaries, 5 attempts.
    fn default() -> Self {
        FleetOptions {
            canaries: 0,
            max_in_flight: 1,
            attempts: 5,
            attempt_interval_ms: 1000,
        }
    }
}

impl FleetOptions {
    /// Refuses options a run cannot use, naming the field (422).
    pub fn check(&self) -> Result<()> {
        if self.max_in_flight == 0 {
            return Err(Error::invalid("max_in_flight", "must be at least 1"));
        }
        if self.attempts == 0 {
            return Err(Error::invalid("attempts", "must be at least 1"));
        }
        if self.attempt_interval_ms > 600_000 {
            return Err(Error::invalid(
                "attempt_interval_ms",
                "must be at most 600000 (10 minutes)",
            ));
        }
        Ok(())
    }
}

/// Where a run, or one cluster of it, stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetState {
    Pending,
    InProgress,
    Succeeded,
    Failed,
    /// Not tried: a canary failed first.
    Skipped,
}

/// One cluster of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterProgress {
    pub instance_id: String,
    pub deployment: String,
    /// The PKS cluster name, for clusters created through the PKS API.
    pub cluster_name: Option<String>,
    pub canary: bool,
    pub state: FleetState,
    /// Attempts made so far.
    pub attempts: u32,
    /// The broker operation of the latest attempt, and its Director task.
    pub operation_id: Option<i64>,
    pub task_id: Option<u64>,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// A fleet run as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetRun {
    pub id: u64,
    pub kind: FleetKind,
    pub options: FleetOptions,
    pub state: FleetState,
    /// Who started it (a user, a client, or `apply-changes` for the errand).
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Why it failed: every failed cluster, named.
    pub error: Option<String>,
    pub clusters: Vec<ClusterProgress>,
}

impl FleetRun {
    /// The deployments that failed.
    pub fn failed(&self) -> Vec<&ClusterProgress> {
        self.clusters
            .iter()
            .filter(|c| c.state == FleetState::Failed)
            .collect()
    }
}

/// Who starts runs when Apply Changes runs a fleet errand.
const APPLY_CHANGES: &str = "apply-changes";

/// Starts of fleet runs, one at a time within the process (the store's check that no run is
/// unfinished and the insert must not interleave).
#[derive(Default)]
pub struct FleetRuns {
    begin: tokio::sync::Mutex<()>,
}

/// Runs kept for the API once ended (older ones are forgotten).
const KEPT_RUNS: i64 = 20;

/// An enum's serde name (the text the store keeps).
fn name_of<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// An enum from its serde name; a name this build does not know is the store's inconsistency.
fn parse_name<T: DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_value(Value::String(text.to_owned()))
        .map_err(|_| Error::Internal(format!("stored fleet run {what} {text:?} is unknown")))
}

fn cluster_row(run_id: u64, position: usize, c: &ClusterProgress) -> FleetClusterRow {
    FleetClusterRow {
        run_id: i64::try_from(run_id).unwrap_or(i64::MAX),
        position: i64::try_from(position).unwrap_or(i64::MAX),
        instance_id: c.instance_id.clone(),
        deployment: c.deployment.clone(),
        cluster_name: c.cluster_name.clone(),
        canary: c.canary,
        state: name_of(c.state),
        attempts: i64::from(c.attempts),
        operation_id: c.operation_id,
        task_id: c.task_id.and_then(|t| i64::try_from(t).ok()),
        error: c.error.clone(),
        started_at: c.started_at.clone(),
        finished_at: c.finished_at.clone(),
    }
}

fn progress_of(row: FleetClusterRow) -> Result<ClusterProgress> {
    Ok(ClusterProgress {
        instance_id: row.instance_id,
        deployment: row.deployment,
        cluster_name: row.cluster_name,
        canary: row.canary,
        state: parse_name("cluster state", &row.state)?,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        operation_id: row.operation_id,
        task_id: row.task_id.and_then(|t| u64::try_from(t).ok()),
        error: row.error,
        started_at: row.started_at,
        finished_at: row.finished_at,
    })
}

impl Broker {
    /// A stored run with its clusters.
    async fn stored_run(&self, row: FleetRunRow) -> Result<FleetRun> {
        let clusters = self
            .store()
            .fleet()
            .clusters(row.id)
            .await?
            .into_iter()
            .map(progress_of)
            .collect::<Result<Vec<_>>>()?;
        let options: FleetOptions = serde_json::from_str(&row.options)
            .map_err(|e| Error::Internal(format!("stored fleet run {} options: {e}", row.id)))?;
        Ok(FleetRun {
            id: u64::try_from(row.id).unwrap_or(0),
            kind: parse_name("kind", &row.kind)?,
            options,
            state: parse_name("state", &row.state)?,
            started_by: row.started_by,
            started_at: row.started_at,
            finished_at: row.finished_at,
            error: row.error,
            clusters,
        })
    }

    /// Registers a run unless one has not ended (409 naming it); its id.
    async fn begin_run(&self, run: &FleetRun) -> Result<u64> {
        let _one = self.inner.fleet.begin.lock().await;
        let fleet = self.store().fleet();
        let row = FleetRunRow {
            id: 0,
            kind: name_of(run.kind),
            options: serde_json::to_string(&run.options)
                .map_err(|e| Error::Internal(format!("fleet options: {e}")))?,
            state: name_of(run.state),
            started_by: run.started_by.clone(),
            started_at: run.started_at.clone(),
            finished_at: None,
            error: None,
        };
        let clusters: Vec<FleetClusterRow> = run
            .clusters
            .iter()
            .enumerate()
            .map(|(i, c)| cluster_row(0, i, c))
            .collect();
        match fleet.begin(&row, &clusters).await? {
            Ok(id) => {
                fleet.prune(KEPT_RUNS).await?;
                Ok(u64::try_from(id).unwrap_or(0))
            }
            Err(busy) => Err(Error::Refused(format!(
                "fleet run {} ({}) is in progress; one fleet operation runs at a time",
                busy.id,
                parse_name::<FleetKind>("kind", &busy.kind)
                    .map(FleetKind::errand)
                    .unwrap_or("fleet operation")
            ))),
        }
    }

    /// Changes a run's state, end or error and stores it.
    async fn update_fleet_run(&self, id: u64, change: impl FnOnce(&mut FleetRun)) -> Result<()> {
        let mut run = self.fleet_run(id).await?;
        change(&mut run);
        self.store()
            .fleet()
            .set_run(
                i64::try_from(id).unwrap_or(i64::MAX),
                &name_of(run.state),
                run.finished_at.as_deref(),
                run.error.as_deref(),
            )
            .await
    }

    /// Changes one cluster of a run and stores it. A store error is logged, not returned: the
    /// cluster's operation goes on, and the run's outcome is still computed from what is stored.
    async fn update_run_cluster(
        &self,
        id: u64,
        index: usize,
        change: impl FnOnce(&mut ClusterProgress),
    ) {
        let fleet = self.store().fleet();
        let rows = match fleet.clusters(i64::try_from(id).unwrap_or(i64::MAX)).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(fleet_run = id, error = %e, "reading a fleet run's cluster");
                return;
            }
        };
        let Some(row) = rows.into_iter().nth(index) else {
            return;
        };
        let mut cluster = match progress_of(row) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(fleet_run = id, error = %e, "reading a fleet run's cluster");
                return;
            }
        };
        change(&mut cluster);
        if let Err(e) = fleet.set_cluster(&cluster_row(id, index, &cluster)).await {
            tracing::error!(fleet_run = id, error = %e, "recording a fleet run's cluster");
        }
    }
}

/// Where a run writes its progress lines (the installation log for an errand).
pub type Progress = Arc<dyn Fn(String) + Send + Sync>;

impl Broker {
    /// Starts a fleet run in the background against the deployed broker; the run as it
    /// begins (every cluster pending). 404 while PKS is not deployed, 409 while a run is in
    /// progress, 422 for unusable options.
    pub async fn start_fleet(
        &self,
        kind: FleetKind,
        options: FleetOptions,
        started_by: &str,
    ) -> Result<FleetRun> {
        options.check()?;
        let config = self.deployed().await?;
        let id = self.begin_fleet(kind, options, started_by).await?;
        let broker = self.clone();
        tokio::spawn(async move {
            let quiet: Progress = Arc::new(|_| {});
            let _ = broker.drive_fleet(id, config, quiet).await;
        });
        self.fleet_run(id).await
    }

    /// Runs a fleet operation to its end (the errands): `Err` naming every failed cluster.
    pub async fn run_fleet(
        &self,
        kind: FleetKind,
        options: FleetOptions,
        config: Arc<BrokerConfig>,
        started_by: &str,
        progress: Progress,
    ) -> Result<FleetRun> {
        options.check()?;
        let id = self.begin_fleet(kind, options, started_by).await?;
        self.drive_fleet(id, config, progress).await
    }

    /// A stored run, or 404.
    pub async fn fleet_run(&self, id: u64) -> Result<FleetRun> {
        let row = match i64::try_from(id) {
            Ok(id) => self.store().fleet().run(id).await?,
            Err(_) => None,
        };
        match row {
            Some(row) => self.stored_run(row).await,
            None => Err(Error::NotFound(format!("fleet run {id}"))),
        }
    }

    /// The newest stored run, if any (the Clusters page's progress line).
    pub async fn latest_fleet_run(&self) -> Result<Option<FleetRun>> {
        match self.store().fleet().runs(1).await?.into_iter().next() {
            Some(row) => Ok(Some(self.stored_run(row).await?)),
            None => Ok(None),
        }
    }

    /// The stored runs, newest first.
    pub async fn fleet_runs(&self) -> Result<Vec<FleetRun>> {
        let mut out = Vec::new();
        for row in self.store().fleet().runs(KEPT_RUNS).await? {
            out.push(self.stored_run(row).await?);
        }
        Ok(out)
    }

    /// After a restart (once [`Broker::recover`] follows the operations again): every run that
    /// had not ended is resumed in the background if it was started through the API and PKS is
    /// still deployed, and marked failed otherwise, saying why.
    pub async fn recover_fleet_runs(&self) -> Result<()> {
        self.take_over_fleet_runs(true).await
    }

    /// [`Broker::recover_fleet_runs`] for the runs no live replica drives: `at_start`, also this
    /// replica's own from before a restart; otherwise those whose claim ran out
    /// (`crate::claims`).
    pub(super) async fn take_over_fleet_runs(&self, at_start: bool) -> Result<()> {
        let claims = self.claims();
        for row in self.store().fleet().unfinished().await? {
            let taken = if at_start {
                claims.take_at_start(FLEET_RUN, row.id).await?
            } else {
                claims.take(FLEET_RUN, row.id).await?
            };
            if !taken {
                continue; // another replica drives it
            }
            let row_id = row.id;
            let id = u64::try_from(row.id).unwrap_or(0);
            let why = if row.started_by == APPLY_CHANGES {
                Some(
                    "Tileworks restarted during the run; the Apply Changes that ran this errand \
                     ended with it",
                )
            } else {
                None
            };
            let config = match why {
                Some(_) => None,
                None => self.config().await?,
            };
            match (why, config) {
                (None, Some(config)) => {
                    tracing::info!(fleet_run = id, "resuming a fleet run after a restart");
                    let broker = self.clone();
                    tokio::spawn(async move {
                        let quiet: Progress = Arc::new(|_| {});
                        let _ = broker.drive_fleet(id, config, quiet).await;
                    });
                }
                (why, _) => {
                    let why = why.unwrap_or(
                        "Tileworks restarted during the run and the PKS tile is no longer \
                         deployed",
                    );
                    tracing::warn!(fleet_run = id, "{why}");
                    let run = self.stored_run(row).await?;
                    for (i, c) in run.clusters.iter().enumerate() {
                        if matches!(c.state, FleetState::Pending | FleetState::InProgress) {
                            self.update_run_cluster(id, i, |c| {
                                c.state = FleetState::Failed;
                                c.error = Some(why.to_owned());
                                c.finished_at = Some(now());
                            })
                            .await;
                        }
                    }
                    self.update_fleet_run(id, |r| {
                        r.state = FleetState::Failed;
                        r.error = Some(format!("{}: {why}", r.kind.errand()));
                        r.finished_at = Some(now());
                    })
                    .await?;
                    claims.release(FLEET_RUN, row_id).await;
                }
            }
        }
        Ok(())
    }

    async fn begin_fleet(
        &self,
        kind: FleetKind,
        options: FleetOptions,
        started_by: &str,
    ) -> Result<u64> {
        let instances = self.store().broker().all_instances().await?;
        let canaries = usize::try_from(options.canaries).unwrap_or(usize::MAX);
        let clusters = instances
            .iter()
            .enumerate()
            .map(|(n, row)| pending(row, n < canaries))
            .collect();
        let id = self
            .begin_run(&FleetRun {
                id: 0,
                kind,
                options,
                state: FleetState::Pending,
                started_by: started_by.to_owned(),
                started_at: now(),
                finished_at: None,
                error: None,
                clusters,
            })
            .await?;
        // This replica drives it: no other takes it over while the claim is renewed.
        if !self
            .claims()
            .take(FLEET_RUN, i64::try_from(id).unwrap_or(i64::MAX))
            .await?
        {
            return Err(Error::Conflict(format!(
                "fleet run {id} is driven by another replica"
            )));
        }
        Ok(id)
    }

    /// Drives a fleet run (claimed by this replica) to its end, renewing the claim; stops if
    /// another replica took the claim over (that one drives it on).
    async fn drive_fleet(
        &self,
        id: u64,
        config: Arc<BrokerConfig>,
        progress: Progress,
    ) -> Result<FleetRun> {
        let claims = self.claims();
        let claim_id = i64::try_from(id).unwrap_or(i64::MAX);
        let mut keeper = claims.keep(FLEET_RUN, claim_id);
        let outcome = tokio::select! {
            outcome = self.drive_fleet_steps(id, config, progress) => outcome,
            () = keeper.lost() => {
                return Err(Error::Conflict(format!(
                    "fleet run {id} was taken over by another replica"
                )))
            }
        };
        drop(keeper);
        claims.release(FLEET_RUN, claim_id).await;
        outcome
    }

    async fn drive_fleet_steps(
        &self,
        id: u64,
        config: Arc<BrokerConfig>,
        progress: Progress,
    ) -> Result<FleetRun> {
        let run = self.fleet_run(id).await?;
        self.update_fleet_run(id, |r| r.state = FleetState::InProgress)
            .await?;
        let total = run.clusters.len();
        let canaries: Vec<usize> = (0..total).filter(|&i| run.clusters[i].canary).collect();
        let rest: Vec<usize> = (0..total).filter(|&i| !run.clusters[i].canary).collect();
        progress(format!(
            "{} of {} clusters: {} canar{} first, then {} at a time, {} attempt{} each",
            run.kind.verb(),
            total,
            canaries.len(),
            if canaries.len() == 1 { "y" } else { "ies" },
            run.options.max_in_flight,
            run.options.attempts,
            if run.options.attempts == 1 { "" } else { "s" },
        ));

        self.wave(id, &run, &config, &canaries, &progress).await;
        let canary_failed = self
            .fleet_run(id)
            .await?
            .clusters
            .iter()
            .any(|c| c.canary && c.state == FleetState::Failed);
        if canary_failed {
            progress("a canary failed; the other clusters are not touched".into());
            for &i in &rest {
                self.update_run_cluster(id, i, |c| c.state = FleetState::Skipped)
                    .await;
            }
        } else {
            self.wave(id, &run, &config, &rest, &progress).await;
        }

        let done = self.fleet_run(id).await?;
        let failed = done.failed();
        let error = (!failed.is_empty() || canary_failed).then(|| {
            let named: Vec<String> = failed
                .iter()
                .map(|c| {
                    format!(
                        "{}{}: {}",
                        c.deployment,
                        c.cluster_name
                            .as_deref()
                            .map(|n| format!(" (cluster {n})"))
                            .unwrap_or_default(),
                        c.error.as_deref().unwrap_or("failed")
                    )
                })
                .collect();
            let skipped = done
                .clusters
                .iter()
                .filter(|c| c.state == FleetState::Skipped)
                .count();
            format!(
                "{}: {} of {} clusters failed{}: {}",
                done.kind.errand(),
                failed.len(),
                total,
                if skipped > 0 {
                    format!(" ({skipped} not tried after a canary failed)")
                } else {
                    String::new()
                },
                named.join("; ")
            )
        });
        self.update_fleet_run(id, |r| {
            r.state = if error.is_some() {
                FleetState::Failed
            } else {
                FleetState::Succeeded
            };
            r.error = error.clone();
            r.finished_at = Some(now());
        })
        .await?;
        match &error {
            Some(e) => {
                progress(e.clone());
                tracing::warn!(fleet_run = id, "{e}");
                Err(Error::Director {
                    call: format!("errand {} (run by the broker)", done.kind.errand()),
                    status: None,
                    message: e.clone(),
                })
            }
            None => {
                progress(format!(
                    "{}: all {total} clusters succeeded",
                    done.kind.errand()
                ));
                self.fleet_run(id).await
            }
        }
    }

    /// Runs the clusters at `indices`, at most `max_in_flight` at once.
    async fn wave(
        &self,
        id: u64,
        run: &FleetRun,
        config: &Arc<BrokerConfig>,
        indices: &[usize],
        progress: &Progress,
    ) {
        let slots = Arc::new(Semaphore::new(
            usize::try_from(run.options.max_in_flight.max(1)).unwrap_or(1),
        ));
        let mut tasks = tokio::task::JoinSet::new();
        // A resumed run leaves alone the clusters that ended before the restart.
        let open = indices.iter().filter(|&&i| {
            matches!(
                run.clusters[i].state,
                FleetState::Pending | FleetState::InProgress
            )
        });
        for &index in open {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let broker = self.clone();
            let config = config.clone();
            let progress = progress.clone();
            let cluster = run.clusters[index].clone();
            let (kind, options) = (run.kind, run.options);
            tasks.spawn(async move {
                broker
                    .one_cluster(id, index, &cluster, kind, options, &config, &progress)
                    .await;
                drop(slot);
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// One cluster of a run, with its attempts; its outcome is recorded on the run.
    #[allow(clippy::too_many_arguments)]
    async fn one_cluster(
        &self,
        id: u64,
        index: usize,
        cluster: &ClusterProgress,
        kind: FleetKind,
        options: FleetOptions,
        config: &BrokerConfig,
        progress: &Progress,
    ) {
        let name = cluster_label(cluster);
        let mut last_error = String::new();
        let mut first_attempt = 1;
        if cluster.state == FleetState::InProgress && cluster.attempts > 0 {
            // Resumed after a restart: the attempt under way is judged by its operation's end.
            first_attempt = cluster.attempts + 1;
            let outcome = match cluster.operation_id {
                Some(operation_id) => self.operation_outcome(operation_id).await,
                None => Err(Attempt::Failed(
                    "Tileworks restarted before the attempt's operation started".into(),
                )),
            };
            match outcome {
                Ok(()) => {
                    progress(format!("{name}: {} succeeded", kind.verb()));
                    self.update_run_cluster(id, index, |c| {
                        c.state = FleetState::Succeeded;
                        c.error = None;
                        c.finished_at = Some(now());
                    })
                    .await;
                    return;
                }
                Err(Attempt::Gone) => last_error = "deleted meanwhile".into(),
                Err(Attempt::Failed(why)) => {
                    progress(format!(
                        "{name}: attempt {} failed across a restart: {why}",
                        cluster.attempts
                    ));
                    last_error = why;
                }
            }
        } else {
            self.update_run_cluster(id, index, |c| {
                c.state = FleetState::InProgress;
                c.started_at = Some(now());
            })
            .await;
        }
        for attempt in first_attempt..=options.attempts {
            self.update_run_cluster(id, index, |c| c.attempts = attempt)
                .await;
            if attempt > 1 {
                tokio::time::sleep(Duration::from_millis(options.attempt_interval_ms)).await;
            }
            progress(format!(
                "{name}: {} started (attempt {attempt} of {})",
                kind.verb(),
                options.attempts
            ));
            match self
                .attempt(id, index, &cluster.instance_id, kind, config)
                .await
            {
                Ok(()) => {
                    progress(format!("{name}: {} succeeded", kind.verb()));
                    self.update_run_cluster(id, index, |c| {
                        c.state = FleetState::Succeeded;
                        c.error = None;
                        c.finished_at = Some(now());
                    })
                    .await;
                    return;
                }
                Err(Attempt::Gone) => {
                    progress(format!("{name}: deleted meanwhile; nothing to do"));
                    self.update_run_cluster(id, index, |c| {
                        c.state = FleetState::Succeeded;
                        c.finished_at = Some(now());
                    })
                    .await;
                    return;
                }
                Err(Attempt::Failed(why)) => {
                    progress(format!("{name}: attempt {attempt} failed: {why}"));
                    last_error = why;
                }
            }
        }
        self.update_run_cluster(id, index, |c| {
            c.state = FleetState::Failed;
            c.error = Some(last_error);
            c.finished_at = Some(now());
        })
        .await;
    }

    /// Starts the cluster's operation and waits for its end.
    async fn attempt(
        &self,
        id: u64,
        index: usize,
        instance_id: &str,
        kind: FleetKind,
        config: &BrokerConfig,
    ) -> std::result::Result<(), Attempt> {
        if self
            .store()
            .broker()
            .instance(instance_id)
            .await
            .map_err(Attempt::from)?
            .is_none()
        {
            return Err(Attempt::Gone);
        }
        let started: Result<OperationToken> = match kind {
            FleetKind::Upgrade => self.upgrade_instance(config, instance_id).await,
            FleetKind::Recreate => self.recreate_instance(config, instance_id).await,
            FleetKind::Delete => match self.store().broker().instance(instance_id).await {
                Ok(Some(row)) => {
                    self.deprovision(Deprovision {
                        instance_id: instance_id.to_owned(),
                        accepts_incomplete: true,
                        service_id: Some(row.service_id),
                        plan_id: Some(row.plan_id),
                    })
                    .await
                }
                Ok(None) => return Err(Attempt::Gone),
                Err(e) => Err(e),
            },
        };
        let token = started.map_err(Attempt::from)?;
        let operation_id = token.operation_id;
        self.update_run_cluster(id, index, |c| {
            c.operation_id = Some(operation_id);
            c.task_id = (token.bosh_task_id > 0).then_some(token.bosh_task_id);
        })
        .await;
        let op = self
            .operation_end(operation_id)
            .await
            .map_err(Attempt::from)?;
        self.update_run_cluster(id, index, |c| {
            c.task_id = op.task_id.and_then(|t| u64::try_from(t).ok()).or(c.task_id);
        })
        .await;
        if op.state == "succeeded" {
            Ok(())
        } else {
            Err(Attempt::Failed(op.error.unwrap_or_else(|| {
                format!("operation {operation_id} ended {}", op.state)
            })))
        }
    }

    /// How an operation started before a restart ended: `Ok` when it succeeded.
    async fn operation_outcome(&self, operation_id: i64) -> std::result::Result<(), Attempt> {
        let op = self
            .operation_end(operation_id)
            .await
            .map_err(Attempt::from)?;
        if op.state == "succeeded" {
            Ok(())
        } else {
            Err(Attempt::Failed(op.error.unwrap_or_else(|| {
                format!("operation {operation_id} ended {}", op.state)
            })))
        }
    }

    /// Waits until an operation is no longer in progress (polled: short operations end within
    /// a few short polls, long ones are read every half second).
    async fn operation_end(&self, operation_id: i64) -> Result<crate::store::broker::OperationRow> {
        let mut wait = Duration::from_millis(5);
        loop {
            let op = self
                .store()
                .broker()
                .operation(operation_id)
                .await?
                .ok_or_else(|| {
                    Error::Internal(format!("broker operation {operation_id} vanished"))
                })?;
            if op.state != "in progress" {
                return Ok(op);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(500));
        }
    }
}

/// Why an attempt did not succeed.
enum Attempt {
    /// The instance is gone (deleted since the run began): nothing to do.
    Gone,
    Failed(String),
}

impl From<Error> for Attempt {
    fn from(e: Error) -> Self {
        match &e {
            Error::Osb { status: 410, .. } => Attempt::Gone,
            _ => Attempt::Failed(crate::installations::error_text(&e)),
        }
    }
}

fn pending(row: &InstanceRow, canary: bool) -> ClusterProgress {
    ClusterProgress {
        instance_id: row.id.clone(),
        deployment: format!("{INSTANCE_PREFIX}{}", row.id),
        cluster_name: row.cluster_name.clone(),
        canary,
        state: FleetState::Pending,
        attempts: 0,
        operation_id: None,
        task_id: None,
        error: None,
        started_at: None,
        finished_at: None,
    }
}

fn cluster_label(c: &ClusterProgress) -> String {
    match &c.cluster_name {
        Some(name) => format!("{} (cluster {name})", c.deployment),
        None => c.deployment.clone(),
    }
}

/// The PKS tile's fleet errands, run by the broker when Apply Changes runs them
/// (`installations::errand_runners`), with the settings the tile gives the errand's job
/// (`canaries`, `max_in_flight`, `attempt_limit`, `attempt_interval_seconds`).
impl ErrandRunner for Broker {
    fn runs(&self, product: &str, errand: &str) -> bool {
        product == PKS_PRODUCT && FleetKind::of_errand(errand).is_some()
    }

    fn run<'a>(
        &'a self,
        errand: &'a str,
        manifest: Option<&'a Value>,
        log: ErrandLog<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let kind = FleetKind::of_errand(errand)
                .ok_or_else(|| Error::Internal(format!("{errand} is not a fleet errand")))?;
            let (config, options) = match manifest {
                Some(m) => (
                    // Only the catalog, releases and stemcells are used: no credentials.
                    Arc::new(BrokerConfig::from_manifest(
                        m,
                        String::new(),
                        String::new(),
                    )?),
                    errand_options(m, errand),
                ),
                None => (self.deployed().await?, FleetOptions::default()),
            };
            // The log line writer is borrowed; progress lines are gathered and written here.
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            let progress: Progress = Arc::new(move |line| {
                let _ = tx.send(line);
            });
            let run = self.run_fleet(kind, options, config, APPLY_CHANGES, progress);
            tokio::pin!(run);
            loop {
                tokio::select! {
                    Some(line) = rx.recv() => log(line),
                    outcome = &mut run => {
                        while let Ok(line) = rx.try_recv() {
                            log(line);
                        }
                        return outcome.map(|_| ());
                    }
                }
            }
        })
    }
}

/// The errand job's settings in the deployed manifest (the PKS tile's defaults otherwise).
fn errand_options(manifest: &Value, errand: &str) -> FleetOptions {
    let properties = manifest
        .get("instance_groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("jobs").and_then(Value::as_array))
        .flatten()
        .find(|j| j.get("name").and_then(Value::as_str) == Some(errand))
        .and_then(|j| j.get("properties"))
        .cloned()
        .unwrap_or(Value::Null);
    let number = |name: &str| {
        properties.get(name).and_then(|v| match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
    };
    let defaults = FleetOptions::default();
    let small = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    FleetOptions {
        canaries: number("canaries").map_or(defaults.canaries, small),
        max_in_flight: number("max_in_flight")
            .map_or(defaults.max_in_flight, small)
            .max(1),
        attempts: number("attempt_limit")
            .map_or(defaults.attempts, small)
            .max(1),
        attempt_interval_ms: number("attempt_interval_seconds")
            .map_or(defaults.attempt_interval_ms, |s| s.saturating_mul(1000))
            .min(600_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_stored_names() {
        for state in [
            FleetState::Pending,
            FleetState::InProgress,
            FleetState::Succeeded,
            FleetState::Failed,
            FleetState::Skipped,
        ] {
            let text = name_of(state);
            assert_eq!(parse_name::<FleetState>("state", &text).unwrap(), state);
        }
        assert_eq!(name_of(FleetState::InProgress), "in_progress");
        assert_eq!(name_of(FleetKind::Upgrade), "upgrade");
        assert!(parse_name::<FleetKind>("kind", "upgrade-all").is_err());
    }

    #[test]
    fn errand_options_come_from_the_errand_job() {
        let manifest = serde_json::json!({"instance_groups": [{"name": "upgrade-all-service-instances",
            "jobs": [{"name": "upgrade-all-service-instances", "properties": {
                "canaries": 1, "max_in_flight": "4", "attempt_limit": 3,
                "attempt_interval_seconds": 2}}]}]});
        assert_eq!(
            errand_options(&manifest, "upgrade-all-service-instances"),
            FleetOptions {
                canaries: 1,
                max_in_flight: 4,
                attempts: 3,
                attempt_interval_ms: 2000
            }
        );
        assert_eq!(
            errand_options(&manifest, "delete-all-clusters"),
            FleetOptions::default()
        );
    }

    #[test]
    fn errands_name_their_kind_and_options_are_checked() {
        assert_eq!(
            FleetKind::of_errand("upgrade-all-service-instances"),
            Some(FleetKind::Upgrade)
        );
        assert_eq!(
            FleetKind::of_errand("delete-all-clusters"),
            Some(FleetKind::Delete)
        );
        assert_eq!(FleetKind::of_errand("smoke-tests"), None);
        let zero = FleetOptions {
            max_in_flight: 0,
            ..FleetOptions::default()
        };
        assert!(matches!(zero.check(), Err(Error::Invalid { .. })));
        assert!(FleetOptions::default().check().is_ok());
    }
}
