//! Clusters by name, as the PKS API (`/pks/v1`, `http/pks.rs`) sees the broker's instances
//! (bosh-cfcr-pks-odb.md §3.5): every change goes through the same provision, update,
//! deprovision and bind as the OSB API, so the two never disagree. A cluster is an instance
//! with a name (unique; stored with the instance) and its creator; its `uuid` is the instance
//! id, its last action the instance's latest operation, with ODB's descriptions.
//!
//! Refusals are the Tileworks API's (`422` naming the field, `404`/`409` naming the cluster),
//! translated from the broker's OSB refusals by [`pks_error`]. Who may touch which cluster is
//! not decided here: `http/pks.rs` asks `auth::roles` with [`Cluster::created_by`].

use serde_json::{json, Map, Value};
use tiles::odb;

use super::bindings::{Bind, Bound};
use super::catalog::{BrokerConfig, INSTANCE_PREFIX};
use super::instances::ClusterName;
use super::operations::{OperationKind, OperationState};
use super::{Broker, Deprovision, Provision, Update};
use crate::auth::roles::{self, may_manage_cluster, may_see_cluster, Action};
use crate::store::broker::InstanceRow;
use crate::{Error, Result};
use app::session::CurrentUser;

/// A plan as `GET /v1/plans` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterPlan {
    pub id: String,
    pub name: String,
    pub description: String,
    pub worker_instances: Option<u64>,
    pub max_worker_instances: Option<u64>,
}

/// A cluster as the PKS API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub name: String,
    pub uuid: String,
    pub plan_name: String,
    pub created_by: Option<String>,
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub last_action: String,
    /// `in progress`, `succeeded` or `failed`.
    pub last_action_state: String,
    pub last_action_description: String,
    pub kubernetes_master_ips: Vec<String>,
    /// When the last action ended (or started, while it runs).
    pub last_action_at: Option<String>,
    /// `kubernetes_master_host`, `kubernetes_master_port`, `kubernetes_worker_instances`.
    pub parameters: Value,
    /// Deployed, and behind what its plan offers now ([`upgrade_reason`] says why):
    /// [`Broker::upgrade_cluster`] brings it up to date.
    pub upgrade_available: bool,
    /// Why an upgrade is available, in the operator's words.
    pub upgrade_reason: Option<String>,
}

/// `POST /v1/clusters`.
#[derive(Debug, Clone, Default)]
pub struct CreateCluster {
    pub name: String,
    pub plan_name: String,
    pub parameters: Map<String, Value>,
    pub created_by: String,
}

