//! Revert (`DELETE /api/v0/staged`) and deletion as a staged change
//! (`DELETE /api/v0/staged/products/:guid` of a deployed product), against the real binary.
//!
//! To keep these tests fast, a successful deploy is recorded without running Apply Changes:
//! `Products::record_deployed` writes the same `deployed_products` row the pipeline writes, on
//! the same data dir (SQLite in WAL mode allows the second connection). Revert after a real
//! Apply Changes is covered in tests/installations.rs.

mod common;
mod support;

use std::io::Write;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::*;

use server::products::Products;
use server::stemcells::OsVersion;
use server::store::Store;

const PKS: &str = "pivotal-container-service";
const HOSTNAME: &str = ".properties.pks_api_hostname";

/// The products service on the test server's data dir (what the installation pipeline uses).
async fn pipeline(server: &TestServer) -> Products {
    let store = Store::connect(server.data_dir.path(), server.database_url.as_deref())
        .await
        .unwrap();
    let key = server::passphrase::unlock(&store, PASSPHRASE)
        .await
        .unwrap();
    let sealer = server::store::sealing::Sealer::new(&key);
    Products::open(store, server.data_dir.path(), sealer, true)
        .await
        .unwrap()
}

/// Records the product's current staged row as successfully deployed with its staged
/// stemcells, as Apply Changes does after the product's deploy succeeded.
async fn record_deploy(server: &TestServer, api: &Api<'_>, guid: &str) {
    let assignments = api
        .ok(Method::GET, "/api/v0/stemcell_assignments", None)
        .await;
    let mine = assignments["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == guid)
        .unwrap()
        .clone();
    let stemcells = match mine["staged_stemcell_version"].as_str() {
        Some(v) => vec![OsVersion {
            os: mine["required_stemcell_os"].as_str().unwrap().to_owned(),
            version: v.to_owned(),
        }],
        None => vec![],
    };
    let products = pipeline(server).await;
    let row = products.staged_row_for_deploy(guid).await.unwrap();
    products.record_deployed(&row, &stemcells).await.unwrap();
}

async fn stage(api: &Api<'_>, name: &str, version: &str) -> String {
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": name, "product_version": version})),
        )
        .await;
    staged["guid"].as_str().unwrap().to_owned()
}

async fn staged_guids(api: &Api<'_>) -> Vec<String> {
    api.ok(Method::GET, "/api/v0/staged/products", None)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["guid"].as_str().unwrap().to_owned())
        .collect()
}

async fn staged_entry(api: &Api<'_>, guid: &str) -> Value {
    api.ok(Method::GET, "/api/v0/staged/products", None)
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == guid)
        .unwrap()
        .clone()
}

