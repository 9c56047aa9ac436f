//! What a product's pending change consists of, and what it depends on — the *Changes* and
//! *Depends on* lists of Review Pending Changes (operator-ux-security.md §1.10), which Apply
//! Changes checks too.
//!
//! **Changes.** [`Products::pending_detail`] is the one pending-change computation: it yields
//! the action (`install`, `update`, `delete`, `unchanged`; [`Products::change_action`] is its
//! first half) together with the high-level items behind it — deletion staged, new install,
//! version updated from X to Y, stemcell added or updated, and which parts of the
//! configuration changed (property references, jobs, errands: names only, never values). The
//! settings comparison is [`Products::deployed_comparison`], which the Director's action uses
//! as well.
//!
//! **Depends on.** A tile's `requires_product_versions` resolved against the products on hand
//! ([`OnHand`]: every staged product not staged for deletion, by its staged version — the one
//! the next Apply Changes deploys — and its `provides_product_versions`; plus the Director).
//! The version logic is `tiles::product_versions`, which the browser shares.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tiles::metadata::ProductTemplate;
use tiles::product_versions::{resolve, DependencyState, Offer, VersionRequirement};

use super::{ChangeAction, Products, StagedProduct};
use crate::{Error, Result};

/// One high-level item of a pending change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeItem {
    /// `deletion`, `install`, `version`, `stemcell` or `configuration`.
    pub kind: String,
    pub description: String,
}

impl ChangeItem {
    fn new(kind: &str, description: impl Into<String>) -> ChangeItem {
        ChangeItem {
            kind: kind.to_owned(),
            description: description.into(),
        }
    }
}

/// A part of a product's settings that differs from the deployed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsChange {
    /// `properties`, `resources`, `networks_and_azs`, `errands`, or another settings key
    /// (the Director's sections).
    pub section: String,
    /// Property references, job or errand names that differ (empty where the section has none).
    pub names: Vec<String>,
}

/// The staged settings against the deployed snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedComparison {
    pub deployed_version: String,
    /// Empty when the settings are the same.
    pub changed: Vec<SettingsChange>,
}

/// Keys whose values differ between two JSON objects, in order (deployed keys first).
fn differing_keys(deployed: &Value, staged: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let d = deployed.as_object().unwrap_or(&empty);
    let s = staged.as_object().unwrap_or(&empty);
    let mut out: Vec<String> = Vec::new();
    for key in d.keys().chain(s.keys()) {
        if d.get(key) != s.get(key) && !out.contains(key) {
            out.push(key.clone());
        }
    }
    out
}

/// The sections in which `staged` differs from `deployed` (empty if and only if they are
/// equal). Product settings are compared one level deeper: property references, jobs, errands.
pub fn changed_sections(deployed: &Value, staged: &Value) -> Vec<SettingsChange> {
    if deployed == staged {
        return Vec::new();
    }
    if !deployed.is_object() || !staged.is_object() {
        return vec![SettingsChange {
            section: "settings".into(),
            names: Vec::new(),
        }];
    }
    let mut out = Vec::new();
    for key in differing_keys(deployed, staged) {
        let (d, s) = (&deployed[&key], &staged[&key]);
        match key.as_str() {
            "staged" => {
                for inner in differing_keys(d, s) {
                    let names = differing_keys(&d[&inner], &s[&inner]);
                    out.push(SettingsChange {
                        section: inner,
                        names,
                    });
                }
            }
            "errands" => out.push(SettingsChange {
                names: differing_keys(d, s),
                section: key,
            }),
            _ => out.push(SettingsChange {
                section: key,
                names: Vec::new(),
            }),
        }
    }
    if out.is_empty() {
        out.push(SettingsChange {
            section: "settings".into(),
            names: Vec::new(),
        });
    }
    out
}

