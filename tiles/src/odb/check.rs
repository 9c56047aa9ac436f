//! Structural checks of a generated cluster manifest, against the rules the BOSH Director
//! enforces (reference: bosh-cfcr-pks-odb.md §1.11) that can be decided without a cloud config.
//!
//! A template edited by a tile author can produce a manifest that parses but that the Director
//! would refuse; catching that here gives the author a message at render time instead of a failed
//! deploy task half an hour later.

use std::collections::BTreeSet;

use serde_json::Value;

use super::model::ServiceDeployment;

/// Every problem found, as sentences; empty means the manifest passed.
pub fn check_manifest(
    manifest: &Value,
    sd: &ServiceDeployment,
) -> std::result::Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let str_of = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);

    if str_of(manifest, "name").as_deref() != Some(sd.deployment_name.as_str()) {
        problems.push(format!(
            "`name` must be the deployment name {}",
            sd.deployment_name
        ));
    }
    for forbidden in [
        "networks",
        "vm_types",
        "azs",
        "disk_types",
        "compilation",
        "resource_pools",
        "jobs",
    ] {
        if manifest.get(forbidden).is_some() {
            problems.push(format!(
                "`{forbidden}` belongs in a cloud config, not a deployment manifest"
            ));
        }
    }
    if manifest.get("update").and_then(Value::as_object).is_none() {
        problems.push("the manifest needs an `update` block".into());
    }

    let releases: Vec<String> = list(manifest, "releases")
        .iter()
        .filter_map(|r| str_of(r, "name"))
        .collect();
    duplicates(&releases, "release", &mut problems);
    let stemcells: Vec<String> = list(manifest, "stemcells")
        .iter()
        .filter_map(|s| str_of(s, "alias"))
        .collect();
    if stemcells.is_empty() {
        problems.push("at least one stemcell is needed".into());
    }
    duplicates(&stemcells, "stemcell alias", &mut problems);

    let groups = list(manifest, "instance_groups");
    if groups.is_empty() {
        problems.push("there are no instance groups".into());
    }
    let canonical: Vec<String> = groups
        .iter()
        .map(|g| canonical_name(&str_of(g, "name").unwrap_or_default()))
        .collect();
    duplicates(&canonical, "instance group (canonical name)", &mut problems);

    for g in groups {
        let name = str_of(g, "name").unwrap_or_else(|| "<unnamed>".into());
        if g.get("instances").and_then(Value::as_u64).is_none() {
            problems.push(format!(
                "instance group {name}: `instances` must be a whole number"
            ));
        }
        let azs = list(g, "azs");
        if azs.is_empty() || azs.iter().any(|a| a.as_str().is_none_or(str::is_empty)) {
            problems.push(format!(
                "instance group {name}: needs non-empty availability zones"
            ));
        }
        if list(g, "networks")
            .iter()
            .all(|n| str_of(n, "name").is_none())
        {
            problems.push(format!("instance group {name}: needs at least one network"));
        }
        if str_of(g, "vm_type").is_none() && g.get("vm_resources").is_none() {
            problems.push(format!("instance group {name}: needs a vm_type"));
        }
        match str_of(g, "stemcell") {
            Some(s) if stemcells.contains(&s) => {}
            other => problems.push(format!(
                "instance group {name}: stemcell {other:?} is not a declared alias"
            )),
        }
        if let Some(lifecycle) = str_of(g, "lifecycle") {
            if lifecycle != "service" && lifecycle != "errand" {
                problems.push(format!(
                    "instance group {name}: invalid lifecycle {lifecycle:?}"
                ));
            }
        }
        let disks = [
            "persistent_disk",
            "persistent_disk_type",
            "persistent_disks",
        ]
        .iter()
        .filter(|k| g.get(**k).is_some())
        .count();
        if disks > 1 {
            problems.push(format!(
                "instance group {name}: more than one persistent disk setting"
            ));
        }
        let mut seen = BTreeSet::new();
        for job in list(g, "jobs") {
            let job_name = str_of(job, "name").unwrap_or_default();
            if !seen.insert(job_name.clone()) {
                problems.push(format!(
                    "instance group {name}: job {job_name} is colocated twice"
                ));
            }
            let release = str_of(job, "release").unwrap_or_default();
            if !releases.contains(&release) {
                problems.push(format!(
                    "instance group {name}: job {job_name} names release {release:?}, which the manifest does not declare"
                ));
            }
            if let Some(r) = sd.releases.iter().find(|r| r.name == release) {
                if !r.jobs.is_empty() && !r.jobs.contains(&job_name) {
                    problems.push(format!(
                        "instance group {name}: release {release} does not provide job {job_name}"
                    ));
                }
            }
        }
    }

    let variables: Vec<String> = list(manifest, "variables")
        .iter()
        .filter_map(|v| str_of(v, "name"))
        .collect();
    duplicates(&variables, "variable", &mut problems);
    let mut used = BTreeSet::new();
    placeholders(manifest, &mut used);
    for name in used {
        if !variables.contains(&name) {
            problems.push(format!(
                "variable {name} is used as a placeholder but not declared in `variables`"
            ));
        }
    }
    for v in list(manifest, "variables") {
        if let Some(ca) = v.pointer("/options/ca").and_then(Value::as_str) {
            if !variables.iter().any(|n| n == ca) {
                problems.push(format!(
                    "variable {} is signed by {ca}, which is not declared",
                    str_of(v, "name").unwrap_or_default()
                ));
            }
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn duplicates(names: &[String], what: &str, problems: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    for n in names {
        if !seen.insert(n) {
            problems.push(format!("duplicate {what} {n}"));
        }
    }
}

/// BOSH's canonical form of a name: lowercase, `_` → `-`, other characters dropped.
fn canonical_name(name: &str) -> String {
    name.to_lowercase()
        .replace('_', "-")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .trim_matches('-')
        .to_owned()
}

/// Names of the deployment-relative `((variables))` a value uses (absolute `/...` names and
/// ODB-managed `odb_secret:` ones are resolved elsewhere).
fn placeholders(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(start) = rest.find("((") {
                let after = &rest[start + 2..];
                let Some(end) = after.find("))") else { break };
                let inner = after[..end].trim();
                if !inner.starts_with('/') && !inner.starts_with("odb_secret:") && !inner.is_empty()
                {
                    let base = inner.split('.').next().unwrap_or(inner);
                    out.insert(base.to_owned());
                }
                rest = &after[end + 2..];
            }
        }
        Value::Array(items) => items.iter().for_each(|i| placeholders(i, out)),
        Value::Object(map) => map.values().for_each(|i| placeholders(i, out)),
        _ => {}
    }
}
