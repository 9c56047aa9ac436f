//! BOSH release job specs, and the check of manifests against them.
//!
//! BOSH hands a job only the properties its `spec` declares: a manifest property the spec does
//! not know (a typo, or a property of another release version) is silently dropped, and a job
//! the release does not contain fails the deploy minutes in. No Ops Manager checks this; the
//! check here reports both before a deploy.
//!
//! Files:
//! - `mod.rs`: [`JobSpecs`] (release name and version → job → declared property names), read
//!   from a job's `job.MF` ([`parse_job_manifest`], the server reads them out of release
//!   tarballs) or from a compact summary file ([`JobSpecs::from_summary`], what the bundled
//!   tiles ship: `tiles/products/*/job-specs.yml`).
//! - `check.rs`: what a rendered manifest ([`check_manifest`]) or a tile's job templates
//!   ([`check_template`], for lint without a configuration) set that the specs do not declare.
//! - `tests.rs`.

mod check;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use check::{check_manifest, check_template, SpecFinding, SpecFindingKind, SpecReport};

use crate::{Error, Result};

/// The jobs of one release version: job name → the property names its spec declares, dotted
/// as the spec writes them (`tls.kubernetes.ca`, or `tls.kubernetes` for a whole map).
pub type ReleaseJobs = BTreeMap<String, Vec<String>>;

/// Job specs of release versions. A release version is either known (all its jobs) or absent:
/// the check reports jobs of absent releases as not checked rather than guessing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpecs {
    releases: Vec<ReleaseSpecs>,
}

/// One release version's jobs (the unit a summary file lists and a tarball yields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseSpecs {
    pub name: String,
    pub version: String,
    pub jobs: ReleaseJobs,
}

impl JobSpecs {
    /// Adds (or replaces) a release version's jobs.
    pub fn insert(&mut self, release: ReleaseSpecs) {
        self.releases
            .retain(|r| !(r.name == release.name && r.version == release.version));
        self.releases.push(release);
    }

    /// Adds every release of `other`, replacing versions both hold.
    pub fn extend(&mut self, other: JobSpecs) {
        for r in other.releases {
            self.insert(r);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.releases.is_empty()
    }

    /// Every release version held.
    pub fn releases(&self) -> &[ReleaseSpecs] {
        &self.releases
    }

    /// The jobs of `name` at `version`. A manifest's `latest` stands for the one version held,
    /// when exactly one is.
    pub fn release(&self, name: &str, version: &str) -> Option<&ReleaseSpecs> {
        let exact = self
            .releases
            .iter()
            .find(|r| r.name == name && r.version == version);
        if exact.is_some() || version != "latest" {
            return exact;
        }
        let mut named = self.releases.iter().filter(|r| r.name == name);
        match (named.next(), named.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// Reads a summary file: `releases:` a list of `{name, version, jobs: {job: [property…]}}`
    /// (other keys, such as `source`, are notes for people).
    pub fn from_summary(text: &str) -> Result<JobSpecs> {
        let doc = crate::yaml::load(text)?;
        let mut out = JobSpecs::default();
        let releases = doc
            .get("releases")
            .and_then(Value::as_array)
            .ok_or_else(|| shape("releases", "must be a list of releases"))?;
        for (i, r) in releases.iter().enumerate() {
            let at = format!("releases[{i}]");
            let text_of = |key: &str| {
                r.get(key)
                    .and_then(scalar)
                    .ok_or_else(|| shape(&format!("{at}.{key}"), "must be a string"))
            };
            let (name, version) = (text_of("name")?, text_of("version")?);
            let jobs = r
                .get("jobs")
                .and_then(Value::as_object)
                .ok_or_else(|| shape(&format!("{at}.jobs"), "must map job names to lists"))?;
            let mut release = ReleaseSpecs {
                name,
                version,
                jobs: ReleaseJobs::new(),
            };
            for (job, names) in jobs {
                let names = match names {
                    Value::Null => Vec::new(),
                    Value::Array(list) => list
                        .iter()
                        .map(|n| {
                            scalar(n).ok_or_else(|| {
                                shape(&format!("{at}.jobs.{job}"), "property names are strings")
                            })
                        })
                        .collect::<Result<Vec<_>>>()?,
                    _ => {
                        return Err(shape(
                            &format!("{at}.jobs.{job}"),
                            "must be a list of property names",
                        ))
                    }
                };
                release.jobs.insert(job.clone(), names);
            }
            out.insert(release);
        }
        Ok(out)
    }
}

/// Reads a job's `job.MF` (the job's spec as packed in a release tarball): its name and the
/// property names it declares.
pub fn parse_job_manifest(text: &str) -> Result<(String, Vec<String>)> {
    let doc = crate::yaml::load(text)?;
    let name = doc
        .get("name")
        .and_then(scalar)
        .ok_or_else(|| shape("name", "a job.MF names its job"))?;
    let properties = match doc.get("properties") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        Some(_) => {
            return Err(shape(
                "properties",
                "must map property names to their specs",
            ))
        }
    };
    Ok((name, properties))
}

/// Reads a release's `release.MF`: its name and version.
pub fn parse_release_manifest(text: &str) -> Result<(String, String)> {
    let doc = crate::yaml::load(text)?;
    let field = |key: &str| {
        doc.get(key)
            .and_then(scalar)
            .ok_or_else(|| shape(key, "a release.MF states it"))
    };
    Ok((field("name")?, field("version")?))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn shape(path: &str, message: &str) -> Error {
    Error::Shape {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}
