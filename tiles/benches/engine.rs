//! Tile engine benchmarks (results and the reproduction command are in BENCHMARKS.md).
//!
//! * `pks-1.1.3/load+lint` — load the real PKS 1.1.3 metadata (YAML 1.1) and lint it;
//! * `pks-bundled/validate` — validate the complete realistic configuration of the bundled PKS
//!   tile (tiles/products/pks/testdata/realistic-config.yml);
//! * `pks-bundled/render` — render that configuration into the BOSH manifest;
//! * `pks-bundled/render-first` — the same render of a fresh copy of the template (the first
//!   render of a template parses its manifest texts; later ones reuse them);
//! * `odb/100-cluster-manifests` — the service adapter's generate-manifest for 100 clusters of
//!   the rendered catalog's first plan;
//! * `scaling/*/{1x,10x}` — load+lint, validate and render of the PKS 1.1.3 fixture and of a
//!   tile generated from it with 10× the properties, forms and jobs (every blueprint, form and
//!   job type copied nine times with a `_cN` suffix, manifests rewritten to reference the
//!   copies), to show cost growing linearly.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use regex::Regex;
use serde_json::{json, Map, Value};

use tiles::metadata::ProductTemplate;
use tiles::product_config::{stage, ProductConfig};
use tiles::properties::StagedValues;
use tiles::render::{render_product, OfflineOptions, RenderContext};
use tiles::validate::{validate_product, ValidationContext};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/tiles/pks-1.1.3.yml"
);
const PKS_CONFIG: &str = include_str!("../products/pks/testdata/realistic-config.yml");

/// A configuration of the PKS 1.1.3 fixture: two active plans, vSphere.
const FIXTURE_CONFIG: &str = r#"
product-name: pivotal-container-service
product-properties:
  .properties.plan1_selector: {value: Plan Active}
  .properties.plan1_selector.active.name: {value: small}
  .properties.plan1_selector.active.master_az_placement: {value: [az1]}
  .properties.plan1_selector.active.worker_az_placement: {value: [az1, az2]}
  .properties.plan2_selector: {selected_option: inactive}
  .properties.plan3_selector: {value: Plan Active}
  .properties.plan3_selector.active.name: {value: large}
  .properties.plan3_selector.active.master_az_placement: {value: [az1, az2, az3]}
  .properties.plan3_selector.active.worker_az_placement: {value: [az1, az2, az3]}
  .properties.cloud_provider: {value: vSphere}
  .properties.cloud_provider.vsphere.vcenter_master_creds:
    value: {identity: administrator@vsphere.local, password: secret-pw}
  .properties.cloud_provider.vsphere.vcenter_ip: {value: vcsa.example.com}
  .properties.cloud_provider.vsphere.vcenter_dc: {value: Datacenter}
  .properties.cloud_provider.vsphere.vcenter_ds: {value: datastore1}
  .properties.cloud_provider.vsphere.vcenter_vms: {value: pks_vms}
  .properties.pks_api_hostname: {value: api.pks.example.com}
network-properties:
  network: {name: pks-infra}
  service_network: {name: pks-services}
  singleton_availability_zone: {name: az1}
  other_availability_zones: [{name: az1}, {name: az2}, {name: az3}]
"#;

fn context(name: &str, config: &ProductConfig) -> RenderContext {
    RenderContext::offline_default(
        name,
        &OfflineOptions {
            network_properties: config.network_properties.clone(),
            guid_suffix: Some("0123456789abcdef0123".into()),
            ..OfflineOptions::default()
        },
    )
    .expect("offline context")
}

