//! The simulated CPI: VMs and persistent disks exist only as identifiers, and each call takes
//! the configured latency (0 by default; `--vm-create-ms` slows deploys down for demos). Every
//! call is logged to the task's `cpi` output, which `bosh task N --cpi` shows.

use std::time::Duration;

use serde_json::json;

use crate::tasks::TaskCtx;

#[derive(Debug, Clone)]
pub struct Cpi {
    latency: Duration,
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
        }
    }

    async fn call(&self, ctx: &TaskCtx, method: &str, arguments: serde_json::Value) {
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
