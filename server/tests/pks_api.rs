//! The PKS API (`/pks/v1/…`) against the real binary and its embedded Director, with PKS
//! deployed through Apply Changes: plans; a cluster's life by name (create, list, show until
//! it succeeded, resize — the Director deployment's worker count follows —, a kubeconfig
//! naming the cluster, delete); 409 for a taken name, 404 naming an unknown cluster, 422 naming
//! the field; and who may do what: a restricted_control client sees and changes only its own
//! clusters, the view roles list every cluster and change none. The OSB API sees the same
//! instance.

mod common;
mod support;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::director::Director;
use support::osb::*;
use support::pks::settled_cluster;
use support::*;

const VM_CREATE_NOW: [&str; 2] = ["--director-vm-create-ms", "0"];

/// Asserts a `422` naming `field`.
fn invalid(r: &Reply, field: &str) {
    assert_eq!(r.status, 422, "{field}: {:#}", r.body);
    assert!(
        r.body["errors"][field].is_array(),
        "{field} named in {:#}",
        r.body
    );
}

/// The worker count of a cluster's deployment on the Director.
async fn director_workers(director: &Director, uuid: &str) -> Value {
    let (status, deployment) = director
        .send(
            Method::GET,
            &format!("/deployments/service-instance_{uuid}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{deployment}");
    let manifest = tiles::yaml::load(deployment["manifest"].as_str().unwrap()).unwrap();
    manifest["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "worker")
        .unwrap()["instances"]
        .clone()
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_pks_api_end_to_end() {
    let server = TestServer::start_with(&VM_CREATE_NOW, Some(ADMIN_PASSWORD));
    let admin = Api::login(&server).await;

    // Without PKS deployed there are no plans and no clusters.
    assert_eq!(admin.get("/pks/v1/plans").await.status, 404);
    assert_eq!(admin.get("/pks/v1/clusters").await.status, 404);
    // Tileworks tokens only: the broker's basic auth, or nothing, is 401.
    let anonymous = reqwest::Client::new()
        .get(server.at("/pks/v1/clusters"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let guid = deploy_pks_for_broker(&admin, Quotas::default()).await;
    let osb = Osb::of(&admin, &guid).await;
    let director = Director::of(&admin).await;
    let one = Api::client(&server, "rc-one", "restricted_control").await;
    let two = Api::client(&server, "rc-two", "restricted_control").await;
    let viewer = Api::client(&server, "viewer", "restricted_view").await;
    let full_view = Api::client(&server, "full-viewer", "full_view").await;

    // Plans: the catalog's, by name.
    let plans = one.get("/pks/v1/plans").await.expect(200);
    let plan_names: Vec<&str> = names(&plans);
    assert_eq!(plan_names, ["small", "medium"], "{plans:#}");
    assert_eq!(plans[0]["id"], osb.plan_id("small").await.as_str());
    assert_eq!(viewer.get("/pks/v1/plans").await.status, 200);

    // Bad input: 422 naming the field; nothing is created.
    let good = json!({
        "name": "k8s-one",
        "plan_name": "small",
        "parameters": {"kubernetes_master_host": "k8s-one.example.com",
                       "kubernetes_worker_instances": 2},
    });
    let with = |field: &str, value: Value| {
        let mut b = good.clone();
        b[field] = value;
        b
    };
    let params = |p: Value| with("parameters", p);
    let cases = [
        (json!({"plan_name": "small"}), "name"),
        (with("name", json!("a&b")), "name"),
        (with("name", json!(7)), "name"),
        (with("plan_name", json!("huge")), "plan_name"),
        (with("plan_name", Value::Null), "plan_name"),
        (with("parameters", Value::Null), "parameters"),
        (with("parameters", json!([1])), "parameters"),
        (
            params(json!({"kubernetes_worker_instances": 2})),
            "parameters.kubernetes_master_host",
        ),
        (
            params(json!({"kubernetes_master_host": "not a host!"})),
            "kubernetes_master_host",
        ),
        (
            params(json!({"kubernetes_master_host": "h.example.com",
                          "kubernetes_worker_instances": 999})),
            "kubernetes_worker_instances",
        ),
        (
            params(json!({"kubernetes_master_host": "h.example.com",
                          "kubernetes_master_port": 70000})),
            "kubernetes_master_port",
        ),
        (
            params(json!({"kubernetes_master_host": "h.example.com", "flavour": "mint"})),
            "flavour",
        ),
    ];
    for (body, field) in cases {
        invalid(&one.post("/pks/v1/clusters", body).await, field);
    }
    let not_json = reqwest::Client::new()
        .post(server.at("/pks/v1/clusters"))
        .bearer_auth(&one.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 422);
    assert_eq!(one.get("/pks/v1/clusters").await.expect(200), json!([]));

    // A read-only role cannot create.
    for reader in [&viewer, &full_view] {
        let r = reader.post("/pks/v1/clusters", good.clone()).await;
        assert_eq!(r.status, 403, "{:#}", r.body);
    }

    // Create: 202 with the cluster object.
    let r = one.post("/pks/v1/clusters", good.clone()).await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let created = r.body;
    assert_eq!(created["name"], "k8s-one");
    assert_eq!(created["plan_name"], "small");
    assert_eq!(created["last_action"], "CREATE");
    let uuid = created["uuid"].as_str().unwrap().to_owned();
    assert_eq!(uuid.len(), 36, "{uuid}");
    assert_eq!(
        created["parameters"]["kubernetes_master_host"],
        "k8s-one.example.com"
    );
    assert_eq!(created["parameters"]["kubernetes_master_port"], 8443);

    // A name is unique, whoever asks.
    let r = admin.post("/pks/v1/clusters", good.clone()).await;
    assert_eq!(r.status, 409, "{:#}", r.body);
    assert!(r.body.to_string().contains("k8s-one"), "{:#}", r.body);

    // List, then show until it succeeded.
    assert_eq!(
        names(&one.get("/pks/v1/clusters").await.expect(200)),
        ["k8s-one"]
    );
    let cluster = settled_cluster(&one, "k8s-one").await;
    assert_eq!(cluster["last_action"], "CREATE");
    assert_eq!(cluster["last_action_state"], "succeeded", "{cluster:#}");
    assert_eq!(
        cluster["last_action_description"],
        "Instance provisioning completed"
    );
    assert_eq!(cluster["uuid"], uuid.as_str());
    assert_eq!(cluster["parameters"]["kubernetes_worker_instances"], 2);
    let ips = cluster["kubernetes_master_ips"].as_array().unwrap();
    assert!(!ips.is_empty(), "{cluster:#}");
    assert_eq!(director_workers(&director, &uuid).await, 2);
    // The OSB API sees the same instance.
    let instance = osb.instance(&uuid).await.expect(200);
    assert_eq!(instance["plan_id"], osb.plan_id("small").await.as_str());

    // Unknown clusters: 404 naming them.
    for (method, path) in [
        (Method::GET, "/pks/v1/clusters/nobody"),
        (Method::PATCH, "/pks/v1/clusters/nobody"),
        (Method::DELETE, "/pks/v1/clusters/nobody"),
        (Method::POST, "/pks/v1/clusters/nobody/binds"),
    ] {
        let r = admin
            .send(
                method.clone(),
                path,
                Some(&json!({"kubernetes_worker_instances": 2})),
                None,
            )
            .await;
        assert_eq!(r.status, 404, "{method} {path}: {:#}", r.body);
        assert!(r.body.to_string().contains("nobody"), "{:#}", r.body);
    }

    // Another restricted_control client neither sees nor touches it; the view roles see it
    // and change nothing.
    assert_eq!(two.get("/pks/v1/clusters").await.expect(200), json!([]));
    for (method, path) in [
        (Method::GET, "/pks/v1/clusters/k8s-one"),
        (Method::PATCH, "/pks/v1/clusters/k8s-one"),
        (Method::DELETE, "/pks/v1/clusters/k8s-one"),
        (Method::POST, "/pks/v1/clusters/k8s-one/binds"),
    ] {
        let r = two
            .send(
                method.clone(),
                path,
                Some(&json!({"kubernetes_worker_instances": 1})),
                None,
            )
            .await;
        assert_eq!(r.status, 404, "rc-two {method} {path}: {:#}", r.body);
    }
    for reader in [&viewer, &full_view] {
        assert_eq!(
            names(&reader.get("/pks/v1/clusters").await.expect(200)),
            ["k8s-one"]
        );
        assert_eq!(reader.get("/pks/v1/clusters/k8s-one").await.status, 200);
        assert_eq!(reader.delete("/pks/v1/clusters/k8s-one").await.status, 403);
        let r = reader
            .post("/pks/v1/clusters/k8s-one/binds", json!({}))
            .await;
        assert_eq!(r.status, 403, "{:#}", r.body);
    }
    assert_eq!(
        settled_cluster(&admin, "k8s-one").await["last_action"],
        "CREATE"
    );

    // Resize: the Director deployment's worker count follows.
    let r = one
        .send(
            Method::PATCH,
            "/pks/v1/clusters/k8s-one",
            Some(&json!({"kubernetes_worker_instances": 0})),
            None,
        )
        .await;
    invalid(&r, "kubernetes_worker_instances");
    let r = one
        .send(
            Method::PATCH,
            "/pks/v1/clusters/k8s-one",
            Some(&json!({})),
            None,
        )
        .await;
    invalid(&r, "kubernetes_worker_instances");
    let r = one
        .send(
            Method::PATCH,
            "/pks/v1/clusters/k8s-one",
            Some(&json!({"kubernetes_worker_instances": 3})),
            None,
        )
        .await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    assert_eq!(r.body["last_action"], "UPDATE");
    let cluster = settled_cluster(&one, "k8s-one").await;
    assert_eq!(cluster["last_action"], "UPDATE");
    assert_eq!(cluster["last_action_state"], "succeeded", "{cluster:#}");
    assert_eq!(
        cluster["last_action_description"],
        "Instance update completed"
    );
    assert_eq!(cluster["parameters"]["kubernetes_worker_instances"], 3);
    assert_eq!(director_workers(&director, &uuid).await, 3);
    assert_eq!(
        osb.instance(&uuid).await.expect(200)["parameters"]["kubernetes_worker_instances"],
        3,
        "the OSB API agrees"
    );

    // Credentials: a kubeconfig naming the cluster; asked again, the same one.
    let kubeconfig = one
        .post("/pks/v1/clusters/k8s-one/binds", json!({}))
        .await
        .expect(200);
    assert_eq!(kubeconfig["kind"], "Config");
    assert_eq!(kubeconfig["clusters"][0]["name"], "k8s-one");
    assert_eq!(kubeconfig["current-context"], "k8s-one");
    assert_eq!(kubeconfig["contexts"][0]["context"]["cluster"], "k8s-one");
    assert_eq!(
        kubeconfig["clusters"][0]["cluster"]["server"],
        "https://k8s-one.example.com:8443"
    );
    assert!(kubeconfig["users"][0]["user"]["token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    let again = one
        .post("/pks/v1/clusters/k8s-one/binds", json!({}))
        .await
        .expect(200);
    assert_eq!(again, kubeconfig);
    // An administrator manages every cluster.
    assert_eq!(
        admin
            .post("/pks/v1/clusters/k8s-one/binds", json!({}))
            .await
            .status,
        200
    );

    // Delete: 204, then the cluster is being deleted, then gone (from the Director too).
    let r = one.delete("/pks/v1/clusters/k8s-one").await;
    assert_eq!(r.status, 204, "{:#}", r.body);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = one.get("/pks/v1/clusters/k8s-one").await;
        if r.status == 404 {
            break;
        }
        assert_eq!(r.status, 200, "{:#}", r.body);
        assert_eq!(r.body["last_action"], "DELETE", "{:#}", r.body);
        assert!(Instant::now() < deadline, "{:#}", r.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!director
        .deployment_names()
        .await
        .contains(&format!("service-instance_{uuid}")));
    assert_eq!(one.get("/pks/v1/clusters").await.expect(200), json!([]));
}