/// Copies every top-level blueprint, form and job type of `metadata` `copies` times with a
/// `_cN` suffix, rewriting references inside the copies to point at the copied names.
fn multiply(metadata: &Value, copies: usize) -> Value {
    let mut out = metadata.clone();
    let jobs: Vec<String> = metadata["job_types"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|j| j["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let props = Regex::new(r"\.properties\.([A-Za-z0-9_-]+)").unwrap();
    let job_refs: Vec<(Regex, String)> = jobs
        .iter()
        .map(|j| {
            (
                Regex::new(&format!(r"(^|[^.]){}\.", regex::escape(&format!(".{j}")))).unwrap(),
                j.clone(),
            )
        })
        .collect();
    for key in ["property_blueprints", "form_types", "job_types"] {
        let originals = metadata[key].as_array().cloned().unwrap_or_default();
        let Some(list) = out[key].as_array_mut() else {
            continue;
        };
        for n in 1..=copies {
            for item in &originals {
                let text = serde_json::to_string(item).unwrap();
                let mut text = props
                    .replace_all(&text, format!(".properties.${{1}}_c{n}"))
                    .into_owned();
                for (re, j) in &job_refs {
                    text = re
                        .replace_all(&text, format!("${{1}}.{j}_c{n}."))
                        .into_owned();
                }
                let mut copy: Value = serde_json::from_str(&text).unwrap();
                if let Some(name) = copy["name"].as_str() {
                    copy["name"] = json!(format!("{name}_c{n}"));
                }
                list.push(copy);
            }
        }
    }
    out
}

/// The same staged values for every copy.
fn multiply_staged(staged: &StagedValues, copies: usize, jobs: &[String]) -> StagedValues {
    let mut out = staged.clone();
    for n in 1..=copies {
        for (k, v) in &staged.properties {
            let key = match k.strip_prefix(".properties.") {
                Some(rest) => {
                    let (first, tail) = rest.split_once('.').map_or((rest, ""), |(a, b)| (a, b));
                    let tail = if tail.is_empty() {
                        String::new()
                    } else {
                        format!(".{tail}")
                    };
                    format!(".properties.{first}_c{n}{tail}")
                }
                None => {
                    let job = jobs.iter().find(|j| k.starts_with(&format!(".{j}.")));
                    match job {
                        Some(j) => k.replacen(&format!(".{j}."), &format!(".{j}_c{n}."), 1),
                        None => continue,
                    }
                }
            };
            out.properties.insert(key, v.clone());
        }
    }
    out
}

struct Case {
    yaml: String,
    template: ProductTemplate,
    staged: StagedValues,
    ctx: RenderContext,
}

fn fixture_case(copies: usize) -> Case {
    let text = std::fs::read_to_string(FIXTURE).expect("PKS 1.1.3 fixture");
    let value = tiles::yaml::load(&text).unwrap();
    let value = if copies > 0 {
        multiply(&value, copies)
    } else {
        value
    };
    let yaml = tiles::yaml::to_yaml_string(&value);
    let template = ProductTemplate::from_yaml(&yaml).unwrap();
    let config = ProductConfig::from_yaml(FIXTURE_CONFIG).unwrap();
    let (mut staged, _) = stage(&template, &config);
    staged.set(
        ".pivotal-container-service.pks_tls",
        json!({"cert_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
               "private_key_pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"}),
    );
    let jobs: Vec<String> = template
        .job_types
        .iter()
        .map(|j| j.name.clone())
        .filter(|n| !n.contains("_c"))
        .collect();
    let staged = multiply_staged(&staged, copies, &jobs);
    let ctx = context(&template.name, &config);
    Case {
        yaml,
        template,
        staged,
        ctx,
    }
}

fn bench(c: &mut Criterion) {
    let fixture_text = std::fs::read_to_string(FIXTURE).expect("PKS 1.1.3 fixture");
    c.bench_function("pks-1.1.3/load+lint", |b| {
        b.iter(|| {
            let t = ProductTemplate::from_yaml(black_box(&fixture_text)).unwrap();
            black_box(tiles::lint::lint(&t))
        })
    });

    let pks = ProductTemplate::from_yaml(tiles::products::PKS_METADATA).unwrap();
    let config = ProductConfig::from_yaml(PKS_CONFIG).unwrap();
    let (staged, report) = stage(&pks, &config);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let ctx = context(&pks.name, &config);
    let vctx = ValidationContext::default();
    let validation = validate_product(&pks, &staged, &vctx);
    eprintln!(
        "bundled PKS realistic configuration: {} property errors",
        validation.errors.len()
    );
    c.bench_function("pks-bundled/validate", |b| {
        b.iter(|| black_box(validate_product(&pks, black_box(&staged), &vctx)))
    });
    c.bench_function("pks-bundled/render", |b| {
        b.iter(|| black_box(render_product(&pks, black_box(&staged), &ctx).unwrap()))
    });
    // A template's first render parses its manifest texts (later renders reuse them): render a
    // fresh copy each time (a clone starts without the parsed texts and name indexes).
    c.bench_function("pks-bundled/render-first", |b| {
        b.iter(|| {
            let fresh = black_box(&pks).clone();
            black_box(render_product(&fresh, black_box(&staged), &ctx).unwrap())
        })
    });

    let rendered = render_product(&pks, &staged, &ctx).unwrap();
    let broker = rendered.manifest["instance_groups"][0]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "broker")
        .unwrap()["properties"]
        .clone();
    let mut plan: tiles::odb::Plan =
        serde_json::from_value(broker["service_catalog"]["plans"][0].clone()).unwrap();
    let global: Map<String, Value> = broker["service_catalog"]["global_properties"]
        .as_object()
        .unwrap()
        .clone();
    for (k, v) in global {
        plan.properties.entry(k).or_insert(v);
    }
    let inputs: Vec<tiles::odb::GenerateManifestInput> = (0..100)
        .map(|i| tiles::odb::GenerateManifestInput {
            service_deployment: serde_json::from_value(json!({
                "deployment_name": format!("service-instance_{i:08x}"),
                "releases": broker["service_deployment"]["releases"],
                "stemcells": [{"stemcell_os": "ubuntu-xenial", "stemcell_version": "97.17"}],
            }))
            .unwrap(),
            plan: plan.clone(),
            request_parameters: Value::Null,
            previous_manifest: None,
            previous_plan: None,
        })
        .collect();
    c.bench_function("odb/100-cluster-manifests", |b| {
        b.iter(|| {
            for input in &inputs {
                black_box(tiles::odb::generate_manifest(black_box(input)).unwrap());
            }
        })
    });

    for (label, copies) in [("1x", 0usize), ("10x", 9usize)] {
        let case = fixture_case(copies);
        eprintln!(
            "scaling {label}: {} property references, {} job types, {} bytes of YAML",
            case.template.property_refs().len(),
            case.template.job_types.len(),
            case.yaml.len()
        );
        c.bench_function(&format!("scaling/load+lint/{label}"), |b| {
            b.iter(|| {
                let t = ProductTemplate::from_yaml(black_box(&case.yaml)).unwrap();
                black_box(tiles::lint::lint(&t))
            })
        });
        c.bench_function(&format!("scaling/validate/{label}"), |b| {
            b.iter(|| {
                black_box(validate_product(
                    &case.template,
                    black_box(&case.staged),
                    &vctx,
                ))
            })
        });
        c.bench_function(&format!("scaling/render/{label}"), |b| {
            b.iter(|| {
                black_box(
                    render_product(&case.template, black_box(&case.staged), &case.ctx).unwrap(),
                )
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
