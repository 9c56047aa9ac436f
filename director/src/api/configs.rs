//! Configs: the generic `/configs` API (cloud, runtime, cpi, any type) and the older
//! `/cloud_configs` and `/runtime_configs` the `bosh cloud-config` and `runtime-config` commands
//! use. A config name the CLI sends empty (`name=`) is `default`. Cloud configs are checked with the
//! Director's rules before they are stored.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tiles::cloud_config::CloudConfig;
use tiles::manifest_check::Severity;

use super::{body_text, config_name, flag};
use crate::error::{Error, Result};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/configs", get(list).post(create).delete(destroy))
        .route("/configs/diff", post(diff))
        .route("/configs/{id}", get(show).delete(destroy_id))
        .route("/cloud_configs", get(list_cloud).post(create_cloud))
        .route("/cloud_configs/diff", post(diff_cloud))
        .route("/runtime_configs", get(list_runtime).post(create_runtime))
        .route("/runtime_configs/diff", post(diff_runtime))
}

/// Checks a config's content: YAML always; a cloud config also against the Director's rules.
fn validate(config_type: &str, content: &str) -> Result<()> {
    let value = tiles::yaml::load(content)
        .map_err(|e| Error::Invalid(format!("Config must be valid YAML: {e}")))?;
    if !value.is_object() && !value.is_null() {
        return Err(Error::Invalid("Config must be a YAML map".into()));
    }
    if config_type == "cloud" && !value.is_null() {
        let cloud = CloudConfig::from_value(&value)?;
        let errors: Vec<String> = cloud
            .validate()
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        if !errors.is_empty() {
            return Err(Error::Invalid(format!(
                "Cloud config is invalid:\n  - {}",
                errors.join("\n  - ")
            )));
        }
    }
    Ok(())
}

async fn list(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let latest = flag(q.get("latest"));
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let rows = d
        .store
        .configs(
            q.get("type").map(String::as_str),
            q.get("name").map(String::as_str),
            latest,
        )
        .await?;
    Ok(Json(Value::Array(
        rows.iter()
            .filter(|r| latest || !r.deleted)
            .take(limit)
            .map(|r| r.to_json())
            .collect(),
    )))
}

#[derive(Debug, Deserialize)]
struct NewConfig {
    #[serde(rename = "type")]
    config_type: String,
    #[serde(default = "default_name")]
    name: String,
    content: String,
    #[serde(default)]
    expected_latest_id: Option<String>,
}

fn default_name() -> String {
    "default".into()
}

async fn store_config(d: &Shared, config_type: &str, name: &str, content: &str) -> Result<Value> {
    validate(config_type, content)?;
    let latest = d.store.configs(Some(config_type), Some(name), true).await?;
    if let Some(current) = latest.first() {
        if current.content == content {
            return Ok(current.to_json());
        }
    }
    let id = d.store.add_config(config_type, name, content).await?;
    let rows = d.store.configs(Some(config_type), Some(name), true).await?;
    Ok(rows
        .into_iter()
        .find(|r| r.id == id)
        .map(|r| r.to_json())
        .unwrap_or(json!({"id": id.to_string()})))
}

async fn create(State(d): State<Shared>, body: Bytes) -> Result<Response> {
    let body: NewConfig = super::json_body(&body)?;
    let name = config_name(Some(&body.name));
    let body = NewConfig { name, ..body };
    if let Some(expected) = body.expected_latest_id.as_ref().filter(|e| !e.is_empty()) {
        let latest = d
            .store
            .configs(Some(&body.config_type), Some(&body.name), true)
            .await?;
        let current = latest.first().map(|r| r.id.to_string()).unwrap_or_default();
        if &current != expected {
            return Ok((
                StatusCode::PRECONDITION_FAILED,
                // The CLI reads `latest_id` and `expected_latest_id` from a 412.
                Json(json!({
                    "code": 440012,
                    "description": format!(
                        "Config was updated concurrently: latest id is '{current}', expected '{expected}'"
                    ),
                    "latest_id": current,
                    "expected_latest_id": expected,
                })),
            )
                .into_response());
        }
    }
    let config = store_config(&d, &body.config_type, &body.name, &body.content).await?;
    Ok((StatusCode::CREATED, Json(config)).into_response())
}

async fn destroy(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<StatusCode> {
    let config_type = q
        .get("type")
        .ok_or_else(|| Error::Invalid("missing query parameter 'type'".into()))?;
    let name = config_name(q.get("name"));
    if d.store.delete_configs(config_type, &name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound(format!(
            "No config with type '{config_type}' and name '{name}'"
        )))
    }
}

/// The latest content of a config (empty when there is none) and its id.
async fn latest_content(
    d: &Shared,
    config_type: &str,
    name: &str,
) -> Result<(String, Option<i64>)> {
    let latest = d.store.configs(Some(config_type), Some(name), true).await?;
    Ok(latest
        .first()
        .map(|r| (r.content.clone(), Some(r.id)))
        .unwrap_or_default())
}

/// A line diff of two config texts, compared as normalised YAML; `redact` hides secret-looking
/// values (runtime configs).
fn config_diff(old: &str, new: &str, redact: bool) -> Value {
    let render = |text: &str| {
        tiles::yaml::load(text)
            .map(|v| {
                if v.is_null() {
                    String::new()
                } else if redact {
                    tiles::yaml::to_yaml_string(&crate::deploy::diff::redact(&v))
                } else {
                    tiles::yaml::to_yaml_string(&v)
                }
            })
            .unwrap_or_else(|_| text.to_string())
    };
    crate::deploy::diff::line_diff(&render(old), &render(new))
}

