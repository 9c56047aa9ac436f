//! Fleet operations (issue 10) against the real binary and its embedded Director, with PKS
//! deployed through Apply Changes and clusters provisioned through the OSB API: a plan changed
//! in the tile and applied, then upgrade-all (through the API with canaries and max in flight,
//! whose concurrency is read from the Director's own task list, and as the PKS tile's errand
//! during Apply Changes); upgrade-all with one cluster failing (the stand-in's deploy fault)
//! fails naming it, retries a cluster whose first attempt failed; the management API's
//! per-instance upgrade; recreate-all and delete-all.

mod common;
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use support::director::Director;
use support::osb::*;
use support::*;

const WORKER_VM_TYPE: &str = ".properties.plan1_selector.active.worker_vm_type";

/// The cluster deployments with a Director task queued or running, as `bosh tasks` lists them.
async fn deployments_in_flight(director: &Director) -> BTreeSet<String> {
    let (status, tasks) = director
        .send(
            Method::GET,
            "/tasks?state=queued,processing&verbose=2&limit=1000",
            None,
        )
        .await;
    assert_eq!(status, 200, "{tasks}");
    tasks
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["deployment"].as_str())
        .filter(|d| d.starts_with("service-instance_"))
        .map(str::to_owned)
        .collect()
}

