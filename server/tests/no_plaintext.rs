//! No secret in plaintext anywhere: after PKS is deployed through Apply Changes to the embedded
//! Director, every credential value the credentials API gives the administrator (the PKS
//! tile's, the Director's client secret) is searched for in every file of the data directory —
//! Tileworks's database with its `-wal` and `-shm`, the Director stand-in's database and files,
//! task outputs, everything — and in everything the server printed and logged. On PostgreSQL
//! (scripts/test.sh's second pass) the database is searched too: its dump and its files, with
//! the server's write-ahead log. None is found:
//! the databases hold sealed values only, and the stand-in stores the manifest with
//! `((placeholders))` and the values sealed in its config server, as a real Director does.
//!
//! The same holds with a Director of its own (`--director-url`, the stand-in started as
//! `tileworks director`, as a real Director and its CredHub are reached): Tileworks finds the
//! config server the Director's `/info` names and sets the values there, and that Director's
//! data directory holds none of them either.

mod common;
mod support;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;
use support::external_director::ExternalDirector;
use support::osb::Osb;
use support::pks::deploy_pks;
use support::*;

/// Every string inside a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// What to look for of one secret: the value itself and, for multi-line values (PEM keys),
/// each long line on its own (a file may hold the value with its line breaks escaped).
fn needles(secret: &str) -> Vec<String> {
    let mut out = vec![secret.trim().to_owned()];
    if secret.contains('\n') {
        out.extend(
            secret
                .lines()
                .map(str::trim)
                .filter(|l| l.len() >= 24 && !l.starts_with("-----"))
                .map(str::to_owned),
        );
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    memchr::memmem::find(haystack, needle.as_bytes()).is_some()
}

/// On PostgreSQL, what else holds the server's data: a `pg_dump` of its database (values
/// PostgreSQL compresses on disk, TOAST, read back as stored) and the files of that database
/// and of the server's write-ahead log in the test cluster's directory (PG_TEST_DIR).
async fn postgres_holdings(server: &TestServer, url: &str) -> (Vec<u8>, Vec<PathBuf>) {
    let dump = std::process::Command::new("pg_dump")
        .arg("--data-only")
        .arg(url)
        .output()
        .expect("run pg_dump");
    assert!(dump.status.success(), "pg_dump: {dump:?}");
    assert!(!dump.stdout.is_empty());
    let (oid,): (i64,) = sqlx::query_as(
        "SELECT CAST(oid AS BIGINT) FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&server.database().await)
    .await
    .unwrap();
    let cluster = PathBuf::from(
        std::env::var("PG_TEST_DIR").expect("PG_TEST_DIR, as scripts/test.sh sets it"),
    )
    .join("data");
    let mut files = walk(&cluster.join("base").join(oid.to_string()));
    files.extend(walk(&cluster.join("pg_wal")));
    assert!(files.len() > 10, "{files:?}");
    (dump.stdout, files)
}

#[tokio::test]
async fn no_known_secret_is_in_any_file_of_the_data_dir_or_in_the_logs() {
    let server = TestServer::start_logging_info(&["--director-vm-create-ms", "0"]);
    deploy_and_search(&server, None).await;
}

#[tokio::test]
async fn a_director_of_its_own_is_sent_placeholders_and_keeps_no_secret() {
    let director = ExternalDirector::start(0);
    let server = TestServer::start_logging_info(&director.serve_args(&[]));
    let guid = deploy_and_search(&server, Some(director.data_dir())).await;
    // What the Director stores: the manifest with placeholders for the config server's values.
    let bosh = director.bosh();
    let names = bosh.deployment_names().await;
    assert!(names.contains(&guid), "{names:?}");
    let (status, deployment) = bosh
        .send(reqwest::Method::GET, &format!("/deployments/{guid}"), None)
        .await;
    assert_eq!(status, 200, "{deployment:#}");
    let manifest = deployment["manifest"].as_str().unwrap_or_default();
    assert!(
        manifest.contains(&format!("((/tileworks/{guid}/")),
        "{deployment:#}"
    );
    assert!(
        !server.log().contains("The Director names no config server"),
        "the Director's config server was found"
    );
}

/// A Director whose config server refuses Tileworks's client (CredHub without write access for
/// it) still gets its deploy: the manifest carries the credentials, and the installation's log
/// says so and why.
#[tokio::test]
async fn a_config_server_that_refuses_the_credentials_is_named_in_the_log() {
    let director = ExternalDirector::start(0);
    let bosh = director.bosh();
    let (status, body) = bosh
        .send(
            reqwest::Method::PUT,
            "/chaos/config_server",
            Some(serde_json::json!({"refuse_writes": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let server = TestServer::start_logging_info(&director.serve_args(&[]));
    let api = Api::login(&server).await;
    let guid = deploy_pks(&api).await;
    let log = server.log();
    assert!(
        log.contains("The Director's config server did not take the credentials")
            && log.contains("403"),
        "{log}"
    );
    let (status, deployment) = bosh
        .send(reqwest::Method::GET, &format!("/deployments/{guid}"), None)
        .await;
    assert_eq!(status, 200, "{deployment:#}");
    let manifest = deployment["manifest"].as_str().unwrap_or_default();
    assert!(!manifest.contains("((/tileworks/"), "{manifest}");
}

/// Deploys PKS and a cluster, then searches Tileworks's data dir (and database), the Director's
/// data dir when it is `director_dir` (a Director of its own), and the logs for every known
/// secret; fails naming each one found. Returns PKS's GUID.
async fn deploy_and_search(server: &TestServer, director_dir: Option<&Path>) -> String {
    let api = Api::login(server).await;
    let guid = deploy_pks(&api).await;
    // A Kubernetes cluster too, created and bound through the broker: its manifest carries the
    // tile's cloud-provider credentials, its binding a kubeconfig with a token.
    let osb = Osb::of(&api, &guid).await;
    let small = osb.plan_id("small").await;
    osb.provisioned("np1", &small, serde_json::json!({})).await;
    let binding = osb.bind("np1", "b1", &small).await;
    assert_eq!(binding.status, 201, "{:#}", binding.body);

    // Every credential the administrator can read: the PKS tile's, the Director's.
    let mut secrets = Vec::new();
    let list = api
        .get(&format!("/api/v0/deployed/products/{guid}/credentials"))
        .await;
    let references: Vec<String> = list.body["credentials"]
        .as_array()
        .unwrap_or_else(|| panic!("{:#}", list.body))
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    assert!(references.len() >= 5, "{references:?}");
    for reference in &references {
        let c = api
            .get(&format!(
                "/api/v0/deployed/products/{guid}/credentials/{reference}"
            ))
            .await;
        assert_eq!(c.status, 200, "{reference}: {:#}", c.body);
        strings(&c.body["credential"]["value"], &mut secrets);
    }
    let director = api
        .get("/api/v0/deployed/director/credentials/director_client_credentials")
        .await;
    assert_eq!(director.status, 200, "{:#}", director.body);
    strings(&director.body["credential"]["value"], &mut secrets);
    strings(&binding.body["credentials"], &mut secrets);
    // Identities (user names) are not secret; certificates are public. What must never be in
    // plaintext: passwords, secrets and private keys.
    let certificate = |s: &str| s.contains("BEGIN CERTIFICATE");
    let identities: Vec<String> = {
        let mut ids = Vec::new();
        for reference in &references {
            let c = api
                .get(&format!(
                    "/api/v0/deployed/products/{guid}/credentials/{reference}"
                ))
                .await;
            if let Some(id) = c.body["credential"]["value"]["identity"].as_str() {
                ids.push(id.to_owned());
            }
        }
        if let Some(id) = director.body["credential"]["value"]["identity"].as_str() {
            ids.push(id.to_owned());
        }
        ids
    };
    secrets.retain(|s| s.len() >= 8 && !certificate(s) && !identities.contains(s));
    secrets.sort();
    secrets.dedup();
    assert!(
        secrets.len() >= 4,
        "too few secrets to prove anything: {}",
        secrets.len()
    );
    assert!(
        secrets.iter().any(|s| s.contains("PRIVATE KEY")),
        "a private key is among them"
    );

    let mut found = Vec::new();
    let mut files = walk(server.data_dir.path());
    match &server.database_url {
        None => assert!(
            files
                .iter()
                .any(|f| f.to_string_lossy().ends_with("tileworks.db-wal")),
            "{files:?}"
        ),
        Some(url) => {
            let (dump, database_files) = postgres_holdings(server, url).await;
            for secret in &secrets {
                for needle in needles(secret) {
                    if contains(&dump, &needle) {
                        found.push(format!("the database (pg_dump) holds {needle:.12}…"));
                    }
                }
            }
            files.extend(database_files);
        }
    }
    // The embedded stand-in's files are in the data dir; a Director of its own keeps its own,
    // with its TLS key and the key its values are sealed under (its business, as a real
    // Director's are): searched for the secrets, not for private keys.
    let director_files = match director_dir {
        None => {
            assert!(
                files
                    .iter()
                    .any(|f| f.to_string_lossy().ends_with("director/director.db")),
                "{files:?}"
            );
            Vec::new()
        }
        Some(dir) => {
            let theirs = walk(dir);
            assert!(
                theirs.iter().any(|f| f.to_string_lossy().ends_with(".db")),
                "{theirs:?}"
            );
            theirs
        }
    };
    for file in files.iter().chain(&director_files) {
        // PostgreSQL recycles WAL segments and drops temporary relations while we walk: a file
        // gone since the listing holds nothing any more.
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", file.display()),
        };
        // No private key of any kind (the Director stand-in's TLS CA's among them).
        if !director_files.contains(file) && contains(&bytes, "PRIVATE KEY-----") {
            found.push(format!("{} holds a PEM private key", file.display()));
        }
        for secret in &secrets {
            for needle in needles(secret) {
                if contains(&bytes, &needle) {
                    found.push(format!("{} holds {needle:.12}…", file.display()));
                }
            }
        }
    }
    let printed = format!("{}\n{}", server.stdout, server.log());
    assert!(printed.contains("INFO"), "the log was captured at info");
    for secret in &secrets {
        for needle in needles(secret) {
            if printed.contains(&needle) {
                found.push(format!("the log holds {needle:.12}…"));
            }
        }
    }
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "secrets in plaintext:\n{}",
        found.join("\n")
    );
    guid
}
