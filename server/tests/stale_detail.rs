//! A refused stale save says what changed, field by field, for the Director and for a product's
//! resources and errands: two operators (two API clients), B saves first, A's save based on the
//! older version is refused with `409` and a `changes` list naming each field B changed, B as
//! the one who changed it, the value before and now — and IaaS secrets only as changed.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::*;

/// One operator: an API client with its own token.
struct Operator<'a> {
    server: &'a TestServer,
    token: String,
    client: reqwest::Client,
}

impl<'a> Operator<'a> {
    async fn new(server: &'a TestServer, name: &str) -> Operator<'a> {
        Operator {
            server,
            token: client_token(server, name, "admin").await,
            client: reqwest::Client::new(),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Value, if_match: Option<i64>) -> Reply {
        let mut request = self
            .client
            .request(method, self.server.at(path))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(v) = if_match {
            request = request.header("if-match", format!("\"{v}\""));
        }
        reply(request.send().await.unwrap()).await
    }

    async fn version_of(&self, path: &str) -> i64 {
        let r = self.send(Method::GET, path, Value::Null, None).await;
        assert_eq!(r.status, 200, "{path}: {:#}", r.body);
        r.etag.unwrap().parse().unwrap()
    }
}

/// The change of `reference` in a 409 body.
fn change<'b>(body: &'b Value, reference: &str) -> &'b Value {
    body["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes list: {body:#}"))
        .iter()
        .find(|c| c["reference"] == reference)
        .unwrap_or_else(|| panic!("{reference} is not among the changes: {body:#}"))
}

#[tokio::test]
async fn a_stale_director_save_names_each_change_by_whom_and_hides_secrets() {
    let server = TestServer::start();
    let admin = Api::login(&server).await;
    configure_director(&admin).await;
    let a = Operator::new(&server, "operator-a").await;
    let b = Operator::new(&server, "operator-b").await;
    let properties = "/api/v0/staged/director/properties";
    let started = a.version_of(properties).await;

    // B: new NTP servers and a new vCenter password.
    let saved = b
        .send(
            Method::PUT,
            properties,
            json!({
                "director_configuration": {"ntp_servers_string": "ntp.b.example"},
                "iaas_configuration": {"vcenter_password": "b-new-secret-Pa55"},
            }),
            Some(started),
        )
        .await;
    assert_eq!(saved.status, 200, "{:#}", saved.body);

    // A, from the older version, saves the Director config and the IaaS page.
    let refused = a
        .send(
            Method::PUT,
            properties,
            json!({
                "director_configuration": {"ntp_servers_string": "ntp.a.example"},
                "iaas_configuration": {"vcenter_host": "vcsa.example.com"},
            }),
            Some(started),
        )
        .await;
    assert_eq!(refused.status, 409, "{:#}", refused.body);
    let body = &refused.body;
    let ntp = change(body, "director_configuration.ntp_servers_string");
    assert_eq!(ntp["changed_by"], "operator-b", "{body:#}");
    assert_eq!(ntp["previous"], "0.pool.ntp.org,1.pool.ntp.org");
    assert_eq!(ntp["value"], "ntp.b.example");
    assert_eq!(ntp["credential"], false);
    let secret = change(body, "iaas_configuration.vcenter_password");
    assert_eq!(secret["changed_by"], "operator-b");
    assert_eq!(secret["credential"], true);
    assert_eq!(secret["value"], "***");
    assert!(secret.get("previous").is_none(), "{secret:#}");
    let text = body.to_string();
    assert!(!text.contains("b-new-secret-Pa55"), "{text}");
    assert!(!text.contains(VCENTER_PASSWORD), "{text}");
    assert_eq!(body["changes"].as_array().unwrap().len(), 2, "{body:#}");

    // A save of another section is told only about that section.
    let azs = "/api/v0/staged/director/availability_zones";
    let refused = a
        .send(
            Method::PUT,
            azs,
            json!({"availability_zones": [{"name": "az1", "clusters": [{"cluster": "c-az1"}]}, {"name": "az2", "clusters": [{"cluster": "c-az2"}]}]}),
            Some(started),
        )
        .await;
    assert_eq!(refused.status, 409, "{:#}", refused.body);
    assert_eq!(refused.body["changes"], json!([]), "{:#}", refused.body);

    // B adds an AZ and a VM type: A's stale saves of those pages name them.
    let current = b.version_of(azs).await;
    let saved = b
        .send(
            Method::POST,
            azs,
            json!({"availability_zone": {"name": "az3", "clusters": [{"cluster": "c-az3"}]}}),
            Some(current),
        )
        .await;
    assert_eq!(saved.status, 200, "{:#}", saved.body);
    let refused = a
        .send(
            Method::PUT,
            azs,
            json!({"availability_zones": [{"name": "az1"}, {"name": "az2"}]}),
            Some(started),
        )
        .await;
    assert_eq!(refused.status, 409);
    let az3 = change(&refused.body, "availability_zones.az3");
    assert_eq!(az3["changed_by"], "operator-b");
    assert_eq!(az3["previous"], Value::Null);
    assert_eq!(az3["value"]["clusters"][0]["cluster"], "c-az3");

    let current = b.version_of("/api/v0/vm_types").await;
    let saved = b
        .send(
            Method::PUT,
            "/api/v0/vm_types",
            json!({"vm_types": [{"name": "b-large", "cpu": 4, "ram": 16384, "ephemeral_disk": 65536}]}),
            Some(current),
        )
        .await;
    assert_eq!(saved.status, 200, "{:#}", saved.body);
    let refused = a
        .send(
            Method::PUT,
            "/api/v0/vm_types",
            json!({"vm_types": [{"name": "a-small", "cpu": 1, "ram": 1024, "ephemeral_disk": 8192}]}),
            Some(started),
        )
        .await;
    assert_eq!(refused.status, 409);
    let large = change(&refused.body, "vm_types.b-large");
    assert_eq!(large["value"]["cpu"], 4);
    assert_eq!(large["changed_by"], "operator-b");
}