/// The manifest the Director holds for a deployment.
async fn director_manifest(director: &Director, deployment: &str) -> Value {
    let (status, body) = director
        .send(Method::GET, &format!("/deployments/{deployment}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    tiles::yaml::load(body["manifest"].as_str().unwrap()).unwrap()
}

async fn worker_vm_type(director: &Director, deployment: &str) -> String {
    let manifest = director_manifest(director, deployment).await;
    manifest["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "worker")
        .expect("a worker group")["vm_type"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn vm_cids(director: &Director, deployment: &str) -> BTreeSet<String> {
    let (status, vms) = director
        .send(Method::GET, &format!("/deployments/{deployment}/vms"), None)
        .await;
    assert_eq!(status, 200, "{vms}");
    vms.as_array()
        .unwrap()
        .iter()
        .map(|v| v["cid"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls a fleet run until it ended; its last state.
async fn run_end(api: &Api<'_>, id: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let run = api
            .ok(Method::GET, &format!("/pks/v1/fleet-runs/{id}"), None)
            .await;
        if run["state"] == "succeeded" || run["state"] == "failed" {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "fleet run {id} did not end: {run:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cluster<'a>(run: &'a Value, instance_id: &str) -> &'a Value {
    run["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["instance_id"] == instance_id)
        .unwrap_or_else(|| panic!("no {instance_id} in {run:#}"))
}

async fn set_worker_vm_type(api: &Api<'_>, guid: &str, vm_type: &str) {
    api.put(
        &format!("/api/v0/staged/products/{guid}/properties"),
        json!({"properties": {WORKER_VM_TYPE: {"value": vm_type}}}),
    )
    .await
    .expect(200);
}

async fn provision_all(osb: &Osb, ids: &[&str], plan: &str) {
    join_all(ids.iter().map(|id| osb.provisioned(id, plan, json!({})))).await;
}

#[tokio::test]
async fn a_plan_change_applied_then_upgrade_all_carries_the_new_plan_canaries_first() {
    // VM operations take a little time, so that concurrent deploys overlap visibly.
    let server = TestServer::start_with(&["--director-vm-create-ms", "40"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let guid = deploy_pks_for_broker(&api, Quotas::default()).await;
    let osb = Osb::of(&api, &guid).await;
    let director = Director::of(&api).await;
    let small = osb.plan_id("small").await;
    let ids = ["c1", "c2", "c3", "c4", "c5"];
    provision_all(&osb, &ids, &small).await;
    for id in ids {
        assert_eq!(
            worker_vm_type(&director, &format!("service-instance_{id}")).await,
            "medium"
        );
    }

    // The plan's worker VM type changes in the tile; applied with the upgrade errand off, the
    // catalog has the new plan and the clusters do not (yet).
    set_worker_vm_type(&api, &guid, "large").await;
    let log = apply_succeeds(
        &api,
        json!({"deploy_products": "all",
               "errands": {guid.clone(): {"run_post_deploy": {"upgrade-all-service-instances": false}}}}),
    )
    .await;
    assert!(
        log.contains("Errand upgrade-all-service-instances skipped (off for this apply)"),
        "{log}"
    );
    for id in ids {
        assert_eq!(
            worker_vm_type(&director, &format!("service-instance_{id}")).await,
            "medium"
        );
    }

    // Upgrade-all through the API: one canary, then two at a time.
    let started = api
        .post(
            "/pks/v1/upgrade-clusters",
            json!({"canaries": 1, "max_in_flight": 2, "attempt_interval_ms": 50}),
        )
        .await
        .expect(202);
    let run_id = started["id"].as_u64().unwrap();
    assert_eq!(started["kind"], "upgrade");
    assert_eq!(started["clusters"].as_array().unwrap().len(), 5);
    assert_eq!(started["clusters"][0]["canary"], true);
    assert_eq!(started["clusters"][1]["canary"], false);
    let canary = started["clusters"][0]["deployment"]
        .as_str()
        .unwrap()
        .to_owned();

    // What the Director runs meanwhile, sampled until the run ends.
    let mut samples: Vec<BTreeSet<String>> = Vec::new();
    let mut seen_in_progress = false;
    let run = loop {
        samples.push(deployments_in_flight(&director).await);
        let run = api
            .ok(Method::GET, &format!("/pks/v1/fleet-runs/{run_id}"), None)
            .await;
        if run["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["state"] == "in_progress")
        {
            seen_in_progress = true;
        }
        if run["state"] == "succeeded" || run["state"] == "failed" {
            break run;
        }
    };
    assert_eq!(run["state"], "succeeded", "{run:#}");
    assert!(
        seen_in_progress,
        "each cluster's state is visible while it runs"
    );
    let busiest = samples.iter().map(BTreeSet::len).max().unwrap_or(0);
    assert!(busiest <= 2, "max_in_flight 2 exceeded: {samples:?}");
    assert!(busiest == 2, "two clusters never ran at once: {samples:?}");
    let last_canary = samples.iter().rposition(|s| s.contains(&canary));
    let first_other = samples.iter().position(|s| s.iter().any(|d| *d != canary));
    assert!(
        last_canary.is_some(),
        "the canary's tasks were seen: {samples:?}"
    );
    assert!(
        last_canary < first_other,
        "the canary ran alone and first: {samples:?}"
    );
    for id in ids {
        let c = cluster(&run, id);
        assert_eq!(c["state"], "succeeded", "{c:#}");
        assert_eq!(c["attempts"], 1, "{c:#}");
        assert_eq!(
            worker_vm_type(&director, &format!("service-instance_{id}")).await,
            "large",
            "{id}"
        );
    }
    // The OSB API tells the platform the same operation was an upgrade.
    let op = &cluster(&run, "c2")["operation_id"];
    let token = json!({"OperationID": op, "OperationType": "upgrade"}).to_string();
    let last = osb.last_operation("c2", &token).await.expect(200);
    assert_eq!(last["description"], "Instance upgrade completed");

    // Changed again and applied with the tile's defaults: the upgrade-all errand runs in the
    // broker during Apply Changes and reports each cluster in the installation log.
    set_worker_vm_type(&api, &guid, "xlarge").await;
    let log = apply_succeeds(&api, json!({"deploy_products": "all"})).await;
    assert!(
        log.contains("Running errand upgrade-all-service-instances (on"),
        "{log}"
    );
    for id in ids {
        assert!(
            log.contains(&format!(
                "upgrade-all-service-instances | service-instance_{id}: upgrade succeeded"
            )),
            "{log}"
        );
        assert_eq!(
            worker_vm_type(&director, &format!("service-instance_{id}")).await,
            "xlarge",
            "{id}"
        );
    }
    assert!(
        log.contains("upgrade-all-service-instances: all 5 clusters succeeded"),
        "{log}"
    );
    let runs = api.ok(Method::GET, "/pks/v1/fleet-runs", None).await;
    assert_eq!(runs[0]["started_by"], "apply-changes", "{runs:#}");
    assert_eq!(
        runs[0]["options"]["max_in_flight"], 1,
        "the tile's errand setting"
    );
}

#[tokio::test]
async fn upgrade_all_with_a_failing_cluster_fails_naming_it_and_retries_the_others() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let guid = deploy_pks_for_broker(&api, Quotas::default()).await;
    let osb = Osb::of(&api, &guid).await;
    let director = Director::of(&api).await;
    let small = osb.plan_id("small").await;
    provision_all(&osb, &["a", "b", "c"], &small).await;

    // Unusable options are refused naming the field.
    let r = api
        .post("/pks/v1/upgrade-clusters", json!({"max_in_flight": 0}))
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(r.body.to_string().contains("max_in_flight"), "{:#}", r.body);
    let r = api
        .post("/pks/v1/upgrade-clusters", json!({"canaries": "two"}))
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(r.body.to_string().contains("canaries"), "{:#}", r.body);
    let r = api.post("/pks/v1/delete-all-clusters", json!({})).await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(r.body.to_string().contains("confirm"), "{:#}", r.body);
    let r = api.get("/pks/v1/fleet-runs/999").await;
    assert_eq!(r.status, 404, "{:#}", r.body);

    // b's deploys fail; c's first deploy fails, the next one works.
    let (code, body) = director
        .send(
            Method::PUT,
            "/chaos/deployments/service-instance_b/deploy",
            Some(json!({"message": "the IaaS refused a VM"})),
        )
        .await;
    assert_eq!(code, 204, "{body}");
    let (code, body) = director
        .send(
            Method::PUT,
            "/chaos/deployments/service-instance_c/deploy",
            Some(json!({"message": "a passing hiccup", "times": 1})),
        )
        .await;
    assert_eq!(code, 204, "{body}");

    let started = api
        .post(
            "/pks/v1/upgrade-clusters",
            json!({"max_in_flight": 3, "attempts": 2, "attempt_interval_ms": 50}),
        )
        .await
        .expect(202);
    // One fleet run at a time (this one lasts at least its retry pause).
    let second = api.post("/pks/v1/recreate-clusters", json!({})).await;
    assert_eq!(second.status, 409, "{:#}", second.body);
    assert!(
        second.body.to_string().contains("in progress"),
        "{:#}",
        second.body
    );
    let run = run_end(&api, started["id"].as_u64().unwrap()).await;
    assert_eq!(run["state"], "failed", "{run:#}");
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("1 of 3 clusters failed: service-instance_b"),
        "{error}"
    );
    assert!(error.contains("the IaaS refused a VM"), "{error}");
    assert!(!error.contains("service-instance_a"), "{error}");
    assert!(!error.contains("service-instance_c"), "{error}");
    let (a, b, c) = (cluster(&run, "a"), cluster(&run, "b"), cluster(&run, "c"));
    assert_eq!(
        (&a["state"], &a["attempts"]),
        (&json!("succeeded"), &json!(1))
    );
    assert_eq!((&b["state"], &b["attempts"]), (&json!("failed"), &json!(2)));
    assert_eq!(
        (&c["state"], &c["attempts"]),
        (&json!("succeeded"), &json!(2))
    );
    assert!(b["error"]
        .as_str()
        .unwrap()
        .contains("the IaaS refused a VM"));

    // The failed cluster is not stuck: with the fault gone, the management API upgrades it.
    let (code, _) = director
        .send(
            Method::DELETE,
            "/chaos/deployments/service-instance_b/deploy",
            None,
        )
        .await;
    assert_eq!(code, 204);
    let r = osb
        .request(
            Method::PATCH,
            "/mgmt/service_instances/b?operation_type=upgrade",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let token: Value = r.json().await.unwrap();
    assert_eq!(token["OperationType"], "upgrade");
    let last = osb.wait("b", &token.to_string()).await;
    assert_eq!(last["state"], "succeeded", "{last:#}");
    let r = osb
        .request(
            Method::PATCH,
            "/mgmt/service_instances/b?operation_type=rebuild",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("operation_type"));
    let r = osb
        .request(
            Method::PATCH,
            "/mgmt/service_instances/nope?operation_type=upgrade",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn recreate_all_recreates_every_vm_and_delete_all_deletes_every_cluster() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let guid = deploy_pks_for_broker(&api, Quotas::default()).await;
    let osb = Osb::of(&api, &guid).await;
    let director = Director::of(&api).await;
    let small = osb.plan_id("small").await;
    let ids = ["r1", "r2", "r3", "r4"];
    provision_all(&osb, &ids, &small).await;
    let mut before = Vec::new();
    for id in ids {
        before.push(vm_cids(&director, &format!("service-instance_{id}")).await);
    }

    let started = api
        .post("/pks/v1/recreate-clusters", json!({"max_in_flight": 2}))
        .await
        .expect(202);
    let run = run_end(&api, started["id"].as_u64().unwrap()).await;
    assert_eq!(run["state"], "succeeded", "{run:#}");
    for (id, old) in ids.iter().zip(&before) {
        let now = vm_cids(&director, &format!("service-instance_{id}")).await;
        assert_eq!(now.len(), old.len(), "{id}");
        assert!(now.is_disjoint(old), "{id}: every VM recreated");
    }
    let op = &cluster(&run, "r1")["operation_id"];
    let token = json!({"OperationID": op, "OperationType": "recreate"}).to_string();
    let last = osb.last_operation("r1", &token).await.expect(200);
    assert_eq!(last["description"], "Instance recreate completed");

    let started = api
        .post(
            "/pks/v1/delete-all-clusters",
            json!({"confirm": "delete-all-clusters", "max_in_flight": 4}),
        )
        .await
        .expect(202);
    let run = run_end(&api, started["id"].as_u64().unwrap()).await;
    assert_eq!(run["state"], "succeeded", "{run:#}");
    let left: Vec<String> = director
        .deployment_names()
        .await
        .into_iter()
        .filter(|n| n.starts_with("service-instance_"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let listed: Value = osb
        .request(Method::GET, "/mgmt/service_instances")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
    for id in ids {
        assert_eq!(osb.instance(id).await.status, 404, "{id}");
    }
}

/// Holds (or lets go) every VM creation of the embedded Director (its CPI fault switch).
async fn cpi_paused(director: &Director, paused: bool) {
    let (status, body) = director
        .send(Method::PUT, "/chaos/cpi", Some(json!({ "paused": paused })))
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
}

#[tokio::test]
async fn a_fleet_run_interrupted_by_a_restart_is_resumed_from_the_store() {
    let mut server =
        TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let ids = ["k1", "k2", "k3"];
    let run_id = {
        let api = Api::login(&server).await;
        let guid = deploy_pks_for_broker(&api, Quotas::default()).await;
        let osb = Osb::of(&api, &guid).await;
        let director = Director::of(&api).await;
        let small = osb.plan_id("small").await;
        provision_all(&osb, &ids, &small).await;

        // Recreate-all one at a time; the Director holds the first recreate inside its VM
        // creation, so the run is mid-way (one cluster in progress, two pending) at the kill.
        cpi_paused(&director, true).await;
        let started = api
            .post(
                "/pks/v1/recreate-clusters",
                json!({"max_in_flight": 1, "attempts": 2, "attempt_interval_ms": 0}),
            )
            .await
            .expect(202);
        let id = started["id"].as_u64().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let run = api
                .ok(Method::GET, &format!("/pks/v1/fleet-runs/{id}"), None)
                .await;
            let first = &run["clusters"][0];
            if first["state"] == "in_progress" && first["operation_id"].is_i64() {
                assert_eq!(run["clusters"][1]["state"], "pending", "{run:#}");
                break;
            }
            assert!(Instant::now() < deadline, "the run did not start: {run:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        id
    };
    server.restart();

    // The run is read back from the store and resumed: the recreate the restart killed is a
    // failed first attempt, its second attempt and the pending clusters succeed.
    let api = Api::login(&server).await;
    let listed = api.ok(Method::GET, "/pks/v1/fleet-runs", None).await;
    assert_eq!(listed[0]["id"], run_id, "{listed:#}");
    let run = run_end(&api, run_id).await;
    assert_eq!(run["state"], "succeeded", "{run:#}");
    assert_eq!(run["kind"], "recreate");
    assert_eq!(run["options"]["attempts"], 2);
    let first = &run["clusters"][0];
    assert_eq!(first["attempts"], 2, "{run:#}");
    for c in run["clusters"].as_array().unwrap() {
        assert_eq!(c["state"], "succeeded", "{run:#}");
        assert!(c["finished_at"].is_string(), "{run:#}");
    }
    let director = Director::of(&api).await;
    for id in ids {
        assert!(
            !vm_cids(&director, &format!("service-instance_{id}"))
                .await
                .is_empty(),
            "{id} has its VMs after the resumed run"
        );
    }

    // A new run may start: the resumed one ended.
    let started = api
        .post("/pks/v1/upgrade-clusters", json!({"max_in_flight": 3}))
        .await
        .expect(202);
    let again = run_end(&api, started["id"].as_u64().unwrap()).await;
    assert_eq!(again["state"], "succeeded", "{again:#}");
    // Newest first: the new run, the resumed one, and the upgrade-all errand of the deploy.
    let listed = api.ok(Method::GET, "/pks/v1/fleet-runs", None).await;
    assert_eq!(listed[1]["id"], run_id, "{listed:#}");
    assert_eq!(listed[2]["started_by"], "apply-changes", "{listed:#}");
}