impl Broker {
    /// The catalog's plans.
    pub async fn cluster_plans(&self) -> Result<Vec<ClusterPlan>> {
        let config = self.deployed().await.map_err(pks_error)?;
        Ok(config
            .catalog
            .plans
            .iter()
            .map(|p| ClusterPlan {
                id: p.plan_id.clone(),
                name: p.name.clone(),
                description: p.description.clone(),
                worker_instances: p
                    .instance_groups
                    .iter()
                    .find(|g| g.name == "worker")
                    .map(|g| g.instances),
                max_worker_instances: p.properties.get("max_worker_instances").and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                }),
            })
            .collect())
    }

    /// Every named cluster (the caller filters what a principal may see), in the store's
    /// order. Each cluster's view asks the Director for its masters' addresses; a few are
    /// asked at once, so a long list costs a fraction of one call per cluster.
    pub async fn clusters(&self) -> Result<Vec<Cluster>> {
        use futures_util::{StreamExt, TryStreamExt};
        let config = self.deployed().await.map_err(pks_error)?;
        let rows = self.store().broker().named_instances().await?;
        futures_util::stream::iter(rows)
            .map(|row| self.cluster_view(&config, row))
            .buffered(LIST_CONCURRENCY)
            .try_collect()
            .await
    }

    /// The cluster `name`, or 404 naming it.
    pub async fn cluster(&self, name: &str) -> Result<Cluster> {
        let config = self.deployed().await.map_err(pks_error)?;
        let row = self.named(name).await?;
        self.cluster_view(&config, row).await
    }

    /// Creates a cluster: a provision with a fresh instance id, the plan named, the parameters
    /// as given (the service adapter checks them and names what it refuses).
    pub async fn create_cluster(&self, c: CreateCluster) -> Result<Cluster> {
        let config = self.deployed().await.map_err(pks_error)?;
        let plan = config
            .catalog
            .plans
            .iter()
            .find(|p| p.name == c.plan_name)
            .ok_or_else(|| {
                let names: Vec<&str> = config
                    .catalog
                    .plans
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect();
                Error::invalid(
                    "plan_name",
                    format!(
                        "{:?} is not a plan; the plans are {}",
                        c.plan_name,
                        names.join(", ")
                    ),
                )
            })?;
        if self
            .store()
            .broker()
            .instance_by_cluster_name(&c.name)
            .await?
            .is_some()
        {
            return Err(Error::Conflict(format!("cluster '{}'", c.name)));
        }
        let instance_id = new_uuid();
        self.provision(Provision {
            instance_id,
            accepts_incomplete: true,
            service_id: config.catalog.id.clone(),
            plan_id: plan.plan_id.clone(),
            parameters: c.parameters,
            cluster: Some(ClusterName {
                name: c.name.clone(),
                created_by: c.created_by,
            }),
            ..Provision::default()
        })
        .await
        .map_err(pks_error)?;
        self.cluster(&c.name).await
    }

    /// Changes a cluster's parameters (`kubernetes_worker_instances`): an update on its plan.
    pub async fn update_cluster(&self, name: &str, parameters: Map<String, Value>) -> Result<()> {
        let config = self.deployed().await.map_err(pks_error)?;
        let row = self.named(name).await?;
        self.update(Update {
            instance_id: row.id,
            accepts_incomplete: true,
            service_id: config.catalog.id.clone(),
            parameters,
            ..Update::default()
        })
        .await
        .map_err(|e| busy_or(e, name))?;
        Ok(())
    }

    /// Deletes a cluster (its deployment, then the instance).
    pub async fn delete_cluster(&self, name: &str) -> Result<()> {
        let config = self.deployed().await.map_err(pks_error)?;
        let row = self.named(name).await?;
        self.deprovision(Deprovision {
            instance_id: row.id,
            accepts_incomplete: true,
            service_id: Some(config.catalog.id.clone()),
            plan_id: Some(row.plan_id),
        })
        .await
        .map_err(|e| busy_or(e, name))?;
        Ok(())
    }

    /// A kubeconfig for the cluster (`pks get-credentials`): a binding per principal, made on
    /// its first call and handed out again after; the kubeconfig's cluster and context carry the
    /// cluster's name.
    pub async fn cluster_credentials(&self, name: &str, principal: &str) -> Result<Value> {
        let config = self.deployed().await.map_err(pks_error)?;
        let row = self.named(name).await?;
        let binding_id = format!("pks-{principal}");
        let bound = self
            .bind(Bind {
                instance_id: row.id.clone(),
                binding_id: binding_id.clone(),
                service_id: config.catalog.id.clone(),
                plan_id: row.plan_id.clone(),
                ..Bind::default()
            })
            .await;
        let credentials = match bound {
            Ok(Bound::Created(c) | Bound::Exists(c)) => c,
            // Bound before a plan change: the same binding, asked with another plan.
            Err(Error::Osb { status: 409, .. }) => self
                .binding(&row.id, &binding_id)
                .await
                .map_err(pks_error)?,
            Err(e) => return Err(busy_or(e, name)),
        };
        let mut kubeconfig = credentials
            .get("credentials")
            .and_then(|c| c.get("kubeconfig"))
            .cloned()
            .ok_or_else(|| Error::Internal("the binding carries no kubeconfig".into()))?;
        rename(&mut kubeconfig, &row.id, name);
        Ok(kubeconfig)
    }

    /// The cluster `name` if `caller` may see it, else 404 as for an unknown one.
    pub async fn visible_cluster(&self, caller: &CurrentUser, name: &str) -> Result<Cluster> {
        let cluster = self.cluster(name).await?;
        if may_see_cluster(caller, cluster.created_by.as_deref()) {
            Ok(cluster)
        } else {
            Err(not_found(name))
        }
    }

    /// The cluster `name` if `caller` may change it (404 unseen, 403 seen but not theirs).
    pub async fn manageable_cluster(&self, caller: &CurrentUser, name: &str) -> Result<Cluster> {
        let cluster = self.visible_cluster(caller, name).await?;
        if may_manage_cluster(caller, cluster.created_by.as_deref()) {
            Ok(cluster)
        } else {
            Err(roles::refusal(&caller.role, Action::ManageAllClusters))
        }
    }

    /// Upgrades a cluster: its manifest rendered again from its current plan (the deployed
    /// tile's releases, stemcell, plan values and `maintenance_info`) and deployed — ODB's
    /// per-instance upgrade (`/mgmt/service_instances/{id}/upgrade`), the path
    /// `upgrade-all-service-instances` takes for each instance.
    pub async fn upgrade_cluster(&self, name: &str) -> Result<()> {
        let config = self.deployed().await.map_err(pks_error)?;
        let row = self.named(name).await?;
        self.upgrade_instance(&config, &row.id)
            .await
            .map_err(|e| busy_or(e, name))?;
        Ok(())
    }

    pub(super) async fn named(&self, name: &str) -> Result<InstanceRow> {
        self.store()
            .broker()
            .instance_by_cluster_name(name)
            .await?
            .ok_or_else(|| not_found(name))
    }

    async fn cluster_view(&self, config: &BrokerConfig, row: InstanceRow) -> Result<Cluster> {
        let name = row.cluster_name.clone().unwrap_or_else(|| row.id.clone());
        let store = self.store().broker();
        let op = store.latest_operation(&row.id).await?;
        let (kind, state) = match &op {
            Some(op) => (
                OperationKind::parse(&op.kind)?,
                OperationState::parse(&op.state)?,
            ),
            None => (OperationKind::Create, OperationState::InProgress),
        };
        let manifest = op
            .as_ref()
            .and_then(|o| o.manifest.clone())
            .or_else(|| row.manifest.clone());
        let given: Map<String, Value> = serde_json::from_str(&row.parameters).unwrap_or_default();
        let pick = |names: &[&str]| names.iter().find_map(|n| given.get(*n).cloned());
        let workers = manifest
            .as_deref()
            .and_then(|m| tiles::yaml::load(m).ok())
            .and_then(|m| {
                m.get("instance_groups")?
                    .as_array()?
                    .iter()
                    .find(|g| g["name"] == "worker")
                    .map(|g| g["instances"].clone())
            })
            .or_else(|| pick(&["kubernetes_worker_instances", "worker_instances"]))
            .unwrap_or(Value::Null);
        let mut master_ips = Vec::new();
        if row.manifest.is_some() {
            let deployment = format!("{INSTANCE_PREFIX}{}", row.id);
            // The plain listing: addresses are the Director's, not the agents', so no task.
            // A deployment being deleted may be gone already: no addresses then.
            if let Ok(instances) = self.director().instance_list(&deployment).await {
                master_ips = instances
                    .into_iter()
                    .filter(|i| i.job == "master")
                    .flat_map(|i| i.ips)
                    .collect();
            }
        }
        let plan = config.catalog.plan(&row.plan_id);
        let plan_name = plan
            .map(|p| p.name.clone())
            .unwrap_or_else(|| row.plan_id.clone());
        let upgrade_reason = upgrade_reason(config, plan, &row);
        Ok(Cluster {
            name,
            uuid: row.id,
            plan_name,
            created_by: row.created_by,
            last_action: kind.as_str().to_ascii_uppercase(),
            last_action_state: state.as_str().to_owned(),
            last_action_description: kind.description(state).to_owned(),
            kubernetes_master_ips: master_ips,
            last_action_at: op.as_ref().map(|o| {
                o.finished_at
                    .clone()
                    .unwrap_or_else(|| o.started_at.clone())
            }),
            parameters: json!({
                "kubernetes_master_host": pick(&["kubernetes_master_host", "external_hostname"]),
                "kubernetes_master_port": pick(&["kubernetes_master_port"])
                    .unwrap_or(Value::from(odb::DEFAULT_MASTER_PORT)),
                "kubernetes_worker_instances": workers,
            }),
            upgrade_available: upgrade_reason.is_some(),
            upgrade_reason,
        })
    }
}

