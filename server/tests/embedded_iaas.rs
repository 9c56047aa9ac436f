//! The `embedded` IaaS: a fresh Tileworks that drives its embedded Director stand-in starts the
//! Director tile on it, which needs no cloud credentials, datastores or datacenter; PKS staged
//! and configured on it deploys through Apply Changes; the Director can still be switched to a
//! real IaaS (which then asks for its essentials) and back. With a real Director
//! (`--director-url`) the fresh default stays vSphere and `embedded` is refused naming the field.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::pks::*;
use support::*;

/// The Director's placement and networks, as a newcomer types them: names and address ranges
/// only, nothing from a cloud.
async fn configure_embedded_director(api: &Api<'_>) {
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({
            "director_configuration": {"ntp_servers_string": "pool.ntp.org"},
        })),
    )
    .await;
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/availability_zones",
        Some(json!({"availability_zones": [{"name": "az1"}, {"name": "az2"}]})),
    )
    .await;
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/networks",
        Some(json!({
            "networks": [
                {"name": "infra", "subnets": [{
                    "cidr": "10.0.0.0/24", "dns": "8.8.8.8", "gateway": "10.0.0.1",
                    "reserved_ip_ranges": "10.0.0.1-10.0.0.10",
                    "availability_zone_names": ["az1", "az2"]}]},
                {"name": "services", "subnets": [{
                    "cidr": "10.0.4.0/24", "dns": "8.8.8.8", "gateway": "10.0.4.1",
                    "reserved_ip_ranges": "10.0.4.1-10.0.4.10",
                    "availability_zone_names": ["az1", "az2"]}]},
            ],
        })),
    )
    .await;
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/network_and_az",
        Some(json!({"network_and_az": {"network": {"name": "infra"}, "singleton_availability_zone": {"name": "az1"}}})),
    )
    .await;
}

/// The Director tile's state on the dashboard's list (`GET /api/v0/staged/products` has no
/// state; the pending changes list the Director with its completeness).
async fn director_iaas(api: &Api<'_>) -> Value {
    api.get("/api/v0/staged/director/properties")
        .await
        .expect(200)["iaas_configuration"]["iaas"]
        .clone()
}

#[tokio::test]
async fn pks_deploys_on_the_embedded_iaas_without_cloud_credentials() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    // A fresh Tileworks on its stand-in starts on the embedded IaaS, with no essentials.
    assert_eq!(director_iaas(&api).await, "embedded");
    let props = api
        .get("/api/v0/staged/director/properties")
        .await
        .expect(200);
    let iaas = props["iaas_configuration"].as_object().unwrap();
    assert!(
        !iaas.contains_key("vcenter_host") && !iaas.contains_key("datacenter"),
        "{iaas:?}"
    );
    configure_embedded_director(&api).await;

    // The cloud config places AZs and subnets nowhere: the stand-in needs no cloud properties.
    let cloud = api.get("/api/v0/staged/cloud_config").await.expect(200);
    let cloud = &cloud["cloud_config"];
    let azs = cloud["azs"].as_array().expect("azs");
    assert_eq!(azs.len(), 2, "{cloud}");
    for az in azs {
        assert_eq!(az["cloud_properties"], json!({}), "{az}");
    }
    let subnet = &cloud["networks"][0]["subnets"][0];
    assert_eq!(subnet["cloud_properties"], json!({}), "{subnet}");

    // PKS configured with its forms' values; the Kubernetes cloud provider is PKS's own form
    // (IAM profile names, no cloud credentials), the Director's IaaS asks for nothing.
    let guid = api.stage(PKS, "latest").await;
    let (cert, key) = test_cert();
    let mut config = tiles::yaml::load(&pks_config_yaml(&cert, &key)).unwrap();
    let props = config["product-properties"].as_object_mut().unwrap();
    props.retain(|k, _| !k.starts_with(".properties.cloud_provider"));
    props.insert(".properties.cloud_provider".into(), json!({"value": "AWS"}));
    props.insert(
        ".properties.cloud_provider.aws.master_iam_instance_profile".into(),
        json!({"value": "pks-master"}),
    );
    props.insert(
        ".properties.cloud_provider.aws.worker_iam_instance_profile".into(),
        json!({"value": "pks-worker"}),
    );
    om_configure_product(&api, &config).await;
    let log = apply_succeeds(&api, json!({"deploy_products": "all"})).await;
    assert!(log.contains("cloud config"), "{log}");
    assert!(api.deployed_guids().await.contains(&guid));
}

#[tokio::test]
async fn the_director_switches_between_embedded_and_a_real_iaas() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_embedded_director(&api).await;
    let complete = |changes: &Value| -> bool {
        changes["product_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["guid"].as_str().unwrap_or_default().starts_with("p-bosh"))
            .map(|p| p["completeness_checks"]["configuration_complete"] == json!(true))
            .unwrap_or(false)
    };
    assert!(complete(&api.pending_changes().await));

    // vSphere asks for its essentials, named by field.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({"iaas_configuration": {"iaas": "vsphere"}})),
    )
    .await;
    assert_eq!(director_iaas(&api).await, "vsphere");
    assert!(!complete(&api.pending_changes().await));
    let refused = api
        .post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await
        .expect(422);
    assert!(
        refused
            .to_string()
            .contains("iaas_configuration.vcenter_host"),
        "{refused}"
    );

    // And back: nothing asked again.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({"iaas_configuration": {"iaas": "embedded"}})),
    )
    .await;
    assert_eq!(director_iaas(&api).await, "embedded");
    assert!(complete(&api.pending_changes().await));

    // A name no IaaS has is refused naming the field and the choices.
    let refused = api
        .put(
            "/api/v0/staged/director/properties",
            json!({"iaas_configuration": {"iaas": "warden"}}),
        )
        .await
        .expect(422);
    let text = refused.to_string();
    assert!(
        text.contains("iaas_configuration.iaas") && text.contains("embedded"),
        "{text}"
    );
}
