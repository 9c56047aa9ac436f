//! The Director HTTP API, one file per resource. Every route needs basic auth with the
//! Director's client and secret, except `GET /info` (which the CLI calls first, unauthenticated,
//! to learn how to authenticate). Long operations answer `302 Location: /tasks/:id`.

pub mod chaos;
pub mod configs;
pub mod credhub;
pub mod deployments;
pub mod errands;
pub mod events;
pub mod info;
pub mod instances;
pub mod logs;
pub mod problems;
pub mod releases;
pub mod stemcells;
pub mod tasks;
pub mod uaa;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;

use crate::error::{Error, Result};
use crate::Shared;

/// Largest request body for manifests and configs (stemcell and release uploads have none).
const BODY_LIMIT: usize = 32 * 1024 * 1024;

pub fn router(director: Shared) -> Router {
    let protected = Router::new()
        .merge(deployments::routes())
        .merge(instances::routes())
        .merge(logs::routes())
        .merge(errands::routes())
        .merge(problems::routes())
        .merge(tasks::routes())
        .merge(configs::routes())
        .merge(events::routes())
        .merge(chaos::routes())
        .merge(credhub::routes())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .merge(stemcells::routes())
        .merge(releases::routes())
        .route_layer(middleware::from_fn_with_state(
            director.clone(),
            require_auth,
        ));
    Router::new()
        .merge(info::routes())
        .merge(uaa::routes())
        .merge(protected)
        .with_state(director)
}

/// Whether a client and secret are the Director's (compared by digest, not byte by byte).
pub fn credentials_match(director: &Shared, client: &str, secret: &str) -> bool {
    let digest = |s: &str| ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    client == director.settings.client
        && digest(secret).as_ref() == digest(&director.settings.client_secret).as_ref()
}

/// The client of valid basic-auth credentials.
pub fn basic_client(director: &Shared, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (client, secret) = text.split_once(':')?;
    credentials_match(director, client, secret).then(|| client.to_string())
}

/// The client name when the request carries the Director's basic-auth credentials or a bearer
/// token from its token endpoint.
pub fn authenticated_user(director: &Shared, headers: &HeaderMap) -> Option<String> {
    if let Some(client) = basic_client(director, headers) {
        return Some(client);
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    director.tokens.check(token.trim())
}

async fn require_auth(State(director): State<Shared>, request: Request, next: Next) -> Response {
    match authenticated_user(&director, request.headers()) {
        Some(user) => {
            let mut request = request;
            request.extensions_mut().insert(User(user));
            next.run(request).await
        }
        None => Error::Unauthorized("Basic realm=\"BOSH Director\"".into()).into_response(),
    }
}

/// The authenticated client, for task `user` fields.
#[derive(Debug, Clone)]
pub struct User(pub String);

/// `302 Location: /tasks/:id`, how every long operation answers.
pub fn task_redirect(id: i64) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/tasks/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// A request body as UTF-8 text (manifests and configs).
pub fn body_text(body: axum::body::Bytes) -> Result<String> {
    String::from_utf8(body.to_vec())
        .map_err(|_| Error::Invalid("the request body is not UTF-8 text".into()))
}

/// A `true`/`false` query flag as the CLI sends them (`recreate=true`, or just `fix`).
pub fn flag(value: Option<&String>) -> bool {
    matches!(
        value.map(String::as_str),
        Some("true") | Some("1") | Some("")
    )
}

/// A JSON request body, with parse errors in the Director's error shape (`400`) rather than
/// axum's plain-text rejection.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        Error::Invalid(format!(
            "Request body is not valid JSON for this request: {e}"
        ))
    })
}

/// Like [`json_body`], but an empty body (the CLI sends none for some requests) is the default.
pub fn json_body_or_default<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        json_body(body)
    }
}

/// A config name from a query: the CLI sends `name=` (empty) for the default config, which
/// the Director stores as `default`.
pub fn config_name(value: Option<&String>) -> String {
    match value.map(|v| v.trim()) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => "default".to_string(),
    }
}
