//! The service adapter's inputs and outputs, shaped like the On-Demand Services SDK's JSON.
//!
//! ODB hands the adapter JSON documents whose field names are fixed by the SDK
//! (`serviceadapter/domain.go`); keeping the same names here means the broker can deserialize
//! what it stored and pass it straight through. Unknown fields are tolerated, because newer
//! brokers add fields that an older adapter must not choke on.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What the broker deploys with: the exact releases (each listing the jobs it provides) and
/// stemcells, and the name of the deployment (`service-instance_<instance id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDeployment {
    pub deployment_name: String,
    #[serde(default)]
    pub releases: Vec<ServiceRelease>,
    #[serde(default)]
    pub stemcells: Vec<Stemcell>,
}

/// One release of the service deployment. `jobs` names the BOSH jobs this release provides; the
/// adapter finds the release of each job it places by searching these lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRelease {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub jobs: Vec<String>,
}

/// A stemcell of the service deployment (SDK field names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stemcell {
    pub stemcell_os: String,
    pub stemcell_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stemcell_name: Option<String>,
}

/// A plan of the service catalog as the broker passes it to the adapter.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Plan {
    #[serde(default)]
    pub instance_groups: Vec<InstanceGroup>,
    /// Operator-defined plan properties, with the catalog's `global_properties` already merged in
    /// by the broker (the plan wins).
    #[serde(default)]
    pub properties: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_errands: Option<LifecycleErrands>,
}

impl Plan {
    /// The plan's instance group of that name, if it has one.
    pub fn instance_group(&self, name: &str) -> Option<&InstanceGroup> {
        self.instance_groups.iter().find(|g| g.name == name)
    }
}

/// A plan's instance group: where and on what the group's VMs run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InstanceGroup {
    pub name: String,
    pub vm_type: String,
    #[serde(default)]
    pub vm_extensions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_disk_type: Option<String>,
    pub instances: u64,
    #[serde(default)]
    pub networks: Vec<String>,
    #[serde(default)]
    pub azs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
}

/// The update block of a plan. Watch times and `max_in_flight` keep their JSON form (an integer
/// or a string such as `"10%"` / `"1000-30000"`) because BOSH accepts both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    #[serde(default = "one")]
    pub canaries: Value,
    pub max_in_flight: Value,
    pub canary_watch_time: Value,
    pub update_watch_time: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<bool>,
}

fn one() -> Value {
    Value::from(1)
}

impl Default for Update {
    /// The update block CFCR ships with, used when a plan has none (the adapter must always emit
    /// one).
    fn default() -> Self {
        Update {
            canaries: Value::from(1),
            max_in_flight: Value::from(1),
            canary_watch_time: Value::from("10000-300000"),
            update_watch_time: Value::from("10000-300000"),
            serial: None,
        }
    }
}

/// Errands the broker runs after create/update (`post_deploy`) and before delete (`pre_delete`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LifecycleErrands {
    #[serde(default)]
    pub post_deploy: Vec<Errand>,
    #[serde(default)]
    pub pre_delete: Vec<Errand>,
}

/// One lifecycle errand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Errand {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<String>,
}

/// Everything `generate-manifest` is given.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateManifestInput {
    pub service_deployment: ServiceDeployment,
    pub plan: Plan,
    /// The OSB request body as ODB passes it (`{service_id, plan_id, parameters, context, ...}`);
    /// `Value::Null` on upgrades. The cluster parameters are its `parameters` member.
    pub request_parameters: Value,
    /// The manifest currently deployed (YAML text), `None` or empty on create.
    pub previous_manifest: Option<String>,
    pub previous_plan: Option<Plan>,
}

/// What `generate-manifest` answers.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateManifestOutput {
    /// The BOSH manifest as YAML text, byte-for-byte stable for the same input.
    pub manifest: String,
    /// The same manifest as a value tree, for callers that inspect or diff it.
    pub manifest_value: Value,
    /// BOSH configs for the broker to apply, by type (the PKS adapter needs none).
    pub configs: Map<String, Value>,
    /// Plan settings the manifest does not carry because the named release versions have no
    /// property for them, each a sentence naming the setting (the broker logs them).
    pub warnings: Vec<String>,
}
