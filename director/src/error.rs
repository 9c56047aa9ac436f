//! The one error type of the director crate, and how each kind is answered over HTTP.
//!
//! Responses use the Director's error body, `{"code": N, "description": "..."}`, which is what the
//! `bosh` CLI prints. Inside a task an error becomes the task's result and an `error` event line.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

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
    /// Missing or wrong credentials.
    #[error("Not authorized: '{0}'")]
    Unauthorized(String),
    /// A request or manifest that breaks a Director rule; the message is shown to the user as is.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// A resource is locked by another task, or exists already.
    #[error("{0}")]
    Conflict(String),
    /// Nothing new in a task output for the requested range.
    #[error("requested range not satisfiable")]
    RangeNotSatisfiable,
    #[error("internal: {0}")]
    Internal(String),
    /// A running task stopped at a checkpoint because `bosh cancel-task` asked it to; the task
    /// ends in state `cancelled`, not `error`.
    #[error("task cancelled")]
    Cancelled,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The Director's numeric error code family for this kind.
    pub fn code(&self) -> u32 {
        match self {
            Error::Unauthorized(_) => 600000,
            Error::Invalid(_) => 440001,
            Error::NotFound(_) => 70000,
            Error::Conflict(_) => 100100,
            _ => 100,
        }
    }
}

impl From<tiles::Error> for Error {
    fn from(e: tiles::Error) -> Self {
        Error::Invalid(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = match &self {
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Invalid(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            return status.into_response();
        }
        let description = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "director request failed");
            "internal error; see the director log".to_string()
        } else {
            self.to_string()
        };
        let mut response = (
            status,
            Json(json!({"code": self.code(), "description": description})),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"BOSH Director\""),
            );
        }
        response
    }
}
