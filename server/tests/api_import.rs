//! Importing tiles through `POST /api/v0/available_products` (multipart `product[file]`, as
//! `om upload-product` sends it): a valid tile, a duplicate, a tile with lint errors, hostile
//! archives; and upgrading a staged product to the imported version.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::*;

const PKS: &str = "pivotal-container-service";

fn store_files(server: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.data_dir.path().join("tiles"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_valid_tile_imports_once_and_a_duplicate_is_a_no_op() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let bytes = pks_pivotal("1.2.0");
    let sha = hex::encode(Sha256::digest(&bytes));

    let r = api.upload("pks-1.2.0.pivotal", bytes.clone()).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.body["outcome"], "imported");
    assert_eq!(r.body["product"]["sha256"], sha.as_str());
    assert_eq!(r.body["product"]["size"], bytes.len());
    let files = store_files(&server);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with("pivotal-container-service-1.2.0-") && files[0].ends_with(".pivotal")
    );
    assert_eq!(
        std::fs::read(server.data_dir.path().join("tiles").join(&files[0])).unwrap(),
        bytes
    );

    // om upload-product would stop at "already uploaded"; a second POST is a no-op anyway.
    let r = api.upload("again.pivotal", bytes).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["outcome"], "already_present");
    assert_eq!(store_files(&server).len(), 1);
    let list = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    let versions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["product_version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, [tiles::products::PKS_VERSION, "1.2.0"]);

    // Deleting the unused import removes its file; the bundled tile stays.
    let deleted = api
        .ok(Method::DELETE, "/api/v0/available_products", None)
        .await;
    assert_eq!(
        deleted["deleted"],
        json!([{"name": PKS, "product_version": "1.2.0"}])
    );
    assert!(store_files(&server).is_empty());
    let list = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_tile_with_lint_errors_is_refused_with_the_findings() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let metadata = "name: broken\nproduct_version: 1.0.0\nmetadata_version: '2.1'\nlabel: Broken\nrank: 1\n\
        stemcell_criteria: {os: ubuntu-xenial, version: '97.1'}\n\
        form_types:\n- name: main\n  label: Main\n  property_inputs:\n  - reference: .properties.missing\n";
    let r = api
        .upload(
            "broken.pivotal",
            pivotal(&[("metadata/broken.yml", metadata.as_bytes(), true)]),
        )
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    let errors = r.body["errors"].as_object().unwrap();
    let (path, messages) = errors
        .iter()
        .find(|(k, _)| k.starts_with("metadata.form_types"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert!(path.contains("property_inputs"), "{path}");
    assert!(
        messages[0]
            .as_str()
            .unwrap()
            .contains("form-reference-resolves"),
        "{messages}"
    );
    assert!(store_files(&server).is_empty());
    let list = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["name"] != "broken"));
}

/// What Ops Manager tolerates is imported and reported: a selector default naming no option.
const TOLERATED_METADATA: &str = "name: tolerant
product_version: 1.0.0
metadata_version: '2.1'
label: Tolerant
icon_image: iVBORw0KGgo=
minimum_version_for_upgrade: 0.0.1
rank: 1
stemcell_criteria: {os: ubuntu-xenial, version: '97.1'}
form_types:
- name: main
  label: Main
  property_inputs:
  - reference: .properties.mode
    label: Mode
    selector_property_inputs:
    - reference: .properties.mode.simple
      label: Simple
property_blueprints:
- name: mode
  type: selector
  configurable: true
  default: non-existant-value
  option_templates:
  - name: simple
    select_value: Simple
";

#[tokio::test]
async fn a_tile_with_lint_warnings_imports_and_shows_them_in_the_answer_and_on_its_page() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let r = api
        .upload(
            "tolerant.pivotal",
            pivotal(&[("metadata/tolerant.yml", TOLERATED_METADATA.as_bytes(), true)]),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.body["outcome"], "imported");
    let warnings = r.body["product"]["lint_warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = warnings[0].as_str().unwrap();
    for part in [
        "metadata.property_blueprints[0].default: ",
        "`non-existant-value`",
        "[selector-default]",
        "(metadata line 22, column 3)",
    ] {
        assert!(warning.contains(part), "{part} in {warning}");
    }
    // The list of available products carries them too, as does the product's settings page.
    let list = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tolerant")
        .unwrap();
    assert_eq!(listed["lint_warnings"], json!([warning]));
    let guid = api.stage("tolerant", "1.0.0").await;
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let html = get_page(&browser, &server, &format!("/products/{guid}/settings")).await;
    assert!(html.contains("product-lint-warnings"), "{html}");
    assert!(
        html.contains("names no option (select_values: Simple)"),
        "{html}"
    );
    // A tile without warnings shows no such list.
    let pks = api.stage(PKS, tiles::products::PKS_VERSION).await;
    let html = get_page(&browser, &server, &format!("/products/{pks}/settings")).await;
    assert!(!html.contains("product-lint-warnings"));
}

