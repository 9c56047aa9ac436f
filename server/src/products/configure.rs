//! Configuring a staged product: properties, placement (networks and AZs), resource config,
//! max in flight and errands — each write taken as a typed command ([`super::commands`]) and
//! read back in the Ops Manager API's shapes, each save validated by `tiles` and stored all or
//! nothing under the product's configuration version.
//!
//! The Director tile's GUID is accepted where om uses it (`networks_and_azs`, `jobs`,
//! `resource_config`, `max_in_flight`, `errands`, `properties`), and answered from the
//! Director's settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tiles::metadata::{MaxInFlight, ProductTemplate};
use tiles::product_config::{properties_api, stage, ErrandConfig, ProductConfig};
use tiles::properties::staged::{ResourceConfig, StagedValues};
use tiles::properties::types;
use tiles::validate::{validate_form, validate_product, ValidationContext, VmType};

use super::commands::{
    self, DirectorPlacement, ErrandRules, Findings, InFlight, MaxInFlightUpdates, Placement,
    PropertyUpdates,
};
use super::director::DIRECTOR_JOBS;
use super::{ProductSettings, Products, Saved, StagedProduct};
use crate::{Error, Result};

/// A job of `GET …/jobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub name: String,
    pub guid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Lifecycle errand instance group.
    #[serde(default)]
    pub errand: bool,
}

/// An errand of `GET …/errands`: `post_deploy` / `pre_delete` are `true`, `false`,
/// `"when-changed"`, or `null` when the errand is not of that kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrandView {
    pub name: String,
    pub post_deploy: Value,
    pub pre_delete: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// What validation needs besides the values: the products present, the VM types and the VM
/// extensions' names.
pub(super) struct Context {
    present: Vec<String>,
    vm_types: Vec<VmType>,
    vm_extensions: Vec<String>,
}

impl Context {
    fn validation(&self) -> ValidationContext<'_> {
        ValidationContext {
            deployed: None,
            present_products: &self.present,
            vm_types: &self.vm_types,
        }
    }
}

fn rejected(errors: BTreeMap<String, Vec<String>>) -> Error {
    Error::Rejected(errors)
}

/// A credential sent back as the redacted `***` (whole or per field) keeps the stored value,
/// so a client can save what a redacted GET returned.
fn keep_redacted(type_name: &str, new: Value, old: Option<&Value>) -> Value {
    if !types::is_credential(type_name) {
        return new;
    }
    match (new, old) {
        (Value::String(s), Some(old)) if s == "***" => old.clone(),
        (Value::Object(mut fields), Some(Value::Object(old))) => {
            for (k, v) in fields.iter_mut() {
                if v == "***" {
                    if let Some(o) = old.get(k) {
                        *v = o.clone();
                    }
                }
            }
            Value::Object(fields)
        }
        (new, _) => new,
    }
}

/// Whether a finding key belongs to one of the references a request set: the reference itself
/// or a field of one of its collection records. (A selector's sub-properties are references of
/// their own: choosing an option whose fields are still blank is allowed; it leaves the tile
/// incomplete.)
fn touches(key: &str, references: &[String]) -> bool {
    references.iter().any(|r| {
        key == r
            || key
                .strip_prefix(r.as_str())
                .is_some_and(|rest| rest.starts_with('['))
    })
}

impl Products {
    async fn context(&self) -> Result<Context> {
        let director = self.director().await?;
        Ok(Context {
            present: self.present_products().await?,
            vm_types: director
                .settings
                .director_config()
                .effective_vm_types()
                .into_iter()
                .map(|v| VmType {
                    name: v.name,
                    ram: i64::from(v.ram),
                    cpu: i64::from(v.cpu),
                    ephemeral_disk: i64::from(v.ephemeral_disk),
                })
                .collect(),
            vm_extensions: director
                .settings
                .vm_extensions
                .iter()
                .map(|e| e.name.clone())
                .collect(),
        })
    }

