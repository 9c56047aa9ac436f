//! Apply Changes end to end: the real binary with its embedded Director stand-in (VM latency 0
//! unless a test needs an apply slow enough to act during it), the bundled PKS tile configured
//! through the API as om does it, then `POST /api/v0/installations` and what follows — the
//! Director deployment, the deployed snapshot, pending changes, failures that keep the staged
//! configuration, one installation at a time, writes refused during an apply, and a kill -9
//! in the middle of one.

mod common;
mod support;

use std::time::Duration;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::director::Director;
use support::pks::*;
use support::*;

const HOSTNAME: &str = ".properties.pks_api_hostname";

/// Starts a server (extra `serve` flags), configures the Director tile and stages and
/// configures PKS. Returns the server and the PKS GUID.
async fn pks_ready(args: &[&str]) -> (TestServer, String) {
    let mut all: Vec<&str> = args.to_vec();
    if !all.contains(&"--director-vm-create-ms") {
        all.extend(["--director-vm-create-ms", "0"]);
    }
    let server = TestServer::start_with(&all, Some(ADMIN_PASSWORD));
    let guid = stage_configured_pks(&Api::login(&server).await).await;
    (server, guid)
}

#[tokio::test]
async fn apply_changes_deploys_the_bundled_pks_tile() {
    let (server, guid) = pks_ready(&[]).await;
    let api = Api::login(&server).await;
    assert_eq!(api.pending_action(&guid).await, "install");
    let staged = api.staged_manifest(&guid).await;
    assert_eq!(staged["manifest"]["name"], guid.as_str());
    let text = staged.to_string();
    assert!(!text.contains("pks-vcenter-Secret-1"), "{text}");
    assert!(text.contains("(("), "credentials appear as placeholders");

    let first = api
        .apply_to_end(json!({"deploy_products": "all", "ignore_warnings": "false", "force_latest_variables": false}))
        .await;
    let (id, log) = (first.id, &first.log);
    first.expect("succeeded");
    assert!(
        log.contains("Updating the BOSH Director's cloud config"),
        "{log}"
    );
    assert!(log.contains("Uploading stemcell"), "{log}");
    assert!(log.contains("Uploading release"), "{log}");
    assert!(log.contains("create deployment"), "{log}");
    assert!(log.contains("Deployed."), "{log}");
    assert!(!log.contains("pks-vcenter-Secret-1"));

    // The Change Log.
    let list = api.installations().await;
    let first = &list["installations"][0];
    assert_eq!(first["id"], id);
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["user_name"], ADMIN_USER);
    assert_eq!(first["deploy_products"], "all");
    assert_eq!(first["products"][0]["guid"], guid.as_str());
    assert_eq!(first["products"][0]["action"], "install");
    assert_eq!(first["products"][0]["status"], "succeeded");
    assert_eq!(first["products"][0]["progress"], 100);
    assert!(first["duration_seconds"].is_i64());
    assert_eq!(first["additions"][0]["identifier"], PKS);

    // The Director has the deployment, with instances.
    let director = Director::of(&api).await;
    let deployments = director.deployment_names().await;
    assert!(deployments.contains(&guid), "{deployments:?}");
    let (code, instances) = director
        .send(Method::GET, &format!("/deployments/{guid}/instances"), None)
        .await;
    assert_eq!(code, 200);
    assert!(
        instances
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["job"] == PKS || i["instance_group"] == PKS),
        "{instances:#}"
    );

    // The deployed layer.
    let deployed = api.deployed_guids().await;
    assert!(deployed.contains(&guid), "{deployed:?}");
    let manifest = api.deployed_manifest(&guid).await;
    assert_eq!(manifest["name"], guid.as_str());
    assert!(!manifest.to_string().contains("pks-vcenter-Secret-1"));
    assert_eq!(api.pending_action(&guid).await, "unchanged");

    // The events stream of a finished installation: its log, then `finished`.
    let events = api.installation_events(id).await;
    assert_eq!(events.status(), 200);
    assert!(events.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let body = events.text().await.unwrap();
    assert!(body.contains("event: log"), "{body}");
    assert!(body.contains("event: progress"), "{body}");
    assert!(
        body.trim_end()
            .ends_with(r#"data: {"type":"finished","status":"succeeded"}"#),
        "{body}"
    );

    // A staged change makes the product pending again.
    api.set_property(&guid, HOSTNAME, json!("api2.pks.example.com"))
        .await
        .expect(200);
    assert_eq!(api.pending_action(&guid).await, "update");
    let again = api.apply_to_end(json!({"deploy_products": "all"})).await;
    again.expect("succeeded");
    let list = api.installations().await;
    assert_eq!(list["installations"][0]["id"], again.id);
    assert_eq!(list["installations"][0]["products"][0]["action"], "update");
    assert_eq!(list["installations"][1]["id"], id);
    assert_eq!(api.pending_action(&guid).await, "unchanged");

    // The deployed layer the pipeline wrote is the one the Stemcell Library and revert read:
    // the deployed stemcell is the staged one, and revert goes back to the deployed settings.
    let assignments = api
        .ok(Method::GET, "/api/v0/stemcell_assignments", None)
        .await;
    let pks = assignments["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == guid.as_str())
        .unwrap()
        .clone();
    assert!(pks["deployed_stemcell_version"].is_string(), "{pks:#}");
    assert_eq!(
        pks["deployed_stemcell_version"], pks["staged_stemcell_version"],
        "{pks:#}"
    );
    api.set_property(&guid, HOSTNAME, json!("api3.pks.example.com"))
        .await
        .expect(200);
    assert_eq!(api.pending_action(&guid).await, "update");
    api.revert_staged().await.expect(204);
    assert_eq!(api.pending_action(&guid).await, "unchanged");
    let props = api.properties(&guid).await;
    assert_eq!(
        props["properties"][HOSTNAME]["value"],
        "api2.pks.example.com"
    );
}

#[tokio::test]
async fn selective_apply_deploys_only_the_named_products() {
    let (server, guid) = pks_ready(&[]).await;
    let api = Api::login(&server).await;

    // "none": only the Director's cloud config.
    api.apply_to_end(json!({"deploy_products": "none"}))
        .await
        .expect("succeeded");
    let deployed = api.deployed_guids().await;
    assert!(!deployed.contains(&guid), "{deployed:?}");
    assert_eq!(deployed.len(), 1, "the Director tile only: {deployed:?}");
    assert_eq!(api.pending_action(&guid).await, "install");
    let list = api.installations().await;
    assert_eq!(list["installations"][0]["deploy_products"], "none");
    assert_eq!(list["installations"][0]["products"], json!([]));

    // An unknown GUID is refused before anything starts.
    let refused = api
        .post(
            "/api/v0/installations",
            json!({"deploy_products": ["nope-00000000000000000000"]}),
        )
        .await
        .expect(422);
    assert!(refused["errors"]["deploy_products"].is_array());

    // The one product by GUID.
    api.apply_to_end(json!({"deploy_products": [guid]}))
        .await
        .expect("succeeded");
    assert!(api.deployed_guids().await.contains(&guid));
    let list = api.installations().await;
    assert_eq!(list["installations"][0]["deploy_products"], json!([guid]));
}

#[tokio::test]
async fn an_incomplete_product_is_refused_with_its_reasons() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let guid = api.stage(PKS, "latest").await;
    let refused = api
        .post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await
        .expect(422);
    let reasons = refused["errors"][guid.as_str()].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("networks_and_azs.network")),
        "{reasons:?}"
    );
    assert_eq!(api.installations().await["installations"], json!([]));
}

