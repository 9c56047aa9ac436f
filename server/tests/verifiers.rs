//! Install-time verifiers through the real server, as om's `disable-director-verifiers` and
//! `disable-product-verifiers` use them (om `api/disable_*_verifiers_service.go`: `GET
//! …/verifiers/install_time` → `{"verifiers": [{"type", "enabled"}]}`, `PUT
//! …/install_time/:type` with `{ "enabled": false }`): each verifier of the bundled PKS tile
//! finds its problem and names the form and field; a failing verifier stops Apply Changes
//! before anything is deployed, and once switched off the apply goes through and its log says
//! the verifier was skipped; unknown GUIDs and types are 404, bad bodies 422. A tile naming
//! Ops Manager's `StaticIpsVerifier` has its jobs' static IPs checked against the network.

mod common;
mod support;

use common::*;
use serde::Deserialize;
use serde_json::{json, Value};
use support::pks::*;
use support::*;

/// om's `api.Verifier`.
#[derive(Debug, Deserialize, PartialEq)]
struct Verifier {
    #[serde(rename = "type")]
    kind: String,
    enabled: bool,
}

/// om's `verifiersResponse`.
#[derive(Debug, Deserialize)]
struct VerifiersResponse {
    verifiers: Vec<Verifier>,
}

const DRAIN_FORCE_NODE: &str = ".properties.plan1_selector.active.kubelet_drain_force_node";

async fn pks_ready() -> (TestServer, String) {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let guid = stage_configured_pks(&Api::login(&server).await).await;
    (server, guid)
}

fn verifiers_of(body: Value) -> Vec<Verifier> {
    serde_json::from_value::<VerifiersResponse>(body)
        .unwrap()
        .verifiers
}

