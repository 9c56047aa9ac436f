//! Render tests: the bundled PKS tile against a golden manifest, the real PKS 1.1.3 and
//! example-product fixtures, Director rules on every render, accessors, placeholders, errors,
//! and random staged values.

use serde_json::{json, Value};

use super::*;
use crate::manifest_check::{has_errors, Severity};
use crate::product_config::{stage, ProductConfig};
use crate::products::PKS_METADATA;

const PKS_CONFIG: &str = include_str!("../../products/pks/testdata/realistic-config.yml");
const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/products/pks/testdata/pks-manifest.golden.yml"
);

fn fixture(name: &str) -> ProductTemplate {
    let path = format!(
        "{}/../../shared/fixtures/tiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    ProductTemplate::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Stages an om configure-product file and builds an offline context from its
/// network-properties and errand-config.
fn staged_from(template: &ProductTemplate, config: &str) -> (StagedValues, RenderContext) {
    let config = ProductConfig::from_yaml(config).unwrap();
    let (staged, report) = stage(template, &config);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let mut ctx = RenderContext::offline_default(
        &template.name,
        &OfflineOptions {
            network_properties: config.network_properties.clone(),
            guid_suffix: Some("0123456789abcdef0123".into()),
            ..OfflineOptions::default()
        },
    )
    .unwrap();
    ctx.errands = config.errand_config.clone();
    (staged, ctx)
}

fn pks() -> (ProductTemplate, StagedValues, RenderContext) {
    let template = ProductTemplate::from_yaml(PKS_METADATA).unwrap();
    let (staged, ctx) = staged_from(&template, PKS_CONFIG);
    (template, staged, ctx)
}

fn errors(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

fn group<'a>(manifest: &'a Value, name: &str) -> &'a Value {
    manifest["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no instance group {name}"))
}

fn job<'a>(group: &'a Value, name: &str) -> &'a Value {
    group["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == name)
        .unwrap_or_else(|| panic!("no job {name}"))
}

/// The bundled PKS tile with a realistic configuration renders to exactly the golden manifest.
/// After an intended change, regenerate with `UPDATE_GOLDEN=1 cargo test -p tiles pks_golden`
/// and review the diff.
#[test]
fn pks_golden_manifest() {
    let (template, staged, ctx) = pks();
    let out = render_product(&template, &staged, &ctx).unwrap();
    let yaml = out.to_yaml();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &yaml).unwrap();
    }
    let expected = std::fs::read_to_string(GOLDEN).expect("golden file (UPDATE_GOLDEN=1)");
    assert!(
        yaml == expected,
        "rendered manifest differs from {GOLDEN}; rerun with UPDATE_GOLDEN=1 and review the diff"
    );
    // The golden file reads back to the same tree.
    assert_eq!(crate::yaml::load(&expected).unwrap(), out.manifest);
}

