//! Validation of a product's staged configuration against its metadata.
//!
//! This is the single authority for "is this configuration acceptable": the server runs it on
//! save and before Apply Changes, the browser runs the same code (per form, through
//! [`validate_form`]) while the operator types, and `om configure-product` input goes through
//! it too. Findings are data — a [`ValidationReport`] mapping each property reference to its
//! messages — so the HTTP layer can answer `422 {"errors": {…}}` directly.
//!
//! What is checked, per property (in Ops Manager's order and wording where known):
//! 1. blank and not `optional` → "can't be blank" (non-configurable properties are skipped:
//!    the operator cannot set them, Ops Manager fills them);
//! 2. the type's value shape and format ([`crate::properties::types`]);
//! 3. `freeze_on_deploy`: a value different from the deployed one is refused;
//! 4. integer constraints (with the deployed value for `may_only_increase`), string
//!    constraints in order, `options` membership;
//! 5. selectors: the value must name an option; only the *selected* option's sub-properties
//!    are validated (`.properties.SEL.OPTION.SUB`);
//! 6. collections: each record's fields (`.properties.COLL[i].FIELD`), `unique` fields, unique
//!    record `guid`s, `freeze_on_deploy` fields compared with the deployed record of the same
//!    guid;
//! 7. VM/disk type dropdowns against their `resource_definitions` minima.
//!
//! Per job: the instance count (`instance_definition` constraints, `zero_if`,
//! `may_only_increase` against the deployed count), the persistent disk and the chosen VM
//! type against `resource_definitions`. Those findings are keyed
//! `resource-config.JOB.instances|persistent_disk|instance_type`, after om's YAML section.
//!
//! Validation never panics, whatever the values: a value of the wrong JSON type gives a
//! message. Problems in the metadata itself (a regex the engine cannot run) are reported
//! apart, in `metadata_problems`, so an author's mistake is not shown as the operator's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::metadata::{JobType, ProductTemplate, PropertyBlueprint, ResourceDefinition};
use crate::properties::constraints::{as_integer, check_string};
use crate::properties::defaults::{default_value, effective_value, selected_option};
use crate::properties::staged::{Sized, StagedValues};
use crate::properties::types;

/// The message for a missing required value (Rails' wording, which Ops Manager shows).
pub const BLANK: &str = "can't be blank";
/// The message for a changed `freeze_on_deploy` value.
pub const FROZEN: &str = "Value can't be changed after it has been deployed";

/// A VM type of the installation's catalogue (what `vm_type_dropdown` and Resource Config
/// choose from), for checking `resource_definitions` minima.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmType {
    pub name: String,
    /// MB.
    pub ram: i64,
    pub cpu: i64,
    /// MB.
    pub ephemeral_disk: i64,
}

/// What validation needs besides the metadata and the staged values.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidationContext<'a> {
    /// The values of the last deploy, for `freeze_on_deploy` and `may_only_increase`; `None`
    /// before the first deploy.
    pub deployed: Option<&'a StagedValues>,
    /// Products present in the installation (for `conditional_default`).
    pub present_products: &'a [String],
    /// The VM type catalogue; empty means "unknown", and VM type checks are skipped.
    pub vm_types: &'a [VmType],
}

/// Validation findings: reference → messages. Empty `errors` means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub errors: BTreeMap<String, Vec<String>>,
    /// Problems of the metadata found while validating (not the operator's to fix).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata_problems: BTreeMap<String, Vec<String>>,
}

impl ValidationReport {
    /// True when there is nothing for the operator to fix.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// The messages for one reference (empty when none).
    pub fn messages(&self, reference: &str) -> &[String] {
        self.errors.get(reference).map_or(&[], Vec::as_slice)
    }

    fn add(&mut self, reference: &str, message: impl Into<String>) {
        self.errors
            .entry(reference.to_string())
            .or_default()
            .push(message.into());
    }

    fn add_all(&mut self, reference: &str, messages: Vec<String>) {
        for m in messages {
            self.add(reference, m);
        }
    }

    fn add_problem(&mut self, reference: &str, message: String) {
        let list = self
            .metadata_problems
            .entry(reference.to_string())
            .or_default();
        if !list.contains(&message) {
            list.push(message);
        }
    }
}

/// Validates every property and every job's resource settings of a product.
pub fn validate_product(
    template: &ProductTemplate,
    staged: &StagedValues,
    ctx: &ValidationContext<'_>,
) -> ValidationReport {
    let mut v = Validator {
        template,
        staged,
        ctx,
        report: ValidationReport::default(),
    };
    v.properties(None);
    for job in &template.job_types {
        v.job_resources(job);
    }
    for job in staged.resources.keys() {
        if template.job_type(job).is_none() {
            v.report.add(
                &format!("resource-config.{job}"),
                format!("The product has no job named '{job}'"),
            );
        }
    }
    v.report
}

/// Validates only the properties one form shows (the per-form Save of the settings pages).
/// An unknown form name is reported under `metadata_problems["form"]`.
pub fn validate_form(
    template: &ProductTemplate,
    form_name: &str,
    staged: &StagedValues,
    ctx: &ValidationContext<'_>,
) -> ValidationReport {
    let mut v = Validator {
        template,
        staged,
        ctx,
        report: ValidationReport::default(),
    };
    match template.form_type(form_name) {
        Some(form) => {
            let refs: BTreeSet<String> = form
                .property_inputs
                .iter()
                .filter_map(|input| template.property(&input.reference))
                .map(|p| p.reference)
                .collect();
            v.properties(Some(&refs));
        }
        None => v.report.add_problem(
            "form",
            format!("The product has no form named '{form_name}'"),
        ),
    }
    v.report
}

