//! A product's Resource Config page as the browser reaches it: the UI's server functions
//! (`/_app/product_placement`, `/_app/save_product_placement` with `section=resources`), whose
//! save hands the products service typed resource configs. What it stores is what the Ops
//! Manager API stores for the same values (`GET …/resource_config` reads both the same).

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::pks::PKS;
use support::*;

async fn call(
    browser: &reqwest::Client,
    server: &TestServer,
    endpoint: &str,
    form: &[(&str, String)],
) -> Value {
    let r = browser
        .post(server.at(&format!("/_app/{endpoint}")))
        .form(form)
        .send()
        .await
        .expect("server function");
    let status = r.status();
    let text = r.text().await.expect("body");
    assert!(status.is_success(), "{endpoint}: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{endpoint}: {e}: {text}"))
}

#[tokio::test]
async fn the_resource_config_save_stores_what_the_api_stores() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let job = api.job_guid(&guid, PKS).await;
    let resource = format!("/api/v0/staged/products/{guid}/jobs/{job}/resource_config");
    // Max in flight has its own write: a resource config save keeps it.
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{guid}/max_in_flight"),
        Some(json!({"max_in_flight": {job.clone(): 2}})),
    )
    .await;
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let page = call(
        &browser,
        &server,
        "product_placement",
        &[("guid", guid.clone())],
    )
    .await;
    let save = |page: Value| {
        let (browser, server, guid) = (&browser, &server, &guid);
        async move {
            call(
                browser,
                server,
                "save_product_placement",
                &[
                    ("guid", guid.clone()),
                    ("section", "resources".into()),
                    ("placement_json", page.to_string()),
                ],
            )
            .await
        }
    };
    let before = api.get(&resource).await.etag;

    // A count that is not a number and an unknown VM type: one answer names both fields.
    let mut edited = page.clone();
    edited["jobs"][0]["instances"] = json!("abc");
    edited["jobs"][0]["vm_type"] = json!("huge");
    let refused = save(edited).await;
    let errors = &refused["Invalid"]["errors"];
    assert_eq!(
        errors[format!("resource-config.{PKS}.instances")],
        json!(["'abc' is not a number of instances"]),
        "{refused}"
    );
    assert!(
        errors[format!("resource-config.{PKS}.instance_type")].is_array(),
        "{refused}"
    );
    assert_eq!(api.get(&resource).await.etag, before, "nothing stored");

    // A count as text stays text, a disk chosen by its size stays text, as the API keeps them.
    let mut edited = page.clone();
    edited["jobs"][0]["instances"] = json!("1");
    edited["jobs"][0]["vm_type"] = json!("large.disk");
    edited["jobs"][0]["persistent_disk"] = json!("20480");
    let saved = save(edited).await;
    assert!(saved["Saved"]["config_version"].is_i64(), "{saved}");
    let rc = api.ok(Method::GET, &resource, None).await;
    assert_eq!(rc["instances"], "1");
    assert_eq!(rc["instance_type"]["id"], "large.disk");
    assert_eq!(rc["persistent_disk"]["size_mb"], "20480");
    let mif = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{guid}/max_in_flight"),
            None,
        )
        .await;
    assert_eq!(mif["max_in_flight"][job.as_str()], 2);

    // The same values through the API are stored the same.
    api.ok(
        Method::PUT,
        &resource,
        Some(
            json!({"instances": "1", "instance_type": {"id": "large.disk"},
            "persistent_disk": {"size_mb": "20480"}}),
        ),
    )
    .await;
    assert_eq!(api.ok(Method::GET, &resource, None).await, rc);
    let page = call(
        &browser,
        &server,
        "product_placement",
        &[("guid", guid.clone())],
    )
    .await;
    assert_eq!(page["jobs"][0]["instances"], "1");
    assert_eq!(page["jobs"][0]["persistent_disk"], "20480");

    // Back to automatic: nothing stored for the job but its max in flight.
    let mut edited = page.clone();
    edited["jobs"][0]["instances"] = Value::Null;
    edited["jobs"][0]["vm_type"] = Value::Null;
    edited["jobs"][0]["persistent_disk"] = Value::Null;
    let saved = save(edited).await;
    assert!(saved["Saved"].is_object(), "{saved}");
    let rc = api.ok(Method::GET, &resource, None).await;
    assert_eq!(rc["instances"], "automatic");
    assert_eq!(rc["instance_type"]["id"], "automatic");
    assert_eq!(rc["persistent_disk"]["size_mb"], "automatic");
}
