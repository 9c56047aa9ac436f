//! The Clusters page (`/clusters`, what `pks clusters` shows) and the cluster page
//! (`/clusters/{name}`): Kubernetes clusters made by the on-demand broker from the deployed
//! PKS tile's plans — created, resized, upgraded and deleted here, through the same broker
//! service as the PKS API (`/pks/v1`) and the OSB API, so the three never disagree.
//!
//! The server implements [`ClustersBackend`] (`server/src/ui/clusters.rs`). Which cluster a
//! principal may see or change is decided there by the role table (its creator, PKS's
//! `pks.clusters.manage`/`admin` scopes); `may_manage` below only says what to offer.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A plan a cluster can be created with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub name: String,
    pub description: String,
    /// The plan's default worker count.
    pub worker_instances: Option<u64>,
    /// The most workers a cluster of this plan may have.
    pub max_worker_instances: u64,
}

/// One cluster, as listed (`pks clusters` and a little more).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub name: String,
    pub uuid: String,
    pub plan_name: String,
    pub worker_instances: Option<u64>,
    pub master_host: Option<String>,
    pub master_ips: Vec<String>,
    /// `CREATE`, `UPDATE`, `DELETE`.
    pub last_action: String,
    /// `in progress`, `succeeded`, `failed`.
    pub last_action_state: String,
    pub last_action_description: String,
    /// When the last action ended (or started, while it runs), RFC 3339.
    pub last_action_at: Option<String>,
    /// The same as the server saw it, relative to its clock ("3 min ago", [`ago`]): one text
    /// for the server's HTML and the hydrated page.
    pub last_action_ago: Option<String>,
    pub created_by: Option<String>,
    /// Its deployment is behind what its plan offers now (the PKS tile was upgraded, or the
    /// plan's settings changed, and applied since): the page offers the upgrade.
    pub upgrade_available: bool,
    /// Why, in the operator's words ("plan small's settings changed in the PKS tile…").
    #[serde(default)]
    pub upgrade_reason: Option<String>,
    /// Whether the viewer may resize, upgrade, delete it and get its kubeconfig.
    pub may_manage: bool,
}

impl ClusterSummary {
    /// An operation runs on it: the page keeps polling.
    pub fn busy(&self) -> bool {
        self.last_action_state == "in progress"
    }
}

/// What the Clusters page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClustersPage {
    /// `false` while the PKS tile is not deployed (no broker, no plans).
    pub pks_deployed: bool,
    pub plans: Vec<PlanSummary>,
    pub clusters: Vec<ClusterSummary>,
    /// Whether the viewer may create clusters.
    pub may_create: bool,
    /// Whether the viewer may upgrade every cluster at once (a fleet run touches every
    /// principal's clusters: PKS's `pks.clusters.admin`).
    #[serde(default)]
    pub may_upgrade_all: bool,
    /// The latest fleet run (upgrade-all, recreate-all, delete-all), for viewers who may see
    /// every cluster.
    #[serde(default)]
    pub fleet_run: Option<FleetRunSummary>,
}

/// A fleet run as the Clusters page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetRunSummary {
    pub id: u64,
    /// `upgrade`, `recreate`, `delete`.
    pub kind: String,
    /// `pending`, `in_progress`, `succeeded`, `failed`.
    pub state: String,
    pub started_by: String,
    pub started_at: String,
    /// Clusters done (succeeded, failed or skipped) of all.
    pub done: usize,
    pub total: usize,
    /// The clusters that failed, by name.
    pub failed: Vec<String>,
}

impl FleetRunSummary {
    /// Still going: the page keeps polling.
    pub fn running(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "in_progress")
    }
}

/// One VM of a cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterVm {
    pub group: String,
    pub id: String,
    pub index: Option<u64>,
    pub az: Option<String>,
    pub ips: Vec<String>,
    pub vm_cid: Option<String>,
    pub job_state: String,
    /// How often the Director's resurrector recreated it, and when last (RFC 3339).
    pub resurrections: usize,
    pub last_resurrected: Option<String>,
}

