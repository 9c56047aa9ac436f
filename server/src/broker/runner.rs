//! Running an operation: its steps (a deploy, lifecycle errands, a deletion), each one Director
//! task, followed to its end in the background after the OSB request was answered `202`.
//!
//! Progress is stored as it goes (the step reached and its task id), so the operation survives
//! a Tileworks restart the way ODB's stateless `last_operation` does: [`take_over`] follows each
//! operation still in progress again from its task id (at start, and with several replicas when
//! the replica running it died: operations are claimed, `crate::claims`). A task the Director no longer knows, or
//! that ended in error (the embedded Director fails the tasks its previous process was running),
//! fails the operation; an operation interrupted before its task was started fails too, since
//! nothing can tell whether the Director received it. Either way the instance is left as the
//! last successful deploy recorded it, so it can be updated or deleted afterwards.

use super::operations::{context_id, OperationKind, Step};
use super::{now, Broker};
use crate::claims::BROKER_OPERATION;
use crate::director_client::{DeployOptions, ErrandInstance, ErrandRunOptions, Upload};
use crate::store::broker::OperationRow;
use crate::{Error, Result};

/// Starts following an operation in the background.
pub(super) fn spawn(broker: &Broker, operation_id: i64) {
    let broker = broker.clone();
    tokio::spawn(async move {
        run(&broker, operation_id).await;
    });
}

/// Follows every operation still in progress that no live replica runs: `at_start`, after a
/// restart (also this replica's own from before it); otherwise those whose replica's claim ran
/// out (`crate::claims`).
pub(super) async fn take_over(broker: &Broker, at_start: bool) -> Result<()> {
    let claims = broker.claims();
    for op in broker.store().broker().operations_in_progress().await? {
        let taken = if at_start {
            claims.take_at_start(BROKER_OPERATION, op.id).await?
        } else {
            claims.take(BROKER_OPERATION, op.id).await?
        };
        if !taken {
            continue; // another replica runs it
        }
        if op.task_id.is_none() {
            let why = "Tileworks restarted before this step's Director task was started";
            tracing::warn!(operation = op.id, instance = %op.instance_id, "{why}");
            broker
                .store()
                .broker()
                .finish_operation(op.id, "failed", Some(why), &now())
                .await?;
            claims.release(BROKER_OPERATION, op.id).await;
            continue;
        }
        tracing::info!(
            operation = op.id,
            instance = %op.instance_id,
            task = op.task_id,
            "following a broker operation again after a restart"
        );
        spawn(broker, op.id);
    }
    Ok(())
}

/// Claims a new operation for this replica (before its first Director task), so no other
/// replica takes it over while it runs.
pub(super) async fn claim(broker: &Broker, operation_id: i64) -> Result<()> {
    if broker.claims().take(BROKER_OPERATION, operation_id).await? {
        Ok(())
    } else {
        Err(crate::Error::Conflict(format!(
            "broker operation {operation_id} is run by another replica"
        )))
    }
}

/// Runs an operation (claimed by this replica) to its end and records the outcome. Never
/// fails: a failure is logged and stored on the operation. Stops without recording anything if
/// another replica took the claim over (that replica records the end).
async fn run(broker: &Broker, operation_id: i64) {
    let claims = broker.claims();
    let mut keeper = claims.keep(BROKER_OPERATION, operation_id);
    let outcome = tokio::select! {
        outcome = steps(broker, operation_id) => outcome,
        () = keeper.lost() => return,
    };
    drop(keeper);
    let (state, error) = match &outcome {
        Ok(()) => ("succeeded", None),
        Err(e) => {
            tracing::warn!(operation = operation_id, error = %e, "broker operation failed");
            ("failed", Some(crate::installations::error_text(e)))
        }
    };
    if let Err(e) = broker
        .store()
        .broker()
        .finish_operation(operation_id, state, error.as_deref(), &now())
        .await
    {
        tracing::error!(operation = operation_id, error = %e, "recording a broker operation's end");
    }
    claims.release(BROKER_OPERATION, operation_id).await;
}

async fn steps(broker: &Broker, operation_id: i64) -> Result<()> {
    let store = broker.store().broker();
    let op = store
        .operation(operation_id)
        .await?
        .ok_or_else(|| Error::Internal(format!("broker operation {operation_id} vanished")))?;
    let kind = OperationKind::parse(&op.kind)?;
    let steps: Vec<Step> = serde_json::from_str(&op.steps)
        .map_err(|e| Error::Internal(format!("steps of broker operation {operation_id}: {e}")))?;
    let deployment = format!("{}{}", super::catalog::INSTANCE_PREFIX, op.instance_id);
    let first = usize::try_from(op.step).unwrap_or(0);
    for (index, step) in steps.iter().enumerate().skip(first) {
        let index_db = i64::try_from(index).unwrap_or(i64::MAX);
        // A task already started for this step (by the request, or before a restart).
        let started = if index == first { op.task_id } else { None };
        let task = match started {
            Some(task) => Some(u64::try_from(task).unwrap_or_default()),
            None => {
                store.set_operation_step(op.id, index_db, None).await?;
                let task = start(broker, &op, step, &deployment).await?;
                if let Some(task) = task {
                    store
                        .set_operation_step(op.id, index_db, Some(i64::try_from(task).unwrap_or(0)))
                        .await?;
                }
                task
            }
        };
        if let Some(task) = task {
            broker
                .director()
                .wait_for_task(task, |_| {})
                .await?
                .ensure_done()?;
        }
        match step {
            Step::Deploy => {
                let manifest = op.manifest.as_deref().unwrap_or_default();
                store
                    .set_deployed(
                        &op.instance_id,
                        &op.plan_id,
                        &op.parameters,
                        manifest,
                        op.manifest_plan.as_deref().unwrap_or("{}"),
                        op.maintenance_version.as_deref(),
                        &now(),
                    )
                    .await?;
            }
            Step::Errand { name, .. } => {
                if let Some(task) = task {
                    errand_succeeded(broker, &deployment, name, task).await?;
                }
            }
            Step::Delete => {}
        }
    }
    if kind == OperationKind::Delete {
        store.delete_instance(&op.instance_id).await?;
    }
    Ok(())
}

