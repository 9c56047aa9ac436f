//! The UI's [`ProductsBackend`](app::backend::products::ProductsBackend) and
//! [`PlacementBackend`](app::backend::products::PlacementBackend): the products service, seen through the plain
//! types the browser receives. Credentials leave here redacted; everything else is the same data
//! the Ops Manager API serves.

use std::collections::{BTreeMap, BTreeSet};

use app::backend::products::{AvailableProduct, Dashboard, ProductSettings, TileSummary};
use app::backend::{BackendError, SaveOutcome};
use serde_json::{Map, Value};
use tiles::metadata::{BlueprintKind, ProductTemplate};
use tiles::properties::types;
use tiles::validate::{validate_form, ValidationContext, VmType};

use crate::products::commands::{
    ErrandRule, ErrandRules, Findings, Instances, PersistentDisk, Placement, ResourceConfig,
};
use crate::products::field_changes::Target;
use crate::products::{Products, TileState};
use crate::ui::shown;
use crate::Error;

pub struct UiBackend {
    pub(crate) products: Products,
}

impl UiBackend {
    pub fn new(products: Products) -> Self {
        UiBackend { products }
    }

    /// A save's outcome; when refused as stale, with what the saves in between changed within
    /// `scope` (the sections the page edits), per field.
    pub(crate) async fn explained(
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
            Target::Director => {
                super::director::director_outcome(since.unwrap_or_default(), result)?
            }
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
    Ok(vm_types_for_validation(
        products.vm_types().await.map_err(shown)?,
    ))
}

fn vm_types_for_validation(entries: Vec<crate::products::director::VmTypeEntry>) -> Vec<VmType> {
    entries
        .into_iter()
        .map(|v| VmType {
            name: v.name,
            ram: i64::from(v.ram),
            cpu: i64::from(v.cpu),
            ephemeral_disk: i64::from(v.ephemeral_disk),
        })
        .collect()
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

fn reasons(state: &TileState) -> Option<&BTreeMap<String, Vec<String>>> {
    match state {
        TileState::Deployable => None,
        TileState::Incomplete { reasons } | TileState::Invalid { reasons } => Some(reasons),
    }
}

#[async_trait::async_trait]
impl app::backend::products::ProductsBackend for UiBackend {
    async fn dashboard(&self) -> Result<Dashboard, BackendError> {
        let staged = self.products.staged_products().await.map_err(shown)?;
        let available = self.products.available().await.map_err(shown)?;
        // Deployed or not, pending changes or not: the same actions Review shows.
        let actions: BTreeMap<String, String> = self
            .products
            .pending_changes()
            .await
            .map_err(shown)?
            .into_iter()
            .map(|c| (c.guid, c.action))
            .collect();
        let mut summaries = Vec::with_capacity(staged.len());
        for s in staged {
            // Worded with the labels of the forms that edit each field (super::problems).
            let problems = match reasons(&s.state) {
                None => Vec::new(),
                Some(reasons) if s.is_director => super::problems::of_director(reasons),
                Some(reasons) => {
                    let product = self.products.staged_product(&s.guid).await.map_err(shown)?;
                    let tree = tiles::forms::FormTree::build(&product.template);
                    super::problems::of_product(&s.guid, &tree, reasons)
                }
            };
            summaries.push((
                s.is_director,
                TileSummary {
                    incomplete_reasons: problems,
                    action: actions.get(&s.guid).cloned().unwrap_or_default(),
                    guid: s.guid,
                    name: s.name,
                    label: s.label,
                    version: s.product_version,
                },
            ));
        }
        let mut tiles = summaries.into_iter();
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
        // The Director tile is read once and everything this page shows of it (VM and disk
        // types, AZs, the completeness checks) comes from that read.
        let director = self.products.director().await.map_err(shown)?;
        if director.guid == guid {
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
        let vm_types = vm_types_for_validation(Products::vm_types_of(&director));
        let disk_types = Products::disk_types_of(&director)
            .into_iter()
            // A disk type is chosen by its name, or by its size in MB when it has none (the
            // default catalogue's are all unnamed), as the property value stores it.
            .map(|d| d.name.unwrap_or_else(|| d.disk_size.to_string()))
            .collect();
        let availability_zones = director
            .settings
            .azs
            .iter()
            .map(|az| az.name.clone())
            .collect();

        // The form shows what would be deployed: staged values, and defaults where nothing is
        // staged yet.
        // Only the form's properties: the cut template holds exactly the blueprints it shows.
        let shown: BTreeSet<String> = template
            .property_refs()
            .into_iter()
            .map(|p| p.reference)
            .collect();
        let mut staged = product.settings.staged.clone();
        staged
            .properties
            .retain(|reference, _| shown.contains(reference));
        tiles::properties::defaults::apply_defaults(&template, &mut staged, &[]);
        // The PKS service adapter's warnings (plan settings the clusters' manifests cannot
        // carry), on this form's fields: the same findings Review lists, where they are set.
        let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if product.name == tiles::products::PKS_NAME {
            for finding in tiles::verifiers::pks::adapter_field_warnings(
                &product.template,
                &product.settings.staged,
            ) {
                if shown.contains(&finding.reference) {
                    notes
                        .entry(finding.reference)
                        .or_default()
                        .push(finding.message);
                }
            }
        }
        let form_complete = forms_complete(&product.template, &product.settings.staged, &vm_types);
        let values = redacted_values(&product.template, &staged.properties);
        let completeness = self
            .products
            .completeness_with(&product, &director)
            .await
            .map_err(super::shown)?;
        let job_spec_warnings = product.available.job_spec_warnings().to_vec();
        let lint_warnings = product.available.lint_warnings.clone();
        let placement_complete = !completeness
            .missing
            .keys()
            .chain(completeness.invalid.keys())
            .any(|k| k.starts_with("networks_and_azs."));
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
            placement_complete,
            job_spec_warnings,
            lint_warnings,
            notes,
        })
    }

    // Director tile
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
impl app::backend::products::PlacementBackend for UiBackend {
    async fn product_placement(
        &self,
        guid: &str,
    ) -> Result<app::backend::products::ProductPlacement, BackendError> {
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
                Some(app::backend::products::JobResources {
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
                errands.push(app::backend::products::ErrandSetting {
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
        Ok(app::backend::products::ProductPlacement {
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
        p: &app::backend::products::ProductPlacement,
    ) -> Result<SaveOutcome, BackendError> {
        // Blank choices are refused here with the field named, the way the API refuses them.
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut blank = |key: &str| {
            errors
                .entry(format!("networks_and_azs.{key}"))
                .or_default()
                .push(tiles::validate::BLANK.into());
        };
        if p.singleton_availability_zone.is_none() {
            blank("singleton_availability_zone");
        }
        if p.network.is_none() {
            blank("network");
        }
        if p.uses_service_network && p.service_network.is_none() {
            blank("service_network");
        }
        if p.other_availability_zones.is_empty() {
            blank("other_availability_zones");
        }
        if !errors.is_empty() {
            return Ok(SaveOutcome::Invalid { errors });
        }
        let placement = Placement {
            network: p.network.clone(),
            service_network: p.service_network.clone().filter(|_| p.uses_service_network),
            singleton_availability_zone: p.singleton_availability_zone.clone(),
            other_availability_zones: Some(p.other_availability_zones.clone()),
            other: BTreeMap::new(),
        };
        let result = self
            .products
            .set_networks_and_azs(guid, &placement, Some(p.config_version), actor)
            .await;
        self.explained(Target::Product(guid), &["networks_and_azs"], result)
            .await
    }

    async fn save_resources(
        &self,
        actor: &str,
        guid: &str,
        p: &app::backend::products::ProductPlacement,
    ) -> Result<SaveOutcome, BackendError> {
        // What the page holds for each job, as the products service takes it; a count that is
        // not a number is refused with the field named, together with the service's findings.
        let mut refused = Findings::new();
        let mut configs = Vec::new();
        for job in &p.jobs {
            let mut refuse = |key: &str, message: String| {
                refused
                    .entry(format!("resource-config.{}.{key}", job.job))
                    .or_default()
                    .push(message)
            };
            let instances = match job.instances.as_ref().map(Instances::read) {
                None => Instances::Automatic,
                Some(Ok(instances)) => instances,
                Some(Err(message)) => {
                    refuse("instances", message);
                    Instances::Automatic
                }
            };
            // The page chooses a disk type by name (the default ones are named by their size).
            let persistent_disk = match &job.persistent_disk {
                Some(disk)
                    if job.has_persistent_disk && !disk.eq_ignore_ascii_case("automatic") =>
                {
                    PersistentDisk::Type(disk.clone())
                }
                _ => PersistentDisk::Automatic,
            };
            let config = ResourceConfig {
                instances,
                instance_type: job
                    .vm_type
                    .clone()
                    .filter(|t| !t.eq_ignore_ascii_case("automatic")),
                persistent_disk,
                other: Map::new(),
            };
            configs.push((job.guid.clone(), config));
        }
        let result = self
            .products
            .set_resource_configs(guid, &configs, &refused, Some(p.config_version), actor)
            .await;
        self.explained(Target::Product(guid), &["resource-config"], result)
            .await
    }

    async fn save_errands(
        &self,
        actor: &str,
        guid: &str,
        p: &app::backend::products::ProductPlacement,
    ) -> Result<SaveOutcome, BackendError> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut list: Vec<ErrandRules> = Vec::new();
        for e in &p.errands {
            let rule = match e.rule.as_str() {
                "on" => ErrandRule::On,
                "off" => ErrandRule::Off,
                "when-changed" => ErrandRule::WhenChanged,
                "default" => ErrandRule::Default,
                _ => {
                    errors
                        .entry(format!("errands.{}.{}", e.name, e.phase))
                        .or_default()
                        .push("must be true, false, \"when-changed\" or \"default\"".into());
                    continue;
                }
            };
            let mut rules = ErrandRules {
                name: e.name.clone(),
                post_deploy: None,
                pre_delete: None,
            };
            match e.phase.as_str() {
                "post_deploy" => rules.post_deploy = Some(rule),
                "pre_delete" => rules.pre_delete = Some(rule),
                _ => {}
            }
            list.push(rules);
        }
        let result = self
            .products
            .set_errands(guid, &list, &errors, Some(p.config_version), actor)
            .await;
        self.explained(Target::Product(guid), &["errands"], result)
            .await
    }
}
