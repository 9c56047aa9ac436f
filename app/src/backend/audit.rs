//! The Audit page (`/audit`, administrators only): the audit trail — every write, credential
//! reveal, sign-in and refusal the gate recorded — filtered, paged, and exported.
//!
//! The server implements [`AuditBackend`] (`server/src/ui/audit.rs`) over the same reading as
//! `GET /api/v0/audit_events`, so a filter means the same on the page and in the API, and a
//! bad one is refused with the same message naming the field.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The kinds of entry, as stored and as the filter takes them.
pub const KINDS: [&str; 5] = ["write", "reveal", "sign_in", "sign_out", "refusal"];

/// The results, as stored and as the filter takes them.
pub const RESULTS: [&str; 3] = ["success", "failure", "refused"];

/// The page's filters as the GET form sends them (empty: no filter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilters {
    pub principal: String,
    pub kind: String,
    pub route: String,
    pub result: String,
    pub since: String,
    pub until: String,
}

impl AuditFilters {
    /// The filters that are set, as query fields.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("principal", self.principal.as_str()),
            ("kind", self.kind.as_str()),
            ("route", self.route.as_str()),
            ("result", self.result.as_str()),
            ("since", self.since.as_str()),
            ("until", self.until.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect()
    }

    /// The query string of these filters (without `?`), plus `extra` fields.
    pub fn query(&self, extra: &[(&str, String)]) -> String {
        self.pairs()
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .chain(extra.iter().map(|(k, v)| (*k, v.clone())))
            .map(|(k, v)| format!("{k}={}", url_encode(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query value (unreserved characters stay as they are).
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One entry of the trail as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub time: String,
    pub principal: Option<String>,
    pub role: Option<String>,
    pub address: Option<String>,
    pub method: String,
    pub target: String,
    pub status: u16,
    pub result: String,
    pub kind: String,
    /// The recorded body (credential values already `[FILTERED]`), as pretty JSON.
    pub body: Option<String>,
}

/// One page of the trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    /// How many days entries are kept (older ones are pruned).
    pub retention_days: u32,
}

impl AuditPage {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page.max(1)).max(1)
    }
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn AuditBackend>`.
    #[async_trait::async_trait]
    pub trait AuditBackend: Send + Sync + 'static {
        /// The page `page` (from 1; empty for the first) of the entries the filters select;
        /// a bad filter is refused naming it.
        async fn audit_page(
            &self,
            filters: &AuditFilters,
            page: &str,
        ) -> Result<AuditPage, BackendError>;
    }

    pub fn audit_backend() -> Result<Arc<dyn AuditBackend>, ServerFnError> {
        crate::backend::context::<dyn AuditBackend>()
    }
}

/// The Audit page's data.
#[server(prefix = "/_app", endpoint = "audit_page")]
pub async fn load_audit_page(
    principal: String,
    kind: String,
    route: String,
    result: String,
    since: String,
    until: String,
    page: String,
) -> Result<AuditPage, ServerFnError> {
    let filters = AuditFilters {
        principal,
        kind,
        route,
        result,
        since,
        until,
    };
    audit_backend()?
        .audit_page(&filters, &page)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_make_query_strings() {
        let filters = AuditFilters {
            principal: "ops user".into(),
            kind: "reveal".into(),
            ..AuditFilters::default()
        };
        assert_eq!(
            filters.query(&[("page", "2".into())]),
            "principal=ops%20user&kind=reveal&page=2"
        );
        assert_eq!(AuditFilters::default().query(&[]), "");
        let page = AuditPage {
            rows: vec![],
            page: 1,
            per_page: 50,
            total: 101,
            retention_days: 365,
        };
        assert_eq!(page.pages(), 3);
    }
}
