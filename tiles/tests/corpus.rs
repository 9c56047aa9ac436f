//! Real, public tile metadata (`../shared/fixtures/tiles/corpus/`, sources in its `SOURCES.md`)
//! goes through what an operator's import does: it loads, lints without errors (what Ops Manager
//! tolerates is a warning), stages with its defaults, validates once every required field the
//! operator must fill has a value of its type, and renders a manifest offline.
//!
//! The expected outcome of each tile is in [`EXPECTED`]; the results are recorded in
//! `tiles/CORPUS.md`. A tile that starts to render (or stops) fails this test until the table
//! and the record say so.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use tiles::lint::{lint_yaml, Severity};
use tiles::metadata::ProductTemplate;
use tiles::properties::defaults::apply_defaults;
use tiles::properties::staged::StagedValues;
use tiles::render::{render_product, OfflineOptions, OtherProduct, RenderContext};
use tiles::validate::{validate_product, ValidationContext};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/tiles/corpus")
}

/// What each corpus tile gives today.
enum Expect {
    /// Lints without errors, stages, validates and renders.
    Renders,
    /// Lints, stages and validates; the offline render stops at an error starting so.
    RenderFails(&'static str),
    /// Refused at lint with an error starting so (the reason is in `tiles/CORPUS.md`).
    Refused(&'static str),
}

/// One row per corpus file.
const EXPECTED: &[(&str, Expect)] = &[
    // Offline render does not generate `secret` credentials yet (no BOSH-variable equivalent).
    (
        "AppDirect-broker-1.3.0.yml",
        Expect::RenderFails("expression `(( .properties.encryption_key.secret ))`"),
    ),
    ("appdirect-broker-1.7.0.yml", Expect::Renders),
    ("appdynamics-4.5.470.yml", Expect::Renders),
    // Ops Manager 1.1's manifests are Ruby ERB (`<%= … %>`) with bare `(( first_ip ))`.
    (
        "cf-1.1.0.0.yml",
        Expect::Refused("job_types[1].manifest: `(( first_ip ))`"),
    ),
    ("ecs-service-broker-1.2.1.yml", Expect::Renders),
    ("gcp-service-broker-3.1.2.yml", Expect::Renders),
    ("harbor-tile-0.0.7.yml", Expect::Renders),
    ("hazelcast-for-pcf-1.0.0.yml", Expect::Renders),
    ("mongodb-on-demand-0.6.9.yml", Expect::Renders),
    ("overops-0.0.9.yml", Expect::Renders),
];

/// The validator checks a certificate's PEM shape only; the render reads keys (for
/// `public_key_pem` and friends), so the key is a real one.
const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

fn key_pem() -> String {
    use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
        key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string()
    })
    .clone()
}

/// A value of `type_name` an operator could type, for fields the tile leaves to the operator.
fn sample(type_name: &str) -> Value {
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
        "rsa_cert_credentials" => json!({"cert_pem": CERT_PEM, "private_key_pem": key_pem()}),
        "rsa_pkey_credentials" => json!({"private_key_pem": key_pem()}),
        "collection" => json!([{}]),
        "service_network_az_multi_select" => json!(["az1"]),
        "service_network_az_single_select" => json!("az1"),
        _ => json!("corpus"),
    }
}

struct Outcome {
    warnings: usize,
    filled: usize,
    render: Result<(), String>,
}

fn run(text: &str) -> Result<Outcome, String> {
    let findings = lint_yaml(text);
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {} ({})", f.path, f.message, f.rule))
        .collect();
    if !errors.is_empty() {
        return Err(format!("lint errors:\n  {}", errors.join("\n  ")));
    }
    let template = ProductTemplate::from_yaml(text).map_err(|e| format!("load: {e}"))?;
    let mut staged = StagedValues::new();
    apply_defaults(&template, &mut staged, &[]);

    // Fill what the operator must fill (the validator says which), by type, until valid.
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
    let mut filled = 0;
    for _ in 0..5 {
        let report = validate_product(&template, &staged, &ctx);
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
                }
                None => {
                    let v = value(reference).ok_or_else(|| format!("no type for {reference}"))?;
                    staged.set(reference.clone(), v);
                }
            }
            filled += 1;
        }
    }
    let report = validate_product(&template, &staged, &ctx);
    if !report.is_valid() {
        return Err(format!("still invalid: {:?}", report.errors));
    }

    let render = RenderContext::offline_default(&template.name, &OfflineOptions::default())
        .and_then(|mut ctx| {
            ctx.products.insert("cf".into(), runtime()?);
            render_product(&template, &staged, &ctx)
        })
        .map(|_| ())
        .map_err(|e| e.to_string());
    Ok(Outcome {
        warnings: findings.len(),
        filled,
        render,
    })
}

/// The part of the runtime tile (`cf`) service tiles reference with `..cf.`: the job and
/// property names are those of the Elastic Runtime / TAS tile, the values an operator's.
fn runtime() -> tiles::Result<OtherProduct> {
    let template = ProductTemplate::from_yaml(RUNTIME)?;
    let mut staged = StagedValues::new();
    apply_defaults(&template, &mut staged, &[]);
    for (reference, value) in [
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
    ] {
        staged.set(reference, value);
    }
    Ok(OtherProduct {
        guid: "cf-0123456789abcdef0123".into(),
        template,
        staged,
        network: None,
    })
}

const RUNTIME: &str = "
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

/// `.properties.c[2].name` → (`.properties.c`, 2, `name`).
fn record_field(reference: &str) -> Option<(&str, usize, &str)> {
    let (head, field) = reference.rsplit_once("].")?;
    let (collection, index) = head.rsplit_once('[')?;
    Some((collection, index.parse().ok()?, field))
}

#[test]
fn every_corpus_tile_imports_stages_and_renders_as_recorded() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("the corpus folder ../shared/fixtures/tiles/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus has {} tiles", files.len());

    let mut problems = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let expected = EXPECTED.iter().find(|(n, _)| *n == name).map(|(_, e)| e);
        let Some(expected) = expected else {
            problems.push(format!("{name}: not in EXPECTED (and tiles/CORPUS.md)"));
            continue;
        };
        let outcome = match (run(&text), expected) {
            (Err(e), Expect::Refused(start)) if e.contains(start) => continue,
            (Err(e), _) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
            (Ok(_), Expect::Refused(_)) => {
                problems.push(format!(
                    "{name}: accepted now; update EXPECTED and CORPUS.md"
                ));
                continue;
            }
            (Ok(o), _) => o,
        };
        eprintln!(
            "{name}: {} warning(s), {} required field(s) filled, render: {}",
            outcome.warnings,
            outcome.filled,
            match &outcome.render {
                Ok(()) => "ok".to_string(),
                Err(e) => e.clone(),
            }
        );
        match (expected, &outcome.render) {
            (Expect::Renders, Err(e)) => problems.push(format!("{name}: render failed: {e}")),
            (Expect::RenderFails(_), Ok(())) => problems.push(format!(
                "{name}: renders now; update EXPECTED and CORPUS.md"
            )),
            (Expect::RenderFails(start), Err(e)) if !e.starts_with(start) => {
                problems.push(format!("{name}: render fails differently: {e}"))
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
