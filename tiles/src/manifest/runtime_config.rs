//! A BOSH runtime config: releases and addons applied to every deployment (bosh-cfcr-pks-odb
//! §1.10). Tiles ship them as `runtime_configs[].runtime_config` text.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{from_value, to_value, Addon, Release, Variable};
use crate::Result;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RuntimeConfig {
    #[serde(default)]
    pub releases: Vec<Release>,
    #[serde(default)]
    pub addons: Vec<Addon>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<Variable>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RuntimeConfig {
    pub fn from_value(value: &Value) -> Result<RuntimeConfig> {
        from_value(value, "runtime_config")
    }

    pub fn to_value(&self) -> Result<Value> {
        to_value(self, "runtime_config")
    }

    /// Problems the Director would refuse: a release without an exact version (`latest` is not
    /// allowed in runtime configs), duplicate release names, an addon job whose release is not
    /// listed. Each finding is `(field, message)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.releases.iter().enumerate() {
            if !seen.insert(r.name.as_str()) {
                out.push((
                    format!("releases[{i}].name"),
                    format!("duplicate release name '{}'", r.name),
                ));
            }
            let v = r.version.as_str().trim();
            if v.is_empty() || v == "latest" || v == "create" {
                out.push((
                    format!("releases[{i}].version"),
                    format!(
                        "release '{}' needs an exact version in a runtime config, not '{v}'",
                        r.name
                    ),
                ));
            }
        }
        for (a, addon) in self.addons.iter().enumerate() {
            for (j, job) in addon.jobs.iter().enumerate() {
                if !self.releases.iter().any(|r| r.name == job.release) {
                    out.push((
                        format!("addons[{a}].jobs[{j}].release"),
                        format!(
                            "addon '{}' job '{}' references release '{}', which is not in releases",
                            addon.name, job.name, job.release
                        ),
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_and_problems() {
        let v = json!({
            "releases": [{"name": "bosh-dns", "version": "1.10.0"}, {"name": "os-conf", "version": "latest"}],
            "addons": [{
                "name": "bosh-dns",
                "jobs": [{"name": "bosh-dns", "release": "bosh-dns", "properties": {"cache": {"enabled": true}}},
                         {"name": "x", "release": "missing"}],
                "include": {"stemcell": [{"os": "ubuntu-xenial"}], "deployments": ["cf"]},
                "exclude": {"lifecycle": "errand"}
            }],
            "tags": {"owner": "platform"}
        });
        let rc = RuntimeConfig::from_value(&v).unwrap();
        assert_eq!(rc.to_value().unwrap(), v);
        let problems = rc.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].0, "releases[1].version");
        assert_eq!(problems[1].0, "addons[0].jobs[1].release");
    }
}