/// `a, b, c` — at most five names, then how many more.
fn listed(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

fn section_item(change: &SettingsChange) -> ChangeItem {
    let with_names = |what: &str| {
        if change.names.is_empty() {
            what.to_owned()
        } else {
            format!("{what}: {}", listed(&change.names))
        }
    };
    let description = match change.section.as_str() {
        "properties" => with_names("Properties changed"),
        "resources" => with_names("Resource config changed"),
        "networks_and_azs" => "Networks and AZs changed".to_owned(),
        "errands" => with_names("Errand rules changed"),
        "settings" | "job_guids" => "Configuration changed".to_owned(),
        other => format!("Configuration changed: {other}"),
    };
    ChangeItem::new("configuration", description)
}

/// The items of a settings/version comparison (the Director's, and part of every product's).
pub fn comparison_items(c: &DeployedComparison, staged_version: &str) -> Vec<ChangeItem> {
    let mut items = Vec::new();
    if c.deployed_version != staged_version {
        items.push(ChangeItem::new(
            "version",
            format!(
                "Version updated from {} to {staged_version}",
                c.deployed_version
            ),
        ));
    }
    items.extend(c.changed.iter().map(section_item));
    items
}

/// A dependency of a staged product, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    /// The requirement as the tile wrote it (`~> 2.4`).
    pub requirement: String,
    pub optional: bool,
    pub state: DependencyState,
    /// `green`, `red` or `gray` (see `tiles::product_versions::Resolution::colour`).
    pub colour: String,
    /// The version on hand: the one that satisfies, or the incompatible one.
    pub found_version: Option<String>,
    /// The staged product that provides it (none for the Director or when missing).
    pub guid: Option<String>,
    /// It is satisfied by a product with pending changes (install or update), which must
    /// therefore deploy in the same Apply Changes as the product that depends on it.
    pub pending: bool,
    /// Why it is red or gray, in words.
    pub note: Option<String>,
}

impl Dependency {
    /// Whether it stops a deploy of the product that requires it.
    pub fn blocks(&self) -> bool {
        !self.optional && self.state != DependencyState::Satisfied
    }
}

/// A product that may meet requirements.
#[derive(Debug, Clone, PartialEq)]
pub struct OnHand {
    /// Empty for the Director.
    pub guid: String,
    pub name: String,
    pub version: String,
    pub action: ChangeAction,
    /// `provides_product_versions`: (name, version).
    pub provides: Vec<(String, String)>,
}

/// Resolves `template.requires_product_versions` for the product `guid` against `on_hand`.
/// Products staged for deletion meet nothing (the deletion is what is pending for them).
pub fn dependencies_of(
    template: &ProductTemplate,
    guid: &str,
    on_hand: &[OnHand],
) -> Vec<Dependency> {
    let mut offers: Vec<Offer<'_>> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    for (i, p) in on_hand.iter().enumerate() {
        if p.action == ChangeAction::Delete || (!guid.is_empty() && p.guid == guid) {
            continue;
        }
        offers.push(Offer {
            name: &p.name,
            version: &p.version,
        });
        owner.push(i);
        for (name, version) in &p.provides {
            if *name != p.name {
                offers.push(Offer { name, version });
                owner.push(i);
            }
        }
    }
    template
        .requires_product_versions
        .iter()
        .map(|r| {
            let resolution = resolve(r, &offers);
            let provider = resolution
                .offer
                .and_then(|o| owner.get(o))
                .and_then(|&i| on_hand.get(i));
            let found_version = resolution
                .offer
                .and_then(|o| offers.get(o))
                .map(|o| o.version.to_owned());
            let unreadable = VersionRequirement::parse(&r.version).err();
            let deleting = on_hand
                .iter()
                .any(|p| p.action == ChangeAction::Delete && p.name == r.name);
            let note = match resolution.state {
                DependencyState::Satisfied => None,
                _ if unreadable.is_some() => {
                    Some(format!("the requirement '{}' cannot be read", r.version))
                }
                DependencyState::Incompatible => Some(format!(
                    "v{} does not satisfy {}",
                    found_version.as_deref().unwrap_or("?"),
                    r.version
                )),
                DependencyState::Missing if deleting => Some("its deletion is staged".to_owned()),
                DependencyState::Missing => Some("neither staged nor deployed".to_owned()),
            };
            Dependency {
                name: r.name.clone(),
                requirement: r.version.clone(),
                optional: r.optional,
                state: resolution.state,
                colour: resolution.colour(r.optional).to_owned(),
                found_version,
                guid: provider
                    .filter(|p| !p.guid.is_empty())
                    .map(|p| p.guid.clone()),
                pending: resolution.state == DependencyState::Satisfied
                    && provider.is_some_and(|p| {
                        !p.guid.is_empty()
                            && matches!(p.action, ChangeAction::Install | ChangeAction::Update)
                    }),
                note,
            }
        })
        .collect()
}

