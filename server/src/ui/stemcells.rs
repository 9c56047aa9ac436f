//! The UI's [`StemcellsBackend`]: the Stemcell Library page over the library service, the same
//! one `GET /api/v0/stemcells` and `PATCH /api/v0/stemcell_associations` use, so a pin is
//! checked against a product's criteria the same way from the page and from om.

use std::sync::Arc;

use app::backend::stemcells::{
    LibraryStemcell, ProductNeeds, StemcellLibraryPage, StemcellNeed, StemcellsBackend,
};
use app::backend::BackendError;

use crate::stemcells::StemcellLibrary;
use crate::ui::shown;

struct UiStemcells {
    library: StemcellLibrary,
}

/// The backend as the Leptos context holds it.
pub fn context(library: &StemcellLibrary) -> Arc<dyn StemcellsBackend> {
    Arc::new(UiStemcells {
        library: library.clone(),
    })
}

#[async_trait::async_trait]
impl StemcellsBackend for UiStemcells {
    async fn library(&self) -> Result<StemcellLibraryPage, BackendError> {
        let stemcells = self.library.list().await.map_err(shown)?;
        let products = self.library.product_stemcells().await.map_err(shown)?;
        let used_by = |os: &str, version: &str| -> Vec<String> {
            products
                .iter()
                .filter(|p| {
                    p.uses.iter().any(|u| {
                        u.required_os == os && u.staged_version.as_deref() == Some(version)
                    })
                })
                .map(|p| p.label.clone())
                .collect()
        };
        Ok(StemcellLibraryPage {
            stemcells: stemcells
                .iter()
                .map(|s| LibraryStemcell {
                    id: s.id,
                    name: s.name.clone(),
                    os: s.os.clone(),
                    version: s.version.clone(),
                    infrastructure: s.infrastructure.clone(),
                    light: s.light,
                    filename: s.filename.clone(),
                    used_by: used_by(&s.os, &s.version),
                })
                .collect(),
            products: products
                .iter()
                .map(|p| ProductNeeds {
                    guid: p.guid.clone(),
                    label: p.label.clone(),
                    version: p.staged_product_version.clone(),
                    needs: p
                        .uses
                        .iter()
                        .map(|u| StemcellNeed {
                            os: u.required_os.clone(),
                            required_version: u.required_version.clone(),
                            floating: u.floating,
                            available_versions: u.available_versions.clone(),
                            staged_version: u.staged_version.clone(),
                            deployed_version: u.deployed_version.clone(),
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    async fn assign(
        &self,
        actor: &str,
        guid: &str,
        os: &str,
        version: &str,
    ) -> Result<(), BackendError> {
        let request = [(guid.to_owned(), Some(os.to_owned()), version.to_owned())];
        self.library
            .assign(&request, "version", actor)
            .await
            .map_err(shown)
    }
}
