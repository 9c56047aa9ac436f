//! Who is logged in, as the UI sees it.
//!
//! The server's authentication middleware resolves the session (or bearer token) before any page
//! renders and leaves the result in the request's extensions; `current_user` hands it to the page.
//! Because it is a server function read through a `Resource`, the value rendered on the server is
//! serialized into the page and reused during hydration instead of being fetched again.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The authenticated principal of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub username: String,
    pub role: String,
    /// What the role may do, from the server's one role table: the pages offer only what is
    /// allowed (the server checks every request regardless).
    pub permissions: Permissions,
}

/// What a principal's role allows, as the UI needs it to decide what to offer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// Change the staged configuration (save, stage, import, delete, generate).
    pub configure: bool,
    /// Start Apply Changes.
    pub apply: bool,
    /// Reveal credentials and fetch log bundles.
    pub see_credentials: bool,
    /// Manage users and API clients (the Users page).
    #[serde(default)]
    pub manage_users: bool,
    /// Create clusters and manage one's own (the Clusters page's forms; which cluster is
    /// decided per cluster by the server).
    #[serde(default)]
    pub manage_clusters: bool,
    /// Read and export the audit trail (the Audit page).
    pub read_audit: bool,
    /// Tileworks's own settings (the Settings menu).
    #[serde(default)]
    pub administer: bool,
}

/// Whether the page's principal may change the configuration, from the permissions a page
/// provided as context (a page that provides none leaves the decision to the server's gate).
/// Save buttons use it to be disabled, with the reason, instead of failing after the click.
pub fn may_configure() -> bool {
    use_context::<Permissions>().is_none_or(|p| p.configure)
}

/// The tooltip of a Save the role may not use.
pub const READ_ONLY_TITLE: &str = "Your role may read this configuration but not change it";

#[server(prefix = "/_app", endpoint = "current_user")]
pub async fn get_current_user() -> Result<CurrentUser, ServerFnError> {
    use axum::Extension;
    let Extension(user) = leptos_axum::extract::<Extension<CurrentUser>>()
        .await
        .map_err(|_| ServerFnError::new("not logged in"))?;
    Ok(user)
}
