//! The job-spec check: every property a manifest sets for a job that the job's spec (in the
//! release version the manifest names) does not declare, and every job its release does not
//! contain. Findings are data; whether they block is the caller's decision (Tileworks reports
//! them as warnings: BOSH deploys such a manifest, it just ignores the property).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::JobSpecs;
use crate::metadata::ProductTemplate;
use crate::suggest::did_you_mean;

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpecFindingKind {
    /// The job's spec does not declare `property` (the shortest dotted prefix of what the
    /// manifest sets that no declared name starts with).
    UndeclaredProperty {
        property: String,
        suggestion: Option<String>,
    },
    /// The release version has no job of that name.
    MissingJob { suggestion: Option<String> },
}

/// One problem, located by `at` (`instance_groups[master].jobs[kubelet]` in a manifest,
/// `job_types[2].templates[0]` in a tile's metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecFinding {
    pub at: String,
    pub release: String,
    pub version: String,
    pub job: String,
    #[serde(flatten)]
    pub kind: SpecFindingKind,
    /// The finding in words, suggestion included.
    pub message: String,
}

/// The check's outcome: findings, and the release versions whose specs were not at hand (their
/// jobs were not checked; a release that is not public has no summary).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpecReport {
    pub findings: Vec<SpecFinding>,
    /// `name/version` → the jobs of it left unchecked.
    pub unchecked: BTreeMap<String, BTreeSet<String>>,
}