/// How many clusters' views [`Broker::clusters`] builds at once (each one Director call).
const LIST_CONCURRENCY: usize = 8;

/// Why a deployed cluster is behind what its plan offers now, if it is: the catalog names
/// another `maintenance_info.version` (the PKS tile was upgraded and applied), or the plan as
/// the service adapter would get it now (the tile's plan fields and global properties) is not
/// the one its manifest was rendered from (kept with the instance as `manifest_plan`): a plan
/// value such as the worker VM type was changed and applied. ODB leaves the second to
/// upgrade-all; the page says it, so the operator knows which clusters still run the old plan.
/// A cluster never deployed, or whose plan left the catalog, has nothing to upgrade to.
pub(super) fn upgrade_reason(
    config: &BrokerConfig,
    plan: Option<&super::catalog::CatalogPlan>,
    row: &InstanceRow,
) -> Option<String> {
    let plan = plan?;
    row.manifest.as_ref()?;
    let offered = config
        .catalog
        .maintenance_info(plan)
        .and_then(|m| m.version);
    if offered.is_some() && offered != row.maintenance_version {
        return Some(format!(
            "the PKS tile offers version {} (this cluster runs {})",
            offered.unwrap_or_default(),
            row.maintenance_version.as_deref().unwrap_or("an older one")
        ));
    }
    // Compared as JSON values, so the order of the stored text's keys does not matter.
    let rendered_from: Option<Value> = row
        .manifest_plan
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok());
    let now = serde_json::to_value(config.catalog.adapter_plan(plan)).ok();
    match (rendered_from, now) {
        (Some(then), Some(now)) if then != now => Some(format!(
            "plan {}'s settings changed in the PKS tile since this cluster was deployed",
            plan.name
        )),
        _ => None,
    }
}

