//! The on-demand broker's Open Service Broker API (`/broker/v2/…`) against the real binary
//! and its embedded Director, with PKS deployed through Apply Changes: the gate (404 without
//! PKS, basic auth, `X-Broker-API-Version`), the catalog as the deployed manifest has it, every
//! endpoint with its status codes and bodies and the asynchronous flow, `ConcurrencyError`,
//! a plan update, bindings with a kubeconfig, deprovision and `410`, 20 instances at once with
//! none lost or doubled on the Director, quotas, and a restart during a provision.

mod common;
mod support;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::http::gate::{Access, ENTRY_POINTS};
use support::director::Director;
use support::osb::*;
use support::*;

const VM_CREATE_NOW: [&str; 2] = ["--director-vm-create-ms", "0"];

/// The `service_catalog` of the deployed PKS manifest's broker job.
async fn deployed_catalog(api: &Api<'_>, guid: &str) -> Value {
    let manifest = api.deployed_manifest(guid).await;
    manifest["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["jobs"].as_array().unwrap().iter())
        .find(|j| j["name"] == "broker")
        .expect("a broker job")["properties"]["service_catalog"]
        .clone()
}

/// A concrete path for a broker route.
fn concrete(route: &str) -> String {
    route
        .replace("{instance_id}", "some-instance")
        .replace("{binding_id}", "some-binding")
}

/// Asserts an OSB error answer: status, `error` code when given, words of the description.
fn refused(r: &Reply, status: u16, error: Option<&str>, words: &[&str]) {
    assert_eq!(r.status.as_u16(), status, "{:#}", r.body);
    if let Some(code) = error {
        assert_eq!(r.body["error"], code, "{:#}", r.body);
    }
    let description = r.body["description"].as_str().unwrap_or_default();
    for w in words {
        assert!(description.contains(w), "{w:?} in {description:?}");
    }
}

async fn cpi_paused(director: &Director, paused: bool) {
    let (status, body) = director
        .send(Method::PUT, "/chaos/cpi", Some(json!({ "paused": paused })))
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
}

/// The cluster deployments on the Director.
async fn clusters(director: &Director) -> Vec<String> {
    let mut names: Vec<String> = director
        .deployment_names()
        .await
        .into_iter()
        .filter(|n| n.starts_with("service-instance_"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_osb_api_end_to_end() {
    let server = TestServer::start_with(&VM_CREATE_NOW, Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;

    // Before PKS is deployed there is no broker.
    let r = reqwest::Client::new()
        .get(server.at("/broker/v2/catalog"))
        .basic_auth("broker", Some("guess"))
        .header("X-Broker-API-Version", "2.14")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let guid = deploy_pks_for_broker(&api, Quotas::default()).await;
    let osb = Osb::of(&api, &guid).await;
    let director = Director::of(&api).await;

    // Who may call: the broker's credentials only; a token or a wrong password is 401.
    let http = reqwest::Client::new();
    for (method, route, access) in ENTRY_POINTS {
        if *access != Access::Broker {
            continue;
        }
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("{}{}", server.url, concrete(route));
        let with_token = http
            .request(method.clone(), &url)
            .bearer_auth(&api.token)
            .header("X-Broker-API-Version", "2.14")
            .send()
            .await
            .unwrap();
        assert_eq!(with_token.status(), 401, "token: {method} {route}");
        let wrong = http
            .request(method.clone(), &url)
            .basic_auth(&osb.username, Some("not-the-password"))
            .header("X-Broker-API-Version", "2.14")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "wrong password: {method} {route}");
        let mut right = osb.request(method.clone(), &concrete(route).replace("/broker", ""));
        if method == Method::PUT || method == Method::PATCH {
            right = right.json(&json!({}));
        }
        let right = right.send().await.unwrap().status();
        assert!(
            right != 401 && right != 403 && right != 500,
            "broker credentials: {method} {route} answered {right}"
        );
    }
    // The API version header is required.
    let no_version = http
        .get(format!("{}/broker/v2/catalog", server.url))
        .basic_auth(&osb.username, Some(&osb.password))
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), StatusCode::PRECONDITION_FAILED);
    let old = http
        .get(format!("{}/broker/v2/catalog", server.url))
        .basic_auth(&osb.username, Some(&osb.password))
        .header("X-Broker-API-Version", "1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::PRECONDITION_FAILED);
    let identity = osb
        .request(Method::GET, "/v2/catalog")
        .header("X-Broker-API-Request-Identity", "req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(identity.headers()["x-broker-api-request-identity"], "req-1");

    // The catalog is the deployed manifest's service_catalog.
    let catalog = osb.catalog().await.expect(200);
    let deployed = deployed_catalog(&api, &guid).await;
    let service = &catalog["services"][0];
    assert_eq!(catalog["services"].as_array().unwrap().len(), 1);
    assert_eq!(service["id"], deployed["id"]);
    assert_eq!(service["id"], SERVICE_ID);
    assert_eq!(service["name"], deployed["service_name"]);
    assert_eq!(service["description"], deployed["service_description"]);
    assert_eq!(service["plan_updateable"], deployed["plan_updatable"]);
    assert_eq!(service["bindable"], deployed["bindable"]);
    assert_eq!(service["tags"], deployed["tags"]);
    assert_eq!(service["metadata"], deployed["metadata"]);
    let plans = service["plans"].as_array().unwrap();
    let deployed_plans = deployed["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 2, "the active plans: {plans:#?}");
    assert_eq!(plans.len(), deployed_plans.len());
    for (p, d) in plans.iter().zip(deployed_plans) {
        assert_eq!(p["id"], d["plan_id"]);
        assert_eq!(p["name"], d["name"]);
        assert_eq!(p["description"], d["description"]);
        assert_eq!(p["metadata"], d["metadata"]);
        assert_eq!(
            p["maintenance_info"]["version"],
            deployed["maintenance_info"]["version"]
        );
        let create = &p["schemas"]["service_instance"]["create"]["parameters"];
        assert_eq!(
            create["properties"]["worker_instances"]["maximum"],
            d["properties"]["max_worker_instances"],
            "the schema follows the plan's maximum"
        );
    }
    let small = osb.plan_id("small").await;
    let medium = osb.plan_id("medium").await;

    // Provision refusals: a wrong body is a 400/422 naming the field, never a 500.
    let path = "/v2/service_instances/c1";
    let body = json!({"service_id": SERVICE_ID, "plan_id": small});
    let r = osb.send(Method::PUT, path, Some(body.clone())).await;
    refused(&r, 422, Some("AsyncRequired"), &[]);
    let put = |b: Value| {
        let osb = osb.clone();
        async move {
            osb.send(
                Method::PUT,
                "/v2/service_instances/c1?accepts_incomplete=true",
                Some(b),
            )
            .await
        }
    };
    refused(
        &put(json!({"service_id": "nope", "plan_id": small})).await,
        400,
        None,
        &["service_id"],
    );
    refused(
        &put(json!({"service_id": SERVICE_ID, "plan_id": "nope"})).await,
        400,
        None,
        &["plan_id"],
    );
    refused(
        &put(json!({"service_id": SERVICE_ID})).await,
        400,
        None,
        &["plan_id", "required"],
    );
    refused(
        &put(json!({"service_id": 7, "plan_id": small})).await,
        400,
        None,
        &["service_id"],
    );
    refused(
        &put(json!({"service_id": SERVICE_ID, "plan_id": small, "parameters": [1]})).await,
        422,
        None,
        &["parameters"],
    );
    let not_json = osb
        .request(
            Method::PUT,
            "/v2/service_instances/c1?accepts_incomplete=true",
        )
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let r = osb
        .provision("c1", &small, json!({"worker_instances": 999}))
        .await;
    refused(&r, 422, None, &["worker_instances", "at most"]);
    let r = osb
        .provision("c1", &small, json!({"external_hostname": "not a host!"}))
        .await;
    refused(&r, 422, None, &["external_hostname"]);
    let r = osb
        .provision("c1", &small, json!({"flavour": "mint"}))
        .await;
    refused(&r, 422, None, &["flavour", "unknown parameter"]);
    assert_eq!(osb.instance("c1").await.status, 404, "nothing was created");

    // The asynchronous flow.
    let params = json!({"external_hostname": "c1.example.com", "worker_instances": 2});
    let r = osb.provision("c1", &small, params.clone()).await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let operation = r.body["operation"].as_str().unwrap().to_owned();
    let token: Value = serde_json::from_str(&operation).unwrap();
    assert_eq!(token["OperationType"], "create");
    assert!(token["BoshTaskID"].as_u64().unwrap() > 0, "{token}");
    assert_eq!(r.body["dashboard_url"], "https://c1.example.com:8443");
    // Server-Timing tells the broker's own time from the Director's: a provision hands the
    // deploy task to the Director, so it waited for it.
    let own = r.timing("broker").expect("Server-Timing names broker");
    let director_wait = r.timing("director").expect("Server-Timing names director");
    assert!(own > 0.0 && director_wait > 0.0, "{:?}", r.server_timing);
    let first = osb.last_operation("c1", &operation).await.expect(200);
    if first["state"] == "in progress" {
        assert_eq!(first["description"], "Instance provisioning in progress");
    }
    refused(
        &osb.send(Method::GET, "/v2/service_instances/c1/last_operation", None)
            .await,
        400,
        None,
        &["operation"],
    );
    let different = osb.provision("c1", &medium, params.clone()).await;
    refused(&different, 409, None, &["other attributes"]);
    let last = osb.wait("c1", &operation).await;
    assert_eq!(last["state"], "succeeded");
    assert_eq!(last["description"], "Instance provisioning completed");
    let again = osb.provision("c1", &small, params.clone()).await;
    assert_eq!(again.status, 200, "identical repeat: {:#}", again.body);
    assert_eq!(again.body["dashboard_url"], "https://c1.example.com:8443");
    assert_eq!(clusters(&director).await, ["service-instance_c1"]);
    let (_, deployment) = director
        .send(Method::GET, "/deployments/service-instance_c1", None)
        .await;
    let manifest = tiles::yaml::load(deployment["manifest"].as_str().unwrap()).unwrap();
    let workers = manifest["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "worker")
        .unwrap();
    assert_eq!(workers["instances"], 2, "the request's worker count");
    let view = osb.instance("c1").await.expect(200);
    assert_eq!(view["service_id"], SERVICE_ID);
    assert_eq!(view["plan_id"], small.as_str());
    assert_eq!(view["parameters"], params);
    assert_eq!(view["dashboard_url"], "https://c1.example.com:8443");

    // A second operation on a busy instance: ConcurrencyError, whatever it is.
    cpi_paused(&director, true).await;
    let r = osb
        .update(
            "c1",
            json!({"service_id": SERVICE_ID, "parameters": {"worker_instances": 3}}),
        )
        .await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let busy_op = r.body["operation"].as_str().unwrap().to_owned();
    let in_progress = osb.last_operation("c1", &busy_op).await.expect(200);
    assert_eq!(in_progress["state"], "in progress");
    assert_eq!(in_progress["description"], "Instance update in progress");
    let second = osb
        .update(
            "c1",
            json!({"service_id": SERVICE_ID, "parameters": {"worker_instances": 1}}),
        )
        .await;
    refused(&second, 422, Some("ConcurrencyError"), &["in progress"]);
    refused(
        &osb.deprovision("c1", &small).await,
        422,
        Some("ConcurrencyError"),
        &[],
    );
    refused(
        &osb.bind("c1", "b0", &small).await,
        422,
        Some("ConcurrencyError"),
        &[],
    );
    refused(
        &osb.instance("c1").await,
        422,
        Some("ConcurrencyError"),
        &[],
    );
    cpi_paused(&director, false).await;
    let done = osb.wait("c1", &busy_op).await;
    assert_eq!(done["state"], "succeeded", "{done:#}");
    assert_eq!(done["description"], "Instance update completed");
    assert_eq!(
        osb.instance("c1").await.expect(200)["parameters"]["worker_instances"],
        3
    );

    // Plan update: refusals, then small → medium.
    let r = osb
        .send(
            Method::PATCH,
            "/v2/service_instances/c1",
            Some(json!({"service_id": SERVICE_ID, "plan_id": medium})),
        )
        .await;
    refused(&r, 422, Some("AsyncRequired"), &[]);
    let r = osb
        .update("c1", json!({"service_id": SERVICE_ID, "plan_id": "nope"}))
        .await;
    refused(&r, 400, None, &["plan_id"]);
    let r = osb
        .update(
            "c1",
            json!({"service_id": SERVICE_ID, "parameters": {"worker_instances": 0}}),
        )
        .await;
    refused(&r, 422, None, &["worker_instances"]);
    let r = osb
        .update(
            "c1",
            json!({"service_id": SERVICE_ID, "maintenance_info": {"version": "0.0.1"}}),
        )
        .await;
    refused(&r, 422, Some("MaintenanceInfoConflict"), &["0.0.1"]);
    let r = osb
        .update(
            "nobody",
            json!({"service_id": SERVICE_ID, "plan_id": medium}),
        )
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);
    let r = osb
        .update(
            "c1",
            json!({
                "service_id": SERVICE_ID,
                "plan_id": medium,
                "previous_values": {"plan_id": small, "service_id": SERVICE_ID},
            }),
        )
        .await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let plan_change = r.body["operation"].as_str().unwrap().to_owned();
    assert_eq!(osb.wait("c1", &plan_change).await["state"], "succeeded");
    let view = osb.instance("c1").await.expect(200);
    assert_eq!(view["plan_id"], medium.as_str());
    assert_eq!(
        view["parameters"]["worker_instances"], 3,
        "kept across the update"
    );

    // Bindings: a kubeconfig for the cluster.
    let r = osb.bind("c1", "b1", &medium).await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    let kubeconfig = &r.body["credentials"]["kubeconfig"];
    assert_eq!(kubeconfig["kind"], "Config");
    assert_eq!(
        kubeconfig["clusters"][0]["cluster"]["server"],
        "https://c1.example.com:8443"
    );
    assert!(kubeconfig["users"][0]["user"]["token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(
        kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    let credentials = r.body.clone();
    let again = osb.bind("c1", "b1", &medium).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, credentials);
    assert_eq!(osb.binding("c1", "b1").await.expect(200), credentials);
    let other = osb
        .send(
            Method::PUT,
            "/v2/service_instances/c1/service_bindings/b1",
            Some(json!({"service_id": SERVICE_ID, "plan_id": medium, "app_guid": "other"})),
        )
        .await;
    refused(&other, 409, None, &[]);
    refused(
        &osb.send(
            Method::PUT,
            "/v2/service_instances/c1/service_bindings/b2",
            Some(json!({"service_id": SERVICE_ID, "plan_id": medium, "parameters": {"x": 1}})),
        )
        .await,
        422,
        None,
        &["x"],
    );
    assert_eq!(osb.bind("nobody", "b1", &medium).await.status, 404);
    assert_eq!(osb.unbind("c1", "b1", &medium).await.expect(200), json!({}));
    assert_eq!(osb.unbind("c1", "b1", &medium).await.status, 410);
    assert_eq!(osb.binding("c1", "b1").await.status, 404);

    // Deprovision, then 410.
    let r = osb
        .send(
            Method::DELETE,
            &format!("/v2/service_instances/c1?service_id={SERVICE_ID}&plan_id={medium}"),
            None,
        )
        .await;
    refused(&r, 422, Some("AsyncRequired"), &[]);
    let r = osb.deprovision("c1", &medium).await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let deletion = r.body["operation"].as_str().unwrap().to_owned();
    let done = osb.wait("c1", &deletion).await;
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["description"], "Instance deletion completed");
    assert!(clusters(&director).await.is_empty());
    let r = osb.deprovision("c1", &medium).await;
    assert_eq!(r.status, 410);
    assert_eq!(r.body, json!({}));
    assert_eq!(osb.instance("c1").await.status, 404);

    // Twenty at once: each deployed once, none lost.
    let mut set = tokio::task::JoinSet::new();
    for n in 0..20 {
        let osb = osb.clone();
        let plan = if n % 2 == 0 {
            small.clone()
        } else {
            medium.clone()
        };
        set.spawn(async move {
            let id = format!("many-{n:02}");
            let r = osb.provision(&id, &plan, json!({})).await;
            assert_eq!(r.status, 202, "{id}: {:#}", r.body);
            let op = r.body["operation"].as_str().unwrap().to_owned();
            let last = osb.wait(&id, &op).await;
            assert_eq!(last["state"], "succeeded", "{id}: {last:#}");
            id
        });
    }
    let mut ids = Vec::new();
    while let Some(done) = set.join_next().await {
        ids.push(format!("service-instance_{}", done.unwrap()));
    }
    ids.sort();
    assert_eq!(clusters(&director).await, ids, "every cluster exactly once");

    // The plan's post-deploy errand runs per cluster: when it fails, so does the provision,
    // and the instance can still be deleted.
    director
        .chaos_errand(
            "service-instance_e1",
            "apply-addons",
            json!({"exit_code": 1, "stderr": "addons refused"}),
        )
        .await;
    let r = osb.provision("e1", &small, json!({})).await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let op = r.body["operation"].as_str().unwrap().to_owned();
    let last = osb.wait("e1", &op).await;
    assert_eq!(last["state"], "failed", "{last:#}");
    assert!(last["description"]
        .as_str()
        .unwrap()
        .starts_with("Instance provisioning failed"));
    let r = osb.deprovision("e1", &small).await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let op = r.body["operation"].as_str().unwrap().to_owned();
    assert_eq!(osb.wait("e1", &op).await["state"], "succeeded");
    assert_eq!(clusters(&director).await, ids);
}

#[tokio::test]
async fn quotas_refuse_naming_the_quota_and_the_count() {
    let server = TestServer::start_with(&VM_CREATE_NOW, Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let guid = deploy_pks_for_broker(
        &api,
        Quotas {
            global: Some(3),
            plan1: Some(2),
        },
    )
    .await;
    let osb = Osb::of(&api, &guid).await;
    let catalog = deployed_catalog(&api, &guid).await;
    assert_eq!(catalog["global_quotas"]["service_instance_limit"], 3);
    let small = osb.plan_id("small").await;
    let medium = osb.plan_id("medium").await;

    osb.provisioned("a", &small, json!({})).await;
    osb.provisioned("b", &small, json!({})).await;
    let r = osb.provision("c", &small, json!({})).await;
    refused(&r, 422, Some("QuotaExceeded"), &["plan small", "2 of 2"]);
    osb.provisioned("d", &medium, json!({})).await;
    let r = osb.provision("e", &medium, json!({})).await;
    refused(&r, 422, Some("QuotaExceeded"), &["global", "3 of 3"]);

    // A deletion frees its place; a plan change counts against the new plan.
    let r = osb.deprovision("a", &small).await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let op = r.body["operation"].as_str().unwrap().to_owned();
    assert_eq!(osb.wait("a", &op).await["state"], "succeeded");
    osb.provisioned("c", &small, json!({})).await;
    let r = osb
        .update("d", json!({"service_id": SERVICE_ID, "plan_id": small}))
        .await;
    refused(&r, 422, Some("QuotaExceeded"), &["plan small", "2 of 2"]);
}

#[tokio::test]
async fn a_restart_during_a_provision_leaves_an_honest_state() {
    let mut server = TestServer::start_with(&VM_CREATE_NOW, Some(ADMIN_PASSWORD));
    let (osb, small, operation) = {
        let api = Api::login(&server).await;
        let guid = deploy_pks_for_broker(&api, Quotas::default()).await;
        let osb = Osb::of(&api, &guid).await;
        let director = Director::of(&api).await;
        let small = osb.plan_id("small").await;
        // The Director holds the deploy inside its first VM creation.
        cpi_paused(&director, true).await;
        let r = osb.provision("r1", &small, json!({})).await;
        assert_eq!(r.status, 202, "{:#}", r.body);
        let operation = r.body["operation"].as_str().unwrap().to_owned();
        let last = osb.last_operation("r1", &operation).await.expect(200);
        assert_eq!(last["state"], "in progress");
        (osb, small, operation)
    };
    server.restart();
    let osb = osb.at(&server.url);

    // The embedded Director died with the process: its task failed, and so did the operation.
    let last = osb.wait("r1", &operation).await;
    assert_eq!(last["state"], "failed", "{last:#}");
    let description = last["description"].as_str().unwrap();
    assert!(
        description.starts_with("Instance provisioning failed"),
        "{description}"
    );
    // The instance is still there, and can be updated and deleted.
    let view = osb.instance("r1").await.expect(200);
    assert_eq!(view["plan_id"], small.as_str());
    let r = osb
        .update(
            "r1",
            json!({"service_id": SERVICE_ID, "parameters": {"worker_instances": 1}}),
        )
        .await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let op = r.body["operation"].as_str().unwrap().to_owned();
    assert_eq!(osb.wait("r1", &op).await["state"], "succeeded");
    let r = osb.deprovision("r1", &small).await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let op = r.body["operation"].as_str().unwrap().to_owned();
    assert_eq!(osb.wait("r1", &op).await["state"], "succeeded");
    assert_eq!(osb.instance("r1").await.status, 404);
    let api = Api::login(&server).await;
    let director = Director::of(&api).await;
    assert!(clusters(&director).await.is_empty());
}

#[tokio::test]
async fn the_management_api_lists_instances_and_orphans_without_deleting_them() {
    let server = TestServer::start_with(&VM_CREATE_NOW, Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let guid = deploy_pks_for_broker(&api, Quotas::default()).await;
    let osb = Osb::of(&api, &guid).await;
    let director = Director::of(&api).await;
    let small = osb.plan_id("small").await;
    osb.provisioned("kept", &small, json!({})).await;
    osb.provisioned("lost", &small, json!({})).await;

    // The broker's credentials, and no OSB version header needed (ODB's own API).
    let unauthenticated = reqwest::Client::new()
        .get(server.at("/broker/mgmt/service_instances"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let listed = reqwest::Client::new()
        .get(server.at("/broker/mgmt/service_instances"))
        .basic_auth(&osb.username, Some(&osb.password))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(
        listed,
        json!([
            {"service_instance_id": "kept", "plan_id": small},
            {"service_instance_id": "lost", "plan_id": small},
        ])
    );
    let orphans: Value = osb
        .request(Method::GET, "/mgmt/orphan_deployments")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orphans, json!([]));

    // The broker loses its record of one cluster (a restored database, say): its deployment
    // is an orphan, listed and left running.
    let db = server.database().await;
    sqlx::query("DELETE FROM broker_operations WHERE instance_id = 'lost'")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("DELETE FROM broker_instances WHERE id = 'lost'")
        .execute(&db)
        .await
        .unwrap();
    let orphans: Value = osb
        .request(Method::GET, "/mgmt/orphan_deployments")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        orphans,
        json!([{"deployment_name": "service-instance_lost"}])
    );
    assert!(clusters(&director)
        .await
        .contains(&"service-instance_lost".to_owned()));
}