#[test]
fn pks_manifest_structure() {
    let (template, staged, ctx) = pks();
    let out = render_product(&template, &staged, &ctx).unwrap();
    let m = &out.manifest;
    assert_eq!(m["name"], "pivotal-container-service-0123456789abcdef0123");
    assert_eq!(
        m["releases"].as_array().unwrap().len(),
        template.releases.len()
    );
    assert_eq!(
        m["stemcells"],
        json!([{"alias": "default", "os": "ubuntu-xenial", "version": "97.17"}])
    );
    assert_eq!(m["update"]["serial"], false, "metadata says serial: false");
    assert_eq!(m["update"]["canaries"], 1);

    let api = group(m, "pivotal-container-service");
    assert_eq!(api["azs"], json!(["az1"]), "single_az_only");
    assert_eq!(api["instances"], 1);
    // automatic VM type: 2 CPUs, 8 GB, 29696 MB disk → the first fitting catalogue type.
    assert_eq!(api["vm_type"], "large.disk");
    assert_eq!(api["persistent_disk_type"], "20480", "operator's disk size");
    assert_eq!(api["networks"], json!([{"name": "pks-infra"}]));
    assert_eq!(api["update"], json!({"max_in_flight": 1}));
    assert!(api.get("lifecycle").is_none());

    let smoke = group(m, "smoke-tests");
    assert_eq!(smoke["lifecycle"], "errand");
    assert_eq!(smoke["vm_type"], "micro");
    assert!(smoke.get("persistent_disk_type").is_none());

    // Properties, selectors, placeholders.
    let pks_api = &job(api, "pks-api")["properties"]["pks"];
    assert_eq!(pks_api["hostname"], "api.pks.example.com");
    assert!(pks_api["tls"]["certificate"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(pks_api["db_password"], "((properties_pks_db_password))");
    assert_eq!(
        pks_api["internal_tls"]["certificate"],
        "((pks_api_internal.certificate))"
    );
    assert_eq!(
        pks_api["cloud_config"]["vm_extensions"][0]["name"],
        "disk_enable_uuid"
    );
    let broker = &job(api, "broker")["properties"];
    assert_eq!(
        broker["bosh"]["url"],
        "https://bosh.tileworks.internal:25555"
    );
    assert_eq!(
        broker["bosh"]["authentication"]["uaa"]["client_secret"],
        "((uaa_client_secret))"
    );
    assert_eq!(
        job(api, "broker")["provides"],
        json!({"broker": {"as": "odb-broker"}})
    );
    let catalog = &broker["service_catalog"];
    assert_eq!(catalog["global_properties"]["cni"], "flannel");
    // Plans 1 and 2 are active: exactly two catalog entries; inactive plans leave nothing.
    let plans = catalog["plans"].as_array().unwrap();
    let names: Vec<&str> = plans.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["small", "large"]);
    assert_eq!(plans[1]["instance_groups"][0]["instances"], 3);
    assert_eq!(
        plans[1]["instance_groups"][0]["networks"],
        json!(["pks-services"])
    );
    assert_eq!(
        plans[1]["properties"]["admission_plugins"],
        json!(["PodSecurityPolicy", "DenyEscalatingExec"])
    );
    assert_eq!(plans[0]["properties"]["admission_plugins"], json!([]));
    assert_eq!(plans[0]["update"]["max_in_flight"], 2);
    assert_eq!(
        job(api, "service-adapter")["properties"]["deployment"]["broker_deployment_name"],
        m["name"]
    );

    // Every generated secret is a declared variable, never an empty string.
    let vars: Vec<&str> = m["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for p in &out.placeholders {
        assert!(vars.contains(&p.as_str()), "{p} not declared");
    }
    for name in [
        "pks_internal_ca",
        "properties_pks_db_password",
        "properties_uaa_admin_password",
        "uaa_client_secret",
    ] {
        assert!(vars.contains(&name), "{name} missing from {vars:?}");
    }
    assert!(!out.to_yaml().contains("password: \"\""));

    // Errands with the configured rules.
    let rule = |n: &str| out.errands.iter().find(|e| e.name == n).unwrap().rule;
    assert_eq!(rule("smoke-tests"), ErrandRule::On);
    assert_eq!(
        rule("upgrade-all-service-instances"),
        ErrandRule::WhenChanged
    );
    assert_eq!(rule("delete-all-clusters"), ErrandRule::On);
}

#[test]
fn rendered_pks_passes_the_director_rules() {
    let (template, staged, ctx) = pks();
    let out = render_product(&template, &staged, &ctx).unwrap();
    let findings = validate_rendered(&out, &ctx.director.cloud_config);
    assert!(!has_errors(&findings), "{:#?}", errors(&findings));
}

/// The broker's plans feed the service adapter: each active plan renders a cluster manifest.
#[test]
fn pks_plans_drive_the_service_adapter() {
    let (template, staged, ctx) = pks();
    let out = render_product(&template, &staged, &ctx).unwrap();
    let api = group(&out.manifest, "pivotal-container-service");
    let broker = &job(api, "broker")["properties"];
    let sd: crate::odb::ServiceDeployment = serde_json::from_value(json!({
        "deployment_name": "service-instance_4f0c1e2a",
        "releases": broker["service_deployment"]["releases"],
        "stemcells": [{"stemcell_os": "ubuntu-xenial", "stemcell_version": "97.17"}],
    }))
    .unwrap();
    let global = broker["service_catalog"]["global_properties"]
        .as_object()
        .unwrap();
    for entry in broker["service_catalog"]["plans"].as_array().unwrap() {
        let mut plan: crate::odb::Plan = serde_json::from_value(entry.clone()).unwrap();
        for (k, v) in global {
            plan.properties.entry(k.clone()).or_insert(v.clone());
        }
        let generated = crate::odb::generate_manifest(&crate::odb::GenerateManifestInput {
            service_deployment: sd.clone(),
            plan,
            request_parameters: Value::Null,
            previous_manifest: None,
            previous_plan: None,
        })
        .unwrap();
        let worker = group(&generated.manifest_value, "worker");
        assert_eq!(worker["instances"], entry["properties"]["worker_instances"]);
    }
}

/// How the real PKS 1.1.3 tile builds its catalog: `plans:` lists one
/// `selected_option.parsed_manifest(planN_snippet)` per plan; inactive options have
/// `manifest: null`.
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

#[test]
fn pks_fixture_catalog_holds_exactly_the_active_plans() {
    let template = fixture("pks-1.1.3.yml");
    let (mut staged, ctx) = staged_from(&template, FIXTURE_CONFIG);
    let tls = json!({
        "cert_pem": include_str!("testdata/cert.pem"),
        "private_key_pem": include_str!("testdata/key.pem"),
    });
    staged.set(".pivotal-container-service.pks_tls", tls);
    let out = render_product(&template, &staged, &ctx).unwrap();
    let api = group(&out.manifest, "pivotal-container-service");
    // This tile writes the broker's configuration as the job type's own `manifest`, which
    // becomes the instance group's properties.
    let plans = api["properties"]["service_catalog"]["plans"]
        .as_array()
        .unwrap()
        .clone();
    let names: Vec<&str> = plans.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["small", "large"]);
    assert_eq!(plans[0]["plan_id"], "8A0E21A8-8072-4D80-B365-D1F502085560");
    assert_eq!(
        plans[1]["instance_groups"][0]["azs"],
        json!(["az1", "az2", "az3"])
    );
    // Colocated errand jobs, triple-paren variables, `..pivotal-container-service` self refs.
    let adapter = job(api, "service-adapter");
    assert_eq!(
        adapter["properties"]["deployment"]["broker_deployment_name"],
        out.manifest["name"]
    );
    assert_eq!(
        adapter["properties"]["deployment"]["kubo_odb_ca"],
        "((kubo_odb_ca.certificate))"
    );
    let findings = validate_rendered(&out, &ctx.director.cloud_config);
    assert!(!has_errors(&findings), "{:#?}", errors(&findings));
}

