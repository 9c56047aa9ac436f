//! Errands as simulated processes: an errand instance group (`lifecycle: errand`) gets VMs for
//! the run, the "process" prints to stdout and exits 0, and the VMs go away unless kept alive.
//! A job name of a service group runs colocated on the instances that have it.
//!
//! Tests and demos make an errand fail through the non-BOSH chaos endpoint
//! `PUT /chaos/errands/:deployment/:errand` (exit code, stdout, stderr), cleared with DELETE.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::deploy;
use crate::error::{Error, Result};
use crate::store::{EventRow, Instance};
use crate::tasks::TaskCtx;
use crate::Shared;

/// What an errand run prints and returns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Outcome {
    #[serde(default)]
    pub exit_code: i64,
    #[serde(default)]
    pub stdout: Option<String>,
    #[serde(default)]
    pub stderr: Option<String>,
}

/// Forced outcomes per (deployment, errand).
#[derive(Debug, Default)]
pub struct Overrides {
    map: Mutex<HashMap<(String, String), Outcome>>,
}

impl Overrides {
    pub fn set(&self, deployment: &str, errand: &str, outcome: Outcome) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.insert((deployment.into(), errand.into()), outcome);
    }

    pub fn clear(&self, deployment: &str, errand: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&(deployment.to_string(), errand.to_string()));
    }

    fn get(&self, deployment: &str, errand: &str) -> Option<Outcome> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(deployment.to_string(), errand.to_string()))
            .cloned()
    }
}

/// The request body of `POST /deployments/:name/errands/:errand/runs`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunRequest {
    #[serde(default, rename = "keep-alive")]
    pub keep_alive: bool,
    #[serde(default, rename = "when-changed")]
    pub when_changed: bool,
    #[serde(default)]
    pub instances: Vec<Value>,
}

/// An errand instance group as the stored manifest declares it.
#[derive(Debug, Clone)]
struct ErrandGroup {
    name: String,
    instances: i64,
    jobs: Vec<String>,
    azs: Option<Vec<String>>,
}

/// Errand groups and their instance counts, read from the stored manifest.
fn errand_groups(manifest: &Value) -> Vec<ErrandGroup> {
    manifest
        .get("instance_groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|g| g.get("lifecycle").and_then(Value::as_str) == Some("errand"))
        .filter_map(|g| {
            let name = g.get("name")?.as_str()?.to_string();
            let instances = g.get("instances").and_then(Value::as_i64).unwrap_or(1);
            let jobs = g
                .get("jobs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|j| j.get("name").and_then(Value::as_str).map(str::to_string))
                .collect();
            let azs = g.get("azs").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|z| z.as_str().map(str::to_string))
                    .collect()
            });
            Some(ErrandGroup {
                name,
                instances,
                jobs,
                azs,
            })
        })
        .collect()
}

async fn manifest_of(d: &Shared, deployment: &str) -> Result<Value> {
    let row = d
        .store
        .deployment(deployment)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Deployment '{deployment}' doesn't exist")))?;
    Ok(tiles::yaml::load(&row.manifest)?)
}

/// `GET /deployments/:name/errands`: errand groups, then jobs of service groups named like an
/// errand group's job (colocated errands).
pub async fn list(d: &Shared, deployment: &str) -> Result<Value> {
    let manifest = manifest_of(d, deployment).await?;
    Ok(Value::Array(
        errand_groups(&manifest)
            .into_iter()
            .map(|g| json!({"name": g.name}))
            .collect(),
    ))
}

fn default_outcome(errand: &str, inst: &str) -> Outcome {
    Outcome {
        exit_code: 0,
        stdout: Some(format!(
            "Running errand '{errand}' on {inst}\nErrand '{errand}' completed successfully\n"
        )),
        stderr: Some(String::new()),
    }
}

