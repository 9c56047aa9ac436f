//! Users and API clients over the API (Tileworks's own: Ops Manager keeps users in UAA), for
//! scripts and for the same rules as the Users page and `tileworks admin user|client …`:
//!
//! - `GET /api/v0/users` → `{"users": [{username, role, enabled, created_at}]}`;
//! - `POST /api/v0/users` `{"username", "password", "role"}` → `201 {"user": {…}}`;
//! - `PATCH /api/v0/users/:name` with any of `{"role", "enabled", "password"}` → `{"user": {…}}`
//!   (a role or password change, or a disable, ends the user's sessions and tokens);
//! - `DELETE /api/v0/users/:name` → `204`;
//! - `GET /api/v0/api_clients` → `{"api_clients": [{name, role, created_at}]}`;
//! - `DELETE /api/v0/api_clients/:name` → `204` (its tokens end);
//! - `PUT /api/v0/me/password` `{"current_password", "new_password"}` → `204`, for any
//!   signed-in user (its sessions and tokens end, the one used included).
//!
//! Invalid input is `422` naming the field; removing, demoting or disabling the last enabled
//! administrator is `409` naming the rule. Passwords are never answered nor logged.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use app::session::CurrentUser;

use super::json_body;
use crate::auth::accounts::Accounts;
use crate::auth::principal::Credential;
use crate::http::AppState;
use crate::{Error, Result};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v0/users", get(list).post(create))
        .route(
            "/api/v0/users/{name}",
            axum::routing::patch(update).delete(remove),
        )
        .route("/api/v0/api_clients", get(clients))
        .route("/api/v0/api_clients/{name}", delete(revoke))
        .route("/api/v0/me/password", put(own_password))
}

fn accounts(state: &AppState) -> Accounts {
    Accounts::new(state.store.clone())
}

/// A text field of the body: `None` when absent, `422` naming it when not a string.
fn text<'a>(body: &'a Value, field: &str) -> Result<Option<&'a str>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::invalid(field, "must be a string")),
    }
}

fn required<'a>(body: &'a Value, field: &str) -> Result<&'a str> {
    text(body, field)?.ok_or_else(|| Error::invalid(field, "is required"))
}

fn object(body: Value) -> Result<Value> {
    if body.is_object() {
        Ok(body)
    } else {
        Err(Error::invalid("base", "expected a JSON object"))
    }
}

async fn list(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(json!({"users": accounts(&state).users().await?})))
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    bytes: Bytes,
) -> Result<Response> {
    let body = object(json_body(&bytes)?)?;
    let user = accounts(&state)
        .create_user(
            &caller.username,
            required(&body, "username")?,
            required(&body, "password")?,
            required(&body, "role")?,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"user": user}))).into_response())
}

async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let body = object(json_body(&bytes)?)?;
    let role = text(&body, "role")?;
    let enabled = match body.get("enabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(Error::invalid("enabled", "must be true or false")),
    };
    let password = text(&body, "password")?;
    let accounts = accounts(&state);
    let actor = caller.username.as_str();
    // Everything is checked before anything changes.
    if let Some(role) = role {
        crate::auth::accounts::parse_role("role", role)?;
    }
    if let Some(password) = password {
        crate::auth::password::check_new("password", password)?;
    }
    let mut user = None;
    if let Some(role) = role {
        user = Some(accounts.set_role(actor, &name, role).await?);
    }
    if let Some(enabled) = enabled {
        user = Some(accounts.set_enabled(actor, &name, enabled).await?);
    }
    if let Some(password) = password {
        accounts.reset_password(actor, &name, password).await?;
    }
    let user = match user {
        Some(user) => user,
        None => accounts
            .users()
            .await?
            .into_iter()
            .find(|u| u.username == name)
            .ok_or_else(|| Error::NotFound(format!("user '{name}'")))?,
    };
    Ok(Json(json!({"user": user})))
}

async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    accounts(&state)
        .delete_user(&caller.username, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn clients(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(
        json!({"api_clients": accounts(&state).clients().await?}),
    ))
}

async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    accounts(&state)
        .revoke_client(&caller.username, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn own_password(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Extension(credential): Extension<Credential>,
    bytes: Bytes,
) -> Result<StatusCode> {
    let body = object(json_body(&bytes)?)?;
    accounts(&state)
        .change_own_password(
            &caller,
            credential,
            required(&body, "current_password")?,
            required(&body, "new_password")?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
