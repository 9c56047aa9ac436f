//! Who a request comes from: a bearer token (API clients, `om`) or a logged-in session (the
//! browser). The gate (`crate::http::gate`) asks here first, then asks the role table
//! ([`super::roles`]) whether that principal may do what the request does.

use axum::http::header;
use tower_sessions::Session;

use app::session::CurrentUser;

use super::roles::principal;
use super::sessions::{SessionPolicy, SIGNED_IN_AT};
use super::SESSION_USER_ID;
use crate::store::Store;
use crate::Error;

/// How a request proved who it is. Only a session rides on a cookie the browser sends by
/// itself, so only session requests need the cross-site checks (`crate::http::csrf`). The gate
/// leaves it in the request's extensions beside the principal: only a user (by session or by a
/// password-grant token) has a password of its own to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A token issued to a user (the password grant).
    UserToken,
    /// A token issued to an API client (the client_credentials grant).
    ClientToken,
    Session,
}

impl Credential {
    /// Whether the principal is a user (not an API client).
    pub fn is_user(self) -> bool {
        self != Credential::ClientToken
    }
}

/// The principal of a request, or `None` when it presents neither a token nor a session.
pub async fn authenticate(
    store: &Store,
    session: &Session,
    authorization: Option<header::HeaderValue>,
    policy: &SessionPolicy,
) -> crate::Result<Option<(CurrentUser, Credential)>> {
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
        return match store.tokens().principal(token).await? {
            Some(found) => {
                let credential = if found.kind == "client" {
                    Credential::ClientToken
                } else {
                    Credential::UserToken
                };
                Ok(Some((principal(found.name, found.role), credential)))
            }
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
    // Past its lifetime whatever the activity (or from before lifetimes were recorded): ended.
    let signed_in_at: Option<i64> = session
        .get(SIGNED_IN_AT)
        .await
        .map_err(|e| Error::Internal(format!("reading the session: {e}")))?;
    if signed_in_at.is_none_or(|at| policy.outlived(at, crate::store::unix_now())) {
        session
            .flush()
            .await
            .map_err(|e| Error::Internal(format!("ending the session: {e}")))?;
        return Ok(None);
    }
    policy
        .refresh(session, crate::store::unix_now())
        .await
        .map_err(|e| Error::Internal(format!("refreshing the session: {e}")))?;
    // Changing, disabling or removing a user ends its sessions; a session that a request
    // loaded just before is judged on the user as it is now.
    Ok(store
        .users()
        .by_id(user_id)
        .await?
        .filter(|user| user.enabled())
        .map(|user| (principal(user.username, user.role), Credential::Session)))
}