#[tokio::test]
async fn a_failing_verifier_stops_the_apply_until_it_is_switched_off() {
    let (server, guid) = pks_ready().await;
    let api = Api::login(&server).await;
    let base = format!("/api/v0/staged/products/{guid}/verifiers/install_time");
    let listed = verifiers_of(api.get(&base).await.expect(200));
    assert!(listed.contains(&Verifier {
        kind: "PksDrainSettingsVerifier".into(),
        enabled: true
    }));
    assert_eq!(listed.len(), 6, "{listed:?}");

    api.set_property(&guid, DRAIN_FORCE_NODE, json!(true))
        .await
        .expect(200);
    let refused = api
        .post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await
        .expect(422);
    let reasons = refused["errors"][guid.as_str()].to_string();
    assert!(
        reasons.contains(
            "Plan 1 › Force node to drain even if pods are still running after timeout \
             (.properties.plan1_selector.active.kubelet_drain_force_node): a forced drain needs a timeout"
        ),
        "{reasons}"
    );
    let product = &refused["deployment_errors"]["products"][0];
    assert_eq!(product["verifiers"][0]["type"], "PksDrainSettingsVerifier");
    assert_eq!(product["verifiers"][0]["ignorable"], false);
    assert_eq!(api.installations().await["installations"], json!([]));

    // Review shows the finding before anyone clicks Apply: pending_changes and the page.
    let pending = api.pending_changes().await;
    let entry = pending["product_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["guid"] == guid.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["verifiers"][0]["type"], "PksDrainSettingsVerifier");
    let html = api.page("/review").await;
    assert!(
        html.contains("a forced drain needs a timeout"),
        "the Review page does not show the finding"
    );

    // om disable-product-verifiers --product-name pivotal-container-service --type …
    let switched = api
        .put(
            &format!("{base}/PksDrainSettingsVerifier"),
            json!({ "enabled": false }),
        )
        .await
        .expect(200);
    assert_eq!(
        switched,
        json!({"type": "PksDrainSettingsVerifier", "enabled": false})
    );
    let listed = verifiers_of(api.get(&base).await.expect(200));
    assert!(listed.contains(&Verifier {
        kind: "PksDrainSettingsVerifier".into(),
        enabled: false
    }));
    let pending = api.pending_changes().await;
    assert!(!pending.to_string().contains("PksDrainSettingsVerifier"));
    let done = api.apply_to_end(json!({"deploy_products": "all"})).await;
    done.expect("succeeded");
    assert!(
        done.log.contains(&format!(
            "Install-time verifier PksDrainSettingsVerifier of pivotal-container-service ({guid}) is disabled: skipped"
        )),
        "{}",
        done.log
    );
}

#[tokio::test]
async fn each_pks_verifier_names_the_form_and_field() {
    let (server, guid) = pks_ready().await;
    let api = Api::login(&server).await;
    api.set_properties(
        &guid,
        json!({
            ".properties.pks_api_hostname": {"value": "api.other.example.org"},
            ".properties.plan2_selector": {"value": "Plan Active"},
            ".properties.plan2_selector.active.name": {"value": "small"},
            ".properties.plan1_selector.active.max_worker_instances": {"value": 2},
            ".properties.network_selector.flannel.pod_network_cidr": {"value": "10.0.0.0/16"},
            ".properties.plan1_selector.active.addons_spec": {"value": "apiVersion: v1\nkind: [\n"},
            DRAIN_FORCE_NODE: {"value": true},
        }),
    )
    .await
    .expect(200);
    let check = api
        .get(&format!("/api/v0/staged/products/{guid}/pre_deploy_check"))
        .await
        .expect(200);
    let check = &check["pre_deploy_check"];
    assert_eq!(check["complete"], false);
    let found: Vec<(String, String)> = check["verifiers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| {
            let kind = v["type"].as_str().unwrap().to_owned();
            v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |e| (kind.clone(), e.as_str().unwrap().to_owned()))
        })
        .collect();
    let has = |kind: &str, starts: &str, contains: &str| {
        assert!(
            found
                .iter()
                .any(|(k, m)| k == kind && m.starts_with(starts) && m.contains(contains)),
            "{kind}: no '{starts}…{contains}' in {found:#?}"
        );
    };
    has(
        "PksApiCertificateVerifier",
        "PKS API › Certificate to secure the PKS API (.pivotal-container-service.pks_tls): ",
        "does not cover the API Hostname (FQDN) 'api.other.example.org'",
    );
    has(
        "PksPlanNamesVerifier",
        "Plan 2 › Name (.properties.plan2_selector.active.name): ",
        "'small' is already used by Plan 1",
    );
    has(
        "PksWorkerCountsVerifier",
        "Plan 1 › Worker Node Instances (.properties.plan1_selector.active.worker_instances): ",
        "3 workers is more than the plan's Maximum number of workers on a cluster (2)",
    );
    has(
        "PksNetworkCidrsVerifier",
        "Networking › Kubernetes Pod Network CIDR Range",
        "overlaps the Director network 'infra' (subnet 10.0.0.0/24)",
    );
    has(
        "PksAddonsYamlVerifier",
        "Plan 1 › (Optional) Add-ons - Use with caution",
        "document 1 (from line 1) is not YAML",
    );
    has(
        "PksDrainSettingsVerifier",
        "Plan 1 › Force node to drain even if pods are still running after timeout",
        "set Node Drain Timeout (mins) above 0",
    );

    // Each one switched off disappears from the check.
    let base = format!("/api/v0/staged/products/{guid}/verifiers/install_time");
    for kind in [
        "PksApiCertificateVerifier",
        "PksPlanNamesVerifier",
        "PksWorkerCountsVerifier",
        "PksNetworkCidrsVerifier",
        "PksAddonsYamlVerifier",
        "PksDrainSettingsVerifier",
    ] {
        api.put(&format!("{base}/{kind}"), json!({"enabled": false}))
            .await
            .expect(200);
        let check = api
            .get(&format!("/api/v0/staged/products/{guid}/pre_deploy_check"))
            .await
            .expect(200);
        let kinds = check["pre_deploy_check"]["verifiers"].to_string();
        assert!(!kinds.contains(kind), "{kind} still runs: {kinds}");
    }
    let check = api
        .get(&format!("/api/v0/staged/products/{guid}/pre_deploy_check"))
        .await
        .expect(200);
    assert_eq!(check["pre_deploy_check"]["verifiers"], json!([]));
}

