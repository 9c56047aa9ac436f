//! What Apply Changes checks before it starts, split as Ops Manager splits it: **errors**
//! always refuse the request; **warnings** refuse it unless it says `ignore_warnings` (Ops
//! Manager's "ignorable verifiers").
//!
//! Errors: an unknown product GUID; Director settings or cloud config that cannot be used; a
//! selected product whose configuration is incomplete or invalid or whose stemcell is missing;
//! a required dependency (`requires_product_versions`) that no staged product meets at a
//! satisfying version (absent, incompatible, or its deletion staged); a dependency with
//! pending changes that the request does not deploy in the same run; the deletion of a product
//! another staged product still requires; an errand override naming an errand the product
//! does not have (in that phase), or a product that is not staged; an enabled install-time
//! verifier's finding (`crate::products::verifiers`; ignorable ones are warnings).
//!
//! Warnings: an optional dependency present at an incompatible version (Ops Manager still
//! deploys it); errand overrides for a staged product this apply does not deploy (they are
//! ignored). A selected product without pending changes is no warning: redeploying one as it
//! is (to run its errands, or after a failed deploy) is routine, and `om apply-changes
//! --product-name` must keep working for it.
//!
//! A refusal answers 422 with `errors` (by product GUID or request field, as every Tileworks
//! 422), `warnings` (text, naming the product) and Ops Manager's
//! `deployment_errors.products[]`: per product `identifier`, `complete`,
//! `network.assigned`, `availability_zones.assigned`, `stemcells[]`, `properties[]`, and
//! `verifiers[]` (`type`, `ignorable`, `errors`) — warnings are the ignorable verifiers —
//! plus `dependencies[]`, the unmet `requires_product_versions`.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Value};

use crate::products::changes::Dependency;
use crate::products::Completeness;

/// Verifier types of `deployment_errors.products[].verifiers[]`.
pub const DEPENDENCIES: &str = "ProductDependenciesVerifier";
pub const ERRAND_OVERRIDES: &str = "ErrandOverridesVerifier";
pub const OPTIONAL_DEPENDENCIES: &str = "OptionalDependenciesVerifier";

/// One product's findings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductCheck {
    pub identifier: String,
    /// Computed for products that deploy (not for deletions or the Director).
    pub completeness: Option<Completeness>,
    /// `(os, version)` of each stemcell criterion, to name a missing stemcell's version.
    pub stemcell_criteria: Vec<(String, String)>,
    /// Unmet dependencies (required ones that block, optional incompatible ones).
    pub dependencies: Vec<Dependency>,
    /// `(type, ignorable, messages)`.
    pub verifiers: Vec<(String, bool, Vec<String>)>,
}

/// Everything the checks found, and the refusal they make.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Refusal {
    /// By product GUID (or `deploy_products`, `errands`): what refuses the apply.
    pub errors: BTreeMap<String, Vec<String>>,
    /// What refuses it unless `ignore_warnings`.
    pub warnings: Vec<String>,
    /// By product GUID.
    pub products: BTreeMap<String, ProductCheck>,
}

impl From<Refusal> for crate::Error {
    /// Refused Apply Changes, as the error type's plain data.
    fn from(refusal: Refusal) -> Self {
        let body = refusal.to_json();
        crate::Error::ApplyRefused(Box::new(crate::error::ApplyRefusal {
            errors: refusal.errors,
            warnings: refusal.warnings,
            body,
        }))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self
            .errors
            .iter()
            .flat_map(|(k, ms)| ms.iter().map(move |m| format!("{k}: {m}")))
            .collect();
        parts.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        f.write_str(&parts.join("; "))
    }
}

impl Refusal {
    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors
            .entry(key.to_owned())
            .or_default()
            .push(message.into());
    }

    /// The product's entry, created with its identifier.
    pub fn product(&mut self, guid: &str, identifier: &str) -> &mut ProductCheck {
        let entry = self.products.entry(guid.to_owned()).or_default();
        if entry.identifier.is_empty() {
            entry.identifier = identifier.to_owned();
        }
        entry
    }

    /// A finding of a verifier on a product: an error (under the product's GUID) or, when
    /// `ignorable`, a warning naming the product.
    pub fn verifier(
        &mut self,
        guid: &str,
        identifier: &str,
        kind: &str,
        ignorable: bool,
        message: String,
    ) {
        if ignorable {
            self.warnings
                .push(format!("{identifier} ({guid}): {message}"));
        } else {
            self.error(guid, message.clone());
        }
        let check = self.product(guid, identifier);
        match check.verifiers.iter_mut().find(|(k, _, _)| k == kind) {
            Some((_, _, messages)) => messages.push(message),
            None => check
                .verifiers
                .push((kind.to_owned(), ignorable, vec![message])),
        }
    }

    /// Whether the apply must be refused.
    pub fn refuses(&self, ignore_warnings: bool) -> bool {
        !self.errors.is_empty() || (!ignore_warnings && !self.warnings.is_empty())
    }

    /// Forgets the warnings (the request ignores them): a refusal then names only what
    /// refused it.
    pub fn drop_warnings(&mut self) {
        self.warnings.clear();
        for check in self.products.values_mut() {
            check.verifiers.retain(|(_, ignorable, _)| !ignorable);
            check.dependencies.retain(|d| {
                d.state != tiles::product_versions::DependencyState::Incompatible || !d.optional
            });
        }
    }

    /// The 422 body (see the module docs).
    pub fn to_json(&self) -> Value {
        let products: Vec<Value> = self
            .products
            .iter()
            .filter(|(guid, check)| {
                self.errors.contains_key(*guid)
                    || !check.dependencies.is_empty()
                    || !check.verifiers.is_empty()
            })
            .map(|(guid, check)| product_json(guid, check, self.errors.get(guid)))
            .collect();
        json!({
            "errors": self.errors,
            "warnings": self.warnings,
            "deployment_errors": {"products": products},
        })
    }
}

