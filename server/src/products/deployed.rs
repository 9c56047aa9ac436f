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
//! **The deployed snapshot.** [`Products::deployed_settings`] is the one lookup of "what was
//! last deployed" for a product: the staged row (version, settings JSON, sealed credentials,
//! `config_version`) as the last successful deploy used it, plus the stemcells it deployed with.
//! It lives in the `deployed_snapshots` table. The installation pipeline fills it: when Apply
//! Changes starts it reads each product's row ([`Products::staged_row_for_deploy`]), renders
//! from it, and only after *that product's* deploy succeeded calls
//! [`Products::record_deployed`] with that same row (not the current one: the operator may have
//! edited meanwhile, and those edits are still pending). A failed deploy records nothing, so the
//! previous snapshot stays the truth (the OM stemcell bug, KB 421190, came from recording early).
//!
//! Everything else (pending change actions, revert, staged deletion, the stemcell views) reads
//! the deployed layer only through [`Products::deployed_settings`] and
//! [`Products::deployed_version`], and revert re-seals the *opened* deployed settings, so the
//! deployed layer can live in another table (e.g. an installations `deployed_products` table
//! holding the sealed settings JSON) by changing those two functions: open the sealed JSON into
//! [`ProductSettings`]; stemcells the deploy did not record are simply not compared.

use serde::{Deserialize, Serialize};

use super::{secrets, ProductSettings, Products, StagedProduct};
use crate::stemcells::OsVersion;
use crate::store::products::{StagedRow, Versioned};
use crate::store::stemcells::SnapshotRow;
use crate::{Error, Result};

/// What the last successful deploy of a product used.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployedSnapshot {
    pub guid: String,
    pub name: String,
    pub version: String,
    /// The staged `config_version` that was deployed.
    pub config_version: i64,
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

    fn snapshot_from_row(&self, row: SnapshotRow) -> Result<DeployedSnapshot> {
        let settings = self.open_settings(&row.guid, &row.config, row.secrets.as_deref())?;
        Ok(DeployedSnapshot {
            stemcells: serde_json::from_str(&row.stemcells).unwrap_or_default(),
            guid: row.guid,
            name: row.name,
            version: row.version,
            config_version: row.config_version,
            settings,
            deployed_at: row.deployed_at,
        })
    }

    /// What was last deployed for a product; `None` if it never was. With
    /// [`Products::deployed_version`], the only reads of the deployed layer: moving it to
    /// another table means changing these two functions.
    pub async fn deployed_settings(&self, guid: &str) -> Result<Option<DeployedSnapshot>> {
        match self.store().stemcells().snapshot(guid).await? {
            Some(row) => Ok(Some(self.snapshot_from_row(row)?)),
            None => Ok(None),
        }
    }

    /// The deployed version and stemcells of a product (cheap: no credentials opened).
    pub async fn deployed_version(&self, guid: &str) -> Result<Option<DeployedVersion>> {
        Ok(self
            .store()
            .stemcells()
            .snapshot(guid)
            .await?
            .map(|row| DeployedVersion {
                version: row.version,
                stemcells: serde_json::from_str(&row.stemcells).unwrap_or_default(),
            }))
    }

    /// Every deployed product's snapshot.
    pub async fn deployed_snapshots(&self) -> Result<Vec<DeployedSnapshot>> {
        self.store()
            .stemcells()
            .snapshots()
            .await?
            .into_iter()
            .map(|r| self.snapshot_from_row(r))
            .collect()
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

    /// Records a successful deploy of `row` with `stemcells` as the product's deployed layer.
    pub async fn record_deployed(&self, row: &StagedRow, stemcells: &[OsVersion]) -> Result<()> {
        self.store()
            .stemcells()
            .put_snapshot(&SnapshotRow {
                guid: row.guid.clone(),
                name: row.name.clone(),
                version: row.version.clone(),
                config: row.config.clone(),
                secrets: row.secrets.clone(),
                config_version: row.config_version,
                stemcells: serde_json::to_string(stemcells).unwrap_or_else(|_| "[]".into()),
                deployed_at: String::new(),
            })
            .await?;
        tracing::info!(guid = %row.guid, version = %row.version, config_version = row.config_version, "deployed snapshot recorded");
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

    /// A staged product's pending change against its deployed layer.
    pub async fn change_action(&self, product: &StagedProduct) -> Result<ChangeAction> {
        if self.is_staged_for_deletion(&product.guid).await? {
            return Ok(ChangeAction::Delete);
        }
        let Some(deployed) = self.deployed_settings(&product.guid).await? else {
            return Ok(ChangeAction::Install);
        };
        if deployed.version != product.version || deployed.settings != product.settings {
            return Ok(ChangeAction::Update);
        }
        let uses =
            crate::stemcells::assignments::uses_of(self, &product.guid, &product.template).await?;
        // A deploy that recorded no stemcell for an OS says nothing about it.
        if uses
            .iter()
            .any(|u| u.deployed_version.is_some() && u.staged_version != u.deployed_version)
        {
            return Ok(ChangeAction::Update);
        }
        Ok(ChangeAction::Unchanged)
    }

    /// Reverts every staged product to its deployed layer (see the module docs). Refused
    /// before anything changes if a deployed version's tile is no longer imported.
    pub async fn revert_staged(&self, actor: &str) -> Result<RevertOutcome> {
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
