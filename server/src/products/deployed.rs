//! The deployed layer of each product, and the two operator actions that depend on it and must
//! never be confused (operator-ux-security.md §1.13, pivotal-cf/om#421):
//!
//! - **Revert** (`DELETE /api/v0/staged`, [`Products::revert_staged`]) throws away pending
//!   edits: every staged product goes back to what was last deployed. A product that was never
//!   deployed is taken off the dashboard; a deployed one gets back its deployed version,
//!   settings, credentials and stemcell pins; a staged deletion is cancelled. Nothing is
//!   deleted from any Director.
//! - **Delete** (`DELETE /api/v0/staged/products/:guid`, [`Products::remove_or_stage_deletion`])
//!   of a product that is deployed only *stages* its deletion (pending change action `delete`);
//!   the product, its settings and its snapshot stay stored until Apply Changes deletes the
//!   deployment and calls [`Products::complete_deletion`]. A never-deployed product is simply
//!   unstaged.
//!
//! **The deployed layer.** There is one: the installations' `deployed_products` table, which
//! the Apply Changes pipeline writes only after *that product's* deploy (and errands) succeeded,
//! with the version, the whole settings JSON sealed, and the manifest. A failed deploy records
//! nothing, so the previous snapshot stays the truth (the OM stemcell bug, KB 421190, came from
//! recording early). Right after writing it, the pipeline records the stemcells the deploy used
//! on the same row ([`Products::record_deployed_stemcells`]).
//!
//! Everything else (pending change actions, revert, staged deletion, the stemcell views) reads
//! the deployed layer only through [`Products::deployed_settings`] and
//! [`Products::deployed_version`]; revert re-seals the *opened* deployed settings. Stemcells a
//! deploy did not record are simply not compared. [`Products::record_deployed`] writes the same
//! row without a deploy (no manifest), for tools and tests that need a deployed product.

use serde::{Deserialize, Serialize};

use super::{secrets, ProductSettings, Products, StagedProduct};
use crate::stemcells::OsVersion;
use crate::store::installations::DeployedRow;
use crate::store::products::{StagedRow, Versioned};
use crate::{Error, Result};

/// What the last successful deploy of a product used.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployedSnapshot {
    pub guid: String,
    pub name: String,
    pub version: String,
    /// With credential values (opened from their sealed form).
    pub settings: ProductSettings,
    pub stemcells: Vec<OsVersion>,
    pub deployed_at: String,
}

/// The deployed layer's version and stemcells, without opening credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployedVersion {
    pub version: String,
    /// Empty when the deploy did not record them.
    pub stemcells: Vec<OsVersion>,
}

/// A deletion waiting for Apply Changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StagedDeletion {
    pub guid: String,
    pub name: String,
    pub version: String,
    pub staged_by: String,
    pub staged_at: String,
}

/// What taking a product off the dashboard did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unstaged {
    /// Never deployed: removed with its settings.
    Removed,
    /// Deployed: its deletion is staged for the next Apply Changes.
    DeletionStaged,
}

/// What a revert did, by product GUID.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RevertOutcome {
    /// Deployed products whose staged version/settings/pins went back to the deployed ones.
    pub reverted: Vec<String>,
    /// Products that were never deployed, taken off the dashboard.
    pub unstaged: Vec<String>,
    /// Deployed products whose staged deletion was cancelled.
    pub deletions_cancelled: Vec<String>,
}

/// The pending change of a product against its deployed layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Install,
    Update,
    Delete,
    Unchanged,
}

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Install => "install",
            ChangeAction::Update => "update",
            ChangeAction::Delete => "delete",
            ChangeAction::Unchanged => "unchanged",
        }
    }
}

impl Products {
    /// Settings JSON and sealed credentials back into one [`ProductSettings`].
    fn open_settings(
        &self,
        guid: &str,
        config: &str,
        sealed: Option<&[u8]>,
    ) -> Result<ProductSettings> {
        let mut settings: ProductSettings = serde_json::from_str(config)
            .map_err(|e| Error::Internal(format!("deployed config of {guid}: {e}")))?;
        if let Some(sealed) = sealed {
            let opened = self.sealer().open_json(sealed)?;
            secrets::merge(&mut settings.staged, opened);
        }
        Ok(settings)
    }

    /// The stemcells recorded with a deployed row (empty when none were).
    async fn deployed_stemcells(&self, guid: &str) -> Result<Vec<OsVersion>> {
        Ok(self
            .store()
            .stemcells()
            .deployed_stemcells(guid)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default())
    }

