//! ODB's management API, what the platform's operators (and ODB's own errands) ask the broker
//! about its fleet: every service instance it knows, and the orphans — deployments named like
//! service instances (`service-instance_<id>`) on the Director that the broker does not know
//! (its record was lost, or something else deployed them). Orphans are listed, never deleted:
//! deleting a cluster is an operator's decision.

use serde::Serialize;

use super::catalog::INSTANCE_PREFIX;
use super::Broker;
use crate::Result;

/// A service instance as `GET /mgmt/service_instances` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedInstance {
    pub service_instance_id: String,
    pub plan_id: String,
}

/// A deployment as `GET /mgmt/orphan_deployments` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrphanDeployment {
    pub deployment_name: String,
}

impl Broker {
    /// Every service instance the broker knows, oldest first.
    pub async fn service_instances(&self) -> Result<Vec<ManagedInstance>> {
        Ok(self
            .store()
            .broker()
            .all_instances()
            .await?
            .into_iter()
            .map(|row| ManagedInstance {
                service_instance_id: row.id,
                plan_id: row.plan_id,
            })
            .collect())
    }

    /// The Director's service-instance deployments the broker does not know.
    pub async fn orphan_deployments(&self) -> Result<Vec<OrphanDeployment>> {
        let known: std::collections::HashSet<String> = self
            .store()
            .broker()
            .all_instances()
            .await?
            .into_iter()
            .map(|row| row.id)
            .collect();
        let mut orphans: Vec<OrphanDeployment> = self
            .director()
            .deployments()
            .await?
            .into_iter()
            .filter_map(|d| {
                let id = d.name.strip_prefix(INSTANCE_PREFIX)?;
                (!known.contains(id)).then(|| OrphanDeployment {
                    deployment_name: d.name.clone(),
                })
            })
            .collect();
        orphans.sort_by(|a, b| a.deployment_name.cmp(&b.deployment_name));
        Ok(orphans)
    }
}
