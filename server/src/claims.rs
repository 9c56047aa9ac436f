//! Background work claimed from the database, so that with several replicas each piece runs on
//! exactly one: a broker operation ([`BROKER_OPERATION`]) or a fleet run ([`FLEET_RUN`]). The
//! replica that starts the work claims it (`store::claims`, one row per piece naming the replica
//! and a lease) and renews the lease while it runs ([`Claims::keep`]); when the work ends the
//! claim is released. Every replica looks for unfinished work now and then; it takes over only
//! work whose claim's lease ran out (its replica died), or at start its own (same
//! `--replica-id`) — never work another live replica renews. Work that loses its claim stops.

use std::time::Duration;

use tokio::sync::watch;

use crate::installations::lease::{now_ms, Replica};
use crate::store::Store;
use crate::Result;

pub const BROKER_OPERATION: &str = "broker_operation";
pub const FLEET_RUN: &str = "fleet_run";

/// This replica's claims.
#[derive(Debug, Clone)]
pub struct Claims {
    store: Store,
    replica: Replica,
}

/// Renews a claim until dropped; [`ClaimKeeper::lost`] resolves if another replica took it.
#[must_use = "the claim is only renewed while the keeper is held"]
pub struct ClaimKeeper {
    task: tokio::task::JoinHandle<()>,
    lost: watch::Receiver<bool>,
}

impl ClaimKeeper {
    /// Resolves once the claim is no longer this replica's (never, while it is).
    pub async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
        if !*self.lost.borrow() {
            // The renewing task ended without losing the claim: wait forever.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for ClaimKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Claims {
    pub fn new(store: Store, replica: Replica) -> Claims {
        Claims { store, replica }
    }

    pub fn replica_id(&self) -> &str {
        &self.replica.id
    }

    fn until(&self) -> i64 {
        now_ms().saturating_add(i64::try_from(self.replica.lease.as_millis()).unwrap_or(i64::MAX))
    }

    /// Claims work nobody holds (or whose holder's lease ran out): `false` when another
    /// replica holds it.
    pub async fn take(&self, kind: &str, id: i64) -> Result<bool> {
        self.store
            .claims()
            .take(kind, id, &self.replica.id, now_ms(), self.until(), false)
            .await
    }

    /// At start: like [`Claims::take`], and also work this replica (same `--replica-id`) held
    /// before it restarted.
    pub async fn take_at_start(&self, kind: &str, id: i64) -> Result<bool> {
        self.store
            .claims()
            .take(kind, id, &self.replica.id, now_ms(), self.until(), true)
            .await
    }

    /// Renews the claim every third of the lease until the keeper is dropped.
    pub fn keep(&self, kind: &'static str, id: i64) -> ClaimKeeper {
        let (tx, lost) = watch::channel(false);
        let claims = self.clone();
        let task = tokio::spawn(async move {
            let every = (claims.replica.lease / 3).max(Duration::from_millis(200));
            loop {
                tokio::time::sleep(every).await;
                match claims
                    .store
                    .claims()
                    .renew(kind, id, &claims.replica.id, claims.until())
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(kind, id, "this replica's claim was taken over; stopping");
                        let _ = tx.send(true);
                        return;
                    }
                    Err(e) => tracing::warn!(kind, id, error = %e, "renewing a claim"),
                }
            }
        });
        ClaimKeeper { task, lost }
    }

    /// Ends the claim (the work ended).
    pub async fn release(&self, kind: &str, id: i64) {
        if let Err(e) = self
            .store
            .claims()
            .release(kind, id, &self.replica.id)
            .await
        {
            tracing::warn!(kind, id, error = %e, "releasing a claim");
        }
    }
}