/// `{"diff": [...], "from": {"id": "<latest id>"}}`; `from` is empty when there is no config
/// yet (the CLI then sends no `expected_latest_id`).
async fn diff_for(
    d: &Shared,
    config_type: &str,
    name: &str,
    content: &str,
    redact: bool,
) -> Result<Value> {
    let (old, id) = latest_content(d, config_type, name).await?;
    let from = match id {
        Some(id) => json!({"id": id.to_string()}),
        None => json!({}),
    };
    Ok(json!({"diff": config_diff(&old, content, redact), "from": from}))
}

/// One side of `bosh diff-config`: a stored config by id, or content.
#[derive(Debug, Default, Deserialize)]
struct DiffSide {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

/// `POST /configs/diff` bodies: `update-config`'s `{type, name, content}`, or `diff-config`'s
/// `{from: {id|content}, to: {id|content}}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DiffRequest {
    Pair { from: DiffSide, to: DiffSide },
    Latest(NewConfig),
}

async fn side_content(d: &Shared, side: &DiffSide, which: &str) -> Result<String> {
    // The CLI always sends both keys, the unused one empty.
    let content = side.content.as_deref().filter(|c| !c.is_empty());
    match (side.id.as_deref().filter(|i| !i.is_empty()), content) {
        (Some(id), None) => Ok(config_by_id(d, id).await?.content),
        (None, Some(content)) => Ok(content.to_string()),
        _ => Err(Error::Invalid(format!(
            "Exactly one of '{which}.id' and '{which}.content' must be given"
        ))),
    }
}

async fn diff(State(d): State<Shared>, body: Bytes) -> Result<Json<Value>> {
    match super::json_body::<DiffRequest>(&body)? {
        DiffRequest::Pair { from, to } => {
            let old = side_content(&d, &from, "from").await?;
            let new = side_content(&d, &to, "to").await?;
            // Same shape as the other diff (the CLI decodes both into one struct).
            let from_id = from.id.clone().filter(|i| !i.is_empty());
            let from = match from_id {
                Some(id) => json!({"id": id}),
                None => json!({}),
            };
            Ok(Json(
                json!({"diff": config_diff(&old, &new, false), "from": from}),
            ))
        }
        DiffRequest::Latest(body) => {
            let name = config_name(Some(&body.name));
            Ok(Json(
                diff_for(&d, &body.config_type, &name, &body.content, false).await?,
            ))
        }
    }
}

async fn config_by_id(d: &Shared, id: &str) -> Result<crate::store::ConfigRow> {
    let missing = || Error::NotFound(format!("Config with id '{id}' not found"));
    let n: i64 = id.trim().parse().map_err(|_| missing())?;
    d.store.config(n).await?.ok_or_else(missing)
}

/// `GET /configs/:id` (`bosh config ID`).
async fn show(State(d): State<Shared>, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(config_by_id(&d, &id).await?.to_json()))
}

/// `DELETE /configs/:id` (`bosh delete-config ID`): `204`, or `404` when it is gone already.
async fn destroy_id(State(d): State<Shared>, Path(id): Path<String>) -> Result<StatusCode> {
    let config = config_by_id(&d, &id).await?;
    if d.store.delete_config_id(config.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound(format!("Config with id '{id}' not found")))
    }
}

/// `GET /cloud_configs` / `/runtime_configs` (`bosh cloud-config`, `bosh runtime-config`):
/// `[{"properties": "<yaml>", "created_at"}]`, newest first.
async fn list_typed(d: &Shared, config_type: &str, q: &HashMap<String, String>) -> Result<Value> {
    let name = config_name(q.get("name"));
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(1);
    let rows = d
        .store
        .configs(Some(config_type), Some(&name), true)
        .await?;
    Ok(Value::Array(
        rows.iter()
            .take(limit)
            .map(|r| {
                json!({
                    "properties": r.content,
                    "created_at": crate::store::iso_time(r.created_at),
                })
            })
            .collect(),
    ))
}

async fn list_cloud(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    Ok(Json(list_typed(&d, "cloud", &q).await?))
}

async fn list_runtime(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    Ok(Json(list_typed(&d, "runtime", &q).await?))
}

async fn create_typed(
    d: &Shared,
    config_type: &str,
    q: &HashMap<String, String>,
    body: Bytes,
) -> Result<Response> {
    let name = config_name(q.get("name"));
    let content = body_text(body)?;
    store_config(d, config_type, &name, &content).await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn create_cloud(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response> {
    create_typed(&d, "cloud", &q, body).await
}

async fn create_runtime(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response> {
    create_typed(&d, "runtime", &q, body).await
}

async fn diff_cloud(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>> {
    let name = config_name(q.get("name"));
    Ok(Json(
        diff_for(&d, "cloud", &name, &body_text(body)?, false).await?,
    ))
}

/// Runtime config diffs are redacted unless `redact=false` (`--no-redact`), as deploy diffs.
async fn diff_runtime(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>> {
    let name = config_name(q.get("name"));
    let redact = q.get("redact").map(String::as_str) != Some("false");
    Ok(Json(
        diff_for(&d, "runtime", &name, &body_text(body)?, redact).await?,
    ))
}
