//! Files in an object store (issue 15): replicas with a data dir each keep tiles and stemcells
//! in one S3-compatible store (`--object-store-url`). A local S3 server (moto, installed by
//! `scripts/install-tools.sh --for-tests` into `target/tools/moto`) is started here on a free
//! loopback port; the replicas share the database scripts/test.sh gives
//! (TILEWORKS_TEST_DATABASE_URL), or without it one SQLite file, and one Director.
//!
//! What one replica imports, another deploys (downloading it into its own cache) and deletes
//! (the object goes); a store that is not usable stops the start with a message naming it; a
//! store failing later is a 502 naming it (and an apply that cannot get a file fails naming
//! the object); an export carries the files the replica had not
//! cached; a data dir started with a store uploads the files the store lacks; and without the
//! flag the files stay in the data dir as they always did. Logs fetched through one replica
//! download through another from the store, and a fetch whose replica is killed is failed by
//! another within the lease.

mod common;
mod support;

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::external_director::ExternalDirector;
use support::*;

/// The local S3 server of this test binary (`support::s3`).
struct S3 {
    endpoint: String,
    _server: support::s3::S3Server,
}

/// The S3 server, started on first use; its AWS_* variables are set for every server started
/// after.
fn s3() -> &'static S3 {
    static S3: OnceLock<S3> = OnceLock::new();
    S3.get_or_init(|| {
        let server = support::s3::S3Server::start();
        let endpoint = server.endpoint.clone();
        // Set once, before any server of this binary starts (they inherit the environment).
        std::env::set_var("AWS_ENDPOINT_URL", &endpoint);
        std::env::set_var("AWS_ACCESS_KEY_ID", "tileworks-test-key");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "tileworks-test-secret");
        std::env::set_var("AWS_REGION", "us-east-1");
        S3 {
            endpoint,
            _server: server,
        }
    })
}

impl S3 {
    /// A new empty bucket.
    async fn bucket(&self, name: &str) -> String {
        self._server.bucket(name).await
    }

    /// The keys in `bucket`.
    async fn keys(&self, bucket: &str) -> Vec<String> {
        self._server.keys(bucket).await
    }

