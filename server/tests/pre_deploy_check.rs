//! `GET /api/v0/staged/director/pre_deploy_check` and `…/staged/products/:guid/pre_deploy_check`
//! decoded into structs that mirror om's (`api/pre_deploy_check_service.go`: `PreDeployCheck`
//! and its parts, every field required here so a missing one fails), on a fresh Director, an
//! unconfigured PKS, both configured, and a Director verifier's finding.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use support::pks::*;
use support::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Output {
    pre_deploy_check: PreDeployCheck,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreDeployCheck {
    identifier: String,
    complete: bool,
    network: Assigned,
    availability_zone: Assigned,
    stemcells: Vec<PreDeployStemcells>,
    properties: Vec<PreDeployProperty>,
    resources: PreDeployResources,
    verifiers: Vec<PreDeployVerifier>,
    /// Tileworks's job-spec check (products only; om ignores the key): tests/job_spec_check.rs.
    #[serde(default)]
    #[allow(dead_code)]
    job_spec_warnings: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Assigned {
    assigned: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // decoded to prove the shape; the library supplies PKS's stemcell here
struct PreDeployStemcells {
    assigned: bool,
    required_stemcell_version: String,
    required_stemcell_os: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreDeployProperty {
    name: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    errors: Vec<String>,
    records: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreDeployResources {
    jobs: Vec<PreDeployJob>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreDeployJob {
    identifier: String,
    guid: String,
    error: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreDeployVerifier {
    #[serde(rename = "type")]
    kind: String,
    errors: Vec<String>,
    ignorable: bool,
}

async fn check(api: &Api<'_>, path: &str) -> PreDeployCheck {
    let body = api.get(path).await.expect(200);
    serde_json::from_value::<Output>(body.clone())
        .unwrap_or_else(|e| panic!("{e}: {body:#}"))
        .pre_deploy_check
}

const DIRECTOR: &str = "/api/v0/staged/director/pre_deploy_check";

#[tokio::test]
async fn the_director_and_a_product_in_oms_shape() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;

    // A fresh Director: nothing configured.
    let fresh = check(&api, DIRECTOR).await;
    assert!(fresh.identifier.starts_with("p-bosh-"), "{fresh:?}");
    assert!(!fresh.complete);
    assert!(!fresh.network.assigned);
    assert!(!fresh.availability_zone.assigned);
    assert!(fresh
        .properties
        .iter()
        .any(|p| p.name == "director_configuration.ntp_servers_string"
            && p.errors == vec!["can't be blank"]));

    // An unconfigured PKS: blank properties with their types, no placement.
    configure_director(&api).await;
    let director = check(&api, DIRECTOR).await;
    assert!(director.complete, "{director:?}");
    assert!(director.network.assigned && director.availability_zone.assigned);
    assert!(director.properties.is_empty() && director.verifiers.is_empty());
    let guid = api.stage(PKS, "latest").await;
    let path = format!("/api/v0/staged/products/{guid}/pre_deploy_check");
    let unconfigured = check(&api, &path).await;
    assert_eq!(unconfigured.identifier, guid);
    assert!(!unconfigured.complete);
    assert!(!unconfigured.network.assigned);
    assert!(!unconfigured.availability_zone.assigned);
    let hostname = unconfigured
        .properties
        .iter()
        .find(|p| p.name == ".properties.pks_api_hostname")
        .unwrap_or_else(|| panic!("{unconfigured:#?}"));
    assert_eq!(hostname.kind.as_deref(), Some("string"));
    assert_eq!(hostname.errors, vec!["can't be blank"]);
    assert!(hostname.records.is_empty());
    // The same problems Review shows (pending_changes' completeness).
    let pending = api.pending_changes().await;
    let entry = pending["product_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["guid"] == guid.as_str())
        .unwrap()
        .clone();
    let mut review: Vec<String> = entry["missing"]
        .as_object()
        .unwrap()
        .keys()
        .chain(entry["invalid"].as_object().unwrap().keys())
        .filter(|k| !k.starts_with("networks_and_azs.") && !k.starts_with("resource-config."))
        .cloned()
        .collect();
    review.sort();
    let mut listed: Vec<String> = unconfigured
        .properties
        .iter()
        .map(|p| p.name.clone())
        .collect();
    listed.sort();
    assert_eq!(listed, review);

    // Configured as om does it: complete.
    let (cert, key) = test_cert();
    let config = tiles::yaml::load(&pks_config_yaml(&cert, &key)).unwrap();
    om_configure_product(&api, &config).await;
    let configured = check(&api, &path).await;
    assert!(configured.complete, "{configured:#?}");
    assert!(configured.network.assigned && configured.availability_zone.assigned);
    assert!(configured.stemcells.is_empty() && configured.resources.jobs.is_empty());

    // A resource problem lands under resources.jobs with the job's GUID: the Director's VM
    // type catalogue no longer has the type PKS's job was given.
    let job = api.job_guid(&guid, "pivotal-container-service").await;
    let replaced = api
        .put(
            "/api/v0/vm_types",
            json!({"vm_types": [{"name": "tiny", "cpu": 1, "ram": 2048, "ephemeral_disk": 16384}]}),
        )
        .await;
    assert_eq!(replaced.status, 200, "{:#}", replaced.body);
    let with_job = check(&api, &path).await;
    assert!(!with_job.complete);
    assert_eq!(with_job.resources.jobs.len(), 1, "{with_job:#?}");
    let j = &with_job.resources.jobs[0];
    assert_eq!(
        (j.identifier.as_str(), j.guid.as_str()),
        ("pivotal-container-service", job.as_str())
    );
    assert!(j.error[0].starts_with("instance_type: "), "{j:?}");
    api.delete("/api/v0/vm_types").await.expect(200);
    assert!(check(&api, &path).await.complete);

    // A Director verifier's finding: the network no longer has a subnet in az2, where PKS
    // balances its jobs.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/networks",
        Some(json!({"icmp_checks_enabled": false, "networks": [
            {"name": "infra", "subnets": [{
                "iaas_identifier": "VM Network", "cidr": "10.0.0.0/24", "dns": "8.8.8.8",
                "gateway": "10.0.0.1", "reserved_ip_ranges": "10.0.0.1-10.0.0.9",
                "availability_zone_names": ["az1"]}]},
            {"name": "services", "subnets": [{
                "iaas_identifier": "Services", "cidr": "10.0.4.0/24", "dns": "8.8.8.8",
                "gateway": "10.0.4.1", "reserved_ip_ranges": "10.0.4.1-10.0.4.9",
                "availability_zone_names": ["az1", "az2"]}]}
        ]})),
    )
    .await;
    let director = check(&api, DIRECTOR).await;
    assert!(!director.complete);
    assert_eq!(director.verifiers.len(), 1, "{director:#?}");
    let v = &director.verifiers[0];
    assert_eq!(v.kind, "AvailabilityZonesVerifier");
    assert!(!v.ignorable);
    assert_eq!(
        v.errors,
        vec![
            "Pivotal Container Service › Assign AZs and Networks › Balance other jobs in \
             (networks_and_azs.other_availability_zones): the network 'infra' has no subnet in \
             the availability zone 'az2'"
        ]
    );
    // …which Apply Changes refuses under the Director's GUID.
    let refused = api
        .post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await
        .expect(422);
    assert!(refused["errors"][director.identifier.as_str()]
        .to_string()
        .contains("has no subnet in the availability zone 'az2'"));
    // om disable-director-verifiers --type AvailabilityZonesVerifier: the check passes.
    api.put(
        "/api/v0/staged/director/verifiers/install_time/AvailabilityZonesVerifier",
        json!({ "enabled": false }),
    )
    .await
    .expect(200);
    let director = check(&api, DIRECTOR).await;
    assert!(
        director.complete && director.verifiers.is_empty(),
        "{director:#?}"
    );
    // Unknown product: 404.
    api.get("/api/v0/staged/products/nope-00000000000000000000/pre_deploy_check")
        .await
        .expect(404);
}
