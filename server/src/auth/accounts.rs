//! Users and API clients: creating, changing, disabling, deleting users and resetting their
//! passwords, a user's own password change, listing and revoking API clients. The API
//! (`crate::http::api::users`), the Users page (`crate::ui::users`) and the command line
//! (`tileworks admin user|client …`) all come here, so they follow the same rules:
//!
//! - a password or role change, a disable, a delete or a revocation ends that principal's
//!   browser sessions and bearer tokens at once;
//! - there is always an enabled administrator: removing, demoting or disabling the last one is
//!   refused (`409`, naming the rule; checked in the same statement as the change);
//! - new passwords are at least [`password::MIN_PASSWORD_LEN`] characters (`422` naming the
//!   field) and are never logged.
//!
//! Who may call these is not decided here: the gate allows `Action::ManageUsers` to
//! administrators only (and a user's own password change to every signed-in user).

use app::backend::users::{ApiClientSummary, UserSummary};
use app::session::CurrentUser;

use super::password;
use super::principal::Credential;
use super::roles::Role;
use crate::store::users::{Guarded, User};
use crate::store::Store;
use crate::{Error, Result};

/// The actor named in the audit log for changes made with `tileworks admin`.
pub const COMMAND_LINE: &str = "command line";

/// The rule the last enabled administrator is kept by.
fn last_admin(username: &str, what: &str) -> Error {
    Error::Refused(format!(
        "'{username}' is the last enabled administrator and cannot be {what}: there must always \
         be an enabled administrator (make another user an administrator first)"
    ))
}

/// A user's name: 1–64 letters, digits, `-`, `_`, `.` or `@` (it appears in URLs and logs).
pub fn validate_username(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            "username",
            "must be 1-64 characters of letters, digits, '-', '_', '.' or '@'",
        ))
    }
}

/// A role name as given (`read_only` is restricted view); `422` naming `field` otherwise.
pub fn parse_role(field: &str, name: &str) -> Result<Role> {
    Role::parse(name).ok_or_else(|| {
        Error::invalid(
            field,
            format!(
                "'{name}' is not a role; use one of {}",
                Role::ALL.map(Role::name).join(", ")
            ),
        )
    })
}

fn summary(user: &User) -> UserSummary {
    UserSummary {
        username: user.username.clone(),
        role: user.role.clone(),
        enabled: user.enabled(),
        created_at: user.created_at.clone(),
    }
}

fn not_found(username: &str) -> Error {
    Error::NotFound(format!("user '{username}'"))
}

#[derive(Clone, Debug)]
pub struct Accounts {
    store: Store,
}