    /// What was last deployed for a product; `None` if it never was. With
    /// [`Products::deployed_version`], the only reads of the deployed layer.
    pub async fn deployed_settings(&self, guid: &str) -> Result<Option<DeployedSnapshot>> {
        let Some(row) = self.store().installations().deployed_one(guid).await? else {
            return Ok(None);
        };
        let opened = self.sealer().open_json(&row.settings)?;
        let settings: ProductSettings = serde_json::from_value(opened)
            .map_err(|e| Error::Internal(format!("deployed settings of {guid}: {e}")))?;
        Ok(Some(DeployedSnapshot {
            stemcells: self.deployed_stemcells(guid).await?,
            guid: row.guid,
            name: row.name,
            version: row.version,
            settings,
            deployed_at: row.deployed_at,
        }))
    }

    /// The deployed version and stemcells of a product (cheap: no credentials opened).
    pub async fn deployed_version(&self, guid: &str) -> Result<Option<DeployedVersion>> {
        let Some(row) = self.store().installations().deployed_one(guid).await? else {
            return Ok(None);
        };
        Ok(Some(DeployedVersion {
            version: row.version,
            stemcells: self.deployed_stemcells(guid).await?,
        }))
    }

    /// The staged row of a product as it is now: what Apply Changes renders from and, once
    /// the deploy succeeded, hands back to [`Products::record_deployed`].
    pub async fn staged_row_for_deploy(&self, guid: &str) -> Result<StagedRow> {
        self.store()
            .products()
            .staged_one(guid)
            .await?
            .ok_or_else(|| Error::NotFound(format!("staged product '{guid}'")))
    }

    /// Records the stemcells a successful deploy of `guid` used, on the deployed row the
    /// pipeline has just written.
    pub async fn record_deployed_stemcells(
        &self,
        guid: &str,
        stemcells: &[OsVersion],
    ) -> Result<()> {
        let json = serde_json::to_string(stemcells)
            .map_err(|e| Error::Internal(format!("encoding stemcells of {guid}: {e}")))?;
        self.store()
            .stemcells()
            .set_deployed_stemcells(guid, &json)
            .await
    }

    /// Records `row` with `stemcells` as the product's deployed layer without a deploy (no
    /// manifest, installation 0): for tools and tests. Apply Changes writes the same row with
    /// the deployed manifest, then calls [`Products::record_deployed_stemcells`].
    pub async fn record_deployed(&self, row: &StagedRow, stemcells: &[OsVersion]) -> Result<()> {
        let settings = self.open_settings(&row.guid, &row.config, row.secrets.as_deref())?;
        let settings = serde_json::to_value(&settings)
            .map_err(|e| Error::Internal(format!("encoding settings of {}: {e}", row.guid)))?;
        self.store()
            .installations()
            .put_deployed(&DeployedRow {
                guid: row.guid.clone(),
                name: row.name.clone(),
                version: row.version.clone(),
                settings: self.sealer().seal_json(&settings)?,
                manifest: "{}".into(),
                installation_id: 0,
                deployed_at: crate::installations::now_rfc3339(),
            })
            .await?;
        self.record_deployed_stemcells(&row.guid, stemcells).await?;
        tracing::info!(guid = %row.guid, version = %row.version, "deployed layer recorded");
        Ok(())
    }

    /// Deletions staged for the next Apply Changes.
    pub async fn staged_deletions(&self) -> Result<Vec<StagedDeletion>> {
        let mut out = Vec::new();
        for d in self.store().stemcells().deletions().await? {
            let Some(row) = self.store().products().staged_one(&d.guid).await? else {
                continue;
            };
            out.push(StagedDeletion {
                guid: d.guid,
                name: row.name,
                version: row.version,
                staged_by: d.staged_by,
                staged_at: d.staged_at,
            });
        }
        Ok(out)
    }

    pub async fn is_staged_for_deletion(&self, guid: &str) -> Result<bool> {
        Ok(self
            .store()
            .stemcells()
            .deletions()
            .await?
            .iter()
            .any(|d| d.guid == guid))
    }

    /// Takes a product off the dashboard: a never-deployed product is removed with its
    /// settings; a deployed one gets its deletion staged (nothing is removed until Apply
    /// Changes deletes the deployment). The Director tile cannot be unstaged.
    pub async fn remove_or_stage_deletion(&self, guid: &str, actor: &str) -> Result<Unstaged> {
        if self.is_director(guid).await? {
            return Err(Error::invalid(
                "guid",
                "the BOSH Director cannot be unstaged",
            ));
        }
        let _write = self.begin_write().await?;
        if self.store().products().staged_one(guid).await?.is_none() {
            return Err(Error::NotFound(format!("staged product '{guid}'")));
        }
        if self.deployed_version(guid).await?.is_some() {
            self.store().stemcells().stage_deletion(guid, actor).await?;
            tracing::info!(guid, actor, "deletion staged");
            return Ok(Unstaged::DeletionStaged);
        }
        if !self.store().stemcells().forget_product(guid).await? {
            return Err(Error::NotFound(format!("staged product '{guid}'")));
        }
        tracing::info!(guid, actor, "unstaged");
        Ok(Unstaged::Removed)
    }

