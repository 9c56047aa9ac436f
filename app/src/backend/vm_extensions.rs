//! The VM extensions settings page (`/settings/vm-extensions`): the staged VM extensions, read
//! by the same service as `GET /api/v0/staged/vm_extensions`. The page's writes are plain
//! forms (`server/src/http/settings_forms.rs`) calling the service the API's `PUT` and
//! `DELETE` call, so a save is a Director change Review shows like the API's.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One VM extension as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmExtensionRow {
    pub name: String,
    /// Its cloud properties as indented JSON (what the edit form's textarea holds).
    pub cloud_properties: String,
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn VmExtensionsBackend>`.
    #[async_trait::async_trait]
    pub trait VmExtensionsBackend: Send + Sync + 'static {
        async fn list(&self) -> Result<Vec<VmExtensionRow>, BackendError>;
    }

    pub fn vm_extensions_backend() -> Result<Arc<dyn VmExtensionsBackend>, ServerFnError> {
        crate::backend::context::<dyn VmExtensionsBackend>()
    }
}

/// The staged VM extensions, in the order they were created.
#[server(prefix = "/_app", endpoint = "vm_extensions")]
pub async fn load_vm_extensions() -> Result<Vec<VmExtensionRow>, ServerFnError> {
    vm_extensions_backend()?
        .list()
        .await
        .map_err(|e| ServerFnError::new(e.0))
}
