//! `/tasks`: list, one task, and its outputs. Outputs only grow, so clients poll them by byte
//! offset with `Range: bytes=N-`: `206` with the new bytes, or `416` when nothing is new.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::store::TaskRow;
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/tasks", get(list))
        .route("/tasks/cancel", post(cancel_many))
        .route("/tasks/{id}", get(show))
        .route("/tasks/{id}/output", get(output))
        .route("/task/{id}", delete(cancel))
}

/// Cancels one task: queued ones end at once, processing ones stop at their next checkpoint.
async fn cancel_task(d: &Shared, task: &TaskRow) -> Result<bool> {
    match d.store.cancel_task(task.id).await? {
        Some(state) => {
            // A queued task ends here: its deployment lock goes with it, not only once a
            // worker would have picked it up.
            if state == "cancelled" {
                if let Some(deployment) = &task.deployment {
                    d.locks.release(deployment, task.id);
                }
            }
            d.running.request_cancel(task.id);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// `DELETE /task/:id` (`bosh cancel-task`): `204` for a queued or processing task (it becomes
/// `cancelled`, or `cancelling` until its work reaches a checkpoint); `400` once it has ended,
/// as the Director answers.
async fn cancel(State(d): State<Shared>, Path(id): Path<String>) -> Result<StatusCode> {
    let task = task_or_404(&d, &id).await?;
    if cancel_task(&d, &task).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        // Re-read: the task may have ended between the two statements.
        let state = d
            .store
            .task(task.id)
            .await?
            .map(|t| t.state)
            .unwrap_or(task.state);
        Err(Error::Invalid(format!(
            "Cannot cancel task {}: invalid state ({state})",
            task.id
        )))
    }
}

/// The body of `POST /tasks/cancel` (`bosh cancel-tasks`); every field optional.
#[derive(Debug, Default, Deserialize)]
struct CancelFilter {
    #[serde(default)]
    deployment: Option<String>,
    #[serde(default)]
    states: Option<Vec<String>>,
    #[serde(default)]
    types: Option<Vec<String>>,
}

/// `POST /tasks/cancel`: cancels every task matching the filter (states default to `queued`,
/// as the CLI documents). Answers `204`.
async fn cancel_many(State(d): State<Shared>, body: Bytes) -> Result<StatusCode> {
    let filter: CancelFilter = super::json_body_or_default(&body)?;
    let states = filter
        .states
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| vec!["queued".to_string()]);
    let tasks = d
        .store
        .tasks(&states, filter.deployment.as_deref(), i64::MAX)
        .await?;
    for task in tasks {
        let type_ok = filter.types.as_ref().is_none_or(|types| {
            types.is_empty()
                || types
                    .iter()
                    .any(|t| t == crate::tasks::task_type(&task.description))
        });
        if type_ok {
            cancel_task(&d, &task).await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /tasks`: newest first. `state` (comma-separated), `deployment`, `context_id` and
/// `limit` filter; `verbose=1` (the default) leaves out the housekeeping tasks a Director hides
/// from `bosh tasks` (VM and log retrieval), `verbose=2` shows all.
async fn list(
    State(d): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let states: Vec<String> = query
        .get("state")
        .map(|s| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let verbose = query.get("verbose").map(String::as_str).unwrap_or("1");
    let context_id = query.get("context_id");
    let tasks = d
        .store
        .tasks(
            &states,
            query.get("deployment").map(String::as_str),
            i64::MAX,
        )
        .await?;
    Ok(Json(Value::Array(
        tasks
            .iter()
            .filter(|t| context_id.is_none_or(|c| *c == t.context_id))
            .filter(|t| verbose != "1" || !crate::tasks::is_housekeeping(&t.description))
            .take(limit as usize)
            .map(|t| t.to_json())
            .collect(),
    )))
}

async fn task_or_404(d: &Shared, id: &str) -> Result<TaskRow> {
    let n: i64 = id
        .parse()
        .map_err(|_| Error::NotFound(format!("Task '{id}' doesn't exist")))?;
    d.store
        .task(n)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Task '{id}' doesn't exist")))
}

async fn show(State(d): State<Shared>, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(task_or_404(&d, &id).await?.to_json()))
}

/// Reads `bytes=N-` or `bytes=N-M`.
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => None,
        e => Some(e.parse().ok()?),
    };
    Some((start, end))
}

async fn output(
    State(d): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response> {
    let task = task_or_404(&d, &id).await?;
    let kind = query.get("type").map(String::as_str).unwrap_or("result");
    let bytes = crate::tasks::read_output(&d.settings.data_dir, task.id, kind)?;
    let len = bytes.len() as u64;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_range);
    let Some((start, end)) = range else {
        return Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            bytes,
        )
            .into_response());
    };
    if start >= len {
        let mut response = Error::RangeNotSatisfiable.into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        return Ok(response);
    }
    let last = end.map_or(len - 1, |e| e.min(len - 1));
    if last < start {
        return Err(Error::RangeNotSatisfiable);
    }
    let body = bytes
        .get(start as usize..=last as usize)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let mut response = (
        StatusCode::PARTIAL_CONTENT,
        [(header::CONTENT_TYPE, "text/plain")],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{last}/{len}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=10-"), Some((10, None)));
        assert_eq!(parse_range("bytes=0-99"), Some((0, Some(99))));
        assert_eq!(parse_range("items=0-"), None);
        assert_eq!(parse_range("bytes=x-"), None);
    }
}