    /// For Apply Changes, once a product's deployment is deleted: forgets the product (staged
    /// row, snapshot, staged deletion, stemcell pins).
    pub async fn complete_deletion(&self, guid: &str, actor: &str) -> Result<()> {
        if !self.store().stemcells().forget_product(guid).await? {
            return Err(Error::NotFound(format!("staged product '{guid}'")));
        }
        tracing::info!(guid, actor, "deleted");
        Ok(())
    }

    /// A staged product's pending change against its deployed layer: the action of
    /// [`Products::pending_detail`], the one computation used by pending changes, Review
    /// Pending Changes and Apply Changes.
    pub async fn change_action(&self, product: &StagedProduct) -> Result<ChangeAction> {
        Ok(self.pending_detail(product).await?.0)
    }

    /// Reverts every staged product to its deployed layer (see the module docs). Refused
    /// before anything changes if a deployed version's tile is no longer imported.
    pub async fn revert_staged(&self, actor: &str) -> Result<RevertOutcome> {
        let _write = self.begin_write().await?;
        let rows = self.store().products().staged().await?;
        for row in &rows {
            if let Some(snap) = self.deployed_version(&row.guid).await? {
                if self
                    .store()
                    .products()
                    .available_one(&row.name, &snap.version)
                    .await?
                    .is_none()
                {
                    return Err(Error::invalid(
                        "base",
                        format!(
                            "{} {} (deployed) is no longer imported; import it again before reverting",
                            row.name, snap.version
                        ),
                    ));
                }
            }
        }
        let mut outcome = RevertOutcome::default();
        for row in rows {
            if self.store().stemcells().cancel_deletion(&row.guid).await? {
                outcome.deletions_cancelled.push(row.guid.clone());
            }
            let Some(deployed) = self.deployed_settings(&row.guid).await? else {
                if self.store().stemcells().forget_product(&row.guid).await? {
                    outcome.unstaged.push(row.guid.clone());
                }
                continue;
            };
            let template = self
                .available_template(&row.name, &deployed.version)
                .await?;
            let staged = self.open_settings(&row.guid, &row.config, row.secrets.as_deref())?;
            let settings_differ = deployed.version != row.version || deployed.settings != staged;
            if settings_differ {
                // Sealed again from the opened deployed settings, so this works whatever form
                // the deployed layer keeps them in.
                let (config, sealed) = self.seal_settings(&template, &deployed.settings)?;
                let done = self
                    .store()
                    .products()
                    .update_staged(
                        &row.guid,
                        row.config_version,
                        &deployed.version,
                        &config,
                        sealed.as_deref(),
                        &[format!(
                            "reverted to the deployed configuration (version {})",
                            deployed.version
                        )],
                        &serde_json::Map::new(),
                        actor,
                    )
                    .await?;
                match done {
                    Versioned::Saved(_) => {}
                    Versioned::Stale { current } => {
                        return Err(Error::Stale {
                            subject: row.name.clone(),
                            expected: row.config_version,
                            current,
                            changed: self
                                .store()
                                .products()
                                .changes_since(&row.guid, row.config_version)
                                .await?,
                        })
                    }
                    Versioned::Missing => continue,
                }
            }
            // The stemcells: pin each requirement whose staged stemcell differs from the
            // deployed one back to the deployed version.
            let mut pins_differ = false;
            for usage in crate::stemcells::assignments::uses_of(self, &row.guid, &template).await? {
                let Some(version) = &usage.deployed_version else {
                    continue;
                };
                if usage.staged_version.as_ref() == Some(version) {
                    continue;
                }
                pins_differ = true;
                self.store()
                    .stemcells()
                    .assign(&row.guid, &usage.required_os, version, actor)
                    .await?;
            }
            if settings_differ || pins_differ {
                outcome.reverted.push(row.guid.clone());
            }
        }
        tracing::info!(
            actor,
            reverted = outcome.reverted.len(),
            unstaged = outcome.unstaged.len(),
            deletions_cancelled = outcome.deletions_cancelled.len(),
            "staged changes reverted"
        );
        Ok(outcome)
    }
}
