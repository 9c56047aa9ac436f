//! The health monitor and resurrector, and the cloud check (`bosh cck`) built on the same
//! findings.
//!
//! Every simulated VM's agent "sends" a heartbeat each interval while it is alive. The chaos
//! endpoint kills a VM: its heartbeats stop, and after the timeout (three intervals) the
//! monitor marks the instance `unresponsive agent` and records an alert. With resurrection on
//! (the default; `PUT /resurrection` pauses it) the resurrector queues a `scan and fix` task
//! that recreates the VM, keeping its persistent disk.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::deploy::{self, event};
use crate::error::{Error, Result};
use crate::store::{EventRow, Instance};
use crate::tasks::{self, TaskCtx, TaskSpec};
use crate::Shared;

#[derive(Debug)]
pub struct Health {
    beats: Mutex<HashMap<String, Instant>>,
    pub interval: Duration,
    resurrection: AtomicBool,
}

impl Health {
    pub fn new(interval: Duration, resurrection: bool) -> Health {
        Health {
            beats: Mutex::new(HashMap::new()),
            interval,
            resurrection: AtomicBool::new(resurrection),
        }
    }

    /// How long an agent may stay silent before it counts as unresponsive.
    pub fn timeout(&self) -> Duration {
        self.interval * 3
    }

    pub fn heartbeat(&self, agent_id: &str) {
        let mut beats = self.beats.lock().unwrap_or_else(|p| p.into_inner());
        beats.insert(agent_id.to_string(), Instant::now());
    }

    pub fn forget(&self, agent_id: &str) {
        let mut beats = self.beats.lock().unwrap_or_else(|p| p.into_inner());
        beats.remove(agent_id);
    }

    /// When the agent last reported; an agent never seen counts from now (after a restart).
    fn last_seen(&self, agent_id: &str) -> Instant {
        let mut beats = self.beats.lock().unwrap_or_else(|p| p.into_inner());
        *beats
            .entry(agent_id.to_string())
            .or_insert_with(Instant::now)
    }

    pub fn resurrection_enabled(&self) -> bool {
        self.resurrection.load(Ordering::SeqCst)
    }

    pub fn set_resurrection(&self, enabled: bool) {
        self.resurrection.store(enabled, Ordering::SeqCst);
    }
}

/// Runs the monitor until `shutdown` turns true.
pub fn spawn(d: Shared, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(d.health.interval);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = check(&d).await {
                        tracing::warn!(error = %e, "health monitor pass");
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    });
}

/// One pass: live agents send heartbeats; silent ones become unresponsive; the resurrector
/// queues a fix for each deployment with unresponsive VMs.
pub async fn check(d: &Shared) -> Result<()> {
    let mut to_resurrect = BTreeSet::new();
    for inst in d.store.all_instances().await? {
        let (Some(agent), Some(cid)) = (inst.agent_id.as_deref(), inst.vm_cid.as_deref()) else {
            continue;
        };
        if inst.agent_alive {
            d.health.heartbeat(agent);
            continue;
        }
        if !inst.unresponsive && d.health.last_seen(agent).elapsed() >= d.health.timeout() {
            d.store.set_unresponsive(&inst.id, true).await?;
            let message = format!(
                "{} has timed out (agent {agent}, VM {cid}): the agent stopped sending heartbeats",
                inst.label()
            );
            d.store
                .add_event(&EventRow {
                    deployment: Some(inst.deployment.clone()),
                    instance: Some(format!("{}/{}", inst.instance_group, inst.id)),
                    context: json!({"message": message, "severity": 2}).to_string(),
                    ..event(None, "create", "alert", &uuid::Uuid::new_v4().to_string())
                })
                .await?;
            tracing::warn!(deployment = %inst.deployment, instance = %inst.label(), "unresponsive agent");
        }
        let unresponsive =
            inst.unresponsive || d.health.last_seen(agent).elapsed() >= d.health.timeout();
        if unresponsive && d.health.resurrection_enabled() && !inst.resurrection_paused {
            to_resurrect.insert(inst.deployment.clone());
        }
    }
    for deployment in to_resurrect {
        if d.locks.holder(&deployment).is_some() {
            continue; // Try again on the next pass, when the running task is done.
        }
        let spec = TaskSpec {
            description: "scan and fix".into(),
            deployment: Some(deployment.clone()),
            user: "health_monitor".into(),
            context_id: String::new(),
            lock: true,
        };
        let target = deployment.clone();
        tasks::enqueue(d, spec, move |d, ctx| resurrect(d, ctx, target)).await?;
    }
    Ok(())
}

