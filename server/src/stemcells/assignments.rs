//! Which stemcell each staged product gets: per criteria (main OS, then additional OSes) the
//! versions the library offers, the one pinned by the operator, and the one it will deploy
//! with. The same resolution feeds the completeness check ("Missing stemcell"), the Ops Manager
//! views and Apply Changes ([`StemcellLibrary::stemcells_for`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tiles::metadata::ProductTemplate;

use super::criteria;
use super::{Stemcell, StemcellLibrary};
use crate::products::Products;
use crate::store::Store;
use crate::{Error, Result};

/// One stemcell requirement of a product, resolved against the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StemcellUse {
    /// The required OS and version (from `stemcell_criteria`).
    pub required_os: String,
    pub required_version: String,
    /// Whether later patches of the same major are accepted (`enable_patch_security_updates`).
    pub floating: bool,
    /// Library versions that satisfy the requirement, oldest first.
    pub available_versions: Vec<String>,
    /// The version the operator pinned, if any (and still valid).
    pub pinned_version: Option<String>,
    /// The version the product deploys with; `None`: the stemcell is missing.
    pub staged_version: Option<String>,
    /// The version the last successful deploy used.
    pub deployed_version: Option<String>,
}

/// A staged product's stemcells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductStemcells {
    pub guid: String,
    pub identifier: String,
    pub label: String,
    pub staged_product_version: String,
    pub deployed_product_version: Option<String>,
    pub is_staged_for_deletion: bool,
    /// The main OS first; empty for tiles that need no stemcell.
    pub uses: Vec<StemcellUse>,
}

/// Resolves every stemcell requirement of one product.
pub async fn uses_of(
    products: &Products,
    guid: &str,
    template: &ProductTemplate,
) -> Result<Vec<StemcellUse>> {
    let store = products.store();
    let library = StemcellLibrary::library_versions(store).await?;
    let pins: BTreeMap<String, String> = store
        .stemcells()
        .assignments_of(guid)
        .await?
        .into_iter()
        .map(|a| (a.os, a.version))
        .collect();
    let deployed = products
        .deployed_version(guid)
        .await?
        .map(|d| d.stemcells)
        .unwrap_or_default();
    Ok(criteria::criteria_of(template)
        .into_iter()
        .map(|c| {
            let available_versions = criteria::accepted_versions(c, &library);
            let pin = pins.get(&c.os).map(String::as_str);
            let pinned_version = pin
                .filter(|p| available_versions.iter().any(|v| v == p))
                .map(str::to_owned);
            StemcellUse {
                required_os: c.os.clone(),
                required_version: c.version.clone(),
                floating: c.enable_patch_security_updates != Some(false),
                staged_version: criteria::resolve(c, &library, pin),
                pinned_version,
                available_versions,
                deployed_version: deployed
                    .iter()
                    .find(|d| d.os == c.os)
                    .map(|d| d.version.clone()),
            }
        })
        .collect())
}

/// The "Missing stemcell" reasons of a product (key `stemcell.<os>`), empty when every
/// requirement is met.
pub async fn missing_reasons(
    store: &Store,
    template: &ProductTemplate,
) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    let wanted = criteria::criteria_of(template);
    if wanted.is_empty() {
        return Ok(out);
    }
    let library = StemcellLibrary::library_versions(store).await?;
    for c in wanted {
        if criteria::accepted_versions(c, &library).is_empty() {
            out.insert(
                format!("stemcell.{}", c.os),
                vec![criteria::missing_message(c)],
            );
        }
    }
    Ok(out)
}

impl StemcellLibrary {
    /// Every staged product (not the Director tile) with its stemcells.
    pub async fn product_stemcells(&self) -> Result<Vec<ProductStemcells>> {
        let store = self.store();
        let deletions: Vec<String> = store
            .stemcells()
            .deletions()
            .await?
            .into_iter()
            .map(|d| d.guid)
            .collect();
        let mut out = Vec::new();
        for row in store.products().staged().await? {
            let template = self
                .products()
                .available_template(&row.name, &row.version)
                .await?;
            let uses = uses_of(self.products(), &row.guid, &template).await?;
            let deployed = self.products().deployed_version(&row.guid).await?;
            out.push(ProductStemcells {
                is_staged_for_deletion: deletions.contains(&row.guid),
                label: template.label.clone().unwrap_or_else(|| row.name.clone()),
                guid: row.guid,
                identifier: row.name,
                staged_product_version: row.version,
                deployed_product_version: deployed.map(|d| d.version),
                uses,
            });
        }
        Ok(out)
    }

