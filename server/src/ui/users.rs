//! The UI's [`UsersBackend`]: the Users and Account pages over the same service as the API and
//! the command line (`crate::auth::accounts`).

use std::sync::Arc;

use app::backend::users::{UserSummary, UsersBackend, UsersPage};
use app::backend::BackendError;
use app::session::CurrentUser;

use crate::auth::accounts::Accounts;
use crate::auth::principal::Credential;
use crate::store::Store;
use crate::ui::shown;

struct UiUsers {
    accounts: Accounts,
}

/// The backend as the Leptos context holds it.
pub fn context(store: &Store) -> Arc<dyn UsersBackend> {
    Arc::new(UiUsers {
        accounts: Accounts::new(store.clone()),
    })
}

/// How the request proved who it is (the gate left it beside the principal).
fn credential() -> Credential {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Credential>().copied())
        .unwrap_or(Credential::Session)
}

#[async_trait::async_trait]
impl UsersBackend for UiUsers {
    async fn users_page(&self, caller: &CurrentUser) -> Result<UsersPage, BackendError> {
        Ok(UsersPage {
            users: self.accounts.users().await.map_err(shown)?,
            clients: self.accounts.clients().await.map_err(shown)?,
            you: caller.username.clone(),
        })
    }

    async fn create_user(
        &self,
        caller: &CurrentUser,
        username: &str,
        password: &str,
        role: &str,
    ) -> Result<UserSummary, BackendError> {
        self.accounts
            .create_user(&caller.username, username, password, role)
            .await
            .map_err(shown)
    }

    async fn set_role(
        &self,
        caller: &CurrentUser,
        username: &str,
        role: &str,
    ) -> Result<UserSummary, BackendError> {
        self.accounts
            .set_role(&caller.username, username, role)
            .await
            .map_err(shown)
    }

    async fn set_enabled(
        &self,
        caller: &CurrentUser,
        username: &str,
        enabled: bool,
    ) -> Result<UserSummary, BackendError> {
        self.accounts
            .set_enabled(&caller.username, username, enabled)
            .await
            .map_err(shown)
    }

    async fn delete_user(&self, caller: &CurrentUser, username: &str) -> Result<(), BackendError> {
        self.accounts
            .delete_user(&caller.username, username)
            .await
            .map_err(shown)
    }

    async fn reset_password(
        &self,
        caller: &CurrentUser,
        username: &str,
        password: &str,
    ) -> Result<(), BackendError> {
        self.accounts
            .reset_password(&caller.username, username, password)
            .await
            .map_err(shown)
    }

    async fn revoke_client(&self, caller: &CurrentUser, name: &str) -> Result<(), BackendError> {
        self.accounts
            .revoke_client(&caller.username, name)
            .await
            .map_err(shown)
    }

    async fn change_own_password(
        &self,
        caller: &CurrentUser,
        current: &str,
        new: &str,
    ) -> Result<(), BackendError> {
        self.accounts
            .change_own_password(caller, credential(), current, new)
            .await
            .map_err(shown)
    }
}