#[tokio::test]
async fn hostile_archives_are_refused_and_nothing_is_written_outside_the_store() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let meta = pks_metadata_version("9.9.9");
    // The places an escaping entry could land: the data dir, the folders above it, and the
    // absolute path one archive names. (Counting the entries of /tmp instead would be flaky:
    // other tests and processes write there at the same time.)
    let data_dir = server.data_dir.path().to_owned();
    let escaped_to = [
        data_dir.join("escaped.tgz"),
        data_dir.parent().unwrap().join("escaped.tgz"),
        std::path::PathBuf::from("/escaped.tgz"),
        std::path::PathBuf::from("/tmp/absolute.tgz"),
    ];
    let existed_before: Vec<bool> = escaped_to.iter().map(|p| p.exists()).collect();

    let zeros = vec![0u8; 8 * 1024 * 1024];
    let alias_bomb = {
        let mut y = String::from("name: bomb\nproduct_version: 1.0.0\nmetadata_version: '2.1'\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            y.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        y
    };
    let huge_yaml = {
        let mut y = meta.clone();
        let line = format!("# {}\n", "padding ".repeat(12));
        while y.len() < 17 * 1024 * 1024 {
            y.push_str(&line);
        }
        y
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "escape",
            pivotal(&[
                ("metadata/pks.yml", meta.as_bytes(), true),
                ("releases/../../../escaped.tgz", b"x", false),
            ]),
            "escapes",
        ),
        (
            "absolute",
            pivotal(&[
                ("metadata/pks.yml", meta.as_bytes(), true),
                ("/tmp/absolute.tgz", b"x", false),
            ]),
            "absolute",
        ),
        (
            "zip bomb",
            pivotal(&[
                ("metadata/pks.yml", meta.as_bytes(), true),
                ("releases/bomb.tgz", &zeros, true),
            ]),
            "zip bomb",
        ),
        (
            "enormous YAML",
            pivotal(&[("metadata/pks.yml", huge_yaml.as_bytes(), false)]),
            "larger than",
        ),
        (
            "alias bomb",
            pivotal(&[("metadata/pks.yml", alias_bomb.as_bytes(), true)]),
            "",
        ),
        (
            "no metadata",
            pivotal(&[("releases/a.tgz", b"x", false)]),
            "metadata",
        ),
        (
            "not a zip",
            b"this is not a zip file at all".to_vec(),
            "zip",
        ),
        ("empty", Vec::new(), "empty"),
    ];
    for (what, bytes, expect) in cases {
        let r = api.upload("hostile.pivotal", bytes).await;
        assert_eq!(r.status, 422, "{what}: {:#}", r.body);
        let text = r.body["errors"].to_string();
        assert!(text.contains(expect), "{what}: {text}");
        assert!(
            store_files(&server).is_empty(),
            "{what} left files: {:?}",
            store_files(&server)
        );
    }
    for (path, existed) in escaped_to.iter().zip(existed_before) {
        assert!(
            existed || !path.exists(),
            "a hostile entry was written outside the store: {}",
            path.display()
        );
    }
    let list = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // A multipart body without the field, and no token at all.
    let form = reqwest::multipart::Form::new().text("other", "x");
    let r = reqwest::Client::new()
        .post(server.at("/api/v0/available_products"))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let part = reqwest::multipart::Part::bytes(pks_pivotal("1.2.0")).file_name("x.pivotal");
    let form = reqwest::multipart::Form::new().part("product[file]", part);
    let r = reqwest::Client::new()
        .post(server.at("/api/v0/available_products"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(store_files(&server).is_empty());
}

#[tokio::test]
async fn a_staged_product_upgrades_to_a_newer_import_keeping_its_configuration() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": tiles::products::PKS_VERSION})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let base = format!("/api/v0/staged/products/{guid}");
    api.ok(Method::PUT, &format!("{base}/properties"), Some(json!({"properties": {".properties.pks_api_hostname": {"value": "api.pks.example.com"}}}))).await;
    let job = api.job_guid(&guid, PKS).await;
    api.ok(
        Method::PUT,
        &format!("{base}/max_in_flight"),
        Some(json!({"max_in_flight": {job.clone(): 2}})),
    )
    .await;
    let secret_before = api
        .ok(
            Method::GET,
            &format!("{base}/properties?redact=false"),
            None,
        )
        .await;

    // Not imported yet: 404.
    let r = api.put(&base, json!({"to_version": "1.2.0"})).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        api.upload("pks.pivotal", pks_pivotal("1.2.0")).await.status,
        200
    );
    assert_eq!(
        api.upload("pks-old.pivotal", pks_pivotal("1.0.0"))
            .await
            .status,
        200
    );

    // A stale upgrade is refused like any stale write.
    let version: i64 = api
        .get(&format!("{base}/properties"))
        .await
        .etag
        .unwrap()
        .parse()
        .unwrap();
    let r = api
        .send(
            Method::PUT,
            &base,
            Some(&json!({"to_version": "1.2.0"})),
            Some(version - 1),
        )
        .await;
    assert_eq!(r.status, 409);

    // om stage-product on a staged product: PUT to_version.
    let r = api
        .ok(Method::PUT, &base, Some(json!({"to_version": "1.2.0"})))
        .await;
    assert_eq!(r["product_version"], "1.2.0");
    assert_eq!(r["from_version"], tiles::products::PKS_VERSION);
    assert_eq!(r["dropped"], json!([]));
    let list = api.ok(Method::GET, "/api/v0/staged/products", None).await;
    let pks = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == PKS)
        .unwrap();
    assert_eq!(pks["product_version"], "1.2.0");
    assert_eq!(pks["guid"], guid.as_str());

    let after = api
        .ok(
            Method::GET,
            &format!("{base}/properties?redact=false"),
            None,
        )
        .await;
    assert_eq!(
        after["properties"][".properties.pks_api_hostname"]["value"],
        "api.pks.example.com"
    );
    // Generated credentials survive the upgrade unchanged.
    for (k, v) in secret_before["properties"].as_object().unwrap() {
        if v["credential"] == true && v["configurable"] == false {
            assert_eq!(after["properties"][k]["value"], v["value"], "{k}");
        }
    }
    assert_eq!(api.job_guid(&guid, PKS).await, job);
    let mif = api
        .ok(Method::GET, &format!("{base}/max_in_flight"), None)
        .await;
    assert_eq!(mif["max_in_flight"][job.as_str()], 2);

    // Downgrades are refused; the imported old version cannot replace the staged one.
    let r = api.put(&base, json!({"to_version": "1.0.0"})).await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    let r = api
        .post(
            "/api/v0/staged/products",
            json!({"name": PKS, "product_version": "1.0.0"}),
        )
        .await;
    assert_eq!(r.status, 422);
    // The staged version is in use: it cannot be deleted; the others can.
    let r = api
        .send(
            Method::DELETE,
            &format!("/api/v0/available_products?product_name={PKS}&version=1.2.0"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    api.ok(
        Method::DELETE,
        &format!("/api/v0/available_products?product_name={PKS}&version=1.0.0"),
        None,
    )
    .await;
    let list: Value = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

/// The PKS metadata at `version` with `worker_max_in_flight` defaulting to `default` and
/// constrained by `constraints` (YAML lines indented by four spaces).
fn pks_with_in_flight_constraints(version: &str, default: i64, constraints: &str) -> Vec<u8> {
    let old = "- name: worker_max_in_flight\n  type: integer\n  configurable: true\n  \
               default: 1\n  constraints:\n    min: 1\n";
    let text = pks_metadata_version(version);
    assert!(text.contains(old), "PKS metadata changed: update this test");
    let new = format!(
        "- name: worker_max_in_flight\n  type: integer\n  configurable: true\n  \
         default: {default}\n  constraints:\n{constraints}"
    );
    let text = text.replacen(old, &new, 1);
    pivotal(&[("metadata/pks.yml", text.as_bytes(), true)])
}

#[tokio::test]
async fn a_version_deleted_and_imported_again_is_validated_by_its_new_metadata() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let version = "9.9.9";
    let in_flight =
        |v: i64| json!({"properties": {".properties.worker_max_in_flight": {"value": v}}});

    // The first file: at least 10.
    let r = api
        .upload(
            "a.pivotal",
            pks_with_in_flight_constraints(version, 10, "    min: 10\n"),
        )
        .await;
    assert_eq!(r.body["outcome"], "imported", "{:#}", r.body);
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": version})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let props = format!("/api/v0/staged/products/{guid}/properties");
    let r = api.put(&props, in_flight(3)).await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    api.ok(
        Method::DELETE,
        &format!("/api/v0/staged/products/{guid}"),
        None,
    )
    .await;
    api.ok(
        Method::DELETE,
        &format!("/api/v0/available_products?product_name={PKS}&version={version}"),
        None,
    )
    .await;

    // The same name and version again, now between 1 and 5.
    let r = api
        .upload(
            "b.pivotal",
            pks_with_in_flight_constraints(version, 1, "    min: 1\n    max: 5\n"),
        )
        .await;
    assert_eq!(r.body["outcome"], "imported", "{:#}", r.body);
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": version})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let props = format!("/api/v0/staged/products/{guid}/properties");
    // The new rule refuses 20 (the old one allowed it) and accepts 3 (the old one refused it).
    let r = api.put(&props, in_flight(20)).await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(
        r.body["errors"][".properties.worker_max_in_flight"].is_array(),
        "{:#}",
        r.body
    );
    let r = api.put(&props, in_flight(3)).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let shown = api.ok(Method::GET, &props, None).await;
    assert_eq!(
        shown["properties"][".properties.worker_max_in_flight"]["value"],
        3
    );
}