fn product_json(guid: &str, check: &ProductCheck, errors: Option<&Vec<String>>) -> Value {
    let mut out = json!({
        "guid": guid,
        "identifier": check.identifier,
        "errors": errors.cloned().unwrap_or_default(),
        "dependencies": check.dependencies.iter().map(|d| json!({
            "name": d.name,
            "requirement": d.requirement,
            "optional": d.optional,
            "state": d.state,
            "found_version": d.found_version,
            "note": d.note,
        })).collect::<Vec<_>>(),
        "verifiers": check.verifiers.iter().map(|(kind, ignorable, messages)| json!({
            "type": kind,
            "ignorable": ignorable,
            "errors": messages,
        })).collect::<Vec<_>>(),
    });
    if let Some(c) = &check.completeness {
        let unassigned = |key: &str| c.missing.contains_key(&format!("networks_and_azs.{key}"));
        let properties: Vec<Value> = c
            .missing
            .iter()
            .chain(c.invalid.iter())
            .filter(|(reference, _)| !reference.starts_with("networks_and_azs."))
            .map(|(reference, messages)| json!({"name": reference, "errors": messages}))
            .collect();
        let stemcells: Vec<Value> = c
            .stemcells
            .keys()
            .map(|key| {
                let os = key.strip_prefix("stemcell.").unwrap_or(key);
                let version = check
                    .stemcell_criteria
                    .iter()
                    .find(|(o, _)| o == os)
                    .map(|(_, v)| v.clone());
                json!({
                    "assigned": false,
                    "required_stemcell_os": os,
                    "required_stemcell_version": version,
                })
            })
            .collect();
        if let Some(map) = out.as_object_mut() {
            map.insert(
                "complete".into(),
                json!(c.missing.is_empty() && c.invalid.is_empty()),
            );
            map.insert(
                "network".into(),
                json!({"assigned": !unassigned("network")}),
            );
            map.insert(
                "availability_zones".into(),
                json!({"assigned": !unassigned("singleton_availability_zone")
                    && !unassigned("other_availability_zones")}),
            );
            map.insert("stemcells".into(), json!(stemcells));
            map.insert("properties".into(), json!(properties));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_refuse_only_without_ignore_warnings() {
        let mut r = Refusal::default();
        assert!(!r.refuses(false));
        r.verifier(
            "p-1",
            "app",
            ERRAND_OVERRIDES,
            true,
            "errand overrides are ignored".into(),
        );
        assert!(r.refuses(false));
        assert!(!r.refuses(true));
        assert_eq!(r.warnings, vec!["app (p-1): errand overrides are ignored"]);
        assert!(r.errors.is_empty());
        r.verifier("p-1", "app", DEPENDENCIES, false, "requires db".into());
        assert!(r.refuses(true));
        let mut ignored = r.clone();
        ignored.drop_warnings();
        assert!(ignored.warnings.is_empty());
        assert_eq!(ignored.products["p-1"].verifiers.len(), 1);
        let body = r.to_json();
        assert_eq!(body["errors"]["p-1"], json!(["requires db"]));
        let product = &body["deployment_errors"]["products"][0];
        assert_eq!(product["identifier"], "app");
        assert_eq!(product["verifiers"][0]["type"], ERRAND_OVERRIDES);
        assert_eq!(product["verifiers"][0]["ignorable"], true);
        assert_eq!(product["verifiers"][1]["ignorable"], false);
        assert!(
            product.get("complete").is_none(),
            "no completeness computed"
        );
    }

    #[test]
    fn completeness_takes_oms_shape() {
        let mut r = Refusal::default();
        let check = r.product("p-2", "small");
        check.completeness = Some(Completeness {
            missing: BTreeMap::from([
                (
                    "networks_and_azs.network".into(),
                    vec!["can't be blank".into()],
                ),
                (".properties.x".into(), vec!["can't be blank".into()]),
            ]),
            invalid: BTreeMap::new(),
            stemcells: BTreeMap::from([(
                "stemcell.ubuntu-jammy".into(),
                vec!["Missing stemcell".into()],
            )]),
        });
        check.stemcell_criteria = vec![("ubuntu-jammy".into(), "1.10".into())];
        r.error("p-2", "networks_and_azs.network: can't be blank");
        let p = &r.to_json()["deployment_errors"]["products"][0];
        assert_eq!(p["complete"], false);
        assert_eq!(p["network"]["assigned"], false);
        assert_eq!(p["availability_zones"]["assigned"], true);
        assert_eq!(
            p["stemcells"],
            json!([{"assigned": false, "required_stemcell_os": "ubuntu-jammy",
                    "required_stemcell_version": "1.10"}])
        );
        assert_eq!(p["properties"][0]["name"], ".properties.x");
        assert!(r.to_string().contains("p-2: networks_and_azs.network"));
    }
}