/// A configuration of the example product that sets every property type it has, with the
/// generated credentials filled in as `credentials::fill_generated` would.
fn example_staged() -> (ProductTemplate, StagedValues, RenderContext) {
    let template = fixture("example-product.yml");
    let cert = include_str!("testdata/cert.pem");
    let key = include_str!("testdata/key.pem");
    let config = format!(
        r#"
product-name: example-product
product-properties:
  .web_server.example_string: {{value: Howdy world}}
  .web_server.example_string_with_placeholder: {{value: placeholder text}}
  .web_server.example_migrated_integer: {{value: "42"}}
  .web_server.example_boolean: {{value: false}}
  .web_server.example_dropdown: {{value: lime}}
  .web_server.example_domain: {{value: sys.example.com}}
  .web_server.example_wildcard_domain: {{value: apps.example.com}}
  .web_server.example_string_list: {{value: "alpha, beta,gamma"}}
  .web_server.example_text: {{value: meet}}
  .web_server.example_ldap_url: {{value: "ldaps://ldap.example.com:636"}}
  .web_server.example_email: {{value: ops@example.com}}
  .web_server.example_http_url: {{value: "https://www.example.com/path"}}
  .web_server.example_ip_address: {{value: 10.1.2.3}}
  .web_server.example_ip_ranges: {{value: "10.0.0.1-10.0.0.3,10.0.0.9"}}
  .web_server.example_multi_select_options: {{value: [mars, venus]}}
  .web_server.example_network_address_list: {{value: "1.1.1.1, example.com"}}
  .web_server.example_network_address: {{value: db.example.com}}
  .web_server.example_port: {{value: "8443"}}
  .web_server.example_smtp_authentication: {{value: login}}
  .web_server.client_certificate: {{value: {cert:?}}}
  .web_server.example_vm_type_dropdown: {{value: large}}
  .web_server.example_disk_type_dropdown: {{value: "20480"}}
  .web_server.configured_secret: {{value: {{secret: s3cret}}}}
  .web_server.configured_simple_credentials: {{value: {{identity: admin, password: pw}}}}
  .web_server.configured_rsa_cert_credentials:
    value: {{cert_pem: {cert:?}, private_key_pem: {key:?}}}
  .properties.super_secret: {{value: {{secret: top}}}}
  .properties.example_selector: {{value: Pizza}}
  .properties.example_selector.pizza_option.pepperoni: {{value: true}}
  .properties.example_selector.pizza_option.other_toppings: {{value: olives}}
  .properties.example_selector.pizza_option.cheesy_vm_type: {{value: micro}}
  .properties.example_collection:
    value:
    - album: Graceland
      artist: Paul Simon
      explicit: false
      genre: rock
      secret_meaning: {{secret: backwards}}
      vm_type: small
      disk_type: "10240"
      example_service_network_az_single_select: az1
      example_service_network_az_multi_select: [az1]
  .properties.example_cert_collection:
    value:
    - example_cert_from_collection_name: one
      example_cert_from_collection: {{cert_pem: {cert:?}, private_key_pem: {key:?}}}
  .properties.example_required_cert_collection:
    value:
    - required_collection_cert: {{cert_pem: {cert:?}, private_key_pem: {key:?}}}
  .properties.required_secret_collection:
    value:
    - password: {{secret: pw}}
  .properties.example_runtime_config_selector: {{value: "Yes"}}
  .properties.example_runtime_config_selector.enable_option.salutation: {{value: Hi}}
  .properties.example_selector_with_deployed_director_accessors: {{value: "Yes"}}
  .web_server.static_ips: {{value: "10.0.0.20"}}
resource-config:
  web_server: {{instances: 1}}
  no_op: {{instances: 2, persistent_disk: {{size_mb: "10240"}}}}
"#
    );
    let (mut staged, ctx) = staged_from(&template, &config);
    let generated = [
        (
            ".web_server.generated_uuid",
            json!("6f1d9e2a-0b1c-4d5e-8f90-1a2b3c4d5e6f"),
        ),
        (
            ".web_server.generated_secret",
            json!({"secret": "gen-secret"}),
        ),
        (
            ".web_server.generated_secret_to_migrate_to_credhub_1_0",
            json!({"secret": "m"}),
        ),
        (
            ".web_server.generated_simple_credentials",
            json!({"identity": "gen-user", "password": "gen-pw"}),
        ),
        (
            ".web_server.generated_simple_credentials_to_migrate_to_credhub_1_0",
            json!({"identity": "u", "password": "p"}),
        ),
        (
            ".web_server.generated_salted_credentials",
            json!({"identity": "salty", "password": "Hello world!", "salt": "saltstring"}),
        ),
        (
            ".web_server.generated_salted_credentials_to_migrate_to_credhub_1_0",
            json!({"identity": "u", "password": "p", "salt": "0011223344556677"}),
        ),
        (
            ".web_server.generated_rsa_cert_credentials",
            json!({"cert_pem": cert, "private_key_pem": key}),
        ),
        (
            ".web_server.generated_rsa_cert_credentials_to_migrate_to_credhub_1_0",
            json!({"cert_pem": cert, "private_key_pem": key}),
        ),
        (
            ".web_server.generated_rsa_pkey_credentials",
            json!({"private_key_pem": key}),
        ),
        (
            ".web_server.generated_rsa_pkey_credentials_to_migrate_to_credhub_1_0",
            json!({"private_key_pem": key}),
        ),
    ];
    for (reference, value) in generated {
        staged.set(reference, value);
    }
    (template, staged, ctx)
}