    /// Loads a product, checks `expected`, lets `change` edit a copy of its settings (returning
    /// what it changed), fills generated credentials, and stores the result under the version.
    /// Without `expected`, a save that another write overtook is done again on what is stored
    /// now (so `change` may run more than once).
    pub(super) async fn update_product<F>(
        &self,
        guid: &str,
        expected: Option<i64>,
        actor: &str,
        change: F,
    ) -> Result<Saved>
    where
        F: Fn(&StagedProduct, &Context, &mut ProductSettings) -> Result<Vec<String>>,
    {
        let mut attempt = 0;
        loop {
            let product = self.staged_product(guid).await?;
            self.check_staged_version(&product, expected).await?;
            let ctx = self.context().await?;
            let mut settings = product.settings.clone();
            let changed = change(&product, &ctx, &mut settings)?;
            self.fill_generated(&product.template, &mut settings.staged)
                .await?;
            let version = product.version.clone();
            let template = product.template.clone();
            let saved = self
                .save_staged(&product, &version, &template, &settings, &changed, actor)
                .await;
            if !Self::retry_unversioned(&saved, expected, &mut attempt).await {
                return saved;
            }
        }
    }

    /// `GET …/properties`: every property in the properties-API shape; credentials as `***`
    /// when `redact`. (Callers decide whether the role may ask for `redact=false`.)
    pub async fn properties(&self, guid: &str, redact: bool) -> Result<Value> {
        if self.is_director(guid).await? {
            return Ok(json!({"properties": {}}));
        }
        let product = self.staged_product(guid).await?;
        let present = self.present_products().await?;
        Ok(properties_api(
            &product.template,
            &product.settings.staged,
            &present,
            redact,
        ))
    }

    /// `PUT …/properties`: every value is shaped by its type, checked, and stored together — or
    /// none is (422 naming each bad reference). Other properties' blanks do not block the save
    /// (they make the tile incomplete).
    pub async fn set_properties(
        &self,
        guid: &str,
        properties: &PropertyUpdates,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        if self.is_director(guid).await? {
            return Err(Error::invalid(
                "properties",
                "the BOSH Director is configured through /api/v0/staged/director/properties",
            ));
        }
        self.update_product(guid, expected, actor, move |product, ctx, settings| {
            let (partial, touched) = shape_properties(&product.template, properties)?;
            let changed = merge_values(&product.template, &mut settings.staged, partial);
            let report = validate_product(&product.template, &settings.staged, &ctx.validation());
            let errors: BTreeMap<String, Vec<String>> = report
                .errors
                .into_iter()
                .filter(|(k, _)| touches(k, &touched))
                .collect();
            if !errors.is_empty() {
                return Err(rejected(errors));
            }
            Ok(changed)
        })
        .await
    }

    /// The Save of one settings form in the UI: like [`set_properties`](Self::set_properties),
    /// but the whole form is validated (blanks included), as Ops Manager's form Save does.
    pub async fn save_form(
        &self,
        guid: &str,
        form: &str,
        properties: &PropertyUpdates,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        self.verify_form(guid, form, properties).await?;
        self.update_product(guid, expected, actor, move |product, ctx, settings| {
            if product.template.form_type(form).is_none() {
                return Err(Error::NotFound(format!("form '{form}'")));
            }
            let (partial, _) = shape_properties(&product.template, properties)?;
            let changed = merge_values(&product.template, &mut settings.staged, partial);
            let report =
                validate_form(&product.template, form, &settings.staged, &ctx.validation());
            if !report.errors.is_empty() {
                return Err(rejected(report.errors));
            }
            Ok(changed)
        })
        .await
    }

