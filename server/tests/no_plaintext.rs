//! No secret in plaintext anywhere: after PKS is deployed through Apply Changes to the embedded
//! Director, every credential value the credentials API gives the administrator (the PKS
//! tile's, the Director's client secret) is searched for in every file of the data directory —
//! Tileworks's database with its `-wal` and `-shm`, the Director stand-in's database and files,
//! task outputs, everything — and in everything the server printed and logged. None is found:
//! the databases hold sealed values only, and the stand-in stores the manifest with
//! `((placeholders))` and the values sealed in its config server, as a real Director does.

mod common;
mod support;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;
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
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn no_known_secret_is_in_any_file_of_the_data_dir_or_in_the_logs() {
    let server = TestServer::start_logging_info(&["--director-vm-create-ms", "0"]);
    let api = Api::login(&server).await;
    let guid = deploy_pks(&api).await;

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
    let files = walk(server.data_dir.path());
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with("tileworks.db-wal")),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with("director/director.db")),
        "{files:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
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
}
