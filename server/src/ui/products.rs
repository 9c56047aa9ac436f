//! The UI's [`Backend`](app::backend::Backend): the products service, seen through the plain
//! types the browser receives. Credentials leave here redacted; everything else is the same data
//! the Ops Manager API serves.

use std::collections::{BTreeMap, BTreeSet};

use app::backend::{
    AvailableProduct, BackendError, Dashboard, ProductSettings, SaveOutcome, TileSummary,
};
use serde_json::{json, Map, Value};
use tiles::metadata::{BlueprintKind, ProductTemplate};
use tiles::properties::types;
use tiles::validate::{validate_form, ValidationContext, VmType};

use crate::products::field_changes::Target;
use crate::products::{Products, TileState};
use crate::ui::shown;
use crate::Error;

pub struct UiBackend {
    products: Products,
}

impl UiBackend {
    pub fn new(products: Products) -> Self {
        UiBackend { products }
    }

    /// A save's outcome; when refused as stale, with what the saves in between changed within
    /// `scope` (the sections the page edits), per field.
    async fn explained(
        &self,
        target: Target<'_>,
        scope: &[&str],
        result: crate::Result<crate::products::Saved>,
    ) -> Result<SaveOutcome, BackendError> {
        let since = match &result {
            Err(Error::Stale { expected, .. }) => Some(*expected),
            _ => None,
        };
        let mut answer = match target {
            Target::Director => director_outcome(since.unwrap_or_default(), result)?,
            Target::Product(_) => outcome(result)?,
        };
        if let (Some(since), SaveOutcome::Conflict { changes, .. }) = (since, &mut answer) {
            let scope: Vec<String> = scope.iter().map(|s| s.to_string()).collect();
            *changes = self
                .products
                .stale_changes(target, since, &scope)
                .await
                .map_err(shown)?
                .into_iter()
                .map(ui_change)
                .collect();
        }
        Ok(answer)
    }
}

/// A change as the browser receives it (credential values are already `***`).
pub(crate) fn ui_change(
    c: crate::products::field_changes::FieldChange,
) -> app::backend::FieldChange {
    app::backend::FieldChange {
        reference: c.reference,
        changed_by: c.changed_by,
        value: c.value,
        credential: c.credential,
        previous: c.previous,
        started_from: c.started_from,
    }
}

/// The Director's VM types as in-browser validation sees them (`vm_type_dropdown` checks).
pub(crate) async fn vm_type_catalogue(products: &Products) -> Result<Vec<VmType>, BackendError> {
    Ok(products
        .vm_types()
        .await
        .map_err(shown)?
        .into_iter()
        .map(|v| VmType {
            name: v.name,
            ram: i64::from(v.ram),
            cpu: i64::from(v.cpu),
            ephemeral_disk: i64::from(v.ephemeral_disk),
        })
        .collect())
}

/// Per form of the tile, whether its staged values are complete and valid: the marks of the
/// settings page's left navigation.
pub(crate) fn forms_complete(
    template: &ProductTemplate,
    staged: &tiles::properties::StagedValues,
    vm_types: &[VmType],
) -> BTreeMap<String, bool> {
    let ctx = ValidationContext {
        vm_types,
        ..ValidationContext::default()
    };
    template
        .form_types
        .iter()
        .map(|form| {
            let valid = validate_form(template, &form.name, staged, &ctx).is_valid();
            (form.name.clone(), valid)
        })
        .collect()
}

fn reasons(state: &TileState) -> Vec<String> {
    match state {
        TileState::Deployable => Vec::new(),
        TileState::Incomplete { reasons } | TileState::Invalid { reasons } => reasons
            .iter()
            .flat_map(|(k, v)| v.iter().map(move |m| format!("{k}: {m}")))
            .collect(),
    }
}

