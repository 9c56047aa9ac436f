//! The UI's [`AuditBackend`]: the Audit page over the same reading as the API
//! (`crate::audit`), so a filter means the same in both and a bad one is refused the same way.

use std::sync::Arc;

use app::backend::audit::{AuditBackend, AuditFilters, AuditPage, AuditRow};
use app::backend::BackendError;

use crate::audit;
use crate::store::Store;
use crate::ui::shown;

struct UiAudit {
    store: Store,
    retention_days: u32,
}

/// The backend as the Leptos context holds it.
pub fn context(store: &Store, retention_days: u32) -> Arc<dyn AuditBackend> {
    Arc::new(UiAudit {
        store: store.clone(),
        retention_days,
    })
}

#[async_trait::async_trait]
impl AuditBackend for UiAudit {
    async fn audit_page(
        &self,
        filters: &AuditFilters,
        page: &str,
    ) -> Result<AuditPage, BackendError> {
        let mut pairs: Vec<(String, String)> = filters
            .pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        pairs.push(("page".into(), page.to_owned()));
        let query = audit::parse_query(&pairs).map_err(shown)?;
        let found = audit::page(&self.store, &query, self.retention_days)
            .await
            .map_err(shown)?;
        Ok(AuditPage {
            rows: found
                .audit_events
                .into_iter()
                .map(|e| AuditRow {
                    id: e.id,
                    time: e.time,
                    principal: e.principal,
                    role: e.role,
                    address: e.address,
                    method: e.method,
                    target: e.target,
                    status: e.status,
                    result: e.result,
                    kind: e.kind,
                    body: e
                        .body
                        .map(|b| serde_json::to_string_pretty(&b).unwrap_or_default()),
                })
                .collect(),
            page: found.page,
            per_page: found.per_page,
            total: found.total,
            retention_days: found.retention_days,
        })
    }
}
