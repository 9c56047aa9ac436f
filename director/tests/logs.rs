//! `bosh logs` against the stand-in: a `fetch logs` task whose result is a blobstore id, and
//! `GET /resources/:id` serving that blob, a gzipped tarball of per-instance log files.

mod common;

use std::collections::BTreeSet;
use std::io::Read;

use common::{manifest, TestDirector};
use reqwest::StatusCode;
use serde_json::Value;

/// Starts a fetch, waits for its task, and returns the task.
async fn fetch(t: &TestDirector, path: &str) -> Value {
    let r = t.get(path).await;
    let (_, task) = t.run_task(r).await;
    task
}

/// Downloads a blob and lists the tarball's regular files with their contents.
async fn bundle(t: &TestDirector, blob: &str) -> Vec<(String, String)> {
    let r = t.get(&format!("/resources/{blob}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.expect("body");
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut files = Vec::new();
    for entry in archive.entries().expect("a tar archive") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().to_string();
        let mut text = String::new();
        entry.read_to_string(&mut text).expect("text");
        files.push((path.trim_start_matches("./").to_string(), text));
    }
    files
}

fn names(files: &[(String, String)]) -> BTreeSet<String> {
    files.iter().map(|(n, _)| n.clone()).collect()
}

#[tokio::test]
async fn logs_of_an_instance_and_of_a_group_are_tarballs_in_the_blobstore() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    t.deploy(&manifest("app", 2, "hello")).await;
    let instances = t.instances("app").await;
    let web1 = instances
        .iter()
        .find(|i| i["job_name"] == "web" && i["index"] == 1)
        .expect("web/1");
    let web1_id = web1["id"].as_str().unwrap().to_string();

    // One instance by index: the agent's layout, files at the top.
    let task = fetch(&t, "/deployments/app/jobs/web/1/logs?type=job").await;
    assert_eq!(task["state"], "done", "{task}");
    assert_eq!(task["description"], "fetch logs");
    let blob = task["result"].as_str().unwrap().to_string();
    assert!(director::blobs::is_blob_id(&blob), "blobstore id: {blob}");
    let files = bundle(&t, &blob).await;
    assert_eq!(
        names(&files),
        BTreeSet::from([
            "server/server.stdout.log".to_string(),
            "server/server.stderr.log".to_string()
        ])
    );
    let stdout = &files
        .iter()
        .find(|(n, _)| n == "server/server.stdout.log")
        .unwrap()
        .1;
    assert!(stdout.contains(&format!("web/{web1_id}")), "{stdout}");
    assert!(stdout.contains("index 1"), "{stdout}");

    // The same instance by id, agent logs: the agent's `current`, with heartbeats.
    let task = fetch(
        &t,
        &format!("/deployments/app/jobs/web/{web1_id}/logs?type=agent"),
    )
    .await;
    assert_eq!(task["state"], "done", "{task}");
    let files = bundle(&t, task["result"].as_str().unwrap()).await;
    assert_eq!(names(&files), BTreeSet::from(["current".to_string()]));
    assert!(files[0].1.contains("heartbeat"), "{}", files[0].1);

    // The whole group (`*`, as the CLI sends it) and both types: a directory per instance.
    let task = fetch(&t, "/deployments/app/jobs/web/*/logs?type=job,agent").await;
    assert_eq!(task["state"], "done", "{task}");
    let files = bundle(&t, task["result"].as_str().unwrap()).await;
    let mut expected = BTreeSet::new();
    for i in instances.iter().filter(|i| i["job_name"] == "web") {
        let dir = format!("web.{}.{}", i["index"], i["id"].as_str().unwrap());
        for file in [
            "server/server.stdout.log",
            "server/server.stderr.log",
            "current",
        ] {
            expected.insert(format!("{dir}/{file}"));
        }
    }
    assert_eq!(names(&files), expected);

    // Omitted index means the group too; filters pick files by glob.
    let task = fetch(
        &t,
        "/deployments/app/jobs/web/logs?type=job&filters=**/*.stderr.log",
    )
    .await;
    assert_eq!(task["state"], "done", "{task}");
    let files = bundle(&t, task["result"].as_str().unwrap()).await;
    assert_eq!(files.len(), 2, "{:?}", names(&files));
    assert!(files.iter().all(|(n, _)| n.ends_with("server.stderr.log")));

    t.stop().await;
}

#[tokio::test]
async fn unknown_instances_types_and_resources_are_refused() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    t.deploy(&manifest("app", 1, "hello")).await;

    let r = t.get("/deployments/app/jobs/nope/0/logs?type=job").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["description"].as_str().unwrap().contains("nope"),
        "{body}"
    );
    let r = t.get("/deployments/app/jobs/web/7/logs?type=job").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t.get("/deployments/gone/jobs/web/0/logs?type=job").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t.get("/deployments/app/jobs/web/0/logs?type=kernel").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The errand group has no VM between runs.
    let r = t
        .get("/deployments/app/jobs/smoke-tests/0/logs?type=job")
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    for id in [
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "..%2Fdirector.db",
        "not-a-blob",
    ] {
        let r = t.get(&format!("/resources/{id}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{id}");
    }

    // A real blob by ranges: a part, the rest, and past the end.
    let task = fetch(&t, "/deployments/app/jobs/web/0/logs").await;
    let blob = task["result"].as_str().unwrap().to_string();
    let whole = t
        .get(&format!("/resources/{blob}"))
        .await
        .bytes()
        .await
        .unwrap();
    let ranged = |range: String| {
        t.http
            .get(t.url(&format!("/resources/{blob}")))
            .basic_auth(&t.running.client, Some(&t.running.client_secret))
            .header("Range", range)
            .send()
    };
    let r = ranged("bytes=0-9".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 0-9/{}", whole.len()).as_str()
    );
    assert_eq!(r.bytes().await.unwrap(), whole.slice(0..10));
    let r = ranged("bytes=10-".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap(), whole.slice(10..));
    let r = ranged(format!("bytes={}-", whole.len())).await.unwrap();
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    t.stop().await;
}

#[tokio::test]
async fn errand_output_lands_in_the_job_log_of_a_colocated_errand() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    // `server` runs on web; as a colocated errand its output belongs to web's `server` job.
    t.deploy(&manifest("app", 1, "hello")).await;
    let r = t
        .send(
            reqwest::Method::PUT,
            "/chaos/errands/app/server",
            "application/json",
            r#"{"exit_code": 0, "stdout": "checked 3 endpoints", "stderr": "slow answer from one"}"#,
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let r = t
        .send(
            reqwest::Method::POST,
            "/deployments/app/errands/server/runs",
            "application/json",
            "{}",
        )
        .await;
    let (_, task) = t.run_task(r).await;
    assert_eq!(task["state"], "done", "{task}");

    let task = fetch(&t, "/deployments/app/jobs/web/0/logs?type=job").await;
    let files = bundle(&t, task["result"].as_str().unwrap()).await;
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.clone())
            .unwrap_or_default()
    };
    assert!(
        file("server/server.stdout.log").contains("checked 3 endpoints"),
        "{files:?}"
    );
    assert!(file("server/server.stderr.log").contains("slow answer from one"));
    t.stop().await;
}
