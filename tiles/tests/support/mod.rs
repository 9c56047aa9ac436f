//! What an operator must type before a real tile validates, filled the way a test operator
//! would: a value of each field's type (the first option of dropdowns and selectors). Shared by
//! `tiles/tests/corpus.rs` (the engine) and `server/tests/tile_cli.rs` (the same tiles through
//! `tileworks tile render`), which includes this file by path.

// Each test crate including this module uses a different part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tiles::metadata::ProductTemplate;
use tiles::properties::staged::StagedValues;
use tiles::validate::{validate_product, ValidationContext};

/// The validator checks a certificate's PEM shape only; the render reads keys (for
/// `public_key_pem` and friends), so the key is a real one (the engine's test key).
const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY_PEM: &str = include_str!("../../src/render/testdata/key.pem");

/// A value of `type_name` an operator could type, for fields the tile leaves to the operator.
pub fn sample(type_name: &str) -> Value {
    match type_name {
        "boolean" => json!(false),
        "integer" => json!(1),
        "port" => json!(8443),
        "email" => json!("ops@example.com"),
        "domain" => json!("example.com"),
        "wildcard_domain" => json!("*.apps.example.com"),
        "http_url" => json!("https://example.com"),
        "ldap_url" => json!("ldaps://ldap.example.com"),
        "ip_address" | "network_address" => json!("10.0.0.10"),
        "ip_ranges" => json!("10.0.0.10-10.0.0.20"),
        "network_address_list" | "string_list" => json!("10.0.0.10,10.0.0.11"),
        "smtp_authentication" => json!("plain"),
        "secret" => json!({"secret": "corpus-secret"}),
        "simple_credentials" => json!({"identity": "corpus", "password": "corpus-password"}),
        "uuid" => json!("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        "ca_certificate" => json!(CERT_PEM),
        "rsa_cert_credentials" => json!({"cert_pem": CERT_PEM, "private_key_pem": KEY_PEM}),
        "rsa_pkey_credentials" => json!({"private_key_pem": KEY_PEM}),
        "collection" => json!([{}]),
        "service_network_az_multi_select" => json!(["az1"]),
        "service_network_az_single_select" => json!("az1"),
        _ => json!("corpus"),
    }
}

/// `.properties.c[2].name` → (`.properties.c`, 2, `name`).
fn record_field(reference: &str) -> Option<(&str, usize, &str)> {
    let (head, field) = reference.rsplit_once("].")?;
    let (collection, index) = head.rsplit_once('[')?;
    Some((collection, index.parse().ok()?, field))
}

/// What [`fill_required`] typed.
pub struct Filled {
    /// Fields typed (each collection record field counts).
    pub count: usize,
    /// The top-level references set, with their final values (a collection whole).
    pub values: BTreeMap<String, Value>,
}

/// Fills what the validator says is blank, by type, until the product validates; or says why
/// the tile does not validate with its defaults.
pub fn fill_required(
    template: &ProductTemplate,
    staged: &mut StagedValues,
) -> Result<Filled, String> {
    // Collection records are `REFERENCE[i].FIELD`.
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut options: BTreeMap<String, Value> = BTreeMap::new();
    for p in template.property_refs() {
        let bp = p.blueprint;
        for sub in bp.sub_blueprints() {
            types.insert(
                format!("{}[].{}", p.reference, sub.name),
                sub.property_type.as_str().into(),
            );
        }
        if let Some(o) = bp.options.first() {
            options.insert(p.reference.clone(), o.name.clone());
        }
        if let Some(o) = bp.option_templates().first() {
            options.insert(p.reference.clone(), json!(o.select_value));
        }
        types.insert(p.reference, bp.property_type.as_str().into());
    }
    let ctx = ValidationContext {
        deployed: None,
        present_products: &[],
        vm_types: &[],
    };
    let mut filled = BTreeMap::new();
    let mut count = 0;
    for _ in 0..5 {
        let report = validate_product(template, staged, &ctx);
        if report.is_valid() {
            break;
        }
        for (reference, messages) in &report.errors {
            if !messages.iter().any(|m| m.contains("blank")) {
                return Err(format!("invalid with defaults: {reference}: {messages:?}"));
            }
            let value = |key: &str| {
                let t = types.get(key)?;
                Some(match (t.as_str(), options.get(key)) {
                    ("dropdown_select" | "selector", Some(o)) => o.clone(),
                    ("multi_select_options", Some(o)) => json!([o]),
                    (t, _) => sample(t),
                })
            };
            match record_field(reference) {
                Some((collection, index, field)) => {
                    let key = format!("{collection}[].{field}");
                    let v = value(&key).ok_or_else(|| format!("no type for {key}"))?;
                    let records = staged.properties.get_mut(collection);
                    let record = records
                        .and_then(|r| r.get_mut(index))
                        .and_then(Value::as_object_mut)
                        .ok_or_else(|| format!("{reference}: no such record"))?;
                    record.insert(field.to_string(), v);
                    filled.insert(collection.to_string(), Value::Null);
                }
                None => {
                    let v = value(reference).ok_or_else(|| format!("no type for {reference}"))?;
                    staged.set(reference.clone(), v);
                    filled.insert(reference.clone(), Value::Null);
                }
            }
            count += 1;
        }
    }
    let report = validate_product(template, staged, &ctx);
    if !report.is_valid() {
        return Err(format!("still invalid: {:?}", report.errors));
    }
    for (reference, value) in filled.iter_mut() {
        *value = staged.get(reference).cloned().unwrap_or(Value::Null);
    }
    Ok(Filled {
        count,
        values: filled,
    })
}

/// The part of the runtime tile (`cf`) service tiles reference with `..cf.`: the job and
/// property names are those of the Elastic Runtime / TAS tile.
pub const RUNTIME_TILE: &str = "
name: cf
product_version: 2.0.0
metadata_version: '2.0'
stemcell_criteria: {os: ubuntu-xenial, version: '170'}
releases: []
property_blueprints:
- {name: system_domain, type: domain, configurable: true}
- {name: apps_domain, type: domain, configurable: true}
form_types: []
job_types:
- name: cloud_controller
  resource_label: Cloud Controller
  templates: []
  instance_definition: {name: instances, type: integer, configurable: true, default: 1}
  resource_definitions: []
  property_blueprints:
  - {name: system_domain, type: domain, configurable: true}
  - {name: apps_domain, type: domain, configurable: true}
- name: ha_proxy
  resource_label: HAProxy
  templates: []
  instance_definition: {name: instances, type: integer, configurable: true, default: 1}
  resource_definitions: []
  property_blueprints:
  - {name: skip_cert_verify, type: boolean, configurable: true, default: false}
- name: uaa
  resource_label: UAA
  templates: []
  instance_definition: {name: instances, type: integer, configurable: true, default: 1}
  resource_definitions: []
  property_blueprints:
  - {name: admin_credentials, type: simple_credentials}
  - {name: system_services_credentials, type: simple_credentials}
  - {name: admin_client_credentials, type: simple_credentials}
";

/// The runtime tile's values an operator would have set.
pub fn runtime_values() -> Vec<(&'static str, Value)> {
    vec![
        (".cloud_controller.system_domain", json!("sys.example.com")),
        (".cloud_controller.apps_domain", json!("apps.example.com")),
        (
            ".uaa.admin_credentials",
            json!({"identity": "admin", "password": "uaa-admin"}),
        ),
        (
            ".uaa.admin_client_credentials",
            json!({"identity": "admin", "password": "uaa-admin-client"}),
        ),
        (
            ".uaa.system_services_credentials",
            json!({"identity": "system_services", "password": "uaa-system"}),
        ),
        (".ha_proxy.skip_cert_verify", json!(false)),
        (".properties.system_domain", json!("sys.example.com")),
        (".properties.apps_domain", json!("apps.example.com")),
    ]
}