/// Starts a step's Director task; `None` when the step has nothing to do (deleting a
/// deployment the Director does not have, an errand of a deployment that is gone).
async fn start(
    broker: &Broker,
    op: &OperationRow,
    step: &Step,
    deployment: &str,
) -> Result<Option<u64>> {
    let client = broker.director();
    Ok(match step {
        Step::Deploy => {
            let manifest = op.manifest.as_deref().ok_or_else(|| {
                Error::Internal(format!("broker operation {} has no manifest", op.id))
            })?;
            let recreate = op.kind == OperationKind::Recreate.as_str();
            Some(deploy(broker, op.id, manifest, recreate).await?)
        }
        Step::Errand { name, instances } => {
            if !client.deployment_exists(deployment).await? {
                return Ok(None);
            }
            let options = ErrandRunOptions {
                instances: instances
                    .iter()
                    .map(|i| {
                        let (group, id) = i.split_once('/').unwrap_or((i.as_str(), ""));
                        ErrandInstance {
                            group: group.to_owned(),
                            id: id.to_owned(),
                        }
                    })
                    .collect(),
                ..ErrandRunOptions::default()
            };
            Some(client.run_errand(deployment, name, &options).await?)
        }
        Step::Delete => {
            if !client.deployment_exists(deployment).await? {
                return Ok(None);
            }
            Some(client.delete_deployment(deployment, false).await?)
        }
    })
}

/// `POST /deployments` with the operation's manifest (`recreate`: every VM recreated); the
/// task id.
pub(super) async fn deploy(
    broker: &Broker,
    operation_id: i64,
    manifest: &str,
    recreate: bool,
) -> Result<u64> {
    let options = DeployOptions {
        context_id: Some(context_id(operation_id)),
        recreate,
        ..DeployOptions::default()
    };
    let manifest = broker.manifest_for_director(manifest).await?;
    broker.director().deploy(&manifest, &options).await
}

/// The errand's results: every instance must have exited 0.
async fn errand_succeeded(broker: &Broker, deployment: &str, name: &str, task: u64) -> Result<()> {
    let results = broker.director().errand_results(task).await?;
    if let Some(bad) = results.iter().find(|r| !r.succeeded()) {
        return Err(Error::Director {
            call: format!("errand {name} of {deployment}"),
            status: None,
            message: format!(
                "exited with code {}{}",
                bad.exit_code,
                if bad.stderr.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", bad.stderr.trim())
                }
            ),
        });
    }
    Ok(())
}

/// The releases and stemcells a cluster deploys with, on the Director: the PKS deploy uploaded
/// them; a release missing since is uploaded by its manifest (which the embedded Director
/// accepts), a missing stemcell is an error naming it.
pub(super) async fn ensure_uploads(broker: &Broker, config: &super::BrokerConfig) -> Result<()> {
    let wanted: Vec<String> = config
        .stemcells
        .iter()
        .map(|s| format!("stemcell:{}/{}", s.stemcell_os, s.stemcell_version))
        .chain(
            config
                .releases
                .iter()
                .map(|r| format!("release:{}/{}", r.name, r.version)),
        )
        .collect();
    let seen = |broker: &Broker| {
        let known = broker
            .inner
            .on_director
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        wanted.iter().all(|w| known.contains(w))
    };
    if seen(broker) {
        return Ok(());
    }
    check_uploads(broker, config).await?;
    broker
        .inner
        .on_director
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(wanted.iter().cloned());
    Ok(())
}

async fn check_uploads(broker: &Broker, config: &super::BrokerConfig) -> Result<()> {
    let client = broker.director();
    let stemcells = client.stemcells().await?;
    for s in &config.stemcells {
        if !stemcells
            .iter()
            .any(|k| k.operating_system == s.stemcell_os && k.version == s.stemcell_version)
        {
            return Err(Error::Director {
                call: "GET /stemcells".into(),
                status: None,
                message: format!(
                    "stemcell {} {} is not on the Director; upload it (the PKS tile uses it)",
                    s.stemcell_os, s.stemcell_version
                ),
            });
        }
    }
    let known = client.releases().await?;
    for r in &config.releases {
        if known
            .iter()
            .any(|k| k.name == r.name && k.has_version(&r.version))
        {
            continue;
        }
        // One upload at a time for the whole broker; only missing releases get here.
        let _turn = broker.inner.uploads.lock().await;
        if client.has_release(&r.name, &r.version).await? {
            continue;
        }
        let upload = Upload::Manifest(format!("---\nname: {}\nversion: '{}'\n", r.name, r.version));
        let task = client
            .upload_release(&upload, crate::director_client::UploadOptions::default())
            .await?;
        client.wait_for_task(task, |_| {}).await?.ensure_done()?;
    }
    Ok(())
}
