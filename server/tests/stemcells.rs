//! The Stemcell Library through the Ops Manager API against the real binary: light stemcells on
//! first start, uploading real (small) stemcell tarballs as `om upload-stemcell` does, duplicate
//! and bad uploads, stemcell assignments (and refusals), and "Missing stemcell" on tiles.

mod common;
mod support;

use std::io::Write;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::*;

const PKS: &str = "pivotal-container-service";

/// A stemcell `.tgz` in memory: `stemcell.MF` (unless `None`) and a small `image`.
fn stemcell_tgz(manifest: Option<&str>) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes).unwrap();
    };
    if let Some(mf) = manifest {
        add("stemcell.MF", mf.as_bytes());
    }
    add("image", &vec![7u8; 64 * 1024]);
    let mut gz = tar.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

fn manifest(os: &str, version: &str) -> String {
    format!(
        "name: bosh-vsphere-esxi-{os}-go_agent\nversion: '{version}'\nbosh_protocol: 1\n\
         api_version: 3\noperating_system: {os}\nstemcell_formats: [vsphere-ova]\n\
         cloud_properties:\n  infrastructure: vsphere\n  hypervisor: esxi\n"
    )
}

/// `om upload-stemcell`: multipart `stemcell[file]` then `stemcell[floating]`.
async fn upload_stemcell(api: &Api<'_>, file_name: &str, bytes: Vec<u8>, floating: bool) -> Reply {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
    let form = reqwest::multipart::Form::new()
        .part("stemcell[file]", part)
        .text("stemcell[floating]", floating.to_string());
    let r = reqwest::Client::new()
        .post(api.server.at("/api/v0/stemcells"))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    reply(r).await
}

async fn library(api: &Api<'_>) -> Vec<Value> {
    api.ok(Method::GET, "/api/v0/stemcells", None).await["stemcells"]
        .as_array()
        .unwrap()
        .clone()
}