async fn action(api: &Api<'_>, guid: &str) -> String {
    let all = api
        .ok(Method::GET, "/api/v0/staged/pending_changes", None)
        .await;
    all["product_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == guid)
        .unwrap_or_else(|| panic!("{guid} not pending: {all:#}"))["action"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn hostname(api: &Api<'_>, guid: &str) -> Value {
    api.ok(
        Method::GET,
        &format!("/api/v0/staged/products/{guid}/properties"),
        None,
    )
    .await["properties"][HOSTNAME]["value"]
        .clone()
}

async fn set_hostname(api: &Api<'_>, guid: &str, value: &str) {
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{guid}/properties"),
        Some(json!({"properties": {HOSTNAME: {"value": value}}})),
    )
    .await;
}

async fn revert(api: &Api<'_>) -> Reply {
    api.send(Method::DELETE, "/api/v0/staged", None, None).await
}

fn stemcell_tgz(os: &str, version: &str) -> Vec<u8> {
    let mf = format!(
        "name: bosh-vsphere-esxi-{os}-go_agent\nversion: '{version}'\noperating_system: {os}\n"
    );
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(mf.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "stemcell.MF", mf.as_bytes())
        .unwrap();
    let mut gz = tar.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

#[tokio::test]
async fn revert_goes_back_to_what_is_deployed_and_unstages_what_never_was() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let pks = stage(&api, PKS, "latest").await;
    set_hostname(&api, &pks, "api.deployed.example.com").await;
    assert_eq!(action(&api, &pks).await, "install");
    record_deploy(&server, &api, &pks).await;
    assert_eq!(action(&api, &pks).await, "unchanged");
    let pending = api
        .ok(Method::GET, "/api/v0/staged/pending_changes", None)
        .await;
    let mine = pending["product_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == pks.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        mine["deployed"]["version"], mine["staged"]["version"],
        "{mine:#}"
    );
    let deployed_version = staged_entry(&api, &pks).await["product_version"].clone();

    // Pending edits: a setting, a newer tile version, a newer stemcell, and a new product.
    set_hostname(&api, &pks, "api.edited.example.com").await;
    assert_eq!(action(&api, &pks).await, "update");
    let newer = format!("{}-build.99", tiles::products::PKS_VERSION);
    let r = api.upload("pks-newer.pivotal", pks_pivotal(&newer)).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{pks}"),
        Some(json!({"to_version": newer})),
    )
    .await;
    let assignments = api
        .ok(Method::GET, "/api/v0/stemcell_assignments", None)
        .await;
    let deployed_stemcell = assignments["products"][0]["staged_stemcell_version"]
        .as_str()
        .unwrap()
        .to_owned();
    let major = deployed_stemcell.split('.').next().unwrap();
    let patch = format!("{major}.9999");
    let part = reqwest::multipart::Part::bytes(stemcell_tgz("ubuntu-xenial", &patch))
        .file_name("patch.tgz");
    let r = reqwest::Client::new()
        .post(server.at("/api/v0/stemcells"))
        .bearer_auth(&api.token)
        .multipart(reqwest::multipart::Form::new().part("stemcell[file]", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let small = api
        .upload(
            "small.pivotal",
            pivotal(&[(
                "metadata/small.yml",
                b"name: small\nproduct_version: 1.0.0\nmetadata_version: '2.1'\nlabel: Small\n\
                  rank: 1\nminimum_version_for_upgrade: 1.0.0\n\
                  stemcell_criteria: {os: ubuntu-xenial, version: '1.0'}\nreleases: []\n\
                  property_blueprints: []\nform_types: []\njob_types: []\n",
                true,
            )]),
        )
        .await;
    assert_eq!(small.status, 200, "{:#}", small.body);
    let small = stage(&api, "small", "1.0.0").await;
    assert_eq!(action(&api, &small).await, "install");
    let before = staged_entry(&api, &pks).await["config_version"]
        .as_i64()
        .unwrap();

    // Revert: om expects 204.
    let r = revert(&api).await;
    assert_eq!(r.status, 204, "{:#}", r.body);
    let guids = staged_guids(&api).await;
    assert!(!guids.contains(&small), "never deployed: unstaged");
    assert!(guids.contains(&pks), "deployed: kept");
    let entry = staged_entry(&api, &pks).await;
    assert_eq!(entry["product_version"], deployed_version);
    assert!(
        entry["config_version"].as_i64().unwrap() > before,
        "versions only grow, so stale saves are still caught"
    );
    assert_eq!(hostname(&api, &pks).await, "api.deployed.example.com");
    let assignments = api
        .ok(Method::GET, "/api/v0/stemcell_assignments", None)
        .await;
    assert_eq!(
        assignments["products"][0]["staged_stemcell_version"],
        deployed_stemcell.as_str()
    );
    assert_eq!(action(&api, &pks).await, "unchanged");

    // Nothing pending: a second revert changes nothing.
    let r = api
        .send(Method::DELETE, "/api/v0/staged?verbose=true", None, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"reverted": [], "unstaged": [], "deletions_cancelled": []})
    );

    // The Director tile stays.
    assert_eq!(
        api.ok(Method::GET, "/api/v0/staged/products", None).await[0]["type"],
        "p-bosh"
    );
}

#[tokio::test]
async fn deleting_a_deployed_product_stages_the_deletion_and_revert_cancels_it() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let pks = stage(&api, PKS, "latest").await;
    record_deploy(&server, &api, &pks).await;

    let r = api.delete(&format!("/api/v0/staged/products/{pks}")).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.body["outcome"], "deletion_staged");
    // Still there, with its settings, marked for deletion.
    assert!(staged_guids(&api).await.contains(&pks));
    assert_eq!(action(&api, &pks).await, "delete");
    let assignments = api
        .ok(Method::GET, "/api/v0/stemcell_assignments", None)
        .await;
    assert_eq!(assignments["products"][0]["is_staged_for_deletion"], true);
    let products = pipeline(&server).await;
    let deletions = products.staged_deletions().await.unwrap();
    assert_eq!(deletions.len(), 1);
    assert_eq!(deletions[0].guid, pks);
    assert_eq!(deletions[0].name, PKS);
    assert_eq!(deletions[0].staged_by, ADMIN_USER);
    // Deleting again is the same staged deletion.
    let r = api.delete(&format!("/api/v0/staged/products/{pks}")).await;
    assert_eq!(r.body["outcome"], "deletion_staged");
    assert_eq!(products.staged_deletions().await.unwrap().len(), 1);

    // Revert cancels the deletion; nothing else changes.
    let r = api
        .send(Method::DELETE, "/api/v0/staged?verbose=true", None, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["deletions_cancelled"], json!([pks]));
    assert_eq!(action(&api, &pks).await, "unchanged");
    assert!(products.staged_deletions().await.unwrap().is_empty());

    // Staged again, then carried out by Apply Changes: the product is gone.
    api.delete(&format!("/api/v0/staged/products/{pks}")).await;
    products
        .complete_deletion(&pks, "installation")
        .await
        .unwrap();
    assert!(!staged_guids(&api).await.contains(&pks));
    assert!(products.deployed_settings(&pks).await.unwrap().is_none());
    assert!(products.staged_deletions().await.unwrap().is_empty());

    // A product that was never deployed is simply unstaged.
    let again = stage(&api, PKS, "latest").await;
    let r = api
        .delete(&format!("/api/v0/staged/products/{again}"))
        .await;
    assert_eq!(r.body["outcome"], "removed");
    assert!(!staged_guids(&api).await.contains(&again));
    let r = api
        .delete(&format!("/api/v0/staged/products/{again}"))
        .await;
    assert_eq!(r.status, 404);
    // The Director is neither deleted nor reverted.
    let director = staged_guids(&api).await[0].clone();
    let r = api
        .delete(&format!("/api/v0/staged/products/{director}"))
        .await;
    assert_eq!(r.status, 422);
}
