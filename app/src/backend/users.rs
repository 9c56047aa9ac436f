//! The Users page (`/users`, administrators only) and the Account page (`/account`, every
//! signed-in user): users with Ops Manager's roles, created, changed, disabled, re-enabled,
//! deleted and given a new password by an administrator; API clients listed and revoked; a
//! user's own password change.
//!
//! The server implements [`UsersBackend`] (`server/src/ui/users.rs`) over the same service as
//! the API (`/api/v0/users`, `/api/v0/api_clients`, `/api/v0/me/password`) and the command
//! line (`tileworks admin user …`, `tileworks admin client …`), so all three follow the same
//! rules: a change to a user ends its sessions and tokens, the last enabled administrator
//! stays one. Passwords travel only in the body of the call that sets them and never come back.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The shortest password a user may be given.
pub const MIN_PASSWORD_LEN: usize = 12;

/// The roles a user may have, as stored and as shown, most privileged first.
pub const ROLES: [(&str, &str); 5] = [
    ("admin", "Administrator"),
    ("full_control", "Full control"),
    ("restricted_control", "Restricted control"),
    ("full_view", "Full view"),
    ("restricted_view", "Restricted view"),
];

/// How a role is shown (its name when it is not one of [`ROLES`]).
pub fn role_label(role: &str) -> String {
    ROLES
        .iter()
        .find(|(name, _)| *name == role)
        .map(|(_, label)| (*label).to_owned())
        .unwrap_or_else(|| role.to_owned())
}

/// One user, as listed: never a password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub username: String,
    pub role: String,
    pub enabled: bool,
    pub created_at: String,
}

/// One API client, as listed: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiClientSummary {
    pub name: String,
    pub role: String,
    pub created_at: String,
}

/// What the Users page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<UserSummary>,
    pub clients: Vec<ApiClientSummary>,
    /// The administrator looking at the page.
    pub you: String,
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use crate::session::CurrentUser;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn UsersBackend>`.
    #[async_trait::async_trait]
    pub trait UsersBackend: Send + Sync + 'static {
        async fn users_page(&self, caller: &CurrentUser) -> Result<UsersPage, BackendError>;
        async fn create_user(
            &self,
            caller: &CurrentUser,
            username: &str,
            password: &str,
            role: &str,
        ) -> Result<UserSummary, BackendError>;
        async fn set_role(
            &self,
            caller: &CurrentUser,
            username: &str,
            role: &str,
        ) -> Result<UserSummary, BackendError>;
        async fn set_enabled(
            &self,
            caller: &CurrentUser,
            username: &str,
            enabled: bool,
        ) -> Result<UserSummary, BackendError>;
        async fn delete_user(
            &self,
            caller: &CurrentUser,
            username: &str,
        ) -> Result<(), BackendError>;
        async fn reset_password(
            &self,
            caller: &CurrentUser,
            username: &str,
            password: &str,
        ) -> Result<(), BackendError>;
        async fn revoke_client(&self, caller: &CurrentUser, name: &str)
            -> Result<(), BackendError>;
        /// The caller's own password, given the current one; ends the caller's sessions.
        async fn change_own_password(
            &self,
            caller: &CurrentUser,
            current: &str,
            new: &str,
        ) -> Result<(), BackendError>;
    }

    /// The users backend of the current request.
    pub fn users_backend() -> Result<Arc<dyn UsersBackend>, ServerFnError> {
        use_context::<Arc<dyn UsersBackend>>()
            .ok_or_else(|| ServerFnError::new("backend not configured"))
    }
}

/// The Users page's data.
#[server(prefix = "/_app", endpoint = "users_page")]
pub async fn load_users_page() -> Result<UsersPage, ServerFnError> {
    let caller = crate::backend::caller().await?;
    users_backend()?
        .users_page(&caller)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Creates a user.
#[server(prefix = "/_app", endpoint = "create_user")]
pub async fn create_user(
    username: String,
    password: String,
    role: String,
) -> Result<UserSummary, ServerFnError> {
    let caller = crate::backend::caller().await?;
    users_backend()?
        .create_user(&caller, &username, &password, &role)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Gives a user another role (its sessions and tokens end).
#[server(prefix = "/_app", endpoint = "set_user_role")]
pub async fn set_user_role(username: String, role: String) -> Result<UserSummary, ServerFnError> {
    let caller = crate::backend::caller().await?;
    users_backend()?
        .set_role(&caller, &username, &role)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Disables (its sessions and tokens end) or re-enables a user.
#[server(prefix = "/_app", endpoint = "set_user_enabled")]
pub async fn set_user_enabled(
    username: String,
    enabled: bool,
) -> Result<UserSummary, ServerFnError> {
    let caller = crate::backend::caller().await?;
    users_backend()?
        .set_enabled(&caller, &username, enabled)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Deletes a user.
#[server(prefix = "/_app", endpoint = "delete_user")]
pub async fn delete_user(username: String) -> Result<(), ServerFnError> {
    let caller = crate::backend::caller().await?;
    users_backend()?
        .delete_user(&caller, &username)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Gives a user a new password (its sessions and tokens end).
#[server(prefix = "/_app", endpoint = "reset_user_password")]
pub async fn reset_user_password(username: String, password: String) -> Result<(), ServerFnError> {
    let caller = crate::backend::caller().await?;
    users_backend()?
        .reset_password(&caller, &username, &password)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Removes an API client; its tokens end.
#[server(prefix = "/_app", endpoint = "revoke_api_client")]
pub async fn revoke_api_client(name: String) -> Result<(), ServerFnError> {
    let caller = crate::backend::caller().await?;
    users_backend()?
        .revoke_client(&caller, &name)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// The caller's own password change.
#[server(prefix = "/_app", endpoint = "change_own_password")]
pub async fn change_own_password(
    current_password: String,
    new_password: String,
) -> Result<(), ServerFnError> {
    let caller = crate::backend::caller().await?;
    users_backend()?
        .change_own_password(&caller, &current_password, &new_password)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_have_labels() {
        assert_eq!(role_label("full_view"), "Full view");
        assert_eq!(role_label("something"), "something");
    }
}
