//! Beyond deploys: errands, the config server, the health monitor and resurrector, cloud check,
//! instance state changes and `migrated_from`.

mod common;

use std::time::{Duration, Instant};

use common::{manifest, TestDirector};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn errands_succeed_and_can_be_made_to_fail() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    t.deploy(&manifest("svc", 1, "x")).await;
    assert_eq!(
        t.get_json("/deployments/svc/errands").await,
        json!([{"name": "smoke-tests"}])
    );
    let body = r#"{"keep-alive":false,"when-changed":false,"instances":[]}"#;
    let r = t
        .send(
            Method::POST,
            "/deployments/svc/errands/smoke-tests/runs",
            "application/json",
            body,
        )
        .await;
    let (id, task) = t.run_task(r).await;
    assert_eq!(task["state"], "done");
    let results = t.result_lines(id).await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["exit_code"], 0);
    assert_eq!(results[0]["instance"]["group"], "smoke-tests");
    assert!(results[0]["stdout"]
        .as_str()
        .unwrap()
        .contains("smoke-tests"));
    let stages: Vec<String> = t
        .events_of(id)
        .await
        .iter()
        .filter_map(|e| e["stage"].as_str().map(str::to_string))
        .collect();
    assert!(stages.contains(&"Running errand".to_string()));
    assert!(stages.contains(&"Deleting errand instances".to_string()));

    let r = t
        .send(
            Method::PUT,
            "/chaos/errands/svc/smoke-tests",
            "application/json",
            r#"{"exit_code": 3, "stdout": "checking", "stderr": "boom: smoke test failed"}"#,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = t
        .send(
            Method::POST,
            "/deployments/svc/errands/smoke-tests/runs",
            "application/json",
            body,
        )
        .await;
    let (id, _) = t.run_task(r).await;
    let results = t.result_lines(id).await;
    assert_eq!(results[0]["exit_code"], 3);
    assert_eq!(results[0]["stderr"], "boom: smoke test failed");
    assert!(t
        .events_of(id)
        .await
        .iter()
        .any(|e| e["stage"] == "Running errand" && e["state"] == "failed"));

    let r = t
        .send(
            Method::POST,
            "/deployments/svc/errands/nope/runs",
            "application/json",
            body,
        )
        .await;
    let (_, task) = t.run_task(r).await;
    assert_eq!(task["state"], "error");
    assert!(task["result"].as_str().unwrap().contains("nope"));
    t.stop().await;
}