#[tokio::test]
async fn director_verifiers_unknown_guids_and_types_and_bad_bodies() {
    let (server, guid) = pks_ready().await;
    let api = Api::login(&server).await;
    let director = "/api/v0/staged/director/verifiers/install_time";
    let listed = verifiers_of(api.get(director).await.expect(200));
    assert_eq!(
        listed,
        vec![
            Verifier {
                kind: "NetworksExistenceVerifier".into(),
                enabled: true
            },
            Verifier {
                kind: "AvailabilityZonesVerifier".into(),
                enabled: true
            },
            Verifier {
                kind: "IaasConfigurationVerifier".into(),
                enabled: true
            },
            Verifier {
                kind: "NetworksPingableVerifier".into(),
                enabled: true
            },
            Verifier {
                kind: "NtpVerifier".into(),
                enabled: true
            },
            Verifier {
                kind: "AllocatedIpAddressVerifier".into(),
                enabled: true
            },
            Verifier {
                kind: "PrivilegeVerifier".into(),
                enabled: true
            },
            Verifier {
                kind: "DirectorConfigurationVerifier".into(),
                enabled: true
            },
        ]
    );
    // om disable-director-verifiers --type AvailabilityZonesVerifier
    api.put(
        &format!("{director}/AvailabilityZonesVerifier"),
        json!({ "enabled": false }),
    )
    .await
    .expect(200);
    assert!(!verifiers_of(api.get(director).await.expect(200))[1].enabled);
    api.put(
        &format!("{director}/AvailabilityZonesVerifier"),
        json!({ "enabled": true }),
    )
    .await
    .expect(200);

    let unknown = "/api/v0/staged/products/nope-00000000000000000000";
    api.get(&format!("{unknown}/verifiers/install_time"))
        .await
        .expect(404);
    api.put(
        &format!("{unknown}/verifiers/install_time/PksPlanNamesVerifier"),
        json!({"enabled": false}),
    )
    .await
    .expect(404);
    api.get(&format!("{unknown}/pre_deploy_check"))
        .await
        .expect(404);
    let base = format!("/api/v0/staged/products/{guid}/verifiers/install_time");
    api.put(&format!("{base}/NoSuchVerifier"), json!({"enabled": false}))
        .await
        .expect(404);
    api.put(
        &format!("{director}/PksPlanNamesVerifier"),
        json!({"enabled": false}),
    )
    .await
    .expect(404);
    for bad in [json!({}), json!({"enabled": "no"}), json!({"enabled": 0})] {
        let refused = api
            .put(&format!("{base}/PksPlanNamesVerifier"), bad.clone())
            .await
            .expect(422);
        assert!(refused["errors"]["enabled"].is_array(), "{bad}: {refused}");
    }
    // Nothing changed by the refusals.
    assert!(verifiers_of(api.get(&base).await.expect(200))
        .iter()
        .all(|v| v.enabled));
    // A read-only principal may list but not switch.
    let viewer = Api::client(&server, "dash", "read_only").await;
    viewer.get(&base).await.expect(200);
    viewer
        .put(
            &format!("{base}/PksPlanNamesVerifier"),
            json!({"enabled": false}),
        )
        .await
        .expect(403);
}

/// `GET /api/v0/staged/products/:guid/pre_deploy_check`, answered 200.
async fn pre_deploy_check(api: &Api<'_>, guid: &str) -> Value {
    api.get(&format!("/api/v0/staged/products/{guid}/pre_deploy_check"))
        .await
        .expect(200)
}

