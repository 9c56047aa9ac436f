//! `requires_product_versions`: the version requirements a tile places on other products, and
//! whether the products on hand meet them.
//!
//! A requirement is one or more comma-separated constraints, each an operator (`=`, `!=`, `>`,
//! `<`, `>=`, `<=`, `~>`) and a version; a bare version means `=`. `~>` is the "pessimistic"
//! operator Ops Manager inherited from RubyGems: `~> 2.4` accepts 2.4 and later 2.x, `~> 2.4.1`
//! accepts 2.4.1 and later 2.4.x.
//!
//! **Versions.** Tile versions are a numeric release (`2.4.0`) optionally followed by a suffix
//! (`-build.31`, `.rc1`). Trailing zeros do not matter (`2.4` = `2.4.0`). Tiles use `-build.N`
//! for *releases* (Pivotal Network ships `2.4.0-build.31` as 2.4.0), so a requirement that
//! names no suffix compares only the release: `= 2.4.0` and `<= 2.4.0` accept `2.4.0-build.31`,
//! `> 2.4.0` does not. A requirement that names a suffix compares it too, part by part (numbers
//! as numbers; a version without a suffix sorts before one with a suffix, as the server orders
//! product versions for upgrades).
//!
//! The server (Review Pending Changes, Apply Changes) and the browser use this one module, so
//! they always agree on what satisfies a dependency.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metadata::ProductVersionRequirement;

/// A parsed requirement such as `>= 1.12, < 2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRequirement {
    constraints: Vec<Constraint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Pessimistic,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Pessimistic => "~>",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Constraint {
    op: Op,
    version: Version,
}

/// A version split into its numeric release and its suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    release: Vec<u64>,
    suffix: Vec<Part>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Text(String),
    Number(u64),
}

impl Version {
    /// `None` when the text does not start with a number.
    fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let (head, tail) = match text.find(['-', '+']) {
            Some(i) => (&text[..i], &text[i + 1..]),
            None => (text, ""),
        };
        let mut release = Vec::new();
        let mut suffix_parts: Vec<&str> = Vec::new();
        for segment in head.split('.') {
            match segment.parse::<u64>() {
                Ok(n) if suffix_parts.is_empty() => release.push(n),
                _ => suffix_parts.push(segment),
            }
        }
        if release.is_empty() {
            return None;
        }
        suffix_parts.extend(tail.split(['.', '-', '+']).filter(|s| !s.is_empty()));
        if suffix_parts.iter().any(|s| s.is_empty()) {
            return None;
        }
        let suffix = suffix_parts
            .into_iter()
            .map(|p| match p.parse::<u64>() {
                Ok(n) => Part::Number(n),
                Err(_) => Part::Text(p.to_owned()),
            })
            .collect();
        Some(Version {
            release,
            suffix,
            text: text.to_owned(),
        })
    }
}

