//! Whether a staged product can be deployed, and the pending changes om checks after
//! `configure-product`.
//!
//! A product is *incomplete* while a required value is blank (a required property, the network
//! and AZ placement) and *invalid* while a value breaks a rule; otherwise it is *deployable*.
//! The reasons come from `tiles::validate` (the same validation the forms use) and from the
//! placement checks here. A product whose `stemcell_criteria` no imported stemcell satisfies is
//! not deployable either ("Missing stemcell", see `crate::stemcells`); that is reported apart
//! from the configuration (om's `stemcell_present`), so om's `configure-product` still sees a
//! complete configuration.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tiles::validate::{validate_product, ValidationContext, BLANK};

use super::changes::{
    comparison_items, dependencies_of, on_hand_of, ChangeItem, Dependency, OnHand,
};
use super::director::DirectorView;
use super::{Products, StagedProduct};
use crate::Result;

/// The state a tile shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TileState {
    Deployable,
    /// Required values are missing: reference → messages.
    Incomplete {
        reasons: BTreeMap<String, Vec<String>>,
    },
    /// Values break rules (and perhaps some are missing too).
    Invalid {
        reasons: BTreeMap<String, Vec<String>>,
    },
}

impl TileState {
    /// Classifies problems: only "can't be blank" → incomplete; anything else → invalid.
    pub fn from_problems(problems: BTreeMap<String, Vec<String>>) -> TileState {
        if problems.is_empty() {
            TileState::Deployable
        } else if problems.values().flatten().all(|m| m == BLANK) {
            TileState::Incomplete { reasons: problems }
        } else {
            TileState::Invalid { reasons: problems }
        }
    }

    pub fn is_deployable(&self) -> bool {
        matches!(self, TileState::Deployable)
    }
}

/// The checks behind a product's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completeness {
    /// Blank required values (reference → messages).
    pub missing: BTreeMap<String, Vec<String>>,
    /// Values that break rules (reference → messages).
    pub invalid: BTreeMap<String, Vec<String>>,
    /// Missing stemcells (`stemcell.<os>` → messages).
    #[serde(default)]
    pub stemcells: BTreeMap<String, Vec<String>>,
}

impl Completeness {
    /// Invalid values make the tile invalid; otherwise blank values or a missing stemcell make
    /// it incomplete (something must still be supplied).
    pub fn state(&self) -> TileState {
        let mut all = self.missing.clone();
        for (k, v) in self.invalid.iter().chain(self.stemcells.iter()) {
            all.entry(k.clone()).or_default().extend(v.iter().cloned());
        }
        if all.is_empty() {
            TileState::Deployable
        } else if self.invalid.is_empty() {
            TileState::Incomplete { reasons: all }
        } else {
            TileState::Invalid { reasons: all }
        }
    }

    /// om's `completeness_checks`.
    pub fn checks(&self) -> Value {
        json!({
            "configuration_complete": self.missing.is_empty() && self.invalid.is_empty(),
            "stemcell_present": self.stemcells.is_empty(),
            "configurable_properties_valid": self.invalid.is_empty(),
        })
    }
}

/// One entry of `GET /api/v0/staged/pending_changes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingChange {
    pub guid: String,
    pub name: String,
    pub version: String,
    /// `install`, `update`, `delete` or `unchanged` ([`Products::change_action`]).
    pub action: String,
    /// The product version last deployed, if any.
    #[serde(default)]
    pub deployed_version: Option<String>,
    pub errands: Vec<Value>,
    pub completeness: Completeness,
    /// The high-level items behind the action ([`Products::pending_detail`]).
    #[serde(default)]
    pub changes: Vec<ChangeItem>,
    /// `requires_product_versions`, resolved against the products on hand.
    #[serde(default)]
    pub depends_on: Vec<Dependency>,
    /// Enabled install-time verifiers that found something ([`super::verifiers`]): what
    /// Apply Changes would refuse (or warn about, when ignorable).
    #[serde(default)]
    pub verifiers: Vec<super::verifiers::VerifierRun>,
}

impl Products {
    /// The completeness checks of a staged product.
    pub async fn completeness_of(&self, product: &StagedProduct) -> Result<Completeness> {
        let director = self.director().await?;
        self.completeness_with(product, &director).await
    }