#[tokio::test]
async fn a_stale_resource_config_or_errands_save_names_each_change() {
    let server = TestServer::start();
    let admin = Api::login(&server).await;
    configure_director(&admin).await;
    // The example tile: its `no_op` job's instances are configurable, and it has errands.
    let metadata = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/tiles/example-product.yml"
    ))
    .unwrap();
    let uploaded = admin
        .upload(
            "example-product.pivotal",
            pivotal(&[("metadata/example-product.yml", &metadata, true)]),
        )
        .await;
    assert_eq!(uploaded.status, 200, "{:#}", uploaded.body);
    let staged = admin
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": "example-product", "product_version": "1.0-build.0"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let base = format!("/api/v0/staged/products/{guid}");
    let job = admin.job_guid(&guid, "no_op").await;
    let resource = format!("{base}/jobs/{job}/resource_config");
    let a = Operator::new(&server, "operator-a").await;
    let b = Operator::new(&server, "operator-b").await;
    let started = a.version_of(&resource).await;

    // B: two instances, and the example errand only when changed.
    let saved = b
        .send(
            Method::PUT,
            &resource,
            json!({"instances": 2, "instance_type": {"id": "automatic"}, "persistent_disk": {"size_mb": "automatic"}}),
            Some(started),
        )
        .await;
    assert_eq!(saved.status, 200, "{:#}", saved.body);
    let current = b.version_of(&format!("{base}/errands")).await;
    let saved = b
        .send(
            Method::PUT,
            &format!("{base}/errands"),
            json!({"errands": [{"name": "example-errand", "post_deploy": "when-changed"}]}),
            Some(current),
        )
        .await;
    assert_eq!(saved.status, 200, "{:#}", saved.body);

    // A, from the older version: three instances.
    let refused = a
        .send(
            Method::PUT,
            &resource,
            json!({"instances": 3, "instance_type": {"id": "automatic"}, "persistent_disk": {"size_mb": "automatic"}}),
            Some(started),
        )
        .await;
    assert_eq!(refused.status, 409, "{:#}", refused.body);
    let instances = change(&refused.body, "resource-config.no_op.instances");
    assert_eq!(instances["changed_by"], "operator-b");
    assert_eq!(instances["previous"], "automatic");
    assert_eq!(instances["value"], 2);
    // The errand rule is not this job's resources.
    assert_eq!(
        refused.body["changes"].as_array().unwrap().len(),
        1,
        "{:#}",
        refused.body
    );

    // A's errands save, from the older version.
    let refused = a
        .send(
            Method::PUT,
            &format!("{base}/errands"),
            json!({"errands": [{"name": "example-errand", "post_deploy": false}]}),
            Some(started),
        )
        .await;
    assert_eq!(refused.status, 409, "{:#}", refused.body);
    let smoke = change(&refused.body, "errands.example-errand.post_deploy");
    assert_eq!(smoke["changed_by"], "operator-b");
    assert_eq!(smoke["previous"], "default");
    assert_eq!(smoke["value"], "when-changed");
    assert_eq!(refused.body["changes"].as_array().unwrap().len(), 1);

    // max_in_flight is part of the resources: B's instance change is named there too.
    let refused = a
        .send(
            Method::PUT,
            &format!("{base}/max_in_flight"),
            json!({"max_in_flight": {job.clone(): 2}}),
            Some(started),
        )
        .await;
    assert_eq!(refused.status, 409);
    change(&refused.body, "resource-config.no_op.instances");

    // Placement: B chooses the network and AZs; A's stale choice is told each of them.
    let placement = format!("{base}/networks_and_azs");
    let current = b.version_of(&placement).await;
    let saved = b
        .send(
            Method::PUT,
            &placement,
            json!({"networks_and_azs": {
                "network": {"name": "infra"},
                "singleton_availability_zone": {"name": "az1"},
                "other_availability_zones": [{"name": "az1"}, {"name": "az2"}],
            }}),
            Some(current),
        )
        .await;
    assert_eq!(saved.status, 200, "{:#}", saved.body);
    let refused = a
        .send(
            Method::PUT,
            &placement,
            json!({"networks_and_azs": {
                "network": {"name": "services"},
                "singleton_availability_zone": {"name": "az2"},
                "other_availability_zones": [{"name": "az2"}],
            }}),
            Some(started),
        )
        .await;
    assert_eq!(refused.status, 409, "{:#}", refused.body);
    let network = change(&refused.body, "networks_and_azs.network");
    assert_eq!(network["value"], "infra");
    assert_eq!(network["previous"], Value::Null);
    assert_eq!(network["changed_by"], "operator-b");
    let others = change(&refused.body, "networks_and_azs.other_availability_zones");
    assert_eq!(others["value"], json!(["az1", "az2"]));
    change(
        &refused.body,
        "networks_and_azs.singleton_availability_zone",
    );
    assert_eq!(refused.body["changes"].as_array().unwrap().len(), 3);
}