impl Products {
    /// The staged settings of `guid` against its deployed snapshot; `None` if it was never
    /// deployed. Credentials are compared, never named.
    pub async fn deployed_comparison<S: Serialize>(
        &self,
        guid: &str,
        settings: &S,
    ) -> Result<Option<DeployedComparison>> {
        let Some(row) = self.store().installations().deployed_one(guid).await? else {
            return Ok(None);
        };
        let deployed = self.sealer().open_json(&row.settings)?;
        let staged = serde_json::to_value(settings)
            .map_err(|e| Error::Internal(format!("encoding settings of {guid}: {e}")))?;
        Ok(Some(DeployedComparison {
            deployed_version: row.version,
            changed: changed_sections(&deployed, &staged),
        }))
    }

    /// A staged product's pending change against its deployed layer, with its items (see the
    /// module docs): `delete` when its deletion is staged; `install` when it was never
    /// deployed; `update` when the version or settings differ, or a stemcell the deploy
    /// recorded differs from the staged one (a deploy that recorded no stemcell for an OS says
    /// nothing about it); otherwise `unchanged` with no items.
    pub async fn pending_detail(
        &self,
        product: &StagedProduct,
    ) -> Result<(ChangeAction, Vec<ChangeItem>)> {
        if self.is_staged_for_deletion(&product.guid).await? {
            return Ok((
                ChangeAction::Delete,
                vec![ChangeItem::new(
                    "deletion",
                    "Deletion staged: Apply Changes deletes the deployment",
                )],
            ));
        }
        let uses =
            crate::stemcells::assignments::uses_of(self, &product.guid, &product.template).await?;
        let Some(comparison) = self
            .deployed_comparison(&product.guid, &product.settings)
            .await?
        else {
            let mut items = vec![ChangeItem::new(
                "install",
                format!("New install of v{}", product.version),
            )];
            for u in &uses {
                if let Some(v) = &u.staged_version {
                    items.push(ChangeItem::new(
                        "stemcell",
                        format!("Stemcell added: {} {v}", u.required_os),
                    ));
                }
            }
            return Ok((ChangeAction::Install, items));
        };
        let mut items = comparison_items(&comparison, &product.version);
        let recorded = uses.iter().any(|u| u.deployed_version.is_some());
        let mut stemcell_changed = false;
        let mut stemcell_items = Vec::new();
        for u in &uses {
            match (&u.deployed_version, &u.staged_version) {
                (Some(d), Some(s)) if d != s => {
                    stemcell_changed = true;
                    stemcell_items.push(format!(
                        "Stemcell updated: {} from {d} to {s}",
                        u.required_os
                    ));
                }
                (Some(d), None) => {
                    stemcell_changed = true;
                    stemcell_items.push(format!(
                        "Stemcell {} {d} (deployed) is no longer in the library",
                        u.required_os
                    ));
                }
                (None, Some(s)) if recorded => {
                    stemcell_items.push(format!("Stemcell added: {} {s}", u.required_os));
                }
                _ => {}
            }
        }
        let action = if !items.is_empty() || stemcell_changed {
            ChangeAction::Update
        } else {
            ChangeAction::Unchanged
        };
        if action == ChangeAction::Update {
            items.extend(
                stemcell_items
                    .into_iter()
                    .map(|d| ChangeItem::new("stemcell", d)),
            );
        }
        Ok((action, items))
    }

    /// Every product that may meet requirements: the Director (`p-bosh`) and each staged
    /// product with its pending action and `provides_product_versions`.
    pub async fn products_on_hand(&self) -> Result<Vec<OnHand>> {
        let mut out = vec![OnHand {
            guid: String::new(),
            name: super::DIRECTOR_PRODUCT_NAME.into(),
            version: crate::info_version(),
            action: ChangeAction::Unchanged,
            provides: Vec::new(),
        }];
        for row in self.store().products().staged().await? {
            let product = self.load_staged(row).await?;
            let action = self.change_action(&product).await?;
            out.push(on_hand_of(&product, action));
        }
        Ok(out)
    }
}

