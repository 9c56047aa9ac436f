//! `om configure-product` / `om staged-config` files, and the properties-API JSON.
//!
//! Operators script Ops Manager with om's YAML (tile-metadata reference §9.3): a
//! `product-properties` map of reference → `{value, selected_option?}`, plus
//! `network-properties`, `resource-config`, `errand-config`, `syslog-properties`. This module
//! reads that format into [`StagedValues`] (properties and per-job resources) and the sections
//! Tileworks keeps as they are, and produces the `GET …/staged/products/:guid/properties`
//! response (§9.1) from staged values, with credentials redacted unless asked otherwise.
//!
//! Parsing is strict about the file's top-level keys (om rejects unknown ones too) and lenient
//! about values: they are brought to their type's API shape with the metadata at hand
//! ([`stage`]), which also reports references the product does not have.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::metadata::ProductTemplate;
use crate::properties::defaults::{effective_value, selected_option};
use crate::properties::staged::{ResourceConfig, StagedValues};
use crate::properties::types;
use crate::validate::ValidationReport;

/// The top-level keys om's `configure-product` accepts.
const KEYS: [&str; 9] = [
    "product-name",
    "product-version",
    "product-properties",
    "network-properties",
    "resource-config",
    "errand-config",
    "syslog-properties",
    "deploy-in-parallel",
    "validate-config-complete",
];

/// One errand's rules: `true`, `false`, `"default"` or `"when-changed"` (kept as given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrandConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_deploy: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_delete: Option<Value>,
}

/// A parsed configure-product file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductConfig {
    pub product_name: String,
    pub product_version: Option<String>,
    /// Property values as written (not yet shaped by type; see [`stage`]) and resources.
    pub staged: StagedValues,
    /// `selected_option` / `option_value` given for selectors, by reference.
    pub selected_options: BTreeMap<String, String>,
    /// `network-properties`, passed through (network, service_network, AZs).
    pub network_properties: Option<Value>,
    pub errand_config: BTreeMap<String, ErrandConfig>,
    pub syslog_properties: Option<Value>,
    pub deploy_in_parallel: Option<bool>,
    pub validate_config_complete: Option<bool>,
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl ProductConfig {
    /// Reads a configure-product file from YAML text (YAML 1.1, like the rest of the engine).
    pub fn from_yaml(text: &str) -> Result<ProductConfig> {
        ProductConfig::from_value(&crate::yaml::load(text)?)
    }

    /// Reads a configure-product document already loaded (YAML or JSON).
    pub fn from_value(doc: &Value) -> Result<ProductConfig> {
        let Value::Object(top) = doc else {
            return Err(invalid("product config", "expected a map at the top level"));
        };
        for key in top.keys() {
            if !KEYS.contains(&key.as_str()) {
                return Err(invalid(key, "is not a configure-product key"));
            }
        }
        let mut config = ProductConfig {
            product_name: top
                .get("product-name")
                .and_then(text_of)
                .ok_or_else(|| invalid("product-name", "is required"))?,
            product_version: top.get("product-version").and_then(text_of),
            network_properties: top.get("network-properties").cloned(),
            syslog_properties: top.get("syslog-properties").cloned(),
            deploy_in_parallel: top.get("deploy-in-parallel").and_then(Value::as_bool),
            validate_config_complete: top.get("validate-config-complete").and_then(Value::as_bool),
            ..Default::default()
        };
        match top.get("product-properties") {
            None | Some(Value::Null) => {}
            Some(Value::Object(props)) => {
                for (reference, entry) in props {
                    config.read_property(reference, entry)?;
                }
            }
            Some(_) => return Err(invalid("product-properties", "expected a map")),
        }
        match top.get("resource-config") {
            None | Some(Value::Null) => {}
            Some(Value::Object(jobs)) => {
                for (job, entry) in jobs {
                    let rc = read_resource_config(job, entry)?;
                    config.staged.resources.insert(job.clone(), rc);
                }
            }
            Some(_) => return Err(invalid("resource-config", "expected a map")),
        }
        match top.get("errand-config") {
            None | Some(Value::Null) => {}
            Some(Value::Object(errands)) => {
                for (name, entry) in errands {
                    let Value::Object(e) = entry else {
                        return Err(invalid(&format!("errand-config.{name}"), "expected a map"));
                    };
                    config.errand_config.insert(
                        name.clone(),
                        ErrandConfig {
                            post_deploy: e.get("post-deploy-state").cloned(),
                            pre_delete: e.get("pre-delete-state").cloned(),
                        },
                    );
                }
            }
            Some(_) => return Err(invalid("errand-config", "expected a map")),
        }
        Ok(config)
    }

    fn read_property(&mut self, reference: &str, entry: &Value) -> Result<()> {
        let field = format!("product-properties.{reference}");
        let Value::Object(map) = entry else {
            return Err(invalid(&field, "expected a map with `value`"));
        };
        let option = map
            .get("selected_option")
            .or_else(|| map.get("option_value"))
            .and_then(text_of);
        if let Some(o) = &option {
            self.selected_options
                .insert(reference.to_string(), o.clone());
        }
        match (map.get("value"), option) {
            (Some(v), _) => self.staged.set(reference, v.clone()),
            // Only the option given: its name designates the choice.
            (None, Some(o)) => self.staged.set(reference, Value::String(o)),
            (None, None) => return Err(invalid(&field, "has no `value`")),
        }
        Ok(())
    }
}

