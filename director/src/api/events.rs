//! `GET /events`, `GET /locks` and `PUT /resurrection` (pause or resume the resurrector).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/events", get(events))
        .route("/events/{id}", get(event))
        .route("/locks", get(locks))
        .route("/resurrection", put(resurrection))
}

/// `GET /events` (`bosh events`): newest first, at most `limit` (200), filtered by the CLI's
/// `before_id`, `before_time`, `after_time`, `deployment`, `task`, `instance`, `user`,
/// `action`, `object_type` and `object_name`.
async fn events(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(200)
        .clamp(1, 1000);
    let time = |key: &str| -> Result<Option<i64>> {
        match q.get(key).filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(text) => crate::store::parse_rfc3339(text)
                .map(Some)
                .ok_or_else(|| Error::Invalid(format!("Invalid '{key}' time '{text}'"))),
        }
    };
    let before_time = time("before_time")?;
    let after_time = time("after_time")?;
    let before_id = match q.get("before_id").filter(|v| !v.is_empty()) {
        None => None,
        Some(id) => Some(
            id.parse::<i64>()
                .map_err(|_| Error::Invalid(format!("Invalid 'before_id' '{id}'")))?,
        ),
    };
    let is = |key: &str, value: Option<&str>| q.get(key).is_none_or(|w| Some(w.as_str()) == value);
    let rows = d
        .store
        .events(q.get("deployment").map(String::as_str), i64::MAX)
        .await?;
    Ok(Json(Value::Array(
        rows.iter()
            .filter(|e| before_id.is_none_or(|b| e.id < b))
            .filter(|e| before_time.is_none_or(|t| e.timestamp < t))
            .filter(|e| after_time.is_none_or(|t| e.timestamp > t))
            .filter(|e| is("task", e.task.as_deref()))
            .filter(|e| is("instance", e.instance.as_deref()))
            .filter(|e| is("user", Some(&e.user)))
            .filter(|e| is("action", Some(&e.action)))
            .filter(|e| is("object_type", Some(&e.object_type)))
            .filter(|e| is("object_name", e.object_name.as_deref()))
            .take(limit)
            .map(|e| e.to_json())
            .collect(),
    )))
}

/// `GET /events/:id` (`bosh event ID`).
async fn event(State(d): State<Shared>, Path(id): Path<String>) -> Result<Json<Value>> {
    let missing = || Error::NotFound(format!("Event {id} not found"));
    let n: i64 = id.parse().map_err(|_| missing())?;
    let rows = d.store.events(None, i64::MAX).await?;
    rows.iter()
        .find(|e| e.id == n)
        .map(|e| Json(e.to_json()))
        .ok_or_else(missing)
}

async fn locks(State(d): State<Shared>) -> Json<Value> {
    Json(d.locks.to_json())
}

#[derive(Debug, Deserialize)]
struct Resurrection {
    resurrection_paused: bool,
}

async fn resurrection(
    State(d): State<Shared>,
    Json(body): Json<Resurrection>,
) -> Result<StatusCode> {
    d.health.set_resurrection(!body.resurrection_paused);
    d.store
        .set_setting(
            "resurrection_paused",
            if body.resurrection_paused {
                "true"
            } else {
                "false"
            },
        )
        .await?;
    Ok(StatusCode::OK)
}