/// One Director event of the cluster's deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterEvent {
    /// RFC 3339.
    pub time: String,
    pub user: String,
    pub action: String,
    pub object_type: String,
    pub object_name: Option<String>,
    pub instance: Option<String>,
    pub task: Option<String>,
    pub error: Option<String>,
}

/// One operation the broker ran on the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterOperationSummary {
    pub action: String,
    pub state: String,
    pub description: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub task_id: Option<i64>,
}

/// What the cluster page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPage {
    pub cluster: ClusterSummary,
    pub vms: Vec<ClusterVm>,
    pub events: Vec<ClusterEvent>,
    /// YAML, every credential as a `((placeholder))`.
    pub manifest: Option<String>,
    pub operations: Vec<ClusterOperationSummary>,
    /// Plan settings its manifest could not carry (the service adapter's warnings for the
    /// plan it was rendered from: admission plugins, drain settings, cloud-config keys kubo
    /// does not know…), each said once.
    #[serde(default)]
    pub adapter_warnings: Vec<String>,
}

/// `seconds` before now as people say it: "just now", "45 s ago", "3 min ago", "2 h ago",
/// "5 days ago" (whole units, rounded down); a time ahead of the clock (skew) is "just now".
pub fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 5 => "just now".to_owned(),
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s if s < 2 * 86_400 => "1 day ago".to_owned(),
        s => format!("{} days ago", s / 86_400),
    }
}

/// What is wrong with a create form's values for `plan`, by field (`name`, `plan_name`,
/// `worker_instances`, `external_hostname`): the page shows it as the operator types; the
/// server checks the same rules (`tiles::odb`) and answers `422` naming the field.
pub fn create_problems(
    plans: &[PlanSummary],
    name: &str,
    plan_name: &str,
    worker_instances: &str,
    external_hostname: &str,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Err(m) = tiles::odb::check_cluster_name(name) {
        out.push(("name", m));
    }
    match plans.iter().find(|p| p.name == plan_name) {
        None => out.push(("plan_name", "choose a plan".to_owned())),
        Some(plan) => {
            if let Err(m) = worker_count(worker_instances, plan.max_worker_instances) {
                out.push(("worker_instances", m));
            }
        }
    }
    if let Err(m) = tiles::odb::check_host(external_hostname.trim()) {
        out.push(("external_hostname", m));
    }
    out
}