fn not_responding(inst: &Instance) -> String {
    format!(
        "VM for '{}' with cloud ID '{}' is not responding.",
        inst.label(),
        inst.vm_cid.as_deref().unwrap_or("")
    )
}

/// Recreates one instance's VM (disk kept), recording the events a Director records.
async fn recreate(d: &Shared, ctx: &TaskCtx, mut inst: Instance) -> Result<()> {
    let instance_name = format!("{}/{}", inst.instance_group, inst.id);
    let old_cid = inst.vm_cid.clone().unwrap_or_default();
    deploy::delete_vm(d, ctx, &mut inst).await;
    d.store
        .add_event(&EventRow {
            deployment: Some(inst.deployment.clone()),
            instance: Some(instance_name.clone()),
            ..event(Some(ctx), "delete", "vm", &old_cid)
        })
        .await?;
    deploy::create_vm(d, ctx, &mut inst).await;
    d.store.save_instance(&inst).await?;
    d.store
        .add_event(&EventRow {
            deployment: Some(inst.deployment.clone()),
            instance: Some(instance_name.clone()),
            ..event(
                Some(ctx),
                "create",
                "vm",
                inst.vm_cid.as_deref().unwrap_or_default(),
            )
        })
        .await?;
    d.store
        .add_event(&EventRow {
            deployment: Some(inst.deployment.clone()),
            instance: Some(instance_name.clone()),
            ..event(Some(ctx), "recreate", "instance", &instance_name)
        })
        .await?;
    Ok(())
}

/// The resurrector's `scan and fix` task.
async fn resurrect(d: Shared, ctx: Arc<TaskCtx>, deployment: String) -> Result<String> {
    let targets: Vec<Instance> = d
        .store
        .instances(&deployment)
        .await?
        .into_iter()
        .filter(|i| i.vm_cid.is_some() && !i.agent_alive && !i.resurrection_paused)
        .collect();
    let stage = ctx.stage("Applying problem resolutions", Vec::new(), targets.len());
    for inst in targets {
        let label = format!(
            "{}: Recreate VM and wait for processes to start",
            not_responding(&inst)
        );
        stage.step(&label, recreate(&d, &ctx, inst)).await?;
    }
    Ok(String::new())
}

/// The resolutions `bosh cck` offers per problem type.
fn resolutions(kind: &str) -> Value {
    match kind {
        "unresponsive_agent" => json!([
            {"name": "ignore", "plan": "Skip for now"},
            {"name": "reboot_vm", "plan": "Reboot VM"},
            {"name": "recreate_vm", "plan": "Recreate VM and wait for processes to start"},
            {"name": "recreate_vm_without_wait", "plan": "Recreate VM without waiting for processes to start"},
            {"name": "delete_vm", "plan": "Delete VM"},
            {"name": "delete_vm_reference", "plan": "Delete VM reference"},
        ]),
        _ => json!([
            {"name": "ignore", "plan": "Skip for now"},
            {"name": "recreate_vm", "plan": "Recreate VM and wait for processes to start"},
            {"name": "recreate_vm_without_wait", "plan": "Recreate VM without waiting for processes to start"},
            {"name": "delete_vm_reference", "plan": "Delete VM reference"},
        ]),
    }
}