    /// [`Products::completeness_of`] with the Director tile already read.
    pub async fn completeness_with(
        &self,
        product: &StagedProduct,
        director: &DirectorView,
    ) -> Result<Completeness> {
        let present = self.present_products().await?;
        let vm_types: Vec<tiles::validate::VmType> = director
            .settings
            .director_config()
            .effective_vm_types()
            .into_iter()
            .map(|v| tiles::validate::VmType {
                name: v.name,
                ram: i64::from(v.ram),
                cpu: i64::from(v.cpu),
                ephemeral_disk: i64::from(v.ephemeral_disk),
            })
            .collect();
        let ctx = ValidationContext {
            deployed: None,
            present_products: &present,
            vm_types: &vm_types,
        };
        let report = validate_product(&product.template, &product.settings.staged, &ctx);
        let mut missing = BTreeMap::new();
        let mut invalid = BTreeMap::new();
        for (reference, messages) in report.errors {
            let (blank, other): (Vec<String>, Vec<String>) =
                messages.into_iter().partition(|m| m == BLANK);
            if !blank.is_empty() {
                missing.insert(reference.clone(), blank);
            }
            if !other.is_empty() {
                invalid.insert(reference, other);
            }
        }
        let nets = product.settings.networks_and_azs.as_ref();
        let name_at = |key: &str| {
            nets.and_then(|n| n.get(key))
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if name_at("network").is_none() {
            missing.insert("networks_and_azs.network".into(), vec![BLANK.into()]);
        }
        if name_at("singleton_availability_zone").is_none() {
            missing.insert(
                "networks_and_azs.singleton_availability_zone".into(),
                vec![BLANK.into()],
            );
        }
        let others = nets
            .and_then(|n| n.get("other_availability_zones"))
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if !others {
            missing.insert(
                "networks_and_azs.other_availability_zones".into(),
                vec![BLANK.into()],
            );
        }
        if product.template.service_broker && name_at("service_network").is_none() {
            missing.insert(
                "networks_and_azs.service_network".into(),
                vec![BLANK.into()],
            );
        }
        let stemcells =
            crate::stemcells::assignments::missing_reasons(self.store(), &product.template).await?;
        Ok(Completeness {
            missing,
            invalid,
            stemcells,
        })
    }

    /// `GET /api/v0/staged/pending_changes`: every staged product (the Director first) with its
    /// action, the items behind it, what it depends on, its errands and completeness checks.
    pub async fn pending_changes(&self) -> Result<Vec<PendingChange>> {
        let director = self.director().await?;
        let problems = director.settings.problems();
        let (missing, invalid): (BTreeMap<_, _>, BTreeMap<_, _>) = problems
            .into_iter()
            .partition(|(_, m)| m.iter().all(|x| x == BLANK));
        let version = crate::info_version();
        let comparison = self
            .deployed_comparison(&director.guid, &director.settings)
            .await?;
        let (director_action, director_changes) = match &comparison {
            None => (
                super::ChangeAction::Install,
                vec![ChangeItem {
                    kind: "install".into(),
                    description: "First deploy: the cloud config".into(),
                }],
            ),
            Some(c) => {
                let items = comparison_items(c, &version);
                let action = if items.is_empty() {
                    super::ChangeAction::Unchanged
                } else {
                    super::ChangeAction::Update
                };
                (action, items)
            }
        };
        let mut out = vec![PendingChange {
            guid: director.guid,
            name: super::DIRECTOR_PRODUCT_NAME.into(),
            version: version.clone(),
            action: director_action.as_str().into(),
            deployed_version: comparison.map(|c| c.deployed_version),
            errands: vec![],
            completeness: Completeness {
                missing,
                invalid,
                stemcells: BTreeMap::new(),
            },
            changes: director_changes,
            depends_on: vec![],
            verifiers: vec![],
        }];
        let mut loaded = Vec::new();
        let mut on_hand = vec![OnHand {
            guid: String::new(),
            name: super::DIRECTOR_PRODUCT_NAME.into(),
            version,
            action: super::ChangeAction::Unchanged,
            provides: Vec::new(),
        }];
        for row in self.store().products().staged().await? {
            let product = self.load_staged(row).await?;
            let (action, items) = self.pending_detail(&product).await?;
            on_hand.push(on_hand_of(&product, action));
            loaded.push((product, action, items));
        }
        let deploying: Vec<StagedProduct> = loaded
            .iter()
            .filter(|(_, action, _)| *action != super::ChangeAction::Delete)
            .map(|(p, _, _)| p.clone())
            .collect();
        // Verifiers may reach out (up to `crate::reach`'s 6 s each): the Director's and every
        // product's run at once, so the page waits for the slowest, not for their sum.
        let deploying_ref = &deploying;
        let product_runs = join_all(loaded.iter().map(|(product, action, _)| async move {
            if *action == super::ChangeAction::Delete {
                Ok(Vec::new())
            } else {
                self.run_product_verifiers(product, deploying_ref)
                    .await
                    .map(failing)
            }
        }));
        let (director_runs, product_runs) =
            tokio::join!(self.run_director_verifiers(&deploying), product_runs);
        out[0].verifiers = failing(director_runs?);
        for ((product, action, changes), verifiers) in loaded.into_iter().zip(product_runs) {
            let verifiers = verifiers?;
            let completeness = self.completeness_of(&product).await?;
            let deployed_version = self
                .deployed_version(&product.guid)
                .await?
                .map(|d| d.version);
            let errands = self
                .errands_of(&product)
                .into_iter()
                .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
                .collect();
            let depends_on = dependencies_of(&product.template, &product.guid, &on_hand);
            out.push(PendingChange {
                guid: product.guid,
                name: product.name,
                version: product.version,
                action: action.as_str().into(),
                deployed_version,
                errands,
                completeness,
                changes,
                depends_on,
                verifiers,
            });
        }
        Ok(out)
    }
}

/// The runs that found something.
fn failing(runs: Vec<super::verifiers::VerifierRun>) -> Vec<super::verifiers::VerifierRun> {
    runs.into_iter()
        .filter(|r| !r.findings.is_empty())
        .collect()
}