    /// Pins stemcells to products: `(product guid, OS or None for the main OS, version)`. All
    /// or nothing: every request is checked first (the product is staged, the OS is one its
    /// criteria name, the version is in the library and satisfies them); refusals are 422s
    /// keyed `products[i].<field>`.
    pub async fn assign(
        &self,
        requests: &[(String, Option<String>, String)],
        field: &str,
        actor: &str,
    ) -> Result<()> {
        // A pin changes what a product deploys with: refused while an apply runs.
        let _write = self.products().begin_write().await?;
        let products = self.product_stemcells().await?;
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut checked = Vec::new();
        for (i, (guid, os, version)) in requests.iter().enumerate() {
            let key = format!("products[{i}].{field}");
            let Some(product) = products.iter().find(|p| &p.guid == guid) else {
                errors
                    .entry(format!("products[{i}].guid"))
                    .or_default()
                    .push(format!("no staged product has the guid '{guid}'"));
                continue;
            };
            let usage = match os {
                Some(os) => product.uses.iter().find(|u| &u.required_os == os),
                None => product.uses.first(),
            };
            let Some(usage) = usage else {
                errors.entry(key).or_default().push(match os {
                    Some(os) => format!("{} does not use {os} stemcells", product.identifier),
                    None => format!("{} needs no stemcell", product.identifier),
                });
                continue;
            };
            if !usage.available_versions.iter().any(|v| v == version) {
                let offered = if usage.available_versions.is_empty() {
                    "none is imported".to_owned()
                } else {
                    format!("imported: {}", usage.available_versions.join(", "))
                };
                errors.entry(key).or_default().push(format!(
                    "{} {version} does not satisfy {}'s stemcell criteria ({} {}{}); {offered}",
                    usage.required_os,
                    product.identifier,
                    usage.required_os,
                    usage.required_version,
                    if usage.floating {
                        " or a later patch"
                    } else {
                        " exactly"
                    },
                ));
                continue;
            }
            checked.push((guid.clone(), usage.required_os.clone(), version.clone()));
        }
        if !errors.is_empty() {
            return Err(Error::Rejected(errors));
        }
        for (guid, os, version) in checked {
            self.store()
                .stemcells()
                .assign(&guid, &os, &version, actor)
                .await?;
            tracing::info!(product = %guid, os = %os, version = %version, actor, "stemcell assigned");
        }
        Ok(())
    }

    /// After a floating import: moves existing pins of products this stemcell satisfies to it
    /// when it is newer. Returns the products whose pin moved.
    pub(super) async fn float_pins_to(
        &self,
        stemcell: &Stemcell,
        actor: &str,
    ) -> Result<Vec<String>> {
        let mut moved = Vec::new();
        for product in self.product_stemcells().await? {
            for usage in &product.uses {
                let Some(pin) = &usage.pinned_version else {
                    continue;
                };
                if usage.required_os == stemcell.os
                    && usage.available_versions.contains(&stemcell.version)
                    && crate::products::versions::compare(&stemcell.version, pin)
                        == std::cmp::Ordering::Greater
                {
                    self.store()
                        .stemcells()
                        .assign(&product.guid, &stemcell.os, &stemcell.version, actor)
                        .await?;
                    moved.push(product.guid.clone());
                }
            }
        }
        Ok(moved)
    }

    /// For Apply Changes: the library stemcell each requirement of a staged product resolves
    /// to (a full one preferred over a light one of the same OS and version). Refused with 422
    /// when a stemcell is missing.
    pub async fn stemcells_for(&self, guid: &str) -> Result<Vec<Stemcell>> {
        let row = self
            .store()
            .products()
            .staged_one(guid)
            .await?
            .ok_or_else(|| Error::NotFound(format!("staged product '{guid}'")))?;
        let template = self
            .products()
            .available_template(&row.name, &row.version)
            .await?;
        let library = self.list().await?;
        let mut out = Vec::new();
        for usage in uses_of(self.products(), guid, &template).await? {
            let Some(version) = usage.staged_version else {
                return Err(Error::invalid(
                    format!("stemcell.{}", usage.required_os),
                    format!(
                        "Missing stemcell: {} needs {} {}",
                        row.name, usage.required_os, usage.required_version
                    ),
                ));
            };
            let mut candidates: Vec<&Stemcell> = library
                .iter()
                .filter(|s| s.os == usage.required_os && s.version == version)
                .collect();
            candidates.sort_by_key(|s| s.light);
            if let Some(s) = candidates.first() {
                out.push((*s).clone());
            }
        }
        Ok(out)
    }
}
