//! The browser login form's POST handler and logout.

use std::net::SocketAddr;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::throttle::retry_after_secs;
use crate::auth::SESSION_USER_ID;
use crate::http::AppState;
use crate::Error;

/// Longest user name or password considered; longer input is refused before any hashing.
pub const MAX_CREDENTIAL_LEN: usize = 1024;

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    session: Session,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Form(form) = match form {
        Ok(form) => form,
        Err(rejection) => {
            // The rejection's own status: 413 for an oversized body, 415 for another content type.
            return (
                rejection.status(),
                format!(
                    "The login form needs the fields 'username' and 'password' ({}).",
                    rejection.body_text()
                ),
            )
                .into_response();
        }
    };
    if form.username.len() > MAX_CREDENTIAL_LEN || form.password.len() > MAX_CREDENTIAL_LEN {
        return bad_request("User name and password must each be at most 1024 bytes.");
    }
    match state.throttle.login_wait(&form.username, client.ip()).await {
        Ok(None) => {}
        Ok(Some(wait)) => {
            return throttled_page(retry_after_secs(wait), &state.leptos_options.output_name)
        }
        Err(err) => return err.into_response(),
    }
    let user = match state
        .store
        .users()
        .authenticate(&form.username, &form.password)
        .await
    {
        Ok(user) => user,
        Err(err) => return err.into_response(),
    };
    let Some(user) = user else {
        if let Err(err) = state
            .throttle
            .record_login_failure(&form.username, client.ip())
            .await
        {
            tracing::error!(error = %err, "recording a failed login");
        }
        tracing::warn!(client = %client.ip(), user = %form.username, "failed login");
        return Redirect::to("/login?error=invalid").into_response();
    };
    if let Err(err) = state
        .throttle
        .record_login_success(&form.username, client.ip())
        .await
    {
        return err.into_response();
    }
    // A fresh session id at login, so an id planted before login is worth nothing after it.
    if let Err(err) = session.cycle_id().await {
        return Error::Internal(format!("renewing the session id: {err}")).into_response();
    }
    if let Err(err) = session.insert(SESSION_USER_ID, user.id).await {
        return Error::Internal(format!("writing the session: {err}")).into_response();
    }
    if let Err(err) = session
        .insert(
            crate::auth::sessions::SIGNED_IN_AT,
            crate::store::unix_now(),
        )
        .await
    {
        return Error::Internal(format!("writing the session: {err}")).into_response();
    }
    tracing::info!(user = %user.username, client = %client.ip(), "logged in");
    Redirect::to("/").into_response()
}

pub async fn logout(session: Session) -> Response {
    if let Err(err) = session.flush().await {
        return Error::Internal(format!("ending the session: {err}")).into_response();
    }
    Redirect::to("/login").into_response()
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, message.to_owned()).into_response()
}

fn throttled_page(retry_after: u64, assets: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tileworks</title>\
         <link rel=\"stylesheet\" href=\"/pkg/{assets}.css\"></head><body><main class=\"login\">\
         <div class=\"login-card\"><h1>Tileworks</h1><p class=\"form-error\" role=\"alert\">\
         Too many failed login attempts. Try again in {retry_after} seconds.</p>\
         <p><a href=\"/login\">Back to login</a></p></div></main></body></html>"
    );
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Html(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}