#[tokio::test]
async fn a_failing_errand_fails_the_installation_and_keeps_the_staged_configuration() {
    let (server, guid) = pks_ready(&[]).await;
    let api = Api::login(&server).await;
    let director = Director::of(&api).await;
    director
        .chaos_errand(
            &guid,
            "smoke-tests",
            json!({"exit_code": 1, "stderr": "cluster creation timed out"}),
        )
        .await;
    let before = api.properties(&guid).await;

    // The staged rule says off; the one-time override runs it.
    let failed = api
        .apply_to_end(json!({"deploy_products": "all",
               "errands": {guid.clone(): {"run_post_deploy": {"smoke-tests": true}}}}))
        .await;
    let (status, log) = (&failed.status, &failed.log);
    failed.expect("failed");
    assert!(
        log.contains("Running errand smoke-tests (on for this apply)"),
        "{log}"
    );
    assert!(log.contains("cluster creation timed out"), "{log}");
    assert!(log.contains("Staged changes are kept"), "{log}");
    assert!(status["result"].as_str().unwrap().contains("smoke-tests"));
    assert_eq!(status["products"][0]["status"], "failed");

    // No snapshot for the product; its staged configuration is untouched and still pending.
    assert!(!api.deployed_guids().await.contains(&guid));
    assert_eq!(api.pending_action(&guid).await, "install");
    assert_eq!(before, api.properties(&guid).await);

    // Without the override the staged rule (off) applies, and a new apply succeeds.
    let next = api.apply_to_end(json!({"deploy_products": "all"})).await;
    next.expect("succeeded");
    assert!(
        next.log.contains("Errand smoke-tests skipped (off)"),
        "{}",
        next.log
    );
    assert!(api.deployed_guids().await.contains(&guid));
}