impl Accounts {
    pub fn new(store: Store) -> Self {
        Accounts { store }
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<UserSummary>> {
        Ok(self
            .store
            .users()
            .list()
            .await?
            .iter()
            .map(summary)
            .collect())
    }

    /// Every API client, by name.
    pub async fn clients(&self) -> Result<Vec<ApiClientSummary>> {
        Ok(self
            .store
            .api_clients()
            .list()
            .await?
            .into_iter()
            .map(|c| ApiClientSummary {
                name: c.name,
                role: c.role,
                created_at: c.created_at,
            })
            .collect())
    }

    pub async fn create_user(
        &self,
        actor: &str,
        username: &str,
        new_password: &str,
        role: &str,
    ) -> Result<UserSummary> {
        validate_username(username)?;
        let role = parse_role("role", role)?;
        password::check_new("password", new_password)?;
        let user = self
            .store
            .users()
            .create(username, new_password, role.name())
            .await?;
        tracing::info!(target: "audit", actor, user = %username, role = %role, "user created");
        Ok(summary(&user))
    }

    /// Gives `username` another role; its sessions and tokens end (they carry the old role).
    pub async fn set_role(&self, actor: &str, username: &str, role: &str) -> Result<UserSummary> {
        let role = parse_role("role", role)?;
        let users = self.store.users();
        let before = users
            .by_name(username)
            .await?
            .ok_or_else(|| not_found(username))?;
        if before.role == role.name() {
            return Ok(summary(&before));
        }
        let user = match users.set_role(username, role.name()).await? {
            Guarded::Done(user) => user,
            Guarded::NotFound => return Err(not_found(username)),
            Guarded::LastAdmin => return Err(last_admin(username, "given another role")),
        };
        self.end_user(&user).await?;
        tracing::info!(
            target: "audit",
            actor,
            user = %username,
            from = %before.role,
            to = %role,
            "user role changed; its sessions and tokens ended"
        );
        Ok(summary(&user))
    }

    /// Disables (the user cannot log in; its sessions and tokens end) or re-enables a user.
    pub async fn set_enabled(
        &self,
        actor: &str,
        username: &str,
        enabled: bool,
    ) -> Result<UserSummary> {
        let users = self.store.users();
        let before = users
            .by_name(username)
            .await?
            .ok_or_else(|| not_found(username))?;
        if before.enabled() == enabled {
            return Ok(summary(&before));
        }
        let user = match users.set_disabled(username, !enabled).await? {
            Guarded::Done(user) => user,
            Guarded::NotFound => return Err(not_found(username)),
            Guarded::LastAdmin => return Err(last_admin(username, "disabled")),
        };
        if enabled {
            tracing::info!(target: "audit", actor, user = %username, "user re-enabled");
        } else {
            self.end_user(&user).await?;
            tracing::info!(
                target: "audit",
                actor,
                user = %username,
                "user disabled; its sessions and tokens ended"
            );
        }
        Ok(summary(&user))
    }

    pub async fn delete_user(&self, actor: &str, username: &str) -> Result<()> {
        let user = match self.store.users().delete(username).await? {
            Guarded::Done(user) => user,
            Guarded::NotFound => return Err(not_found(username)),
            Guarded::LastAdmin => return Err(last_admin(username, "deleted")),
        };
        self.end_user(&user).await?;
        tracing::info!(target: "audit", actor, user = %username, "user deleted");
        Ok(())
    }

    /// An administrator's reset of a user's password; its sessions and tokens end.
    pub async fn reset_password(
        &self,
        actor: &str,
        username: &str,
        new_password: &str,
    ) -> Result<()> {
        password::check_new("password", new_password)?;
        let user = self
            .store
            .users()
            .set_password(username, new_password)
            .await?
            .ok_or_else(|| not_found(username))?;
        self.end_user(&user).await?;
        tracing::info!(
            target: "audit",
            actor,
            user = %username,
            "password reset; the user's sessions and tokens ended"
        );
        Ok(())
    }

    /// A user's own password change, given the current password. Every session and token of
    /// the user ends, the one asking included: it signs in again with the new password.
    pub async fn change_own_password(
        &self,
        caller: &CurrentUser,
        credential: Credential,
        current: &str,
        new_password: &str,
    ) -> Result<()> {
        if !credential.is_user() {
            return Err(Error::Refused(
                "an API client has no password to change; revoke it and create another".into(),
            ));
        }
        if current.is_empty() {
            return Err(Error::invalid("current_password", "is required"));
        }
        password::check_new("new_password", new_password)?;
        if current == new_password {
            return Err(Error::invalid(
                "new_password",
                "must differ from the current password",
            ));
        }
        if current.len() > password::MAX_PASSWORD_BYTES {
            return Err(Error::invalid("current_password", "is not correct"));
        }
        let users = self.store.users();
        if users
            .authenticate(&caller.username, current)
            .await?
            .is_none()
        {
            tracing::warn!(target: "audit", user = %caller.username, "own password change refused: wrong current password");
            return Err(Error::invalid("current_password", "is not correct"));
        }
        let user = users
            .set_password(&caller.username, new_password)
            .await?
            .ok_or_else(|| not_found(&caller.username))?;
        self.end_user(&user).await?;
        tracing::info!(
            target: "audit",
            user = %caller.username,
            "own password changed; the user's sessions and tokens ended"
        );
        Ok(())
    }

    /// Removes an API client; its tokens end at once.
    pub async fn revoke_client(&self, actor: &str, name: &str) -> Result<()> {
        if !self.store.api_clients().delete(name).await? {
            return Err(Error::NotFound(format!("API client '{name}'")));
        }
        let tokens = self.store.tokens().end_for("client", name).await?;
        tracing::info!(target: "audit", actor, client = %name, tokens, "API client revoked; its tokens ended");
        Ok(())
    }

    /// Ends every browser session and bearer token of a user.
    async fn end_user(&self, user: &User) -> Result<()> {
        crate::store::sessions::end_for_user(self.store.pool(), user.id).await?;
        self.store.tokens().end_for("user", &user.username).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_roles_are_checked() {
        assert!(validate_username("ops.person@example").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("has space").is_err());
        assert!(validate_username("a/b").is_err());
        assert_eq!(
            parse_role("role", "read_only").unwrap(),
            Role::RestrictedView
        );
        let err = parse_role("role", "root").unwrap_err();
        assert!(err.to_string().starts_with("role: 'root' is not a role"));
    }
}