#[tokio::test]
async fn variables_are_generated_once_interpolated_and_required() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    t.deploy(&manifest("vars", 1, "x")).await;
    let listed = t.get_json("/deployments/vars/variables").await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "/tileworks-director/vars/admin_password",
            "/tileworks-director/vars/app_ca",
            "/tileworks-director/vars/web_tls"
        ]
    );
    let d = &t.running.director;
    let password = d
        .config_server
        .get(&d.store, "vars", "admin_password")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(password.as_str().unwrap().len(), 20);
    let tls = d
        .config_server
        .get(&d.store, "vars", "web_tls")
        .await
        .unwrap()
        .unwrap();
    let ca = d
        .config_server
        .get(&d.store, "vars", "app_ca")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tls["ca"], ca["certificate"], "signed by the declared CA");

    // Stable across deploys, and interpolated into the manifest the instances get.
    t.deploy(&manifest("vars", 2, "y")).await;
    assert_eq!(t.get_json("/deployments/vars/variables").await, listed);
    let again = d
        .config_server
        .get(&d.store, "vars", "admin_password")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, password);
    let raw = director::deploy::parse_yaml(&manifest("vars", 2, "y")).unwrap();
    let prepared = director::deploy::prepare(d, "vars", &raw, &Default::default())
        .await
        .unwrap();
    let props = prepared.manifest.instance_groups[0].jobs[0]
        .properties
        .clone()
        .unwrap();
    assert_eq!(props["admin_password"], password);
    assert_eq!(props["tls"]["certificate"], tls["certificate"]);
    assert_eq!(
        props["url"],
        format!(
            "https://admin:{}@web.example.com",
            password.as_str().unwrap()
        )
    );
    // The stored manifest keeps the placeholders.
    assert!(t.get_json("/deployments/vars").await["manifest"]
        .as_str()
        .unwrap()
        .contains("((admin_password))"));

    // An undeclared, unknown placeholder fails the deploy naming it.
    let bad = manifest("vars", 2, "((db_password))");
    let (_, task) = t.run_task(t.post_yaml("/deployments", &bad).await).await;
    assert_eq!(task["state"], "error");
    assert!(
        task["result"]
            .as_str()
            .unwrap()
            .contains("/tileworks-director/vars/db_password"),
        "{task}"
    );
    // Known absolute values, set as `credhub set` sets them at the URL `/info` names, interpolate
    // (a `json` value field by field).
    let info = t.get_json("/info").await;
    let urls = &info["features"]["config_server"]["extras"]["urls"];
    let url = urls[0].as_str().unwrap_or_else(|| panic!("{info}"));
    assert!(
        url.starts_with("https://") && url.ends_with("/api/"),
        "{url}"
    );
    for (body, name) in [
        (
            r#"{"name": "/shared/greeting", "type": "value", "value": "hello"}"#,
            "/shared/greeting",
        ),
        (
            r#"{"name": "shared/login", "type": "json", "value": {"user": "u", "password": "p"}}"#,
            "/shared/login",
        ),
    ] {
        let r = t
            .send(
                Method::PUT,
                "/api/v1/data",
                "application/json",
                body.to_owned(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let answer: serde_json::Value = r.json().await.unwrap();
        assert_eq!(answer["name"], name, "{answer}");
        assert!(answer["id"].is_string() && answer["version_created_at"].is_string());
    }
    t.deploy(&manifest("vars", 2, "((/shared/greeting))")).await;
    t.deploy(&manifest("vars", 2, "((/shared/login.password))"))
        .await;
    // What CredHub refuses, with its `{"error"}` answer.
    for bad in [
        r#"{"type": "value", "value": "x"}"#,
        r#"{"name": "/a/", "type": "value", "value": "x"}"#,
        r#"{"name": "/a", "type": "secret", "value": "x"}"#,
        r#"{"name": "/a", "type": "json", "value": "not an object"}"#,
        r#"{"name": "/a", "type": "value"}"#,
        "not json",
    ] {
        let r = t
            .send(
                Method::PUT,
                "/api/v1/data",
                "application/json",
                bad.to_owned(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let answer: serde_json::Value = r.json().await.unwrap();
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{bad}: {answer}"
        );
    }
    t.stop().await;
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_killed_vm_goes_unresponsive_and_is_resurrected() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    t.deploy(&manifest("hm", 2, "x")).await;
    let before = t.instances("hm").await;
    let victim = before.iter().find(|i| i["index"] == 0).unwrap().clone();

    // With resurrection paused the instance stays unresponsive.
    let r = t
        .send(
            Method::PUT,
            "/resurrection",
            "application/json",
            r#"{"resurrection_paused": true}"#,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .send(
            Method::POST,
            "/chaos/deployments/hm/instances/web/0/kill",
            "application/json",
            "",
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    wait_until("unresponsive agent", || async {
        t.instances("hm")
            .await
            .iter()
            .any(|i| i["id"] == victim["id"] && i["process_state"] == "unresponsive agent")
    })
    .await;

    // Resumed, the resurrector recreates the VM; the disk stays.
    let r = t
        .send(
            Method::PUT,
            "/resurrection",
            "application/json",
            r#"{"resurrection_paused": false}"#,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    wait_until("resurrection", || async {
        t.instances("hm").await.iter().any(|i| {
            i["id"] == victim["id"]
                && i["vm_cid"] != victim["vm_cid"]
                && i["process_state"] == "running"
        })
    })
    .await;
    let after = t.instances("hm").await;
    let inst = after.iter().find(|i| i["id"] == victim["id"]).unwrap();
    assert_eq!(inst["disk_cid"], victim["disk_cid"]);
    let events = t.get_json("/events?deployment=hm").await;
    let has = |action: &str, kind: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == action && e["object_type"] == kind)
    };
    assert!(has("kill", "vm"));
    assert!(has("create", "alert"));
    assert!(has("delete", "vm"));
    assert!(has("create", "vm"));
    let tasks = t.get_json("/tasks?deployment=hm").await;
    assert!(tasks
        .as_array()
        .unwrap()
        .iter()
        .any(|task| task["description"] == "scan and fix" && task["state"] == "done"));
    t.stop().await;
}

