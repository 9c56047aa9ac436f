//! What a refused stale save tells its operator, field by field — for every settings page and
//! API write: a product's forms and properties, its placement, resources and errands, and the
//! Director tile.
//!
//! A save names the configuration version it started from; when another save came first the
//! write is refused ([`Error::Stale`](crate::Error::Stale)) and nothing is stored. To say *what*
//! changed, the change log (`config_changes`: per version, the references a save changed, the
//! values before and who saved) is read from the operator's version on, and each changed
//! reference of interest is reported with its **current** value — redacted for credentials,
//! which are never shown nor logged — its value before (from the log), and who changed it last.
//!
//! **References.** Product properties are named by their metadata reference
//! (`.properties.x`); everything else by a path into a *view* of the settings, the same names
//! the saves log: `director_configuration.ntp_servers_string`,
//! `iaas_configuration.vcenter_password`, `availability_zones.<name>`, `networks.<name>`,
//! `network_and_az.network`, `vm_types.<name>`, `disk_types.<name>`,
//! `resource-config.<job>.instances`, `networks_and_azs.other_availability_zones`,
//! `errands.<name>.post_deploy`. A save that changed a whole section (`availability_zones`) is
//! refined here to the entries it changed ([`Fields::refine`]) before it is logged; an older,
//! coarser entry still covers the finer references below it ([`covers`]).
//!
//! The product forms also send the values their page loaded; they are echoed beside the current
//! ones (a field changed and changed back is then not reported), and stand in for the log when
//! it no longer reaches back to the operator's version (it keeps 200 saves per subject).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Map, Value};
use tiles::cloud_config::{default_disk_types, default_vm_types};
use tiles::forms::{FormTree, Input};
use tiles::metadata::{BlueprintKind, ProductTemplate};
use tiles::properties::staged::ResourceConfig;
use tiles::properties::types;

use super::director::{
    is_director_section_secret, is_secret_key, redacted_director_configuration, DirectorSettings,
};
use super::{ProductSettings, Products};
use crate::store::director::SUBJECT as DIRECTOR_SUBJECT;
use crate::store::products::ChangeRecord;
use crate::Result;

/// What a redacted credential reads as.
const MASK: &str = "***";

/// One field another operator changed since the version a save started from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub reference: String,
    /// Who saved it last (the change log's user), or `null` when the log no longer says.
    pub changed_by: Option<String>,
    /// The configuration version that last changed it.
    pub version: Option<i64>,
    /// The stored value now; credential fields read `***`.
    pub value: Value,
    /// A credential: its value is not shown, only that it changed.
    pub credential: bool,
    /// The value before the first of those saves, when the log kept it (never a credential's;
    /// `null` when the field did not exist yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Value>,
    /// The value the operator's page loaded (only when the save sent it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_from: Option<Value>,
}

/// Which settings a refused save is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Director,
    Product(&'a str),
}

/// Every reference a form shows: its inputs and the inputs of each selector option.
pub fn form_references(template: &ProductTemplate, form: &str) -> Vec<String> {
    fn walk(inputs: &[Input], out: &mut Vec<String>) {
        for input in inputs {
            out.push(input.reference.clone());
            for choice in &input.selector_options {
                walk(&choice.inputs, out);
            }
        }
    }
    let tree = FormTree::build(template);
    let mut out = Vec::new();
    if let Some(f) = tree.form(form) {
        walk(&f.inputs, &mut out);
    }
    out
}

/// A value as a browser may see it: credential fields masked, collection records included.
pub fn redacted(template: &ProductTemplate, reference: &str, value: &Value) -> (Value, bool) {
    let Some(found) = template.property(reference) else {
        return (Value::String(MASK.into()), true);
    };
    let blueprint = found.blueprint;
    let type_name = blueprint.property_type.as_str();
    if types::is_credential(type_name) {
        return (types::redact(type_name, value), true);
    }
    let masked = match (&blueprint.kind, value) {
        (
            BlueprintKind::Collection {
                property_blueprints,
                ..
            },
            Value::Array(records),
        ) => Value::Array(
            records
                .iter()
                .map(|record| match record {
                    Value::Object(fields) => Value::Object(
                        fields
                            .iter()
                            .map(|(name, field)| {
                                let shown = property_blueprints
                                    .iter()
                                    .find(|b| &b.name == name)
                                    .map(|b| types::redact(b.property_type.as_str(), field))
                                    .unwrap_or_else(|| field.clone());
                                (name.clone(), shown)
                            })
                            .collect::<Map<_, _>>(),
                    ),
                    other => other.clone(),
                })
                .collect(),
        ),
        (_, other) => other.clone(),
    };
    (masked, false)
}

