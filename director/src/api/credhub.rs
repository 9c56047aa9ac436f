//! The config server's own API, as CredHub serves it beside a real Director: `PUT /api/v1/data`
//! sets a credential (`{"name", "type", "value"}`, answered with the credential as CredHub
//! answers `credhub set`). `/info` names this listener's `/api/` as the config server's URL
//! (`features.config_server.extras.urls`), as a real Director names its CredHub, so a client
//! that writes credentials before a deploy does the same here as against a real Director.
//!
//! Served on the Director's own listener behind its authentication (basic or a token from its
//! token endpoint); a real CredHub takes UAA tokens only. Values are sealed as every variable
//! is ([`crate::config_server`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new().route("/api/v1/data", put(set))
}

/// The types `credhub set` takes and what each value must be.
const TYPES: &[(&str, Shape)] = &[
    ("value", Shape::String),
    ("password", Shape::String),
    ("json", Shape::Object),
    ("user", Shape::Object),
    ("certificate", Shape::Object),
    ("rsa", Shape::Object),
    ("ssh", Shape::Object),
];

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    String,
    Object,
}

#[derive(Debug, Deserialize)]
struct NewCredential {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<Value>,
}

/// CredHub's error answer: `{"error": "…"}`.
fn refused(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

async fn set(State(d): State<Shared>, body: axum::body::Bytes) -> Response {
    if d.refuse_config_server_writes
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "The request could not be completed because the credential does not exist or you do not have sufficient authorization."})),
        )
            .into_response();
    }
    let Ok(new) = serde_json::from_slice::<NewCredential>(&body) else {
        return refused("The request could not be fulfilled because the request body is not valid JSON with name, type and value.");
    };
    let Some(name) = new.name.filter(|n| !n.trim().is_empty()) else {
        return refused("A credential name must be provided. Please validate your input and retry your request.");
    };
    // CredHub keeps every name absolute: `foo` is `/foo`.
    let name = if name.starts_with('/') {
        name
    } else {
        format!("/{name}")
    };
    if name.ends_with('/') || name.contains("//") {
        return refused("A credential name cannot end with a '/' character or contain '//'. Credential names should be in the form of /[path]/[name] or [path]/[name]. Please update and retry your request.");
    }
    let Some(kind) = new.kind else {
        return refused("A credential type must be provided. Please validate your input and retry your request.");
    };
    let Some(&(_, shape)) = TYPES.iter().find(|(t, _)| *t == kind) else {
        return refused("The request does not include a valid type. Valid values for generate include 'password', 'user', 'certificate', 'ssh' and 'rsa'. Valid values for set include 'value', 'json', 'password', 'user', 'certificate', 'ssh' and 'rsa'.");
    };
    let value = match (new.value, shape) {
        (Some(v @ Value::String(_)), Shape::String) | (Some(v @ Value::Object(_)), Shape::Object) => v,
        _ => return refused("A non-empty value must be specified for the credential. Please validate and retry your request."),
    };
    if let Err(err) = d
        .config_server
        .put(&d.store, "", &name, &kind, &value)
        .await
    {
        return err.into_response();
    }
    Json(json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "name": name,
        "type": kind,
        "value": value,
        "metadata": null,
        "version_created_at": crate::store::rfc3339(crate::store::unix_now()),
    }))
    .into_response()
}
