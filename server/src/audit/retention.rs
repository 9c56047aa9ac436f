//! Audit retention: entries older than the retention period (`--audit-retention-days`,
//! `TILEWORKS_AUDIT_RETENTION_DAYS`, default [`DEFAULT_DAYS`]) are pruned in the background,
//! at start and every [`INTERVAL`] after, so the trail does not grow forever. Each prune that
//! removes anything is itself an entry (when, how many, the cutoff); nothing else deletes
//! entries, and the database lets a row go only when it is older than the cutoff the prune
//! records first (migration 0025).
//!
//! The period is a start-up setting, as Tileworks's other operational limits are: whoever
//! starts Tileworks (an administrator of the machine) sets it; the Audit page and `GET
//! /api/v0/audit_events` show it.

use std::time::Duration;

use serde_json::json;

use crate::store::audit::{rfc3339, NewEvent};
use crate::store::Store;
use crate::Result;

/// A year: long enough for the usual compliance reviews, short enough to bound the table.
pub const DEFAULT_DAYS: u32 = 365;
/// The longest period accepted (a century: in effect, keep everything).
pub const MAX_DAYS: u32 = 36_500;
/// How often the prune runs after the one at start.
pub const INTERVAL: Duration = Duration::from_secs(60 * 60);

/// The route the prune's own entry names.
pub const ROUTE: &str = "audit retention";

/// Removes the entries older than `days` days; how many went. A prune that removed any is
/// recorded, in the same transaction, as a `write` by `tileworks`.
pub async fn prune(store: &Store, days: u32) -> Result<u64> {
    let cutoff = rfc3339(time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days)));
    store
        .audit()
        .prune_before(&cutoff, |pruned| NewEvent {
            principal: Some("tileworks".into()),
            role: None,
            address: None,
            method: "PRUNE".into(),
            route: ROUTE.into(),
            target: format!("audit_events before {cutoff}"),
            status: 200,
            result: super::result_of(200).into(),
            kind: super::Kind::Write.name().into(),
            body: Some(json!({
                "pruned": pruned,
                "cutoff": cutoff,
                "retention_days": days,
            })),
        })
        .await
}

/// Prunes now and every [`INTERVAL`] for as long as the process runs. A failed prune is
/// logged and tried again at the next interval; the trail only keeps growing meanwhile.
pub fn spawn(store: Store, days: u32) {
    tokio::spawn(async move {
        loop {
            match prune(&store, days).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(
                    target: "audit",
                    pruned,
                    retention_days = days,
                    "pruned audit entries older than the retention period"
                ),
                Err(err) => tracing::error!(
                    target: "audit",
                    "pruning the audit trail failed (retried in an hour): {err}"
                ),
            }
            tokio::time::sleep(INTERVAL).await;
        }
    });
}