impl SpecReport {
    /// The unchecked releases in one line (`pks-api/1.1.3 (pks-api, smoke-tests)`), for notes.
    pub fn unchecked_summary(&self) -> String {
        self.unchecked
            .iter()
            .map(|(release, jobs)| {
                let jobs: Vec<&str> = jobs.iter().map(String::as_str).collect();
                format!("{release} ({})", jobs.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One job as a manifest (or a tile's job template) states it.
struct JobUse<'a> {
    at: String,
    job: &'a str,
    release: &'a str,
    version: Option<&'a str>,
    properties: Option<Value>,
}

/// Checks a rendered BOSH manifest (as JSON): the jobs of every instance group and addon,
/// against the release versions its `releases` name.
pub fn check_manifest(manifest: &Value, specs: &JobSpecs) -> SpecReport {
    let versions: BTreeMap<&str, &str> = list(manifest, "releases")
        .filter_map(|r| Some((r.get("name")?.as_str()?, r.get("version")?.as_str()?)))
        .collect();
    let mut uses = Vec::new();
    for (section, groups) in [("instance_groups", "instance_groups"), ("addons", "addons")] {
        for group in list(manifest, groups) {
            let group_name = group.get("name").and_then(Value::as_str).unwrap_or("?");
            for job in list(group, "jobs") {
                let (Some(name), Some(release)) = (
                    job.get("name").and_then(Value::as_str),
                    job.get("release").and_then(Value::as_str),
                ) else {
                    continue;
                };
                uses.push(JobUse {
                    at: format!("{section}[{group_name}].jobs[{name}]"),
                    job: name,
                    release,
                    version: versions.get(release).copied(),
                    properties: job.get("properties").cloned(),
                });
            }
        }
    }
    check(uses, specs)
}

/// Checks a tile's job templates without rendering: each template's job against the release
/// version the tile declares, and the property names its `manifest` snippet sets (the keys are
/// literal even where the values are `(( ))` expressions).
pub fn check_template(template: &ProductTemplate, specs: &JobSpecs) -> SpecReport {
    let versions: BTreeMap<&str, &str> = template
        .releases
        .iter()
        .map(|r| (r.name.as_str(), r.version.as_str()))
        .collect();
    let mut uses = Vec::new();
    for (i, job_type) in template.job_types.iter().enumerate() {
        for (j, t) in job_type.templates.iter().enumerate() {
            let properties = t
                .manifest
                .as_deref()
                .and_then(|text| crate::yaml::load(text).ok());
            uses.push(JobUse {
                at: format!("job_types[{i}].templates[{j}]"),
                job: &t.name,
                release: &t.release,
                version: versions.get(t.release.as_str()).copied(),
                properties,
            });
        }
    }
    check(uses, specs)
}

fn check(uses: Vec<JobUse<'_>>, specs: &JobSpecs) -> SpecReport {
    let mut report = SpecReport::default();
    for u in uses {
        let version = u.version.unwrap_or("?");
        let Some(release) = specs.release(u.release, version) else {
            report
                .unchecked
                .entry(format!("{}/{version}", u.release))
                .or_default()
                .insert(u.job.to_owned());
            continue;
        };
        let finding = |kind: SpecFindingKind, message: String| SpecFinding {
            at: u.at.clone(),
            release: u.release.to_owned(),
            version: release.version.clone(),
            job: u.job.to_owned(),
            kind,
            message,
        };
        let Some(declared_names) = release.jobs.get(u.job) else {
            let suggestion = did_you_mean(u.job, release.jobs.keys().map(String::as_str));
            let message = format!(
                "release {} {} has no job `{}`{}",
                release.name,
                release.version,
                u.job,
                hint(suggestion)
            );
            report.findings.push(finding(
                SpecFindingKind::MissingJob {
                    suggestion: suggestion.map(str::to_owned),
                },
                message,
            ));
            continue;
        };
        let mut paths = Vec::new();
        if let Some(p) = &u.properties {
            leaf_paths(p, "", &mut paths);
        }
        let mut roots = BTreeSet::new();
        for path in paths {
            if !declared(&path, declared_names) {
                roots.insert(gap_root(&path, declared_names));
            }
        }
        for root in roots {
            let depth = root.split('.').count();
            let candidates: BTreeSet<String> = declared_names
                .iter()
                .map(|n| n.split('.').take(depth).collect::<Vec<_>>().join("."))
                .collect();
            let suggestion = did_you_mean(&root, candidates.iter().map(String::as_str));
            let message = format!(
                "property `{root}` is not declared by job `{}` of release {} {} (BOSH ignores it){}",
                u.job,
                release.name,
                release.version,
                hint(suggestion)
            );
            report.findings.push(finding(
                SpecFindingKind::UndeclaredProperty {
                    property: root.clone(),
                    suggestion: suggestion.map(str::to_owned),
                },
                message,
            ));
        }
    }
    report
}

fn hint(suggestion: Option<&str>) -> String {
    crate::suggest::did_you_mean_text(suggestion)
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Every leaf path of a job's `properties` (an empty map is a leaf: setting `{}` sets it).
fn leaf_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaf_paths(v, &path, out);
            }
        }
        _ if prefix.is_empty() => {}
        _ => out.push(prefix.to_owned()),
    }
}

/// Whether `path` is declared: the name itself, a value inside a declared map
/// (`tls.kubernetes.ca` under `tls.kubernetes`), or a map holding declared names
/// (`tls.kubernetes` set as a whole certificate, whose `ca`, `certificate`… are declared).
pub(super) fn declared(path: &str, names: &[String]) -> bool {
    names.iter().any(|n| {
        n == path
            || path
                .strip_prefix(n.as_str())
                .is_some_and(|r| r.starts_with('.'))
            || n.strip_prefix(path).is_some_and(|r| r.starts_with('.'))
    })
}

/// The shortest dotted prefix of an undeclared `path` that no declared name starts with.
pub(super) fn gap_root(path: &str, names: &[String]) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    for i in 1..=parts.len() {
        let prefix = parts[..i].join(".");
        if !names.iter().any(|n| {
            *n == prefix
                || n.strip_prefix(prefix.as_str())
                    .is_some_and(|r| r.starts_with('.'))
        }) {
            return prefix;
        }
    }
    path.to_owned()
}
