//! Export and import of an installation by database backend. The export carries a SQLite
//! database on either backend (a PostgreSQL store's tables copied into one from one snapshot);
//! an import replaces a SQLite data dir's database, or copies the export's tables into a fresh
//! PostgreSQL database in one transaction. So an installation moves between the backends
//! either way (the whole flow on SQLite is `export_import.rs`). `scripts/test.sh` runs this
//! suite on both backends: on SQLite every instance is on SQLite; on PostgreSQL the source and
//! one target are on PostgreSQL, the other target on SQLite.

mod common;
mod support;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::archive::*;
use support::*;

fn on_postgres(server: &TestServer) -> bool {
    server.database_url.is_some()
}

/// An export is one SQLite database whatever the backend: the export of either imports into
/// a fresh Tileworks on SQLite and into a fresh one on the suite's backend, each of which then
/// has the source's users, staged product and settings and its credentials (the same data key
/// opens them), and applies.
#[tokio::test]
async fn an_export_of_either_backend_imports_into_a_fresh_instance_on_either_backend() {
    let source = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&source).await;
    configure_director(&api).await;
    let staged = api
        .post(
            "/api/v0/staged/products",
            json!({"name": support::pks::PKS, "product_version": "latest"}),
        )
        .await
        .expect(200);
    let guid = staged["guid"].as_str().unwrap().to_owned();
    api.post(
        "/api/v0/users",
        json!({"username": "moved-viewer", "password": "a long enough password", "role": "full_view"}),
    )
    .await
    .expect(201);
    let director_before = api
        .get("/api/v0/staged/director/properties?redact=false")
        .await
        .expect(200);
    let r = reqwest::Client::new()
        .get(source.at(EXPORT))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "on_postgres={}",
        on_postgres(&source)
    );
    assert_eq!(r.headers()["content-type"], "application/zip");
    let bytes = r.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"PK"), "a zip");
    drop(api);
    drop(source);

    // Into SQLite, then into the suite's backend (PostgreSQL in its second pass).
    let suite_on_postgres = std::env::var("TILEWORKS_TEST_DATABASE_URL").is_ok();
    for (target, postgres) in [
        (
            TestServer::start_on(None, &["--setup=api"], None, None),
            false,
        ),
        (
            TestServer::start_full(&["--setup=api"], None, None),
            suite_on_postgres,
        ),
    ] {
        assert_eq!(on_postgres(&target), postgres);
        let (status, body) = import_through(&om(), &target, bytes.clone(), PASSPHRASE).await;
        assert_eq!(status, 200, "on_postgres={}: {body}", on_postgres(&target));
        wait_until_complete_through(&om(), &target).await;
        let api = Api::login(&target).await;
        let products = api.get("/api/v0/staged/products").await.expect(200);
        assert!(products.to_string().contains(&guid), "{products:#}");
        let director_after = api
            .get("/api/v0/staged/director/properties?redact=false")
            .await
            .expect(200);
        assert_eq!(director_after, director_before);
        assert!(director_after.to_string().contains(VCENTER_PASSWORD));
        let users = api.get("/api/v0/users").await.expect(200);
        assert!(users.to_string().contains("moved-viewer"), "{users:#}");
        // New rows after the imported ones: identities go on past the imported values.
        api.post(
            "/api/v0/users",
            json!({"username": "after-import", "password": "a long enough password", "role": "full_view"}),
        )
        .await
        .expect(201);
        api.apply_to_end(json!({"deploy_products": "none"}))
            .await
            .expect("succeeded");
        // An instance set up (by the import) refuses a second one.
        let (status, body) = import_through(&om(), &target, bytes.clone(), PASSPHRASE).await;
        assert_eq!(status, 409, "{body}");
    }
}

#[tokio::test]
async fn a_fresh_instance_on_either_backend_refuses_a_file_that_is_no_export() {
    // Fresh: an empty data dir (and database) in setup mode, as om import-installation finds it.
    let server = TestServer::start_full(&["--setup=api"], None, None);
    let before: Vec<String> = listing(server.data_dir.path());
    let form = reqwest::multipart::Form::new()
        .part(
            "installation[file]",
            reqwest::multipart::Part::bytes(b"not an export".to_vec())
                .file_name("installation.zip"),
        )
        .text("passphrase", "a passphrase of some length");
    let r = reqwest::Client::new()
        .post(server.at(EXPORT))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let answer: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "on_postgres={}: {answer}",
        on_postgres(&server)
    );
    assert!(
        answer["errors"]["installation[file]"].is_array(),
        "{answer}"
    );
    assert_eq!(listing(server.data_dir.path()), before, "nothing written");
    // Still fresh: set up afterwards as if nothing had come.
    let api_setup = reqwest::Client::new()
        .post(server.at("/api/v0/setup"))
        .json(&json!({"setup": {
            "identity_provider": "internal",
            "decryption_passphrase": "a passphrase of some length",
            "decryption_passphrase_confirmation": "a passphrase of some length",
            "eula_accepted": "true",
            "admin_user_name": "admin",
            "admin_password": ADMIN_PASSWORD,
            "admin_password_confirmation": ADMIN_PASSWORD,
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        api_setup.status(),
        StatusCode::OK,
        "{:?}",
        api_setup.text().await
    );
}

/// Names under the data dir (files and folders, without sizes: SQLite may touch its files).
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("tileworks.db"))
        .collect();
    out.sort();
    out
}

fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        }
        out.push(path);
    }
    out
}
