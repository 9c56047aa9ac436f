//! A cluster deployment's instances as the Director reports them, shared by everyone who asks
//! about the same deployment within [`FRESH_FOR`], with one call per deployment in flight at a
//! time. On a real Director `instances?format=full` is a task that asks every agent; the PKS
//! API, the Clusters page (master IPs of every cluster) and each open cluster page (polling
//! every 2 seconds) would otherwise start one such task per look. The same rule as the Status
//! tab's (`installations/status.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::director_client::instances::Instance;
use crate::director_client::DirectorClient;
use crate::Result;

/// How long one Director answer serves every look at a deployment.
pub const FRESH_FOR: Duration = Duration::from_millis(1500);

/// The last answer per deployment, behind a per-deployment async lock (single flight).
type Slot = Arc<tokio::sync::Mutex<Option<(Instant, Vec<Instance>)>>>;

#[derive(Default)]
pub struct InstanceLooks {
    slots: std::sync::Mutex<HashMap<String, Slot>>,
}

impl InstanceLooks {
    fn slot(&self, deployment: &str) -> Slot {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.entry(deployment.to_owned()).or_default().clone()
    }

    /// The deployment's instances: the last answer while fresh, else asked again.
    pub async fn instances(
        &self,
        director: &DirectorClient,
        deployment: &str,
    ) -> Result<Vec<Instance>> {
        let slot = self.slot(deployment);
        let mut last = slot.lock().await;
        if let Some((at, instances)) = last.as_ref() {
            if at.elapsed() < FRESH_FOR {
                return Ok(instances.clone());
            }
        }
        let instances = director.instances(deployment, |_| {}).await?;
        *last = Some((Instant::now(), instances.clone()));
        Ok(instances)
    }
}
