//! The tile an author previews (`tileworks tile preview`, `crate::preview`): registered and
//! staged like an imported tile, and replaced in place each time the author saves its
//! metadata, so the settings pages show the edited forms with the values typed so far.
//!
//! Replacing keeps what an upgrade keeps (`upgrade::carried_over`: values whose references
//! still exist, resources of jobs that still exist, errand rules, placement, job GUIDs), but
//! without an upgrade's rules: the version may stay the same or go down while an author edits.

use std::sync::Arc;

use tiles::metadata::ProductTemplate;

use super::upgrade::carried_over;
use crate::store::products::NewAvailable;
use crate::{Error, Result};

use super::Products;

/// What a load of the previewed metadata left staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewLoaded {
    pub guid: String,
    pub label: String,
    /// Settings the new metadata no longer has (as an upgrade reports them).
    pub dropped: Vec<String>,
}

/// How many times a load that an operator's save overtook is read and done again.
const RETRIES: u32 = 5;

impl Products {
    /// Registers `metadata` (already linted without errors, parsed as `template`) as the
    /// available product of its name and version, replacing the metadata a previous load left
    /// there, and stages it, keeping the staged values the new metadata still has a place for.
    /// A bundled tile's name and version are refused: the preview never replaces them.
    pub async fn preview_load(
        &self,
        metadata: &str,
        template: &ProductTemplate,
        actor: &str,
    ) -> Result<PreviewLoaded> {
        let (name, version) = (&template.name, &template.product_version);
        let label = template.label.clone().unwrap_or_else(|| name.clone());
        let sha256 = crate::secrets::sha256_hex(metadata);
        let products = self.store().products();
        match products.available_one(name, version).await? {
            Some(row) if row.bundled => {
                return Err(Error::invalid(
                    "name",
                    format!(
                        "{name} {version} is a tile Tileworks bundles; give the previewed tile \
                         another name or version"
                    ),
                ))
            }
            Some(row) if row.metadata == metadata => {}
            Some(row) => {
                products
                    .replace_metadata(row.id, &label, metadata, &sha256)
                    .await?;
            }
            None => {
                products
                    .add_available(&NewAvailable {
                        name,
                        version,
                        label: &label,
                        metadata,
                        file_path: None,
                        sha256: &sha256,
                        size: metadata.len() as i64,
                        bundled: false,
                        job_specs: None,
                        lint_warnings: None,
                    })
                    .await?;
            }
        }
        let template: Arc<ProductTemplate> = self.template_of(name, version, metadata)?;
        let Some(staged) = products.staged_by_name(name).await? else {
            let summary = self.stage(name, version, actor).await?;
            return Ok(PreviewLoaded {
                guid: summary.guid,
                label,
                dropped: Vec::new(),
            });
        };
        let mut attempt = 0;
        loop {
            let product = self.staged_product(&staged.guid).await?;
            let (mut next, dropped) = carried_over(&product.settings, &template);
            self.fill_generated(&template, &mut next.staged).await?;
            let changed = vec![format!("metadata of {name} {version} (tile preview)")];
            match self
                .save_staged(&product, version, &template, &next, &changed, actor)
                .await
            {
                Err(Error::Stale { .. }) if attempt < RETRIES => attempt += 1,
                Err(e) => return Err(e),
                Ok(_) => {
                    return Ok(PreviewLoaded {
                        guid: product.guid,
                        label,
                        dropped,
                    })
                }
            }
        }
    }
}
