//! Ops Manager's pre-deploy check (`GET /api/v0/staged/director/pre_deploy_check`, `GET
//! /api/v0/staged/products/:guid/pre_deploy_check`): what would stop Apply Changes for the
//! Director or one product, from the same sources Review Pending Changes and Apply Changes
//! use — the completeness checks ([`Products::completeness_of`], the Director's `problems`),
//! the missing stemcells, and the enabled install-time verifiers ([`super::verifiers`]).
//! Typed here; `http/api/pre_deploy_check.rs` writes om's JSON.

use std::collections::BTreeMap;

use super::verifiers::VerifierRun;
use super::{ChangeAction, Products};
use crate::Result;

/// One property's problems (om's `PreDeployProperty`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyProblem {
    pub reference: String,
    /// The blueprint's type (`string`, `collection`…); `None` for the Director's settings.
    pub property_type: Option<String>,
    pub errors: Vec<String>,
}

/// One job's resource problems (om's `PreDeployJob`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobProblem {
    pub name: String,
    pub guid: String,
    pub errors: Vec<String>,
}

/// The pre-deploy check of the Director or one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreDeployCheck {
    pub guid: String,
    /// No property, placement, resource or stemcell problem, and no failing verifier.
    pub complete: bool,
    pub network_assigned: bool,
    pub availability_zone_assigned: bool,
    /// `(os, version)` of each stemcell the library cannot supply.
    pub missing_stemcells: Vec<(String, String)>,
    pub properties: Vec<PropertyProblem>,
    pub jobs: Vec<JobProblem>,
    /// Enabled verifiers that found something.
    pub verifiers: Vec<VerifierRun>,
}

fn blank(problems: &BTreeMap<String, Vec<String>>, key: &str) -> bool {
    problems.contains_key(key)
}

impl Products {
    /// The Director's pre-deploy check: its settings' problems, its placement, and its
    /// verifiers over every staged product that is not being deleted.
    pub async fn director_pre_deploy_check(&self) -> Result<PreDeployCheck> {
        let director = self.director().await?;
        let problems = director.settings.problems();
        let mut products = Vec::new();
        for row in self.store().products().staged().await? {
            let product = self.load_staged(row).await?;
            if self.change_action(&product).await? != ChangeAction::Delete {
                products.push(product);
            }
        }
        let verifiers: Vec<VerifierRun> = self
            .run_director_verifiers(&products)
            .await?
            .into_iter()
            .filter(|r| !r.findings.is_empty())
            .collect();
        let properties: Vec<PropertyProblem> = problems
            .iter()
            .filter(|(k, _)| !k.starts_with("network_and_az."))
            .map(|(k, errors)| PropertyProblem {
                reference: k.clone(),
                property_type: None,
                errors: errors.clone(),
            })
            .collect();
        Ok(PreDeployCheck {
            guid: director.guid,
            complete: problems.is_empty() && verifiers.is_empty(),
            network_assigned: !blank(&problems, "network_and_az.network"),
            availability_zone_assigned: !blank(
                &problems,
                "network_and_az.singleton_availability_zone",
            ),
            missing_stemcells: Vec::new(),
            properties,
            jobs: Vec::new(),
            verifiers,
        })
    }

    /// A staged product's pre-deploy check (`404` for an unknown GUID).
    pub async fn product_pre_deploy_check(&self, guid: &str) -> Result<PreDeployCheck> {
        let product = self.staged_product(guid).await?;
        let completeness = self.completeness_of(&product).await?;
        let verifiers: Vec<VerifierRun> = self
            .run_product_verifiers(&product, &self.staged_all().await?)
            .await?
            .into_iter()
            .filter(|r| !r.findings.is_empty())
            .collect();
        let mut properties = Vec::new();
        let mut jobs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut all: BTreeMap<&String, Vec<String>> = BTreeMap::new();
        for (k, v) in completeness.missing.iter().chain(&completeness.invalid) {
            all.entry(k).or_default().extend(v.iter().cloned());
        }
        for (reference, errors) in all {
            if reference.starts_with("networks_and_azs.") {
                continue;
            }
            if let Some(rest) = reference.strip_prefix("resource-config.") {
                let (job, field) = rest.split_once('.').unwrap_or((rest, ""));
                let entry = jobs.entry(job.to_owned()).or_default();
                entry.extend(errors.iter().map(|e| {
                    if field.is_empty() {
                        e.clone()
                    } else {
                        format!("{field}: {e}")
                    }
                }));
                continue;
            }
            properties.push(PropertyProblem {
                reference: reference.clone(),
                property_type: product
                    .template
                    .property(reference)
                    .map(|p| p.blueprint.property_type.as_str().to_owned()),
                errors,
            });
        }
        let criteria = crate::stemcells::criteria::criteria_of(&product.template);
        let missing_stemcells = completeness
            .stemcells
            .keys()
            .map(|key| {
                let os = key.strip_prefix("stemcell.").unwrap_or(key).to_owned();
                let version = criteria
                    .iter()
                    .find(|c| c.os == os)
                    .map(|c| c.version.clone())
                    .unwrap_or_default();
                (os, version)
            })
            .collect::<Vec<_>>();
        let missing = &completeness.missing;
        Ok(PreDeployCheck {
            complete: missing.is_empty()
                && completeness.invalid.is_empty()
                && missing_stemcells.is_empty()
                && verifiers.is_empty(),
            network_assigned: !blank(missing, "networks_and_azs.network"),
            availability_zone_assigned: !blank(
                missing,
                "networks_and_azs.singleton_availability_zone",
            ) && !blank(
                missing,
                "networks_and_azs.other_availability_zones",
            ),
            missing_stemcells,
            properties,
            jobs: jobs
                .into_iter()
                .map(|(name, errors)| JobProblem {
                    guid: product.job_guid(&name).unwrap_or_default().to_owned(),
                    name,
                    errors,
                })
                .collect(),
            verifiers,
            guid: product.guid,
        })
    }
}