#[async_trait::async_trait]
impl app::backend::Backend for UiBackend {
    async fn dashboard(&self) -> Result<Dashboard, BackendError> {
        let staged = self.products.staged_products().await.map_err(shown)?;
        let available = self.products.available().await.map_err(shown)?;
        let mut tiles = staged.into_iter().map(|s| {
            (
                s.is_director,
                TileSummary {
                    incomplete_reasons: reasons(&s.state),
                    guid: s.guid,
                    name: s.name,
                    label: s.label,
                    version: s.product_version,
                },
            )
        });
        let director = tiles
            .by_ref()
            .find(|(is_director, _)| *is_director)
            .map(|(_, t)| t)
            .ok_or_else(|| BackendError("the Director tile is missing".into()))?;
        Ok(Dashboard {
            director,
            staged: tiles.filter(|(d, _)| !d).map(|(_, t)| t).collect(),
            available: available
                .into_iter()
                .map(|a| AvailableProduct {
                    name: a.name,
                    label: a.label,
                    version: a.product_version,
                    staged: a.staged,
                })
                .collect(),
        })
    }

    async fn stage_product(
        &self,
        actor: &str,
        name: &str,
        version: &str,
    ) -> Result<String, BackendError> {
        // Staging another version of a product already on the dashboard is an upgrade that
        // keeps its configuration (Ops Manager's + on a newer version does the same).
        let current = self
            .products
            .staged_products()
            .await
            .map_err(shown)?
            .into_iter()
            .find(|s| !s.is_director && s.name == name);
        if let Some(current) = current {
            if current.product_version != version {
                self.products
                    .upgrade(&current.guid, version, None, actor)
                    .await
                    .map_err(shown)?;
                return Ok(current.guid);
            }
        }
        let staged = self
            .products
            .stage(name, version, actor)
            .await
            .map_err(shown)?;
        Ok(staged.guid)
    }

    async fn unstage_product(&self, actor: &str, guid: &str) -> Result<(), BackendError> {
        self.products.unstage(guid, actor).await.map_err(shown)
    }

    async fn delete_available_product(
        &self,
        _actor: &str,
        name: &str,
        version: &str,
    ) -> Result<(), BackendError> {
        self.products
            .delete_available(name, version)
            .await
            .map_err(shown)
    }

    async fn product_settings(
        &self,
        guid: &str,
        form: Option<&str>,
        section: bool,
    ) -> Result<ProductSettings, BackendError> {
        if self.products.is_director(guid).await.map_err(shown)? {
            return Err(BackendError(
                "the BOSH Director is configured on its own page".into(),
            ));
        }
        let product = self.products.staged_product(guid).await.map_err(shown)?;
        // The form shown: the one asked for, else the first (as the page's navigation does);
        // the placement sections read no property metadata at all.
        let form = if section {
            None
        } else {
            form.and_then(|name| product.template.form_type(name))
                .or_else(|| product.template.form_types.first())
                .map(|f| f.name.clone())
        };
        let template = tiles::form_template::for_form(&product.template, form.as_deref());
        let vm_types = vm_type_catalogue(&self.products).await?;
        let disk_types = self
            .products
            .disk_types()
            .await
            .map_err(shown)?
            .into_iter()
            // A disk type is chosen by its name, or by its size in MB when it has none (the
            // default catalogue's are all unnamed), as the property value stores it.
            .map(|d| d.name.unwrap_or_else(|| d.disk_size.to_string()))
            .collect();
        let director = self.products.director().await.map_err(shown)?;
        let availability_zones = director
            .settings
            .azs
            .iter()
            .map(|az| az.name.clone())
            .collect();

        // The form shows what would be deployed: staged values, and defaults where nothing is
        // staged yet.
        // Only the form's properties: the cut template holds exactly the blueprints it shows.
        let mut staged = product.settings.staged.clone();
        tiles::properties::defaults::apply_defaults(&product.template, &mut staged, &[]);
        let shown: BTreeSet<String> = template
            .property_refs()
            .into_iter()
            .map(|p| p.reference)
            .collect();
        staged
            .properties
            .retain(|reference, _| shown.contains(reference));
        let form_complete = forms_complete(&product.template, &product.settings.staged, &vm_types);
        let values = redacted_values(&product.template, &staged.properties);
        Ok(ProductSettings {
            guid: product.guid.clone(),
            label: product.label.clone(),
            product_version: product.version.clone(),
            config_version: product.config_version,
            form,
            template,
            values,
            vm_types,
            disk_types,
            availability_zones,
            form_complete,
        })
    }