    /// Removes `key` from `bucket` behind Tileworks's back.
    async fn remove(&self, bucket: &str, key: &str) {
        let r = reqwest::Client::new()
            .delete(format!("{}/{bucket}/{key}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "delete {key}: {r:?}");
    }
}

/// A job-less tile shipping the release tarball `<name>-lib/1.0` and asking for the stemcell
/// ubuntu-jammy 1.99.
fn tile(name: &str) -> Vec<u8> {
    let metadata = format!(
        "name: {name}\nproduct_version: 1.0.0\nmetadata_version: '2.1'\nlabel: {name}\n\
         rank: 1\nminimum_version_for_upgrade: 1.0.0\n\
         stemcell_criteria: {{os: ubuntu-jammy, version: '1.99'}}\n\
         releases:\n- {{name: {name}-lib, version: '1.0', file: {name}-lib-1.0.tgz}}\n\
         property_blueprints: []\nform_types: []\njob_types: []\npost_deploy_errands: []\n"
    );
    let release = server::release_tarball::release_tgz(&format!("{name}-lib"), "1.0", &[]).unwrap();
    pivotal(&[
        (&format!("metadata/{name}.yml"), metadata.as_bytes(), true),
        (&format!("releases/{name}-lib-1.0.tgz"), &release, false),
    ])
}

/// [`tile`] with one job, `web` (one instance of the release's `lib-job`): a deployment with a
/// VM to fetch logs from.
fn tile_with_a_job(name: &str) -> Vec<u8> {
    let metadata = format!(
        "name: {name}\nproduct_version: 1.0.0\nmetadata_version: '2.1'\nlabel: {name}\n\
         rank: 1\nminimum_version_for_upgrade: 1.0.0\n\
         stemcell_criteria: {{os: ubuntu-jammy, version: '1.99'}}\n\
         releases:\n- {{name: {name}-lib, version: '1.0', file: {name}-lib-1.0.tgz}}\n\
         property_blueprints: []\nform_types: []\npost_deploy_errands: []\n\
         job_types:\n- name: web\n  resource_label: Web\n\
         \x20 templates:\n  - {{name: lib-job, release: {name}-lib}}\n\
         \x20 instance_definition: {{name: instances, type: integer, configurable: true, default: 1}}\n\
         \x20 resource_definitions: []\n"
    );
    let release =
        server::release_tarball::release_tgz(&format!("{name}-lib"), "1.0", &[("lib-job", &[])])
            .unwrap();
    pivotal(&[
        (&format!("metadata/{name}.yml"), metadata.as_bytes(), true),
        (&format!("releases/{name}-lib-1.0.tgz"), &release, false),
    ])
}

/// Polls log fetch `id` of `guid` through `api` until it no longer runs (within `within`).
async fn log_fetch_ended(api: &Api<'_>, guid: &str, id: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let fetch = api
            .get(&format!("/api/v0/deployed/products/{guid}/logs/{id}"))
            .await
            .expect(200);
        if fetch["status"] != "running" {
            return fetch;
        }
        assert!(
            Instant::now() < deadline,
            "log fetch {id} still running: {fetch:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const STEMCELL_FILE: &str = "bosh-stemcell-1.99-vsphere-esxi-ubuntu-jammy-go_agent.tgz";

/// The files in a data dir's folder (not the spools).
fn files_in(server: &TestServer, folder: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.data_dir.path().join(folder))
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn place(api: &Api<'_>, guid: &str) {
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{guid}/networks_and_azs"),
        Some(json!({"networks_and_azs": {
            "network": {"name": "infra"},
            "singleton_availability_zone": {"name": "az1"},
            "other_availability_zones": [{"name": "az1"}],
        }})),
    )
    .await;
}

#[tokio::test]
async fn what_one_replica_imports_another_deploys_and_deletes_through_the_store() {
    let s3 = s3();
    let bucket = s3.bucket("replicas").await;
    let url = format!("s3://{bucket}/tileworks");
    let director = ExternalDirector::start(0);
    // A short lease: a log fetch of a killed replica is found out quickly below.
    let args = director.serve_args(&["--object-store-url", &url, "--apply-lease-secs", "2"]);
    let mut a = TestServer::start_with(&args, Some(ADMIN_PASSWORD));
    let b = TestServer::start_replica(&a, &args);
    let api_a = Api::login(&a).await;
    let api_b = Api::login(&b).await;

    // Imported through A: the tile and the stemcell are objects in the store…
    let r = api_a
        .upload("stored.pivotal", tile_with_a_job("stored"))
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let r = om_upload_stemcell(
        &api_a,
        STEMCELL_FILE,
        stemcell_tarball("ubuntu-jammy", "1.99"),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let keys = s3.keys(&bucket).await;
    let tile_key = keys
        .iter()
        .find(|k| k.starts_with("tileworks/tiles/stored-1.0.0-") && k.ends_with(".pivotal"))
        .unwrap_or_else(|| panic!("no tile object: {keys:?}"))
        .clone();
    assert!(
        keys.iter()
            .any(|k| k
                .starts_with("tileworks/stemcells/bosh-vsphere-esxi-ubuntu-jammy-go_agent-1.99-")),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|k| k.contains(".probe-")), "{keys:?}");
    // …and B has neither on disk, yet lists the stemcell as present.
    assert!(files_in(&b, "tiles").is_empty());
    assert!(files_in(&b, "stemcells").is_empty());
    let stemcells = api_b.get("/api/v0/stemcells").await.expect(200);
    let listed = stemcells.to_string();
    assert!(listed.contains("\"present_on_disk\":true"), "{stemcells:#}");

    // B stages and applies: it downloads both into its cache and uploads them to the Director
    // from there (the release from the tile, the stemcell from the library).
    configure_director(&api_b).await;
    // The external Director is taken for a real one: no vCenter to reach here.
    api_b
        .put(
            "/api/v0/staged/director/verifiers/install_time/IaasConfigurationVerifier",
            json!({"enabled": false}),
        )
        .await
        .expect(200);
    let guid = api_b.stage("stored", "1.0.0").await;
    place(&api_b, &guid).await;
    let log = apply_succeeds(&api_b, json!({"deploy_products": "all"})).await;
    assert!(
        log.contains("Uploading release stored-lib/1.0 from the tile"),
        "{log}"
    );
    assert!(
        log.contains("Uploading stemcell ubuntu-jammy 1.99 from the Stemcell Library"),
        "{log}"
    );
    assert_eq!(
        files_in(&b, "tiles"),
        vec![tile_key.rsplit('/').next().unwrap().to_owned()]
    );
    assert_eq!(files_in(&b, "stemcells").len(), 1);
    let bosh = director.bosh();
    let (_, releases) = bosh.send(Method::GET, "/releases", None).await;
    assert!(
        releases
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "stored-lib"),
        "{releases:#}"
    );

    // A tile imported through A and deleted through B: its object goes.
    let r = api_a.upload("doomed.pivotal", tile("doomed")).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert!(s3
        .keys(&bucket)
        .await
        .iter()
        .any(|k| k.contains("/tiles/doomed-")));
    api_b
        .delete("/api/v0/available_products?product_name=doomed&version=1.0.0")
        .await
        .expect(200);
    let keys = s3.keys(&bucket).await;
    assert!(
        !keys.iter().any(|k| k.contains("/tiles/doomed-")),
        "{keys:?}"
    );
    // A stemcell imported through A and deleted through B: its object goes too.
    let r = om_upload_stemcell(
        &api_a,
        "bosh-stemcell-1.98-vsphere-esxi-ubuntu-jammy-go_agent.tgz",
        stemcell_tarball("ubuntu-jammy", "1.98"),
    )
    .await;
    let id = r.expect(200)["stemcell"]["id"].clone();
    let id = id.as_i64().unwrap_or_else(|| panic!("a stemcell id: {id}"));
    assert!(s3.keys(&bucket).await.iter().any(|k| k.contains("-1.98-")));
    api_b
        .delete(&format!("/api/v0/stemcells/{id}"))
        .await
        .expect(200);
    let keys = s3.keys(&bucket).await;
    assert!(!keys.iter().any(|k| k.contains("-1.98-")), "{keys:?}");
    // What stays is what is still recorded: the deployed tile and its stemcell.
    assert_eq!(keys.len(), 2, "{keys:?}");

    // Logs fetched through A are kept in the store: B answers their status and download.
    let logs = format!("/api/v0/deployed/products/{guid}/logs");
    let started = api_a
        .post(&logs, json!({"instance_group": "web", "index": 0}))
        .await;
    assert_eq!(started.status, 202, "{:#}", started.body);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let ready = log_fetch_ended(&api_b, &guid, &id, Duration::from_secs(60)).await;
    assert_eq!(ready["status"], "ready", "{ready:#}");
    let bundle = format!("tileworks/logs/{id}.tgz");
    assert!(s3.keys(&bucket).await.contains(&bundle));
    assert!(
        files_in(&a, "logs").is_empty(),
        "{:?}",
        files_in(&a, "logs")
    );
    let r = reqwest::Client::new()
        .get(b.at(ready["download_url"].as_str().unwrap()))
        .bearer_auth(&api_b.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    let bytes = r.bytes().await.unwrap();
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    for entry in archive.entries().expect("a tar.gz") {
        names.push(
            entry
                .unwrap()
                .path()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        );
    }
    assert!(names.iter().any(|n| n.contains("lib-job/")), "{names:?}");
    // B streamed it from the store and kept nothing.
    assert!(
        files_in(&b, "logs").is_empty(),
        "{:?}",
        files_in(&b, "logs")
    );

    // A fetch whose replica dies (kill -9 while the Director is slow to bundle the logs) is
    // failed by B once A's lease has run out, naming A; its download is a 409 saying why.
    let paused = |paused: bool| {
        let bosh = director.bosh();
        async move {
            let (status, body) = bosh
                .send(
                    Method::PUT,
                    "/chaos/logs",
                    Some(json!({ "paused": paused })),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    paused(true).await;
    let started = api_a.post(&logs, json!({"instance_group": "web"})).await;
    assert_eq!(started.status, 202, "{:#}", started.body);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let running = api_b.get(&format!("{logs}/{id}")).await.expect(200);
    assert_eq!(running["status"], "running", "{running:#}");
    let r = api_b.get(&format!("{logs}/{id}/download")).await;
    assert_eq!(r.status, 409, "{:#}", r.body);
    a.kill();
    let failed = log_fetch_ended(&api_b, &guid, &id, Duration::from_secs(15)).await;
    paused(false).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains(&a.replica_id) && error.contains("stopped before it finished"),
        "{error}"
    );
    let r = api_b.get(&format!("{logs}/{id}/download")).await;
    assert_eq!(r.status, 409, "{:#}", r.body);
    assert!(
        r.body.to_string().contains("stopped before it finished"),
        "{:#}",
        r.body
    );
}

#[tokio::test]
async fn a_store_that_is_not_usable_stops_the_start_naming_it() {
    let s3 = s3();
    let cases = [
        // No such bucket: the probe's write is refused.
        ("s3://no-such-bucket/x".to_owned(), "s3://no-such-bucket/x"),
        // Not an S3 URL at all.
        ("https://example.com/bucket".to_owned(), "only s3:// URLs"),
    ];
    for (url, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--object-store-url", &url])
            .env("AWS_ENDPOINT_URL", &s3.endpoint)
            .env("TILEWORKS_DECRYPTION_PASSPHRASE", PASSPHRASE)
            .env("TILEWORKS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("TILEWORKS_DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("run tileworks serve");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            !output.status.success(),
            "{url}: started\n{stdout}\n{stderr}"
        );
        assert!(
            stderr.contains("--object-store-url") && stderr.contains(expected),
            "{url}: {stderr}"
        );
        assert!(!stdout.contains("listening on"), "{stdout}");
        // The secret key never reaches the message.
        assert!(!stderr.contains("tileworks-test-secret"), "{stderr}");
    }
}

#[tokio::test]
async fn a_store_failing_after_the_start_is_a_502_naming_it() {
    let s3 = s3();
    let bucket = s3.bucket("failing").await;
    let url = format!("s3://{bucket}");
    let server = TestServer::start_with(&["--object-store-url", &url], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let r = api.upload("gone.pivotal", tile("gone")).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let r = om_upload_stemcell(
        &api,
        STEMCELL_FILE,
        stemcell_tarball("ubuntu-jammy", "1.99"),
    )
    .await;
    r.expect(200);
    // The tile's object vanishes, and this replica has no copy (as a replica that did not
    // import it): Apply Changes cannot upload its release and says why.
    let cached = files_in(&server, "tiles");
    std::fs::remove_file(server.data_dir.path().join("tiles").join(&cached[0])).unwrap();
    s3.remove(&bucket, &format!("tiles/{}", cached[0])).await;
    configure_director(&api).await;
    let guid = api.stage("gone", "1.0.0").await;
    place(&api, &guid).await;
    let (ended, log) = apply_to_end(&api, json!({"deploy_products": "all"})).await;
    assert_eq!(ended["status"], "failed", "{log}");
    let result = ended["result"].as_str().unwrap_or_default();
    assert!(
        result.starts_with(&format!(
            "object store {url}: downloading tiles/{}",
            cached[0]
        )),
        "{ended:#}"
    );
    assert!(!result.contains("tileworks-test-secret"), "{result}");
    assert!(!log.contains("tileworks-test-secret"), "{log}");
    // The bucket goes too: the next import cannot be stored.
    for key in s3.keys(&bucket).await {
        s3.remove(&bucket, &key).await;
    }
    let r = reqwest::Client::new()
        .delete(format!("{}/{bucket}", s3.endpoint))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{r:?}");
    let r = api.upload("other.pivotal", tile("other")).await;
    assert_eq!(r.status, 502, "{:#}", r.body);
    let message = r.body["errors"]["base"][0].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!("object store {url}: uploading tiles/other-1.0.0-")),
        "{:#}",
        r.body
    );
    assert!(!message.contains("tileworks-test-secret"), "{message}");
    // Nothing was recorded for it.
    let products = api.get("/api/v0/available_products").await.expect(200);
    assert!(!products.to_string().contains("\"other\""), "{products:#}");
}

#[tokio::test]
async fn an_export_downloads_the_files_this_replica_has_not_cached() {
    // The export copies a SQLite database (PostgreSQL is refused, 409): this server has its
    // own SQLite file whatever database the suite runs on.
    let s3 = s3();
    let bucket = s3.bucket("export").await;
    let url = format!("s3://{bucket}/e");
    let db = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", db.path().join("tileworks.db").display());
    let server = TestServer::start_with(
        &["--object-store-url", &url, "--database-url", &database],
        Some(ADMIN_PASSWORD),
    );
    let api = Api::login(&server).await;
    let r = api.upload("carried.pivotal", tile("carried")).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let cached = files_in(&server, "tiles");
    assert_eq!(cached.len(), 1, "{cached:?}");
    // As if another replica had imported it: not in this one's cache.
    std::fs::remove_file(server.data_dir.path().join("tiles").join(&cached[0])).unwrap();

    let export = reqwest::Client::new()
        .get(server.at("/api/v0/installation_asset_collection"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let bytes = export.bytes().await.unwrap();
    assert!(bytes.len() > 1000);
    // Downloaded for the export, and kept as the cached copy.
    assert_eq!(files_in(&server, "tiles"), cached);

    // `admin export-installation` beside the running server reads the store too.
    std::fs::remove_file(server.data_dir.path().join("tiles").join(&cached[0])).unwrap();
    let output = db.path().join("installation.zip");
    let mut child = Command::new(binary())
        .args(["admin", "export-installation", "--output"])
        .arg(&output)
        .args(["--object-store-url", &url, "--database-url", &database])
        .arg("--data-dir")
        .arg(server.data_dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tileworks admin export-installation");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(format!("{PASSPHRASE}\n").as_bytes())
            .unwrap();
    }
    let done = child.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(std::fs::metadata(&output).unwrap().len() > 1000);
    assert_eq!(files_in(&server, "tiles"), cached);
}

#[tokio::test]
async fn a_data_dir_started_with_a_store_uploads_the_files_the_store_lacks() {
    let s3 = s3();
    let bucket = s3.bucket("moving").await;
    let url = format!("s3://{bucket}/moved");
    // A single machine's installation, its files in the data dir…
    let mut server = TestServer::start();
    let api = Api::login(&server).await;
    let r = api.upload("moved.pivotal", tile("moved")).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let r = om_upload_stemcell(
        &api,
        STEMCELL_FILE,
        stemcell_tarball("ubuntu-jammy", "1.99"),
    )
    .await;
    r.expect(200);
    assert!(s3.keys(&bucket).await.is_empty());
    let tiles = files_in(&server, "tiles");
    let stemcells = files_in(&server, "stemcells");
    // …started again with the store: both are uploaded, and stay as the cached copies.
    server.restart_with(&["--object-store-url", &url]);
    let mut keys = s3.keys(&bucket).await;
    keys.sort();
    assert_eq!(
        keys,
        vec![
            format!("moved/stemcells/{}", stemcells[0]),
            format!("moved/tiles/{}", tiles[0]),
        ]
    );
    assert_eq!(files_in(&server, "tiles"), tiles);
    // A later start finds nothing missing and uploads nothing again.
    server.restart();
    assert_eq!(s3.keys(&bucket).await.len(), 2);
}

#[tokio::test]
async fn without_a_store_files_stay_in_the_data_dir() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let r = api.upload("local.pivotal", tile("local")).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let r = om_upload_stemcell(
        &api,
        STEMCELL_FILE,
        stemcell_tarball("ubuntu-jammy", "1.99"),
    )
    .await;
    let stemcell: Value = r.expect(200);
    let tiles = files_in(&server, "tiles");
    assert_eq!(tiles.len(), 1, "{tiles:?}");
    assert!(tiles[0].starts_with("local-1.0.0-"), "{tiles:?}");
    assert_eq!(files_in(&server, "stemcells").len(), 1);
    assert_eq!(
        stemcell["stemcell"]["present_on_disk"], true,
        "{stemcell:#}"
    );
    api.delete("/api/v0/available_products?product_name=local&version=1.0.0")
        .await
        .expect(200);
    assert!(files_in(&server, "tiles").is_empty());
    let id = stemcell["stemcell"]["id"].as_i64().unwrap();
    api.delete(&format!("/api/v0/stemcells/{id}"))
        .await
        .expect(200);
    assert!(files_in(&server, "stemcells").is_empty());
}
