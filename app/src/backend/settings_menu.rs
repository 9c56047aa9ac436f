//! The Settings menu (`/settings`, administrators): Tileworks's own settings, one entry per
//! page. Helpers that add a settings page append its entry to [`SETTINGS_ENTRIES`]; the server
//! marks an entry available when the gate knows its page (`server/src/ui/settings_menu.rs`), so
//! an entry whose page is not built yet says so instead of linking to a 404.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The menu: link, title, what it is for.
pub const SETTINGS_ENTRIES: &[(&str, &str, &str)] = &[
    (
        "/settings/certificate-authorities",
        "Certificate authorities",
        "The root CA that signs every product's generated certificates; generate a new one and rotate to it.",
    ),
    (
        "/settings/ssl-certificate",
        "Tileworks TLS certificate",
        "The certificate Tileworks serves its pages and API with.",
    ),
    (
        "/settings/vm-extensions",
        "VM extensions",
        "Named cloud properties that jobs' resource config can add to their VMs.",
    ),
    (
        "/settings/decryption-passphrase",
        "Decryption passphrase",
        "The passphrase that unlocks Tileworks's sealed data after a restart, and changing it.",
    ),
    (
        "/users",
        "Users",
        "Users, their roles, and API clients.",
    ),
    (
        "/audit",
        "Audit trail",
        "Every change, credential reveal, sign-in and refusal.",
    ),
];

/// One entry of the menu as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsEntry {
    pub href: String,
    pub title: String,
    pub description: String,
    /// The page exists (the gate has a rule for it).
    pub available: bool,
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn SettingsMenuBackend>`.
    #[async_trait::async_trait]
    pub trait SettingsMenuBackend: Send + Sync + 'static {
        async fn entries(&self) -> Result<Vec<SettingsEntry>, BackendError>;
    }

    pub fn settings_menu_backend() -> Result<Arc<dyn SettingsMenuBackend>, ServerFnError> {
        crate::backend::context::<dyn SettingsMenuBackend>()
    }
}

/// The Settings menu's entries.
#[server(prefix = "/_app", endpoint = "settings_menu")]
pub async fn load_settings_menu() -> Result<Vec<SettingsEntry>, ServerFnError> {
    settings_menu_backend()?
        .entries()
        .await
        .map_err(|e| ServerFnError::new(e.0))
}
