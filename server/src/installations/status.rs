//! A deployed product's instances as the Status tab and
//! `GET /api/v0/deployed/products/:guid/status` show them, asked of the Director
//! (`instances?format=full`). On a real Director that call is a task that asks every agent, and
//! every open Status tab polls every 2 seconds; so an answer is shared for [`FRESH_FOR`] by all
//! who ask about the same deployment, and only one call per deployment is in flight at a time.
//! A VM that stops answering still shows as such within a couple of seconds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::backend::installations::{InstanceStatus, ProcessStatus};
use serde_json::Value;

use super::Installations;
use crate::director_client::instances::Instance;
use crate::{Error, Result};

/// How long one Director answer serves every Status tab of a deployment.
pub const FRESH_FOR: Duration = Duration::from_millis(1500);

/// The last answer per deployment, behind a per-deployment async lock (single flight).
type Slot = Arc<tokio::sync::Mutex<Option<(Instant, Vec<InstanceStatus>)>>>;

#[derive(Default)]
pub struct StatusCache {
    slots: std::sync::Mutex<HashMap<String, Slot>>,
}

impl StatusCache {
    fn slot(&self, deployment: &str) -> Slot {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.entry(deployment.to_owned()).or_default().clone()
    }
}

/// What the Director says about one product.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductStatus {
    pub guid: String,
    /// The tile's label (its name when it is no longer staged).
    pub label: String,
    /// `None` while no Apply Changes has deployed the product.
    pub instances: Option<Vec<InstanceStatus>>,
}

