//! Which stemcells a product accepts, from its `stemcell_criteria` (and
//! `additional_stemcells_criteria`), and which one it gets.
//!
//! The rules (tile-metadata.md: `{os, version, enable_patch_security_updates (default true),
//! requires_cpi (obsolete)}`; operator-ux-security.md §1.5 "floating stemcells"):
//! - the operating system must be the same string (`ubuntu-xenial`);
//! - with `enable_patch_security_updates` (the default) the stemcell *floats*: any version with
//!   the same major (`97` of `97.17`) that is not older than the requested one is accepted, so
//!   `97.17`, `97.18` and `97.100` satisfy `97.17` while `97.16` and `98.1` do not;
//! - with `enable_patch_security_updates: false` only the exact version is accepted;
//! - an empty criteria version accepts every version of the OS;
//! - `requires_cpi` is obsolete and does not change the matching.
//!
//! Among the accepted stemcells a product gets the one pinned to it (stemcell assignments), or,
//! when nothing valid is pinned, the newest.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use tiles::metadata::{ProductTemplate, StemcellCriteria};

use crate::products::versions::compare;

/// An OS and version (a library entry, a requirement or an assignment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsVersion {
    pub os: String,
    pub version: String,
}

/// The major part of a stemcell version (`97` of `97.17`, `1` of `1.651`).
fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// Whether a stemcell of `os` at `version` satisfies `criteria`.
pub fn satisfies(criteria: &StemcellCriteria, os: &str, version: &str) -> bool {
    if criteria.os != os {
        return false;
    }
    let wanted = criteria.version.trim();
    if wanted.is_empty() {
        return true;
    }
    if criteria.enable_patch_security_updates == Some(false) {
        return compare(version, wanted) == Ordering::Equal;
    }
    major(version) == major(wanted) && compare(version, wanted) != Ordering::Less
}

/// Every criteria of a product: the main one first, then the additional OSes. A tile without
/// `stemcell_criteria` (runtime-config only) needs no stemcell.
pub fn criteria_of(template: &ProductTemplate) -> Vec<&StemcellCriteria> {
    template
        .stemcell_criteria
        .iter()
        .chain(template.additional_stemcells_criteria.iter())
        .filter(|c| !c.os.trim().is_empty())
        .collect()
}

/// The versions in `library` (OS + version pairs) that satisfy `criteria`, oldest first,
/// without repeats.
pub fn accepted_versions(criteria: &StemcellCriteria, library: &[OsVersion]) -> Vec<String> {
    let mut out: Vec<String> = library
        .iter()
        .filter(|s| satisfies(criteria, &s.os, &s.version))
        .map(|s| s.version.clone())
        .collect();
    out.sort_by(|a, b| compare(a, b));
    out.dedup();
    out
}

/// The version a product gets for `criteria`: the pinned one if it is still in the library and
/// accepted, else the newest accepted one; `None` means the stemcell is missing.
pub fn resolve(
    criteria: &StemcellCriteria,
    library: &[OsVersion],
    pinned: Option<&str>,
) -> Option<String> {
    let accepted = accepted_versions(criteria, library);
    if let Some(pin) = pinned {
        if accepted.iter().any(|v| v == pin) {
            return Some(pin.to_owned());
        }
    }
    accepted.last().cloned()
}

