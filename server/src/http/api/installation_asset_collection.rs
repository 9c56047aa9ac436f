//! Export and import of the installation (`crate::installation_archive`), as om calls them
//! (`api/installation_asset_service.go`):
//!
//! - `GET /api/v0/installation_asset_collection` (administrators; recorded as a reveal): the
//!   export as `application/zip` with its `Content-Length` (om compares the bytes it wrote with
//!   it), streamed from a temporary file that is already removed; on PostgreSQL too (the
//!   archive carries its tables copied into a SQLite database, `store/snapshot.rs`);
//! - `POST /api/v0/installation_asset_collection`, unauthenticated as om sends it, multipart
//!   `installation[file]` then `passphrase` (`commands/import_installation.go`), on a fresh
//!   instance only: `200 {}` once installed (the services then start, and
//!   `/login/ensure_availability` goes from "Waiting…" to `302 → /auth/cloudfoundry`); `422`
//!   naming `passphrase` or `installation[file]`; `409` once set up and `429` after too many
//!   wrong passphrases, both before the body is stored or opened (see [`drain`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{ConnectInfo, Multipart, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use app::session::CurrentUser;

use crate::http::unlock::{Lock, Phase, MAX_PASSPHRASE_LEN};
use crate::http::AppState;
use crate::installation_archive::FILE_FIELD;
use crate::installation_archive::PASSPHRASE_FIELD;
use crate::{Error, Result};

/// The largest export an import takes (tiles and stemcells make exports large).
const MAX_IMPORT: u64 = 256 * 1024 * 1024 * 1024;

/// `GET /api/v0/installation_asset_collection`.
pub async fn export(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
) -> Result<Response> {
    let made = state.exporter.export(&state.store).await?;
    tracing::info!(target: "audit", principal = %caller.username, bytes = made.len, "exported the installation");
    let file = tokio::fs::File::from_std(made.file);
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
        file,
        256 * 1024,
    ));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(made.len));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"installation.zip\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /api/v0/installation_asset_collection`.
pub async fn import(
    State(lock): State<Arc<Lock>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Response {
    // Refused before a byte of a possibly huge body is stored or opened.
    if lock.phase() != Phase::Fresh {
        drain(multipart).await;
        return crate::setup::already_set_up().into_response();
    }
    if let Err(err) = lock.import_allowed(client).await {
        // Throttled (429): the body is not looked at, but read so the client gets the answer.
        drain(multipart).await;
        return err.into_response();
    }
    match receive_and_import(&lock, multipart, client).await {
        Ok(()) => Json(json!({})).into_response(),
        Err(err) => {
            if matches!(
                err,
                Error::Io { .. } | Error::Internal(_) | Error::Database(_)
            ) {
                tracing::error!(error = %err, "importing an installation");
            } else {
                tracing::warn!(target: "audit", error = %err, "an installation import was refused");
            }
            err.into_response()
        }
    }
}

/// How much of a refused import's body is read (and dropped) before the refusal is sent, and
/// for how long.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and drops a refused upload's body, up to [`DRAIN_LIMIT`] bytes and [`DRAIN_TIME`]: a
/// client still writing its body when the answer comes and the connection closes gets a
/// broken pipe instead of the answer, so an export of ordinary size is taken in full and then
/// refused with its reason; a bigger one is cut off.
async fn drain(multipart: std::result::Result<Multipart, MultipartRejection>) {
    let Ok(mut multipart) = multipart else { return };
    let read = async {
        let mut total = 0u64;
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(chunk)) = field.chunk().await {
                total += chunk.len() as u64;
                if total > DRAIN_LIMIT {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, read).await;
}

async fn receive_and_import(
    lock: &Lock,
    multipart: std::result::Result<Multipart, MultipartRejection>,
    client: SocketAddr,
) -> Result<()> {
    let mut multipart = multipart.map_err(|e| {
        Error::invalid(
            FILE_FIELD,
            format!("expected a multipart body with '{FILE_FIELD}' and '{PASSPHRASE_FIELD}' ({e})"),
        )
    })?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        Error::invalid(FILE_FIELD, format!("the upload could not be read: {e}"))
    };
    let mut upload = None;
    let mut passphrase = None;
    // om sends the file first and the passphrase after it: the file is on disk before the
    // passphrase is known.
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some(FILE_FIELD) if upload.is_none() => {
                let mut spool =
                    crate::uploads::Spool::create(lock.data_dir(), MAX_IMPORT, FILE_FIELD).await?;
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    spool.write(&chunk).await?;
                }
                spool.finish().await?;
                upload = Some(spool);
            }
            Some(PASSPHRASE_FIELD) => {
                let text = field.text().await.map_err(bad)?;
                if text.len() > MAX_PASSPHRASE_LEN {
                    return Err(Error::invalid(
                        PASSPHRASE_FIELD,
                        format!("must be at most {MAX_PASSPHRASE_LEN} bytes"),
                    ));
                }
                passphrase = Some(text);
            }
            _ => {}
        }
    }
    let upload = upload.ok_or_else(|| {
        Error::invalid(
            FILE_FIELD,
            format!("the multipart body has no '{FILE_FIELD}' field"),
        )
    })?;
    let passphrase = passphrase.filter(|p| !p.is_empty()).ok_or_else(|| {
        Error::invalid(
            PASSPHRASE_FIELD,
            "is required: the decryption passphrase the export was made with",
        )
    })?;
    // The spool (and its file) goes when this returns, installed or refused.
    lock.import(upload.path(), &passphrase, client).await
}
