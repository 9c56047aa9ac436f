//! Upgrading a staged product to a newer imported version while keeping its configuration:
//! values whose references still exist in the new metadata are kept, resource settings of jobs
//! that still exist are kept (with their GUIDs), errand rules of errands that still exist are
//! kept, placement is kept; new generated credentials are filled. What no longer exists is
//! dropped and reported.

use serde::{Deserialize, Serialize};
use tiles::metadata::ProductTemplate;

use super::guid::new_guid;
use super::stage::StagedSummary;
use super::versions::compare;
use super::{ProductSettings, Products};
use crate::{Error, Result};

/// The result of an upgrade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpgradeOutcome {
    pub product: StagedSummary,
    pub from_version: String,
    /// Settings the new version no longer has (property references, `resource-config.JOB`,
    /// `errands.NAME`).
    pub dropped: Vec<String>,
}

impl Products {
    /// Moves a staged product to `to_version` (or `latest`), which must be imported and newer
    /// than the staged version, and allowed by its `minimum_version_for_upgrade`. Without
    /// `expected`, an upgrade that another write overtook is done again on what is stored now,
    /// as every other configuration write is ([`Products::retry_unversioned`]).
    pub async fn upgrade(
        &self,
        guid: &str,
        to_version: &str,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<UpgradeOutcome> {
        if self.is_director(guid).await? {
            return Err(Error::invalid(
                "to_version",
                "the BOSH Director is upgraded with Tileworks itself",
            ));
        }
        let mut attempt = 0;
        loop {
            let product = self.staged_product(guid).await?;
            self.check_staged_version(&product, expected).await?;
            let to = self.resolve_version(&product.name, to_version).await?;
            let from = product.version.clone();
            if to == from {
                return Ok(UpgradeOutcome {
                    product: self.summary(guid).await?,
                    from_version: from,
                    dropped: vec![],
                });
            }
            let template = self.available_template(&product.name, &to).await?;
            allowed(&from, &to, &template)?;
            let (mut next, dropped) = carried_over(&product.settings, &template);
            self.fill_generated(&template, &mut next.staged).await?;
            let changed = vec![format!("product_version {from} → {to}")];
            let saved = self
                .save_staged(&product, &to, &template, &next, &changed, actor)
                .await;
            if Self::retry_unversioned(&saved, expected, &mut attempt).await {
                continue;
            }
            saved?;
            tracing::info!(guid, from = %from, to = %to, actor, "upgraded");
            return Ok(UpgradeOutcome {
                product: self.summary(guid).await?,
                from_version: from,
                dropped,
            });
        }
    }
}

/// Whether `to` may replace `from`: newer, and allowed by its `minimum_version_for_upgrade`.
fn allowed(from: &str, to: &str, template: &ProductTemplate) -> Result<()> {
    if compare(to, from) != std::cmp::Ordering::Greater {
        return Err(Error::invalid(
            "to_version",
            format!(
                "{to} is not newer than the staged version {from}; downgrades are not supported"
            ),
        ));
    }
    if let Some(min) = template.minimum_version_for_upgrade.as_deref() {
        if compare(from, min) == std::cmp::Ordering::Less {
            return Err(Error::invalid(
                "to_version",
                format!("{to} can only be installed over {min} or newer; {from} is staged"),
            ));
        }
    }
    Ok(())
}

/// The settings `template` keeps of `old` (values, resources and errand rules of what still
/// exists, the placement, job GUIDs), and what it drops.
pub(super) fn carried_over(
    old: &ProductSettings,
    template: &ProductTemplate,
) -> (ProductSettings, Vec<String>) {
    let mut next = ProductSettings {
        networks_and_azs: old.networks_and_azs.clone(),
        ..Default::default()
    };
    let mut dropped = Vec::new();
    for (reference, value) in &old.staged.properties {
        match template.property(reference) {
            Some(p) => next.staged.set(p.reference, value.clone()),
            None => dropped.push(reference.clone()),
        }
    }
    for (job, rc) in &old.staged.resources {
        if template.job_type(job).is_some() {
            next.staged.resources.insert(job.clone(), rc.clone());
        } else {
            dropped.push(format!("resource-config.{job}"));
        }
    }
    for (name, rule) in &old.errands {
        let exists = template
            .post_deploy_errands
            .iter()
            .chain(template.pre_delete_errands.iter())
            .any(|e| &e.name == name);
        if exists {
            next.errands.insert(name.clone(), rule.clone());
        } else {
            dropped.push(format!("errands.{name}"));
        }
    }
    for job in &template.job_types {
        let guid = old
            .job_guids
            .get(&job.name)
            .cloned()
            .unwrap_or_else(|| new_guid(&job.name));
        next.job_guids.insert(job.name.clone(), guid);
    }
    (next, dropped)
}
