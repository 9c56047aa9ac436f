//! Products deploying side by side that name the same release and stemcell: the Director gets
//! each uploaded once (one product uploads, the other waits its turn and finds it there).

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::director::Director;
use support::*;

/// A job-less tile naming the release `shared-lib/1.0` (no tarball: registered by its
/// metadata with the stand-in).
fn tile(name: &str) -> Vec<u8> {
    let metadata = format!(
        "name: {name}\nproduct_version: 1.0.0\nmetadata_version: '2.1'\nlabel: {name}\n\
         rank: 1\nminimum_version_for_upgrade: 1.0.0\n\
         stemcell_criteria: {{os: ubuntu-xenial, version: '97.17'}}\n\
         releases:\n- {{name: shared-lib, version: '1.0', file: shared-lib-1.0.tgz}}\n\
         property_blueprints: []\nform_types: []\njob_types: []\npost_deploy_errands: []\n"
    );
    pivotal(&[(&format!("metadata/{name}.yml"), metadata.as_bytes(), true)])
}

async fn stage_placed(api: &Api<'_>, name: &str) -> String {
    let r = api.upload(&format!("{name}.pivotal"), tile(name)).await;
    assert_eq!(r.status, 200, "{name}: {:#}", r.body);
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": name, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{guid}/networks_and_azs"),
        Some(json!({"networks_and_azs": {
            "network": {"name": "infra"},
            "singleton_availability_zone": {"name": "az1"},
            "other_availability_zones": [{"name": "az1"}],
        }})),
    )
    .await;
    guid
}

/// The Director's tasks with this description (all of them: `verbose=2`).
async fn tasks_named(director: &Director, description: &str) -> Vec<Value> {
    let (status, tasks) = director
        .send(Method::GET, "/tasks?limit=10000&verbose=2", None)
        .await;
    assert_eq!(status, 200, "{tasks}");
    tasks
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["description"] == description)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_release_and_stemcell_two_products_share_are_uploaded_once() {
    let server = TestServer::start_with(
        &["--director-vm-create-ms", "0", "--apply-parallelism", "4"],
        Some(ADMIN_PASSWORD),
    );
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let director = Director::of(&api).await;
    let before_releases = tasks_named(&director, "create release").await.len();
    let before_stemcells = tasks_named(&director, "create stemcell").await.len();
    for name in ["share-a", "share-b", "share-c"] {
        stage_placed(&api, name).await;
    }

    let log = apply_succeeds(&api, json!({"deploy_products": "all"})).await;

    // The three products ran in one wave (none depends on another), each through its uploads
    // to its deploy step (job-less tiles: nothing to deploy, as in Ops Manager)…
    for name in ["share-a", "share-b", "share-c"] {
        assert!(
            log.contains(&format!(
                "[{name} 1.0.0] No instance groups: nothing to deploy"
            )),
            "{log}"
        );
    }
    // …and the shared release went up once, named by exactly one of them.
    assert_eq!(
        log.matches("Uploading release shared-lib/1.0").count(),
        1,
        "{log}"
    );
    assert_eq!(
        tasks_named(&director, "create release").await.len(),
        before_releases + 1
    );
    // The stemcell too: at most one upload, whatever the Director had before.
    assert!(
        log.matches("Uploading stemcell ubuntu-xenial 97.17")
            .count()
            <= 1,
        "{log}"
    );
    assert!(tasks_named(&director, "create stemcell").await.len() <= before_stemcells + 1);
    let (_, releases) = director.send(Method::GET, "/releases", None).await;
    let shared: Vec<&Value> = releases
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "shared-lib")
        .collect();
    assert_eq!(shared.len(), 1, "{releases:#}");
    assert_eq!(shared[0]["release_versions"].as_array().unwrap().len(), 1);
}
