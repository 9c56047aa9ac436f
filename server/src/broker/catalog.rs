//! What the deployed PKS tile tells the broker: its basic-auth credentials, its service catalog
//! and the releases and stemcell clusters deploy with — the `broker` job of the deployed PKS
//! manifest (bosh-cfcr-pks-odb.md §4.5), never the staged configuration.
//!
//! The catalog entries are typed here as ODB's configuration has them (`service_catalog`,
//! `plans[]`, `quotas`, `global_quotas`, `maintenance_info`); [`BrokerConfig::osb_catalog`]
//! turns them into the OSB `GET /v2/catalog` answer and [`CatalogPlan::adapter_plan`] into the
//! plan the service adapter (`tiles::odb`) is given, with the catalog's `global_properties`
//! merged in (the plan wins), as ODB does.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use tiles::odb;

use crate::{Error, Result};

/// The product whose deployment carries the broker.
pub const PKS_PRODUCT: &str = "pivotal-container-service";
/// The reference of the broker's basic-auth credentials in the PKS tile.
pub const BROKER_CREDENTIALS: &str = ".properties.odb_broker_basicauth";
/// ODB's deployment name prefix (`InstancePrefix`).
pub const INSTANCE_PREFIX: &str = "service-instance_";

/// The deployed broker, as one deployed PKS snapshot describes it.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub username: String,
    pub password: String,
    pub catalog: ServiceCatalog,
    pub releases: Vec<odb::ServiceRelease>,
    pub stemcells: Vec<odb::Stemcell>,
}

/// `service_catalog` of the broker job.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceCatalog {
    pub id: String,
    pub service_name: String,
    #[serde(default)]
    pub service_description: String,
    #[serde(default)]
    pub bindable: bool,
    #[serde(default)]
    pub plan_updatable: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub dashboard_client: Option<Value>,
    #[serde(default)]
    pub global_properties: Map<String, Value>,
    #[serde(default)]
    pub global_quotas: Option<Quotas>,
    #[serde(default)]
    pub maintenance_info: Option<MaintenanceInfo>,
    #[serde(default)]
    pub plans: Vec<CatalogPlan>,
}

/// `quotas` / `global_quotas`: `service_instance_limit` (absent or null: no limit).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Quotas {
    #[serde(default)]
    pub service_instance_limit: Option<i64>,
}

/// `maintenance_info`: what the platform compares to decide whether an instance is up to date.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MaintenanceInfo {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub public: Option<Map<String, Value>>,
}

/// One plan of the catalog.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogPlan {
    pub plan_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub free: Option<bool>,
    #[serde(default)]
    pub bindable: Option<bool>,
    #[serde(default)]
    pub plan_updatable: Option<bool>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub quotas: Option<Quotas>,
    #[serde(default)]
    pub maintenance_info: Option<MaintenanceInfo>,
    #[serde(default)]
    pub instance_groups: Vec<odb::InstanceGroup>,
    #[serde(default)]
    pub properties: Map<String, Value>,
    #[serde(default)]
    pub update: Option<odb::Update>,
    #[serde(default)]
    pub lifecycle_errands: Option<odb::LifecycleErrands>,
}

impl ServiceCatalog {
    pub fn plan(&self, plan_id: &str) -> Option<&CatalogPlan> {
        self.plans.iter().find(|p| p.plan_id == plan_id)
    }

    /// Whether instances may move to `plan` from another plan.
    pub fn plan_updatable(&self, plan: &CatalogPlan) -> bool {
        plan.plan_updatable.unwrap_or(self.plan_updatable)
    }

    /// The global instance limit, if any.
    pub fn global_limit(&self) -> Option<i64> {
        self.global_quotas
            .as_ref()
            .and_then(|q| q.service_instance_limit)
    }