/// `child` names something inside `parent` (`a.b` inside `a`, `a[0]` inside `a`).
fn is_under(child: &str, parent: &str) -> bool {
    child
        .strip_prefix(parent)
        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Whether a change-log entry concerns a reference: the same, a coarser entry holding it, or a
/// finer one inside it.
pub fn covers(entry: &str, reference: &str) -> bool {
    entry == reference || is_under(reference, entry) || is_under(entry, reference)
}

/// A log entry naming no field (a revert to the deployed configuration): it may have changed
/// anything.
fn is_whole(entry: &str) -> bool {
    entry.contains(' ')
}

/// The value at a reference in a view: segments split at `.`, the longest key that matches
/// first (names may hold dots).
pub fn lookup(view: &Value, reference: &str) -> Option<Value> {
    fn walk<'v>(value: &'v Value, segments: &[&str]) -> Option<&'v Value> {
        if segments.is_empty() {
            return Some(value);
        }
        let Value::Object(map) = value else {
            return None;
        };
        (1..=segments.len()).rev().find_map(|n| {
            map.get(&segments[..n].join("."))
                .and_then(|child| walk(child, &segments[n..]))
        })
    }
    let segments: Vec<&str> = reference.split('.').collect();
    walk(view, &segments).cloned()
}

/// Two values the same for the operator: collections compared without the generated record
/// `guid`s the page does not hold.
fn same(a: &Value, b: &Value) -> bool {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| match i {
                        Value::Object(m) => Value::Object(
                            m.iter()
                                .filter(|(k, _)| k.as_str() != "guid")
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                        ),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    strip(a) == strip(b)
}

/// A job's resources as the change log names them; unset reads `automatic` (or `default`).
fn resource_view(rc: &ResourceConfig) -> Value {
    let mut m = Map::new();
    let or = |v: Option<Value>, d: &str| v.unwrap_or_else(|| Value::String(d.into()));
    m.insert("instances".into(), or(rc.instances.clone(), "automatic"));
    m.insert(
        "instance_type".into(),
        or(rc.instance_type.clone().map(Value::String), "automatic"),
    );
    m.insert(
        "persistent_disk".into(),
        or(rc.persistent_disk_mb.clone(), "automatic"),
    );
    m.insert(
        "max_in_flight".into(),
        or(rc.max_in_flight.clone(), "default"),
    );
    for (k, v) in &rc.extra {
        m.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Value::Object(m)
}

fn name_of(v: Option<&Value>) -> Value {
    v.and_then(|v| v.get("name"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The Director's settings as the change log names them, secrets masked.
pub fn director_view(s: &DirectorSettings) -> Value {
    let mut out = Map::new();
    for (k, v) in &s.other_properties {
        out.insert(k.clone(), v.clone());
    }
    let mut iaas = Map::new();
    iaas.insert(
        "iaas".into(),
        serde_json::to_value(s.iaas).unwrap_or(Value::Null),
    );
    for (k, v) in &s.iaas_configuration {
        let shown = if !is_secret_key(k) {
            v.clone()
        } else if v.is_null() || v.as_str().is_some_and(str::is_empty) {
            Value::Null
        } else {
            Value::String(MASK.into())
        };
        iaas.insert(k.clone(), shown);
    }
    out.insert("iaas_configuration".into(), Value::Object(iaas));
    out.insert(
        "director_configuration".into(),
        Value::Object(redacted_director_configuration(&s.director_configuration)),
    );
    out.insert(
        "availability_zones".into(),
        Value::Object(
            s.azs
                .iter()
                .map(|az| {
                    let mut fields = az.fields.clone();
                    fields.remove("iaas_configuration_guid");
                    (az.name.clone(), Value::Object(fields))
                })
                .collect(),
        ),
    );
    out.insert(
        "networks".into(),
        Value::Object(
            s.networks
                .iter()
                .map(|n| (n.name.clone(), json!({ "subnets": n.subnets })))
                .collect(),
        ),
    );
    out.insert(
        "icmp_checks_enabled".into(),
        Value::Bool(s.icmp_checks_enabled),
    );
    let assignment = s.network_assignment.as_ref();
    out.insert(
        "network_and_az".into(),
        json!({
            "network": name_of(assignment.and_then(|a| a.get("network"))),
            "singleton_availability_zone":
                name_of(assignment.and_then(|a| a.get("singleton_availability_zone"))),
        }),
    );
    let vm_types = if s.vm_types.is_empty() {
        default_vm_types()
    } else {
        s.vm_types.clone()
    };
    out.insert(
        "vm_types".into(),
        Value::Object(
            vm_types
                .into_iter()
                .map(|v| {
                    let shown =
                        json!({"cpu": v.cpu, "ram": v.ram, "ephemeral_disk": v.ephemeral_disk});
                    (v.name, shown)
                })
                .collect(),
        ),
    );
    let disk_types = if s.disk_types.is_empty() {
        default_disk_types()
    } else {
        s.disk_types.clone()
    };
    out.insert(
        "disk_types".into(),
        Value::Object(
            disk_types
                .into_iter()
                .map(|d| (d.name(), json!(d.disk_size)))
                .collect(),
        ),
    );
    out.insert(
        "resource-config".into(),
        Value::Object(
            s.resources
                .iter()
                .map(|(job, rc)| (job.clone(), resource_view(rc)))
                .collect(),
        ),
    );
    out.insert(
        "vm_extensions".into(),
        Value::Object(
            s.vm_extensions
                .iter()
                .map(|e| (e.name.clone(), Value::Object(e.cloud_properties.clone())))
                .collect(),
        ),
    );
    Value::Object(out)
}

/// A product's placement, resources and errands as the change log names them. Errand rules
/// read `true`, `false`, `"when-changed"` or `"default"`.
pub fn placement_view(template: &ProductTemplate, settings: &ProductSettings) -> Value {
    let placement = settings.networks_and_azs.as_ref();
    let get = |k: &str| name_of(placement.and_then(|p| p.get(k)));
    let others: Vec<Value> = placement
        .and_then(|p| p.get("other_availability_zones"))
        .and_then(Value::as_array)
        .map(|list| list.iter().map(|v| name_of(Some(v))).collect())
        .unwrap_or_default();
    let mut resources = Map::new();
    for job in &template.job_types {
        let rc = settings
            .staged
            .resource(&job.name)
            .cloned()
            .unwrap_or_default();
        resources.insert(job.name.clone(), resource_view(&rc));
    }
    let mut errands = Map::new();
    for (phase, list) in [
        ("post_deploy", &template.post_deploy_errands),
        ("pre_delete", &template.pre_delete_errands),
    ] {
        for errand in list {
            let staged = settings.errands.get(&errand.name).and_then(|c| {
                if phase == "post_deploy" {
                    c.post_deploy.clone()
                } else {
                    c.pre_delete.clone()
                }
            });
            let entry = errands
                .entry(errand.name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                m.insert(
                    phase.into(),
                    staged.unwrap_or_else(|| Value::String("default".into())),
                );
            }
        }
    }
    json!({
        "networks_and_azs": {
            "network": get("network"),
            "singleton_availability_zone": get("singleton_availability_zone"),
            "other_availability_zones": others,
            "service_network": get("service_network"),
        },
        "resource-config": resources,
        "errands": errands,
    })
}

/// The fields of one subject (a product or the Director) at one moment, as a reader may see
/// them: what a reference holds and whether it is a credential.
pub struct Fields {
    view: Value,
    /// A product's property values (defaults applied) and its template.
    properties: Option<(Arc<ProductTemplate>, BTreeMap<String, Value>)>,
    director: bool,
}

impl Fields {
    pub fn director(settings: &DirectorSettings) -> Fields {
        Fields {
            view: director_view(settings),
            properties: None,
            director: true,
        }
    }

    pub fn product(template: &Arc<ProductTemplate>, settings: &ProductSettings) -> Fields {
        let mut staged = settings.staged.clone();
        tiles::properties::defaults::apply_defaults(template, &mut staged, &[]);
        Fields {
            view: placement_view(template, settings),
            properties: Some((template.clone(), staged.properties)),
            director: false,
        }
    }

    /// What `reference` holds now (redacted), and whether it is a credential.
    pub fn get(&self, reference: &str) -> (Value, bool) {
        if let (Some((template, properties)), true) = (&self.properties, reference.starts_with('.'))
        {
            let stored = properties.get(reference).cloned().unwrap_or(Value::Null);
            return redacted(template, reference, &stored);
        }
        let section_secret = || {
            reference
                .strip_prefix("director_configuration.")
                .and_then(|r| r.split_once('.'))
                .is_some_and(|(_, field)| is_director_section_secret(field))
        };
        let credential = self.director
            && (reference
                .strip_prefix("iaas_configuration.")
                .is_some_and(is_secret_key)
                || section_secret());
        (
            lookup(&self.view, reference).unwrap_or(Value::Null),
            credential,
        )
    }

    /// A save's changed entries made as fine as the view allows: a section that is an object
    /// (availability zones by name, a job's resources, an errand's phases) is named by the
    /// entries inside it that differ between `self` (before) and `after` (the view after the
    /// save: [`director_view`] or [`placement_view`]). Property references and leaves stay as
    /// they are.
    pub fn refine(&self, after: &Value, changed: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |entry: String| {
            if !out.contains(&entry) {
                out.push(entry);
            }
        };
        for entry in changed {
            if entry.starts_with('.') || is_whole(entry) {
                push(entry.clone());
                continue;
            }
            match (lookup(&self.view, entry), lookup(after, entry)) {
                (Some(Value::Object(before)), Some(Value::Object(now))) => {
                    let keys = before
                        .keys()
                        .chain(now.keys().filter(|k| !before.contains_key(*k)));
                    let differing: Vec<String> = keys
                        .filter(|k| before.get(*k) != now.get(*k))
                        .map(|k| format!("{entry}.{k}"))
                        .collect();
                    if differing.is_empty() {
                        push(entry.clone());
                    } else {
                        differing.into_iter().for_each(&mut push);
                    }
                }
                _ => push(entry.clone()),
            }
        }
        out
    }

    /// The values of `changed` here (before a save), credentials left out: what the change log
    /// keeps to tell "from … to …" later.
    pub fn previous(&self, changed: &[String]) -> Map<String, Value> {
        changed
            .iter()
            .filter(|r| !is_whole(r))
            .filter_map(|r| {
                let (value, credential) = self.get(r);
                (!credential).then(|| (r.clone(), value))
            })
            .collect()
    }
}

/// The saves after an operator's version, and whether they reach back to it.
struct ChangeLog {
    records: Vec<ChangeRecord>,
    complete: bool,
}

impl ChangeLog {
    /// The last save that changed `reference` (or may have: a revert).
    fn last_change(&self, reference: &str) -> Option<&ChangeRecord> {
        self.records.iter().rev().find(|r| {
            r.changed
                .iter()
                .any(|e| is_whole(e) || covers(e, reference))
        })
    }

    /// The value of `reference` before the first save that changed it, if that save logged it.
    fn previous(&self, reference: &str) -> Option<Value> {
        let first = self.records.iter().find(|r| {
            r.changed
                .iter()
                .any(|e| is_whole(e) || covers(e, reference))
        })?;
        first.previous.iter().find_map(|(k, v)| {
            if k == reference {
                Some(v.clone())
            } else if is_under(reference, k) {
                // A coarser entry: the field inside it (absent inside an existing section
                // reads as blank).
                Some(lookup(v, &reference[k.len() + 1..]).unwrap_or(Value::Null))
            } else {
                None
            }
        })
    }

    /// The entries logged within `scope` (references or their sections), first change first,
    /// without repeats; entries that name no field are in every scope.
    fn references_in(&self, scope: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for record in &self.records {
            for entry in &record.changed {
                let wanted = is_whole(entry) || scope.iter().any(|s| covers(s, entry));
                if wanted && !out.contains(entry) {
                    out.push(entry.clone());
                }
            }
        }
        out
    }

    /// Per candidate reference, whether to report it and what to say.
    fn explain(
        &self,
        candidates: &[String],
        now: &Fields,
        started_from: Option<&BTreeMap<String, Value>>,
    ) -> Vec<FieldChange> {
        let mut out = Vec::new();
        for reference in candidates {
            let (value, credential) = now.get(reference);
            let loaded = started_from.and_then(|m| m.get(reference)).cloned();
            let logged = self.last_change(reference);
            let previous = if credential || is_whole(reference) {
                None
            } else {
                self.previous(reference)
            };
            let differs = |loaded: &Option<Value>| match loaded {
                // A credential reads `***` before and after: only the log can tell.
                _ if credential => false,
                Some(l) => !same(l, &value),
                None => !value.is_null(),
            };
            let report = match (logged, &previous) {
                // Changed, but back to what the operator started from: nothing to tell.
                (Some(_), _) if !credential && started_from.is_some() => differs(&loaded),
                (Some(_), Some(before)) if !credential => !same(before, &value),
                (Some(_), _) => true,
                (None, _) => !self.complete && started_from.is_some() && differs(&loaded),
            };
            if report {
                out.push(FieldChange {
                    reference: reference.clone(),
                    changed_by: logged.map(|r| r.changed_by.clone()),
                    version: logged.map(|r| r.version),
                    value,
                    credential,
                    previous,
                    started_from: loaded,
                });
            }
        }
        out
    }
}

impl Products {
    async fn change_log(&self, subject: &str, since: i64, current: i64) -> Result<ChangeLog> {
        let records = self
            .store()
            .products()
            .change_records_since(subject, since)
            .await?;
        // The log reaches back to `since` when it holds the save right after it.
        let complete = records.first().is_some_and(|r| r.version == since + 1) || current <= since;
        Ok(ChangeLog { records, complete })
    }

    /// The fields among `references` that saves after version `since` changed, in `references`
    /// order, each with its current (redacted) value and who changed it. `started_from` holds the
    /// values the operator's page loaded (redacted as the page received them), when known.
    pub async fn field_changes(
        &self,
        guid: &str,
        since: i64,
        references: &[String],
        started_from: Option<&BTreeMap<String, Value>>,
    ) -> Result<Vec<FieldChange>> {
        let product = self.staged_product(guid).await?;
        let log = self
            .change_log(&product.guid, since, product.config_version)
            .await?;
        let now = Fields::product(&product.template, &product.settings);
        Ok(log.explain(references, &now, started_from))
    }

    /// What saves after version `since` changed within `scope` (references or whole sections:
    /// `director_configuration`, `availability_zones`, `resource-config.master`, `errands`…) of
    /// the Director or a product, from the change log, first change first.
    pub async fn stale_changes(
        &self,
        target: Target<'_>,
        since: i64,
        scope: &[String],
    ) -> Result<Vec<FieldChange>> {
        let director = match target {
            Target::Director => true,
            Target::Product(guid) => self.is_director(guid).await?,
        };
        let (subject, current, now) = if director {
            let view = self.director().await?;
            (
                DIRECTOR_SUBJECT.to_owned(),
                view.config_version,
                Fields::director(&view.settings),
            )
        } else {
            let Target::Product(guid) = target else {
                return Ok(Vec::new());
            };
            let product = self.staged_product(guid).await?;
            let now = Fields::product(&product.template, &product.settings);
            (product.guid, product.config_version, now)
        };
        let log = self.change_log(&subject, since, current).await?;
        let candidates = log.references_in(scope);
        Ok(log.explain(&candidates, &now, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: i64, changed: &[&str], by: &str, previous: Value) -> ChangeRecord {
        ChangeRecord {
            version,
            changed: changed.iter().map(|s| s.to_string()).collect(),
            changed_by: by.into(),
            previous: previous.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn coarse_and_fine_entries_cover_each_other() {
        assert!(covers("availability_zones", "availability_zones.az1"));
        assert!(covers("availability_zones.az1", "availability_zones"));
        assert!(covers(
            "resource-config.master",
            "resource-config.master.instances"
        ));
        assert!(!covers(
            "resource-config.master",
            "resource-config.master_2.instances"
        ));
        assert!(!covers("networks", "networks_and_azs.network"));
        assert!(covers(".properties.a", ".properties.a[0].b"));
    }

    #[test]
    fn lookup_finds_names_with_dots() {
        let view = json!({"availability_zones": {"zone.one": {"clusters": []}}, "a": {"b": 1}});
        assert_eq!(lookup(&view, "a.b"), Some(json!(1)));
        assert_eq!(
            lookup(&view, "availability_zones.zone.one"),
            Some(json!({"clusters": []}))
        );
        assert_eq!(lookup(&view, "a.c"), None);
    }

    #[test]
    fn director_secrets_are_credentials_and_masked() {
        let mut s = DirectorSettings::default();
        s.iaas_configuration
            .insert("vcenter_password".into(), json!("hunter2"));
        s.iaas_configuration
            .insert("vcenter_host".into(), json!("vc.example"));
        s.director_configuration
            .insert("ntp_servers_string".into(), json!("a.ntp"));
        let fields = Fields::director(&s);
        assert_eq!(
            fields.get("iaas_configuration.vcenter_password"),
            (json!("***"), true)
        );
        assert_eq!(
            fields.get("iaas_configuration.vcenter_host"),
            (json!("vc.example"), false)
        );
        // A whole section never carries a secret either.
        assert!(!fields
            .get("iaas_configuration")
            .0
            .to_string()
            .contains("hunter2"));
        let previous = fields.previous(&[
            "iaas_configuration.vcenter_password".into(),
            "director_configuration.ntp_servers_string".into(),
        ]);
        assert_eq!(
            Value::Object(previous),
            json!({"director_configuration.ntp_servers_string": "a.ntp"})
        );
    }

    #[test]
    fn sections_are_refined_to_the_entries_that_changed() {
        let before = DirectorSettings {
            azs: vec![super::super::AzSpec {
                guid: "g".into(),
                name: "az1".into(),
                fields: Map::new(),
            }],
            ..Default::default()
        };
        let mut after = before.clone();
        after.azs.push(super::super::AzSpec {
            guid: "h".into(),
            name: "az2".into(),
            fields: Map::new(),
        });
        after
            .director_configuration
            .insert("canaries".into(), json!(2));
        let refined = Fields::director(&before).refine(
            &director_view(&after),
            &[
                "availability_zones".into(),
                "director_configuration.canaries".into(),
            ],
        );
        assert_eq!(
            refined,
            vec![
                "availability_zones.az2".to_string(),
                "director_configuration.canaries".to_string()
            ]
        );
    }

    #[test]
    fn changes_say_who_from_what_and_skip_changes_undone() {
        let mut s = DirectorSettings::default();
        s.director_configuration
            .insert("ntp_servers_string".into(), json!("new.ntp"));
        s.director_configuration.insert("canaries".into(), json!(1));
        s.iaas_configuration
            .insert("vcenter_password".into(), json!("x"));
        let log = ChangeLog {
            records: vec![
                record(
                    4,
                    &[
                        "director_configuration.ntp_servers_string",
                        "director_configuration.canaries",
                        "iaas_configuration.vcenter_password",
                    ],
                    "bob",
                    json!({"director_configuration.ntp_servers_string": "old.ntp",
                           "director_configuration.canaries": 1}),
                ),
                record(
                    5,
                    &["director_configuration.canaries"],
                    "carol",
                    json!({"director_configuration.canaries": 3}),
                ),
            ],
            complete: true,
        };
        let candidates =
            log.references_in(&["director_configuration".into(), "iaas_configuration".into()]);
        let changes = log.explain(&candidates, &Fields::director(&s), None);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(
            changes[0].reference,
            "director_configuration.ntp_servers_string"
        );
        assert_eq!(changes[0].previous, Some(json!("old.ntp")));
        assert_eq!(changes[0].value, json!("new.ntp"));
        assert_eq!(changes[0].changed_by.as_deref(), Some("bob"));
        // canaries went 1 → 3 → 1: nothing to tell.
        assert_eq!(changes[1].reference, "iaas_configuration.vcenter_password");
        assert!(changes[1].credential);
        assert_eq!(changes[1].value, json!("***"));
        assert_eq!(changes[1].previous, None);
        // Out of scope: nothing.
        assert!(log.references_in(&["networks".into()]).is_empty());
    }

    #[test]
    fn a_revert_is_in_every_scope_and_older_coarse_entries_still_count() {
        let s = DirectorSettings::default();
        let log = ChangeLog {
            records: vec![
                record(2, &["availability_zones"], "bob", json!({})),
                record(
                    3,
                    &["reverted to the deployed configuration (version 1)"],
                    "carol",
                    json!({}),
                ),
            ],
            complete: true,
        };
        let candidates = log.references_in(&["availability_zones".into()]);
        assert_eq!(
            candidates,
            vec![
                "availability_zones".to_string(),
                "reverted to the deployed configuration (version 1)".to_string()
            ]
        );
        let changes = log.explain(&candidates, &Fields::director(&s), None);
        assert_eq!(changes.len(), 2);
        // The revert came last: it is the last change of the AZs too.
        assert_eq!(changes[0].changed_by.as_deref(), Some("carol"));
        assert_eq!(changes[1].changed_by.as_deref(), Some("carol"));
        assert_eq!(changes[1].previous, None);
    }
}
