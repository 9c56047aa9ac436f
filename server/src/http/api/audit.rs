//! The audit trail over the API, for administrators (`Action::ReadAudit`):
//!
//! - `GET /api/v0/audit_events?principal=&kind=&route=&result=&since=&until=&page=&per_page=`
//!   → `{"audit_events": [{id, time, principal, role, address, method, route, target, status,
//!   result, kind, body}], "page", "per_page", "total"}`, newest first;
//! - `GET /api/v0/audit_events/export` with the same filters (no paging) → every matching
//!   event as JSON lines (`application/x-ndjson`), oldest first, streamed.
//!
//! A filter that is not one, or a value it cannot take, is `422` naming the field
//! (`crate::audit::parse_query`).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::TryStreamExt;

use crate::audit;
use crate::http::AppState;
use crate::{Error, Result};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v0/audit_events", get(list))
        .route("/api/v0/audit_events/export", get(export))
}

/// The query string's fields (a query that is not `a=b&…` text is `422` on `base`).
fn query(raw: Option<String>) -> Result<audit::Query> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| Error::invalid("base", format!("the query string does not parse: {e}")))?;
    audit::parse_query(&pairs)
}

async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<audit::Page>> {
    let query = query(raw)?;
    Ok(Json(
        audit::page(&state.store, &query, state.audit_retention_days).await?,
    ))
}

async fn export(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response> {
    let query = query(raw)?;
    if query.page != 1 || query.per_page != audit::DEFAULT_PER_PAGE {
        return Err(Error::invalid(
            "page",
            "the export has every matching event; it takes no page or per_page",
        ));
    }
    let lines = audit::export(state.store.clone(), query.filter).map_err(|err| {
        tracing::error!(target: "audit", "exporting the audit trail: {err}");
        std::io::Error::other("the audit export failed")
    });
    let mut response = Body::from_stream(lines.map_ok(axum::body::Bytes::from)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"tileworks-audit.jsonl\""),
    );
    Ok(response)
}
