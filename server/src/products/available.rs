//! Available products: the tiles imported into the tile store, and the bundled ones
//! (`tiles::products::bundled()`, registered at every start so they are there from the first).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Products;
use crate::store::products::{AvailableRow, NewAvailable};
use crate::{Error, Result};

/// An imported or bundled tile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailableProduct {
    pub name: String,
    pub product_version: String,
    pub label: String,
    /// SHA-256 of the `.pivotal` (of the metadata for bundled tiles).
    pub sha256: String,
    /// Bytes of the `.pivotal` (of the metadata for bundled tiles).
    pub size: i64,
    pub bundled: bool,
    pub imported_at: String,
    /// Whether a product of this name and version is on the dashboard.
    pub staged: bool,
    /// Properties and jobs the tile's templates use that its releases' job specs do not
    /// declare (read at import, `super::job_specs`): warnings, never a refusal.
    #[serde(default)]
    pub job_spec_warnings: Vec<String>,
    /// What Ops Manager tolerates in the metadata and the import accepted as it does (lint
    /// warnings, `super::import`), one line each: never a refusal.
    #[serde(default)]
    pub lint_warnings: Vec<String>,
}

impl Products {
    /// Every available product, by name then import order.
    pub async fn available(&self) -> Result<Vec<AvailableProduct>> {
        let staged = self.store().products().staged().await?;
        Ok(self
            .store()
            .products()
            .available()
            .await?
            .into_iter()
            .map(|row| {
                let is_staged = staged
                    .iter()
                    .any(|s| s.name == row.name && s.version == row.version);
                to_product(row, is_staged)
            })
            .collect())
    }

    pub(super) async fn register_bundled(&self) -> Result<()> {
        for tile in tiles::products::bundled() {
            let template = self.template_of(tile.name, tile.product_version, tile.metadata_yaml)?;
            let label = template
                .label
                .clone()
                .unwrap_or_else(|| tile.name.to_owned());
            let sha256 = hex::encode(Sha256::digest(tile.metadata_yaml.as_bytes()));
            self.store()
                .products()
                .add_available(&NewAvailable {
                    name: tile.name,
                    version: tile.product_version,
                    label: &label,
                    metadata: tile.metadata_yaml,
                    file_path: None,
                    sha256: &sha256,
                    size: tile.metadata_yaml.len() as i64,
                    bundled: true,
                    job_specs: None,
                    lint_warnings: None,
                })
                .await?;
        }
        Ok(())
    }

    /// Deletes one available product and its file. A staged version is in use and cannot be
    /// deleted; bundled tiles are part of the binary and cannot be deleted either.
    pub async fn delete_available(&self, name: &str, version: &str) -> Result<()> {
        // An apply may be reading this tile's releases; deletions wait for it to end.
        let _write = self.begin_write().await?;
        let row = self
            .store()
            .products()
            .available_one(name, version)
            .await?
            .ok_or_else(|| Error::NotFound(format!("available product {name} {version}")))?;
        if row.bundled {
            return Err(Error::invalid(
                "product_name",
                format!("{name} {version} is bundled with Tileworks and cannot be deleted"),
            ));
        }
        if let Some(staged) = self.store().products().staged_by_name(name).await? {
            if staged.version == version {
                return Err(Error::invalid(
                    "product_name",
                    format!("{name} {version} is staged; unstage it before deleting it"),
                ));
            }
        }
        self.remove_available(row).await
    }

    /// Deletes every imported product that is not staged (bundled tiles stay). Returns the
    /// deleted (name, version) pairs.
    pub async fn delete_unused(&self) -> Result<Vec<(String, String)>> {
        let _write = self.begin_write().await?;
        let staged = self.store().products().staged().await?;
        let mut deleted = Vec::new();
        for row in self.store().products().available().await? {
            let in_use = staged
                .iter()
                .any(|s| s.name == row.name && s.version == row.version);
            if row.bundled || in_use {
                continue;
            }
            deleted.push((row.name.clone(), row.version.clone()));
            self.remove_available(row).await?;
        }
        Ok(deleted)
    }

    async fn remove_available(&self, row: AvailableRow) -> Result<()> {
        let files = self.files();
        if let Some(path) = &row.file_path {
            files
                .remove_stored(crate::files::Folder::Tiles, path)
                .await?;
        }
        self.store().products().delete_available(row.id).await?;
        if let Some(path) = &row.file_path {
            files.remove_local(crate::files::Folder::Tiles, path).await;
        }
        Ok(())
    }
}

fn to_product(row: AvailableRow, staged: bool) -> AvailableProduct {
    let job_spec_warnings = super::job_specs::ImportedJobSpecs::of_row(&row).warnings;
    let lint_warnings = row
        .lint_warnings
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    AvailableProduct {
        job_spec_warnings,
        lint_warnings,
        name: row.name,
        product_version: row.version,
        label: row.label,
        sha256: row.sha256,
        size: row.size,
        bundled: row.bundled,
        imported_at: row.imported_at,
        staged,
    }
}