/// A worker count typed into a form, within a plan's maximum.
pub fn worker_count(text: &str, max: u64) -> Result<u64, String> {
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{:?} is not a whole number", text.trim()))?;
    tiles::odb::check_worker_count(n, max)?;
    Ok(n)
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use crate::session::CurrentUser;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn ClustersBackend>`.
    #[async_trait::async_trait]
    pub trait ClustersBackend: Send + Sync + 'static {
        async fn clusters_page(&self, caller: &CurrentUser) -> Result<ClustersPage, BackendError>;
        async fn cluster_page(
            &self,
            caller: &CurrentUser,
            name: &str,
        ) -> Result<ClusterPage, BackendError>;
        async fn create_cluster(
            &self,
            caller: &CurrentUser,
            name: &str,
            plan_name: &str,
            worker_instances: &str,
            external_hostname: &str,
        ) -> Result<ClusterSummary, BackendError>;
        async fn resize_cluster(
            &self,
            caller: &CurrentUser,
            name: &str,
            worker_instances: &str,
        ) -> Result<(), BackendError>;
        async fn upgrade_cluster(
            &self,
            caller: &CurrentUser,
            name: &str,
        ) -> Result<(), BackendError>;
        /// Starts upgrade-all (the PKS tile's errand settings: one cluster at a time).
        async fn upgrade_all_clusters(
            &self,
            caller: &CurrentUser,
        ) -> Result<FleetRunSummary, BackendError>;
        async fn delete_cluster(
            &self,
            caller: &CurrentUser,
            name: &str,
        ) -> Result<(), BackendError>;
    }

    /// The clusters backend of the current request.
    pub fn clusters_backend() -> Result<Arc<dyn ClustersBackend>, ServerFnError> {
        crate::backend::context::<dyn ClustersBackend>()
    }
}

/// The Clusters page's data.
#[server(prefix = "/_app", endpoint = "clusters_page")]
pub async fn load_clusters_page() -> Result<ClustersPage, ServerFnError> {
    let caller = crate::backend::caller().await?;
    clusters_backend()?
        .clusters_page(&caller)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// The cluster page's data.
#[server(prefix = "/_app", endpoint = "cluster_page")]
pub async fn load_cluster_page(name: String) -> Result<ClusterPage, ServerFnError> {
    let caller = crate::backend::caller().await?;
    clusters_backend()?
        .cluster_page(&caller, &name)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Creates a cluster (answers at once; the page follows the provisioning).
#[server(prefix = "/_app", endpoint = "create_cluster")]
pub async fn create_cluster(
    name: String,
    plan_name: String,
    worker_instances: String,
    external_hostname: String,
) -> Result<ClusterSummary, ServerFnError> {
    let caller = crate::backend::caller().await?;
    clusters_backend()?
        .create_cluster(
            &caller,
            &name,
            &plan_name,
            &worker_instances,
            &external_hostname,
        )
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Gives a cluster another worker count.
#[server(prefix = "/_app", endpoint = "resize_cluster")]
pub async fn resize_cluster(name: String, worker_instances: String) -> Result<(), ServerFnError> {
    let caller = crate::backend::caller().await?;
    clusters_backend()?
        .resize_cluster(&caller, &name, &worker_instances)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Upgrades a cluster to its plan as the deployed PKS tile has it now.
#[server(prefix = "/_app", endpoint = "upgrade_cluster")]
pub async fn upgrade_cluster(name: String) -> Result<(), ServerFnError> {
    let caller = crate::backend::caller().await?;
    clusters_backend()?
        .upgrade_cluster(&caller, &name)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Upgrades every cluster to its plan as the deployed PKS tile has it now: a fleet run, as
/// the `upgrade-all-service-instances` errand runs it (answers at once; the page follows it).
#[server(prefix = "/_app", endpoint = "upgrade_all_clusters")]
pub async fn upgrade_all_clusters() -> Result<FleetRunSummary, ServerFnError> {
    let caller = crate::backend::caller().await?;
    clusters_backend()?
        .upgrade_all_clusters(&caller)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Deletes a cluster (its deployment, then its record).
#[server(prefix = "/_app", endpoint = "delete_cluster")]
pub async fn delete_cluster(name: String) -> Result<(), ServerFnError> {
    let caller = crate::backend::caller().await?;
    clusters_backend()?
        .delete_cluster(&caller, &name)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans() -> Vec<PlanSummary> {
        vec![PlanSummary {
            name: "small".into(),
            description: String::new(),
            worker_instances: Some(3),
            max_worker_instances: 5,
        }]
    }

    #[test]
    fn times_read_relative_to_now() {
        assert_eq!(ago(-30), "just now");
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(4), "just now");
        assert_eq!(ago(5), "5 s ago");
        assert_eq!(ago(59), "59 s ago");
        assert_eq!(ago(60), "1 min ago");
        assert_eq!(ago(3599), "59 min ago");
        assert_eq!(ago(3600), "1 h ago");
        assert_eq!(ago(86_399), "23 h ago");
        assert_eq!(ago(86_400), "1 day ago");
        assert_eq!(ago(3 * 86_400 + 5), "3 days ago");
    }

    #[test]
    fn the_form_is_checked_against_the_plan() {
        assert!(create_problems(&plans(), "k8s", "small", "3", "k8s.example.com").is_empty());
        let fields =
            |p: Vec<(&'static str, String)>| p.into_iter().map(|(f, _)| f).collect::<Vec<_>>();
        assert_eq!(
            fields(create_problems(&plans(), "k 8s", "small", "6", "a b")),
            ["name", "worker_instances", "external_hostname"]
        );
        assert_eq!(
            fields(create_problems(&plans(), "k8s", "large", "1", "10.0.0.1")),
            ["plan_name"]
        );
        assert!(worker_count("0", 5).is_err());
        assert!(worker_count("two", 5).is_err());
        assert_eq!(worker_count(" 5 ", 5), Ok(5));
    }
}
