//! The UI's [`DirectorBackend`](app::backend::director::DirectorBackend): the Director tile's
//! sections over the products service, IaaS secrets redacted.

use std::collections::BTreeMap;

use app::backend::director::{DirectorAz, DirectorNetwork, DirectorPage, DirectorProperties};
use app::backend::{BackendError, SaveOutcome};
use serde_json::{Map, Value};

use super::products::UiBackend;
use crate::products::commands::{
    iaas_named, DirectorPlacement, DirectorPropertiesUpdate, Findings, IaasUpdate,
};
use crate::products::field_changes::Target;
use crate::ui::shown;
use crate::Error;

#[async_trait::async_trait]
impl app::backend::director::DirectorBackend for UiBackend {
    async fn director_page(&self) -> Result<DirectorPage, BackendError> {
        let view = self.products.director().await.map_err(shown)?;
        let properties = self
            .products
            .director_properties(true)
            .await
            .map_err(shown)?;
        let section = |name: &str| -> BTreeMap<String, Value> {
            properties
                .get(name)
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        let vm_types = self.products.vm_types().await.map_err(shown)?;
        let vm_types_builtin = vm_types.iter().all(|v| v.builtin);
        let disk_types = self.products.disk_types().await.map_err(shown)?;
        let cloud_config = match self.products.cloud_config().await {
            Ok(cloud) => Ok(tiles::yaml::to_yaml_string(&cloud)),
            Err(Error::Rejected(findings)) => Err(findings),
            Err(Error::Invalid { field, message }) => Err(BTreeMap::from([(field, vec![message])])),
            Err(other) => return Err(shown(other)),
        };
        let s = &view.settings;
        let resources = director_resources(s, &vm_types);
        let assigned = |key: &str| {
            s.network_assignment
                .as_ref()
                .and_then(|a| a.get(key))
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(DirectorPage {
            guid: view.guid.clone(),
            version: crate::info_version(),
            config_version: view.config_version,
            iaas: serde_json::to_value(s.iaas)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            embedded_available: self.products.embedded_director(),
            iaas_configuration: section("iaas_configuration"),
            director_configuration: section("director_configuration"),
            azs: s.azs.iter().map(ui_az).collect(),
            networks: s
                .networks
                .iter()
                .map(|n| DirectorNetwork {
                    name: n.name.clone(),
                    subnets: n
                        .subnets
                        .iter()
                        .map(|sub| app::backend::director::DirectorSubnet {
                            iaas_identifier: sub.iaas_identifier.clone(),
                            cidr: sub.cidr.clone(),
                            dns: sub.dns.clone(),
                            gateway: sub.gateway.clone(),
                            reserved_ip_ranges: sub.reserved_ip_ranges.clone(),
                            static_ip_ranges: sub.static_ip_ranges.clone(),
                            availability_zone_names: sub.availability_zone_names.clone(),
                        })
                        .collect(),
                })
                .collect(),
            icmp_checks_enabled: s.icmp_checks_enabled,
            network: assigned("network"),
            singleton_az: assigned("singleton_availability_zone"),
            vm_types: vm_types
                .into_iter()
                .map(|v| tiles::cloud_config::VmTypeConfig {
                    name: v.name,
                    cpu: v.cpu,
                    ram: v.ram,
                    ephemeral_disk: v.ephemeral_disk,
                    cloud_properties: v.cloud_properties,
                })
                .collect(),
            vm_types_builtin,
            disk_types,
            disk_types_builtin: s.disk_types.is_empty(),
            problems: s.problems(),
            cloud_config,
            security_configuration: section("security_configuration"),
            syslog_configuration: section("syslog_configuration"),
            resources,
        })
    }

    async fn save_director_properties(
        &self,
        actor: &str,
        config_version: i64,
        properties: DirectorProperties,
    ) -> Result<SaveOutcome, BackendError> {
        let mut refused = Findings::new();
        let iaas = properties.iaas_configuration.map(|mut fields| {
            // The page names the IaaS it shows.
            let named = fields.shift_remove("iaas");
            let iaas = named.and_then(|name| {
                iaas_named(name.as_str().unwrap_or_default())
                    .map_err(|message| {
                        refused
                            .entry("iaas_configuration.iaas".into())
                            .or_default()
                            .push(message)
                    })
                    .ok()
            });
            IaasUpdate { iaas, fields }
        });
        let update = DirectorPropertiesUpdate {
            iaas,
            director: properties.director_configuration,
            other: Vec::new(),
        };
        let result = self
            .products
            .set_director_properties(&update, &refused, Some(config_version), actor)
            .await;
        let sections = update.sections();
        let sections: Vec<&str> = sections.iter().map(String::as_str).collect();
        self.explained(Target::Director, &sections, result).await
    }

    async fn save_director_azs(
        &self,
        actor: &str,
        config_version: i64,
        azs: Vec<DirectorAz>,
    ) -> Result<SaveOutcome, BackendError> {
        let specs = azs.into_iter().map(az_spec).collect();
        let result = self
            .products
            .set_availability_zones(specs, Some(config_version), actor)
            .await;
        self.explained(Target::Director, &["availability_zones"], result)
            .await
    }

    async fn save_director_networks(
        &self,
        actor: &str,
        config_version: i64,
        networks: Vec<DirectorNetwork>,
        icmp_checks_enabled: bool,
    ) -> Result<SaveOutcome, BackendError> {
        let specs = networks
            .into_iter()
            .map(|n| NetworkSpec {
                guid: String::new(),
                name: n.name.trim().to_string(),
                subnets: n
                    .subnets
                    .into_iter()
                    .map(|sub| SubnetSpec {
                        iaas_identifier: sub.iaas_identifier.trim().to_string(),
                        cidr: sub.cidr.trim().to_string(),
                        dns: sub.dns,
                        gateway: sub.gateway.trim().to_string(),
                        reserved_ip_ranges: sub.reserved_ip_ranges,
                        static_ip_ranges: sub.static_ip_ranges,
                        availability_zone_names: sub.availability_zone_names,
                    })
                    .collect(),
            })
            .collect();
        let result = self
            .products
            .set_director_networks(
                specs,
                Some(icmp_checks_enabled),
                Some(config_version),
                actor,
            )
            .await;
        self.explained(
            Target::Director,
            &["networks", "icmp_checks_enabled"],
            result,
        )
        .await
    }

    async fn save_director_network_and_az(
        &self,
        actor: &str,
        config_version: i64,
        network: String,
        singleton_az: String,
    ) -> Result<SaveOutcome, BackendError> {
        let chosen = |name: &str| Some(name.trim().to_owned()).filter(|n| !n.is_empty());
        let placement = DirectorPlacement {
            network: chosen(&network),
            singleton_az: chosen(&singleton_az),
        };
        let result = self
            .products
            .set_director_network_and_az(&placement, Some(config_version), actor)
            .await;
        self.explained(Target::Director, &["network_and_az"], result)
            .await
    }

    async fn save_director_vm_types(
        &self,
        actor: &str,
        config_version: i64,
        vm_types: Option<Vec<tiles::cloud_config::VmTypeConfig>>,
    ) -> Result<SaveOutcome, BackendError> {
        let result = match vm_types {
            None => {
                self.products
                    .reset_vm_types(Some(config_version), actor)
                    .await
            }
            Some(list) => {
                let entries = list
                    .into_iter()
                    .map(|v| VmTypeEntry {
                        name: v.name.trim().to_string(),
                        cpu: v.cpu,
                        ram: v.ram,
                        ephemeral_disk: v.ephemeral_disk,
                        builtin: false,
                        cloud_properties: v.cloud_properties,
                    })
                    .collect();
                self.products
                    .set_vm_types(entries, Some(config_version), actor)
                    .await
            }
        };
        self.explained(Target::Director, &["vm_types"], result)
            .await
    }

    async fn save_director_disk_types(
        &self,
        actor: &str,
        config_version: i64,
        disk_types: Vec<tiles::cloud_config::DiskTypeConfig>,
    ) -> Result<SaveOutcome, BackendError> {
        let result = self
            .products
            .set_disk_types(disk_types, Some(config_version), actor)
            .await;
        self.explained(Target::Director, &["disk_types"], result)
            .await
    }
}

use crate::products::director::{AzSpec, NetworkSpec, SubnetSpec, VmTypeEntry};

/// The Resource Config section's rows: each Director job as saved, and what automatic means
/// for it (the VM type with its CPU, RAM and disk; the disk size).
fn director_resources(
    s: &crate::products::director::DirectorSettings,
    vm_types: &[VmTypeEntry],
) -> Vec<app::backend::director::DirectorJobResources> {
    use crate::products::director_manifest::AUTOMATIC_DISK_MB;
    use app::pages::director::resources::size_text;
    let describe = |name: &str| {
        vm_types
            .iter()
            .find(|v| v.name == name)
            .map(|v| {
                format!(
                    "{} ({} CPU, {} RAM, {} disk)",
                    v.name,
                    v.cpu,
                    size_text(u64::from(v.ram)),
                    size_text(u64::from(v.ephemeral_disk))
                )
            })
            .unwrap_or_else(|| name.to_owned())
    };
    let text = |v: Option<&Value>| match v {
        None | Some(Value::Null) => "automatic".to_owned(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => other.to_string(),
    };
    let automatic_director = crate::products::director_manifest::director_resources(
        &crate::products::director::DirectorSettings::default(),
        vm_types,
    )
    .0;
    let compilation = tiles::cloud_config::CompilationConfig::default();
    crate::products::director::DIRECTOR_JOBS
        .iter()
        .map(|job| {
            let rc = s.resources.get(*job).cloned().unwrap_or_default();
            let director = *job == "director";
            app::backend::director::DirectorJobResources {
                job: (*job).to_owned(),
                instances: text(rc.instances.as_ref()),
                instance_type: rc
                    .instance_type
                    .clone()
                    .unwrap_or_else(|| "automatic".into()),
                persistent_disk_mb: director.then(|| text(rc.persistent_disk_mb.as_ref())),
                automatic_vm: if director {
                    describe(&automatic_director)
                } else {
                    describe(&compilation.vm_type)
                },
                automatic_instances: if director {
                    "1".into()
                } else {
                    compilation.workers.to_string()
                },
                automatic_disk: if director {
                    size_text(AUTOMATIC_DISK_MB as u64)
                } else {
                    String::new()
                },
            }
        })
        .collect()
}

/// A Director save's result as the UI shows it: rejected fields (service keys, mapped to the
/// page's fields by the browser), or a stale version with what the saves in between changed.
pub(crate) fn director_outcome(
    config_version: i64,
    result: crate::Result<crate::products::Saved>,
) -> Result<SaveOutcome, BackendError> {
    match result {
        Ok(saved) => Ok(SaveOutcome::Saved {
            config_version: saved.config_version,
        }),
        Err(Error::Rejected(errors)) => Ok(SaveOutcome::Invalid { errors }),
        Err(Error::Invalid { field, message }) => Ok(SaveOutcome::Invalid {
            errors: BTreeMap::from([(field, vec![message])]),
        }),
        Err(Error::Stale {
            current, changed, ..
        }) => {
            let what = if changed.is_empty() {
                String::new()
            } else {
                format!(" Changed: {}.", changed.join(", "))
            };
            Ok(SaveOutcome::Conflict {
                message: format!(
                    "the BOSH Director was saved by someone else since version {config_version} \
                     (now version {current}).{what}"
                ),
                current_version: current,
                changes: Vec::new(),
            })
        }
        Err(other) => Err(shown(other)),
    }
}

/// An AZ as the page edits it: the IaaS identifier and vSphere clusters lifted out of the
/// API's free-form fields, everything else kept aside.
fn ui_az(az: &AzSpec) -> DirectorAz {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let clusters = az
        .fields
        .get("clusters")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| app::backend::director::AzCluster {
                    cluster: text(c.get("cluster")),
                    resource_pool: text(c.get("resource_pool")),
                })
                .collect()
        })
        .unwrap_or_default();
    DirectorAz {
        name: az.name.clone(),
        iaas_identifier: text(az.fields.get("iaas_identifier")),
        clusters,
        other: az
            .fields
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "iaas_identifier" | "clusters"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// The API shape of an AZ from the page's: blank identifiers and clusters are left out.
fn az_spec(az: DirectorAz) -> AzSpec {
    let mut fields: Map<String, Value> = az.other.into_iter().collect();
    let identifier = az.iaas_identifier.trim();
    if !identifier.is_empty() {
        fields.insert("iaas_identifier".into(), Value::String(identifier.into()));
    }
    let clusters: Vec<Value> = az
        .clusters
        .iter()
        .filter(|c| !c.cluster.trim().is_empty())
        .map(|c| {
            let mut m = Map::new();
            m.insert("cluster".into(), Value::String(c.cluster.trim().into()));
            if !c.resource_pool.trim().is_empty() {
                m.insert(
                    "resource_pool".into(),
                    Value::String(c.resource_pool.trim().into()),
                );
            }
            Value::Object(m)
        })
        .collect();
    if !clusters.is_empty() {
        fields.insert("clusters".into(), Value::Array(clusters));
    }
    AzSpec {
        guid: String::new(),
        name: az.name.trim().to_string(),
        fields,
    }
}