/// Imports the static-IPs tile as `name` (labelled `label`), stages it and places it on the
/// network `infra` in `az1`; its GUID.
async fn stage_on_infra(api: &Api<'_>, name: &str, label: &str) -> String {
    let r = api
        .upload(
            &format!("{name}-1.0.0.pivotal"),
            static_ips_tile_named(name, label),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let guid = api.stage(name, "1.0.0").await;
    api.set_networks_and_azs(
        &guid,
        json!({"network": {"name": "infra"}, "singleton_availability_zone": {"name": "az1"},
               "other_availability_zones": [{"name": "az1"}]}),
    )
    .await
    .expect(200);
    guid
}

/// A tile naming Ops Manager's `StaticIpsVerifier`, with two jobs taking static IPs, named
/// `name` and labelled `label`.
fn static_ips_tile_named(name: &str, label: &str) -> Vec<u8> {
    static_ips_tile(
        name,
        label,
        "[{name: 'Verifiers::StaticIpsVerifier', properties: {}}]",
    )
}

/// Ops Manager's `StaticIpsVerifier`, named by a tile: the operator's static IPs are checked
/// against the Director's network the product is placed on (its subnet's static ranges,
/// reserved ranges) and against each other; the finding names the form and field, stops Apply
/// Changes, and is gone once the addresses are right.
#[tokio::test]
async fn the_static_ips_verifier_checks_the_operators_addresses_against_the_network() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    // The deployment network gets static ranges (configure_director's has none).
    api.put(
        "/api/v0/staged/director/networks",
        json!({"icmp_checks_enabled": false, "networks": [{"name": "infra", "subnets": [{
            "iaas_identifier": "VM Network", "cidr": "10.0.0.0/24", "dns": "8.8.8.8",
            "gateway": "10.0.0.1", "reserved_ip_ranges": "10.0.0.1-10.0.0.10",
            "static_ip_ranges": "10.0.0.20-10.0.0.40",
            "availability_zone_names": ["az1", "az2"]}]}]}),
    )
    .await
    .expect(200);
    let guid = stage_on_infra(&api, "statics", "Statics").await;
    let listed = verifiers_of(
        api.get(&format!(
            "/api/v0/staged/products/{guid}/verifiers/install_time"
        ))
        .await
        .expect(200),
    );
    assert_eq!(
        listed,
        vec![Verifier {
            kind: "StaticIpsVerifier".into(),
            enabled: true
        }]
    );

    // Two web instances (db keeps the tile's one).
    let web = api.resource_config_path(&guid, "web").await;
    api.put(&web, json!({"instances": 2})).await.expect(200);

    // The pre-deploy check's StaticIpsVerifier errors once the jobs have these addresses.
    let findings = |web: &'static str, db: &'static str| {
        let (api, guid) = (&api, &guid);
        async move {
            api.set_properties(
                guid,
                json!({".web.static_ips": {"value": web}, ".db.static_ips": {"value": db}}),
            )
            .await
            .expect(200);
            let check = pre_deploy_check(api, guid).await;
            let verifiers = check["pre_deploy_check"]["verifiers"].as_array().unwrap();
            assert!(verifiers.len() <= 1, "{check:#}");
            verifiers
                .iter()
                .inspect(|v| assert_eq!(v["type"], "StaticIpsVerifier", "{check:#}"))
                .flat_map(|v| serde_json::from_value::<Vec<String>>(v["errors"].clone()).unwrap())
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(
        findings("10.0.0.5, 10.0.0.20-10.0.0.21", "10.0.0.21, 10.0.0.50").await,
        [
            "Addresses › Web static IPs (.web.static_ips): 10.0.0.5 is reserved in subnet 10.0.0.0/24",
            "Addresses › Web static IPs (.web.static_ips): 3 addresses for 2 instances: the \
             Director takes exactly one static IP per instance, so none of these is used until \
             the numbers match",
            "Addresses › DB static IPs (.db.static_ips): 10.0.0.21 is also given to job web",
            "Addresses › DB static IPs (.db.static_ips): 10.0.0.50 is outside the static IPs of \
             subnet 10.0.0.0/24 (10.0.0.20-10.0.0.40)",
            "Addresses › DB static IPs (.db.static_ips): 2 addresses for 1 instance: the \
             Director takes exactly one static IP per instance, so none of these is used until \
             the numbers match",
        ]
    );
    let refused = api
        .post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await
        .expect(422);
    assert!(
        refused["errors"][guid.as_str()]
            .to_string()
            .contains("10.0.0.5 is reserved"),
        "{refused:#}"
    );
    // Right addresses: nothing found.
    assert!(findings("10.0.0.20-10.0.0.21", "10.0.0.22")
        .await
        .is_empty());

    // A second product on the same network may not have the first one's addresses, and the
    // finding names who has them.
    let other = stage_on_infra(&api, "other-statics", "Other Statics").await;
    api.set_properties(&other, json!({".web.static_ips": {"value": "10.0.0.22"}}))
        .await
        .expect(200);
    let check = pre_deploy_check(&api, &other).await;
    assert!(
        check.to_string().contains(
            "Addresses › Web static IPs (.web.static_ips): 10.0.0.22 is also given to job db of \
             Statics"
        ),
        "{check:#}"
    );
    // Review (pending changes) says the same, for both products' sake.
    let pending = api.get("/api/v0/staged/pending_changes").await.expect(200);
    assert!(
        pending
            .to_string()
            .contains("10.0.0.22 is also given to job db of Statics"),
        "{pending:#}"
    );
    api.set_properties(&other, json!({".web.static_ips": {"value": "10.0.0.23"}}))
        .await
        .expect(200);
    let check = pre_deploy_check(&api, &other).await;
    assert!(
        check["pre_deploy_check"]["verifiers"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{check:#}"
    );
}
