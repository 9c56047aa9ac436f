//! The simulated CPI: VMs and persistent disks exist only as identifiers, and each call takes
//! the configured latency (0 by default; `--vm-create-ms` slows deploys down for demos). Every
//! call is logged to the task's `cpi` output, which `bosh task N --cpi` shows.
//!
//! The CPI can be paused (`PUT /chaos/cpi`): calls then wait until it resumes, like a slow
//! IaaS. Tests use it to hold a task inside a step deterministically, e.g. to cancel it there.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use serde_json::json;

use crate::tasks::TaskCtx;

#[derive(Debug, Clone)]
pub struct Cpi {
    latency: Duration,
    paused: Arc<watch::Sender<bool>>,
}

/// A VM the CPI created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vm {
    pub cid: String,
    pub agent_id: String,
    pub created_at: i64,
}

impl Cpi {
    pub fn new(latency_ms: u64) -> Cpi {
        Cpi {
            latency: Duration::from_millis(latency_ms),
            paused: Arc::new(watch::channel(false).0),
        }
    }

    /// Pauses (true) or resumes (false) every CPI call.
    pub fn set_paused(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    pub fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    async fn call(&self, ctx: &TaskCtx, method: &str, arguments: serde_json::Value) {
        let mut gate = self.paused.subscribe();
        // The sender lives as long as `self`, so this only returns once not paused.
        let _ = gate.wait_for(|paused| !*paused).await;
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        ctx.cpi_log(&json!({"method": method, "arguments": arguments}));
    }

    pub async fn create_vm(&self, ctx: &TaskCtx, instance: &str, vm_type: Option<&str>) -> Vm {
        let agent_id = uuid::Uuid::new_v4().to_string();
        let cid = format!("vm-{}", uuid::Uuid::new_v4());
        self.call(
            ctx,
            "create_vm",
            json!({"agent_id": agent_id, "instance": instance, "vm_type": vm_type, "cid": cid}),
        )
        .await;
        Vm {
            cid,
            agent_id,
            created_at: crate::store::unix_now(),
        }
    }

    pub async fn delete_vm(&self, ctx: &TaskCtx, cid: &str) {
        self.call(ctx, "delete_vm", json!({"vm_cid": cid})).await;
    }

    /// Applying a new spec to a running VM (the agent's `apply`, drain, stop and start).
    pub async fn update_vm(&self, ctx: &TaskCtx, cid: &str) {
        self.call(ctx, "update_vm", json!({"vm_cid": cid})).await;
    }

    pub async fn create_disk(&self, ctx: &TaskCtx, size_mb: i64, vm_cid: Option<&str>) -> String {
        let cid = format!("disk-{}", uuid::Uuid::new_v4());
        self.call(
            ctx,
            "create_disk",
            json!({"size": size_mb, "vm_locality": vm_cid, "cid": cid}),
        )
        .await;
        cid
    }

    pub async fn delete_disk(&self, ctx: &TaskCtx, cid: &str) {
        self.call(ctx, "delete_disk", json!({"disk_cid": cid}))
            .await;
    }
}
