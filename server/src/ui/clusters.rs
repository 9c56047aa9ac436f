//! The UI's [`ClustersBackend`]: the Clusters and cluster pages over the broker service, the
//! same calls the PKS API makes (`http/pks.rs`), with the same per-cluster decisions
//! (`Broker::visible_cluster`/`manageable_cluster`, from the role table).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use app::backend::clusters::{
    ClusterEvent, ClusterOperationSummary, ClusterPage, ClusterSummary, ClusterVm, ClustersBackend,
    ClustersPage, FleetRunSummary, PlanSummary,
};
use app::backend::BackendError;
use app::session::CurrentUser;

use crate::auth::roles::{may_manage_cluster, may_see_cluster, role_allows, Action};
use crate::broker::clusters::{Cluster, CreateCluster};
use crate::broker::fleet::{FleetKind, FleetOptions, FleetRun, FleetState};
use crate::broker::Broker;
use crate::ui::shown;
use crate::{Error, Result};

struct UiClusters {
    broker: Broker,
}

/// The backend as the Leptos context holds it.
pub fn context(broker: &Broker) -> Arc<dyn ClustersBackend> {
    Arc::new(UiClusters {
        broker: broker.clone(),
    })
}

fn summary(caller: &CurrentUser, c: Cluster) -> ClusterSummary {
    let text = |key: &str| {
        c.parameters
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    ClusterSummary {
        worker_instances: c
            .parameters
            .get("kubernetes_worker_instances")
            .and_then(Value::as_u64),
        master_host: text("kubernetes_master_host"),
        may_manage: may_manage_cluster(caller, c.created_by.as_deref()),
        name: c.name,
        uuid: c.uuid,
        plan_name: c.plan_name,
        master_ips: c.kubernetes_master_ips,
        last_action: c.last_action,
        last_action_state: c.last_action_state,
        last_action_description: c.last_action_description,
        last_action_ago: c.last_action_at.as_deref().and_then(since),
        last_action_at: c.last_action_at,
        created_by: c.created_by,
        upgrade_available: c.upgrade_available,
        upgrade_reason: c.upgrade_reason,
    }
}

/// An enum's serde name (`in_progress`, `upgrade`), as the fleet API writes it.
fn serde_name<T: serde::Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A fleet run for the Clusters page: its clusters counted, the failed ones named.
fn fleet_summary(run: FleetRun) -> FleetRunSummary {
    let done = run
        .clusters
        .iter()
        .filter(|c| {
            matches!(
                c.state,
                FleetState::Succeeded | FleetState::Failed | FleetState::Skipped
            )
        })
        .count();
    FleetRunSummary {
        id: run.id,
        kind: serde_name(run.kind),
        state: serde_name(run.state),
        total: run.clusters.len(),
        done,
        failed: run
            .failed()
            .into_iter()
            .map(|c| {
                c.cluster_name
                    .clone()
                    .unwrap_or_else(|| c.deployment.clone())
            })
            .collect(),
        started_by: run.started_by,
        started_at: run.started_at,
    }
}

/// An RFC 3339 time relative to the server's clock ("3 min ago").
fn since(at: &str) -> Option<String> {
    let then = crate::installations::parse_rfc3339(at)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(app::backend::clusters::ago(i64::try_from(now).ok()? - then))
}

/// A worker count typed into a form: 422 naming `worker_instances` unless a whole number.
fn worker_count(text: &str) -> Result<u64> {
    text.trim().parse().map_err(|_| {
        Error::invalid(
            "worker_instances",
            format!("{:?} is not a whole number", text.trim()),
        )
    })
}

/// Unix seconds as RFC 3339.
fn unix_time(seconds: i64) -> String {
    crate::installations::format_rfc3339(seconds)
}

impl UiClusters {
    async fn page(&self, caller: &CurrentUser) -> Result<ClustersPage> {
        if self.broker.config().await?.is_none() {
            return Ok(ClustersPage {
                pks_deployed: false,
                plans: Vec::new(),
                clusters: Vec::new(),
                may_create: false,
                may_upgrade_all: false,
                fleet_run: None,
            });
        }
        let plans = self
            .broker
            .cluster_plans()
            .await?
            .into_iter()
            .map(|p| PlanSummary {
                name: p.name,
                description: p.description,
                worker_instances: p.worker_instances,
                max_worker_instances: p
                    .max_worker_instances
                    .unwrap_or(tiles::odb::DEFAULT_MAX_WORKERS),
            })
            .collect();
        let clusters = self
            .broker
            .clusters()
            .await?
            .into_iter()
            .filter(|c| may_see_cluster(caller, c.created_by.as_deref()))
            .map(|c| summary(caller, c))
            .collect();
        // A fleet run touches every principal's clusters: only those who see them all see it.
        let fleet_run = if role_allows(&caller.role, Action::ViewAllClusters) {
            self.broker.latest_fleet_run().await?.map(fleet_summary)
        } else {
            None
        };
        Ok(ClustersPage {
            pks_deployed: true,
            plans,
            clusters,
            may_create: role_allows(&caller.role, Action::ManageClusters),
            may_upgrade_all: role_allows(&caller.role, Action::ManageAllClusters),
            fleet_run,
        })
    }

    async fn detail(&self, caller: &CurrentUser, name: &str) -> Result<ClusterPage> {
        let d = self.broker.cluster_detail(caller, name).await?;
        Ok(ClusterPage {
            cluster: summary(caller, d.cluster),
            vms: d
                .instances
                .into_iter()
                .map(|i| ClusterVm {
                    group: i.group,
                    id: i.id,
                    index: i.index,
                    az: i.az,
                    ips: i.ips,
                    vm_cid: i.vm_cid,
                    job_state: i.job_state,
                    resurrections: i.resurrections,
                    last_resurrected: i.last_resurrected.map(unix_time),
                })
                .collect(),
            events: d
                .events
                .into_iter()
                .map(|e| ClusterEvent {
                    time: unix_time(e.timestamp),
                    user: e.user,
                    action: e.action,
                    object_type: e.object_type,
                    object_name: e.object_name,
                    instance: e.instance,
                    task: e.task,
                    error: e.error,
                })
                .collect(),
            manifest: d.manifest,
            operations: d
                .operations
                .into_iter()
                .map(|o| ClusterOperationSummary {
                    action: o.action,
                    state: o.state,
                    description: o.description,
                    started_at: o.started_at,
                    finished_at: o.finished_at,
                    task_id: o.task_id,
                })
                .collect(),
            adapter_warnings: d.adapter_warnings,
        })
    }

    async fn create(
        &self,
        caller: &CurrentUser,
        name: &str,
        plan_name: &str,
        worker_instances: &str,
        external_hostname: &str,
    ) -> Result<ClusterSummary> {
        crate::http::pks::check_name(name)?;
        if plan_name.trim().is_empty() {
            return Err(Error::invalid("plan_name", "is required"));
        }
        let workers = worker_count(worker_instances)?;
        let host = external_hostname.trim();
        tiles::odb::check_host(host).map_err(|m| Error::invalid("external_hostname", m))?;
        let mut parameters = Map::new();
        parameters.insert("worker_instances".into(), json!(workers));
        parameters.insert("external_hostname".into(), json!(host));
        let cluster = self
            .broker
            .create_cluster(CreateCluster {
                name: name.to_owned(),
                plan_name: plan_name.to_owned(),
                parameters,
                created_by: caller.username.clone(),
            })
            .await?;
        Ok(summary(caller, cluster))
    }

    async fn resize(&self, caller: &CurrentUser, name: &str, worker_instances: &str) -> Result<()> {
        self.broker.manageable_cluster(caller, name).await?;
        let workers = worker_count(worker_instances)?;
        let mut parameters = Map::new();
        parameters.insert("worker_instances".into(), json!(workers));
        self.broker.update_cluster(name, parameters).await
    }
}

#[async_trait::async_trait]
impl ClustersBackend for UiClusters {
    async fn clusters_page(
        &self,
        caller: &CurrentUser,
    ) -> std::result::Result<ClustersPage, BackendError> {
        self.page(caller).await.map_err(shown)
    }

    async fn cluster_page(
        &self,
        caller: &CurrentUser,
        name: &str,
    ) -> std::result::Result<ClusterPage, BackendError> {
        self.detail(caller, name).await.map_err(shown)
    }

    async fn create_cluster(
        &self,
        caller: &CurrentUser,
        name: &str,
        plan_name: &str,
        worker_instances: &str,
        external_hostname: &str,
    ) -> std::result::Result<ClusterSummary, BackendError> {
        self.create(caller, name, plan_name, worker_instances, external_hostname)
            .await
            .map_err(shown)
    }

    async fn resize_cluster(
        &self,
        caller: &CurrentUser,
        name: &str,
        worker_instances: &str,
    ) -> std::result::Result<(), BackendError> {
        self.resize(caller, name, worker_instances)
            .await
            .map_err(shown)
    }

    async fn upgrade_cluster(
        &self,
        caller: &CurrentUser,
        name: &str,
    ) -> std::result::Result<(), BackendError> {
        async {
            self.broker.manageable_cluster(caller, name).await?;
            self.broker.upgrade_cluster(name).await
        }
        .await
        .map_err(shown)
    }

    async fn upgrade_all_clusters(
        &self,
        caller: &CurrentUser,
    ) -> std::result::Result<FleetRunSummary, BackendError> {
        // The gate let only `ManageAllClusters` through; the errand's own settings (one
        // cluster at a time, five attempts), as the PKS tile runs it.
        self.broker
            .start_fleet(
                FleetKind::Upgrade,
                FleetOptions::default(),
                &caller.username,
            )
            .await
            .map(fleet_summary)
            .map_err(shown)
    }

    async fn delete_cluster(
        &self,
        caller: &CurrentUser,
        name: &str,
    ) -> std::result::Result<(), BackendError> {
        async {
            self.broker.manageable_cluster(caller, name).await?;
            self.broker.delete_cluster(name).await
        }
        .await
        .map_err(shown)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn worker_counts_are_whole_numbers() {
        assert_eq!(super::worker_count(" 3 ").unwrap(), 3);
        assert!(matches!(
            super::worker_count("three"),
            Err(crate::Error::Invalid { ref field, .. }) if field == "worker_instances"
        ));
    }

    #[test]
    fn unix_times_read_as_rfc3339() {
        assert_eq!(super::unix_time(0), "1970-01-01T00:00:00Z");
    }
}
