//! The Stemcell Library page's backend (`/stemcells`): the imported stemcells with the staged
//! products that use each, every staged product's stemcell needs, and pinning a version to a
//! product. The server implements [`StemcellsBackend`] (`server/src/ui/stemcells.rs`) over the
//! same library service as `GET /api/v0/stemcells` and `PATCH /api/v0/stemcell_associations`,
//! so a pin the page sets is refused or accepted exactly as om's would be. Imports go through
//! the streaming upload API (`POST /api/v0/stemcells`), not through a server function.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One stemcell of the library as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryStemcell {
    pub id: i64,
    pub name: String,
    pub os: String,
    pub version: String,
    pub infrastructure: String,
    /// A record the embedded Director registers from its manifest alone (no tarball).
    pub light: bool,
    pub filename: String,
    /// Labels of the staged products that deploy with this stemcell.
    pub used_by: Vec<String>,
}

/// One stemcell requirement of a staged product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StemcellNeed {
    pub os: String,
    pub required_version: String,
    /// Later patches of the same major are accepted.
    pub floating: bool,
    /// Library versions that satisfy the requirement, oldest first.
    pub available_versions: Vec<String>,
    /// The version it deploys with; `None`: missing.
    pub staged_version: Option<String>,
    pub deployed_version: Option<String>,
}

/// A staged product and its stemcell needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductNeeds {
    pub guid: String,
    pub label: String,
    pub version: String,
    pub needs: Vec<StemcellNeed>,
}

/// The page's data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StemcellLibraryPage {
    pub stemcells: Vec<LibraryStemcell>,
    pub products: Vec<ProductNeeds>,
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn StemcellsBackend>`.
    #[async_trait::async_trait]
    pub trait StemcellsBackend: Send + Sync + 'static {
        async fn library(&self) -> Result<StemcellLibraryPage, BackendError>;

        /// Pins `version` of `os` to the staged product `guid` (refused naming what the
        /// product's criteria accept).
        async fn assign(
            &self,
            actor: &str,
            guid: &str,
            os: &str,
            version: &str,
        ) -> Result<(), BackendError>;
    }

    pub fn stemcells_backend() -> Result<Arc<dyn StemcellsBackend>, ServerFnError> {
        crate::backend::context::<dyn StemcellsBackend>()
    }
}

/// The Stemcell Library page's data.
#[server(prefix = "/_app", endpoint = "stemcell_library")]
pub async fn load_stemcell_library() -> Result<StemcellLibraryPage, ServerFnError> {
    stemcells_backend()?
        .library()
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Pins a library stemcell to a staged product.
#[server(prefix = "/_app", endpoint = "assign_stemcell")]
pub async fn assign_stemcell(
    guid: String,
    os: String,
    version: String,
) -> Result<(), ServerFnError> {
    let actor = crate::backend::actor().await?;
    stemcells_backend()?
        .assign(&actor, &guid, &os, &version)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}