/// A staged product as a possible provider.
pub fn on_hand_of(product: &StagedProduct, action: ChangeAction) -> OnHand {
    OnHand {
        guid: product.guid.clone(),
        name: product.name.clone(),
        version: product.version.clone(),
        action,
        provides: product
            .template
            .provides_product_versions
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sections_name_what_differs() {
        let deployed = json!({
            "staged": {"properties": {".properties.a": 1, ".properties.b": "x"},
                       "resources": {"web": {"instances": 1}}},
            "networks_and_azs": {"network": {"name": "n1"}},
            "errands": {"smoke": {"post_deploy": true}},
            "job_guids": {"web": "web-1"},
        });
        assert!(changed_sections(&deployed, &deployed).is_empty());
        let mut staged = deployed.clone();
        staged["staged"]["properties"][".properties.b"] = json!("y");
        staged["staged"]["properties"][".properties.c"] = json!(true);
        staged["networks_and_azs"]["network"]["name"] = json!("n2");
        staged["errands"]["smoke"]["post_deploy"] = json!(false);
        let changed = changed_sections(&deployed, &staged);
        let items: Vec<String> = changed
            .iter()
            .map(|c| section_item(c).description)
            .collect();
        assert_eq!(
            items,
            vec![
                "Properties changed: .properties.b, .properties.c",
                "Networks and AZs changed",
                "Errand rules changed: smoke",
            ]
        );
        // The Director's settings: top-level sections.
        let d = json!({"iaas_configuration": {"host": "a"}, "director_configuration": {}});
        let s = json!({"iaas_configuration": {"host": "b"}, "director_configuration": {}});
        let c = DeployedComparison {
            deployed_version: "1.0".into(),
            changed: changed_sections(&d, &s),
        };
        let items: Vec<String> = comparison_items(&c, "1.1")
            .into_iter()
            .map(|i| i.description)
            .collect();
        assert_eq!(
            items,
            vec![
                "Version updated from 1.0 to 1.1",
                "Configuration changed: iaas_configuration"
            ]
        );
        assert_eq!(changed_sections(&json!(1), &json!(2)).len(), 1);
    }

    #[test]
    fn long_name_lists_are_shortened() {
        let names: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
        assert_eq!(listed(&names), "p0, p1, p2, p3, p4 and 3 more");
    }

    fn template(requires: &str) -> ProductTemplate {
        let text = format!(
            "name: app\nproduct_version: 1.0.0\nmetadata_version: '2.1'\n\
             requires_product_versions:\n{requires}"
        );
        ProductTemplate::from_yaml(&text).unwrap()
    }

    fn hand(guid: &str, name: &str, version: &str, action: ChangeAction) -> OnHand {
        OnHand {
            guid: guid.into(),
            name: name.into(),
            version: version.into(),
            action,
            provides: Vec::new(),
        }
    }

    #[test]
    fn dependencies_resolve_against_staged_versions() {
        let t = template(
            "- {name: db, version: '~> 2.0'}\n- {name: cache, version: '>= 3', optional: true}\n\
             - {name: queue, version: '1.0', optional: true}\n- {name: old, version: '1.0'}\n\
             - {name: cf, version: '>= 2'}\n",
        );
        let mut cf_provider = hand("paas-1", "paas", "5.0", ChangeAction::Unchanged);
        cf_provider.provides = vec![("cf".into(), "2.5".into())];
        let on_hand = vec![
            hand("", "p-bosh", "3.0.0", ChangeAction::Unchanged),
            hand("db-1", "db", "2.3.0", ChangeAction::Update),
            hand("cache-1", "cache", "2.9", ChangeAction::Unchanged),
            hand("old-1", "old", "1.0", ChangeAction::Delete),
            cf_provider,
            hand("app-1", "app", "1.0.0", ChangeAction::Install),
        ];
        let deps = dependencies_of(&t, "app-1", &on_hand);
        let by = |n: &str| deps.iter().find(|d| d.name == n).unwrap();
        let db = by("db");
        assert_eq!(
            (db.state, db.colour.as_str(), db.guid.as_deref(), db.pending),
            (DependencyState::Satisfied, "green", Some("db-1"), true)
        );
        assert!(!db.blocks());
        let cache = by("cache");
        assert_eq!(cache.state, DependencyState::Incompatible);
        assert_eq!(cache.colour, "red");
        assert_eq!(cache.found_version.as_deref(), Some("2.9"));
        assert!(!cache.blocks(), "optional");
        assert!(!cache.pending);
        let queue = by("queue");
        assert_eq!(
            (queue.state, queue.colour.as_str()),
            (DependencyState::Missing, "gray")
        );
        let old = by("old");
        assert_eq!(old.state, DependencyState::Missing);
        assert_eq!(old.note.as_deref(), Some("its deletion is staged"));
        assert!(old.blocks());
        let cf = by("cf");
        assert_eq!(
            cf.state,
            DependencyState::Satisfied,
            "via provides_product_versions"
        );
        assert_eq!(cf.guid.as_deref(), Some("paas-1"));
        assert_eq!(cf.found_version.as_deref(), Some("2.5"));
    }
}