    // Director tile

    async fn director_page(&self) -> Result<app::backend::DirectorPage, BackendError> {
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
        let assigned = |key: &str| {
            s.network_assignment
                .as_ref()
                .and_then(|a| a.get(key))
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(app::backend::DirectorPage {
            guid: view.guid.clone(),
            version: crate::info_version(),
            config_version: view.config_version,
            iaas: serde_json::to_value(s.iaas)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            iaas_configuration: section("iaas_configuration"),
            director_configuration: section("director_configuration"),
            azs: s.azs.iter().map(ui_az).collect(),
            networks: s
                .networks
                .iter()
                .map(|n| app::backend::DirectorNetwork {
                    name: n.name.clone(),
                    subnets: n
                        .subnets
                        .iter()
                        .map(|sub| app::backend::DirectorSubnet {
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
        })
    }

    async fn save_director_properties(
        &self,
        actor: &str,
        config_version: i64,
        body: Value,
    ) -> Result<SaveOutcome, BackendError> {
        let sections: Vec<String> = body
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let sections: Vec<&str> = sections.iter().map(String::as_str).collect();
        let result = self
            .products
            .set_director_properties(&body, Some(config_version), actor)
            .await;
        self.explained(Target::Director, &sections, result).await
    }

    async fn save_director_azs(
        &self,
        actor: &str,
        config_version: i64,
        azs: Vec<app::backend::DirectorAz>,
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
        networks: Vec<app::backend::DirectorNetwork>,
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
        let mut value = Map::new();
        if !network.trim().is_empty() {
            value.insert("network".into(), json!({ "name": network.trim() }));
        }
        if !singleton_az.trim().is_empty() {
            value.insert(
                "singleton_availability_zone".into(),
                json!({ "name": singleton_az.trim() }),
            );
        }
        let result = self
            .products
            .set_director_network_and_az(Value::Object(value), Some(config_version), actor)
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

/// Staged values with every credential field masked, collections' records included.
fn redacted_values(
    template: &ProductTemplate,
    properties: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    properties
        .iter()
        .map(|(reference, value)| {
            let Some(found) = template.property(reference) else {
                // Not in the metadata (left over from an older version): not shown at all is
                // safest, but the value may be harmless text — mask it anyway.
                return (
                    reference.clone(),
                    Value::String(app::backend::REDACTED.into()),
                );
            };
            let blueprint = found.blueprint;
            let masked = match &blueprint.kind {
                BlueprintKind::Collection {
                    property_blueprints,
                    ..
                } => match value {
                    Value::Array(records) => Value::Array(
                        records
                            .iter()
                            .map(|record| match record {
                                Value::Object(fields) => Value::Object(
                                    fields
                                        .iter()
                                        .map(|(name, field)| {
                                            let masked = property_blueprints
                                                .iter()
                                                .find(|b| &b.name == name)
                                                .map(|b| {
                                                    types::redact(b.property_type.as_str(), field)
                                                })
                                                .unwrap_or_else(|| field.clone());
                                            (name.clone(), masked)
                                        })
                                        .collect(),
                                ),
                                other => other.clone(),
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                },
                _ => types::redact(blueprint.property_type.as_str(), value),
            };
            (reference.clone(), masked)
        })
        .collect()
}

// Assign AZs and Networks, Resource Config, Errands

fn named(value: Option<&Value>) -> Option<String> {
    value
        .and_then(|v| v.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub(crate) fn outcome(
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
        Err(stale @ Error::Stale { .. }) => {
            let current_version = match &stale {
                Error::Stale { current, .. } => *current,
                _ => 0,
            };
            Ok(SaveOutcome::Conflict {
                message: format!("{stale}."),
                current_version,
                changes: Vec::new(),
            })
        }
        Err(other) => Err(shown(other)),
    }
}

#[async_trait::async_trait]
impl app::backend::PlacementBackend for UiBackend {
    async fn product_placement(
        &self,
        guid: &str,
    ) -> Result<app::backend::ProductPlacement, BackendError> {
        let product = self.products.staged_product(guid).await.map_err(shown)?;
        let director = self.products.director().await.map_err(shown)?.settings;
        let vm_types = self.products.vm_types().await.map_err(shown)?;
        let disk_types = self.products.disk_types().await.map_err(shown)?;
        let placement = product
            .settings
            .networks_and_azs
            .clone()
            .unwrap_or(Value::Null);
        let template = &product.template;
        let jobs = template
            .job_types
            .iter()
            .filter(|j| !j.errand)
            .filter_map(|job| {
                let guid = product.job_guid(&job.name)?.to_owned();
                let staged = product.settings.staged.resource(&job.name);
                let disk = job.resource_definition("persistent_disk");
                Some(app::backend::JobResources {
                    job: job.name.clone(),
                    guid,
                    label: job
                        .resource_label
                        .clone()
                        .or_else(|| job.label.clone())
                        .unwrap_or_else(|| job.name.clone()),
                    instances: staged.and_then(|r| r.instances.clone()),
                    instances_default: job.instance_definition.as_ref().and_then(|d| d.default),
                    vm_type: staged.and_then(|r| r.instance_type.clone()),
                    vm_type_default: None,
                    persistent_disk: staged.and_then(|r| r.persistent_disk_mb.clone()).map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string())
                    }),
                    persistent_disk_default: disk.and_then(|d| d.default).map(|mb| mb.to_string()),
                    has_persistent_disk: disk.is_some(),
                })
            })
            .collect();
        let mut errands = Vec::new();
        for (phase, list) in [
            ("post_deploy", &template.post_deploy_errands),
            ("pre_delete", &template.pre_delete_errands),
        ] {
            for errand in list {
                let staged = product.settings.errands.get(&errand.name).and_then(|c| {
                    if phase == "post_deploy" {
                        c.post_deploy.clone()
                    } else {
                        c.pre_delete.clone()
                    }
                });
                let rule = match staged {
                    Some(Value::Bool(true)) => "on",
                    Some(Value::Bool(false)) => "off",
                    Some(Value::String(s)) if s == "when-changed" => "when-changed",
                    _ => "default",
                };
                errands.push(app::backend::ErrandSetting {
                    name: errand.name.clone(),
                    label: errand
                        .label
                        .clone()
                        .or_else(|| {
                            template
                                .job_type(&errand.name)
                                .and_then(|j| j.label.clone())
                        })
                        .unwrap_or_else(|| errand.name.clone()),
                    phase: phase.into(),
                    rule: rule.into(),
                    default_on: errand.run_default.unwrap_or(true),
                });
            }
        }
        Ok(app::backend::ProductPlacement {
            config_version: product.config_version,
            availability_zones: director.azs.iter().map(|a| a.name.clone()).collect(),
            networks: director.networks.iter().map(|n| n.name.clone()).collect(),
            vm_types: vm_types.into_iter().map(|v| v.name).collect(),
            disk_types: disk_types.into_iter().filter_map(|d| d.name).collect(),
            singleton_availability_zone: named(placement.get("singleton_availability_zone")),
            other_availability_zones: placement
                .get("other_availability_zones")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(|v| named(Some(v))).collect())
                .unwrap_or_default(),
            network: named(placement.get("network")),
            service_network: named(placement.get("service_network")),
            uses_service_network: template.service_broker,
            jobs,
            errands,
        })
    }

    async fn save_networks_and_azs(
        &self,
        actor: &str,
        guid: &str,
        p: &app::backend::ProductPlacement,
    ) -> Result<SaveOutcome, BackendError> {
        // Blank choices are refused here with the field named, the way the API refuses them.
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut body = Map::new();
        let mut pick = |key: &str, value: &Option<String>| match value {
            Some(name) => {
                body.insert(key.into(), json!({ "name": name }));
            }
            None => {
                errors
                    .entry(format!("networks_and_azs.{key}"))
                    .or_default()
                    .push(tiles::validate::BLANK.into());
            }
        };
        pick(
            "singleton_availability_zone",
            &p.singleton_availability_zone,
        );
        pick("network", &p.network);
        if p.uses_service_network {
            pick("service_network", &p.service_network);
        }
        if p.other_availability_zones.is_empty() {
            errors
                .entry("networks_and_azs.other_availability_zones".into())
                .or_default()
                .push(tiles::validate::BLANK.into());
        }
        body.insert(
            "other_availability_zones".into(),
            Value::Array(
                p.other_availability_zones
                    .iter()
                    .map(|n| json!({ "name": n }))
                    .collect(),
            ),
        );
        if !errors.is_empty() {
            return Ok(SaveOutcome::Invalid { errors });
        }
        let result = self
            .products
            .set_networks_and_azs(guid, Value::Object(body), Some(p.config_version), actor)
            .await;
        self.explained(Target::Product(guid), &["networks_and_azs"], result)
            .await
    }

    async fn save_resources(
        &self,
        actor: &str,
        guid: &str,
        p: &app::backend::ProductPlacement,
    ) -> Result<SaveOutcome, BackendError> {
        let bodies = p
            .jobs
            .iter()
            .map(|job| {
                let mut body = json!({
                    "instances": job.instances.clone().unwrap_or_else(|| json!("automatic")),
                    "instance_type": { "id": job.vm_type.clone().unwrap_or_else(|| "automatic".into()) },
                });
                if job.has_persistent_disk {
                    body["persistent_disk"] = json!({
                        "size_mb": job.persistent_disk.clone().unwrap_or_else(|| "automatic".into())
                    });
                }
                (job.guid.clone(), body)
            })
            .collect();
        let result = self
            .products
            .set_resource_configs(guid, bodies, Some(p.config_version), actor)
            .await;
        self.explained(Target::Product(guid), &["resource-config"], result)
            .await
    }

    async fn save_errands(
        &self,
        actor: &str,
        guid: &str,
        p: &app::backend::ProductPlacement,
    ) -> Result<SaveOutcome, BackendError> {
        let list: Vec<Value> = p
            .errands
            .iter()
            .map(|e| {
                let rule = match e.rule.as_str() {
                    "on" => json!(true),
                    "off" => json!(false),
                    other => json!(other),
                };
                let mut item = json!({ "name": e.name });
                item[e.phase.as_str()] = rule;
                item
            })
            .collect();
        let result = self
            .products
            .set_errands(guid, &Value::Array(list), Some(p.config_version), actor)
            .await;
        self.explained(Target::Product(guid), &["errands"], result)
            .await
    }
}

// Director tile

use crate::products::director::{AzSpec, NetworkSpec, SubnetSpec, VmTypeEntry};

/// A Director save's result as the UI shows it: rejected fields (service keys, mapped to the
/// page's fields by the browser), or a stale version with what the saves in between changed.
fn director_outcome(
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
fn ui_az(az: &AzSpec) -> app::backend::DirectorAz {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let clusters = az
        .fields
        .get("clusters")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| app::backend::AzCluster {
                    cluster: text(c.get("cluster")),
                    resource_pool: text(c.get("resource_pool")),
                })
                .collect()
        })
        .unwrap_or_default();
    app::backend::DirectorAz {
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
fn az_spec(az: app::backend::DirectorAz) -> AzSpec {
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
