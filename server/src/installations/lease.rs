//! The Apply Changes lock across replicas. The lock is the running installation row (at most
//! one: a unique index); it names its holder, the replica running it (`--replica-id`), and
//! carries a lease the holder renews while the apply runs ([`Installations::keep_lease`]).
//! Every replica watches for a running row whose lease ran out — its holder died (kill -9, a
//! lost machine) or lost the database — and marks it failed ([`Installations::fail_abandoned`]),
//! one statement so exactly one replica does it; the next apply then goes ahead.
//!
//! Configuration writes check the same row (`Products::begin_write`), so a write during an
//! apply is refused with 409 by every replica, not only by the one running it.

use std::time::Duration;

use super::recovery::RESTART_LINE;
use super::{now_rfc3339, Installations};
use crate::store::Backend;
use crate::Result;

/// The default of `--apply-lease-secs`.
pub const DEFAULT_APPLY_LEASE_SECS: u64 = 30;

/// Who this replica is and how long its leases last.
#[derive(Debug, Clone)]
pub struct Replica {
    /// The holder name written into the installations it runs.
    pub id: String,
    /// How long an apply's lock outlives its holder's last renewal.
    pub lease: Duration,
}

impl Replica {
    /// `id` (or, without one, the host name and process id: unique among live processes, but
    /// new after a restart) and a lease of `lease_secs`.
    pub fn new(id: Option<String>, lease_secs: u64) -> Replica {
        let id = id.filter(|id| !id.trim().is_empty()).unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "tileworks".to_owned());
            format!("{host}-{}", std::process::id())
        });
        Replica {
            id,
            lease: Duration::from_secs(lease_secs.max(1)),
        }
    }
}

impl Default for Replica {
    fn default() -> Self {
        Replica::new(None, DEFAULT_APPLY_LEASE_SECS)
    }
}

/// Renews an installation's lease until dropped; [`LeaseKeeper::lost`] resolves once another
/// replica failed the installation (this one stopped renewing in time: slow, not dead).
#[must_use = "the lease is only renewed while the keeper is held"]
pub struct LeaseKeeper {
    task: tokio::task::JoinHandle<()>,
    lost: tokio::sync::watch::Receiver<bool>,
}

impl LeaseKeeper {
    /// Resolves once the installation is no longer this replica's (never, while it is).
    pub async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
        if !*self.lost.borrow() {
            // The renewing task ended without losing the lease: wait forever.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The line an installation failed for a lost lease ends with.
pub fn lease_line(holder: &str, by: &str) -> String {
    format!(
        "Replica {holder} running this installation stopped renewing its lock (it stopped or lost \
         the database); replica {by} marked it failed. Staged changes are kept; apply again to retry."
    )
}

pub(crate) fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Installations {
    /// Sets this replica's id and lease length (before serving requests).
    pub fn set_replica(&self, replica: Replica) {
        *self.inner.replica.lock().unwrap_or_else(|p| p.into_inner()) = replica;
    }

    pub fn replica(&self) -> Replica {
        self.inner
            .replica
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The end of a lease taken or renewed now.
    pub(crate) fn lease_until(&self) -> i64 {
        now_ms().saturating_add(millis(self.replica().lease))
    }

    /// Renews installation `id`'s lease every third of the lease until the keeper is dropped,
    /// or until the row is no longer this replica's (another replica failed it).
    pub(crate) fn keep_lease(&self, id: i64) -> LeaseKeeper {
        let service = self.clone();
        let (lost_tx, lost) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let replica = service.replica();
            let every = (replica.lease / 3).max(Duration::from_millis(200));
            loop {
                tokio::time::sleep(every).await;
                match service
                    .store()
                    .installations()
                    .renew_lease(id, &replica.id, service.lease_until())
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(
                            installation = id,
                            "this installation's lock is no longer this replica's (another \
                             replica found its lease run out and failed it); stopping it"
                        );
                        let _ = lost_tx.send(true);
                        return;
                    }
                    // Try again at the next turn; the lease covers a few missed renewals.
                    Err(e) => {
                        tracing::warn!(installation = id, error = %e, "renewing the apply lease")
                    }
                }
            }
        });
        LeaseKeeper { task, lost }
    }

    /// Marks failed the running installation whose holder is gone (its lease ran out; or, with
    /// `at_start`, it was this replica's before a restart — on SQLite, one process owns the
    /// database, so any running installation is), writes why into its log, and follows the
    /// Director tasks it left behind. Returns the ids failed.
    pub async fn fail_abandoned(&self, at_start: bool) -> Result<Vec<i64>> {
        let me = self.replica().id;
        let store = self.store().installations();
        let sqlite_start = at_start && self.store().backend() == Backend::Sqlite;
        let (now, result) = if sqlite_start {
            (i64::MAX, "Tileworks restarted during the installation")
        } else {
            (now_ms(), "the replica running it stopped renewing its lock")
        };
        let stamp = now_rfc3339();
        let explain = |holder: Option<&str>| {
            let restarted = sqlite_start || holder == Some(me.as_str());
            let line = if restarted {
                RESTART_LINE.to_owned()
            } else {
                lease_line(holder.unwrap_or("(unknown)"), &me)
            };
            format!("{stamp} {line}")
        };
        let failed = store
            .fail_abandoned(
                now,
                at_start.then_some(me.as_str()),
                &stamp,
                result,
                explain,
            )
            .await?;
        let mut ids = Vec::new();
        for (id, holder) in failed {
            tracing::warn!(
                installation = id,
                holder = holder.as_deref().unwrap_or(""),
                "installation whose replica is gone marked failed"
            );
            ids.push(id);
        }
        if ids.is_empty() && !at_start {
            return Ok(ids);
        }
        let running = store.running_id().await?;
        let tasks: Vec<_> = store
            .unfinished_tasks()
            .await?
            .into_iter()
            // At start, also tasks an earlier start did not see to their end; never the tasks
            // of the apply running now (on another replica).
            .filter(|t| {
                ids.contains(&t.installation_id) || (at_start && Some(t.installation_id) != running)
            })
            .collect();
        if !tasks.is_empty() {
            let service = self.clone();
            tokio::spawn(async move { service.reconcile(tasks).await });
        }
        Ok(ids)
    }

    /// Looks for abandoned installations every third of the lease, for as long as the process
    /// runs.
    pub fn watch_leases(&self) {
        let service = self.clone();
        tokio::spawn(async move {
            let every = (service.replica().lease / 3).max(Duration::from_millis(200));
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = service.fail_abandoned(false).await {
                    tracing::warn!(error = %e, "looking for installations of a replica that is gone");
                }
            }
        });
    }
}