impl Installations {
    /// The instances of `guid`'s deployment. A product that is staged but was never deployed
    /// has none (`instances: None`); a GUID that is neither staged nor deployed is not found.
    pub async fn product_status(&self, guid: &str) -> Result<ProductStatus> {
        let staged_label = match self.products().staged_product(guid).await {
            Ok(p) => Some(p.label),
            Err(Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let deployed = self.store().installations().deployed_one(guid).await?;
        let Some(deployed) = deployed else {
            return match staged_label {
                Some(label) => Ok(ProductStatus {
                    guid: guid.to_owned(),
                    label,
                    instances: None,
                }),
                None => Err(Error::NotFound(format!("product '{guid}'"))),
            };
        };
        // The deployment is named in the manifest Tileworks deployed.
        let manifest = serde_json::from_str::<Value>(&deployed.manifest).ok();
        let deployment = manifest
            .as_ref()
            .and_then(|m| m.get("name").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| guid.to_owned());
        // A tile without instance groups (runtime configs only) has no deployment to ask about.
        if manifest
            .as_ref()
            .is_some_and(|m| !tiles::render::manifest_deploys(m))
        {
            return Ok(ProductStatus {
                guid: guid.to_owned(),
                label: staged_label.unwrap_or(deployed.name),
                instances: Some(Vec::new()),
            });
        }
        let slot = self.inner.status_cache.slot(&deployment);
        let mut last = slot.lock().await;
        let instances = match last.as_ref() {
            Some((at, instances)) if at.elapsed() < FRESH_FOR => instances.clone(),
            _ => {
                let mut instances: Vec<InstanceStatus> = self
                    .director()
                    .client
                    .instances(&deployment, |_| {})
                    .await?
                    .iter()
                    // Errand instances without a VM are not running anything to report on.
                    .filter(|i| i.vm_cid.is_some() || i.index.is_some())
                    .map(instance_status)
                    .collect();
                instances.sort_by(|a, b| {
                    (&a.job_name, a.index, &a.id).cmp(&(&b.job_name, b.index, &b.id))
                });
                *last = Some((Instant::now(), instances.clone()));
                instances
            }
        };
        drop(last);
        Ok(ProductStatus {
            guid: guid.to_owned(),
            label: staged_label.unwrap_or(deployed.name),
            instances: Some(instances),
        })
    }
}

/// A number or numeric text as text (agents report vitals as strings; be lenient).
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An object of the vitals, when it is one and not empty.
fn object_at(vitals: Option<&Value>, path: &[&str]) -> Option<Value> {
    let mut at = vitals?;
    for key in path {
        at = at.get(key)?;
    }
    at.as_object().filter(|o| !o.is_empty()).map(|_| at.clone())
}

/// One Director instance in the Status tab's (and Ops Manager's API's) terms.
pub fn instance_status(i: &Instance) -> InstanceStatus {
    let vitals = i.vitals.as_ref();
    let cpu = object_at(vitals, &["cpu"]);
    let load_avg = vitals
        .and_then(|v| v.get("load"))
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|x| text_of(Some(x))).collect())
        .unwrap_or_default();
    let state = match i.job_state.as_deref() {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ if i.vm_cid.is_none() => "no vm".to_owned(),
        _ => "unknown".to_owned(),
    };
    InstanceStatus {
        job_name: i.job_name.clone(),
        index: i.index,
        id: i.id.clone(),
        az_name: i.az.clone(),
        ips: i.ips.clone(),
        cid: i.vm_cid.clone(),
        load_avg,
        cpu,
        memory: object_at(vitals, &["mem"]),
        swap: object_at(vitals, &["swap"]),
        system_disk: object_at(vitals, &["disk", "system"]),
        ephemeral_disk: object_at(vitals, &["disk", "ephemeral"]),
        persistent_disk: object_at(vitals, &["disk", "persistent"]),
        job_state: state.clone(),
        process_state: state,
        processes: i
            .processes
            .iter()
            .map(|p| ProcessStatus {
                name: p.name.clone(),
                state: p.state.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn instance(v: Value) -> Instance {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_running_instance_carries_its_vitals_in_ops_managers_shape() {
        let i = instance(json!({
            "job_name": "master", "id": "abc", "index": 0, "job_state": "running",
            "ips": ["10.0.0.11"], "az": "az1", "vm_cid": "vm-1",
            "processes": [{"name": "etcd", "state": "running"}],
            "vitals": {"cpu": {"sys": "0.5", "user": "1.0", "wait": "0.0"},
                       "disk": {"system": {"percent": "30"}, "ephemeral": {"percent": "5"}},
                       "load": ["0.10", "0.05", "0.01"], "mem": {"kb": "512000", "percent": "25"},
                       "swap": {"kb": "0", "percent": "0"}}
        }));
        let s = instance_status(&i);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["job-name"], "master");
        assert_eq!(v["index"], 0);
        assert_eq!(v["az_name"], "az1");
        assert_eq!(v["cid"], "vm-1");
        assert_eq!(v["ips"], json!(["10.0.0.11"]));
        assert_eq!(v["load_avg"], json!(["0.10", "0.05", "0.01"]));
        assert_eq!(v["cpu"]["user"], "1.0");
        assert_eq!(v["cpu"]["sys"], "0.5");
        assert_eq!(v["memory"]["percent"], "25");
        assert_eq!(v["system_disk"]["percent"], "30");
        assert_eq!(v["persistent_disk"], Value::Null);
        assert_eq!(v["job_state"], "running");
        assert_eq!(v["process_state"], "running");
        assert_eq!(
            v["processes"][0],
            json!({"name": "etcd", "state": "running"})
        );
    }

    #[test]
    fn an_unresponsive_instance_has_no_vitals() {
        let i = instance(json!({
            "job_name": "worker", "id": "def", "index": 2, "job_state": "unresponsive agent",
            "ips": [], "vm_cid": "vm-2", "vitals": {},
            "processes": [{"name": "kubelet", "state": "unresponsive agent"}]
        }));
        let s = instance_status(&i);
        assert_eq!(s.job_state, "unresponsive agent");
        assert_eq!(s.cpu, None);
        assert_eq!(s.memory, None);
        assert!(s.load_avg.is_empty());
        let none = instance_status(&instance(json!({"job_name": "w", "id": "x"})));
        assert_eq!(none.job_state, "no vm");
    }
}
