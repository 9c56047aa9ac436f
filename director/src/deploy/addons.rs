//! Addons: jobs a runtime config (or the manifest's own `addons`) puts on instance groups.
//! Placement follows the Director's rules: an addon applies where `include` matches and
//! `exclude` does not; keys inside a rule are ANDed, items of one list ORed. (bosh-cfcr-pks-odb
//! §1.7.) The stand-in records addon jobs as processes on the instances.

use serde_json::{Map, Value};
use tiles::manifest::{Addon, InstanceGroup, Manifest, Placement, RuntimeConfig};

use crate::error::{Error, Result};
use crate::store::Store;

/// The latest runtime configs, each parsed and checked (releases need exact versions).
pub async fn runtime_configs(
    store: &Store,
    ids: Option<&[i64]>,
) -> Result<Vec<(i64, RuntimeConfig)>> {
    let mut out = Vec::new();
    for row in super::config_set(store, "runtime", ids).await? {
        let value = tiles::yaml::load(&row.content)?;
        if value.is_null() {
            continue;
        }
        let rc = RuntimeConfig::from_value(&value)?;
        if let Some((field, message)) = rc.problems().into_iter().next() {
            return Err(Error::Invalid(format!(
                "Runtime config '{}' is invalid: {field}: {message}",
                row.name
            )));
        }
        out.push((row.id, rc));
    }
    out.sort_by_key(|(id, _)| *id);
    Ok(out)
}

fn any_matches(list: &[Map<String, Value>], key: &str, wanted: &str) -> bool {
    list.iter()
        .any(|m| m.get(key).and_then(Value::as_str) == Some(wanted))
}

/// Whether one rule matches an instance group. `from_manifest` addons ignore `deployments`.
fn rule_matches(
    rule: &Placement,
    deployment: &str,
    group: &InstanceGroup,
    manifest: &Manifest,
    from_manifest: bool,
) -> bool {
    if let (Some(list), false) = (&rule.deployments, from_manifest) {
        if !list.iter().any(|d| d == deployment) {
            return false;
        }
    }
    if let Some(list) = &rule.instance_groups {
        if !list.contains(&group.name) {
            return false;
        }
    }
    if let Some(list) = &rule.jobs {
        let hit = group.jobs.iter().any(|j| {
            list.iter().any(|m| {
                m.get("name").and_then(Value::as_str) == Some(j.name.as_str())
                    && m.get("release")
                        .and_then(Value::as_str)
                        .is_none_or(|r| r == j.release)
            })
        });
        if !hit {
            return false;
        }
    }
    if let Some(list) = &rule.stemcell {
        let os = group
            .stemcell
            .as_ref()
            .and_then(|alias| manifest.stemcells.iter().find(|s| &s.alias == alias))
            .and_then(|s| s.os.clone());
        if !os.is_some_and(|os| any_matches(list, "os", &os)) {
            return false;
        }
    }
    if let Some(lifecycle) = &rule.lifecycle {
        let mine = group.lifecycle.as_deref().unwrap_or("service");
        if lifecycle != mine {
            return false;
        }
    }
    if let Some(list) = &rule.networks {
        if !group.networks.iter().any(|n| list.contains(&n.name)) {
            return false;
        }
    }
    true
}

/// Whether an addon goes on a group.
pub fn applies(
    addon: &Addon,
    deployment: &str,
    group: &InstanceGroup,
    manifest: &Manifest,
    from_manifest: bool,
) -> bool {
    let included = addon
        .include
        .as_ref()
        .is_none_or(|r| rule_matches(r, deployment, group, manifest, from_manifest));
    let excluded = addon
        .exclude
        .as_ref()
        .is_some_and(|r| rule_matches(r, deployment, group, manifest, from_manifest));
    included && !excluded
}

/// The addon jobs for a group: `(job name, release)`.
pub fn jobs_for(
    deployment: &str,
    group: &InstanceGroup,
    manifest: &Manifest,
    runtime: &[(i64, RuntimeConfig)],
) -> Vec<(String, String)> {
    let from_runtime = runtime
        .iter()
        .flat_map(|(_, rc)| rc.addons.iter().map(|a| (a, false)));
    let from_manifest = manifest.addons.iter().flatten().map(|a| (a, true));
    from_manifest
        .chain(from_runtime)
        .filter(|(a, own)| applies(a, deployment, group, manifest, *own))
        .flat_map(|(a, _)| a.jobs.iter().map(|j| (j.name.clone(), j.release.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Manifest {
        Manifest::from_value(&json!({
            "name": "d",
            "releases": [{"name": "app", "version": "1"}],
            "stemcells": [{"alias": "default", "os": "ubuntu-jammy", "version": "1"}],
            "update": {"canaries": 1, "max_in_flight": 1, "canary_watch_time": 1, "update_watch_time": 1},
            "instance_groups": [
                {"name": "web", "instances": 1, "azs": ["z1"], "vm_type": "s", "stemcell": "default",
                 "networks": [{"name": "n"}], "jobs": [{"name": "server", "release": "app"}]},
                {"name": "tests", "lifecycle": "errand", "instances": 1, "azs": ["z1"], "vm_type": "s",
                 "stemcell": "default", "networks": [{"name": "n"}], "jobs": [{"name": "t", "release": "app"}]}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn include_and_exclude_rules() {
        let m = manifest();
        let rc = RuntimeConfig::from_value(&json!({
            "releases": [{"name": "bosh-dns", "version": "1.0"}],
            "addons": [
                {"name": "dns", "jobs": [{"name": "bosh-dns", "release": "bosh-dns"}],
                 "include": {"stemcell": [{"os": "ubuntu-jammy"}]}, "exclude": {"lifecycle": "errand"}},
                {"name": "other", "jobs": [{"name": "x", "release": "bosh-dns"}],
                 "include": {"deployments": ["elsewhere"]}}
            ]
        }))
        .unwrap();
        let runtime = vec![(1, rc)];
        let web = &m.instance_groups[0];
        let tests = &m.instance_groups[1];
        assert_eq!(
            jobs_for("d", web, &m, &runtime),
            vec![("bosh-dns".to_string(), "bosh-dns".to_string())]
        );
        assert!(jobs_for("d", tests, &m, &runtime).is_empty());
    }
}