#[tokio::test]
async fn cloud_check_finds_and_fixes_problems() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    t.deploy(&manifest("cck", 1, "x")).await;
    t.send(
        Method::PUT,
        "/resurrection",
        "application/json",
        r#"{"resurrection_paused": true}"#,
    )
    .await;
    t.send(
        Method::POST,
        "/chaos/deployments/cck/instances/web/0/kill",
        "application/json",
        "",
    )
    .await;
    let (_, task) = t
        .run_task(
            t.send(
                Method::POST,
                "/deployments/cck/scans",
                "application/json",
                "",
            )
            .await,
        )
        .await;
    assert_eq!(task["state"], "done");
    let problems = t.get_json("/deployments/cck/problems").await;
    assert_eq!(problems[0]["type"], "unresponsive_agent");
    assert!(problems[0]["resolutions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "recreate_vm"));
    let id = problems[0]["id"].as_i64().unwrap();
    let body = json!({"resolutions": {id.to_string(): "recreate_vm"}}).to_string();
    let (_, task) = t
        .run_task(
            t.send(
                Method::PUT,
                "/deployments/cck/problems",
                "application/json",
                body,
            )
            .await,
        )
        .await;
    assert_eq!(task["state"], "done");
    assert_eq!(t.get_json("/deployments/cck/problems").await, json!([]));
    assert_eq!(t.instances("cck").await[0]["process_state"], "running");
    t.stop().await;
}

#[tokio::test]
async fn stop_start_recreate_and_migrated_from() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    t.deploy(&manifest("ops", 2, "x")).await;
    let before = t.instances("ops").await;

    let put = |path: &'static str| t.send(Method::PUT, path, "text/yaml", "");
    let (_, task) = t
        .run_task(put("/deployments/ops/jobs/web/0?state=stopped").await)
        .await;
    assert_eq!(task["state"], "done");
    let now = t.instances("ops").await;
    assert_eq!(
        now.iter().find(|i| i["index"] == 0).unwrap()["process_state"],
        "stopped"
    );
    let (_, task) = t
        .run_task(put("/deployments/ops/jobs/*?state=recreate").await)
        .await;
    assert_eq!(task["state"], "done");
    let recreated = t.instances("ops").await;
    for i in &recreated {
        let old = before.iter().find(|b| b["id"] == i["id"]).unwrap();
        assert_ne!(old["vm_cid"], i["vm_cid"]);
        assert_eq!(old["disk_cid"], i["disk_cid"]);
        assert_eq!(i["process_state"], "running");
    }
    let r = put("/deployments/ops/jobs/web?state=exploded").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Renaming the group with migrated_from keeps instances and disks.
    let renamed = manifest("ops", 2, "x").replace(
        "- name: web\n",
        "- name: frontend\n  migrated_from: [{name: web}]\n",
    );
    t.deploy(&renamed).await;
    let migrated = t.instances("ops").await;
    for i in &migrated {
        assert_eq!(i["job_name"], "frontend");
        let old = recreated
            .iter()
            .find(|b| b["id"] == i["id"])
            .expect("same instance id");
        assert_eq!(old["disk_cid"], i["disk_cid"]);
    }
    t.stop().await;
}

#[tokio::test]
async fn tarball_uploads_are_read_for_their_manifest() {
    let t = TestDirector::start().await;
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mf = b"name: tarred\nversion: '2.0'\ncommit_hash: def\njobs:\n- {name: worker, version: abc, fingerprint: abc, sha1: abc}\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(mf.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "./release.MF", &mf[..])
        .unwrap();
    let bytes = builder.into_inner().unwrap().finish().unwrap();
    let r = t
        .send(Method::POST, "/releases", "application/x-compressed", bytes)
        .await;
    let (_, task) = t.run_task(r).await;
    assert_eq!(task["state"], "done", "{task}");
    let releases: Value = t.get_json("/releases").await;
    assert_eq!(releases[0]["name"], "tarred");
    assert_eq!(
        releases[0]["release_versions"][0]["job_names"],
        json!(["worker"])
    );
    let r = t
        .send(
            Method::POST,
            "/stemcells",
            "application/x-compressed",
            b"not a tarball".to_vec(),
        )
        .await;
    let (_, task) = t.run_task(r).await;
    assert_eq!(task["state"], "error");
    t.stop().await;
}

#[tokio::test]
async fn runtime_config_addons_land_on_matching_groups() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    let dns = json!({"name": "bosh-dns", "version": "1.38.0", "jobs": [{"name": "bosh-dns"}]});
    let (_, task) = t
        .run_task(
            t.send(
                Method::POST,
                "/releases",
                "application/json",
                dns.to_string(),
            )
            .await,
        )
        .await;
    assert_eq!(task["state"], "done");
    let content = "releases: [{name: bosh-dns, version: 1.38.0}]\naddons:\n- name: dns\n  jobs: [{name: bosh-dns, release: bosh-dns}]\n  include: {stemcell: [{os: ubuntu-jammy}]}\n";
    let r = t
        .send(
            Method::POST,
            "/configs",
            "application/json",
            json!({"type": "runtime", "name": "dns", "content": content}).to_string(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let diff: Value = t
        .post_yaml("/deployments/rc/diff", &manifest("rc", 1, "x"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        diff["context"]["runtime_config_ids"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    t.deploy(&manifest("rc", 1, "x")).await;
    let inst = &t.instances("rc").await[0];
    let processes: Vec<&str> = inst["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(processes, vec!["server", "bosh-dns"]);
    let deployments = t.get_json("/deployments").await;
    assert!(deployments[0]["releases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "bosh-dns"));
    // Removing the addon updates the instance on the next deploy.
    let r = t
        .send(
            Method::DELETE,
            "/configs?type=runtime&name=dns",
            "text/plain",
            "",
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let id = t.deploy(&manifest("rc", 1, "x")).await;
    assert!(t
        .events_of(id)
        .await
        .iter()
        .any(|e| e["stage"] == "Updating instance"));
    let inst = &t.instances("rc").await[0];
    assert_eq!(inst["processes"].as_array().unwrap().len(), 1);
    t.stop().await;
}