struct Validator<'a> {
    template: &'a ProductTemplate,
    staged: &'a StagedValues,
    ctx: &'a ValidationContext<'a>,
    report: ValidationReport,
}

/// How a blueprint is reached; decides whether `configurable: false` hides it.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    /// Product, job or selector-option property: non-configurable ones are skipped.
    Property,
    /// A collection record field: operators edit these whatever `configurable` says, except
    /// generated credentials.
    Record,
}

fn deployed_text(value: Option<&Value>) -> Option<i64> {
    value.and_then(as_integer)
}

/// The comparable text of a scalar (option names may be strings or integers).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl<'a> Validator<'a> {
    fn present(&self) -> &'a [String] {
        self.ctx.present_products
    }

    fn deployed(&self, reference: &str) -> Option<&'a Value> {
        self.ctx.deployed.and_then(|d| d.get(reference))
    }

    /// Product-level then job-level properties, optionally only the references in `only`.
    fn properties(&mut self, only: Option<&BTreeSet<String>>) {
        let template = self.template;
        let scopes = std::iter::once(("properties", &template.property_blueprints)).chain(
            template
                .job_types
                .iter()
                .map(|j| (j.name.as_str(), &j.property_blueprints)),
        );
        for (head, blueprints) in scopes {
            for bp in blueprints {
                let reference = format!(".{head}.{}", bp.name);
                if only.is_some_and(|set| !set.contains(&reference)) {
                    continue;
                }
                let value = effective_value(&reference, bp, self.staged, self.present());
                let deployed = self.deployed(&reference);
                self.check(&reference, bp, value, deployed, Place::Property);
            }
        }
    }

    fn check(
        &mut self,
        reference: &str,
        bp: &'a PropertyBlueprint,
        value: Option<Value>,
        deployed: Option<&'a Value>,
        place: Place,
    ) {
        let type_name = bp.property_type.as_str();
        let hidden = match place {
            Place::Property => !bp.configurable,
            Place::Record => !bp.configurable && types::is_generated(type_name),
        };
        if hidden {
            return;
        }
        let value = match value {
            Some(v) if !types::is_blank(type_name, &v) => v,
            _ => {
                if !bp.optional {
                    self.report.add(reference, BLANK);
                }
                return;
            }
        };
        let shape = types::check_shape(type_name, &value);
        if !shape.is_empty() {
            self.report.add_all(reference, shape);
            return;
        }
        // Collections compare their records one by one (below), not as a whole.
        if bp.freeze_on_deploy && type_name != "collection" {
            if let Some(old) = deployed {
                if *old != value {
                    self.report.add(reference, FROZEN);
                }
            }
        }
        match type_name {
            "integer" | "port" => {
                if let (Some(n), Some(c)) = (value.as_i64(), bp.integer_constraints()) {
                    let messages = c.check(n, deployed_text(deployed));
                    self.report.add_all(reference, messages);
                }
            }
            "dropdown_select" => self.check_options(reference, bp, std::slice::from_ref(&value)),
            "multi_select_options" => {
                if let Value::Array(items) = &value {
                    self.check_options(reference, bp, items);
                }
            }
            "selector" => self.check_selector(reference, bp, &value),
            "collection" => self.check_collection(reference, bp, &value, deployed),
            "vm_type_dropdown" => self.check_vm_type_dropdown(reference, bp, &value),
            "disk_type_dropdown" => self.check_disk_type_dropdown(reference, bp, &value),
            _ => {}
        }
        let text = match (&value, type_name) {
            (Value::String(s), _) => Some(s.as_str()),
            (Value::Object(map), "secret") => map.get("secret").and_then(Value::as_str),
            _ => None,
        };
        if let Some(text) = text {
            let check = check_string(bp.string_constraints(), text);
            self.report.add_all(reference, check.messages);
            for problem in check.metadata_problems {
                self.report.add_problem(reference, problem);
            }
        }
    }

    fn check_options(&mut self, reference: &str, bp: &PropertyBlueprint, chosen: &[Value]) {
        if bp.options.is_empty() {
            self.report.add_problem(
                reference,
                format!("{} property has no options", bp.property_type),
            );
            return;
        }
        let names: Vec<String> = bp.options.iter().map(|o| o.name_text()).collect();
        for value in chosen {
            let text = scalar_text(value).unwrap_or_default();
            if !names.contains(&text) {
                self.report.add(
                    reference,
                    format!("'{text}' is not one of the options: {}", names.join(", ")),
                );
            }
        }
    }

    fn check_selector(&mut self, reference: &str, bp: &'a PropertyBlueprint, value: &Value) {
        let Some(option) = selected_option(bp, value) else {
            let names: Vec<&str> = bp
                .option_templates()
                .iter()
                .map(|o| o.select_value.as_str())
                .collect();
            self.report.add(
                reference,
                format!(
                    "'{}' is not one of the options: {}",
                    scalar_text(value).unwrap_or_default(),
                    names.join(", ")
                ),
            );
            return;
        };
        for sub in &option.property_blueprints {
            let sub_ref = format!("{reference}.{}.{}", option.name, sub.name);
            let sub_value = effective_value(&sub_ref, sub, self.staged, self.present());
            let deployed = self.deployed(&sub_ref);
            self.check(&sub_ref, sub, sub_value, deployed, Place::Property);
        }
    }

    fn check_collection(
        &mut self,
        reference: &str,
        bp: &'a PropertyBlueprint,
        value: &Value,
        deployed: Option<&'a Value>,
    ) {
        let Value::Array(records) = value else { return };
        let deployed_by_guid: HashMap<&str, &'a Value> = match deployed {
            Some(Value::Array(old)) => old
                .iter()
                .filter_map(|r| r.get("guid").and_then(Value::as_str).map(|g| (g, r)))
                .collect(),
            _ => HashMap::new(),
        };
        let mut seen_guids: HashMap<String, usize> = HashMap::new();
        // For `unique` fields: (field, value text) → first record index.
        let mut seen_values: HashMap<(String, String), usize> = HashMap::new();
        for (i, record) in records.iter().enumerate() {
            let Value::Object(map) = record else { continue };
            let guid = map.get("guid");
            let old_record = guid
                .and_then(Value::as_str)
                .and_then(|g| deployed_by_guid.get(g).copied());
            match guid {
                None | Some(Value::Null) => {}
                Some(Value::String(g)) => {
                    if let Some(first) = seen_guids.get(g) {
                        self.report.add(
                            &format!("{reference}[{i}].guid"),
                            format!("guid must be unique (record {first} has the same guid)"),
                        );
                    } else {
                        seen_guids.insert(g.clone(), i);
                    }
                }
                Some(_) => self
                    .report
                    .add(&format!("{reference}[{i}].guid"), "guid must be text"),
            }
            for sub in bp.sub_blueprints() {
                let field_ref = format!("{reference}[{i}].{}", sub.name);
                let field = map
                    .get(&sub.name)
                    .filter(|v| !v.is_null())
                    .cloned()
                    .or_else(|| default_value(sub, self.present()));
                let old_field = old_record.and_then(|r| r.get(&sub.name));
                if sub.unique {
                    if let Some(f) = field.as_ref().filter(|f| !types::is_blank("", f)) {
                        let key = (sub.name.clone(), f.to_string());
                        if let Some(first) = seen_values.get(&key) {
                            self.report.add(
                                &field_ref,
                                format!("Value must be unique (record {first} has the same value)"),
                            );
                        } else {
                            seen_values.insert(key, i);
                        }
                    }
                }
                self.check(&field_ref, sub, field, old_field, Place::Record);
            }
        }
    }

    /// Checks `constraints` of every resource definition named `name` against `amount`.
    fn check_resource_minimum(
        &mut self,
        reference: &str,
        definitions: &[ResourceDefinition],
        name: &str,
        amount: i64,
        prefix: &str,
    ) {
        for def in definitions.iter().filter(|d| d.name == name) {
            if let Some(c) = &def.constraints {
                for m in c.check(amount, None) {
                    self.report.add(reference, format!("{prefix}{name}: {m}"));
                }
            }
        }
    }

    fn vm_type(&self, name: &str) -> Option<&'a VmType> {
        self.ctx.vm_types.iter().find(|t| t.name == name)
    }

    fn check_vm_type_dropdown(&mut self, reference: &str, bp: &PropertyBlueprint, value: &Value) {
        let Some(name) = value.as_str() else { return };
        if self.ctx.vm_types.is_empty() || name.eq_ignore_ascii_case("automatic") {
            return;
        }
        match self.vm_type(name) {
            None => self
                .report
                .add(reference, format!("'{name}' is not a known VM type")),
            Some(vm) => {
                let prefix = format!("VM type '{name}' ");
                for (res, amount) in [
                    ("ram", vm.ram),
                    ("cpu", vm.cpu),
                    ("ephemeral_disk", vm.ephemeral_disk),
                ] {
                    self.check_resource_minimum(
                        reference,
                        &bp.resource_definitions,
                        res,
                        amount,
                        &prefix,
                    );
                }
            }
        }
    }

    fn check_disk_type_dropdown(&mut self, reference: &str, bp: &PropertyBlueprint, value: &Value) {
        // A disk type is written as its size in MB; named types carry no number to check.
        let Some(mb) = as_integer(value) else { return };
        self.check_resource_minimum(
            reference,
            &bp.resource_definitions,
            "persistent_disk",
            mb,
            "",
        );
        if let Some(c) = bp.integer_constraints() {
            self.report.add_all(reference, c.check(mb, None));
        }
    }

    /// The `select_value` (or scalar text) a `zero_if` reference currently has.
    fn zero_if_text(&self, reference: &str) -> Option<String> {
        let pref = self.template.property(reference)?;
        let value = effective_value(&pref.reference, pref.blueprint, self.staged, self.present())?;
        if pref.blueprint.option_templates().is_empty() {
            return scalar_text(&value);
        }
        selected_option(pref.blueprint, &value)
            .map(|o| o.select_value.clone())
            .or_else(|| scalar_text(&value))
    }

    fn job_resources(&mut self, job: &'a JobType) {
        let rc = self.staged.resource(&job.name);
        let deployed_rc = self.ctx.deployed.and_then(|d| d.resource(&job.name));
        if let Some(def) = &job.instance_definition {
            let key = format!("resource-config.{}.instances", job.name);
            let staged = rc.map_or(Ok(Sized::Automatic), |r| r.instances());
            let forced_zero = def.zero_if.as_ref().is_some_and(|z| {
                self.zero_if_text(&z.property_reference)
                    .is_some_and(|t| z.property_values.contains(&t))
            });
            let manual_zero_allowed = def
                .zero_if
                .as_ref()
                .is_some_and(|z| z.allow_manual_selection_of_zero);
            let count = match staged {
                Err(text) => {
                    self.report
                        .add(&key, format!("'{text}' is not a number of instances"));
                    None
                }
                Ok(Sized::Value(n)) => {
                    if !def.configurable && Some(n) != def.default && !forced_zero {
                        self.report
                            .add(&key, "The number of instances of this job can't be changed");
                    }
                    Some(n)
                }
                Ok(Sized::Automatic) => def.default,
            };
            let deployed_count =
                deployed_rc
                    .and_then(|r| r.instances().ok())
                    .and_then(|s| match s {
                        Sized::Value(n) => Some(n),
                        Sized::Automatic => def.default,
                    });
            match count {
                Some(n) if n < 0 => self
                    .report
                    .add(&key, "Value must be greater than or equal to 0"),
                Some(0) if forced_zero || manual_zero_allowed => {}
                Some(_) if forced_zero => {}
                Some(n) => {
                    if let Some(c) = &def.constraints {
                        let messages = c.check(n, deployed_count);
                        self.report.add_all(&key, messages);
                    }
                }
                None => {}
            }
        }
        if let Some(def) = job.resource_definition("persistent_disk") {
            let key = format!("resource-config.{}.persistent_disk", job.name);
            match rc.map_or(Ok(Sized::Automatic), |r| r.persistent_disk_mb()) {
                Err(text) => self
                    .report
                    .add(&key, format!("'{text}' is not a disk size in MB")),
                Ok(Sized::Value(mb)) => {
                    if let Some(c) = &def.constraints {
                        self.report.add_all(&key, c.check(mb, None));
                    }
                }
                Ok(Sized::Automatic) => {}
            }
        }
        if let Some(name) = rc.and_then(|r| r.vm_type()) {
            if !self.ctx.vm_types.is_empty() {
                let key = format!("resource-config.{}.instance_type", job.name);
                match self.vm_type(name) {
                    None => self
                        .report
                        .add(&key, format!("'{name}' is not a known VM type")),
                    Some(vm) => {
                        for (res, amount) in [
                            ("ram", vm.ram),
                            ("cpu", vm.cpu),
                            ("ephemeral_disk", vm.ephemeral_disk),
                        ] {
                            self.check_resource_minimum(
                                &key,
                                &job.resource_definitions,
                                res,
                                amount,
                                "",
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::staged::ResourceConfig;
    use serde_json::json;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";

    const TILE: &str = r#"
name: example
product_version: "1.0"
metadata_version: "2.5"
form_types:
- name: main
  label: Main
  property_inputs:
  - {reference: .properties.name, label: Name}
  - {reference: .properties.count, label: Count}
property_blueprints:
- name: name
  type: string
  configurable: true
  default: Hello world
  constraints:
  - must_match_regex: '\A[^!@#$%^&*()]*\z'
    error_message: This name cannot contain special characters.
  - must_match_regex: '\A[^0-9]*\z'
    error_message: This name cannot contain digits.
- {name: count, type: integer, configurable: true, default: 3, constraints: {min: 1, max: 9, may_only_increase: true}}
- {name: hostname, type: network_address, configurable: true}
- {name: maybe, type: string, configurable: true, optional: true}
- {name: hidden, type: string}
- {name: frozen, type: string, configurable: true, freeze_on_deploy: true, default: a}
- {name: token, type: secret, configurable: true, constraints: [{must_match_regex: '\A.{8,}\z', error_message: Token too short}]}
- {name: backup_schedule, type: string, configurable: true, default: "0 2 * * *", constraints: [{must_be_cron_schedule: true, error_message: Not a cron schedule}]}
- {name: broken_regex, type: string, configurable: true, default: x, constraints: [{must_match_regex: '(?>x)', error_message: never}]}
- name: flavour
  type: dropdown_select
  configurable: true
  default: rare
  options: [{name: rare, label: Rare}, {name: medium, label: Medium}]
- name: planets
  type: multi_select_options
  configurable: true
  optional: true
  options: [{name: earth, label: Earth}, {name: mars, label: Mars}]
- name: food
  type: selector
  configurable: true
  default: Pizza
  option_templates:
  - name: pizza_option
    select_value: Pizza
    property_blueprints:
    - {name: slices, type: integer, configurable: true, default: 8, constraints: {min: 4}}
  - name: filet_mignon_option
    select_value: Filet Mignon
    property_blueprints:
    - {name: doneness, type: string, configurable: true}
- name: albums
  type: collection
  configurable: true
  optional: true
  property_blueprints:
  - {name: album, type: string, unique: true, freeze_on_deploy: true}
  - {name: artist, type: string}
  - {name: explicit, type: boolean, default: false}
  - {name: generated, type: secret}
- name: master_vm
  type: vm_type_dropdown
  configurable: true
  default: medium
  resource_definitions:
  - {name: ram, type: integer, default: 1024, constraints: {min: 4096}}
- name: master_disk
  type: disk_type_dropdown
  configurable: true
  default: "10240"
  resource_definitions:
  - {name: persistent_disk, type: integer, default: 1024, constraints: {min: 5120}}
job_types:
- name: web_server
  resource_label: Web
  templates: []
  instance_definition:
    name: instances
    type: integer
    configurable: true
    default: 1
    constraints: {max: 3, may_only_increase: true}
    zero_if:
      property_reference: .properties.food
      property_values: [Filet Mignon]
  resource_definitions:
  - {name: ram, type: integer, configurable: true, default: 1024, constraints: {min: 2048}}
  - {name: persistent_disk, type: integer, configurable: true, default: 2048, constraints: {min: 1024}}
  property_blueprints:
  - {name: port, type: port, configurable: true, default: 8080}
  - {name: cert, type: rsa_cert_credentials, configurable: true}
- name: fixed
  templates: []
  instance_definition: {name: instances, type: integer, configurable: false, default: 1}
"#;

    fn tile() -> ProductTemplate {
        ProductTemplate::from_yaml(TILE).expect("test tile")
    }

    /// A complete, valid configuration of the test tile.
    fn good() -> StagedValues {
        let mut s = StagedValues::new();
        s.set(".properties.hostname", json!("nats.example.com"));
        s.set(".properties.token", json!({"secret": "long enough"}));
        s.set(
            ".web_server.cert",
            json!({"cert_pem": CERT, "private_key_pem": KEY}),
        );
        s
    }

    fn run(s: &StagedValues) -> ValidationReport {
        validate_product(&tile(), s, &ValidationContext::default())
    }

    #[test]
    fn complete_configuration_is_valid() {
        let r = run(&good());
        assert!(r.is_valid(), "{:#?}", r.errors);
        assert_eq!(
            r.metadata_problems
                .get(".properties.broken_regex")
                .map(Vec::len),
            Some(1),
            "{:?}",
            r.metadata_problems
        );
    }

    #[test]
    fn blank_required_values() {
        let mut s = good();
        s.remove(".properties.hostname");
        s.set(".properties.name", Value::Null); // cleared by the operator
        s.set(
            ".web_server.cert",
            json!({"cert_pem": "", "private_key_pem": ""}),
        );
        let r = run(&s);
        assert_eq!(r.messages(".properties.hostname"), [BLANK]);
        assert_eq!(r.messages(".properties.name"), [BLANK]);
        assert_eq!(r.messages(".web_server.cert"), [BLANK]);
        // Optional and non-configurable properties are never blank errors.
        assert!(r.messages(".properties.maybe").is_empty());
        assert!(r.messages(".properties.hidden").is_empty());
        assert_eq!(r.errors.len(), 3, "{:#?}", r.errors);
    }

    #[test]
    fn regex_constraints_in_order_with_their_messages() {
        let mut s = good();
        s.set(".properties.name", json!("R2-D2 (droid)"));
        assert_eq!(
            run(&s).messages(".properties.name"),
            [
                "This name cannot contain special characters.",
                "This name cannot contain digits."
            ]
        );
        s.set(".properties.token", json!({"secret": "short"}));
        assert_eq!(run(&s).messages(".properties.token"), ["Token too short"]);
        s.set(".properties.backup_schedule", json!("every night"));
        assert_eq!(
            run(&s).messages(".properties.backup_schedule"),
            ["Not a cron schedule"]
        );
    }

    #[test]
    fn wrong_json_types_give_messages() {
        let mut s = good();
        s.set(".properties.count", json!("three"));
        s.set(".properties.hostname", json!(["a"]));
        s.set(".properties.token", json!("bare"));
        s.set(".web_server.port", json!(70000));
        s.set(".properties.flavour", json!({"x": 1}));
        let r = run(&s);
        assert_eq!(
            r.messages(".properties.count"),
            ["Value must be an integer, not text"]
        );
        assert_eq!(
            r.messages(".properties.hostname"),
            ["Value must be text, not a list"]
        );
        assert!(r.messages(".properties.token")[0].contains("\"secret\""));
        assert_eq!(
            r.messages(".web_server.port"),
            ["Value must be a port number between 0 and 65535"]
        );
        assert_eq!(r.messages(".properties.flavour").len(), 1);
    }

    #[test]
    fn integer_constraints_and_may_only_increase() {
        let mut s = good();
        s.set(".properties.count", json!(0));
        assert_eq!(
            run(&s).messages(".properties.count"),
            ["Value must be greater than or equal to 1"]
        );
        s.set(".properties.count", json!(10));
        assert_eq!(
            run(&s).messages(".properties.count"),
            ["Value must be less than or equal to 9"]
        );
        let mut deployed = good();
        deployed.set(".properties.count", json!(5));
        s.set(".properties.count", json!(4));
        let ctx = ValidationContext {
            deployed: Some(&deployed),
            ..Default::default()
        };
        let r = validate_product(&tile(), &s, &ctx);
        assert_eq!(
            r.messages(".properties.count"),
            ["Value may only increase (deployed value is 5)"]
        );
        s.set(".properties.count", json!(5));
        assert!(validate_product(&tile(), &s, &ctx).is_valid());
    }

    #[test]
    fn freeze_on_deploy() {
        let mut s = good();
        s.set(".properties.frozen", json!("b"));
        assert!(run(&s).is_valid(), "nothing deployed yet");
        let deployed = good(); // deployed with the default "a" (no staged key)
        let mut deployed_with_value = deployed.clone();
        deployed_with_value.set(".properties.frozen", json!("a"));
        let ctx = ValidationContext {
            deployed: Some(&deployed_with_value),
            ..Default::default()
        };
        assert_eq!(
            validate_product(&tile(), &s, &ctx).messages(".properties.frozen"),
            [FROZEN]
        );
        s.set(".properties.frozen", json!("a"));
        assert!(validate_product(&tile(), &s, &ctx).is_valid());
    }

    #[test]
    fn options_of_dropdowns() {
        let mut s = good();
        s.set(".properties.flavour", json!("well done"));
        s.set(".properties.planets", json!(["earth", "pluto"]));
        let r = run(&s);
        assert_eq!(
            r.messages(".properties.flavour"),
            ["'well done' is not one of the options: rare, medium"]
        );
        assert_eq!(
            r.messages(".properties.planets"),
            ["'pluto' is not one of the options: earth, mars"]
        );
    }

    #[test]
    fn selector_sub_properties_only_for_the_selected_option() {
        let mut s = good();
        // Garbage under the unselected option is ignored.
        s.set(".properties.food.filet_mignon_option.doneness", json!(42));
        s.set(".properties.food.pizza_option.slices", json!(2));
        let r = run(&s);
        assert_eq!(
            r.messages(".properties.food.pizza_option.slices"),
            ["Value must be greater than or equal to 4"]
        );
        assert!(r
            .messages(".properties.food.filet_mignon_option.doneness")
            .is_empty());
        // Selecting the other option (by select_value or by option name) flips it.
        for chosen in ["Filet Mignon", "filet_mignon_option"] {
            s.set(".properties.food", json!(chosen));
            let r = run(&s);
            assert!(r
                .messages(".properties.food.pizza_option.slices")
                .is_empty());
            assert_eq!(
                r.messages(".properties.food.filet_mignon_option.doneness"),
                ["Value must be text, not a number"]
            );
        }
        s.set(".properties.food", json!("Sushi"));
        assert_eq!(
            run(&s).messages(".properties.food"),
            ["'Sushi' is not one of the options: Pizza, Filet Mignon"]
        );
    }

    #[test]
    fn collections_records_unique_and_guids() {
        let mut s = good();
        s.set(
            ".properties.albums",
            json!([
                {"guid": "g1", "album": "Blue", "artist": "Joni"},
                {"guid": "g2", "album": "Blue", "artist": "Weezer", "explicit": "no"},
                {"guid": "g1", "album": "Court", "artist": null}
            ]),
        );
        let r = run(&s);
        assert_eq!(
            r.messages(".properties.albums[1].album"),
            ["Value must be unique (record 0 has the same value)"]
        );
        assert_eq!(
            r.messages(".properties.albums[1].explicit"),
            ["Value must be true or false, not text"]
        );
        assert_eq!(
            r.messages(".properties.albums[2].guid"),
            ["guid must be unique (record 0 has the same guid)"]
        );
        assert_eq!(r.messages(".properties.albums[2].artist"), [BLANK]);
        // The non-configurable secret field is generated, never a blank error.
        assert!(r.messages(".properties.albums[0].generated").is_empty());
        assert_eq!(r.errors.len(), 4, "{:#?}", r.errors);
        // A record that is not a map.
        s.set(".properties.albums", json!([1]));
        assert_eq!(
            run(&s).messages(".properties.albums"),
            ["Each record of a collection must be a map"]
        );
    }

    #[test]
    fn collection_fields_freeze_per_record() {
        let mut deployed = good();
        deployed.set(
            ".properties.albums",
            json!([{"guid": "g1", "album": "Blue", "artist": "Joni"}]),
        );
        let ctx = ValidationContext {
            deployed: Some(&deployed),
            ..Default::default()
        };
        let mut s = good();
        s.set(
            ".properties.albums",
            json!([
                {"guid": "g1", "album": "Hejira", "artist": "Joni Mitchell"},
                {"guid": "g2", "album": "Blue", "artist": "Someone"}
            ]),
        );
        let r = validate_product(&tile(), &s, &ctx);
        assert_eq!(r.messages(".properties.albums[0].album"), [FROZEN]);
        // Not frozen: artist; a new record may use any album.
        assert!(r.messages(".properties.albums[0].artist").is_empty());
        assert!(r.messages(".properties.albums[1].album").is_empty());
        assert_eq!(r.errors.len(), 1, "{:#?}", r.errors);
    }

    #[test]
    fn instance_definition_and_zero_if() {
        let mut s = good();
        let set_instances = |s: &mut StagedValues, n: Value| {
            s.resources.insert(
                "web_server".into(),
                ResourceConfig {
                    instances: Some(n),
                    ..Default::default()
                },
            );
        };
        set_instances(&mut s, json!(4));
        assert_eq!(
            run(&s).messages("resource-config.web_server.instances"),
            ["Value must be less than or equal to 3"]
        );
        set_instances(&mut s, json!("many"));
        assert_eq!(
            run(&s).messages("resource-config.web_server.instances"),
            ["'many' is not a number of instances"]
        );
        set_instances(&mut s, json!("automatic"));
        assert!(run(&s).is_valid());
        // zero_if: the selector picks Filet Mignon, so the job runs 0 instances whatever
        // the constraints say.
        set_instances(&mut s, json!(0));
        s.set(".properties.food", json!("Filet Mignon"));
        s.set(
            ".properties.food.filet_mignon_option.doneness",
            json!("rare"),
        );
        assert!(run(&s).is_valid(), "{:#?}", run(&s).errors);
        // may_only_increase against the deployed count.
        s.set(".properties.food", json!("Pizza"));
        set_instances(&mut s, json!(1));
        let mut deployed = good();
        set_instances(&mut deployed, json!(2));
        let ctx = ValidationContext {
            deployed: Some(&deployed),
            ..Default::default()
        };
        assert_eq!(
            validate_product(&tile(), &s, &ctx).messages("resource-config.web_server.instances"),
            ["Value may only increase (deployed value is 2)"]
        );
        // A non-configurable count cannot be changed.
        let mut s = good();
        s.resources.insert(
            "fixed".into(),
            ResourceConfig {
                instances: Some(json!(2)),
                ..Default::default()
            },
        );
        assert_eq!(
            run(&s).messages("resource-config.fixed.instances"),
            ["The number of instances of this job can't be changed"]
        );
    }

    #[test]
    fn resource_definitions_disk_and_vm_types() {
        let vm_types = vec![
            VmType {
                name: "micro".into(),
                ram: 1024,
                cpu: 1,
                ephemeral_disk: 8192,
            },
            VmType {
                name: "medium".into(),
                ram: 4096,
                cpu: 2,
                ephemeral_disk: 16384,
            },
        ];
        let ctx = ValidationContext {
            vm_types: &vm_types,
            ..Default::default()
        };
        let mut s = good();
        assert!(validate_product(&tile(), &s, &ctx).is_valid());
        s.resources.insert(
            "web_server".into(),
            ResourceConfig {
                instance_type: Some("micro".into()),
                persistent_disk_mb: Some(json!("512")),
                ..Default::default()
            },
        );
        s.set(".properties.master_vm", json!("micro"));
        s.set(".properties.master_disk", json!("1024"));
        let r = validate_product(&tile(), &s, &ctx);
        assert_eq!(
            r.messages("resource-config.web_server.instance_type"),
            ["ram: Value must be greater than or equal to 2048"]
        );
        assert_eq!(
            r.messages("resource-config.web_server.persistent_disk"),
            ["Value must be greater than or equal to 1024"]
        );
        assert_eq!(
            r.messages(".properties.master_vm"),
            ["VM type 'micro' ram: Value must be greater than or equal to 4096"]
        );
        assert_eq!(
            r.messages(".properties.master_disk"),
            ["persistent_disk: Value must be greater than or equal to 5120"]
        );
        s.set(".properties.master_vm", json!("xlarge"));
        assert_eq!(
            validate_product(&tile(), &s, &ctx).messages(".properties.master_vm"),
            ["'xlarge' is not a known VM type"]
        );
        // Without a catalogue the VM type is not judged.
        assert!(run(&s).messages(".properties.master_vm").is_empty());
    }

    #[test]
    fn unknown_jobs_in_resource_config() {
        let mut s = good();
        s.resources.insert("nope".into(), ResourceConfig::default());
        assert_eq!(
            run(&s).messages("resource-config.nope"),
            ["The product has no job named 'nope'"]
        );
    }

    #[test]
    fn per_form_validation() {
        let mut s = StagedValues::new(); // hostname, token, cert missing: not on this form
        s.set(".properties.count", json!(0));
        let ctx = ValidationContext::default();
        let r = validate_form(&tile(), "main", &s, &ctx);
        assert_eq!(
            r.messages(".properties.count"),
            ["Value must be greater than or equal to 1"]
        );
        assert_eq!(r.errors.len(), 1, "{:#?}", r.errors);
        let r = validate_form(&tile(), "nope", &s, &ctx);
        assert!(r.is_valid());
        assert!(r.metadata_problems.contains_key("form"));
    }

    #[test]
    fn report_serializes_as_the_api_error_body() {
        let mut s = good();
        s.remove(".properties.hostname");
        let body = serde_json::to_value(run(&s)).unwrap();
        assert_eq!(body["errors"], json!({".properties.hostname": [BLANK]}));
    }

    // ---- the real PKS tile ----

    fn pks() -> ProductTemplate {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/tiles/pks-1.1.3.yml"
        );
        let text = std::fs::read_to_string(path).expect("PKS fixture");
        ProductTemplate::from_yaml(&text).expect("PKS metadata loads")
    }

    /// A realistic vSphere + flannel configuration with one active plan.
    fn pks_config() -> StagedValues {
        let mut s = StagedValues::new();
        for (reference, value) in [
            (".properties.cloud_provider", json!("vSphere")),
            (
                ".properties.cloud_provider.vsphere.vcenter_master_creds",
                json!({"identity": "administrator@vsphere.local", "password": "VMware1!"}),
            ),
            (
                ".properties.cloud_provider.vsphere.vcenter_ip",
                json!("vcsa.example.com"),
            ),
            (
                ".properties.cloud_provider.vsphere.vcenter_dc",
                json!("Datacenter"),
            ),
            (
                ".properties.cloud_provider.vsphere.vcenter_ds",
                json!("datastore1"),
            ),
            (
                ".properties.cloud_provider.vsphere.vcenter_vms",
                json!("pks_vms"),
            ),
            (".properties.network_selector", json!("flannel")),
            (".properties.plan1_selector", json!("Plan Active")),
            (
                ".properties.plan1_selector.active.master_az_placement",
                json!(["az1"]),
            ),
            (
                ".properties.plan1_selector.active.worker_az_placement",
                json!(["az1", "az2"]),
            ),
            (".properties.plan2_selector", json!("Plan Inactive")),
            (".properties.plan3_selector", json!("Plan Inactive")),
            (".properties.pks_api_hostname", json!("api.pks.example.com")),
            (".properties.telemetry_selector", json!("disabled")),
            (
                ".pivotal-container-service.pks_tls",
                json!({"cert_pem": CERT, "private_key_pem": KEY}),
            ),
        ] {
            s.set(reference, value);
        }
        s
    }

    #[test]
    fn pks_complete_configuration_is_valid() {
        let t = pks();
        let s = pks_config();
        let r = validate_product(&t, &s, &ValidationContext::default());
        assert!(r.is_valid(), "{:#?}", r.errors);
        assert!(r.metadata_problems.is_empty(), "{:#?}", r.metadata_problems);
        // Every form validates on its own too.
        for form in &t.form_types {
            let r = validate_form(&t, &form.name, &s, &ValidationContext::default());
            assert!(r.is_valid(), "{}: {:#?}", form.name, r.errors);
        }
    }

    #[test]
    fn pks_unconfigured_tile_lists_what_is_missing() {
        let t = pks();
        let r = validate_product(&t, &StagedValues::new(), &ValidationContext::default());
        for reference in [
            ".properties.cloud_provider",
            ".properties.pks_api_hostname",
            ".properties.plan2_selector",
            ".properties.telemetry_selector",
            ".properties.plan1_selector.active.master_az_placement",
            ".pivotal-container-service.pks_tls",
        ] {
            assert_eq!(r.messages(reference), [BLANK], "{reference}");
        }
        // Defaults fill the rest: plan 1's instance counts, flannel networking…
        assert!(r
            .messages(".properties.plan1_selector.active.master_instances")
            .is_empty());
        assert_eq!(r.errors.len(), 8, "{:#?}", r.errors);
    }

    #[test]
    fn pks_broken_values_get_specific_messages() {
        let t = pks();
        let mut s = pks_config();
        s.set(
            ".properties.plan1_selector.active.master_instances",
            json!(2),
        );
        s.set(
            ".properties.plan1_selector.active.worker_instances",
            json!(0),
        );
        s.set(".properties.plan1_selector.active.name", json!(""));
        s.set(
            ".properties.uaa_pks_cli_access_token_lifetime",
            json!("ten minutes"),
        );
        s.set(".properties.cloud_provider", json!("AWS"));
        s.set(".properties.pks_api_hostname", json!(42));
        // NSX settings are ignored while flannel is selected…
        s.set(
            ".properties.network_selector.nsx.nsx-t-host",
            json!("not a host"),
        );
        // …and checked once NSX is selected.
        s.resources.insert(
            "pivotal-container-service".into(),
            crate::properties::staged::ResourceConfig {
                instances: Some(json!(2)),
                persistent_disk_mb: Some(json!(1024)),
                ..Default::default()
            },
        );
        let r = validate_product(&t, &s, &ValidationContext::default());
        assert_eq!(
            r.messages(".properties.plan1_selector.active.master_instances"),
            ["Value must be an odd number or zero"]
        );
        assert_eq!(
            r.messages(".properties.plan1_selector.active.worker_instances"),
            ["Value must be greater than or equal to 1"]
        );
        assert_eq!(
            r.messages(".properties.plan1_selector.active.name"),
            [BLANK]
        );
        assert_eq!(
            r.messages(".properties.uaa_pks_cli_access_token_lifetime"),
            ["Value must be an integer, not text"]
        );
        assert_eq!(
            r.messages(".properties.cloud_provider"),
            ["'AWS' is not one of the options: GCP, vSphere"]
        );
        assert_eq!(
            r.messages(".properties.pks_api_hostname"),
            ["Value must be text, not a number"]
        );
        assert!(r
            .messages(".properties.network_selector.nsx.nsx-t-host")
            .is_empty());
        assert_eq!(
            r.messages("resource-config.pivotal-container-service.instances"),
            [
                "The number of instances of this job can't be changed",
                "Value must be less than or equal to 1"
            ]
        );
        assert_eq!(
            r.messages("resource-config.pivotal-container-service.persistent_disk"),
            ["Value must be greater than or equal to 3072"]
        );
        assert_eq!(r.errors.len(), 8, "{:#?}", r.errors);

        s.set(".properties.network_selector", json!("nsx"));
        let r = validate_product(&t, &s, &ValidationContext::default());
        assert_eq!(
            r.messages(".properties.network_selector.nsx.nsx-t-host"),
            ["'not a host' is not a valid hostname or IP address"]
        );
        assert_eq!(
            r.messages(".properties.network_selector.nsx.t0-router-id"),
            [BLANK]
        );
    }

    #[test]
    fn pks_plan_instances_may_only_be_odd_at_each_boundary() {
        let t = pks();
        for (n, ok) in [(1, true), (2, false), (3, true), (4, false), (0, false)] {
            let mut s = pks_config();
            s.set(
                ".properties.plan1_selector.active.master_instances",
                json!(n),
            );
            let r = validate_product(&t, &s, &ValidationContext::default());
            assert_eq!(r.is_valid(), ok, "{n}: {:#?}", r.errors);
        }
    }

    // ---- never panics ----

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::from),
            "[a-z0-9.*:/@, -]{0,24}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("secret".to_string()),
                        Just("identity".to_string()),
                        Just("password".to_string()),
                        Just("cert_pem".to_string()),
                        Just("guid".to_string()),
                        Just("album".to_string()),
                        "[a-z]{1,6}"
                    ],
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn random_values_never_panic(
            type_index in 0usize..types::PROPERTY_TYPES.len() + 1,
            value in any_json(),
            deployed in any_json(),
            instances in any_json(),
        ) {
            let type_name = types::PROPERTY_TYPES.get(type_index).copied().unwrap_or("mystery");
            let _ = types::check_shape(type_name, &value);
            let _ = types::is_blank(type_name, &value);
            let _ = types::coerce(type_name, value.clone());
            let _ = types::redact(type_name, &value);
            // Every known type in one tile, each given the random value.
            let t = tile();
            let mut s = StagedValues::new();
            let mut d = StagedValues::new();
            for pref in t.property_refs() {
                s.set(pref.reference.clone(), value.clone());
                d.set(pref.reference.clone(), deployed.clone());
            }
            s.set(".properties.albums", json!([value.clone(), {"guid": value.clone(), "album": value.clone()}]));
            s.resources.insert("web_server".into(), ResourceConfig {
                instances: Some(instances.clone()),
                persistent_disk_mb: Some(value.clone()),
                instance_type: value.as_str().map(str::to_string),
                ..Default::default()
            });
            d.resources.insert("web_server".into(), ResourceConfig {
                instances: Some(deployed.clone()),
                ..Default::default()
            });
            let vm_types = [VmType { name: "micro".into(), ram: 1, cpu: 1, ephemeral_disk: 1 }];
            let ctx = ValidationContext { deployed: Some(&d), present_products: &[], vm_types: &vm_types };
            let _ = validate_product(&t, &s, &ctx);
            let _ = validate_form(&t, "main", &s, &ctx);
        }
    }
}
