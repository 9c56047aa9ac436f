//! Apply Changes over the API: `POST /api/v0/installations` starts one, `GET` lists them
//! (newest first; om checks `installations[0].status` before configuring anything),
//! `GET …/:id` (status and times, which om polls), `GET …/:id/logs` (the whole log so far, only
//! ever growing) and `GET …/:id/events`, a server-sent-events stream for the UI: the log so far,
//! then live steps, per-product progress (0–100) and Director task events, ending with
//! `finished`.
//!
//! The routes for what installations produce live here too: the deployed products and
//! manifests, the staged manifest, and the Director's `bosh` command-line credentials.

use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::{json_body, Caller};
use crate::installations::{ApplyRequest, InstallEvent};
use crate::Result;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v0/installations", get(list).post(create))
        .route("/api/v0/installations/{id}", get(show))
        .route("/api/v0/installations/{id}/logs", get(logs))
        .route("/api/v0/installations/{id}/events", get(events))
        .route(
            "/api/v0/deployed/products/{guid}/manifest",
            get(super::deployed_products::manifest),
        )
        .route("/api/v0/deployed/products/{guid}/status", get(status))
        .route(
            "/api/v0/staged/products/{guid}/manifest",
            get(super::staged_manifest::show),
        )
        .route(
            "/api/v0/deployed/director/credentials/bosh_commandline_credentials",
            get(super::bosh_credentials::show),
        )
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>> {
    let list: Vec<Value> = state
        .installations
        .list()
        .await?
        .iter()
        .map(|i| i.to_json())
        .collect();
    Ok(Json(json!({ "installations": list })))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<Value>> {
    let request = ApplyRequest::parse(&json_body(&body)?)?;
    let id = state.installations.apply(request, &caller.username).await?;
    Ok(Json(json!({"install": {"id": id}})))
}

pub async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Value>> {
    Ok(Json(state.installations.get(id).await?.to_json()))
}

pub async fn logs(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Value>> {
    Ok(Json(json!({"logs": state.installations.logs(id).await?})))
}

fn sse_event(event: &InstallEvent) -> Event {
    let value = serde_json::to_value(event).unwrap_or(Value::Null);
    let name = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message")
        .to_owned();
    Event::default().event(name).data(value.to_string())
}

pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    // Subscribe first, then look at the status: the status turns final before the `finished`
    // event is sent, so either the receiver will see `finished`, or the stored log (complete
    // once the status is final) is the whole story.
    let live = state.installations.subscribe(id);
    let view = state.installations.get(id).await?;
    let (lines, live) = match live {
        Some((lines, rx)) if view.status == "running" => (lines, Some(rx)),
        _ => (state.store.installations().log_lines(id, 0).await?, None),
    };
    let last = lines.last().map(|(seq, _)| *seq).unwrap_or(0);
    let mut first: Vec<InstallEvent> = lines
        .into_iter()
        .map(|(seq, line)| InstallEvent::Log { seq, line })
        .collect();
    for p in &view.products {
        first.push(InstallEvent::Progress {
            product: p.guid.clone(),
            percent: p.progress,
        });
    }
    if live.is_none() {
        first.push(InstallEvent::Finished {
            status: view.status.clone(),
        });
    }
    let head = stream::iter(first.iter().map(sse_event).map(Ok).collect::<Vec<_>>());
    let tail = stream::unfold(live, move |rx| async move {
        let mut rx = rx?;
        loop {
            match rx.recv().await {
                Ok(InstallEvent::Log { seq, .. }) if seq <= last => continue,
                Ok(event @ InstallEvent::Finished { .. }) => {
                    return Some((Ok(sse_event(&event)), None));
                }
                Ok(event) => return Some((Ok(sse_event(&event)), Some(rx))),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(head.chain(tail)).keep_alive(KeepAlive::default()))
}

/// `GET /api/v0/deployed/products/:guid/status`: `{"status": [...]}`, one entry per instance in
/// Ops Manager's shape (see `app::backend::installations::InstanceStatus`); empty for a product
/// staged but not deployed yet (with `"deployed": false`), 404 for an unknown GUID.
pub async fn status(
    State(state): State<AppState>,
    Path(guid): Path<String>,
) -> Result<Json<Value>> {
    let status = state.installations.product_status(&guid).await?;
    let deployed = status.instances.is_some();
    Ok(Json(json!({
        "status": status.instances.unwrap_or_default(),
        "deployed": deployed,
    })))
}
