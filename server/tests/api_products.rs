//! Staging and configuring products through the Ops Manager API, as om does it: a complete PKS
//! configuration from an om `configure-product` YAML file, and the 401/404/409/422 cases.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::pks::*;
use support::*;

#[tokio::test]
async fn om_configures_the_bundled_pks_tile_from_a_yaml_file() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;

    // om stage-product --product-name pivotal-container-service --product-version latest
    let available = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    assert_eq!(available[0]["name"], PKS);
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": available[0]["product_version"]})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    assert!(
        guid.starts_with("pivotal-container-service-") && guid.len() == PKS.len() + 21,
        "{guid}"
    );
    assert_eq!(staged["state"]["state"], "incomplete");
    let report = api.ok(Method::GET, "/api/v0/diagnostic_report", None).await;
    assert!(report["added_products"]["staged"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == PKS));

    let (cert, key) = test_cert();
    let config = tiles::yaml::load(&pks_config_yaml(&cert, &key)).unwrap();
    om_configure_product(&api, &config).await;

    let list = api.ok(Method::GET, "/api/v0/staged/products", None).await;
    let pks = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == PKS)
        .unwrap();
    assert_eq!(pks["state"]["state"], "deployable", "{pks:#}");

    // What om staged-config reads back.
    let base = format!("/api/v0/staged/products/{guid}");
    let props = api
        .ok(Method::GET, &format!("{base}/properties"), None)
        .await;
    let p = &props["properties"];
    assert_eq!(
        p[".properties.pks_api_hostname"]["value"],
        "api.pks.example.com"
    );
    assert_eq!(
        p[".properties.cloud_provider"]["selected_option"],
        "vsphere"
    );
    assert_eq!(
        p[".properties.plan2_selector"]["selected_option"],
        "inactive"
    );
    assert_eq!(
        p[".properties.plan1_selector.active.worker_instances"]["value"],
        3
    );
    assert_eq!(
        p[".properties.cloud_provider.vsphere.vcenter_master_creds"]["value"]["password"],
        "***"
    );
    assert_eq!(
        p[".pivotal-container-service.pks_tls"]["value"]["private_key_pem"],
        "***"
    );
    assert_eq!(p[".pivotal-container-service.pks_tls"]["credential"], true);
    let clear = api
        .ok(
            Method::GET,
            &format!("{base}/properties?redact=false"),
            None,
        )
        .await;
    assert_eq!(
        clear["properties"][".pivotal-container-service.pks_tls"]["value"]["cert_pem"],
        cert.as_str()
    );
    assert_eq!(
        clear["properties"][".properties.cloud_provider.vsphere.vcenter_master_creds"]["value"]
            ["password"],
        "pks-vcenter-Secret-1"
    );
    for file in ["tileworks.db", "tileworks.db-wal"] {
        if let Ok(bytes) = std::fs::read(server.data_dir.path().join(file)) {
            let secret = b"pks-vcenter-Secret-1";
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret),
                "{file} holds a credential"
            );
        }
    }

    let nets = api
        .ok(Method::GET, &format!("{base}/networks_and_azs"), None)
        .await;
    assert_eq!(
        nets["networks_and_azs"]["service_network"]["name"],
        "services"
    );
    let job = api.job_guid(&guid, PKS).await;
    assert!(job.starts_with("pivotal-container-service-"));
    let rc = api
        .ok(
            Method::GET,
            &format!("{base}/jobs/{job}/resource_config"),
            None,
        )
        .await;
    assert_eq!(rc["instances"], 1);
    assert_eq!(rc["instance_type"]["id"], "large.disk");
    assert_eq!(rc["persistent_disk"]["size_mb"], "20480");
    assert_eq!(rc["internet_connected"], false);
    let mif = api
        .ok(Method::GET, &format!("{base}/max_in_flight"), None)
        .await;
    assert_eq!(mif["max_in_flight"][job.as_str()], "20%");
    let errands = api.ok(Method::GET, &format!("{base}/errands"), None).await;
    let smoke = errands["errands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "smoke-tests")
        .unwrap();
    assert_eq!(smoke["post_deploy"], false);
    assert_eq!(smoke["pre_delete"], Value::Null);
    let delete_all = errands["errands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "delete-all-clusters")
        .unwrap();
    assert_eq!(delete_all["pre_delete"], true);

    // Running om configure-product again changes nothing and still succeeds.
    let before = api.get(&format!("{base}/properties")).await.etag.unwrap();
    om_configure_product(&api, &config).await;
    let after = api.get(&format!("{base}/properties")).await.etag.unwrap();
    assert!(after.parse::<i64>().unwrap() >= before.parse::<i64>().unwrap());

    // om stage-product again: "already staged" — same GUID.
    let again = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    assert_eq!(again["guid"], guid.as_str());
}

fn errors(r: &Reply) -> &serde_json::Map<String, Value> {
    r.body["errors"]
        .as_object()
        .unwrap_or_else(|| panic!("no errors ({}): {:#}", r.status, r.body))
}

#[tokio::test]
async fn configuration_writes_are_validated_all_or_nothing_and_versioned() {
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
    let base = format!("/api/v0/staged/products/{guid}");
    let v0: i64 = api
        .get(&format!("{base}/properties"))
        .await
        .etag
        .unwrap()
        .parse()
        .unwrap();

    // One good value and one bad: 422 naming the bad one, and the good one is not stored.
    let r = api
        .put(
            &format!("{base}/properties"),
            json!({"properties": {
                ".properties.pks_api_hostname": {"value": "api.example.com"},
                ".properties.plan1_selector.active.worker_instances": {"value": "lots"},
            }}),
        )
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(errors(&r).contains_key(".properties.plan1_selector.active.worker_instances"));
    assert!(!errors(&r).contains_key(".properties.pks_api_hostname"));
    let props = api
        .ok(Method::GET, &format!("{base}/properties"), None)
        .await;
    assert_eq!(
        props["properties"][".properties.pks_api_hostname"]["value"],
        Value::Null
    );
    assert_eq!(
        api.get(&format!("{base}/properties")).await.etag.unwrap(),
        v0.to_string()
    );

    // Unknown references are 422 too.
    let r = api
        .put(
            &format!("{base}/properties"),
            json!({"properties": {".properties.no_such": {"value": 1}}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(errors(&r).contains_key(".properties.no_such"));
    let r = api
        .put(
            &format!("{base}/properties"),
            json!({"properties": {".properties.pks_api_hostname": "bare"}}),
        )
        .await;
    assert_eq!(r.status, 422);

    // Two operators: A saves on v0, B (also on v0) is refused with what A changed.
    let a = api.send(Method::PUT, &format!("{base}/properties"),
        Some(&json!({"properties": {".properties.pks_api_hostname": {"value": "a.example.com"}}})), Some(v0)).await;
    assert_eq!(a.status, 200, "{:#}", a.body);
    assert_eq!(a.etag.as_deref(), Some((v0 + 1).to_string().as_str()));
    let b = api
        .send(
            Method::PUT,
            &format!("{base}/networks_and_azs"),
            Some(&json!({"networks_and_azs": {"network": {"name": "infra"}}})),
            Some(v0),
        )
        .await;
    assert_eq!(b.status, 409, "{:#}", b.body);
    assert_eq!(b.body["changed"], json!([".properties.pks_api_hostname"]));
    assert_eq!(b.body["config_version"], v0 + 1);
    // om sends no version: its writes apply to the current one.
    api.ok(
        Method::PUT,
        &format!("{base}/networks_and_azs"),
        Some(json!({"networks_and_azs": {"network": {"name": "infra"}}})),
    )
    .await;

    // Placement must name the Director's networks and AZs.
    let r = api
        .put(
            &format!("{base}/networks_and_azs"),
            json!({"networks_and_azs": {
        "network": {"name": "nope"}, "other_availability_zones": [{"name": "az9"}]}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(errors(&r).contains_key("networks_and_azs.network"));
    assert!(errors(&r).contains_key("networks_and_azs.other_availability_zones"));

    // Resource config, max in flight, errands.
    let job = api.job_guid(&guid, PKS).await;
    let r = api
        .put(
            &format!("{base}/jobs/{job}/resource_config"),
            json!({"instances": "many", "instance_type": {"id": "huge"}}),
        )
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(errors(&r).contains_key(&format!("resource-config.{PKS}.instance_type")));
    assert!(
        errors(&r).contains_key(&format!("resource-config.{PKS}.instances")),
        "{:#}",
        r.body
    );
    let r = api
        .get(&format!(
            "{base}/jobs/{PKS}-00000000000000000000/resource_config"
        ))
        .await;
    assert_eq!(r.status, 404);
    let r = api
        .put(
            &format!("{base}/max_in_flight"),
            json!({"max_in_flight": {job.clone(): 0, "nojob-00000000000000000000": 1}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(errors(&r).len(), 2);
    api.ok(
        Method::PUT,
        &format!("{base}/max_in_flight"),
        Some(json!({"max_in_flight": {job.clone(): "3"}})),
    )
    .await;
    let mif = api
        .ok(Method::GET, &format!("{base}/max_in_flight"), None)
        .await;
    assert_eq!(mif["max_in_flight"][job.as_str()], 3);
    let r = api
        .put(
            &format!("{base}/errands"),
            json!({"errands": [
        {"name": "no-such-errand", "post_deploy": true},
        {"name": "delete-all-clusters", "post_deploy": true},
        {"name": "smoke-tests", "post_deploy": "sometimes"}]}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(errors(&r).len(), 3, "{:#}", r.body);
    api.ok(
        Method::PUT,
        &format!("{base}/errands"),
        Some(json!({"errands": [{"name": "smoke-tests", "post_deploy": "when-changed"}]})),
    )
    .await;
    let errands = api.ok(Method::GET, &format!("{base}/errands"), None).await;
    assert!(errands["errands"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == "smoke-tests" && e["post_deploy"] == "when-changed"));

    // Bad JSON.
    let r = api
        .send(Method::PUT, &format!("{base}/properties"), None, None)
        .await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn staging_unstaging_and_missing_things() {
    let server = TestServer::start();
    let client = reqwest::Client::new();
    for (method, path) in [
        (Method::GET, "/api/v0/available_products"),
        (Method::POST, "/api/v0/available_products"),
        (Method::DELETE, "/api/v0/available_products"),
        (Method::GET, "/api/v0/staged/products"),
        (Method::POST, "/api/v0/staged/products"),
        (Method::PUT, "/api/v0/staged/products/x"),
        (Method::DELETE, "/api/v0/staged/products/x"),
        (Method::GET, "/api/v0/deployed/products"),
        (Method::GET, "/api/v0/diagnostic_report"),
        (Method::GET, "/api/v0/staged/products/x/properties"),
        (Method::PUT, "/api/v0/staged/products/x/properties"),
        (Method::GET, "/api/v0/staged/products/x/networks_and_azs"),
        (Method::GET, "/api/v0/staged/products/x/jobs"),
        (
            Method::PUT,
            "/api/v0/staged/products/x/jobs/y/resource_config",
        ),
        (Method::GET, "/api/v0/staged/products/x/max_in_flight"),
        (Method::PUT, "/api/v0/staged/products/x/errands"),
        (Method::GET, "/api/v0/staged/pending_changes"),
    ] {
        let r = client
            .request(method.clone(), server.at(path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
    }

    let api = Api::login(&server).await;
    assert_eq!(
        api.ok(Method::GET, "/api/v0/deployed/products", None).await,
        json!([])
    );
    assert_eq!(
        api.ok(Method::GET, "/api/v0/installations", None).await,
        json!({"installations": []})
    );

    let missing = "/api/v0/staged/products/cf-0123456789abcdef0123";
    for (method, path) in [
        (Method::GET, format!("{missing}/properties")),
        (Method::PUT, format!("{missing}/properties")),
        (Method::GET, format!("{missing}/networks_and_azs")),
        (Method::GET, format!("{missing}/jobs")),
        (Method::GET, format!("{missing}/max_in_flight")),
        (Method::GET, format!("{missing}/errands")),
        (Method::DELETE, missing.to_owned()),
        (Method::PUT, missing.to_owned()),
    ] {
        let body = json!({"properties": {}, "to_version": "1"});
        let r = api.send(method.clone(), &path, Some(&body), None).await;
        assert_eq!(r.status, 404, "{method} {path}: {:#}", r.body);
    }
    let r = api
        .post(
            "/api/v0/staged/products",
            json!({"name": "cf", "product_version": "6.0.1"}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = api
        .post("/api/v0/staged/products", json!({"name": PKS}))
        .await;
    assert_eq!(r.status, 422);

    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap();
    let available = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    assert_eq!(available[0]["staged"], true);
    // Jobs have GUIDs in the same form.
    let jobs = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{guid}/jobs"),
            None,
        )
        .await;
    for j in jobs["jobs"].as_array().unwrap() {
        let name = j["name"].as_str().unwrap();
        assert_eq!(j["guid"].as_str().unwrap().len(), name.len() + 21, "{j}");
    }
    // Generated credentials exist right after staging (and are redacted).
    let props = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{guid}/properties"),
            None,
        )
        .await;
    let generated = props["properties"]
        .as_object()
        .unwrap()
        .values()
        .filter(|p| p["credential"] == true && p["configurable"] == false && !p["value"].is_null())
        .count();
    assert!(generated > 0, "no generated credentials");

    let pbosh = api.guid_of("p-bosh").await;
    assert_eq!(
        api.delete(&format!("/api/v0/staged/products/{pbosh}"))
            .await
            .status,
        422
    );
    let r = api
        .send(
            Method::DELETE,
            &format!(
                "/api/v0/available_products?product_name={PKS}&version={}",
                tiles::products::PKS_VERSION
            ),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 422, "bundled tiles stay");
    api.ok(
        Method::DELETE,
        &format!("/api/v0/staged/products/{guid}"),
        Some(json!({})),
    )
    .await;
    let list = api.ok(Method::GET, "/api/v0/staged/products", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        api.get(&format!("/api/v0/staged/products/{guid}/properties"))
            .await
            .status,
        404
    );
    let deleted = api
        .ok(Method::DELETE, "/api/v0/available_products", None)
        .await;
    assert_eq!(deleted["deleted"], json!([]));
}