#[test]
fn example_product_renders_every_property_type() {
    let (template, staged, ctx) = example_staged();
    let out = render_product(&template, &staged, &ctx).unwrap();
    let m = &out.manifest;
    let web = group(m, "web_server");
    let p = &web["properties"];
    let c = &p["configured"];
    assert_eq!(c["concat_example"], "Hello, Howdy world! Nice to meet you.");
    assert_eq!(c["integer"], 42);
    assert_eq!(c["boolean"], false);
    assert_eq!(c["dropdown"], "lime");
    assert_eq!(c["port"], 8443);
    assert_eq!(c["string_list"], "alpha, beta,gamma");
    assert_eq!(
        c["ip_ranges"]["parsed_ip_ranges"],
        json!(["10.0.0.1-10.0.0.3", "10.0.0.9"])
    );
    assert_eq!(
        c["network_address_list"]["parsed_network_addresses"],
        json!(["1.1.1.1", "example.com"])
    );
    assert_eq!(c["multi_select_options"], json!(["mars", "venus"]));
    assert_eq!(c["example_disk_type_dropdown_value"], "20480");
    assert_eq!(c["selector"]["pizza_toppings"]["pepperoni"], true);
    assert_eq!(
        c["selector"]["pizza_toppings"]["pineapple"], true,
        "default"
    );
    assert_eq!(c["selector_value"], "Pizza");
    assert_eq!(c["concat_secrets"], "admin:pw");
    assert_eq!(c["secret"], "s3cret");
    assert_eq!(
        c["secret_ternary"],
        ".web_server.configured_secret.value was true"
    );
    assert_eq!(c["simple_credentials"]["identity"], "admin");
    assert_eq!(
        c["rsa_cert_credentials"]["public_key_pem"],
        include_str!("testdata/key.pub.pem")
    );
    // A collection's value: one map per record, secrets as their text.
    assert_eq!(c["record_collection"][0]["album"], "Graceland");
    assert_eq!(c["record_collection"][0]["secret_meaning"], "backwards");
    assert_eq!(
        c["certificate_collection_manifest_snippet"][0]["certificate"],
        include_str!("testdata/cert.pem")
    );
    let g = &p["generated"];
    assert_eq!(g["uuid"], "6f1d9e2a-0b1c-4d5e-8f90-1a2b3c4d5e6f");
    assert_eq!(g["secret"]["present"], true);
    assert_eq!(
        g["salted_credentials"]["sha512_hashed_password"],
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
    );
    assert_eq!(
        g["rsa_pkey_credentials"]["public_key_openssh"],
        include_str!("testdata/key.openssh").trim()
    );
    assert_eq!(
        g["rsa_pkey_credentials"]["public_key_fingerprint"],
        "50:27:b1:b3:8c:8b:0b:ca:49:e9:ca:2a:5e:43:96:bf"
    );
    assert_eq!(g["ternary_with_property_example"], "hello world");
    assert_eq!(g["ternary_with_boolean_example"], false);
    assert_eq!(
        g["root_rsa_certificate"],
        "((/tileworks/root_ca.certificate))"
    );
    assert_eq!(
        p["credhub"]["concatenated_password"],
        "prefix-((credhub-password))-suffix"
    );
    let acc = &p["ops_manager_provided_accessors"];
    assert_eq!(acc["name"], "web_server");
    assert_eq!(acc["instances"], 1);
    assert_eq!(acc["any_instances"], true);
    assert_eq!(acc["persistent_disk"], 1024);
    assert_eq!(
        p["director_provided_accessors"]["username_and_pass"]["director_username"],
        "director"
    );
    assert_eq!(p["product"]["deployment_name"], m["name"]);
    assert_eq!(p["self"]["stemcell_version"], "97.28");
    // Links from the selected option's named manifests.
    let ws = job(web, "web_server");
    assert_eq!(
        ws["provides"]["web_server_info"]["as"],
        "pizza_link_web_server_job"
    );
    // The operator's static IP.
    assert_eq!(web["networks"][0]["static_ips"], json!(["10.0.0.20"]));
    // no_op: 2 instances over all AZs, with the operator's disk.
    let no_op = group(m, "no_op");
    assert_eq!(no_op["instances"], 2);
    assert_eq!(no_op["persistent_disk_type"], "10240");
    // The errand: cross-product self reference and $ops_manager.
    let errand = &job(group(m, "example-errand"), "example-errand")["properties"];
    assert_eq!(errand["product"]["deployment_name"], m["name"]);
    assert_eq!(errand["generated"]["dns_enabled"], true);
    // The runtime config from the selected option.
    assert_eq!(out.runtime_configs.len(), 1);
    let rc = &out.runtime_configs[0];
    assert_eq!(
        rc.name,
        format!("{}-kindness_banner_everywhere", m["name"].as_str().unwrap())
    );
    assert_eq!(
        rc.config["addons"][0]["include"]["deployments"],
        json!([m["name"]])
    );
    assert!(
        rc.config["addons"][0]["jobs"][0]["properties"]["login_banner"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Hi. You are welcome here.")
    );
    let findings = validate_rendered(&out, &ctx.director.cloud_config);
    assert!(!has_errors(&findings), "{:#?}", errors(&findings));
}

#[test]
fn automatic_dropdowns_resolve_to_catalogue_entries() {
    let (template, mut staged, ctx) = example_staged();
    staged.set(".web_server.example_vm_type_dropdown", json!("automatic"));
    staged.set(".web_server.example_disk_type_dropdown", json!("Automatic"));
    let out = render_product(&template, &staged, &ctx).unwrap();
    let c = &group(&out.manifest, "web_server")["properties"]["configured"];
    // ram 1024, disk 1024, cpu 1 → micro; persistent_disk 2000 → the 2048 MB disk type.
    assert_eq!(c["example_vm_type_dropdown_value"], "micro");
    assert_eq!(c["example_disk_type_dropdown_value"], "2048");
}

#[test]
fn zero_if_drops_the_job() {
    let (template, mut staged, ctx) = example_staged();
    staged.set(".properties.example_selector", json!("Filet Mignon"));
    let out = render_product(&template, &staged, &ctx).unwrap();
    let names: Vec<&str> = out.manifest["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"web_server"), "{names:?}");
}

const SMALL_TILE: &str = r#"
name: small
product_version: "1.0"
metadata_version: "2.5"
stemcell_criteria: {os: ubuntu-jammy, version: "1.100"}
releases: [{name: r, file: r.tgz, version: "1"}]
property_blueprints:
- {name: pw, type: secret}
- {name: admin, type: simple_credentials, default: {identity: admin}}
- {name: cert, type: rsa_cert_credentials, default: {domains: [a.example.com, b.example.com]}}
- {name: key, type: rsa_pkey_credentials}
- {name: id, type: uuid}
- {name: port, type: port, configurable: true, default: 80}
job_types:
- name: web
  single_az_only: false
  max_in_flight: 20%
  instance_definition: {name: instances, type: integer, configurable: true, default: 3}
  resource_definitions:
  - {name: ram, type: integer, configurable: true, default: 1024}
  - {name: cpu, type: integer, configurable: true, default: 1}
  - {name: ephemeral_disk, type: integer, configurable: true, default: 1024}
  - {name: persistent_disk, type: integer, configurable: false, default: 0}
  templates:
  - name: web
    release: r
    manifest: |
      pw: (( .properties.pw.value ))
      pw_field: (( .properties.pw.secret ))
      admin: (( .properties.admin.identity )):(( .properties.admin.password ))
      cert: (( .properties.cert.cert_pem ))
      key: (( .properties.key.public_key_pem ))
      id: (( .properties.id.value ))
      present: (( .properties.pw.value_present? ))
      port: (( .properties.port.value ))
      peers: (( .db.ips ))
      leader: (( .db.first_ip ))
      dns: (( .db.dns_names ))
      cidrs: (( subnet_cidrs ))
- name: db
  single_az_only: true
  max_in_flight: 1
  instance_definition: {name: instances, type: integer, configurable: true, default: 1}
  templates:
  - {name: db, release: r}
"#;

fn small() -> (ProductTemplate, RenderContext) {
    let template = ProductTemplate::from_yaml(SMALL_TILE).unwrap();
    let ctx = RenderContext::offline_default(
        "small",
        &OfflineOptions {
            network_properties: Some(json!({
                "network": {"name": "net"},
                "singleton_availability_zone": {"name": "z1"},
                "other_availability_zones": [{"name": "z1"}, {"name": "z2"}, {"name": "z3"}],
            })),
            ..OfflineOptions::default()
        },
    )
    .unwrap();
    (template, ctx)
}

#[test]
fn ungenerated_credentials_become_declared_bosh_variables() {
    let (template, ctx) = small();
    let out = render_product(&template, &StagedValues::new(), &ctx).unwrap();
    let m = &out.manifest;
    let web = group(m, "web");
    let p = &job(web, "web")["properties"];
    assert_eq!(p["pw"], "((properties_pw))");
    assert_eq!(p["pw_field"], "((properties_pw))");
    assert_eq!(
        p["admin"],
        "((properties_admin.username)):((properties_admin.password))"
    );
    assert_eq!(p["cert"], "((properties_cert.certificate))");
    assert_eq!(p["key"], "((properties_key.public_key))");
    assert_eq!(p["id"], "((properties_id))");
    assert_eq!(p["present"], true);
    assert_eq!(p["port"], 80);
    assert_eq!(
        m["variables"],
        json!([
            {"name": "properties_pw", "type": "password"},
            {"name": "properties_admin", "type": "user", "options": {"username": "admin"}},
            {"name": "properties_cert", "type": "certificate", "options": {
                "ca": "/tileworks/root_ca", "common_name": "a.example.com",
                "alternative_names": ["a.example.com", "b.example.com"]}},
            {"name": "properties_key", "type": "rsa"},
            {"name": "properties_id", "type": "password"},
        ])
    );
    assert_eq!(out.placeholders.len(), 5);
    // Job accessors: IPs of another job (allocated job after job: web's three instances
    // come first), its DNS name, this job's subnets.
    assert_eq!(p["peers"], json!(["10.0.0.13"]));
    assert_eq!(p["leader"], "10.0.0.13");
    assert_eq!(
        p["dns"],
        json!([format!("q-s0.db.net.{}.bosh", m["name"].as_str().unwrap())])
    );
    assert_eq!(p["cidrs"], json!(["10.0.0.0/24"]));
    // db's IPs were read, so db gets them as static IPs; web's were not.
    assert_eq!(
        group(m, "db")["networks"][0]["static_ips"],
        json!(["10.0.0.13"])
    );
    assert!(web["networks"][0].get("static_ips").is_none());
    assert_eq!(web["azs"], json!(["z1", "z2", "z3"]));
    assert_eq!(web["update"]["max_in_flight"], "20%");
    assert_eq!(web["vm_type"], "micro");
    assert!(web.get("persistent_disk_type").is_none());
    let findings = validate_rendered(&out, &ctx.director.cloud_config);
    assert!(!has_errors(&findings), "{:#?}", errors(&findings));
}

/// The IPs `small`'s db job reads of itself (`(( .db.ips ))` in web's manifest).
fn db_ips(template: &ProductTemplate, ctx: &RenderContext) -> Value {
    let out = render_product(template, &StagedValues::new(), ctx).unwrap();
    job(group(&out.manifest, "web"), "web")["properties"]["peers"].clone()
}

/// Two products on one network never get the same address: the one staged first keeps what
/// it had alone, the later one takes the next free ones, and each render agrees.
#[test]
fn products_on_one_network_are_given_different_addresses_in_staging_order() {
    let (small, mut ctx) = small();
    let other =
        ProductTemplate::from_yaml(&SMALL_TILE.replace("name: small", "name: other")).unwrap();
    let alone = db_ips(&small, &ctx);
    assert_eq!(alone, json!(["10.0.0.13"]));

    let other_product = |staged_at: &str, network: Option<NetworkAssignment>| OtherProduct {
        guid: "other-aaaaaaaaaaaaaaaaaaaa".into(),
        template: other.clone(),
        staged: StagedValues::new(),
        network,
        staged_at: staged_at.into(),
    };
    ctx.staged_at = "2026-02-01T00:00:00Z".into();
    // Staged later than `small`: small keeps its addresses.
    ctx.products
        .insert("other".into(), other_product("2026-03-01T00:00:00Z", None));
    assert_eq!(db_ips(&small, &ctx), alone);
    // Staged earlier: other's four instances (web's three, then db) hold .10–.13.
    ctx.products
        .insert("other".into(), other_product("2026-01-01T00:00:00Z", None));
    assert_eq!(db_ips(&small, &ctx), json!(["10.0.0.17"]));
    // Other's own render, with small staged after it, gives other what small's render assumed.
    let mut other_ctx = ctx.clone();
    other_ctx.products.clear();
    other_ctx.staged_at = "2026-01-01T00:00:00Z".into();
    other_ctx.products.insert(
        "small".into(),
        OtherProduct {
            guid: "small-aaaaaaaaaaaaaaaaaaaa".into(),
            template: small.clone(),
            staged: StagedValues::new(),
            network: None,
            staged_at: "2026-02-01T00:00:00Z".into(),
        },
    );
    assert_eq!(db_ips(&other, &other_ctx), json!(["10.0.0.13"]));
    // On another network it holds nothing of small's.
    let mut elsewhere = ctx.network.clone();
    elsewhere.network = "services".into();
    ctx.products.insert(
        "other".into(),
        other_product("2026-01-01T00:00:00Z", Some(elsewhere)),
    );
    assert_eq!(db_ips(&small, &ctx), alone);
}

#[test]
fn generated_values_are_used_once_present() {
    let (template, ctx) = small();
    let mut staged = StagedValues::new();
    staged.set(".properties.pw", json!({"secret": "real"}));
    staged.set(
        ".properties.key",
        json!({"private_key_pem": include_str!("testdata/key.pem")}),
    );
    let out = render_product(&template, &staged, &ctx).unwrap();
    let p = &job(group(&out.manifest, "web"), "web")["properties"];
    assert_eq!(p["pw"], "real");
    assert_eq!(p["pw_field"], "real");
    assert_eq!(p["key"], include_str!("testdata/key.pub.pem"));
    assert!(!out.placeholders.contains(&"properties_pw".to_string()));
}

#[test]
fn unknown_reference_names_expression_and_path() {
    let text = SMALL_TILE.replace(
        "port: (( .properties.port.value ))",
        "port: (( .properties.nope.value ))",
    );
    let template = ProductTemplate::from_yaml(&text).unwrap();
    let (_, ctx) = small();
    let err = render_product(&template, &StagedValues::new(), &ctx).unwrap_err();
    match &err {
        Error::Expr { expr, at, message } => {
            assert_eq!(expr, ".properties.nope.value");
            assert_eq!(at, "job_types[web].templates[web].manifest.port");
            assert!(message.contains("unknown reference"), "{message}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    let text = SMALL_TILE.replace(
        "port: (( .properties.port.value ))",
        "port: (( .properties.port.identity ))",
    );
    let template = ProductTemplate::from_yaml(&text).unwrap();
    let err = render_product(&template, &StagedValues::new(), &ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`identity` does not apply"), "{err}");
    assert!(err.contains("manifest.port"), "{err}");
}

#[test]
fn other_products_and_contexts() {
    let (_, mut ctx) = small();
    let cf = ProductTemplate::from_yaml(
        r#"
name: cf
product_version: "2.0"
metadata_version: "2.5"
stemcell_criteria: {os: ubuntu-jammy, version: "1.100"}
releases: []
property_blueprints:
- {name: system_domain, type: domain, configurable: true}
job_types:
- name: router
  single_az_only: false
  max_in_flight: 1
  instance_definition: {name: instances, type: integer, configurable: true, default: 2}
  templates: []
"#,
    )
    .unwrap();
    let mut cf_staged = StagedValues::new();
    cf_staged.set(".properties.system_domain", json!("sys.example.com"));
    ctx.products.insert(
        "cf".into(),
        OtherProduct {
            guid: "cf-aaaaaaaaaaaaaaaaaaaa".into(),
            template: cf,
            staged: cf_staged,
            network: None,
            staged_at: String::new(),
        },
    );
    ctx.runtime
        .insert("apps_domain".into(), json!("apps.example.com"));
    let text = SMALL_TILE.replace(
        "port: (( .properties.port.value ))",
        "port: (( .properties.port.value ))\n      domain: (( ..cf.properties.system_domain.value ))\n      routers: (( ..cf.router.instances ))\n      cf: (( ..cf.deployment_name ))\n      redis: (( ..p-redis.present? ))\n      apps: (( $runtime.apps_domain ))\n      login: (( $runtime.login_url || 'none' ))\n      proxy: (( $ops_manager.http_proxy ))",
    );
    let template = ProductTemplate::from_yaml(&text).unwrap();
    let out = render_product(&template, &StagedValues::new(), &ctx).unwrap();
    let p = &job(group(&out.manifest, "web"), "web")["properties"];
    assert_eq!(p["domain"], "sys.example.com");
    assert_eq!(p["routers"], 2);
    assert_eq!(p["cf"], "cf-aaaaaaaaaaaaaaaaaaaa");
    assert_eq!(p["redis"], false);
    assert_eq!(p["apps"], "apps.example.com");
    assert_eq!(p["login"], "none");
    assert_eq!(p["proxy"], Value::Null);
}

#[test]
fn guids() {
    let g = product_guid("p-redis", b"seed");
    assert!(is_product_guid("p-redis", &g), "{g}");
    assert_eq!(g, product_guid("p-redis", b"seed"));
    assert_ne!(g, product_guid("p-redis", b"other"));
    assert!(!is_product_guid("p-redis", "p-redis-XYZ"));
    assert!(!is_product_guid("p-redis", "cf-0123456789abcdef0123"));
}

#[test]
fn bad_resource_config_is_an_error_naming_the_field() {
    let (template, ctx) = small();
    let mut staged = StagedValues::new();
    staged.resources.insert(
        "web".into(),
        crate::properties::ResourceConfig {
            instances: Some(json!("many")),
            ..Default::default()
        },
    );
    let err = render_product(&template, &staged, &ctx).unwrap_err();
    assert_eq!(
        err,
        Error::Invalid {
            field: "resource-config.web.instances".into(),
            message: "'many' is not a number of instances".into()
        }
    );
}

#[cfg(feature = "credentials")]
#[test]
fn example_product_renders_after_fill_generated() {
    use rand::SeedableRng;
    let template = fixture("example-product.yml");
    let (mut staged, ctx) = {
        let (_, s, c) = example_staged();
        (s, c)
    };
    for r in [
        ".web_server.generated_rsa_pkey_credentials",
        ".web_server.generated_salted_credentials",
        ".web_server.generated_rsa_cert_credentials",
    ] {
        staged.remove(r);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let ca = crate::credentials::CertificateAuthority::generate(
        "Tileworks root CA",
        "Tileworks",
        1_700_000_000,
        &mut rng,
    )
    .unwrap();
    crate::credentials::fill_generated(&template, &mut staged, &ca, 1_700_000_000, &mut rng)
        .unwrap();
    let out = render_product(&template, &staged, &ctx).unwrap();
    let g = &group(&out.manifest, "web_server")["properties"]["generated"];
    assert!(g["rsa_pkey_credentials"]["public_key_openssh"]
        .as_str()
        .unwrap()
        .starts_with("ssh-rsa AAAA"));
    assert!(g["salted_credentials"]["sha512_hashed_password"]
        .as_str()
        .unwrap()
        .starts_with("$6$"));
    assert!(g["rsa_cert_credentials"]["public_key_pem"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(out.placeholders.is_empty(), "{:?}", out.placeholders);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z0-9 .,:/%-]{0,12}".prop_map(Value::String),
            Just(json!("Plan Active")),
            Just(json!("Plan Inactive")),
            Just(json!("automatic")),
            Just(json!("((x))")),
            Just(json!("(( .properties.nope.value ))")),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn random_staged_values_never_panic(
            picks in prop::collection::vec((0usize..400, any_json()), 0..24),
            resources in prop::collection::vec((0usize..6, any_json(), any_json()), 0..4),
        ) {
            let (template, mut staged, ctx) = pks();
            let refs: Vec<String> = template.property_refs().into_iter().map(|p| p.reference).collect();
            for (i, v) in picks {
                if let Some(r) = refs.get(i % refs.len().max(1)) {
                    staged.set(r.clone(), v);
                }
            }
            for (j, instances, disk) in resources {
                if let Some(job) = template.job_types.get(j % template.job_types.len()) {
                    let rc = staged.resources.entry(job.name.clone()).or_default();
                    rc.instances = Some(instances);
                    rc.persistent_disk_mb = Some(disk);
                }
            }
            if let Ok(out) = render_product(&template, &staged, &ctx) {
                let _ = out.to_yaml();
                let _ = validate_rendered(&out, &ctx.director.cloud_config);
            }
        }
    }
}

/// The bundled PKS control plane passes the job-spec check at the release versions the tile
/// names: every property it sets is declared, every job exists. Only the releases that are not
/// public (no summary) stay unchecked, and the test names them so a new one is noticed.
#[test]
fn pks_control_plane_manifest_passes_the_job_spec_check() {
    let (template, staged, ctx) = pks();
    let out = render_product(&template, &staged, &ctx).unwrap();
    let report =
        crate::job_specs::check_manifest(&out.manifest, &crate::products::bundled_job_specs());
    assert!(
        report.findings.is_empty(),
        "the PKS manifest sets what its job specs do not declare: {:#?}",
        report.findings
    );
    assert_eq!(
        report.unchecked_summary(),
        "kubo-service-adapter/1.1.3 (service-adapter), \
         pks-api/1.1.3 (delete-all-clusters, pks-api, smoke-tests)"
    );
    // The tile's templates, checked without rendering, agree.
    let static_report =
        crate::job_specs::check_template(&template, &crate::products::bundled_job_specs());
    assert!(
        static_report.findings.is_empty(),
        "{:#?}",
        static_report.findings
    );
}
