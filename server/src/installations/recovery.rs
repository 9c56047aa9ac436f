//! After a restart: an installation left `running` was cut off (Tileworks stopped or crashed
//! during it). It is marked `failed` with a log line saying so; nothing staged is touched, so
//! the next apply retries everything. Director tasks it started and never saw end may still
//! run on the Director (a real one keeps going without Tileworks): they are followed in the
//! background to their end and their outcome is recorded in that installation's log.

use super::{now_rfc3339, Installations};
use crate::Result;

/// The line an interrupted installation's log ends with.
pub const RESTART_LINE: &str =
    "Tileworks restarted during this installation; it is marked failed. Staged changes are kept; apply again to retry.";

impl Installations {
    /// Marks interrupted installations failed and starts reconciling their Director tasks
    /// (see [`super::lease`] for what counts as interrupted with several replicas). Call once at
    /// start, before serving requests.
    pub async fn recover(&self) -> Result<()> {
        self.fail_abandoned(true).await?;
        Ok(())
    }

    /// Follows tasks left behind to their end and records what happened.
    pub(super) async fn reconcile(&self, tasks: Vec<crate::store::installations::TaskRow>) {
        for t in tasks {
            let Ok(task_id) = u64::try_from(t.task_id) else {
                continue;
            };
            let store = self.store().installations();
            let client = &self.director().client;
            let outcome = client.follow_task(task_id, |_| {}).await;
            let line = match &outcome {
                Ok(task) => format!(
                    "Director task {task_id} ({}, {}) left running at the restart ended: {}{}",
                    t.description,
                    t.product_guid,
                    task.state.as_str(),
                    task.result
                        .as_deref()
                        .filter(|r| !r.is_empty())
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
                Err(e) => format!(
                    "Director task {task_id} ({}, {}) left running at the restart could not be followed: {e}",
                    t.description, t.product_guid
                ),
            };
            let state = match &outcome {
                Ok(task) => task.state.as_str().to_owned(),
                Err(_) => "error".to_owned(),
            };
            let appended = async {
                let last = store.last_seq(t.installation_id).await?;
                store
                    .append_log(
                        t.installation_id,
                        last + 1,
                        &format!("{} {line}", now_rfc3339()),
                    )
                    .await?;
                store
                    .set_task_state(t.installation_id, t.task_id, &state)
                    .await
            };
            if let Err(e) = appended.await {
                tracing::error!(error = %e, task = task_id, "recording a reconciled Director task");
            }
        }
    }
}
