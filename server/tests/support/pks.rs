//! The bundled PKS tile configured as `om configure-product -c FILE` would: the YAML file and
//! the requests, shared by the products and installations tests.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use super::Api;

pub const PKS: &str = "pivotal-container-service";

pub fn pks_config_yaml(cert_pem: &str, key_pem: &str) -> String {
    let indent = |s: &str| {
        s.lines()
            .map(|l| format!("        {l}\n"))
            .collect::<String>()
    };
    format!(
        r#"product-name: pivotal-container-service
product-properties:
  .properties.cloud_provider:
    selected_option: vsphere
    value: vSphere
  .properties.cloud_provider.vsphere.vcenter_master_creds:
    value: {{identity: administrator@vsphere.local, password: pks-vcenter-Secret-1}}
  .properties.cloud_provider.vsphere.vcenter_ip: {{value: vcsa.example.com}}
  .properties.cloud_provider.vsphere.vcenter_dc: {{value: dc1}}
  .properties.cloud_provider.vsphere.vcenter_ds: {{value: ds1}}
  .properties.pks_api_hostname: {{value: api.pks.example.com}}
  .properties.plan1_selector: {{value: Plan Active}}
  .properties.plan1_selector.active.master_az_placement: {{value: [az1]}}
  .properties.plan1_selector.active.worker_az_placement: {{value: [az1, az2]}}
  .properties.plan1_selector.active.worker_instances: {{value: "3"}}
  .properties.plan2_selector: {{selected_option: inactive}}
  .properties.plan3_selector: {{option_value: inactive}}
  .pivotal-container-service.pks_tls:
    value:
      cert_pem: |
{cert}      private_key_pem: |
{key}network-properties:
  network: {{name: infra}}
  service_network: {{name: services}}
  singleton_availability_zone: {{name: az1}}
  other_availability_zones: [{{name: az1}}, {{name: az2}}]
resource-config:
  pivotal-container-service:
    instances: 1
    instance_type: {{id: large.disk}}
    persistent_disk: {{size_mb: "20480"}}
    max_in_flight: 20%
    internet_connected: false
errand-config:
  smoke-tests: {{post-deploy-state: false}}
  delete-all-clusters: {{pre-delete-state: default}}
"#,
        cert = indent(cert_pem),
        key = indent(key_pem),
    )
}

/// A certificate for the API hostname and the wildcard over it (tests change the hostname to
/// `api2.pks.example.com`, which the PKS API certificate verifier requires it to cover).
pub fn test_cert() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec![
        "api.pks.example.com".to_owned(),
        "*.pks.example.com".to_owned(),
    ])
    .unwrap();
    (cert.cert.pem(), cert.key_pair.serialize_pem())
}

/// What `om configure-product -c FILE` does, request by request (opsman-and-director-api.md §3).
pub async fn om_configure_product(api: &Api<'_>, config: &Value) {
    // om's guard: no installation may be running.
    let installations = api.ok(Method::GET, "/api/v0/installations", None).await;
    assert_ne!(installations["installations"][0]["status"], "running");
    let guid = api.guid_of(config["product-name"].as_str().unwrap()).await;
    let base = format!("/api/v0/staged/products/{guid}");
    if let Some(n) = config.get("network-properties") {
        api.ok(
            Method::PUT,
            &format!("{base}/networks_and_azs"),
            Some(json!({"networks_and_azs": n})),
        )
        .await;
    }
    if let Some(props) = config.get("product-properties") {
        let current = api
            .ok(
                Method::GET,
                &format!("{base}/properties?redact=false"),
                None,
            )
            .await;
        assert!(current["properties"].is_object());
        let mut props = props.clone();
        for (_, entry) in props.as_object_mut().unwrap() {
            // om mirrors selected_option and option_value.
            let m = entry.as_object_mut().unwrap();
            if let Some(o) = m.get("selected_option").cloned() {
                m.insert("option_value".into(), o);
            }
        }
        api.ok(
            Method::PUT,
            &format!("{base}/properties"),
            Some(json!({"properties": props})),
        )
        .await;
    }
    if let Some(Value::Object(jobs)) = config.get("resource-config") {
        let mut any_max_in_flight = serde_json::Map::new();
        for (job, user) in jobs {
            let job_guid = api.job_guid(&guid, job).await;
            let path = format!("{base}/jobs/{job_guid}/resource_config");
            let mut current = api.ok(Method::GET, &path, None).await;
            for (k, v) in user.as_object().unwrap() {
                current[k] = v.clone(); // om's shallow merge, max_in_flight included
            }
            api.ok(Method::PUT, &path, Some(current)).await;
            if let Some(m) = user.get("max_in_flight") {
                any_max_in_flight.insert(job_guid, m.clone());
            }
        }
        if !any_max_in_flight.is_empty() {
            api.ok(
                Method::PUT,
                &format!("{base}/max_in_flight"),
                Some(json!({"max_in_flight": any_max_in_flight})),
            )
            .await;
        }
    }
    if let Some(Value::Object(errands)) = config.get("errand-config") {
        let current = api.ok(Method::GET, &format!("{base}/errands"), None).await;
        for (name, states) in errands {
            assert!(
                current["errands"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["name"] == name.as_str()),
                "{name}"
            );
            let mut e = json!({"name": name});
            if let Some(v) = states.get("post-deploy-state") {
                e["post_deploy"] = v.clone();
            }
            if let Some(v) = states.get("pre-delete-state") {
                e["pre_delete"] = v.clone();
            }
            api.ok(
                Method::PUT,
                &format!("{base}/errands"),
                Some(json!({"errands": [e]})),
            )
            .await;
        }
    }
    // validate-config-complete
    let pending = api
        .ok(Method::GET, "/api/v0/staged/pending_changes", None)
        .await;
    let entry = pending["product_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["guid"] == guid.as_str())
        .unwrap();
    assert_eq!(
        entry["completeness_checks"]["configuration_complete"], true,
        "{entry:#}"
    );
}

/// The Director configured and PKS staged and configured from the om-style YAML, not yet
/// applied: its GUID.
pub async fn stage_configured_pks(api: &Api<'_>) -> String {
    super::configure_director(api).await;
    let guid = api.stage(PKS, "latest").await;
    let (cert, key) = test_cert();
    let config = tiles::yaml::load(&pks_config_yaml(&cert, &key)).unwrap();
    om_configure_product(api, &config).await;
    guid
}

/// [`stage_configured_pks`], then applied: its GUID once deployed.
pub async fn deploy_pks(api: &Api<'_>) -> String {
    let guid = stage_configured_pks(api).await;
    super::apply_succeeds(api, json!({"deploy_products": "all"})).await;
    guid
}

/// Shows a cluster through the PKS API until its last action has ended: the cluster object.
pub async fn settled_cluster(api: &Api<'_>, name: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = api.get(&format!("/pks/v1/clusters/{name}")).await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        if r.body["last_action_state"] != "in progress" {
            return r.body;
        }
        assert!(Instant::now() < deadline, "{name} still {:#}", r.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