    /// A plan's `maintenance_info`: the plan's own fields over the catalog's (ODB merges them).
    pub fn maintenance_info(&self, plan: &CatalogPlan) -> Option<MaintenanceInfo> {
        match (&self.maintenance_info, &plan.maintenance_info) {
            (None, None) => None,
            (global, own) => {
                let global = global.clone().unwrap_or_default();
                let own = own.clone().unwrap_or_default();
                let public = match (global.public, own.public) {
                    (None, None) => None,
                    (g, o) => {
                        let mut merged = g.unwrap_or_default();
                        merged.extend(o.unwrap_or_default());
                        Some(merged)
                    }
                };
                Some(MaintenanceInfo {
                    version: own.version.or(global.version),
                    description: own.description.or(global.description),
                    public,
                })
            }
        }
    }

    /// The plan the service adapter gets: the catalog plan with `global_properties` merged
    /// into its properties (the plan wins).
    pub fn adapter_plan(&self, plan: &CatalogPlan) -> odb::Plan {
        let mut properties = self.global_properties.clone();
        properties.extend(plan.properties.clone());
        odb::Plan {
            instance_groups: plan.instance_groups.clone(),
            properties,
            update: plan.update.clone(),
            lifecycle_errands: plan.lifecycle_errands.clone(),
        }
    }
}

impl CatalogPlan {
    pub fn limit(&self) -> Option<i64> {
        self.quotas.as_ref().and_then(|q| q.service_instance_limit)
    }
}

impl MaintenanceInfo {
    /// The OSB form: `version`, `description` and the public fields (private ones never leave).
    pub fn osb(&self) -> Value {
        let mut out = self.public.clone().unwrap_or_default();
        let mut obj = Map::new();
        if !out.is_empty() {
            obj.insert("public".into(), Value::Object(std::mem::take(&mut out)));
        }
        if let Some(v) = &self.version {
            obj.insert("version".into(), Value::from(v.as_str()));
        }
        if let Some(d) = &self.description {
            obj.insert("description".into(), Value::from(d.as_str()));
        }
        Value::Object(obj)
    }
}