async fn assignment(api: &Api<'_>, guid: &str) -> Value {
    let all = api
        .ok(Method::GET, "/api/v0/stemcell_assignments", None)
        .await;
    all["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == guid)
        .unwrap_or_else(|| panic!("{guid} not in {all:#}"))
        .clone()
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

async fn staged_entry(api: &Api<'_>, guid: &str) -> Value {
    let list = api.ok(Method::GET, "/api/v0/staged/products", None).await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == guid)
        .unwrap()
        .clone()
}

async fn pending(api: &Api<'_>, guid: &str) -> Value {
    let all = api
        .ok(Method::GET, "/api/v0/staged/pending_changes", None)
        .await;
    all["product_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == guid)
        .unwrap()
        .clone()
}

fn stemcell_files(server: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.data_dir.path().join("stemcells"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_first_start_imports_light_stemcells_for_the_bundled_tiles_once() {
    let mut server = TestServer::start();
    let api = Api::login(&server).await;
    let list = library(&api).await;
    let (os, version) = {
        let t = tiles::metadata::ProductTemplate::from_yaml(tiles::products::PKS_METADATA).unwrap();
        let c = t.stemcell_criteria.unwrap();
        (c.os, c.version)
    };
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["os"], os.as_str());
    assert_eq!(list[0]["version"], version.as_str());
    assert_eq!(list[0]["light"], true);
    assert_eq!(list[0]["present_on_disk"], false);
    assert!(
        stemcell_files(&server).is_empty(),
        "light stemcells have no tarball"
    );

    // PKS is satisfied by it out of the box.
    let guid = stage(&api, PKS, "latest").await;
    let a = assignment(&api, &guid).await;
    assert_eq!(a["required_stemcell_os"], os.as_str());
    assert_eq!(a["required_stemcell_version"], version.as_str());
    assert_eq!(a["staged_stemcell_version"], version.as_str());
    assert_eq!(a["available_stemcell_versions"], json!([version]));
    let p = pending(&api, &guid).await;
    assert_eq!(p["completeness_checks"]["stemcell_present"], true, "{p:#}");

    // The association view (newer om) lists the library.
    let assoc = api
        .ok(Method::GET, "/api/v0/stemcell_associations", None)
        .await;
    assert_eq!(assoc["stemcell_library"][0]["light"], true);
    assert_eq!(
        assoc["products"][0]["required_stemcells"][0]["os"],
        os.as_str()
    );

    // A restart does not import it twice; once removed, a restart does not bring it back.
    server.restart();
    let api = Api::login(&server).await;
    let list = library(&api).await;
    assert_eq!(list.len(), 1);
    let id = list[0]["id"].as_i64().unwrap();
    api.ok(Method::DELETE, &format!("/api/v0/stemcells/{id}"), None)
        .await;
    server.restart();
    let api = Api::login(&server).await;
    assert!(library(&api).await.is_empty());
}

#[tokio::test]
async fn uploads_stream_to_the_store_duplicates_are_no_ops_and_bad_tarballs_are_422() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let file_name = "bosh-stemcell-97.18-vsphere-esxi-ubuntu-xenial-go_agent.tgz";
    let bytes = stemcell_tgz(Some(&manifest("ubuntu-xenial", "97.18")));
    let first = upload_stemcell(&api, file_name, bytes.clone(), true).await;
    assert_eq!(first.status, 200, "{:#}", first.body);
    assert_eq!(first.body["existing"], false);
    let s = &first.body["stemcell"];
    assert_eq!(s["name"], "bosh-vsphere-esxi-ubuntu-xenial-go_agent");
    assert_eq!(s["os"], "ubuntu-xenial");
    assert_eq!(s["version"], "97.18");
    assert_eq!(s["infrastructure"], "vsphere");
    assert_eq!(s["hypervisor"], "esxi");
    assert_eq!(s["file"], file_name);
    assert_eq!(s["light"], false);
    assert_eq!(s["present_on_disk"], true);
    use sha2::Digest;
    assert_eq!(s["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!(s["size"], bytes.len());
    let files = stemcell_files(&server);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with(".tgz") && !files[0].starts_with('.'));

    // The same stemcell again: nothing changes.
    let again = upload_stemcell(&api, "renamed.tgz", bytes, false).await;
    assert_eq!(again.status, 200, "{:#}", again.body);
    assert_eq!(again.body["existing"], true);
    assert_eq!(again.body["stemcell"]["file"], file_name);
    assert_eq!(stemcell_files(&server), files);
    assert_eq!(library(&api).await.len(), 2, "the light one and this one");

    // om's `upload-stemcell` finds it in the diagnostic report and skips the upload.
    let report = api.ok(Method::GET, "/api/v0/diagnostic_report", None).await;
    assert!(report["stemcells"]
        .as_array()
        .unwrap()
        .contains(&json!(file_name)));
    assert!(report["available_stemcells"]
        .as_array()
        .unwrap()
        .contains(&json!({"filename": file_name, "os": "ubuntu-xenial", "version": "97.18"})));

    // Not a stemcell: no stemcell.MF, not gzip at all, a manifest without an OS.
    for (what, bytes) in [
        ("no stemcell.MF", stemcell_tgz(None)),
        ("not gzip", b"this is not a tarball".to_vec()),
        (
            "incomplete manifest",
            stemcell_tgz(Some("name: x\nversion: '1.2'\n")),
        ),
        ("empty", Vec::new()),
    ] {
        let r = upload_stemcell(&api, "bad.tgz", bytes, true).await;
        assert_eq!(r.status, 422, "{what}: {:#}", r.body);
        let messages = r.body["errors"]["stemcell[file]"].as_array().unwrap();
        assert!(!messages.is_empty(), "{what}: {:#}", r.body);
    }
    assert_eq!(
        stemcell_files(&server),
        files,
        "refused uploads leave nothing behind"
    );
    assert_eq!(library(&api).await.len(), 2);

    // A multipart body without the file field.
    let form = reqwest::multipart::Form::new().text("stemcell[floating]", "true");
    let r = reqwest::Client::new()
        .post(server.at("/api/v0/stemcells"))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // Uploading needs a token.
    let r = reqwest::Client::new()
        .post(server.at("/api/v0/stemcells"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn assignments_float_to_the_newest_accepted_stemcell_and_refuse_others() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let guid = stage(&api, PKS, "latest").await;
    let required = assignment(&api, &guid).await["required_stemcell_version"]
        .as_str()
        .unwrap()
        .to_owned();
    let major = required.split('.').next().unwrap().to_owned();
    let newer = format!("{major}.9999");
    let other_major = format!("{}.1", major.parse::<u64>().unwrap() + 1);
    for v in [&newer, &other_major] {
        let r = upload_stemcell(
            &api,
            &format!("xenial-{v}.tgz"),
            stemcell_tgz(Some(&manifest("ubuntu-xenial", v))),
            true,
        )
        .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
    }
    // Another major is not accepted; the newest accepted one is staged.
    let a = assignment(&api, &guid).await;
    assert_eq!(a["available_stemcell_versions"], json!([required, newer]));
    assert_eq!(a["staged_stemcell_version"], newer.as_str());

    // Pin the older one.
    let r = api
        .send(
            Method::PATCH,
            "/api/v0/stemcell_assignments",
            Some(&json!({"products": [{"guid": guid, "staged_stemcell_version": required}]})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(
        assignment(&api, &guid).await["staged_stemcell_version"],
        required.as_str()
    );

    // Refused: another major, an unknown version, an unknown product. Nothing changes.
    for (body, key) in [
        (
            json!({"products": [{"guid": guid, "staged_stemcell_version": other_major}]}),
            "products[0].staged_stemcell_version",
        ),
        (
            json!({"products": [{"guid": guid, "staged_stemcell_version": "1.1"}]}),
            "products[0].staged_stemcell_version",
        ),
        (
            json!({"products": [
                {"guid": guid, "staged_stemcell_version": newer},
                {"guid": "nope-00000000000000000000", "staged_stemcell_version": newer}
            ]}),
            "products[1].guid",
        ),
    ] {
        let r = api
            .send(
                Method::PATCH,
                "/api/v0/stemcell_assignments",
                Some(&body),
                None,
            )
            .await;
        assert_eq!(r.status, 422, "{body}: {:#}", r.body);
        assert!(r.body["errors"][key].is_array(), "{key}: {:#}", r.body);
    }
    let message = api
        .send(
            Method::PATCH,
            "/api/v0/stemcell_assignments",
            Some(&json!({"products": [{"guid": guid, "staged_stemcell_version": other_major}]})),
            None,
        )
        .await
        .body["errors"]["products[0].staged_stemcell_version"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("does not satisfy"), "{message}");
    assert_eq!(
        assignment(&api, &guid).await["staged_stemcell_version"],
        required.as_str()
    );

    // A floating upload of a newer patch moves the pin; a non-floating one would not.
    let newest = format!("{major}.10000");
    upload_stemcell(
        &api,
        "newest.tgz",
        stemcell_tgz(Some(&manifest("ubuntu-xenial", &newest))),
        false,
    )
    .await;
    assert_eq!(
        assignment(&api, &guid).await["staged_stemcell_version"],
        required.as_str()
    );
    let r = upload_stemcell(
        &api,
        "newest-2.tgz",
        stemcell_tgz(Some(&manifest("ubuntu-xenial", &format!("{major}.10001")))),
        true,
    )
    .await;
    assert_eq!(r.body["assigned_to"], json!([guid]), "{:#}", r.body);
    assert_eq!(
        assignment(&api, &guid).await["staged_stemcell_version"],
        format!("{major}.10001")
    );

    // stemcell_associations: the same through the newer shape.
    let r = api
        .send(
            Method::PATCH,
            "/api/v0/stemcell_associations",
            Some(&json!({"products": [{"guid": guid, "staged_stemcells": [{"os": "ubuntu-xenial", "version": newer}]}]})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let assoc = api
        .ok(Method::GET, "/api/v0/stemcell_associations", None)
        .await;
    let product = &assoc["products"][0];
    assert_eq!(product["staged_stemcells"][0]["version"], newer.as_str());
    assert_eq!(
        product["staged_stemcells"][0]["name"],
        "bosh-vsphere-esxi-ubuntu-xenial-go_agent"
    );
    let r = api
        .send(
            Method::PATCH,
            "/api/v0/stemcell_associations",
            Some(&json!({"products": [{"guid": guid, "staged_stemcells": [{"os": "windows2019", "version": "2019.7"}]}]})),
            None,
        )
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
}

const SMALL_WINDOWS_TILE: &str =
    "name: small-windows\nproduct_version: 1.0.0\nmetadata_version: '2.1'\n\
label: Small Windows\nrank: 1\nminimum_version_for_upgrade: 1.0.0\n\
stemcell_criteria:\n  os: windows2019\n  version: '2019.7'\n\
releases: []\nproperty_blueprints: []\nform_types: []\njob_types: []\n";

#[tokio::test]
async fn a_tile_no_stemcell_satisfies_shows_missing_stemcell_until_one_is_imported() {
    let server = TestServer::start();
    let api = Api::login(&server).await;

    // A tile for another OS.
    let r = api
        .upload(
            "small-windows.pivotal",
            pivotal(&[("metadata/small.yml", SMALL_WINDOWS_TILE.as_bytes(), true)]),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let guid = stage(&api, "small-windows", "1.0.0").await;
    let entry = staged_entry(&api, &guid).await;
    assert_eq!(entry["state"]["state"], "incomplete", "{entry:#}");
    let reasons = &entry["state"]["reasons"]["stemcell.windows2019"];
    assert!(
        reasons[0].as_str().unwrap().starts_with("Missing stemcell"),
        "{entry:#}"
    );
    let p = pending(&api, &guid).await;
    assert_eq!(p["completeness_checks"]["stemcell_present"], false);
    let a = assignment(&api, &guid).await;
    assert_eq!(a["staged_stemcell_version"], Value::Null);
    assert_eq!(a["stemcell_missing"], true);

    // Importing a matching stemcell fixes it.
    let r = upload_stemcell(
        &api,
        "windows.tgz",
        stemcell_tgz(Some(&manifest("windows2019", "2019.12"))),
        true,
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let entry = staged_entry(&api, &guid).await;
    assert!(
        entry["state"]["reasons"]
            .get("stemcell.windows2019")
            .is_none(),
        "{entry:#}"
    );
    assert_eq!(
        pending(&api, &guid).await["completeness_checks"]["stemcell_present"],
        true
    );

    // PKS is fine with the light stemcell, and shows Missing stemcell once it is removed.
    let pks = stage(&api, PKS, "latest").await;
    let before = staged_entry(&api, &pks).await;
    assert!(before["state"]["reasons"]
        .as_object()
        .map(|r| r.keys().all(|k| !k.starts_with("stemcell")))
        .unwrap_or(true));
    let light = library(&api)
        .await
        .into_iter()
        .find(|s| s["light"] == true)
        .unwrap();
    let r = api
        .send(
            Method::DELETE,
            &format!("/api/v0/stemcells/{}", light["id"]),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let after = staged_entry(&api, &pks).await;
    assert_ne!(after["state"]["state"], "deployable");
    let key = format!("stemcell.{}", light["os"].as_str().unwrap());
    assert!(
        after["state"]["reasons"][&key][0]
            .as_str()
            .unwrap()
            .contains("Missing stemcell"),
        "{after:#}"
    );
    assert_eq!(
        pending(&api, &pks).await["completeness_checks"]["stemcell_present"],
        false
    );
    let r = api
        .send(Method::DELETE, "/api/v0/stemcells/999999", None, None)
        .await;
    assert_eq!(r.status, 404);
}
