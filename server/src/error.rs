//! The one error type of the server crate, and how each kind is answered over HTTP.
//!
//! Invalid input is a 4xx that names the field and the rule; internal failures are logged with
//! their context and answered without details, so nothing sensitive leaks into a response.
//!
//! This module sits below every other in the crate: it imports no domain type. Errors carry
//! plain data (messages, maps, JSON bodies); the domain modules convert their own types into
//! them (e.g. `installations::checks::Refusal` into [`ApplyRefusal`]).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("configuration: {0}")]
    Config(String),
    /// A request without valid credentials (or with a bad token).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Too many failed logins for a user or a client address.
    #[error("too many failed attempts; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// Input that breaks a rule: the field and the message.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0} already exists")]
    Conflict(String),
    /// A change that breaks a rule about the current state (the last enabled administrator
    /// cannot be removed, demoted or disabled): 409 naming the rule.
    #[error("refused: {0}")]
    Refused(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// The audit trail could not record a credential reveal, so the credential was not handed
    /// out (503: the trail fails closed for reveals).
    #[error("audit trail unavailable: {0}")]
    AuditUnavailable(String),
    #[error("internal: {0}")]
    Internal(String),
    /// Input with findings on several references (validation): 422 with all of them.
    #[error("invalid input: {0:?}")]
    Rejected(std::collections::BTreeMap<String, Vec<String>>),
    /// Apply Changes refused before anything started: errors (by product GUID or request
    /// field), warnings (refused only without `ignore_warnings`) and Ops Manager's
    /// `deployment_errors.products[]`. 422.
    #[error("apply changes refused: {0}")]
    ApplyRefused(Box<ApplyRefusal>),
    /// A save based on an older configuration version than the stored one.
    #[error("{subject} changed since version {expected} (now {current})")]
    Stale {
        subject: String,
        expected: i64,
        current: i64,
        /// What the saves in between changed (references, sections).
        changed: Vec<String>,
    },
    /// A request body of a type the entry point does not take (415).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// A method the entry point does not answer (405).
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    /// A request body over the entry point's limit (413).
    #[error("request body too large: {0}")]
    TooLarge(String),
    /// Authenticated, but the role may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Configuration writes and a second Apply Changes are refused while an installation runs.
    #[error("installation {0} is running")]
    InstallationRunning(i64),
    /// A BOSH Director call failed: the call (method and path), the HTTP status when the Director
    /// answered, and the Director's own message (or the transport/TLS failure).
    #[error("BOSH Director {call}: {message}")]
    Director {
        call: String,
        status: Option<u16>,
        message: String,
    },
    /// The object store holding Tileworks's files (`crate::files`, `--object-store-url`) failed
    /// or answered unexpectedly: the store's URL, what Tileworks was doing and the store's (or
    /// the transport's) message. 502, like a failed Director call.
    #[error("object store {store}: {action}: {message}")]
    ObjectStore {
        store: String,
        action: String,
        message: String,
    },
    /// An Open Service Broker API refusal, answered in the OSB shape
    /// `{"error": "<code>", "description": "…"}` (the code only when the spec names one, e.g.
    /// `AsyncRequired`, `ConcurrencyError`). `status` is the HTTP status.
    #[error("service broker: {description}")]
    Osb {
        status: u16,
        error: Option<String>,
        description: String,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Why Apply Changes was refused, as plain data: the errors (by product GUID or request field)
/// and warnings, and the whole 422 body (with Ops Manager's `deployment_errors`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyRefusal {
    pub errors: std::collections::BTreeMap<String, Vec<String>>,
    pub warnings: Vec<String>,
    pub body: Value,
}

impl std::fmt::Display for ApplyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = self
            .errors
            .iter()
            .flat_map(|(k, ms)| ms.iter().map(move |m| format!("{k}: {m}")))
            .collect();
        parts.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        f.write_str(&parts.join("; "))
    }
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Error {
    /// The HTTP status this error is answered with (the API's, and a UI server function's,
    /// so that a refusal is never reported as a server failure).
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Invalid { .. } | Error::ApplyRefused(_) | Error::Rejected(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::Conflict(_)
            | Error::Refused(_)
            | Error::Stale { .. }
            | Error::InstallationRunning(_) => StatusCode::CONFLICT,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::AuditUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Director { .. } | Error::ObjectStore { .. } => StatusCode::BAD_GATEWAY,
            Error::Osb { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The answer to a refused stale write with, per field, what the saves in between changed
    /// (`changes`: reference, who, the value now — credentials only as changed — and before):
    /// `409 {"errors": {"base": […]}, "config_version": N, "changed": […], "changes": […]}`.
    /// Any other error is answered as usual.
    pub fn with_changes<C: Serialize>(self, changes: &[C]) -> Response {
        let Error::Stale {
            subject,
            expected,
            current,
            changed,
        } = self
        else {
            return self.into_response();
        };
        let what = if changed.is_empty() {
            String::new()
        } else {
            format!(": {}", changed.join(", "))
        };
        (
            StatusCode::CONFLICT,
            Json(json!({
                "errors": {"base": [format!(
                    "The configuration of {subject} was changed by someone else since \
                     version {expected} (now version {current}){what}. Reload and save again."
                )]},
                "config_version": current,
                "changed": changed,
                "changes": changes,
            })),
        )
            .into_response()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Unauthorized(message) => (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "unauthorized", "error_description": message})),
            )
                .into_response(),
            Error::Throttled { retry_after_secs } => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({
                        "error": "too_many_requests",
                        "error_description": format!(
                            "Too many failed login attempts. Try again in {retry_after_secs} seconds."
                        ),
                    })),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
            Error::Invalid { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"errors": {field: [message]}})),
            )
                .into_response(),
            Error::Conflict(what) => (
                StatusCode::CONFLICT,
                Json(json!({"errors": {"base": [format!("{what} already exists")]}})),
            )
                .into_response(),
            Error::Refused(rule) => (
                StatusCode::CONFLICT,
                Json(json!({"errors": {"base": [rule]}})),
            )
                .into_response(),
            Error::ApplyRefused(refusal) => (StatusCode::UNPROCESSABLE_ENTITY, Json(refusal.body))
                .into_response(),
            Error::Rejected(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "errors": errors })),
            )
                .into_response(),
            stale @ Error::Stale { .. } => stale.with_changes::<Value>(&[]),
            Error::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                Json(json!({"errors": {"base": [message]}})),
            )
                .into_response(),
            Error::UnsupportedMediaType(message) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({"errors": {"base": [message]}})),
            )
                .into_response(),
            Error::MethodNotAllowed(what) => (
                StatusCode::METHOD_NOT_ALLOWED,
                Json(json!({"errors": {"base": [format!("{what}: no such method here")]}})),
            )
                .into_response(),
            Error::TooLarge(message) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({"errors": {"base": [message]}})),
            )
                .into_response(),
            Error::NotFound(what) => (
                StatusCode::NOT_FOUND,
                Json(json!({"errors": {"base": [format!("{what} not found")]}})),
            )
                .into_response(),
            Error::AuditUnavailable(message) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"errors": {"base": [message]}})),
            )
                .into_response(),
            Error::InstallationRunning(id) => (
                StatusCode::CONFLICT,
                Json(json!({
                    "errors": {"base": [format!(
                        "Installation {id} is running (Apply Changes); changes are refused until it finishes."
                    )]},
                    "installation_id": id,
                })),
            )
                .into_response(),
            // The Director's message names the deployment or task; the object store's names the
            // object (credentials never enter a message: they stay in the store's client).
            Error::Director { .. } | Error::ObjectStore { .. } => (
                StatusCode::BAD_GATEWAY,
                Json(json!({"errors": {"base": [self.to_string()]}})),
            )
                .into_response(),
            Error::Osb {
                status,
                error,
                description,
            } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let body = match error {
                    Some(code) => json!({"error": code, "description": description}),
                    None if description.is_empty() => json!({}),
                    None => json!({"description": description}),
                };
                (status, Json(body)).into_response()
            }
            other => {
                tracing::error!(error = %other, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"errors": {"base": ["internal error; see the server log"]}})),
                )
                    .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_the_status_the_error_is_answered_with() {
        let errors = vec![
            Error::Unauthorized("no token".into()),
            Error::Throttled {
                retry_after_secs: 3,
            },
            Error::invalid("field", "bad"),
            Error::Rejected(Default::default()),
            Error::Conflict("x".into()),
            Error::Refused("the last administrator".into()),
            Error::Stale {
                subject: "p".into(),
                expected: 1,
                current: 2,
                changed: Vec::new(),
            },
            Error::InstallationRunning(4),
            Error::Forbidden("role".into()),
            Error::UnsupportedMediaType("text/plain".into()),
            Error::TooLarge("big".into()),
            Error::MethodNotAllowed("PUT /x".into()),
            Error::NotFound("x".into()),
            Error::AuditUnavailable("no trail".into()),
            Error::Director {
                call: "GET /info".into(),
                status: Some(500),
                message: "down".into(),
            },
            Error::ObjectStore {
                store: "s3://tiles".into(),
                action: "uploading tiles/t.pivotal".into(),
                message: "connection refused".into(),
            },
            Error::Internal("boom".into()),
            Error::Osb {
                status: 422,
                error: Some("AsyncRequired".into()),
                description: "async".into(),
            },
        ];
        for err in errors {
            let status = err.status();
            let shown = format!("{err:?}");
            assert_eq!(err.into_response().status(), status, "{shown}");
        }
    }
}