    /// A form's own `verifiers` (`Verifiers::MysqlDatabaseVerifier`…), which Ops Manager runs
    /// when the form is saved, run on the values the save would store: a blocking finding
    /// refuses the save naming its field, as a validation error does; an `ignorable` one is
    /// not run (a save has no warnings to show, and Review and Apply Changes do not repeat
    /// form verifiers). Values the form's own validation refuses are left to it (the save
    /// reports them), so nothing is reached with them. The API's property writes run none, as
    /// in Ops Manager. A form without verifiers costs one row read (its template is cached).
    async fn verify_form(
        &self,
        guid: &str,
        form: &str,
        properties: &PropertyUpdates,
    ) -> Result<()> {
        let Some(row) = self.store().products().staged_one(guid).await? else {
            return Ok(()); // the save answers 404
        };
        let template = self
            .available_derived(&row.name, &row.version)
            .await?
            .template
            .clone();
        let has_verifiers = template
            .form_type(form)
            .is_some_and(|f| !tiles::verifiers::declared::of_form(f).is_empty());
        if !has_verifiers {
            return Ok(());
        }
        let product = self.load_staged(row).await?;
        let Some(form_type) = product.template.form_type(form) else {
            return Ok(());
        };
        let declared = tiles::verifiers::declared::of_form(form_type);
        let Ok((partial, _)) = shape_properties(&product.template, properties) else {
            return Ok(());
        };
        let mut staged = product.settings.staged.clone();
        merge_values(&product.template, &mut staged, partial);
        let ctx = self.context().await?;
        if !validate_form(&product.template, form, &staged, &ctx.validation())
            .errors
            .is_empty()
        {
            return Ok(());
        }
        let labels = tiles::verifiers::Labels::of(&product.template);
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for d in declared.iter().filter(|d| !d.ignorable()) {
            let (mut findings, reach) = d.run(&product.template, &staged, &labels);
            findings.extend(crate::reach::findings(reach).await);
            for f in findings {
                errors.entry(f.reference).or_default().push(f.message);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(rejected(errors))
        }
    }

    /// `GET …/networks_and_azs`.
    pub async fn networks_and_azs(&self, guid: &str) -> Result<Value> {
        if self.is_director(guid).await? {
            return self.director_network_and_az().await;
        }
        let product = self.staged_product(guid).await?;
        Ok(product
            .settings
            .networks_and_azs
            .unwrap_or_else(|| json!({})))
    }

    /// `PUT …/networks_and_azs`: network, service network and AZs must exist on the Director.
    pub async fn set_networks_and_azs(
        &self,
        guid: &str,
        placement: &Placement,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        if self.is_director(guid).await? {
            // The Director runs in its network and singleton AZ; the other keys of a
            // product's placement mean nothing to it.
            let placement = DirectorPlacement {
                network: placement.network.clone(),
                singleton_az: placement.singleton_availability_zone.clone(),
            };
            return self
                .set_director_network_and_az(&placement, expected, actor)
                .await;
        }
        let value = placement.to_stored();
        let director = self.director().await?.settings;
        self.update_product(guid, expected, actor, move |_, _, settings| {
            let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut unknown = |key: &str, name: &str, known: bool| {
                if !known {
                    let what = if key.contains("network") {
                        "network"
                    } else {
                        "availability zone"
                    };
                    errors
                        .entry(format!("networks_and_azs.{key}"))
                        .or_default()
                        .push(format!("there is no {what} named '{name}'"));
                }
            };
            let az_known = |n: &str| director.azs.iter().any(|a| a.name == n);
            let net_known = |n: &str| director.networks.iter().any(|a| a.name == n);
            for (key, name) in [
                ("network", &placement.network),
                ("service_network", &placement.service_network),
            ] {
                if let Some(name) = name {
                    unknown(key, name, net_known(name));
                }
            }
            if let Some(name) = &placement.singleton_availability_zone {
                unknown("singleton_availability_zone", name, az_known(name));
            }
            for name in placement.other_availability_zones.iter().flatten() {
                unknown("other_availability_zones", name, az_known(name));
            }
            if !errors.is_empty() {
                return Err(rejected(errors));
            }
            let changed = if settings.networks_and_azs.as_ref() == Some(&value) {
                vec![]
            } else {
                vec!["networks_and_azs".into()]
            };
            settings.networks_and_azs = Some(value.clone());
            Ok(changed)
        })
        .await
    }

    /// `GET …/jobs`: every job (instance group) with its GUID, in metadata order.
    pub async fn jobs(&self, guid: &str) -> Result<Vec<JobSummary>> {
        if self.is_director(guid).await? {
            let d = self.director().await?;
            return Ok(DIRECTOR_JOBS
                .iter()
                .filter_map(|j| {
                    d.settings.job_guids.get(*j).map(|g| JobSummary {
                        name: j.to_string(),
                        guid: g.clone(),
                        label: None,
                        errand: false,
                    })
                })
                .collect());
        }
        let product = self.staged_product(guid).await?;
        Ok(product
            .template
            .job_types
            .iter()
            .filter_map(|j| {
                product.job_guid(&j.name).map(|g| JobSummary {
                    name: j.name.clone(),
                    guid: g.to_owned(),
                    label: j.resource_label.clone().or_else(|| j.label.clone()),
                    errand: j.errand,
                })
            })
            .collect())
    }

    /// `GET …/jobs/:job_guid/resource_config`.
    pub async fn resource_config(&self, guid: &str, job_guid: &str) -> Result<Value> {
        if self.is_director(guid).await? {
            let d = self.director().await?;
            let job = job_by_guid(&d.settings.job_guids, job_guid)?;
            let rc = d.settings.resources.get(&job).cloned().unwrap_or_default();
            return Ok(resource_json(&rc, job == "director"));
        }
        let product = self.staged_product(guid).await?;
        let job = product
            .job_by_guid(job_guid)
            .ok_or_else(|| Error::NotFound(format!("job '{job_guid}'")))?
            .to_owned();
        let has_disk = product
            .template
            .job_type(&job)
            .is_some_and(|j| j.resource_definition("persistent_disk").is_some());
        let rc = product
            .settings
            .staged
            .resource(&job)
            .cloned()
            .unwrap_or_default();
        Ok(resource_json(&rc, has_disk))
    }

    /// `PUT …/jobs/:job_guid/resource_config`: the job's whole resource config (max in flight
    /// stays as stored). `refused` holds what the caller could not read of the request; it is
    /// refused with the service's own findings, in one answer.
    pub async fn set_resource_config(
        &self,
        guid: &str,
        job_guid: &str,
        config: &commands::ResourceConfig,
        refused: &Findings,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        if !self.is_director(guid).await? {
            let configs = [(job_guid.to_owned(), config.clone())];
            return self
                .set_resource_configs(guid, &configs, refused, expected, actor)
                .await;
        }
        let configs = [(job_guid.to_owned(), config.clone())];
        self.set_director_resources(&configs, refused, expected, actor)
            .await
    }

    /// The Director's jobs' resource settings (by job GUID: `director`, `compilation`), checked
    /// together and stored together or not at all: the Director page's Resource Config section
    /// and `PUT …/jobs/:job_guid/resource_config` on the Director tile. Each config is the
    /// job's whole resource config, as for [`set_resource_config`](Self::set_resource_config).
    pub async fn set_director_resources(
        &self,
        configs: &[(String, commands::ResourceConfig)],
        refused: &Findings,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        let vm_names: Vec<String> = self.vm_types().await?.into_iter().map(|v| v.name).collect();
        self.update_director(expected, actor, move |s| {
            let extensions: Vec<String> = s.vm_extensions.iter().map(|e| e.name.clone()).collect();
            let mut errors = refused.clone();
            let mut changed = Vec::new();
            let mut stored = Vec::new();
            for (job_guid, config) in configs {
                let job = job_by_guid(&s.job_guids, job_guid)?;
                let old = s.resources.get(&job).cloned().unwrap_or_default();
                let rc = config.to_stored(old.max_in_flight.clone());
                let field = format!("resource-config.{job}");
                match config.instances.count() {
                    Some(n) if n < 1 || (job == "director" && n != 1) => errors
                        .entry(format!("{field}.instances"))
                        .or_default()
                        .push(if job == "director" {
                            "the Director runs exactly 1 instance".into()
                        } else {
                            "must be at least 1".into()
                        }),
                    _ => {}
                }
                if let Some(t) = rc.vm_type() {
                    if !vm_names.iter().any(|n| n == t) {
                        errors
                            .entry(format!("{field}.instance_type"))
                            .or_default()
                            .push(format!("there is no VM type named '{t}'"));
                    }
                }
                if let commands::PersistentDisk::Mb(mb) = config.persistent_disk {
                    if mb < 1 {
                        errors
                            .entry(format!("{field}.persistent_disk"))
                            .or_default()
                            .push("must be a size of at least 1 MB".into());
                    }
                }
                check_extensions(&rc, &extensions, &field, &mut errors);
                if old != rc {
                    changed.push(field);
                }
                stored.push((job, rc));
            }
            if !errors.is_empty() {
                return Err(rejected(errors));
            }
            for (job, rc) in stored {
                s.resources.insert(job, rc);
            }
            Ok(changed)
        })
        .await
    }

    /// Resource settings of several jobs (by job GUID), checked together and stored together
    /// or not at all: the Resource Config page's one Save. `refused`: as for
    /// [`set_resource_config`](Self::set_resource_config).
    pub async fn set_resource_configs(
        &self,
        guid: &str,
        configs: &[(String, commands::ResourceConfig)],
        refused: &Findings,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        self.update_product(guid, expected, actor, move |product, ctx, settings| {
            let mut errors = refused.clone();
            let mut fields = Vec::new();
            let mut changed = Vec::new();
            for (job_guid, config) in configs {
                let job = product
                    .job_by_guid(job_guid)
                    .ok_or_else(|| Error::NotFound(format!("job '{job_guid}'")))?
                    .to_owned();
                let old = settings.staged.resource(&job).cloned().unwrap_or_default();
                let rc = config.to_stored(old.max_in_flight.clone());
                let field = format!("resource-config.{job}");
                if let Some(t) = rc.vm_type() {
                    if !ctx.vm_types.iter().any(|v| v.name == t) {
                        errors
                            .entry(format!("{field}.instance_type"))
                            .or_default()
                            .push(format!("there is no VM type named '{t}'"));
                    }
                }
                check_extensions(&rc, &ctx.vm_extensions, &field, &mut errors);
                if old != rc {
                    changed.push(field.clone());
                }
                settings.staged.resources.insert(job, rc);
                fields.push(field);
            }
            let report = validate_product(&product.template, &settings.staged, &ctx.validation());
            for (k, v) in report.errors {
                if fields
                    .iter()
                    .any(|f| k == *f || k.starts_with(&format!("{f}.")))
                {
                    errors.entry(k).or_default().extend(v);
                }
            }
            if !errors.is_empty() {
                return Err(rejected(errors));
            }
            Ok(changed)
        })
        .await
    }

    /// `GET …/max_in_flight`: job GUID → the staged value, else the tile's, else 1.
    pub async fn max_in_flight(&self, guid: &str) -> Result<Value> {
        let mut out = Map::new();
        if self.is_director(guid).await? {
            let d = self.director().await?;
            for (job, g) in &d.settings.job_guids {
                let v = d
                    .settings
                    .resources
                    .get(job)
                    .and_then(|r| r.max_in_flight.clone())
                    .unwrap_or(json!(1));
                out.insert(g.clone(), v);
            }
            return Ok(json!({ "max_in_flight": out }));
        }
        let product = self.staged_product(guid).await?;
        for job in &product.template.job_types {
            let Some(g) = product.job_guid(&job.name) else {
                continue;
            };
            let staged = product
                .settings
                .staged
                .resource(&job.name)
                .and_then(|r| r.max_in_flight.clone());
            let v = staged.unwrap_or_else(|| match &job.max_in_flight {
                Some(MaxInFlight::Count(n)) => json!(n),
                Some(MaxInFlight::Percent(p)) => json!(format!("{p}%")),
                Some(MaxInFlight::Other(s)) => json!(s),
                None => json!(1),
            });
            out.insert(g.to_owned(), v);
        }
        Ok(json!({ "max_in_flight": out }))
    }

    /// `PUT …/max_in_flight`: per job GUID, a count, a percentage or the tile's default.
    pub async fn set_max_in_flight(
        &self,
        guid: &str,
        values: &MaxInFlightUpdates,
        refused: &Findings,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        let parse = |job_guids: &BTreeMap<String, String>| {
            let mut errors = refused.clone();
            let mut parsed = Vec::new();
            for (g, v) in values {
                let Some(job) = job_guids
                    .iter()
                    .find(|(_, x)| *x == g)
                    .map(|(j, _)| j.clone())
                else {
                    errors
                        .entry(format!("max_in_flight.{g}"))
                        .or_default()
                        .push("there is no job with this GUID".into());
                    continue;
                };
                parsed.push((job, v.map(InFlight::stored)));
            }
            if errors.is_empty() {
                Ok(parsed)
            } else {
                Err(rejected(errors))
            }
        };
        if self.is_director(guid).await? {
            return self
                .update_director(expected, actor, move |s| {
                    let mut changed = Vec::new();
                    for (job, v) in parse(&s.job_guids)? {
                        let rc = s.resources.entry(job.clone()).or_default();
                        if rc.max_in_flight != v {
                            changed.push(format!("resource-config.{job}.max_in_flight"));
                        }
                        rc.max_in_flight = v;
                    }
                    Ok(changed)
                })
                .await;
        }
        self.update_product(guid, expected, actor, move |_, _, settings| {
            let mut changed = Vec::new();
            for (job, v) in parse(&settings.job_guids)? {
                let rc = settings.staged.resources.entry(job.clone()).or_default();
                if rc.max_in_flight != v {
                    changed.push(format!("resource-config.{job}.max_in_flight"));
                }
                rc.max_in_flight = v;
            }
            Ok(changed)
        })
        .await
    }

    /// The errands of a product with their current rules.
    pub fn errands_of(&self, product: &StagedProduct) -> Vec<ErrandView> {
        let t = &product.template;
        let mut out: Vec<ErrandView> = Vec::new();
        for (post, list) in [
            (true, &t.post_deploy_errands),
            (false, &t.pre_delete_errands),
        ] {
            for e in list {
                let staged = product.settings.errands.get(&e.name);
                let value = if post {
                    staged.and_then(|s| s.post_deploy.clone())
                } else {
                    staged.and_then(|s| s.pre_delete.clone())
                }
                .unwrap_or(Value::Bool(e.run_default.unwrap_or(true)));
                let label = e.label.clone().or_else(|| {
                    t.job_type(&e.name)
                        .and_then(|j| j.label.clone().or_else(|| j.resource_label.clone()))
                });
                match out.iter_mut().find(|x| x.name == e.name) {
                    Some(existing) if post => existing.post_deploy = value,
                    Some(existing) => existing.pre_delete = value,
                    None => out.push(ErrandView {
                        name: e.name.clone(),
                        post_deploy: if post { value.clone() } else { Value::Null },
                        pre_delete: if post { Value::Null } else { value },
                        label,
                    }),
                }
            }
        }
        out
    }

    /// `GET …/errands`.
    pub async fn errands(&self, guid: &str) -> Result<Vec<ErrandView>> {
        if self.is_director(guid).await? {
            return Ok(vec![]);
        }
        let product = self.staged_product(guid).await?;
        Ok(self.errands_of(&product))
    }

    /// `PUT …/errands`: the rules of some errands (the others keep theirs).
    pub async fn set_errands(
        &self,
        guid: &str,
        list: &[ErrandRules],
        refused: &Findings,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        if self.is_director(guid).await? && !list.is_empty() {
            return Err(Error::invalid(
                "errands",
                "the BOSH Director has no errands",
            ));
        }
        self.update_product(guid, expected, actor, move |product, _, settings| {
            let t = &product.template;
            let mut errors = refused.clone();
            let mut changed = Vec::new();
            for item in list {
                let name = item.name.as_str();
                let is_post = t.post_deploy_errands.iter().any(|e| e.name == name);
                let is_pre = t.pre_delete_errands.iter().any(|e| e.name == name);
                if !is_post && !is_pre {
                    errors
                        .entry(format!("errands.{name}"))
                        .or_default()
                        .push(format!("the product has no errand named '{name}'"));
                    continue;
                }
                let entry = settings.errands.entry(name.to_owned()).or_default();
                let before = entry.clone();
                for (key, allowed, rule, slot) in [
                    (
                        "post_deploy",
                        is_post,
                        item.post_deploy,
                        &mut entry.post_deploy,
                    ),
                    ("pre_delete", is_pre, item.pre_delete, &mut entry.pre_delete),
                ] {
                    let Some(rule) = rule else {
                        continue;
                    };
                    if !allowed {
                        errors
                            .entry(format!("errands.{name}.{key}"))
                            .or_default()
                            .push(format!(
                                "'{name}' is not a {} errand",
                                key.replace('_', "-")
                            ));
                        continue;
                    }
                    *slot = rule.stored();
                }
                if *entry != before {
                    changed.push(format!("errands.{name}"));
                }
                if *entry == ErrandConfig::default() {
                    settings.errands.remove(name);
                }
            }
            if !errors.is_empty() {
                return Err(rejected(errors));
            }
            Ok(changed)
        })
        .await
    }
}

/// Brings property updates onto the template: values shaped by type, selectors to their
/// select values. Unknown or non-configurable references are refused (422). Returns the values
/// and the references they set.
fn shape_properties(
    template: &ProductTemplate,
    properties: &PropertyUpdates,
) -> Result<(StagedValues, Vec<String>)> {
    let mut config = ProductConfig::default();
    for (reference, update) in properties {
        config.staged.set(reference, update.value.clone());
        if let Some(option) = &update.selected_option {
            config
                .selected_options
                .insert(reference.clone(), option.clone());
        }
    }
    let (partial, report) = stage(template, &config);
    if !report.errors.is_empty() {
        return Err(Error::Rejected(report.errors));
    }
    let touched = partial.properties.keys().cloned().collect();
    Ok((partial, touched))
}

/// Merges shaped values into `staged` (keeping credentials sent back redacted) and returns the
/// references whose value changed.
fn merge_values(
    template: &ProductTemplate,
    staged: &mut StagedValues,
    partial: StagedValues,
) -> Vec<String> {
    let mut changed = Vec::new();
    for (reference, value) in partial.properties {
        let type_name = template
            .property(&reference)
            .map(|p| p.blueprint.property_type.as_str().to_owned())
            .unwrap_or_default();
        let old = staged.properties.get(&reference).cloned();
        let value = keep_redacted(&type_name, value, old.as_ref());
        let value = with_salt(&type_name, value, old.as_ref());
        if old.as_ref() != Some(&value) {
            changed.push(reference.clone());
        }
        staged.set(reference, value);
    }
    changed
}

/// `salted_credentials` an operator types have an identity and a password but no salt: the salt
/// is Tileworks's to make (it is never typed), so a blank one is filled — the stored salt when
/// the password is unchanged, else 16 fresh random hex digits.
fn with_salt(type_name: &str, value: Value, old: Option<&Value>) -> Value {
    use rand::RngCore;
    let Value::Object(mut fields) = value else {
        return value;
    };
    if type_name != "salted_credentials" {
        return Value::Object(fields);
    }
    let blank = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
    };
    let has_secret = !blank(fields.get("identity")) || !blank(fields.get("password"));
    if !blank(fields.get("salt")) || !has_secret {
        return Value::Object(fields);
    }
    let kept = old
        .filter(|o| o.get("password") == fields.get("password"))
        .and_then(|o| o.get("salt"))
        .filter(|s| !blank(Some(s)))
        .cloned();
    let salt = kept.unwrap_or_else(|| {
        let mut bytes = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
    });
    fields.insert("salt".into(), salt);
    Value::Object(fields)
}

