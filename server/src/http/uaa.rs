//! `POST /uaa/oauth/token`: the UAA token endpoint as Ops Manager exposes it, so `om` and other
//! API clients log in unchanged. Password grant with the public client `opsman` (empty secret),
//! and the client_credentials grant for clients made with `tileworks admin create-client`.
//! Tokens are opaque random strings (om never inspects them).

use std::net::SocketAddr;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use crate::auth::throttle::retry_after_secs;
use crate::http::login::MAX_CREDENTIAL_LEN;
use crate::http::AppState;
use crate::store::tokens::Principal;

/// Token lifetime, as UAA's default for the opsman client.
pub const TOKEN_LIFETIME_SECS: i64 = 43_199;

/// The public client om uses for the password grant.
const OPSMAN_CLIENT: &str = "opsman";

#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let Form(request) = match form {
        Ok(form) => form,
        Err(rejection) => {
            // The rejection's own status: 413 for an oversized body, 415 for another content type.
            return oauth_error(
                rejection.status(),
                "invalid_request",
                &format!(
                    "expected an application/x-www-form-urlencoded body: {}",
                    rejection.body_text()
                ),
            );
        }
    };
    let basic = match basic_credentials(&headers) {
        Ok(basic) => basic,
        Err(message) => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", message),
    };
    // Client credentials come from HTTP Basic, or from the body as UAA also allows.
    let (client_id, client_secret) = match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (request.client_id.clone(), request.client_secret.clone()),
    };
    let too_long = [
        &client_id,
        &client_secret,
        &request.username,
        &request.password,
    ]
    .iter()
    .any(|field| field.as_ref().is_some_and(|v| v.len() > MAX_CREDENTIAL_LEN));
    if too_long {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "credentials must each be at most 1024 bytes",
        );
    }

    match request.grant_type.as_deref() {
        Some("password") => {
            if client_id.as_deref() != Some(OPSMAN_CLIENT)
                || !client_secret.as_deref().unwrap_or("").is_empty()
            {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "the password grant takes the client 'opsman' with an empty secret",
                );
            }
            let (Some(username), Some(password)) = (request.username, request.password) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the password grant needs 'username' and 'password'",
                );
            };
            match state.throttle.login_wait(&username, client.ip()).await {
                Ok(None) => {}
                Ok(Some(wait)) => return throttled(retry_after_secs(wait)),
                Err(err) => return err.into_response(),
            }
            match state.store.users().authenticate(&username, &password).await {
                Ok(Some(user)) => {
                    if let Err(err) = state
                        .throttle
                        .record_login_success(&username, client.ip())
                        .await
                    {
                        return err.into_response();
                    }
                    issue(
                        &state,
                        Principal {
                            kind: "user".into(),
                            name: user.username,
                            role: user.role,
                        },
                    )
                    .await
                }
                Ok(None) => {
                    if let Err(err) = state
                        .throttle
                        .record_login_failure(&username, client.ip())
                        .await
                    {
                        tracing::error!(error = %err, "recording a failed login");
                    }
                    tracing::warn!(client = %client.ip(), user = %username, grant = "password", "failed login");
                    oauth_error(StatusCode::UNAUTHORIZED, "unauthorized", "Bad credentials")
                }
                Err(err) => err.into_response(),
            }
        }
        Some("client_credentials") => {
            let (Some(id), Some(secret)) = (client_id, client_secret) else {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "the client_credentials grant needs the client id and secret (HTTP Basic)",
                );
            };
            match state.throttle.login_wait(&id, client.ip()).await {
                Ok(None) => {}
                Ok(Some(wait)) => return throttled(retry_after_secs(wait)),
                Err(err) => return err.into_response(),
            }
            match state.store.api_clients().authenticate(&id, &secret).await {
                Ok(Some(api_client)) => {
                    if let Err(err) = state.throttle.record_login_success(&id, client.ip()).await {
                        return err.into_response();
                    }
                    issue(
                        &state,
                        Principal {
                            kind: "client".into(),
                            name: api_client.name,
                            role: api_client.role,
                        },
                    )
                    .await
                }
                Ok(None) => {
                    if let Err(err) = state.throttle.record_login_failure(&id, client.ip()).await {
                        tracing::error!(error = %err, "recording a failed login");
                    }
                    tracing::warn!(client = %client.ip(), user = %id, grant = "client_credentials", "failed login");
                    oauth_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        "Bad credentials",
                    )
                }
                Err(err) => err.into_response(),
            }
        }
        Some(other) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!(
                "grant_type '{other}' is not supported; use 'password' or 'client_credentials'"
            ),
        ),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing 'grant_type'",
        ),
    }
}

async fn issue(state: &AppState, principal: Principal) -> Response {
    match state
        .store
        .tokens()
        .issue(&principal, TOKEN_LIFETIME_SECS)
        .await
    {
        Ok(token) => {
            let mut response = Json(json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME_SECS,
                "scope": "opsman.admin",
                "jti": crate::secrets::random_token(12),
            }))
            .into_response();
            // Tokens must not be cached by anything between client and server.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => err.into_response(),
    }
}

/// `Some((id, secret))` from an `Authorization: Basic` header, `None` without one.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, &'static str> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "malformed Authorization header")?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err("the token endpoint takes HTTP Basic client credentials");
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| "HTTP Basic credentials are not valid base64")?;
    let decoded = String::from_utf8(decoded).map_err(|_| "HTTP Basic credentials are not UTF-8")?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or("HTTP Basic credentials must be 'id:secret'")?;
    Ok(Some((id.to_owned(), secret.to_owned())))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn throttled(retry_after: u64) -> Response {
    crate::Error::Throttled {
        retry_after_secs: retry_after,
    }
    .into_response()
}