/// Releases compared as numbers, the shorter padded with zeros.
fn compare_release(a: &[u64], b: &[u64]) -> Ordering {
    let len = a.len().max(b.len());
    (0..len)
        .map(|i| {
            let x = a.get(i).copied().unwrap_or(0);
            let y = b.get(i).copied().unwrap_or(0);
            x.cmp(&y)
        })
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

/// `candidate` against the version a constraint names (see the module docs for suffixes).
fn compare(candidate: &Version, wanted: &Version) -> Ordering {
    compare_release(&candidate.release, &wanted.release).then_with(|| {
        if wanted.suffix.is_empty() {
            Ordering::Equal
        } else {
            candidate.suffix.cmp(&wanted.suffix)
        }
    })
}

impl Constraint {
    fn accepts(&self, v: &Version) -> bool {
        let o = compare(v, &self.version);
        match self.op {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Gt => o == Ordering::Greater,
            Op::Lt => o == Ordering::Less,
            Op::Ge => o != Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Pessimistic => {
                let r = &self.version.release;
                // The next release at the precision above the last segment named.
                let upper: Vec<u64> = if r.len() <= 1 {
                    vec![r.first().copied().unwrap_or(0).saturating_add(1)]
                } else {
                    let mut u = r[..r.len() - 1].to_vec();
                    if let Some(last) = u.last_mut() {
                        *last = last.saturating_add(1);
                    }
                    u
                };
                o != Ordering::Less && compare_release(&v.release, &upper) == Ordering::Less
            }
        }
    }
}

impl VersionRequirement {
    /// Parses requirement text. Refused (naming the problem) when it is empty, names an
    /// unknown operator or a version that does not start with a number.
    pub fn parse(text: &str) -> Result<VersionRequirement> {
        let invalid = |message: String| Error::Invalid {
            field: "version".into(),
            message,
        };
        if text.trim().is_empty() {
            return Err(invalid("empty version requirement".into()));
        }
        let mut constraints = Vec::new();
        for piece in text.split(',') {
            let piece = piece.trim();
            let (op, rest) = [
                ("~>", Op::Pessimistic),
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("!=", Op::Ne),
                ("==", Op::Eq),
                ("=", Op::Eq),
                (">", Op::Gt),
                ("<", Op::Lt),
            ]
            .iter()
            .find_map(|(prefix, op)| piece.strip_prefix(prefix).map(|rest| (*op, rest)))
            .unwrap_or((Op::Eq, piece));
            let rest = rest.trim();
            let version = Version::parse(rest).ok_or_else(|| {
                invalid(format!(
                    "'{piece}' is not a version constraint (operator =, !=, >, <, >=, <= or ~> \
                     and a version such as 2.4.0)"
                ))
            })?;
            constraints.push(Constraint { op, version });
        }
        Ok(VersionRequirement { constraints })
    }

    /// Whether `version` (a product version as written) meets every constraint. A version that
    /// does not start with a number meets none.
    pub fn matches(&self, version: &str) -> bool {
        match Version::parse(version) {
            Some(v) => self.constraints.iter().all(|c| c.accepts(&v)),
            None => false,
        }
    }
}

impl fmt::Display for VersionRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .constraints
            .iter()
            .map(|c| format!("{} {}", c.op.text(), c.version.text))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// How a dependency stands against the products on hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyState {
    /// A product of that name is on hand at a version the requirement accepts.
    Satisfied,
    /// Products of that name are on hand, none at an accepted version (or the requirement
    /// itself cannot be read).
    Incompatible,
    /// No product of that name is on hand.
    Missing,
}

/// A product on hand that may meet requirements: its name and version, or one of its
/// `provides_product_versions` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer<'a> {
    pub name: &'a str,
    pub version: &'a str,
}

/// The outcome for one requirement: its state and which offer (index into the list given)
/// meets it — or, when incompatible, the first offer of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    pub state: DependencyState,
    pub offer: Option<usize>,
}

impl Resolution {
    /// Whether the dependency stops a deploy: a required one that is not satisfied. (An
    /// optional dependency never does: Ops Manager deploys a tile whose optional dependency is
    /// absent or at another version.)
    pub fn blocks(&self, optional: bool) -> bool {
        !optional && self.state != DependencyState::Satisfied
    }

    /// The colour Review Pending Changes shows: `green` (satisfied), `red` (incompatible, or
    /// required and missing), `gray` (optional and missing).
    pub fn colour(&self, optional: bool) -> &'static str {
        match self.state {
            DependencyState::Satisfied => "green",
            DependencyState::Missing if optional => "gray",
            _ => "red",
        }
    }
}