#[tokio::test]
async fn one_installation_at_a_time_and_no_configuration_writes_during_it() {
    let (server, guid) = pks_ready(&["--director-vm-create-ms", "1500"]).await;
    let api = Api::login(&server).await;
    let id = api.start_apply(json!({"deploy_products": "all"})).await;
    // The UI's live stream, read to its end while the test goes on.
    let stream = api.installation_events(id).await;
    assert_eq!(stream.status(), 200);
    let stream = tokio::spawn(async move { stream.text().await.unwrap() });

    let second = api
        .post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await
        .expect(409);
    assert_eq!(second["installation_id"], id);
    let message = second["errors"]["base"][0].as_str().unwrap();
    assert!(
        message.contains(&format!("Installation {id} is running")),
        "{message}"
    );

    let list = api.installations().await;
    assert_eq!(list["installations"][0]["status"], "running");
    assert!(list["installations"][0]["started_at"].is_string());

    let writes = [
        api.set_property(&guid, HOSTNAME, json!("other.example.com"))
            .await,
        api.put(
            "/api/v0/staged/director/properties",
            json!({"director_configuration": {"max_threads": 4}}),
        )
        .await,
        api.delete(&format!("/api/v0/staged/products/{guid}")).await,
        // Revert, staging, stemcell pins and imports change what an apply deploys too.
        api.revert_staged().await,
        api.post(
            "/api/v0/staged/products",
            json!({"name": PKS, "product_version": "latest"}),
        )
        .await,
        api.assign_stemcell(&guid, "97.17").await,
        om_upload_stemcell(
            &api,
            "bosh-stemcell-97.99.tgz",
            stemcell_tarball("ubuntu-xenial", "97.99"),
        )
        .await,
        // An apply may be reading a tile's releases: imported tiles stay until it ends.
        api.send(Method::DELETE, "/api/v0/available_products", None, None)
            .await,
        api.send(
            Method::DELETE,
            "/api/v0/available_products?product_name=p-example&version=1.0.0",
            None,
            None,
        )
        .await,
    ];
    for r in writes {
        assert_eq!(r.expect(409)["installation_id"], id);
    }
    let library = api.ok(Method::GET, "/api/v0/stemcells", None).await;
    assert!(
        !library.to_string().contains("97.99"),
        "a refused import leaves nothing behind: {library:#}"
    );
    // Reads still work.
    api.properties(&guid).await;
    api.follow(id).await.expect("succeeded");
    let events = tokio::time::timeout(Duration::from_secs(30), stream)
        .await
        .expect("the events stream ends with the installation")
        .unwrap();
    for kind in [
        "event: log",
        "event: step_started",
        "event: step_finished",
        "event: progress",
        "event: director_event",
    ] {
        assert!(events.contains(kind), "{kind} missing from {events}");
    }
    assert!(events.contains(r#""percent":100"#), "{events}");
    assert!(
        events
            .trim_end()
            .ends_with(r#"data: {"type":"finished","status":"succeeded"}"#),
        "{events}"
    );
    // Every stored log line reached the stream exactly once, in order.
    let stored = api.installation_log(id).await;
    let streamed: Vec<String> = events
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|v| v["type"] == "log")
        .map(|v| v["line"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(streamed, stored.lines().collect::<Vec<_>>());

    // Afterwards writes are accepted again.
    api.set_property(&guid, HOSTNAME, json!("other.example.com"))
        .await
        .expect(200);
}

#[tokio::test]
async fn a_kill_during_an_apply_marks_it_failed_and_the_next_apply_succeeds() {
    let (mut server, guid) = pks_ready(&["--director-vm-create-ms", "3000"]).await;
    let id = {
        let api = Api::login(&server).await;
        let id = api.start_apply(json!({"deploy_products": "all"})).await;
        // Wait until the deploy task runs on the Director.
        api.wait_for_log(id, "create deployment").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        id
    };
    server.restart(); // SIGKILL, then start again on the same data dir

    let api = Api::login(&server).await;
    let status = api
        .ok(Method::GET, &format!("/api/v0/installations/{id}"), None)
        .await;
    assert_eq!(status["status"], "failed", "{status:#}");
    assert!(status["finished_at"].is_string());
    let log = api.installation_log(id).await;
    assert!(
        log.contains("Tileworks restarted during this installation"),
        "{log}"
    );
    // Nothing staged was lost.
    assert_eq!(api.pending_action(&guid).await, "install");
    let props = api.properties(&guid).await;
    assert_eq!(
        props["properties"][HOSTNAME]["value"],
        "api.pks.example.com"
    );
    assert!(!api.deployed_guids().await.contains(&guid));
    // The deploy task it left on the Director is followed to its end and recorded.
    api.wait_for_log(id, "left running at the restart ended")
        .await;

    // The next apply succeeds (writes are accepted again too).
    let next = api.apply_to_end(json!({"deploy_products": "all"})).await;
    assert!(next.id > id);
    next.expect("succeeded");
    assert!(api.deployed_guids().await.contains(&guid));
}

#[tokio::test]
async fn apply_changes_carries_out_a_staged_deletion_after_its_pre_delete_errands() {
    let (server, guid) = pks_ready(&[]).await;
    let api = Api::login(&server).await;
    api.apply_to_end(json!({"deploy_products": "all"}))
        .await
        .expect("succeeded");
    let director = Director::of(&api).await;
    assert!(director.deployment_names().await.contains(&guid));

    // A cluster whose deletion the Director refuses (the stand-in's fault injection).
    let osb = support::osb::Osb::of(&api, &guid).await;
    let small = osb.plan_id("small").await;
    osb.provisioned("stuck", &small, json!({})).await;
    let (code, body) = director
        .send(
            Method::PUT,
            "/chaos/deployments/service-instance_stuck/delete",
            Some(json!({"message": "clusters still running"})),
        )
        .await;
    assert_eq!(code, 204, "{body}");

    // Deleting a deployed product stages its deletion; the pre-delete errand
    // delete-all-clusters (run_default: true, run by the broker) fails on that cluster.
    api.delete(&format!("/api/v0/staged/products/{guid}"))
        .await
        .expect(200);
    assert_eq!(api.pending_action(&guid).await, "delete");

    // A failing pre-delete errand fails the installation; the deletion stays staged and the
    // deployment stays on the Director.
    let failed = api.apply_to_end(json!({"deploy_products": "all"})).await;
    let (status, log) = (&failed.status, &failed.log);
    failed.expect("failed");
    assert!(
        log.contains("Running errand delete-all-clusters (on by default)"),
        "{log}"
    );
    assert!(log.contains("clusters still running"), "{log}");
    assert!(
        log.contains("delete-all-clusters: 1 of 1 clusters failed: service-instance_stuck"),
        "{log}"
    );
    assert!(
        !log.contains(&format!("Deleting the deployment {guid}")),
        "{log}"
    );
    assert_eq!(status["products"][0]["action"], "delete");
    assert_eq!(status["products"][0]["status"], "failed");
    assert_eq!(api.pending_action(&guid).await, "delete");
    assert!(api.deployed_guids().await.contains(&guid));
    assert!(director.deployment_names().await.contains(&guid));

    // With the errand turned off for this apply, the deletion goes through: the deployment is
    // gone from the Director, the product from staged and deployed.
    let deleted = api
        .apply_to_end(json!({"deploy_products": [guid],
               "errands": {guid.clone(): {"run_pre_delete": {"delete-all-clusters": false}}}}))
        .await;
    let log = &deleted.log;
    deleted.expect("succeeded");
    assert!(
        log.contains("Errand delete-all-clusters skipped (off for this apply)"),
        "{log}"
    );
    assert!(log.contains("delete deployment"), "{log}");
    assert!(log.contains("Deleted."), "{log}");
    assert!(!director.deployment_names().await.contains(&guid));
    assert!(!api.deployed_guids().await.contains(&guid));
    let staged = api.ok(Method::GET, "/api/v0/staged/products", None).await;
    assert!(!staged.to_string().contains(&guid), "{staged:#}");
    let list = api.installations().await;
    let entry = &list["installations"][0];
    assert_eq!(entry["id"], deleted.id);
    assert_eq!(entry["deletions"][0]["identifier"], PKS);
    assert_eq!(entry["deletions"][0]["guid"], guid.as_str());
    assert_eq!(entry["additions"], json!([]));
    assert_eq!(entry["products"][0]["action"], "delete");
    assert_eq!(entry["products"][0]["status"], "succeeded");
}

#[tokio::test]
async fn the_deployed_manifest_uses_the_stemcell_the_library_assigns() {
    let (server, guid) = pks_ready(&[]).await;
    let api = Api::login(&server).await;
    // PKS asks for ubuntu-xenial 97.17 (a light stemcell from the first start); two later
    // patches are imported and the older of them is assigned.
    for version in ["97.18", "97.20"] {
        om_upload_stemcell(
            &api,
            &format!("bosh-stemcell-{version}-vsphere-esxi-ubuntu-xenial-go_agent.tgz"),
            stemcell_tarball("ubuntu-xenial", version),
        )
        .await
        .expect(200);
    }
    api.assign_stemcell(&guid, "97.18").await.expect(200);
    let staged = api.staged_manifest(&guid).await;
    assert_eq!(
        staged["manifest"]["stemcells"],
        json!([{"alias": "default", "os": "ubuntu-xenial", "version": "97.18"}])
    );

    let applied = api.apply_to_end(json!({"deploy_products": "all"})).await;
    applied.expect("succeeded");
    assert!(
        applied
            .log
            .contains("Uploading stemcell ubuntu-xenial 97.18 from the Stemcell Library"),
        "{}",
        applied.log
    );
    let manifest = api.deployed_manifest(&guid).await;
    assert_eq!(manifest["stemcells"][0]["version"], "97.18", "{manifest:#}");
    let director = Director::of(&api).await;
    let (code, stemcells) = director.send(Method::GET, "/stemcells", None).await;
    assert_eq!(code, 200);
    assert!(
        stemcells
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["operating_system"] == "ubuntu-xenial" && s["version"] == "97.18"),
        "{stemcells:#}"
    );
    let (_, deployed) = director
        .send(Method::GET, &format!("/deployments/{guid}"), None)
        .await;
    assert!(
        deployed["manifest"]
            .as_str()
            .unwrap_or_default()
            .contains("97.18"),
        "{deployed:#}"
    );
    assert_eq!(api.pending_action(&guid).await, "unchanged");
}

/// A tile without job types (NSX-T's kind: it only adds a runtime config to every
/// deployment) deploys no manifest, as in Ops Manager: Apply Changes gives the Director its
/// runtime config, makes no deployment of it, and records the product deployed.
#[tokio::test]
async fn a_tile_without_job_types_gives_its_runtime_config_and_deploys_nothing() {
    const META: &str = "---
name: addon-only
product_version: 1.0.0
metadata_version: '2.7'
label: Add-on only
rank: 1
releases: []
stemcell_criteria: {os: ubuntu-xenial, version: '97.17'}
property_blueprints:
- name: greeting
  type: string
  configurable: true
  default: hello
form_types:
- name: settings
  label: Settings
  property_inputs:
  - reference: .properties.greeting
    label: Greeting
job_types: []
runtime_configs:
- name: greeter
  runtime_config: |
    addons:
    - name: greeter
      jobs: []
      properties:
        greeting: (( .properties.greeting.value ))
";
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let r = api
        .upload(
            "addon-only.pivotal",
            pivotal(&[("metadata/addon-only.yml", META.as_bytes(), true)]),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let guid = api.stage("addon-only", "1.0.0").await;
    api.set_networks_and_azs(
        &guid,
        json!({
            "network": {"name": "infra"},
            "singleton_availability_zone": {"name": "az1"},
            "other_availability_zones": [{"name": "az1"}],
        }),
    )
    .await
    .expect(200);

    let log = apply_succeeds(&api, json!({"deploy_products": "all"})).await;
    assert!(
        log.contains("No instance groups: nothing to deploy"),
        "{log}"
    );
    assert!(log.contains("Updating runtime config"), "{log}");
    let director = Director::of(&api).await;
    assert!(
        !director.deployment_names().await.contains(&guid),
        "no deployment of a tile without job types"
    );
    let (code, configs) = director
        .send(Method::GET, "/configs?type=runtime&latest=true", None)
        .await;
    assert_eq!(code, 200, "{configs:#}");
    let ours = configs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().is_some_and(|n| n.starts_with(&guid)))
        .unwrap_or_else(|| panic!("the tile's runtime config: {configs:#}"));
    assert!(
        ours["content"]
            .as_str()
            .unwrap()
            .contains("greeting: hello"),
        "{ours:#}"
    );
    let deployed = api.ok(Method::GET, "/api/v0/deployed/products", None).await;
    assert!(
        deployed
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["guid"] == guid.as_str()),
        "{deployed:#}"
    );
    // Its status (om's `GET …/status`) lists no VM rather than failing on a deployment the
    // Director never had.
    let status = api
        .get(&format!("/api/v0/deployed/products/{guid}/status"))
        .await;
    assert_eq!(status.status, 200, "{:#}", status.body);
    assert_eq!(status.body["status"], json!([]), "{:#}", status.body);
}