/// A job's `additional_vm_extensions` must name VM extensions that exist.
fn check_extensions(
    rc: &ResourceConfig,
    known: &[String],
    field: &str,
    errors: &mut BTreeMap<String, Vec<String>>,
) {
    if let Some(value) = rc.extra.get("additional_vm_extensions") {
        if let Err(message) = super::vm_extensions::unknown_extensions(value, known) {
            errors
                .entry(format!("{field}.additional_vm_extensions"))
                .or_default()
                .push(message);
        }
    }
}

fn job_by_guid(job_guids: &BTreeMap<String, String>, job_guid: &str) -> Result<String> {
    job_guids
        .iter()
        .find(|(_, g)| g.as_str() == job_guid)
        .map(|(j, _)| j.clone())
        .ok_or_else(|| Error::NotFound(format!("job '{job_guid}'")))
}

/// A resource config in the API's shape.
fn resource_json(rc: &ResourceConfig, has_disk: bool) -> Value {
    let mut m = Map::new();
    m.insert(
        "instances".into(),
        rc.instances.clone().unwrap_or_else(|| json!("automatic")),
    );
    m.insert(
        "instance_type".into(),
        json!({"id": rc.instance_type.clone().unwrap_or_else(|| "automatic".into())}),
    );
    if has_disk {
        let size = match &rc.persistent_disk_mb {
            None | Some(Value::Null) => json!("automatic"),
            Some(Value::Number(n)) => json!(n.to_string()),
            Some(other) => other.clone(),
        };
        m.insert("persistent_disk".into(), json!({ "size_mb": size }));
    }
    m.insert("internet_connected".into(), json!(false));
    m.insert("elb_names".into(), json!([]));
    m.insert("additional_vm_extensions".into(), json!([]));
    m.insert("nsx_security_groups".into(), Value::Null);
    m.insert("nsx_lbs".into(), json!([]));
    for (k, v) in &rc.extra {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_salted_credentials_get_a_salt() {
        let typed = json!({"identity": "u", "password": "p"});
        let salted = with_salt("salted_credentials", typed.clone(), None);
        let salt = salted["salt"].as_str().unwrap();
        assert_eq!(salt.len(), 16);
        assert!(salt.chars().all(|c| c.is_ascii_hexdigit()));
        // The password unchanged: the stored salt stays.
        let old = json!({"identity": "u", "password": "p", "salt": "00aa"});
        assert_eq!(
            with_salt("salted_credentials", typed.clone(), Some(&old))["salt"],
            "00aa"
        );
        // A new password: a new salt.
        let changed = json!({"identity": "u", "password": "q"});
        assert_ne!(
            with_salt("salted_credentials", changed, Some(&old))["salt"],
            "00aa"
        );
        // Nothing typed, or another type: unchanged.
        assert_eq!(with_salt("salted_credentials", json!({}), None), json!({}));
        assert_eq!(with_salt("simple_credentials", typed.clone(), None), typed);
    }

    #[test]
    fn redacted_credentials_keep_stored_values() {
        let old = json!({"identity": "admin", "password": "pw"});
        let back = keep_redacted(
            "simple_credentials",
            json!({"identity": "root", "password": "***"}),
            Some(&old),
        );
        assert_eq!(back, json!({"identity": "root", "password": "pw"}));
        assert_eq!(
            keep_redacted("string", json!("***"), Some(&json!("x"))),
            json!("***")
        );
    }

    #[test]
    fn resource_config_round_trip() {
        use crate::products::commands::{Instances, PersistentDisk};
        let mut other = Map::new();
        other.insert("internet_connected".into(), json!(true));
        other.insert("elb_names".into(), json!(["lb"]));
        let config = commands::ResourceConfig {
            instances: Instances::Count {
                count: 3,
                as_text: false,
            },
            instance_type: Some("large".into()),
            persistent_disk: PersistentDisk::Type("20480".into()),
            other,
        };
        let rc = config.to_stored(None);
        assert_eq!(rc.max_in_flight, None);
        let shown = resource_json(&rc, true);
        assert_eq!(shown["instances"], 3);
        assert_eq!(shown["instance_type"]["id"], "large");
        assert_eq!(shown["persistent_disk"]["size_mb"], "20480");
        assert_eq!(shown["internet_connected"], true);
        assert_eq!(shown["elb_names"], json!(["lb"]));
        let auto = resource_json(&ResourceConfig::default(), false);
        assert_eq!(auto["instances"], "automatic");
        assert!(auto.get("persistent_disk").is_none());
    }

    #[test]
    fn findings_belong_to_the_references_set() {
        let refs = vec![
            ".properties.coll".to_string(),
            ".properties.sel".to_string(),
        ];
        assert!(touches(".properties.coll[0].name", &refs));
        assert!(!touches(".properties.sel.opt.x", &refs));
        assert!(touches(".properties.sel", &refs));
        assert!(!touches(".properties.selector2", &refs));
        assert!(!touches(".properties.other", &refs));
    }
}
