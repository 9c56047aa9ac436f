//! What the cluster page shows about one cluster beyond its `pks cluster` summary: its
//! instances as the Director reports them (masters spread over the plan's AZs, workers), the
//! healing the Director did (the resurrector's events for each instance), its manifest with
//! every credential as a `((placeholder))`, its operation history, and the plan settings
//! that manifest cannot carry (the service adapter's warnings).
//!
//! The manifest the broker deployed holds the PKS tile's own credential values where the plan
//! carries them (the vSphere cloud provider's vCenter password): those are replaced by the
//! tile's placeholders (`installations::render::redact`, the same redaction as every other
//! manifest Tileworks shows). The cluster's own secrets are config-server variables, so the
//! manifest names them as placeholders already.

use serde_json::Value;

use super::catalog::{INSTANCE_PREFIX, PKS_PRODUCT};
use super::clusters::Cluster;
use super::operations::{OperationKind, OperationState};
use super::Broker;
use crate::director_client::events::DirectorEvent;
use crate::Result;
use app::session::CurrentUser;

/// How many Director events of a cluster the page reads.
const EVENT_LIMIT: u32 = 200;

/// The user the Director's health monitor acts as (its alerts and `scan and fix` tasks).
const HEALTH_MONITOR: &str = "health_monitor";

/// One instance (VM) of a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterInstance {
    /// `master`, `worker` (errand VMs only while they run).
    pub group: String,
    pub id: String,
    pub index: Option<u64>,
    pub az: Option<String>,
    pub ips: Vec<String>,
    pub vm_cid: Option<String>,
    /// The agent's report: `running`, `failing`, `unresponsive agent`…
    pub job_state: String,
    /// How often the resurrector recreated this instance's VM, and when it last did (Unix s).
    pub resurrections: usize,
    pub last_resurrected: Option<i64>,
}

/// One operation the broker ran on a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterOperation {
    /// `CREATE`, `UPDATE`, `DELETE`.
    pub action: String,
    pub state: String,
    pub description: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub task_id: Option<i64>,
}

/// Everything the cluster page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterDetail {
    pub cluster: Cluster,
    pub instances: Vec<ClusterInstance>,
    /// The Director's events for the cluster's deployment, newest first.
    pub events: Vec<DirectorEvent>,
    /// The manifest last deployed (or being deployed), YAML, credentials as placeholders.
    pub manifest: Option<String>,
    pub operations: Vec<ClusterOperation>,
    /// Plan settings that manifest cannot carry: the service adapter's warnings for the plan
    /// it was rendered from ([`super::adapter_warnings::of_plan`]).
    pub adapter_warnings: Vec<String>,
}

impl Broker {
    /// The cluster `name` in full, if `caller` may see it (404 otherwise).
    pub async fn cluster_detail(&self, caller: &CurrentUser, name: &str) -> Result<ClusterDetail> {
        let cluster = self.visible_cluster(caller, name).await?;
        let row = self.named(name).await?;
        let store = self.store().broker();
        let operations = store.operations_of(&row.id).await?;
        let deployment = format!("{INSTANCE_PREFIX}{}", row.id);

        // A deployment not there yet (provisioning) or gone (deleted) has no VMs or events.
        let (instances, events) = if self.director().deployment_exists(&deployment).await? {
            let instances = self.looked_up_instances(&deployment).await?;
            let events = self
                .director()
                .deployment_events(&deployment, EVENT_LIMIT)
                .await?;
            (instances, events)
        } else {
            (Vec::new(), Vec::new())
        };
        let mut shown: Vec<ClusterInstance> = instances
            .into_iter()
            .map(|i| {
                let key = format!("{}/{}", i.job_name, i.id);
                let healed: Vec<&DirectorEvent> = events
                    .iter()
                    .filter(|e| is_resurrection(e) && e.instance.as_deref() == Some(&key))
                    .collect();
                ClusterInstance {
                    group: i.job_name,
                    id: i.id,
                    index: i.index,
                    az: i.az,
                    ips: i.ips,
                    vm_cid: i.vm_cid,
                    job_state: i.job_state.unwrap_or_default(),
                    resurrections: healed.len(),
                    last_resurrected: healed.iter().map(|e| e.timestamp).max(),
                }
            })
            .collect();
        shown.sort_by(|a, b| {
            group_rank(&a.group)
                .cmp(&group_rank(&b.group))
                .then(a.index.cmp(&b.index))
                .then(a.id.cmp(&b.id))
        });

        let adapter_warnings = operations
            .iter()
            .find(|o| o.manifest.is_some())
            .and_then(|o| o.manifest_plan.clone())
            .or(row.manifest_plan.clone())
            .map(|plan| super::adapter_warnings::of_plan(&plan))
            .unwrap_or_default();
        let manifest = match operations
            .iter()
            .find_map(|o| o.manifest.clone())
            .or(row.manifest.clone())
        {
            Some(text) => Some(self.redacted_manifest(&text).await?),
            None => None,
        };
        let operations = operations
            .into_iter()
            .map(|o| {
                let kind = OperationKind::parse(&o.kind)?;
                let state = OperationState::parse(&o.state)?;
                Ok(ClusterOperation {
                    action: kind.as_str().to_ascii_uppercase(),
                    state: state.as_str().to_owned(),
                    description: kind.description(state).to_owned(),
                    started_at: o.started_at,
                    finished_at: o.finished_at,
                    task_id: o.task_id,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ClusterDetail {
            cluster,
            instances: shown,
            events,
            manifest,
            operations,
            adapter_warnings,
        })
    }

    /// A cluster manifest with the PKS tile's credential values replaced by their placeholders.
    async fn redacted_manifest(&self, text: &str) -> Result<String> {
        let manifest: Value = tiles::yaml::load(text)
            .map_err(|e| crate::Error::Internal(format!("a stored cluster manifest: {e}")))?;
        let guid = self
            .inner
            .installations
            .deployed_products()
            .await?
            .into_iter()
            .find(|p| p.name == PKS_PRODUCT)
            .map(|p| p.guid);
        let secrets = match guid {
            Some(guid) => self.inner.credentials.deployed_secrets(&guid).await?,
            None => Vec::new(),
        };
        let redacted = crate::installations::render::redact(&manifest, &secrets);
        Ok(tiles::yaml::to_yaml_string(&redacted))
    }
}

/// The resurrector recreating an instance (`recreate instance`, by the health monitor).
fn is_resurrection(e: &DirectorEvent) -> bool {
    e.user == HEALTH_MONITOR && e.action == "recreate" && e.object_type == "instance"
}

/// Masters first, then workers, then anything else.
fn group_rank(group: &str) -> u8 {
    match group {
        "master" => 0,
        "worker" => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(user: &str, action: &str, object_type: &str) -> DirectorEvent {
        DirectorEvent {
            id: "1".into(),
            timestamp: 0,
            user: user.into(),
            action: action.into(),
            object_type: object_type.into(),
            object_name: None,
            task: None,
            deployment: None,
            instance: Some("worker/a".into()),
            context: None,
            error: None,
        }
    }

    #[test]
    fn only_the_health_monitors_recreations_are_resurrections() {
        assert!(is_resurrection(&event(
            "health_monitor",
            "recreate",
            "instance"
        )));
        assert!(!is_resurrection(&event("admin", "recreate", "instance")));
        assert!(!is_resurrection(&event("health_monitor", "create", "vm")));
    }
}
