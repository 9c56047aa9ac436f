//! Apply Changes over the API: `POST /api/v0/installations` starts one, `GET` lists them
//! (newest first; om checks `installations[0].status` before configuring anything),
//! `GET …/:id` (status and times, which om polls), `GET …/:id/logs` (the whole log so far, only
//! ever growing) and `GET …/:id/events`, a server-sent-events stream for the UI: the log so far,
//! then live steps, per-product progress (0–100) and Director task events, ending with
//! `finished`. From a replica other than the one running the installation, the stream is its
//! stored log lines and progress polled from the database (`polled_events`).
//!
//! The routes for what installations produce live here too: the deployed products and
//! manifests, the staged manifest, and the Director's `bosh` command-line credentials.

use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
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
) -> Result<Sse<KeepAliveStream<BoxStream<'static, std::result::Result<Event, Infallible>>>>> {
    // Subscribe first, then look at the status: the status turns final before the `finished`
    // event is sent, so either the receiver will see `finished`, or the stored log (complete
    // once the status is final) is the whole story.
    let live = state.installations.subscribe(id);
    let view = state.installations.get(id).await?;
    if live.is_none() && view.status == "running" {
        // Running on another replica: its live channel is in that process.
        return Ok(Sse::new(polled_events(state, id).boxed()).keep_alive(KeepAlive::default()));
    }
    let (lines, steps, live) = match live {
        Some(sub) if view.status == "running" => (sub.lines, sub.steps, Some(sub.events)),
        _ => (
            state.store.installations().log_lines(id, 0).await?,
            Vec::new(),
            None,
        ),
    };
    let last = lines.last().map(|(seq, _)| *seq).unwrap_or(0);
    let mut first: Vec<InstallEvent> = lines
        .into_iter()
        .map(|(seq, line)| InstallEvent::Log { seq, line })
        .collect();
    // The steps so far, so a page that joins mid-run marks the running step.
    first.extend(steps);
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
    Ok(Sse::new(head.chain(tail).boxed()).keep_alive(KeepAlive::default()))
}

/// How often [`polled_events`] reads the database where changes are not announced (SQLite).
const EVENTS_POLL: std::time::Duration = std::time::Duration::from_millis(500);
/// How often it reads anyway where they are (PostgreSQL): a notification lost while the
/// listening connection reconnects only delays lines this long.
const EVENTS_POLL_ANNOUNCED: std::time::Duration = std::time::Duration::from_secs(5);

/// The events of an installation another replica runs, read from the database: its log lines as
/// they are stored and its products' progress, then `finished` once its status is final (the
/// log is complete by then). On PostgreSQL it reads when the running replica announces a
/// change (`store::changes`, LISTEN/NOTIFY), elsewhere every [`EVENTS_POLL`]. Step and
/// Director task events stay with the replica running it.
fn polled_events(
    state: AppState,
    id: i64,
) -> impl Stream<Item = std::result::Result<Event, Infallible>> {
    struct Polled {
        state: AppState,
        last: i64,
        progress: std::collections::HashMap<String, u8>,
        first: bool,
        /// Subscribed before the first read, so no announcement falls between a read and
        /// the wait after it.
        changes: Option<tokio::sync::broadcast::Receiver<i64>>,
    }
    let start = Polled {
        changes: state.store.installation_changes(),
        state,
        last: 0,
        progress: std::collections::HashMap::new(),
        first: true,
    };
    stream::unfold(Some(start), move |polled| async move {
        let mut polled = polled?;
        loop {
            if !polled.first {
                match polled.changes.as_mut() {
                    None => tokio::time::sleep(EVENTS_POLL).await,
                    Some(changes) => {
                        let _ = tokio::time::timeout(EVENTS_POLL_ANNOUNCED, announced(changes, id))
                            .await;
                    }
                }
            }
            polled.first = false;
            // The status first: once it is final, the lines read after it are all of them (an
            // installation's last line is stored before, or with, its final status). A read
            // that fails (a busy database) is tried again at the next turn, not taken as the end.
            let view = match polled.state.installations.get(id).await {
                Ok(view) => view,
                Err(crate::Error::NotFound(_)) => return None,
                Err(e) => {
                    tracing::warn!(installation = id, error = %e, "reading an installation for its events stream");
                    continue;
                }
            };
            let lines = match polled
                .state
                .store
                .installations()
                .log_lines(id, polled.last)
                .await
            {
                Ok(lines) => lines,
                Err(e) => {
                    tracing::warn!(installation = id, error = %e, "reading an installation's log for its events stream");
                    continue;
                }
            };
            let mut events = Vec::new();
            for (seq, line) in lines {
                polled.last = polled.last.max(seq);
                events.push(InstallEvent::Log { seq, line });
            }
            for p in &view.products {
                if polled.progress.insert(p.guid.clone(), p.progress) != Some(p.progress) {
                    events.push(InstallEvent::Progress {
                        product: p.guid.clone(),
                        percent: p.progress,
                    });
                }
            }
            let finished = view.status != "running";
            if finished {
                events.push(InstallEvent::Finished {
                    status: view.status,
                });
            }
            if !events.is_empty() {
                let next = (!finished).then_some(polled);
                return Some((events, next));
            }
        }
    })
    .flat_map(|events| stream::iter(events.into_iter().map(|e| Ok(sse_event(&e)))))
}

/// Waits until installation `id` is announced changed (or announcements were missed: read
/// anyway).
async fn announced(changes: &mut tokio::sync::broadcast::Receiver<i64>, id: i64) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match changes.recv().await {
            Ok(changed) if changed == id => return,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return,
            // The listener is gone (never, while the store lives): fall back to the timeout.
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
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
