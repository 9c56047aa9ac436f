//! The core Director API: info and auth, uploads, cloud config, deploys as tasks with event
//! output and Range, instances, the update order, disks, locks, delete and restart.

mod common;

use std::collections::HashSet;

use common::{manifest, TestDirector};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn info_is_public_and_everything_else_needs_credentials() {
    let t = TestDirector::start().await;
    let info: Value = t
        .http
        .get(t.url("/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["user"], Value::Null);
    assert_eq!(info["user_authentication"]["type"], "basic");
    assert!(info["version"].as_str().unwrap().starts_with("282."));
    assert!(info["uuid"].as_str().is_some_and(|u| u.len() == 36));
    assert_eq!(t.get_json("/info").await["user"], "admin");

    let r = t.http.get(t.url("/deployments")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = t
        .http
        .get(t.url("/deployments"))
        .basic_auth("admin", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(t.get_json("/deployments").await, serde_json::json!([]));
    // The generated secret is kept in the data dir.
    let secret = std::fs::read_to_string(t.dir.join("client-secret")).unwrap();
    assert_eq!(secret.trim(), t.running.client_secret);
    t.stop().await;
}

#[tokio::test]
async fn uploads_configs_and_a_full_deploy() {
    let t = TestDirector::start().await;
    t.prepare_director().await;

    let releases = t.get_json("/releases").await;
    assert_eq!(releases[0]["name"], "app");
    assert_eq!(releases[0]["release_versions"][0]["version"], "1.0");
    let stemcells = t.get_json("/stemcells").await;
    assert_eq!(stemcells[0]["operating_system"], "ubuntu-jammy");
    assert_eq!(stemcells[0]["version"], "1.100");
    let needed: Value = t
        .send(
            reqwest::Method::POST,
            "/stemcell_uploads",
            "application/json",
            r#"{"stemcell":{"name":"bosh-simulated-ubuntu-jammy-go_agent","version":"1.100"}}"#,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(needed["needed"], false);
    let cc = t.get_json("/cloud_configs?name=default&limit=1").await;
    assert!(cc[0]["properties"]
        .as_str()
        .unwrap()
        .contains("10.0.1.0/24"));
    let configs = t.get_json("/configs?type=cloud&latest=true").await;
    assert_eq!(configs.as_array().unwrap().len(), 1);

    // Deploy: 302 to a task that ends `done`.
    let yaml = manifest("web-app", 3, "hello");
    let r = t.post_yaml("/deployments", &yaml).await;
    let id = TestDirector::task_of(&r);
    let task = t.wait(id).await;
    assert_eq!(task["state"], "done", "{task}");
    assert_eq!(task["result"], "/deployments/web-app");
    assert_eq!(task["deployment"], "web-app");
    assert_eq!(task["description"], "create deployment");

    // Event output: JSON lines with stages, matched started/finished pairs.
    let events = t.events_of(id).await;
    let stages: HashSet<&str> = events.iter().filter_map(|e| e["stage"].as_str()).collect();
    assert!(stages.contains("Preparing deployment"));
    assert!(stages.contains("Creating missing vms"));
    assert!(stages.contains("Updating instance"));
    for e in &events {
        assert!(e["time"].as_i64().is_some());
    }

    // Range: the tail from an offset is 206; past the end is 416.
    let full = t.output(id, "event").await;
    let r = t
        .http
        .get(t.url(&format!("/tasks/{id}/output?type=event")))
        .basic_auth(&t.running.client, Some(&t.running.client_secret))
        .header("Range", "bytes=10-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.text().await.unwrap(), full[10..]);
    let r = t
        .http
        .get(t.url(&format!("/tasks/{id}/output?type=event")))
        .basic_auth(&t.running.client, Some(&t.running.client_secret))
        .header("Range", format!("bytes={}-", full.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // The deployment, its manifest and its instances (balanced over the AZs).
    let deployments = t.get_json("/deployments").await;
    assert_eq!(deployments[0]["name"], "web-app");
    assert_eq!(deployments[0]["releases"][0]["version"], "1.0");
    assert_eq!(t.get_json("/deployments/web-app").await["manifest"], yaml);
    let instances = t.instances("web-app").await;
    assert_eq!(instances.len(), 3);
    let mut azs: Vec<&str> = instances
        .iter()
        .map(|i| i["az"].as_str().unwrap())
        .collect();
    azs.sort();
    assert_eq!(azs, vec!["z1", "z2", "z3"]);
    for i in &instances {
        let az = i["az"].as_str().unwrap();
        let ip = i["ips"][0].as_str().unwrap();
        let subnet = format!("10.0.{}.", &az[1..]);
        assert!(ip.starts_with(&subnet), "{ip} in {az}");
        assert_eq!(
            ip,
            format!("{subnet}10"),
            "first IP after the reserved range"
        );
        assert!(i["vm_cid"].as_str().unwrap().starts_with("vm-"));
        assert_eq!(i["process_state"], "running");
        assert_eq!(i["disk_cids"].as_array().unwrap().len(), 1);
        assert_eq!(i["processes"][0]["name"], "server");
    }
    assert_eq!(
        instances.iter().filter(|i| i["bootstrap"] == true).count(),
        1
    );
    let vms = t.get_json("/deployments/web-app/vms").await;
    assert_eq!(vms.as_array().unwrap().len(), 3);

    // The diff of a changed manifest.
    let diff: Value = t
        .post_yaml(
            "/deployments/web-app/diff?redact=true",
            &manifest("web-app", 5, "hi"),
        )
        .await
        .json()
        .await
        .unwrap();
    let changed: Vec<&Value> = diff["diff"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l[1] == "added")
        .collect();
    assert!(changed
        .iter()
        .any(|l| l[0].as_str().unwrap().contains("instances: 5")));

    // A second deploy: 5 instances and a changed property. Existing instances keep their
    // disks; updates follow canaries: 1 and max_in_flight: 2.
    let disks_before: Vec<(String, String)> = instances
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().into(),
                i["disk_cid"].as_str().unwrap().into(),
            )
        })
        .collect();
    let id = t.deploy(&manifest("web-app", 5, "hi")).await;
    let updates: Vec<Value> = t
        .events_of(id)
        .await
        .into_iter()
        .filter(|e| e["stage"] == "Updating instance")
        .collect();
    assert_eq!(updates.len(), 10, "5 started + 5 finished");
    assert_eq!(updates[0]["state"], "started");
    assert!(updates[0]["task"].as_str().unwrap().ends_with("(canary)"));
    assert_eq!(
        updates[1]["state"], "finished",
        "the canary finishes before others start"
    );
    assert_eq!(updates[0]["total"], 5);
    let mut in_flight = 0i32;
    let mut max_seen = 0;
    for e in &updates[2..] {
        match e["state"].as_str().unwrap() {
            "started" => in_flight += 1,
            "finished" => in_flight -= 1,
            other => panic!("unexpected state {other}"),
        }
        max_seen = max_seen.max(in_flight);
        assert!(!e["task"].as_str().unwrap().contains("canary"));
    }
    assert!(max_seen <= 2, "max_in_flight 2, saw {max_seen}");
    assert_eq!(in_flight, 0);
    let after = t.instances("web-app").await;
    assert_eq!(after.len(), 5);
    for (id, disk) in &disks_before {
        let inst = after.iter().find(|i| i["id"] == id.as_str()).expect("kept");
        assert_eq!(inst["disk_cid"], disk.as_str(), "persistent disk survives");
        let before = instances.iter().find(|i| i["id"] == id.as_str()).unwrap();
        assert_eq!(
            inst["vm_cid"], before["vm_cid"],
            "a property change keeps the VM"
        );
        assert_eq!(inst["ips"], before["ips"]);
    }
    let mut per_az = std::collections::HashMap::new();
    for i in &after {
        *per_az
            .entry(i["az"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert!(per_az.values().all(|n| *n == 1 || *n == 2), "{per_az:?}");

    // A disk size change gives a new disk.
    let bigger = manifest("web-app", 5, "hi").replace(
        "persistent_disk_type: \"10240\"",
        "persistent_disk_type: \"20480\"",
    );
    t.deploy(&bigger).await;
    let resized = t.instances("web-app").await;
    for (id, disk) in &disks_before {
        let inst = resized.iter().find(|i| i["id"] == id.as_str()).unwrap();
        assert_ne!(inst["disk_cid"], disk.as_str());
    }

    // Scaling down removes the highest indexes.
    t.deploy(&manifest("web-app", 2, "hi")).await;
    let scaled = t.instances("web-app").await;
    let mut idx: Vec<i64> = scaled
        .iter()
        .map(|i| i["index"].as_i64().unwrap())
        .collect();
    idx.sort();
    assert_eq!(idx.len(), 2);

    // Delete.
    let r = t
        .send(
            reqwest::Method::DELETE,
            "/deployments/web-app",
            "text/plain",
            "",
        )
        .await;
    let (_, task) = t.run_task(r).await;
    assert_eq!(task["state"], "done");
    assert_eq!(
        t.get("/deployments/web-app").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.get_json("/deployments").await, serde_json::json!([]));
    t.stop().await;
}

#[tokio::test]
async fn invalid_manifests_fail_the_task_with_the_directors_message() {
    let t = TestDirector::start().await;
    t.prepare_director().await;
    let bad = manifest("bad", 1, "x").replace("vm_type: small", "vm_type: huge");
    let r = t.post_yaml("/deployments", &bad).await;
    let (id, task) = t.run_task(r).await;
    assert_eq!(task["state"], "error");
    let result = task["result"].as_str().unwrap();
    assert!(result.contains("huge"), "{result}");
    let events = t.events_of(id).await;
    let last = events.last().unwrap();
    assert!(last["error"]["message"].as_str().unwrap().contains("huge"));

    let missing = manifest("bad", 1, "x").replace("version: \"1.0\"", "version: \"9.9\"");
    let (_, task) = t
        .run_task(t.post_yaml("/deployments", &missing).await)
        .await;
    assert_eq!(task["state"], "error");
    assert!(task["result"].as_str().unwrap().contains("app/9.9"));

    let r = t.post_yaml("/deployments", "name: [unclosed").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    t.stop().await;
}

#[tokio::test]
async fn one_task_per_deployment_other_deployments_proceed() {
    let t = TestDirector::start_with(|c| c.vm_create_ms = 60).await;
    t.prepare_director().await;
    let first = TestDirector::task_of(
        &t.post_yaml("/deployments", &manifest("alpha", 3, "a"))
            .await,
    );
    let locks = t.get_json("/locks").await;
    assert_eq!(locks[0]["resource"][0], "alpha");
    let second = TestDirector::task_of(
        &t.post_yaml("/deployments", &manifest("alpha", 3, "b"))
            .await,
    );
    let other =
        TestDirector::task_of(&t.post_yaml("/deployments", &manifest("beta", 1, "c")).await);
    let conflict = t.wait(second).await;
    assert_eq!(conflict["state"], "error");
    let message = conflict["result"].as_str().unwrap();
    assert!(
        message.contains(&format!("Locking task id is {first}"))
            && message.contains("create deployment"),
        "{message}"
    );
    assert_eq!(t.wait(other).await["state"], "done");
    assert_eq!(t.wait(first).await["state"], "done");
    assert_eq!(t.get_json("/locks").await, serde_json::json!([]));
    // beta's IPs do not collide with alpha's.
    let a: HashSet<String> = t
        .instances("alpha")
        .await
        .iter()
        .map(|i| i["ips"][0].as_str().unwrap().to_string())
        .collect();
    let b: HashSet<String> = t
        .instances("beta")
        .await
        .iter()
        .map(|i| i["ips"][0].as_str().unwrap().to_string())
        .collect();
    assert!(a.is_disjoint(&b));
    let tasks = t
        .get_json("/tasks?deployment=alpha&limit=30&verbose=2")
        .await;
    assert!(tasks.as_array().unwrap().len() >= 3);
    t.stop().await;
}

#[tokio::test]
async fn restart_keeps_deployments_tasks_vms_and_the_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let t = TestDirector::start_in(&dir, |_| {}).await;
    t.prepare_director().await;
    let task = t.deploy(&manifest("keep", 2, "x")).await;
    let before = t.instances("keep").await;
    let ca = t.running.ca_cert_pem.clone();
    let secret = t.running.client_secret.clone();
    let vars = t.get_json("/deployments/keep/variables").await;
    t.stop().await;

    let t = TestDirector::start_in(&dir, |_| {}).await;
    assert_eq!(t.running.ca_cert_pem, ca);
    assert_eq!(t.running.client_secret, secret);
    assert_eq!(t.get_json(&format!("/tasks/{task}")).await["state"], "done");
    assert!(!t.output(task, "event").await.is_empty());
    let after = t.instances("keep").await;
    let cids = |list: &[Value]| {
        list.iter()
            .map(|i| i["vm_cid"].as_str().unwrap().to_string())
            .collect::<HashSet<_>>()
    };
    assert_eq!(cids(&before), cids(&after));
    assert_eq!(t.get_json("/deployments/keep/variables").await, vars);
    // Redeploying the same manifest changes nothing: sealed variables still open.
    let id = t.deploy(&manifest("keep", 2, "x")).await;
    assert!(!t
        .events_of(id)
        .await
        .iter()
        .any(|e| e["stage"] == "Updating instance"));
    t.stop().await;
}

/// `bosh cancel-task N`: `DELETE /task/N`.
async fn cancel_task(t: &TestDirector, id: i64) -> reqwest::Response {
    t.send(
        reqwest::Method::DELETE,
        &format!("/task/{id}"),
        "text/plain",
        "",
    )
    .await
}

#[tokio::test]
async fn queued_tasks_are_cancelled_at_once_running_ones_at_a_checkpoint() {
    let t = TestDirector::start_with(|c| c.workers = 1).await;
    t.prepare_director().await;
    // With the CPI paused, the deploy of `one` is held inside "Creating missing vms": it is
    // certainly processing when the cancel arrives, whatever the machine's speed.
    let r = t
        .send(
            reqwest::Method::PUT,
            "/chaos/cpi",
            "application/json",
            r#"{"paused": true}"#,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let running =
        TestDirector::task_of(&t.post_yaml("/deployments", &manifest("one", 3, "a")).await);
    assert_eq!(t.wait_started(running).await["state"], "processing");
    // Wait until it is inside the CPI call, past every checkpoint before it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !t
        .events_of(running)
        .await
        .iter()
        .any(|e| e["stage"] == "Creating missing vms" && e["state"] == "started")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "deploy never reached the CPI"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The single worker is busy with `one`, so `two` waits in the queue.
    let queued =
        TestDirector::task_of(&t.post_yaml("/deployments", &manifest("two", 1, "b")).await);
    assert_eq!(
        t.get_json(&format!("/tasks/{queued}")).await["state"],
        "queued"
    );
    assert_eq!(
        cancel_task(&t, queued).await.status(),
        StatusCode::NO_CONTENT
    );
    let ended = t.wait(queued).await;
    assert_eq!(ended["state"], "cancelled");
    assert_eq!(ended["result"], "task cancelled");

    assert_eq!(
        cancel_task(&t, running).await.status(),
        StatusCode::NO_CONTENT
    );
    // Still inside its step: `cancelling` until the work reaches a checkpoint.
    assert_eq!(
        t.get_json(&format!("/tasks/{running}")).await["state"],
        "cancelling"
    );
    let current = t
        .get_json("/tasks?state=processing,cancelling,queued&verbose=1")
        .await;
    assert_eq!(current.as_array().map(Vec::len), Some(1), "{current}");
    let r = t
        .send(
            reqwest::Method::PUT,
            "/chaos/cpi",
            "application/json",
            r#"{"paused": false}"#,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let ended = t.wait(running).await;
    assert_eq!(ended["state"], "cancelled", "{ended}");
    assert_eq!(ended["result"], "task cancelled");
    // The step in progress finished; no instance update started after the checkpoint.
    let events = t.events_of(running).await;
    assert!(events
        .iter()
        .any(|e| e["stage"] == "Creating missing vms" && e["state"] == "finished"));
    assert!(!events.iter().any(|e| e["stage"] == "Updating instance"));
    assert!(!events.iter().any(|e| e.get("error").is_some()));
    assert_eq!(t.get_json("/locks").await, serde_json::json!([]));
    // A finished task cannot be cancelled, in the Director's words and error shape.
    let r = cancel_task(&t, running).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Cannot cancel task {running}")),
        "{body}"
    );
    assert!(body["code"].is_u64());
    // The deployment is not locked or broken: deploying again completes it.
    t.deploy(&manifest("one", 3, "a")).await;
    assert_eq!(t.instances("one").await.len(), 3);
    t.stop().await;
}

#[tokio::test]
async fn serial_false_groups_update_side_by_side() {
    let t = TestDirector::start_with(|c| c.vm_create_ms = 40).await;
    t.prepare_director().await;
    let two_groups = |serial: bool| {
        manifest("par", 1, "x")
            .replace(
                "update: {canaries: 1,",
                &format!("update: {{serial: {serial}, canaries: 1,"),
            )
            .replace(
                "- name: smoke-tests\n",
                "- name: worker\n  azs: [z2]\n  instances: 1\n  vm_type: small\n  stemcell: default\n  networks: [{name: default}]\n  jobs: [{name: server, release: app, properties: {greeting: x}}]\n- name: smoke-tests\n",
            )
    };
    let order = |events: Vec<Value>| -> Vec<(String, String)> {
        events
            .into_iter()
            .filter(|e| e["stage"] == "Updating instance")
            .map(|e| {
                (
                    e["tags"][0].as_str().unwrap().to_string(),
                    e["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let id = t.deploy(&two_groups(true)).await;
    let serial = order(t.events_of(id).await);
    assert_eq!(
        serial,
        vec![
            ("web".into(), "started".into()),
            ("web".into(), "finished".into()),
            ("worker".into(), "started".into()),
            ("worker".into(), "finished".into()),
        ]
    );
    let id = t
        .deploy(&two_groups(false).replace("greeting: x", "greeting: y"))
        .await;
    let parallel = order(t.events_of(id).await);
    assert_eq!(parallel.len(), 4);
    assert_eq!(parallel[0].1, "started");
    assert_eq!(
        parallel[1].1, "started",
        "both groups start before either finishes: {parallel:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn uaa_style_client_credentials() {
    let t = TestDirector::start_with(|c| c.uaa = true).await;
    let info: Value = t
        .http
        .get(t.url("/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["user_authentication"]["type"], "uaa");
    let uaa = info["user_authentication"]["options"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(uaa, format!("{}/uaa", t.running.url));
    let r = t
        .http
        .post(format!("{uaa}/oauth/token"))
        .basic_auth(&t.running.client, Some(&t.running.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let token: Value = r.json().await.unwrap();
    assert_eq!(token["token_type"], "bearer");
    let access = token["access_token"].as_str().unwrap();
    let r = t
        .http
        .get(t.url("/deployments"))
        .header("Authorization", format!("bearer {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .http
        .get(t.url("/deployments"))
        .header("Authorization", "bearer not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = t
        .http
        .post(format!("{uaa}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "admin"),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    t.stop().await;
}
