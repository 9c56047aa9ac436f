//! Writes without a version (`If-Match`), as om sends them, apply to the current configuration
//! (property and Director writes, and upgrades):
//! concurrent writers are all answered 200 and none loses another's change. (With `If-Match`,
//! a write based on an older version is still refused with 409: see api_products.rs.)

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::json;
use support::pks::PKS;
use support::*;

const ROUNDS: usize = 20;

async fn staged_pks(api: &Api<'_>) -> String {
    configure_director(api).await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    staged["guid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn concurrent_product_writes_without_a_version_all_apply() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let guid = staged_pks(&api).await;
    let path = format!("/api/v0/staged/products/{guid}/properties");

    // Four writers of the same property: every write is answered 200.
    let writers = (0..4).map(|w| {
        let (api, path) = (&api, &path);
        async move {
            let mut statuses = Vec::new();
            for i in 0..ROUNDS {
                let body = json!({"properties": {
                    ".properties.pks_api_hostname": {"value": format!("w{w}-{i}.example.com")},
                }});
                let r = api.put(path, body).await;
                statuses.push((r.status.as_u16(), r.body.to_string()));
            }
            statuses
        }
    });
    let refused: Vec<(u16, String)> = futures_util::future::join_all(writers)
        .await
        .into_iter()
        .flatten()
        .filter(|(status, _)| *status != 200)
        .collect();
    assert!(
        refused.is_empty(),
        "{} of {} writes refused: {:?}",
        refused.len(),
        4 * ROUNDS,
        refused.first()
    );

    // Two writers of different properties: all 200, and each one's last value is stored.
    let hostnames = async {
        let mut refused = 0;
        for i in 0..ROUNDS {
            let body = json!({"properties": {
                ".properties.pks_api_hostname": {"value": format!("h{i}.example.com")},
            }});
            refused += usize::from(api.put(&path, body).await.status != 200);
        }
        refused
    };
    let in_flight = async {
        let mut refused = 0;
        for i in 0..ROUNDS {
            let body = json!({"properties": {
                ".properties.worker_max_in_flight": {"value": 10 + i},
            }});
            refused += usize::from(api.put(&path, body).await.status != 200);
        }
        refused
    };
    let (a, b) = tokio::join!(hostnames, in_flight);
    assert_eq!((a, b), (0, 0), "writes refused of {} each", ROUNDS);
    let props = api.ok(Method::GET, &path, None).await;
    let p = &props["properties"];
    assert_eq!(
        p[".properties.pks_api_hostname"]["value"],
        format!("h{}.example.com", ROUNDS - 1)
    );
    assert_eq!(
        p[".properties.worker_max_in_flight"]["value"],
        10 + ROUNDS - 1
    );

    // With If-Match on an old version the write is still refused.
    let r = api
        .send(
            Method::PUT,
            &path,
            Some(&json!({"properties": {".properties.pks_api_hostname": {"value": "x.example.com"}}})),
            Some(1),
        )
        .await;
    assert_eq!(r.status, 409, "{:#}", r.body);
}

#[tokio::test]
async fn concurrent_director_writes_without_a_version_all_apply() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let path = "/api/v0/staged/director/properties";

    let writer = |key: &'static str, prefix: &'static str| {
        let api = &api;
        async move {
            let mut refused = Vec::new();
            for i in 0..ROUNDS {
                let body = json!({"iaas_configuration": {key: format!("{prefix}-{i}")}});
                let r = api.put(path, body).await;
                if r.status != 200 {
                    refused.push((r.status.as_u16(), r.body.to_string()));
                }
            }
            refused
        }
    };
    let (a, b) = tokio::join!(
        writer("datacenter", "dc"),
        writer("persistent_datastore_names", "ds")
    );
    assert!(
        a.is_empty() && b.is_empty(),
        "{} + {} of {} writes refused: {:?}",
        a.len(),
        b.len(),
        2 * ROUNDS,
        a.first().or(b.first())
    );
    let props = api.ok(Method::GET, path, None).await;
    assert_eq!(
        props["iaas_configuration"]["datacenter"],
        format!("dc-{}", ROUNDS - 1)
    );
    assert_eq!(
        props["iaas_configuration"]["persistent_datastore_names"],
        format!("ds-{}", ROUNDS - 1)
    );
}

#[tokio::test]
async fn an_upgrade_without_a_version_applies_among_concurrent_writes() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let guid = staged_pks(&api).await;
    let versions = ["1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0"];
    for v in versions {
        let r = api
            .upload(&format!("pks-{v}.pivotal"), pks_pivotal(v))
            .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
    }
    let base = format!("/api/v0/staged/products/{guid}");
    let path = format!("{base}/properties");

    // Upgrades (om stage-product: no version) while another client keeps writing a property:
    // every upgrade and every write is answered 200, and none loses the other's change.
    let done = std::sync::atomic::AtomicBool::new(false);
    let writer = async {
        let mut refused = Vec::new();
        let mut last = None;
        let mut i = 0;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            let hostname = format!("h{i}.example.com");
            let body = json!({"properties": {".properties.pks_api_hostname": {"value": hostname}}});
            let r = api.put(&path, body).await;
            if r.status == 200 {
                last = Some(hostname);
            } else {
                refused.push((r.status.as_u16(), r.body.to_string()));
            }
            i += 1;
        }
        (refused, last, i)
    };
    let upgrades = async {
        let mut refused = Vec::new();
        for v in versions {
            let r = api.put(&base, json!({"to_version": v})).await;
            if r.status != 200 {
                refused.push((v, r.status.as_u16(), r.body.to_string()));
            }
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        refused
    };
    let ((writes_refused, last, writes), upgrades_refused) = tokio::join!(writer, upgrades);
    assert!(
        upgrades_refused.is_empty(),
        "{} of {} upgrades refused: {:?}",
        upgrades_refused.len(),
        versions.len(),
        upgrades_refused.first()
    );
    assert!(
        writes_refused.is_empty(),
        "{} of {writes} writes refused: {:?}",
        writes_refused.len(),
        writes_refused.first()
    );
    let list = api.ok(Method::GET, "/api/v0/staged/products", None).await;
    let pks = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == guid.as_str())
        .unwrap();
    assert_eq!(pks["product_version"], "1.6.0");
    let props = api.ok(Method::GET, &path, None).await;
    assert_eq!(
        props["properties"][".properties.pks_api_hostname"]["value"],
        last.expect("a write applied").as_str()
    );

    // With If-Match on an old version the upgrade is still refused.
    let r = api.upload("pks-1.7.0.pivotal", pks_pivotal("1.7.0")).await;
    assert_eq!(r.status, 200);
    let r = api
        .send(
            Method::PUT,
            &base,
            Some(&json!({"to_version": "1.7.0"})),
            Some(1),
        )
        .await;
    assert_eq!(r.status, 409, "{:#}", r.body);
}