fn read_resource_config(job: &str, entry: &Value) -> Result<ResourceConfig> {
    let Value::Object(map) = entry else {
        return Err(invalid(&format!("resource-config.{job}"), "expected a map"));
    };
    let mut rc = ResourceConfig::default();
    for (key, value) in map {
        match key.as_str() {
            "instances" => rc.instances = Some(value.clone()),
            "instance_type" => {
                rc.instance_type = value.get("id").and_then(text_of).or_else(|| text_of(value));
            }
            "persistent_disk" => {
                rc.persistent_disk_mb = Some(
                    value
                        .get("size_mb")
                        .cloned()
                        .unwrap_or_else(|| value.clone()),
                );
            }
            "max_in_flight" => rc.max_in_flight = Some(value.clone()),
            _ => {
                rc.extra.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(rc)
}

/// Brings a configure-product file's property values onto a product's metadata: every value
/// is coerced to its type's API shape (quoted numbers, bare secrets, single options…),
/// selectors store the chosen option's `select_value` (whether the file named it by value or
/// by `selected_option`), collection records are coerced field by field. References the
/// product does not have, and non-configurable ones, are reported rather than staged — as
/// Ops Manager answers such a PUT with 422.
pub fn stage(
    template: &ProductTemplate,
    config: &ProductConfig,
) -> (StagedValues, ValidationReport) {
    let mut staged = StagedValues {
        properties: BTreeMap::new(),
        resources: config.staged.resources.clone(),
    };
    let mut report = ValidationReport::default();
    for (reference, value) in &config.staged.properties {
        let Some(pref) = template.property(reference) else {
            report
                .errors
                .entry(reference.clone())
                .or_default()
                .push(format!("The product has no property '{reference}'"));
            continue;
        };
        let bp = pref.blueprint;
        if !bp.configurable {
            report
                .errors
                .entry(pref.reference.clone())
                .or_default()
                .push("This property is not configurable".to_string());
            continue;
        }
        let type_name = bp.property_type.as_str();
        let value = match type_name {
            "selector" => {
                let by_option = config
                    .selected_options
                    .get(reference)
                    .and_then(|o| bp.option_template(o));
                match by_option.or_else(|| selected_option(bp, value)) {
                    Some(o) => Value::String(o.select_value.clone()),
                    None => value.clone(),
                }
            }
            "collection" => match value {
                Value::Array(records) => Value::Array(
                    records
                        .iter()
                        .map(|r| coerce_record(bp.sub_blueprints(), r))
                        .collect(),
                ),
                other => other.clone(),
            },
            _ => types::coerce(type_name, value.clone()),
        };
        staged.set(pref.reference, value);
    }
    (staged, report)
}

/// A record's fields coerced by their sub-blueprint types; a field written in API form
/// (`{"value": …}`) is unwrapped.
fn coerce_record(subs: &[crate::metadata::PropertyBlueprint], record: &Value) -> Value {
    let Value::Object(map) = record else {
        return record.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = match value {
            Value::Object(inner) if inner.contains_key("value") && inner.len() <= 5 => {
                inner.get("value").cloned().unwrap_or(Value::Null)
            }
            other => other.clone(),
        };
        let value = match subs.iter().find(|s| s.name == *key) {
            Some(sub) => types::coerce(sub.property_type.as_str(), value),
            None => value,
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn property_object(type_name: &str, configurable: bool, optional: bool, value: Value) -> Value {
    json!({
        "type": type_name,
        "configurable": configurable,
        "credential": types::is_credential(type_name),
        "value": value,
        "optional": optional,
    })
}

/// The `GET /api/v0/staged/products/:guid/properties` body: `{"properties": {REFERENCE:
/// {type, configurable, credential, value, optional[, selected_option]}}}` for every property
/// (all selector options' sub-properties included), values being the staged ones or the
/// defaults. With `redact`, credential values show `***` in each field. Collection values are
/// lists of records whose fields are full property objects, `guid` included.
pub fn properties_api(
    template: &ProductTemplate,
    staged: &StagedValues,
    present_products: &[String],
    redact: bool,
) -> Value {
    let mut out = Map::new();
    for pref in template.property_refs() {
        let bp = pref.blueprint;
        let type_name = bp.property_type.as_str();
        let value =
            effective_value(&pref.reference, bp, staged, present_products).unwrap_or(Value::Null);
        let shown = match (type_name, &value) {
            ("collection", Value::Array(records)) => Value::Array(
                records
                    .iter()
                    .map(|record| {
                        let mut fields = Map::new();
                        let guid = record.get("guid").cloned().unwrap_or(Value::Null);
                        fields.insert("guid".into(), property_object("uuid", false, false, guid));
                        for sub in bp.sub_blueprints() {
                            let t = sub.property_type.as_str();
                            let v = record.get(&sub.name).cloned().unwrap_or(Value::Null);
                            let v = if redact { types::redact(t, &v) } else { v };
                            fields.insert(
                                sub.name.clone(),
                                property_object(t, sub.configurable, sub.optional, v),
                            );
                        }
                        Value::Object(fields)
                    })
                    .collect(),
            ),
            _ if redact => types::redact(type_name, &value),
            _ => value.clone(),
        };
        let mut object = property_object(type_name, bp.configurable, bp.optional, shown);
        if type_name == "selector" {
            if let (Some(option), Value::Object(map)) = (selected_option(bp, &value), &mut object) {
                map.insert("selected_option".into(), Value::String(option.name.clone()));
            }
        }
        out.insert(pref.reference, object);
    }
    json!({ "properties": out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{validate_product, ValidationContext};

    fn example() -> ProductTemplate {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/tiles/example-product.yml"
        );
        ProductTemplate::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn pks() -> ProductTemplate {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/tiles/pks-1.1.3.yml"
        );
        ProductTemplate::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    const PKS_CONFIG: &str = r#"
product-name: pivotal-container-service
product-version: 1.1.3-build.11
product-properties:
  .properties.cloud_provider:
    selected_option: vsphere
    value: vSphere
  .properties.cloud_provider.vsphere.vcenter_master_creds:
    value: {identity: administrator@vsphere.local, password: secret-pw}
  .properties.cloud_provider.vsphere.vcenter_ip: {value: vcsa.example.com}
  .properties.cloud_provider.vsphere.vcenter_dc: {value: Datacenter}
  .properties.cloud_provider.vsphere.vcenter_ds: {value: datastore1}
  .properties.cloud_provider.vsphere.vcenter_vms: {value: pks_vms}
  .properties.plan1_selector: {value: Plan Active}
  .properties.plan1_selector.active.master_az_placement: {value: [az1]}
  .properties.plan1_selector.active.worker_az_placement: {value: az1}
  .properties.plan1_selector.active.worker_instances: {value: "5"}
  .properties.plan2_selector: {selected_option: inactive}
  .properties.plan3_selector: {value: Plan Inactive}
  .properties.pks_api_hostname: {value: api.pks.example.com}
  .properties.telemetry_selector: {option_value: disabled}
  .pivotal-container-service.pks_tls:
    value:
      cert_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
      private_key_pem: "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"
network-properties:
  network: {name: pks-infra}
  service_network: {name: pks-services}
  singleton_availability_zone: {name: az1}
  other_availability_zones: [{name: az1}, {name: az2}]
resource-config:
  pivotal-container-service:
    instances: automatic
    instance_type: {id: large}
    persistent_disk: {size_mb: "20480"}
    max_in_flight: 20%
    internet_connected: false
errand-config:
  smoke-tests: {post-deploy-state: true}
  delete-all-clusters: {pre-delete-state: default}
"#;

    #[test]
    fn pks_configure_product_file_stages_and_validates() {
        let config = ProductConfig::from_yaml(PKS_CONFIG).unwrap();
        assert_eq!(config.product_name, "pivotal-container-service");
        assert_eq!(config.product_version.as_deref(), Some("1.1.3-build.11"));
        let rc = &config.staged.resources["pivotal-container-service"];
        assert_eq!(rc.instance_type.as_deref(), Some("large"));
        assert_eq!(rc.persistent_disk_mb, Some(json!("20480")));
        assert_eq!(rc.max_in_flight, Some(json!("20%")));
        assert_eq!(rc.extra.get("internet_connected"), Some(&json!(false)));
        assert_eq!(
            config.errand_config["smoke-tests"].post_deploy,
            Some(json!(true))
        );
        assert_eq!(
            config.network_properties.as_ref().unwrap()["service_network"]["name"],
            "pks-services"
        );

        let t = pks();
        let (staged, report) = stage(&t, &config);
        assert!(report.is_valid(), "{:#?}", report.errors);
        // Selectors given by option name store the select_value; values are shaped.
        assert_eq!(
            staged.get(".properties.plan2_selector"),
            Some(&json!("Plan Inactive"))
        );
        assert_eq!(
            staged.get(".properties.telemetry_selector"),
            Some(&json!("disabled"))
        );
        assert_eq!(
            staged.get(".properties.plan1_selector.active.worker_az_placement"),
            Some(&json!(["az1"]))
        );
        assert_eq!(
            staged.get(".properties.plan1_selector.active.worker_instances"),
            Some(&json!(5))
        );
        let r = validate_product(&t, &staged, &ValidationContext::default());
        assert!(r.is_valid(), "{:#?}", r.errors);
    }

    #[test]
    fn unknown_and_non_configurable_references_are_reported() {
        let config = ProductConfig::from_yaml(
            r#"
product-name: pivotal-container-service
product-properties:
  .properties.nope: {value: 1}
  .properties.network_selector.nsx.no_such: {value: 1}
"#,
        )
        .unwrap();
        let (staged, report) = stage(&pks(), &config);
        assert!(staged.properties.is_empty());
        assert_eq!(
            report.messages(".properties.nope"),
            ["The product has no property '.properties.nope'"]
        );
        assert_eq!(report.errors.len(), 2);
        let t = example();
        let config = ProductConfig::from_yaml(
            "product-name: example-product\nproduct-properties:\n  .web_server.generated_uuid: {value: x}\n",
        )
        .unwrap();
        let (staged, report) = stage(&t, &config);
        assert!(staged.properties.is_empty());
        assert_eq!(
            report.messages(".web_server.generated_uuid"),
            ["This property is not configurable"]
        );
    }

    #[test]
    fn strict_top_level_keys_and_shapes() {
        for (text, field) in [
            (
                "product-name: x\nproduct-propertees: {}\n",
                "product-propertees",
            ),
            ("product-properties: {}\n", "product-name"),
            (
                "product-name: x\nproduct-properties: [1]\n",
                "product-properties",
            ),
            (
                "product-name: x\nproduct-properties: {.properties.a: 3}\n",
                "product-properties..properties.a",
            ),
            (
                "product-name: x\nproduct-properties: {.properties.a: {label: y}}\n",
                "product-properties..properties.a",
            ),
            (
                "product-name: x\nresource-config: {web: 3}\n",
                "resource-config.web",
            ),
            (
                "product-name: x\nerrand-config: {e: true}\n",
                "errand-config.e",
            ),
            ("- a\n", "product config"),
        ] {
            match ProductConfig::from_yaml(text) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn collections_from_om_files() {
        let t = example();
        let Some(coll) = t.property_refs().into_iter().find(|p| {
            p.blueprint.property_type.as_str() == "collection" && p.blueprint.configurable
        }) else {
            panic!("example-product has a collection");
        };
        let subs: Vec<&str> = coll
            .blueprint
            .sub_blueprints()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let text = format!(
            "product-name: example-product\nproduct-properties:\n  {}:\n    value:\n    - {{guid: g-1, {}: {{value: first}}}}\n",
            coll.reference, subs[0]
        );
        let config = ProductConfig::from_yaml(&text).unwrap();
        let (staged, report) = stage(&t, &config);
        assert!(report.is_valid(), "{:#?}", report.errors);
        let records = staged.get(&coll.reference).unwrap();
        assert_eq!(records[0]["guid"], "g-1");
        assert_eq!(records[0][subs[0]], "first");
    }

    #[test]
    fn properties_api_shape_and_redaction() {
        let t = pks();
        let config = ProductConfig::from_yaml(PKS_CONFIG).unwrap();
        let (staged, _) = stage(&t, &config);
        let body = properties_api(&t, &staged, &[], true);
        let props = &body["properties"];
        assert_eq!(
            props[".properties.pks_api_hostname"],
            json!({"type": "string", "configurable": true, "credential": false,
                   "value": "api.pks.example.com", "optional": false})
        );
        assert_eq!(
            props[".properties.cloud_provider"]["selected_option"],
            "vsphere"
        );
        assert_eq!(props[".properties.cloud_provider"]["value"], "vSphere");
        assert_eq!(
            props[".properties.cloud_provider.vsphere.vcenter_master_creds"]["value"],
            json!({"identity": "***", "password": "***"})
        );
        assert_eq!(
            props[".pivotal-container-service.pks_tls"]["credential"],
            json!(true)
        );
        // Sub-properties of every option are listed; unset values are null.
        assert_eq!(
            props[".properties.network_selector.nsx.nsx-t-host"]["value"],
            Value::Null
        );
        // Defaults show when nothing was staged.
        assert_eq!(
            props[".properties.uaa_pks_cli_access_token_lifetime"]["value"],
            json!(600)
        );
        let clear = properties_api(&t, &staged, &[], false);
        assert_eq!(
            clear["properties"][".properties.cloud_provider.vsphere.vcenter_master_creds"]["value"]
                ["password"],
            "secret-pw"
        );
    }

    #[test]
    fn properties_api_collections_carry_guid_objects() {
        let t = example();
        let coll = t
            .property_refs()
            .into_iter()
            .find(|p| p.blueprint.property_type.as_str() == "collection")
            .unwrap();
        let mut staged = StagedValues::new();
        let first = coll.blueprint.sub_blueprints()[0].name.clone();
        staged.set(
            coll.reference.clone(),
            json!([{"guid": "g-1", first.clone(): "x"}]),
        );
        let body = properties_api(&t, &staged, &[], true);
        let record = &body["properties"][coll.reference.as_str()]["value"][0];
        assert_eq!(
            record["guid"],
            json!({"type": "uuid", "configurable": false, "credential": false, "value": "g-1", "optional": false})
        );
        assert_eq!(record[first.as_str()]["value"], "x");
    }
}