/// The errand task.
pub async fn run(
    d: Shared,
    ctx: Arc<TaskCtx>,
    deployment: String,
    errand: String,
    request: RunRequest,
) -> Result<String> {
    let manifest = manifest_of(&d, &deployment).await?;
    let group = errand_groups(&manifest)
        .into_iter()
        .find(|g| g.name == errand);
    let mut temporary: Vec<Instance> = Vec::new();
    let targets: Vec<Instance> = match &group {
        Some(ErrandGroup {
            name,
            instances: count,
            jobs,
            azs,
        }) => {
            if !request.instances.is_empty() {
                return Err(Error::Invalid(format!(
                    "Filtering by instances is not supported when running errand by instance group name '{name}'"
                )));
            }
            let count = (*count).max(1);
            let stage = ctx.stage("Creating missing vms", Vec::new(), count as usize);
            let az_list = azs.clone().unwrap_or_default();
            for idx in 0..count {
                let az = if az_list.is_empty() {
                    None
                } else {
                    az_list.get(idx as usize % az_list.len()).cloned()
                };
                let mut inst = Instance {
                    lifecycle: "errand".into(),
                    bootstrap: idx == 0,
                    jobs: serde_json::to_string(jobs).unwrap_or_else(|_| "[]".into()),
                    ..Instance::new(&deployment, name, idx, az)
                };
                let label = inst.label();
                stage
                    .step(&label, async {
                        deploy::create_vm(&d, &ctx, &mut inst).await;
                        Ok(())
                    })
                    .await?;
                temporary.push(inst);
            }
            temporary.clone()
        }
        None => {
            // A colocated errand: a job of that name on service instances.
            let wanted: Vec<(String, String)> = request
                .instances
                .iter()
                .filter_map(|i| {
                    Some((
                        i.get("group")?.as_str()?.to_string(),
                        i.get("id")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    ))
                })
                .collect();
            let found: Vec<Instance> = d
                .store
                .instances(&deployment)
                .await?
                .into_iter()
                .filter(|i| i.vm_cid.is_some() && i.job_list().contains(&errand))
                .filter(|i| {
                    wanted.is_empty()
                        || wanted.iter().any(|(g, id)| {
                            *g == i.instance_group
                                && (id.is_empty() || *id == i.id || *id == i.idx.to_string())
                        })
                })
                .collect();
            if found.is_empty() {
                return Err(Error::NotFound(format!(
                    "Errand '{errand}' doesn't exist in deployment '{deployment}'"
                )));
            }
            found
        }
    };
    let stage = ctx.stage("Running errand", Vec::new(), targets.len());
    let mut failed = Vec::new();
    for inst in &targets {
        let label = inst.label();
        let index = stage.start(&label);
        let name = format!("{}/{}", inst.instance_group, inst.id);
        let outcome = d
            .errands
            .get(&deployment, &errand)
            .unwrap_or_else(|| default_outcome(&errand, &name));
        ctx.result_line(&json!({
            "instance": {"group": inst.instance_group, "id": inst.id},
            "errand_name": errand,
            "exit_code": outcome.exit_code,
            "stdout": outcome.stdout.clone().unwrap_or_default(),
            "stderr": outcome.stderr.clone().unwrap_or_default(),
            "logs": {"blobstore_id": "", "sha1": ""},
        }));
        if outcome.exit_code == 0 {
            stage.finish(&label, index);
        } else {
            stage.fail(
                &label,
                index,
                &format!("Errand '{errand}' exited with code {}", outcome.exit_code),
            );
            failed.push(name.clone());
        }
        d.store
            .add_event(&EventRow {
                deployment: Some(deployment.clone()),
                instance: Some(name),
                context: json!({"exit_code": outcome.exit_code}).to_string(),
                ..deploy::event(Some(&ctx), "run", "errand", &errand)
            })
            .await?;
    }
    let stage = ctx.stage("Fetching logs", Vec::new(), 1);
    stage.step("Fetching logs", async { Ok(()) }).await?;
    if !temporary.is_empty() && !request.keep_alive {
        let stage = ctx.stage("Deleting errand instances", Vec::new(), temporary.len());
        for mut inst in temporary {
            let label = inst.label();
            stage
                .step(&label, async {
                    deploy::delete_vm(&d, &ctx, &mut inst).await;
                    Ok(())
                })
                .await?;
        }
    }
    // Like a real Director, the task succeeds; the exit codes in the result tell the outcome.
    Ok(if failed.is_empty() {
        format!("Errand '{errand}' completed successfully (exit code 0)")
    } else {
        format!("Errand '{errand}' failed on {}", failed.join(", "))
    })
}
