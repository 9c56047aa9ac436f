//! A refused stale save says what changed, field by field, for the Director and for a product's
//! resources and errands: two operators (two API clients), B saves first, A's save based on the
//! older version is refused with `409` and a `changes` list naming each field B changed, B as
//! the one who changed it, the value before and now — and IaaS secrets only as changed.

mod common;
mod support;

use common::*;
use serde_json::{json, Value};
use support::*;

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
    let a = Api::client(&server, "operator-a", "admin").await;
    let b = Api::client(&server, "operator-b", "admin").await;
    let properties = "/api/v0/staged/director/properties";
    let started = a.version_of(properties).await;

    // B: new NTP servers and a new vCenter password.
    b.put_at(
        properties,
        json!({
            "director_configuration": {"ntp_servers_string": "ntp.b.example"},
            "iaas_configuration": {"vcenter_password": "b-new-secret-Pa55"},
        }),
        started,
    )
    .await
    .expect(200);

    // A, from the older version, saves the Director config and the IaaS page.
    let refused = a
        .put_at(
            properties,
            json!({
                "director_configuration": {"ntp_servers_string": "ntp.a.example"},
                "iaas_configuration": {"vcenter_host": "vcsa.example.com"},
            }),
            started,
        )
        .await
        .expect(409);
    let body = &refused;
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
        .put_at(azs, json!({"availability_zones": [{"name": "az1", "clusters": [{"cluster": "c-az1"}]}, {"name": "az2", "clusters": [{"cluster": "c-az2"}]}]}), started)
        .await.expect(409);
    assert_eq!(refused["changes"], json!([]), "{:#}", refused);

    // B adds an AZ and a VM type: A's stale saves of those pages name them.
    let current = b.version_of(azs).await;
    b.post_at(
        azs,
        json!({"availability_zone": {"name": "az3", "clusters": [{"cluster": "c-az3"}]}}),
        current,
    )
    .await
    .expect(200);
    let refused = a
        .put_at(
            azs,
            json!({"availability_zones": [{"name": "az1"}, {"name": "az2"}]}),
            started,
        )
        .await
        .expect(409);
    let az3 = change(&refused, "availability_zones.az3");
    assert_eq!(az3["changed_by"], "operator-b");
    assert_eq!(az3["previous"], Value::Null);
    assert_eq!(az3["value"]["clusters"][0]["cluster"], "c-az3");

    let current = b.version_of("/api/v0/vm_types").await;
    b.put_at(
        "/api/v0/vm_types",
        json!({"vm_types": [{"name": "b-large", "cpu": 4, "ram": 16384, "ephemeral_disk": 65536}]}),
        current,
    )
    .await
    .expect(200);
    let refused = a
        .put_at("/api/v0/vm_types", json!({"vm_types": [{"name": "a-small", "cpu": 1, "ram": 1024, "ephemeral_disk": 8192}]}), started)
        .await.expect(409);
    let large = change(&refused, "vm_types.b-large");
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
    admin
        .upload(
            "example-product.pivotal",
            pivotal(&[("metadata/example-product.yml", &metadata, true)]),
        )
        .await
        .expect(200);
    let guid = admin.stage("example-product", "1.0-build.0").await;
    let base = format!("/api/v0/staged/products/{guid}");
    let job = admin.job_guid(&guid, "no_op").await;
    let resource = format!("{base}/jobs/{job}/resource_config");
    let a = Api::client(&server, "operator-a", "admin").await;
    let b = Api::client(&server, "operator-b", "admin").await;
    let started = a.version_of(&resource).await;

    // B: two instances, and the example errand only when changed.
    b
        .put_at(&resource, json!({"instances": 2, "instance_type": {"id": "automatic"}, "persistent_disk": {"size_mb": "automatic"}}), started)
        .await.expect(200);
    let current = b.version_of(&format!("{base}/errands")).await;
    b.put_at(
        &format!("{base}/errands"),
        json!({"errands": [{"name": "example-errand", "post_deploy": "when-changed"}]}),
        current,
    )
    .await
    .expect(200);

    // A, from the older version: three instances.
    let refused = a
        .put_at(&resource, json!({"instances": 3, "instance_type": {"id": "automatic"}, "persistent_disk": {"size_mb": "automatic"}}), started)
        .await.expect(409);
    let instances = change(&refused, "resource-config.no_op.instances");
    assert_eq!(instances["changed_by"], "operator-b");
    assert_eq!(instances["previous"], "automatic");
    assert_eq!(instances["value"], 2);
    // The errand rule is not this job's resources.
    assert_eq!(
        refused["changes"].as_array().unwrap().len(),
        1,
        "{:#}",
        refused
    );

    // A's errands save, from the older version.
    let refused = a
        .put_at(
            &format!("{base}/errands"),
            json!({"errands": [{"name": "example-errand", "post_deploy": false}]}),
            started,
        )
        .await
        .expect(409);
    let smoke = change(&refused, "errands.example-errand.post_deploy");
    assert_eq!(smoke["changed_by"], "operator-b");
    assert_eq!(smoke["previous"], "default");
    assert_eq!(smoke["value"], "when-changed");
    assert_eq!(refused["changes"].as_array().unwrap().len(), 1);

    // max_in_flight is part of the resources: B's instance change is named there too.
    let refused = a
        .put_at(
            &format!("{base}/max_in_flight"),
            json!({"max_in_flight": {job.clone(): 2}}),
            started,
        )
        .await
        .expect(409);
    change(&refused, "resource-config.no_op.instances");

    // Placement: B chooses the network and AZs; A's stale choice is told each of them.
    let placement = format!("{base}/networks_and_azs");
    let current = b.version_of(&placement).await;
    b.put_at(
        &placement,
        json!({"networks_and_azs": {
            "network": {"name": "infra"},
            "singleton_availability_zone": {"name": "az1"},
            "other_availability_zones": [{"name": "az1"}, {"name": "az2"}],
        }}),
        current,
    )
    .await
    .expect(200);
    let refused = a
        .put_at(
            &placement,
            json!({"networks_and_azs": {
                "network": {"name": "services"},
                "singleton_availability_zone": {"name": "az2"},
                "other_availability_zones": [{"name": "az2"}],
            }}),
            started,
        )
        .await
        .expect(409);
    let network = change(&refused, "networks_and_azs.network");
    assert_eq!(network["value"], "infra");
    assert_eq!(network["previous"], Value::Null);
    assert_eq!(network["changed_by"], "operator-b");
    let others = change(&refused, "networks_and_azs.other_availability_zones");
    assert_eq!(others["value"], json!(["az1", "az2"]));
    change(&refused, "networks_and_azs.singleton_availability_zone");
    assert_eq!(refused["changes"].as_array().unwrap().len(), 3);
}
