//! The guard in front of every route. A request passes with a valid bearer token or a logged-in
//! session; otherwise API and server-function calls get 401 JSON and pages redirect to /login.
//! Only the login page, `/api/v0/info`, the token endpoint and static assets are public.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use app::session::CurrentUser;

use super::SESSION_USER_ID;
use crate::http::AppState;
use crate::Error;

/// Paths anyone may request.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/login" | "/api/v0/info" | "/uaa/oauth/token" | "/favicon.svg" | "/favicon.ico"
    ) || path.starts_with("/pkg/")
}

/// Paths answered with JSON, so a refusal is a 401 rather than a redirect to the login page.
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/_app/") || path.starts_with("/uaa/")
}

pub async fn require_auth(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    // Only the header is taken along: a `Request` is not `Sync`, so holding a reference to it
    // across the awaits below would make this future non-`Send`.
    let authorization = request.headers().get(header::AUTHORIZATION).cloned();
    match authenticate(&state, &session, authorization).await {
        Ok(Some(user)) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        Ok(None) if is_api(&path) => {
            Error::Unauthorized("Full authentication is required to access this resource".into())
                .into_response()
        }
        Ok(None) => Redirect::to("/login").into_response(),
        Err(err) => err.into_response(),
    }
}

async fn authenticate(
    state: &AppState,
    session: &Session,
    authorization: Option<header::HeaderValue>,
) -> crate::Result<Option<CurrentUser>> {
    if let Some(value) = authorization {
        // A request that presents credentials is judged on them alone: a bad token is refused
        // even if a session cookie rides along.
        let value = value
            .to_str()
            .map_err(|_| Error::Unauthorized("malformed Authorization header".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::Unauthorized("expected 'Authorization: Bearer <token>'".into())
            })?;
        return match state.store.tokens().principal(token).await? {
            Some(principal) => Ok(Some(CurrentUser {
                username: principal.name,
                role: principal.role,
            })),
            None => Err(Error::Unauthorized("invalid or expired token".into())),
        };
    }
    let user_id: Option<i64> = session
        .get(SESSION_USER_ID)
        .await
        .map_err(|e| Error::Internal(format!("reading the session: {e}")))?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    // The user may have been removed since the session began.
    Ok(state
        .store
        .users()
        .by_id(user_id)
        .await?
        .map(|user| CurrentUser {
            username: user.username,
            role: user.role,
        }))
}

/// 404 for anything that reaches the fallback under `/api/`: JSON, like the rest of the API.
pub async fn api_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"errors": {"base": ["no such API endpoint"]}})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_paths_are_public() {
        for path in [
            "/login",
            "/api/v0/info",
            "/uaa/oauth/token",
            "/pkg/tileworks.js",
        ] {
            assert!(is_public(path), "{path}");
        }
        for path in [
            "/",
            "/api/v0/staged/products",
            "/_app/current_user",
            "/logout",
            "/loginx",
        ] {
            assert!(!is_public(path), "{path}");
        }
    }
}
