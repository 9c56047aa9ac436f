//! Instance log downloads over the API (`POST /api/v0/deployed/products/:guid/logs`, its status
//! and its download), against the real binary and its embedded Director stand-in with the
//! bundled PKS tile deployed: an instance and its group come back as gzipped tarballs with the
//! jobs' logs; roles that may not see credentials get 403; bad input names the field.

mod common;
mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use support::pks::*;
use support::*;

const GROUP: &str = "pivotal-container-service";

/// Starts a fetch (202) and polls until it is no longer running; the final fetch.
async fn fetch(api: &Api<'_>, guid: &str, body: Value) -> Value {
    let r = api
        .post(&format!("/api/v0/deployed/products/{guid}/logs"), body)
        .await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    assert_eq!(r.body["status"], "running", "{:#}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = api
            .get(&format!("/api/v0/deployed/products/{guid}/logs/{id}"))
            .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        if r.body["status"] != "running" {
            return r.body;
        }
        assert!(Instant::now() < deadline, "log fetch {id} still running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The regular files of a gzipped tarball, names without a leading `./`.
fn unpack(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = Vec::new();
    for entry in archive.entries().expect("a tar.gz") {
        let mut entry = entry.expect("an entry");
        let name = entry.path().unwrap().to_string_lossy().to_string();
        let mut text = String::new();
        entry.read_to_string(&mut text).expect("text");
        files.push((name.trim_start_matches("./").to_owned(), text));
    }
    files
}

async fn download(api: &Api<'_>, url: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let r = reqwest::Client::new()
        .get(api.server.at(url))
        .bearer_auth(&api.token)
        // A browser accepts gzip; the bundle must still arrive as it is, not gzipped twice.
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let headers = r.headers().clone();
    (headers, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn logs_of_an_instance_and_its_group_download_as_tarballs() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;

    // Nothing is deployed yet: unknown GUIDs and staged-only products are not found.
    let r = api
        .post(
            "/api/v0/deployed/products/nothing-0123456789abcdef0123/logs",
            json!({"instance_group": GROUP, "index": 0}),
        )
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);

    let guid = deploy_pks(&api).await;
    let logs = format!("/api/v0/deployed/products/{guid}/logs");

    // One instance.
    let done = fetch(&api, &guid, json!({"instance_group": GROUP, "index": 0})).await;
    assert_eq!(done["status"], "ready", "{done:#}");
    assert_eq!(done["instance_group"], GROUP);
    assert_eq!(done["index"], 0);
    let url = done["download_url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("{logs}/{}/download", done["id"].as_str().unwrap())
    );
    let (headers, bytes) = download(&api, url).await;
    assert_eq!(headers["content-type"], "application/gzip");
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");
    let disposition = headers["content-disposition"].to_str().unwrap();
    let file_name = done["file_name"].as_str().unwrap();
    assert_eq!(disposition, format!("attachment; filename=\"{file_name}\""));
    assert!(
        file_name.contains(&format!("-{GROUP}-0-")) && file_name.ends_with(".tgz"),
        "{file_name}"
    );
    let files = unpack(&bytes);
    assert!(!files.is_empty());
    let mut jobs = Vec::new();
    for (name, _) in &files {
        let (job, file) = name.split_once('/').expect("<job>/<file>");
        assert!(
            file == format!("{job}.stdout.log") || file == format!("{job}.stderr.log"),
            "{name}"
        );
        jobs.push(job.to_owned());
    }
    let (_, stdout) = files
        .iter()
        .find(|(n, _)| n.ends_with(".stdout.log"))
        .unwrap();
    assert!(stdout.contains(&format!("{GROUP}/")), "{stdout}");
    assert!(stdout.contains("index 0"), "{stdout}");

    // The whole group, agent logs too.
    let done = fetch(
        &api,
        &guid,
        json!({"instance_group": GROUP, "type": "job,agent"}),
    )
    .await;
    assert_eq!(done["status"], "ready", "{done:#}");
    assert_eq!(done["index"], Value::Null);
    let file_name = done["file_name"].as_str().unwrap();
    assert!(!file_name.contains(&format!("-{GROUP}-0-")), "{file_name}");
    let (_, bytes) = download(&api, done["download_url"].as_str().unwrap()).await;
    let files = unpack(&bytes);
    assert!(
        files.iter().any(|(n, _)| n.ends_with("current")),
        "the agent log: {:?}",
        files.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    for job in &jobs {
        assert!(
            files
                .iter()
                .any(|(n, _)| n.ends_with(&format!("{job}/{job}.stdout.log"))),
            "{job}"
        );
    }

    // The Status tab offers both links per row to a role that may have logs.
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let html = browser
        .get(server.at(&format!("/products/{guid}/status")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<th>Logs</th>"), "{html}");
    assert!(html.contains(r#"data-logs="instance""#), "{html}");
    assert!(html.contains(r#"data-logs="group""#), "{html}");
    // The page's server function starts a fetch the API then knows.
    let r = browser
        .post(server.at("/_app/start_log_fetch"))
        // As the page's own request: a browser names its origin on every POST.
        .header("origin", server.at("").trim_end_matches('/'))
        .header("accept", "application/json")
        .form(&[
            ("guid", guid.as_str()),
            ("target[instance_group]", GROUP),
            ("target[index]", "0"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let started: Value = r.json().await.unwrap();
    assert_eq!(started["instance_group"], GROUP, "{started:#}");
    let r = api
        .get(&format!("{logs}/{}", started["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);

    // Unknown fetches.
    let r = api.get(&format!("{logs}/0123456789abcdef")).await;
    assert_eq!(r.status, 404);
    let r = api.get(&format!("{logs}/0123456789abcdef/download")).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn only_roles_that_may_see_credentials_fetch_logs_and_bad_input_names_the_field() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let guid = deploy_pks(&api).await;
    let logs = format!("/api/v0/deployed/products/{guid}/logs");

    // Bad input: 422 naming the field, never a 500.
    for (body, field) in [
        (
            json!({"instance_group": "nope", "index": 0}),
            "instance_group",
        ),
        (json!({"instance_group": GROUP, "index": 9}), "index"),
        (json!({"instance_group": GROUP, "index": "zero"}), "index"),
        (json!({"index": 0}), "instance_group"),
        (json!({"instance_group": GROUP, "type": "kernel"}), "type"),
        (json!({"instance_group": "smoke-tests"}), "instance_group"),
    ] {
        let r = api.post(&logs, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {:#}", r.body);
        assert!(r.body["errors"][field].is_array(), "{body}: {:#}", r.body);
    }

    // A fetch by the admin, ready.
    let done = fetch(&api, &guid, json!({"instance_group": GROUP, "index": 0})).await;
    assert_eq!(done["status"], "ready", "{done:#}");
    let id = done["id"].as_str().unwrap().to_owned();

    // full_control may; restricted_control, read_only and restricted_view may not.
    let full = client_token(&server, "full", "full_control").await;
    let r = reqwest::Client::new()
        .get(server.at(&format!("{logs}/{id}/download")))
        .bearer_auth(&full)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for role in ["restricted_control", "read_only", "restricted_view"] {
        let token = client_token(&server, &format!("c-{role}"), role).await;
        let http = reqwest::Client::new();
        let r = http
            .post(server.at(&logs))
            .bearer_auth(&token)
            .json(&json!({"instance_group": GROUP, "index": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{role} POST");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["errors"]["base"][0]
                .as_str()
                .unwrap()
                .contains("credentials"),
            "{body:#}"
        );
        // The page's server function refuses them too.
        let r = http
            .post(server.at("/_app/start_log_fetch"))
            .bearer_auth(&token)
            .form(&[
                ("guid", guid.as_str()),
                ("target[instance_group]", GROUP),
                ("target[index]", "0"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{role}");
        let text = r.text().await.unwrap();
        assert!(text.contains("may not see credentials"), "{role}: {text}");
        for path in [format!("{logs}/{id}"), format!("{logs}/{id}/download")] {
            let r = http
                .get(server.at(&path))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{role} GET {path}");
        }
    }
}