/// The resolution `bosh cck --auto` gets for a problem type.
fn default_resolution(kind: &str) -> &'static str {
    match kind {
        "unresponsive_agent" | "missing_vm" => "recreate_vm",
        _ => "ignore",
    }
}

/// The `scan` task of `bosh cck`: records unresponsive agents and missing VMs as problems.
pub async fn scan(d: Shared, ctx: Arc<TaskCtx>, deployment: String) -> Result<String> {
    let instances = d.store.instances(&deployment).await?;
    let stage = ctx.stage("Scanning VMs", Vec::new(), 1);
    let mut problems = Vec::new();
    stage
        .step("Checking VM states", async {
            for inst in &instances {
                if inst.lifecycle != "service" || inst.state == "detached" || inst.ignore_instance {
                    continue;
                }
                if inst.vm_cid.is_none() {
                    problems.push((
                        "missing_vm".to_string(),
                        format!("VM for '{}' missing.", inst.label()),
                        inst.instance_group.clone(),
                        inst.id.clone(),
                        json!({}),
                    ));
                } else if inst.unresponsive || !inst.agent_alive {
                    problems.push((
                        "unresponsive_agent".to_string(),
                        not_responding(inst),
                        inst.instance_group.clone(),
                        inst.id.clone(),
                        json!({"vm_cid": inst.vm_cid}),
                    ));
                }
            }
            Ok(())
        })
        .await?;
    let found = problems.len();
    d.store.replace_problems(&deployment, &problems).await?;
    ctx.debug(&format!("Found {found} problem(s) in {deployment}"));
    Ok(format!("{found} problem(s) found"))
}

/// `GET /deployments/:name/problems`.
pub async fn problems_json(d: &Shared, deployment: &str) -> Result<Value> {
    Ok(Value::Array(
        d.store
            .open_problems(deployment)
            .await?
            .into_iter()
            .map(|p| {
                json!({
                    "id": p.id,
                    "type": p.problem_type,
                    "description": p.description,
                    "instance_group": p.instance_group,
                    "data": serde_json::from_str::<Value>(&p.data).unwrap_or(json!({})),
                    "resolutions": resolutions(&p.problem_type),
                })
            })
            .collect(),
    ))
}

/// The `apply resolutions` task of `bosh cck`.
pub async fn resolve(
    d: Shared,
    ctx: Arc<TaskCtx>,
    deployment: String,
    choices: HashMap<String, Option<String>>,
) -> Result<String> {
    let problems = d.store.open_problems(&deployment).await?;
    let stage = ctx.stage("Applying problem resolutions", Vec::new(), choices.len());
    for p in problems {
        let Some(choice) = choices.get(&p.id.to_string()) else {
            continue;
        };
        // `null` is the type's default resolution, what `bosh cck --auto` asks for.
        let choice = choice
            .clone()
            .unwrap_or_else(|| default_resolution(&p.problem_type).to_string());
        let label = format!("{}: {choice}", p.description);
        stage
            .step(&label, async {
                let inst = d.store.instance(&p.instance_id).await?;
                match (choice.as_str(), inst) {
                    ("ignore", _) | (_, None) => {}
                    ("recreate_vm" | "recreate_vm_without_wait" | "reboot_vm", Some(inst)) => {
                        recreate(&d, &ctx, inst).await?
                    }
                    ("delete_vm" | "delete_vm_reference", Some(mut inst)) => {
                        deploy::delete_vm(&d, &ctx, &mut inst).await;
                        inst.unresponsive = false;
                        inst.agent_alive = true;
                        d.store.save_instance(&inst).await?;
                    }
                    (other, _) => {
                        return Err(Error::Invalid(format!("Unknown resolution '{other}'")))
                    }
                }
                d.store.resolve_problem(p.id).await
            })
            .await?;
    }
    Ok(String::new())
}