impl BrokerConfig {
    /// Reads the broker job out of the deployed PKS manifest (credentials as placeholders
    /// there; the values come from the deployed snapshot's settings, passed in).
    pub fn from_manifest(manifest: &Value, username: String, password: String) -> Result<Self> {
        let job = manifest
            .get("instance_groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|g| g.get("jobs").and_then(Value::as_array))
            .flatten()
            .find(|j| {
                j.get("name").and_then(Value::as_str) == Some("broker")
                    && j.get("release").and_then(Value::as_str) == Some("on-demand-service-broker")
            })
            .ok_or_else(|| {
                Error::Internal("the deployed PKS manifest has no on-demand broker job".into())
            })?;
        let properties = job.get("properties").cloned().unwrap_or(Value::Null);
        let catalog: ServiceCatalog = serde_json::from_value(
            properties
                .get("service_catalog")
                .cloned()
                .unwrap_or(Value::Null),
        )
        .map_err(|e| Error::Internal(format!("the deployed broker's service_catalog: {e}")))?;
        let deployment = properties
            .get("service_deployment")
            .cloned()
            .unwrap_or(Value::Null);
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let releases = deployment
            .get("releases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| odb::ServiceRelease {
                name: text(r.get("name")),
                version: text(r.get("version")),
                jobs: r
                    .get("jobs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|j| j.as_str().map(str::to_owned))
                    .collect(),
            })
            .collect();
        let mut stemcell_entries: Vec<Value> = deployment
            .get("stemcells")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(single) = deployment.get("stemcell") {
            stemcell_entries.push(single.clone());
        }
        let stemcells = stemcell_entries
            .iter()
            .map(|s| odb::Stemcell {
                stemcell_os: text(s.get("os")),
                stemcell_version: text(s.get("version")),
                stemcell_name: None,
            })
            .collect();
        Ok(BrokerConfig {
            username,
            password,
            catalog,
            releases,
            stemcells,
        })
    }

    /// What `service-instance_<id>` deploys with.
    pub fn service_deployment(&self, instance_id: &str) -> odb::ServiceDeployment {
        odb::ServiceDeployment {
            deployment_name: format!("{INSTANCE_PREFIX}{instance_id}"),
            releases: self.releases.clone(),
            stemcells: self.stemcells.clone(),
        }
    }

    /// `GET /v2/catalog`: the one service with its plans, each with its schemas
    /// (`tiles::odb::plan_schemas`) and `maintenance_info`.
    pub fn osb_catalog(&self) -> Result<Value> {
        let c = &self.catalog;
        let mut plans = Vec::new();
        for p in &c.plans {
            let schemas = odb::plan_schemas(&c.adapter_plan(p))
                .map_err(|e| Error::Internal(format!("the schemas of plan {}: {e}", p.name)))?;
            let mut plan = json!({
                "id": p.plan_id,
                "name": p.name,
                "description": p.description,
                "free": p.free.unwrap_or(true),
                "schemas": schemas,
            });
            if let Some(b) = p.bindable {
                plan["bindable"] = Value::Bool(b);
            }
            if let Some(u) = p.plan_updatable {
                plan["plan_updateable"] = Value::Bool(u);
            }
            if let Some(m) = &p.metadata {
                plan["metadata"] = m.clone();
            }
            if let Some(mi) = c.maintenance_info(p) {
                plan["maintenance_info"] = mi.osb();
            }
            plans.push(plan);
        }
        let mut service = json!({
            "id": c.id,
            "name": c.service_name,
            "description": c.service_description,
            "bindable": c.bindable,
            "plan_updateable": c.plan_updatable,
            "tags": c.tags,
            "requires": c.requires,
            "plans": plans,
        });
        if let Some(m) = &c.metadata {
            service["metadata"] = m.clone();
        }
        if let Some(d) = &c.dashboard_client {
            service["dashboard_client"] = d.clone();
        }
        Ok(json!({ "services": [service] }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Value {
        json!({"instance_groups": [{"name": "pks", "jobs": [{
            "name": "broker", "release": "on-demand-service-broker",
            "properties": {
                "service_deployment": {
                    "releases": [{"name": "kubo", "version": "0.18.0", "jobs": ["kubelet"]}],
                    "stemcells": [{"os": "ubuntu-xenial", "version": 97.17}],
                },
                "service_catalog": {
                    "id": "svc", "service_name": "p.pks", "plan_updatable": true,
                    "global_properties": {"cni": "flannel", "x": 1},
                    "global_quotas": {"service_instance_limit": null},
                    "maintenance_info": {"version": "1.1.3", "public": {"k8s": "1.10"}},
                    "plans": [{
                        "plan_id": "p1", "name": "small",
                        "quotas": {"service_instance_limit": 2},
                        "maintenance_info": {"public": {"size": "s"}},
                        "properties": {"x": 2},
                        "instance_groups": [],
                    }],
                },
            },
        }]}]})
    }

    #[test]
    fn reads_the_broker_job() {
        let c = BrokerConfig::from_manifest(&manifest(), "u".into(), "p".into()).unwrap();
        assert_eq!(c.stemcells[0].stemcell_version, "97.17");
        assert_eq!(c.releases[0].jobs, ["kubelet"]);
        assert_eq!(c.catalog.global_limit(), None);
        let plan = c.catalog.plan("p1").unwrap();
        assert_eq!(plan.limit(), Some(2));
        let adapter = c.catalog.adapter_plan(plan);
        assert_eq!(adapter.properties["x"], 2, "the plan wins");
        assert_eq!(adapter.properties["cni"], "flannel");
        let osb = c.osb_catalog().unwrap();
        let p = &osb["services"][0]["plans"][0];
        assert_eq!(p["maintenance_info"]["version"], "1.1.3");
        assert_eq!(p["maintenance_info"]["public"]["k8s"], "1.10");
        assert_eq!(p["maintenance_info"]["public"]["size"], "s");
        assert!(p["schemas"]["service_instance"]["create"]["parameters"].is_object());
        assert_eq!(osb["services"][0]["plan_updateable"], true);
    }

    #[test]
    fn a_manifest_without_a_broker_is_an_error() {
        assert!(BrokerConfig::from_manifest(&json!({}), "u".into(), "p".into()).is_err());
    }
}
