//! om's requests around a fresh instance and an installation archive, for the suites that
//! move installations (`export_import.rs`, `export_backends.rs`).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

/// om's `installation_asset_collection`: `GET` exports, `POST` imports.
pub const EXPORT: &str = "/api/v0/installation_asset_collection";

/// om's unauthenticated client: no cookies, no redirects followed.
pub fn om() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// om's `EnsureAvailability` through `client` (redirects not followed): the status and the
/// redirect's path, or the body of a 200.
pub async fn ensure_availability_through(
    client: &reqwest::Client,
    server: &TestServer,
) -> (StatusCode, String) {
    let r = client
        .get(server.at("/login/ensure_availability"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status();
    if status == StatusCode::FOUND {
        let location = location(&r);
        let path = reqwest::Url::parse(&server.at("/"))
            .unwrap()
            .join(&location)
            .unwrap()
            .path()
            .to_owned();
        (status, path)
    } else {
        (status, r.text().await.unwrap())
    }
}

/// Polls through `client`, as om does after a setup or an import, until complete; only
/// "unstarted" or "pending" may come in between.
pub async fn wait_until_complete_through(client: &reqwest::Client, server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, what) = ensure_availability_through(client, server).await;
        if status == StatusCode::FOUND && what == "/auth/cloudfoundry" {
            return;
        }
        let pending = status == StatusCode::OK
            && what.contains("Waiting for authentication system to start...");
        assert!(
            pending || (status == StatusCode::FOUND && what == "/setup"),
            "{status} {what}"
        );
        assert!(Instant::now() < deadline, "never became available");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// om `import-installation` through `client`: multipart, the file first, then the passphrase.
pub async fn import_through(
    client: &reqwest::Client,
    server: &TestServer,
    bytes: Vec<u8>,
    passphrase: &str,
) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new()
        .part(
            "installation[file]",
            reqwest::multipart::Part::bytes(bytes).file_name("installation.zip"),
        )
        .text("passphrase", passphrase.to_owned());
    let r = client
        .post(server.at(EXPORT))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}