fn not_found(name: &str) -> Error {
    Error::NotFound(format!("cluster '{name}'"))
}

/// A refusal on cluster `name`: an operation in progress is a `409` naming it.
fn busy_or(e: Error, name: &str) -> Error {
    match e {
        Error::Osb {
            error: Some(code), ..
        } if code == "ConcurrencyError" => Error::Refused(format!(
            "cluster '{name}' has an operation in progress; try again when it has finished"
        )),
        other => pks_error(other),
    }
}

/// The broker's OSB refusals in the Tileworks API's terms: `field: message` descriptions
/// become `422` naming the field.
pub fn pks_error(e: Error) -> Error {
    match e {
        Error::Osb {
            status,
            error,
            description,
        } => match (status, error.as_deref()) {
            (404, _) => Error::NotFound(description),
            (409, _) => Error::Refused(description),
            (422, Some("ConcurrencyError")) => Error::Refused(description),
            (422, Some("QuotaExceeded")) => Error::invalid("plan_name", description),
            (400 | 422, _) => match description.split_once(": ") {
                Some((field, message)) if !field.contains(' ') => {
                    Error::invalid(field, message.to_owned())
                }
                _ => Error::invalid("base", description),
            },
            _ => Error::Internal(description),
        },
        other => other,
    }
}

/// Replaces every string equal to `from` in `value` by `to`.
fn rename(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(s) if s == from => *s = to.to_owned(),
        Value::Array(items) => items.iter_mut().for_each(|v| rename(v, from, to)),
        Value::Object(m) => m.values_mut().for_each(|v| rename(v, from, to)),
        _ => {}
    }
}

/// A random (version 4) UUID, as PKS gives clusters.
fn new_uuid() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, new_uuid());
    }

    #[test]
    fn osb_refusals_name_the_field() {
        let e = pks_error(super::super::refusals::invalid(
            "kubernetes_worker_instances",
            "at most 3",
        ));
        assert!(
            matches!(e, Error::Invalid { ref field, .. } if field == "kubernetes_worker_instances")
        );
        let e = pks_error(super::super::refusals::not_found(
            "the PKS tile is not deployed",
        ));
        assert!(matches!(e, Error::NotFound(_)));
    }
}