/// What an operator reads when no imported stemcell satisfies `criteria`.
pub fn missing_message(criteria: &StemcellCriteria) -> String {
    let wanted = criteria.version.trim();
    let which = if wanted.is_empty() {
        format!("any {} stemcell", criteria.os)
    } else if criteria.enable_patch_security_updates == Some(false) {
        format!("{} {} exactly", criteria.os, wanted)
    } else {
        format!(
            "{} {} or a later {}.x version",
            criteria.os,
            wanted,
            major(wanted)
        )
    };
    format!("Missing stemcell: this product needs {which}; import it in the Stemcell Library")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria(os: &str, version: &str, patches: Option<bool>) -> StemcellCriteria {
        StemcellCriteria {
            os: os.into(),
            version: version.into(),
            enable_patch_security_updates: patches,
            requires_cpi: None,
        }
    }

    fn lib(list: &[(&str, &str)]) -> Vec<OsVersion> {
        list.iter()
            .map(|(os, v)| OsVersion {
                os: (*os).into(),
                version: (*v).into(),
            })
            .collect()
    }

    #[test]
    fn floating_accepts_later_patches_of_the_same_major_only() {
        let c = criteria("ubuntu-xenial", "97.17", None);
        assert!(satisfies(&c, "ubuntu-xenial", "97.17"));
        assert!(satisfies(&c, "ubuntu-xenial", "97.18"));
        assert!(satisfies(&c, "ubuntu-xenial", "97.100"));
        assert!(!satisfies(&c, "ubuntu-xenial", "97.9"));
        assert!(!satisfies(&c, "ubuntu-xenial", "98.1"));
        assert!(!satisfies(&c, "ubuntu-xenial", "9.17"));
        assert!(!satisfies(&c, "ubuntu-jammy", "97.17"));
        let explicit = criteria("ubuntu-xenial", "97.17", Some(true));
        assert!(satisfies(&explicit, "ubuntu-xenial", "97.20"));
    }

    #[test]
    fn pinned_criteria_accept_the_exact_version_only() {
        let c = criteria("ubuntu-trusty", "3586.26", Some(false));
        assert!(satisfies(&c, "ubuntu-trusty", "3586.26"));
        assert!(!satisfies(&c, "ubuntu-trusty", "3586.27"));
        assert!(!satisfies(&c, "ubuntu-trusty", "3586.25"));
    }

    #[test]
    fn an_empty_version_accepts_any_version_of_the_os() {
        let c = criteria("windows2019", "", None);
        assert!(satisfies(&c, "windows2019", "2019.7"));
        assert!(!satisfies(&c, "ubuntu-xenial", "2019.7"));
    }

    #[test]
    fn resolution_prefers_a_valid_pin_then_the_newest() {
        let c = criteria("ubuntu-xenial", "97.17", None);
        let library = lib(&[
            ("ubuntu-xenial", "97.18"),
            ("ubuntu-xenial", "97.17"),
            ("ubuntu-xenial", "97.17"),
            ("ubuntu-xenial", "98.0"),
            ("ubuntu-jammy", "97.30"),
        ]);
        assert_eq!(accepted_versions(&c, &library), vec!["97.17", "97.18"]);
        assert_eq!(resolve(&c, &library, None).as_deref(), Some("97.18"));
        assert_eq!(
            resolve(&c, &library, Some("97.17")).as_deref(),
            Some("97.17")
        );
        // A pin that is gone or no longer accepted falls back to floating.
        assert_eq!(
            resolve(&c, &library, Some("98.0")).as_deref(),
            Some("97.18")
        );
        assert_eq!(resolve(&c, &lib(&[("ubuntu-jammy", "97.17")]), None), None);
    }

    #[test]
    fn missing_messages_say_what_is_needed() {
        assert_eq!(
            missing_message(&criteria("ubuntu-xenial", "97.17", None)),
            "Missing stemcell: this product needs ubuntu-xenial 97.17 or a later 97.x version; \
             import it in the Stemcell Library"
        );
        assert!(
            missing_message(&criteria("ubuntu-trusty", "3586.26", Some(false)))
                .contains("3586.26 exactly")
        );
    }

    #[test]
    fn criteria_of_lists_the_main_then_additional_oses() {
        let mut t = ProductTemplate::from_yaml(
            "name: p\nproduct_version: '1'\nstemcell_criteria: {os: ubuntu-xenial, version: '97.17'}\n\
             additional_stemcells_criteria: [{os: windows2019, version: '2019.7'}]\n",
        )
        .unwrap();
        let oses: Vec<&str> = criteria_of(&t).iter().map(|c| c.os.as_str()).collect();
        assert_eq!(oses, vec!["ubuntu-xenial", "windows2019"]);
        t.stemcell_criteria = None;
        t.additional_stemcells_criteria.clear();
        assert!(criteria_of(&t).is_empty());
    }
}
