//! Configs: the generic `/configs` API (cloud, runtime, cpi, any type) and the older
//! `/cloud_configs` the `bosh cloud-config` commands use. Cloud configs are checked with the
//! Director's rules before they are stored.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tiles::cloud_config::CloudConfig;
use tiles::manifest_check::Severity;

use super::{body_text, flag};
use crate::error::{Error, Result};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/configs", get(list).post(create).delete(destroy))
        .route("/configs/diff", post(diff))
        .route("/cloud_configs", get(list_cloud).post(create_cloud))
        .route("/cloud_configs/diff", post(diff_cloud))
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

async fn create(State(d): State<Shared>, Json(body): Json<NewConfig>) -> Result<Response> {
    if let Some(expected) = &body.expected_latest_id {
        let latest = d
            .store
            .configs(Some(&body.config_type), Some(&body.name), true)
            .await?;
        let current = latest.first().map(|r| r.id.to_string()).unwrap_or_default();
        if &current != expected {
            return Ok((
                StatusCode::PRECONDITION_FAILED,
                Json(json!({"code": 440012, "description": format!(
                    "Config was updated concurrently: latest id is '{current}', expected '{expected}'"
                )})),
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
    let name = q.get("name").map(String::as_str).unwrap_or("default");
    if d.store.delete_configs(config_type, name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound(format!(
            "No config with type '{config_type}' and name '{name}'"
        )))
    }
}

async fn diff_for(d: &Shared, config_type: &str, name: &str, content: &str) -> Result<Value> {
    let latest = d.store.configs(Some(config_type), Some(name), true).await?;
    let old = latest
        .first()
        .map(|r| r.content.clone())
        .unwrap_or_default();
    let render = |text: &str| {
        tiles::yaml::load(text)
            .map(|v| {
                if v.is_null() {
                    String::new()
                } else {
                    tiles::yaml::to_yaml_string(&v)
                }
            })
            .unwrap_or_else(|_| text.to_string())
    };
    Ok(json!({
        "diff": crate::deploy::diff::line_diff(&render(&old), &render(content)),
        "from": {"id": latest.first().map(|r| r.id.to_string())},
    }))
}

async fn diff(State(d): State<Shared>, Json(body): Json<NewConfig>) -> Result<Json<Value>> {
    Ok(Json(
        diff_for(&d, &body.config_type, &body.name, &body.content).await?,
    ))
}

async fn list_cloud(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let name = q.get("name").map(String::as_str).unwrap_or("default");
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(1);
    let rows = d.store.configs(Some("cloud"), Some(name), false).await?;
    Ok(Json(Value::Array(
        rows.iter()
            .filter(|r| !r.deleted)
            .take(limit)
            .map(|r| json!({"properties": r.content, "created_at": crate::store::iso_time(r.created_at)}))
            .collect(),
    )))
}

async fn create_cloud(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response> {
    let name = q.get("name").cloned().unwrap_or_else(default_name);
    let content = body_text(body)?;
    store_config(&d, "cloud", &name, &content).await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn diff_cloud(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>> {
    let name = q.get("name").cloned().unwrap_or_else(default_name);
    Ok(Json(diff_for(&d, "cloud", &name, &body_text(body)?).await?))
}
