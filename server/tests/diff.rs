//! See changes over the API, as om's `bosh-diff` reads it: `GET /api/v0/products/:guid/diff`
//! and `GET /api/v0/director/diff` before any apply (everything to be installed), right after
//! an apply (the same), and after configuration changes (a changed line; a changed credential
//! never shows its value). The bundled PKS tile, configured as `om configure-product` does it,
//! deployed to the embedded Director stand-in.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::pks::*;
use support::*;

const SECRET_1: &str = "pks-vcenter-Secret-1";
const SECRET_2: &str = "pks-vcenter-Secret-2-changed";

/// Lines of a diff text starting with `prefix`.
fn lines_with<'a>(diff: &'a Value, prefix: &str) -> Vec<&'a str> {
    diff.as_str()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

#[tokio::test]
async fn diffs_before_and_after_an_apply_and_after_changes() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let (cert, key) = test_cert();
    let config = tiles::yaml::load(&pks_config_yaml(&cert, &key)).unwrap();
    om_configure_product(&api, &config).await;
    let product_diff = format!("/api/v0/products/{guid}/diff");

    // --- Before any apply: everything is to be installed.
    let d = api.ok(Method::GET, &product_diff, None).await;
    assert_eq!(d["manifest"]["status"], "to_be_installed", "{d:#}");
    let added = lines_with(&d["manifest"]["diff"], "+ ");
    assert!(added.iter().any(|l| l.contains("name: ")), "{d:#}");
    assert!(lines_with(&d["manifest"]["diff"], "- ").is_empty());
    let text = d.to_string();
    assert!(!text.contains(SECRET_1), "a credential leaked: {text}");
    assert!(!text.contains(&key.lines().nth(1).unwrap().to_owned()));
    assert!(text.contains("(("), "credentials appear as placeholders");
    assert!(d["runtime_configs"].is_array());
    assert_eq!(d["errands"]["status"], "to_be_installed");
    let smoke = d["errands"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "smoke-tests")
        .unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(smoke["post_deploy"]["staged"], false);
    assert_eq!(smoke["post_deploy"]["deployed"], Value::Null);

    let dd = api.ok(Method::GET, "/api/v0/director/diff", None).await;
    assert_eq!(dd["manifest"]["status"], "to_be_installed", "{dd:#}");
    assert!(
        lines_with(&dd["manifest"]["diff"], "+ ")
            .iter()
            .any(|l| l.contains("trusted_certs")),
        "the Director's own manifest: {dd:#}"
    );
    assert_eq!(dd["cloud_config"]["status"], "to_be_installed", "{dd:#}");
    assert!(
        lines_with(&dd["cloud_config"]["diff"], "+ ")
            .iter()
            .any(|l| l.contains("az1")),
        "{dd:#}"
    );
    assert_eq!(dd["runtime_configs"], json!([]));
    assert_eq!(dd["cpi_configs"], json!([]));
    assert!(!dd.to_string().contains(VCENTER_PASSWORD));

    // --- After an apply: the same.
    apply_succeeds(&api, json!({"deploy_products": "all"})).await;
    let d = api.ok(Method::GET, &product_diff, None).await;
    assert_eq!(d["manifest"]["status"], "same", "{d:#}");
    assert_eq!(d["manifest"]["diff"], "");
    assert_eq!(d["errands"]["status"], "same", "{d:#}");
    for rc in d["runtime_configs"].as_array().unwrap() {
        assert_eq!(rc["status"], "same", "{d:#}");
    }
    let dd = api.ok(Method::GET, "/api/v0/director/diff", None).await;
    assert_eq!(dd["cloud_config"]["status"], "same", "{dd:#}");
    assert_eq!(dd["manifest"]["status"], "same", "{dd:#}");

    // --- The Director's Syslog section switched on: its manifest gains the forwarder.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(
            json!({"syslog_configuration": {"enabled": true, "address": "logs.example.com",
            "port": 514, "transport_protocol": "udp"}}),
        ),
    )
    .await;
    let dd = api.ok(Method::GET, "/api/v0/director/diff", None).await;
    assert_eq!(dd["manifest"]["status"], "different", "{dd:#}");
    assert!(
        lines_with(&dd["manifest"]["diff"], "+ ")
            .iter()
            .any(|l| l.contains("logs.example.com")),
        "{dd:#}"
    );
    assert_eq!(dd["cloud_config"]["status"], "same", "{dd:#}");

    // --- A property change: the changed line, with context.
    let base = format!("/api/v0/staged/products/{guid}");
    api.ok(
        Method::PUT,
        &format!("{base}/properties"),
        Some(json!({"properties": {".properties.pks_api_hostname": {"value": "api2.pks.example.com"}}})),
    )
    .await;
    let d = api.ok(Method::GET, &product_diff, None).await;
    assert_eq!(d["manifest"]["status"], "different", "{d:#}");
    let diff = &d["manifest"]["diff"];
    assert!(
        lines_with(diff, "- ")
            .iter()
            .any(|l| l.contains("api.pks.example.com")),
        "{diff}"
    );
    assert!(
        lines_with(diff, "+ ")
            .iter()
            .any(|l| l.contains("api2.pks.example.com")),
        "{diff}"
    );
    assert!(!lines_with(diff, "  ").is_empty(), "context lines: {diff}");
    assert!(diff.as_str().unwrap().starts_with("@@ -"), "{diff}");

    // --- A credential change: never its value, old or new.
    api.ok(
        Method::PUT,
        &format!("{base}/properties"),
        Some(
            json!({"properties": {".properties.cloud_provider.vsphere.vcenter_master_creds":
            {"value": {"identity": "administrator@vsphere.local", "password": SECRET_2}}}}),
        ),
    )
    .await;
    let d = api.ok(Method::GET, &product_diff, None).await;
    let text = d.to_string();
    assert!(!text.contains(SECRET_1), "{text}");
    assert!(!text.contains(SECRET_2), "{text}");
    for line in lines_with(&d["manifest"]["diff"], "+ ")
        .into_iter()
        .chain(lines_with(&d["manifest"]["diff"], "- "))
    {
        assert!(
            !line.contains("password") || line.contains("(("),
            "a password line without a placeholder: {line}"
        );
    }

    // --- An errand rule change.
    api.ok(
        Method::PUT,
        &format!("{base}/errands"),
        Some(json!({"errands": [{"name": "smoke-tests", "post_deploy": true}]})),
    )
    .await;
    let d = api.ok(Method::GET, &product_diff, None).await;
    assert_eq!(d["errands"]["status"], "different", "{d:#}");
    let smoke = d["errands"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "smoke-tests")
        .unwrap();
    assert_eq!(smoke["status"], "different");
    assert_eq!(smoke["post_deploy"]["staged"], true);
    assert_eq!(smoke["post_deploy"]["deployed"], false);

    // --- Staged deletion: the deployed manifest, all removed.
    api.ok(Method::DELETE, &base, Some(json!({}))).await;
    let d = api.ok(Method::GET, &product_diff, None).await;
    assert_eq!(d["manifest"]["status"], "to_be_deleted", "{d:#}");
    assert!(lines_with(&d["manifest"]["diff"], "+ ").is_empty());
    assert!(!lines_with(&d["manifest"]["diff"], "- ").is_empty());
    assert!(!d.to_string().contains(SECRET_1));
}

#[tokio::test]
async fn unknown_products_and_missing_auth_are_refused() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let r = api
        .get("/api/v0/products/pivotal-container-service-00000000000000000000/diff")
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);
    let director_guid = api.guid_of("p-bosh").await;
    let r = api
        .get(&format!("/api/v0/products/{director_guid}/diff"))
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);
    // The Director tile is not configured yet: its cloud config cannot be rendered.
    let r = api.get("/api/v0/director/diff").await;
    assert_eq!(r.status, 422, "{:#}", r.body);

    let anonymous = reqwest::Client::new();
    for path in [
        "/api/v0/director/diff".to_owned(),
        format!("/api/v0/products/{director_guid}/diff"),
    ] {
        let r = anonymous.get(server.at(&path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
}
