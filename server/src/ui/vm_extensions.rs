//! The UI's [`VmExtensionsBackend`]: the staged VM extensions as `GET
//! /api/v0/staged/vm_extensions` reads them (`crate::products::vm_extensions`), each one's cloud
//! properties as indented JSON for the page.

use std::sync::Arc;

use app::backend::vm_extensions::{VmExtensionRow, VmExtensionsBackend};
use app::backend::BackendError;

use crate::products::Products;
use crate::ui::shown;

struct UiVmExtensions {
    products: Products,
}

/// The backend as the Leptos context holds it.
pub fn context(products: &Products) -> Arc<dyn VmExtensionsBackend> {
    Arc::new(UiVmExtensions {
        products: products.clone(),
    })
}

#[async_trait::async_trait]
impl VmExtensionsBackend for UiVmExtensions {
    async fn list(&self) -> Result<Vec<VmExtensionRow>, BackendError> {
        let extensions = self.products.vm_extensions().await.map_err(shown)?;
        Ok(extensions
            .into_iter()
            .map(|e| VmExtensionRow {
                name: e.name,
                cloud_properties: serde_json::to_string_pretty(&e.cloud_properties)
                    .unwrap_or_default(),
            })
            .collect())
    }
}
