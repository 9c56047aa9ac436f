//! A deployed product's status (`GET /api/v0/deployed/products/:guid/status` and the Status tab)
//! and the pages of Apply Changes (progress, Change Log), against the real binary with its
//! embedded Director stand-in: unknown GUIDs, a product not deployed yet, the instances of a
//! deployed PKS, a VM killed through the stand-in's chaos endpoint going unresponsive and coming
//! back through the resurrector, and the events stream followed with a browser session.

mod common;
mod support;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::director::Director;
use support::pks::*;
use support::*;

async fn status(api: &Api<'_>, guid: &str) -> Value {
    let r = api
        .get(&format!("/api/v0/deployed/products/{guid}/status"))
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    r.body
}

/// Polls the status until `want` holds for the named instance; its entry.
async fn wait_for_instance(
    api: &Api<'_>,
    guid: &str,
    group: &str,
    what: &str,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = status(api, guid).await;
        if let Some(i) = body["status"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["job-name"] == group && i["index"] == 0)
        {
            if want(i) {
                return i.clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "{group}/0 never became {what}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn page(client: &reqwest::Client, server: &TestServer, path: &str) -> String {
    page_with_status(client, server, path, 200).await
}

/// A page and the status it is answered with (an unknown product or installation is a page that
/// says so: `200`, whatever the timing of its data).
async fn page_with_status(
    client: &reqwest::Client,
    server: &TestServer,
    path: &str,
    status: u16,
) -> String {
    let r = client.get(server.at(path)).send().await.unwrap();
    assert_eq!(r.status(), status, "{path}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn status_of_unknown_undeployed_and_deployed_products() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;

    // Unknown GUID: 404 from the API, a message on the page.
    let r = api
        .get("/api/v0/deployed/products/nothing-0123456789abcdef0123/status")
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);
    let html = page_with_status(
        &browser,
        &server,
        "/products/nothing-0123456789abcdef0123/status",
        200,
    )
    .await;
    assert!(html.contains("Status not available"), "{html}");

    // Staged, configured, not deployed yet.
    configure_director(&api).await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let body = status(&api, &guid).await;
    assert_eq!(body, json!({"status": [], "deployed": false}));
    let html = page(&browser, &server, &format!("/products/{guid}/status")).await;
    assert!(html.contains("Not deployed yet"), "{html}");
    // The settings page links to the Status tab.
    let html = page(&browser, &server, &format!("/products/{guid}/settings")).await;
    assert!(html.contains(&format!("/products/{guid}/status")), "{html}");

    let (cert, key) = test_cert();
    let config = tiles::yaml::load(&pks_config_yaml(&cert, &key)).unwrap();
    om_configure_product(&api, &config).await;
    let r = api
        .post(
            "/api/v0/installations",
            json!({"deploy_products": "all", "ignore_warnings": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let id = r.body["install"]["id"].as_i64().unwrap();

    // The events stream, followed with the browser's session cookie, ends with `finished`.
    let events = browser
        .get(server.at(&format!("/api/v0/installations/{id}/events")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    // Never compressed, even when the client accepts gzip: a stream must not wait for a buffer.
    assert!(events.headers().get("content-encoding").is_none());
    assert!(events.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let text = tokio::time::timeout(Duration::from_secs(180), events.text())
        .await
        .expect("the stream ends after `finished`")
        .unwrap();
    assert!(text.contains("event: log"), "{text}");
    assert!(text.contains("event: progress"), "{text}");
    assert!(
        text.contains(r#"event: finished"#) && text.contains(r#""status":"succeeded""#),
        "{text}"
    );

    // The progress page of the finished installation shows its outcome and its whole log.
    let html = page(&browser, &server, &format!("/installations/{id}")).await;
    assert!(html.contains("Changes applied"), "{html}");
    assert!(html.contains("Pivotal Container Service"), "{html}");
    assert!(html.contains("Director task"), "the log: {html}");
    assert!(html.contains("View the Change Log"), "{html}");
    // The Change Log lists it with the product's action.
    let html = page(&browser, &server, "/installations").await;
    assert!(html.contains(&format!("data-id=\"{id}\"")), "{html}");
    assert!(html.contains("ADDED"), "{html}");
    assert!(html.contains(&format!("/installations/{id}")), "{html}");
    // Its free-text search: every word must match somewhere; links keep the search.
    let html = page(&browser, &server, "/installations?q=added+Admin").await;
    assert!(html.contains(&format!("data-id=\"{id}\"")), "{html}");
    let html = page(&browser, &server, "/installations?q=no%20such%20thing").await;
    assert!(!html.contains(&format!("data-id=\"{id}\"")), "{html}");
    assert!(html.contains("No installation matches"), "{html}");
    assert!(
        html.contains("q=no%20such%20thing"),
        "the pager keeps the search: {html}"
    );

    // Deployed: the instances, in Ops Manager's names.
    let body = status(&api, &guid).await;
    assert_eq!(body["deployed"], true);
    let list = body["status"].as_array().unwrap();
    assert!(!list.is_empty(), "{body:#}");
    let api_vm = list
        .iter()
        .find(|i| i["job-name"] == "pivotal-container-service")
        .unwrap_or_else(|| panic!("{body:#}"));
    assert_eq!(api_vm["index"], 0);
    assert_eq!(api_vm["az_name"], "az1");
    assert!(api_vm["cid"].is_string(), "{api_vm:#}");
    assert!(!api_vm["ips"].as_array().unwrap().is_empty(), "{api_vm:#}");
    assert_eq!(api_vm["job_state"], "running", "{api_vm:#}");
    assert!(api_vm["load_avg"].as_array().is_some_and(|l| l.len() == 3));
    assert!(api_vm["memory"]["percent"].is_string(), "{api_vm:#}");
    assert!(
        !api_vm["processes"].as_array().unwrap().is_empty(),
        "{api_vm:#}"
    );
    let html = page(&browser, &server, &format!("/products/{guid}/status")).await;
    assert!(
        html.contains("data-instance=\"pivotal-container-service/0\""),
        "{html}"
    );
    assert!(html.contains(api_vm["cid"].as_str().unwrap()), "{html}");

    // Every open Status tab polls; one Director answer (a task on a real Director) serves all
    // the looks at a deployment for a moment, and a later look asks again.
    let director = Director::of(&api).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let before = director.task_count(&guid).await;
    let (a, b, c) = tokio::join!(
        status(&api, &guid),
        status(&api, &guid),
        status(&api, &guid)
    );
    assert_eq!(a, b);
    assert_eq!(b, c);
    let shared = director.task_count(&guid).await;
    assert_eq!(shared, before + 1, "three looks, one Director task");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    status(&api, &guid).await;
    assert_eq!(director.task_count(&guid).await, shared + 1);

    // A VM killed through the stand-in's chaos endpoint: unresponsive, then resurrected. The
    // resurrector is paused while the test looks at the unresponsive VM (with no VM latency it
    // would otherwise heal it between two looks), then resumed.
    let old_cid = api_vm["cid"].as_str().unwrap().to_owned();
    director.resurrection(true).await;
    let kill = format!("/chaos/deployments/{guid}/instances/pivotal-container-service/0/kill");
    assert_eq!(director.send(Method::POST, &kill, None).await.0, 200);
    let dead = wait_for_instance(
        &api,
        &guid,
        "pivotal-container-service",
        "unresponsive",
        |i| i["job_state"] == "unresponsive agent",
    )
    .await;
    assert_eq!(dead["memory"], Value::Null, "no vitals from a dead agent");
    let html = page(&browser, &server, &format!("/products/{guid}/status")).await;
    assert!(html.contains("unresponsive agent"), "{html}");
    director.resurrection(false).await;
    let healed = wait_for_instance(&api, &guid, "pivotal-container-service", "healed", |i| {
        i["job_state"] == "running"
    })
    .await;
    assert!(healed["cid"].is_string(), "{healed:#}");
    assert_ne!(
        healed["cid"],
        old_cid.as_str(),
        "the resurrector made a new VM"
    );
}

#[tokio::test]
async fn change_log_pages_and_unknown_installations() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let html = page(&browser, &server, "/installations").await;
    assert!(html.contains("No changes have been applied yet."), "{html}");
    let html = page(&browser, &server, "/installations?page=7&per_page=25").await;
    assert!(html.contains("page 1 of 1"), "{html}");
    let html = page_with_status(&browser, &server, "/installations/4242", 200).await;
    assert!(html.contains("Installation not available"), "{html}");
    // Without a session the events stream is refused like the rest of the API.
    let r = reqwest::get(server.at("/api/v0/installations/1/events"))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
