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
//! Runs are kept in memory while Tileworks runs ([`FleetRuns`]), so the API and the
//! installation log can show each cluster's state live; one run at a time. A run does not
//! survive a restart (the operations it started do: the runner follows them again), which
//! [`Broker::fleet_run`] says by not finding it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::catalog::{BrokerConfig, INSTANCE_PREFIX, PKS_PRODUCT};
use super::operations::OperationToken;
use super::{now, Broker, Deprovision};
use crate::installations::errand_runners::{ErrandLog, ErrandRunner};
use crate::store::broker::InstanceRow;
use crate::{Error, Result};

/// What a fleet run does to each cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// The runs of this process, newest last; one may be in progress.
#[derive(Default)]
pub struct FleetRuns {
    next: AtomicU64,
    runs: Mutex<BTreeMap<u64, FleetRun>>,
}

/// Runs kept for the API once ended (older ones are forgotten).
const KEPT_RUNS: usize = 20;

impl FleetRuns {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, FleetRun>> {
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a run unless one is in progress (409 naming it).
    fn begin(&self, mut run: FleetRun) -> Result<u64> {
        let mut runs = self.lock();
        if let Some(busy) = runs
            .values()
            .find(|r| matches!(r.state, FleetState::Pending | FleetState::InProgress))
        {
            return Err(Error::Refused(format!(
                "fleet run {} ({}) is in progress; one fleet operation runs at a time",
                busy.id,
                busy.kind.errand()
            )));
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        run.id = id;
        runs.insert(id, run);
        while runs.len() > KEPT_RUNS {
            let oldest = *runs.keys().next().unwrap_or(&id);
            runs.remove(&oldest);
        }
        Ok(id)
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut FleetRun)) {
        if let Some(run) = self.lock().get_mut(&id) {
            change(run);
        }
    }

    fn cluster(&self, id: u64, index: usize, change: impl FnOnce(&mut ClusterProgress)) {
        self.update(id, |run| {
            if let Some(c) = run.clusters.get_mut(index) {
                change(c);
            }
        });
    }

    fn get(&self, id: u64) -> Option<FleetRun> {
        self.lock().get(&id).cloned()
    }

    fn all(&self) -> Vec<FleetRun> {
        self.lock().values().rev().cloned().collect()
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
        self.fleet_run(id)
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

    /// A run of this process, or 404.
    pub fn fleet_run(&self, id: u64) -> Result<FleetRun> {
        self.inner
            .fleet
            .get(id)
            .ok_or_else(|| Error::NotFound(format!("fleet run {id}")))
    }

    /// The runs of this process, newest first.
    pub fn fleet_runs(&self) -> Vec<FleetRun> {
        self.inner.fleet.all()
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
        self.inner.fleet.begin(FleetRun {
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
    }

    async fn drive_fleet(
        &self,
        id: u64,
        config: Arc<BrokerConfig>,
        progress: Progress,
    ) -> Result<FleetRun> {
        let run = self.fleet_run(id)?;
        let fleet = &self.inner.fleet;
        fleet.update(id, |r| r.state = FleetState::InProgress);
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
            .fleet_run(id)?
            .clusters
            .iter()
            .any(|c| c.canary && c.state == FleetState::Failed);
        if canary_failed {
            progress("a canary failed; the other clusters are not touched".into());
            for &i in &rest {
                fleet.cluster(id, i, |c| c.state = FleetState::Skipped);
            }
        } else {
            self.wave(id, &run, &config, &rest, &progress).await;
        }

        let done = self.fleet_run(id)?;
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
        fleet.update(id, |r| {
            r.state = if error.is_some() {
                FleetState::Failed
            } else {
                FleetState::Succeeded
            };
            r.error = error.clone();
            r.finished_at = Some(now());
        });
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
                self.fleet_run(id)
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
        for &index in indices {
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
        let fleet = &self.inner.fleet;
        let name = cluster_label(cluster);
        fleet.cluster(id, index, |c| {
            c.state = FleetState::InProgress;
            c.started_at = Some(now());
        });
        let mut last_error = String::new();
        for attempt in 1..=options.attempts {
            fleet.cluster(id, index, |c| c.attempts = attempt);
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
                    fleet.cluster(id, index, |c| {
                        c.state = FleetState::Succeeded;
                        c.error = None;
                        c.finished_at = Some(now());
                    });
                    return;
                }
                Err(Attempt::Gone) => {
                    progress(format!("{name}: deleted meanwhile; nothing to do"));
                    fleet.cluster(id, index, |c| {
                        c.state = FleetState::Succeeded;
                        c.finished_at = Some(now());
                    });
                    return;
                }
                Err(Attempt::Failed(why)) => {
                    progress(format!("{name}: attempt {attempt} failed: {why}"));
                    last_error = why;
                }
            }
        }
        fleet.cluster(id, index, |c| {
            c.state = FleetState::Failed;
            c.error = Some(last_error);
            c.finished_at = Some(now());
        });
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
        self.inner.fleet.cluster(id, index, |c| {
            c.operation_id = Some(operation_id);
            c.task_id = (token.bosh_task_id > 0).then_some(token.bosh_task_id);
        });
        let op = self
            .operation_end(operation_id)
            .await
            .map_err(Attempt::from)?;
        self.inner.fleet.cluster(id, index, |c| {
            c.task_id = op.task_id.and_then(|t| u64::try_from(t).ok()).or(c.task_id);
        });
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
            let run = self.run_fleet(kind, options, config, "apply-changes", progress);
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

    fn run(state: FleetState) -> FleetRun {
        FleetRun {
            id: 0,
            kind: FleetKind::Upgrade,
            options: FleetOptions::default(),
            state,
            started_by: "t".into(),
            started_at: now(),
            finished_at: None,
            error: None,
            clusters: vec![],
        }
    }

    #[test]
    fn one_run_at_a_time_and_old_runs_are_forgotten() {
        let runs = FleetRuns::default();
        let first = runs.begin(run(FleetState::Pending)).unwrap();
        assert!(matches!(
            runs.begin(run(FleetState::Pending)),
            Err(Error::Refused(_))
        ));
        runs.update(first, |r| r.state = FleetState::Failed);
        for _ in 0..KEPT_RUNS + 3 {
            let id = runs.begin(run(FleetState::Pending)).unwrap();
            runs.update(id, |r| r.state = FleetState::Succeeded);
        }
        assert_eq!(runs.all().len(), KEPT_RUNS);
        assert!(runs.get(first).is_none());
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