/// Resolves one requirement against the offers on hand.
pub fn resolve(requirement: &ProductVersionRequirement, offers: &[Offer<'_>]) -> Resolution {
    let parsed = VersionRequirement::parse(&requirement.version).ok();
    let mut first_of_name = None;
    for (i, offer) in offers.iter().enumerate() {
        if offer.name != requirement.name {
            continue;
        }
        if parsed.as_ref().is_some_and(|r| r.matches(offer.version)) {
            return Resolution {
                state: DependencyState::Satisfied,
                offer: Some(i),
            };
        }
        first_of_name.get_or_insert(i);
    }
    Resolution {
        state: if first_of_name.is_some() {
            DependencyState::Incompatible
        } else {
            DependencyState::Missing
        },
        offer: first_of_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(req: &str, version: &str) -> bool {
        VersionRequirement::parse(req)
            .unwrap_or_else(|e| panic!("{req}: {e}"))
            .matches(version)
    }

    #[test]
    fn comparison_operators() {
        assert!(ok(">= 1.12", "1.12.0"));
        assert!(ok(">= 1.12", "1.13"));
        assert!(!ok(">= 1.12", "1.11.9"));
        assert!(ok("> 1.12", "1.12.1"));
        assert!(!ok("> 1.12", "1.12.0"));
        assert!(ok("< 2", "1.99.99"));
        assert!(!ok("< 2", "2.0.0"));
        assert!(ok("<= 2.0", "2"));
        assert!(ok("= 2.4", "2.4.0"));
        assert!(ok("== 2.4", "2.4"));
        assert!(ok("2.4.1", "2.4.1"));
        assert!(!ok("2.4.1", "2.4.2"));
        assert!(ok("!= 2.4.1", "2.4.2"));
        assert!(!ok("!= 2.4.1", "2.4.1"));
        assert!(ok(">=1.12", "1.12"), "no space after the operator");
        assert!(ok("1.10", "1.10.0"), "10 is ten, not one-zero");
        assert!(ok("> 1.9", "1.10"));
    }

    #[test]
    fn pessimistic_operator_bumps_the_second_last_segment() {
        assert!(ok("~> 2.4", "2.4.0"));
        assert!(ok("~> 2.4", "2.9.7"));
        assert!(!ok("~> 2.4", "3.0.0"));
        assert!(!ok("~> 2.4", "2.3.9"));
        assert!(ok("~> 2.4.1", "2.4.9"));
        assert!(!ok("~> 2.4.1", "2.5.0"));
        assert!(!ok("~> 2.4.1", "2.4.0"));
        assert!(ok("~> 2", "2.7"));
        assert!(!ok("~> 2", "3.0"));
        assert!(!ok("~> 2.4.1", "2.5.0-build.1"));
    }

    #[test]
    fn build_suffixes_are_releases_of_their_version() {
        assert!(ok("= 2.4.0", "2.4.0-build.31"));
        assert!(ok("<= 2.4.0", "2.4.0-build.31"));
        assert!(!ok("> 2.4.0", "2.4.0-build.31"));
        assert!(ok("~> 1.1", "1.1.3-build.11"));
        assert!(
            ok(">= 2.4.0-build.5", "2.4.0-build.31"),
            "build 31 after build 5"
        );
        assert!(!ok(">= 2.4.0-build.31", "2.4.0-build.5"));
        assert!(
            !ok(">= 2.4.0-build.1", "2.4.0"),
            "no suffix before a suffix"
        );
        assert!(ok("= 2.4.0.rc1", "2.4.0.rc1"));
    }

    #[test]
    fn several_constraints_must_all_hold() {
        assert!(ok(">= 1.12, < 2", "1.15.3"));
        assert!(!ok(">= 1.12, < 2", "2.0.0"));
        assert!(!ok(">= 1.12, < 2", "1.11"));
    }

    #[test]
    fn unreadable_text_is_refused_and_unreadable_versions_match_nothing() {
        for bad in ["", "  ", ">= ", "~> abc", "=> 1.0", ">= 1.0,", "latest"] {
            assert!(VersionRequirement::parse(bad).is_err(), "{bad:?}");
        }
        assert!(!ok(">= 1.0", "abc"));
        assert!(!ok("!= 1.0", ""));
        let e = VersionRequirement::parse("~> x").unwrap_err();
        assert!(e.to_string().contains("'~> x'"), "{e}");
    }

    #[test]
    fn display_normalises_spacing() {
        let r = VersionRequirement::parse(">=1.12,<2").unwrap();
        assert_eq!(r.to_string(), ">= 1.12, < 2");
        assert_eq!(
            VersionRequirement::parse("2.4").unwrap().to_string(),
            "= 2.4"
        );
    }

    fn req(name: &str, version: &str, optional: bool) -> ProductVersionRequirement {
        ProductVersionRequirement {
            name: name.into(),
            version: version.into(),
            optional,
        }
    }

    #[test]
    fn resolution_states_and_colours() {
        let offers = [
            Offer {
                name: "cf",
                version: "2.3.1",
            },
            Offer {
                name: "p-redis",
                version: "1.0.0",
            },
            Offer {
                name: "cf",
                version: "2.4.2",
            },
        ];
        let r = resolve(&req("cf", "~> 2.4", false), &offers);
        assert_eq!(r.state, DependencyState::Satisfied);
        assert_eq!(
            r.offer,
            Some(2),
            "the offer that meets it, not the first by name"
        );
        assert_eq!(r.colour(false), "green");
        assert!(!r.blocks(false));

        let r = resolve(&req("cf", "~> 3.0", true), &offers);
        assert_eq!(r.state, DependencyState::Incompatible);
        assert_eq!(r.offer, Some(0));
        assert_eq!(r.colour(true), "red");
        assert!(!r.blocks(true), "optional: still deployable");
        assert!(r.blocks(false));

        let r = resolve(&req("mysql", ">= 1", true), &offers);
        assert_eq!(r.state, DependencyState::Missing);
        assert_eq!(r.offer, None);
        assert_eq!(r.colour(true), "gray");
        assert_eq!(r.colour(false), "red");
        assert!(r.blocks(false));

        // An unreadable requirement is never satisfied.
        let r = resolve(&req("p-redis", "newest", false), &offers);
        assert_eq!(r.state, DependencyState::Incompatible);
        assert_eq!(r.offer, Some(1));
    }
}
