//! The Director tile through the Ops Manager API: IaaS, Director settings, AZs, networks, VM and
//! disk types, the resulting cloud config, 401/404/409/422 cases.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::*;

#[tokio::test]
async fn the_director_is_always_staged_and_om_can_configure_it() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let pbosh = api.guid_of("p-bosh").await;
    assert!(
        pbosh.starts_with("p-bosh-") && pbosh.len() == "p-bosh-".len() + 20,
        "{pbosh}"
    );

    // Before configuration: incomplete, with reasons.
    let list = api.ok(Method::GET, "/api/v0/staged/products", None).await;
    assert_eq!(list[0]["type"], "p-bosh");
    assert_eq!(list[0]["state"]["state"], "incomplete", "{:#}", list[0]);

    configure_director(&api).await;

    // Secrets are redacted unless asked for, and a redacted value sent back keeps the secret.
    let props = api
        .ok(Method::GET, "/api/v0/staged/director/properties", None)
        .await;
    assert_eq!(props["iaas_configuration"]["vcenter_password"], "***");
    assert_eq!(
        props["iaas_configuration"]["vcenter_username"],
        "administrator@vsphere.local"
    );
    assert_eq!(props["iaas_configuration"]["iaas"], "vsphere");
    assert_eq!(props["director_configuration"]["max_threads"], 8);
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({"iaas_configuration": props["iaas_configuration"]})),
    )
    .await;
    let clear = api
        .ok(
            Method::GET,
            "/api/v0/staged/director/properties?redact=false",
            None,
        )
        .await;
    assert_eq!(
        clear["iaas_configuration"]["vcenter_password"],
        VCENTER_PASSWORD
    );

    // The IaaS secret is sealed: not in the database files.
    for file in ["tileworks.db", "tileworks.db-wal"] {
        if let Ok(bytes) = std::fs::read(server.data_dir.path().join(file)) {
            assert!(
                !bytes
                    .windows(VCENTER_PASSWORD.len())
                    .any(|w| w == VCENTER_PASSWORD.as_bytes()),
                "{file} holds the secret"
            );
        }
    }

    let iaas = api
        .ok(
            Method::GET,
            "/api/v0/staged/director/iaas_configurations",
            None,
        )
        .await;
    assert_eq!(iaas["iaas_configurations"][0]["name"], "default");
    assert_eq!(iaas["iaas_configurations"][0]["vcenter_password"], "***");

    let azs = api
        .ok(
            Method::GET,
            "/api/v0/staged/director/availability_zones",
            None,
        )
        .await;
    let azs = azs["availability_zones"].as_array().unwrap().clone();
    assert_eq!(azs.len(), 2);
    assert!(azs[0]["guid"].as_str().unwrap().starts_with("az-"));
    assert_eq!(azs[0]["clusters"][0]["cluster"], "c-az1");
    // om's per-AZ update keeps the GUID.
    let az1 = azs[0]["guid"].as_str().unwrap().to_owned();
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/director/availability_zones/{az1}"),
        Some(json!({"availability_zone": {"name": "az1", "clusters": [{"cluster": "c-new"}]}})),
    )
    .await;
    let azs = api
        .ok(
            Method::GET,
            "/api/v0/staged/director/availability_zones",
            None,
        )
        .await;
    assert_eq!(azs["availability_zones"][0]["guid"], az1.as_str());
    assert_eq!(
        azs["availability_zones"][0]["clusters"][0]["cluster"],
        "c-new"
    );

    let nets = api
        .ok(Method::GET, "/api/v0/staged/director/networks", None)
        .await;
    assert_eq!(nets["networks"][0]["name"], "infra");
    assert!(nets["networks"][0]["guid"]
        .as_str()
        .unwrap()
        .starts_with("network-"));
    assert_eq!(
        nets["networks"][0]["subnets"][0]["reserved_ip_ranges"],
        "10.0.0.1-10.0.0.10"
    );

    // The Director's own placement, also through its networks_and_azs.
    let placement = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{pbosh}/networks_and_azs"),
            None,
        )
        .await;
    assert_eq!(placement["networks_and_azs"]["network"]["name"], "infra");
    // Set there, a product's placement keys the Director does not use are not stored.
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{pbosh}/networks_and_azs"),
        Some(json!({"networks_and_azs": {
            "network": {"name": "infra"}, "singleton_availability_zone": {"name": "az1"},
            "other_availability_zones": [{"name": "az1"}]}})),
    )
    .await;
    let assigned = api
        .ok(Method::GET, "/api/v0/staged/director/network_and_az", None)
        .await;
    assert_eq!(
        assigned["network_and_az"],
        json!({"network": {"name": "infra"}, "singleton_availability_zone": {"name": "az1"}})
    );

    // om configure-director's VM types: DELETE (defaults), GET, PUT.
    api.ok(Method::DELETE, "/api/v0/vm_types", None).await;
    let types = api.ok(Method::GET, "/api/v0/vm_types", None).await;
    assert!(types["vm_types"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["builtin"] == true));
    assert!(types["vm_types"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "large.disk"));
    api.ok(
        Method::PUT,
        "/api/v0/vm_types",
        Some(json!({"vm_types": [
            {"name": "large.disk", "cpu": 2, "ram": 8192, "ephemeral_disk": 65536},
            {"name": "xlarge", "cpu": 4, "ram": 16384, "ephemeral_disk": 32768},
        ]})),
    )
    .await;
    let types = api.ok(Method::GET, "/api/v0/vm_types", None).await;
    assert_eq!(types["vm_types"].as_array().unwrap().len(), 2);
    assert_eq!(types["vm_types"][1]["builtin"], false);

    let disks = api.ok(Method::GET, "/api/v0/disk_types", None).await;
    assert!(disks["disk_types"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["name"] == "10240"));
    api.ok(
        Method::PUT,
        "/api/v0/disk_types",
        Some(json!({"disk_types": [{"disk_size": 10240}, {"name": "big", "disk_size": 102400}]})),
    )
    .await;

    // Jobs and resource config of the Director tile.
    let director_job = api.job_guid(&pbosh, "director").await;
    let compilation = api.job_guid(&pbosh, "compilation").await;
    assert!(director_job.starts_with("director-"));
    let rc = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{pbosh}/jobs/{compilation}/resource_config"),
            None,
        )
        .await;
    assert_eq!(rc["instances"], "automatic");
    let mut rc = rc.clone();
    rc["instances"] = json!(2);
    rc["instance_type"] = json!({"id": "xlarge"});
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{pbosh}/jobs/{compilation}/resource_config"),
        Some(rc),
    )
    .await;

    // The cloud config the settings produce.
    let cloud = api
        .ok(Method::GET, "/api/v0/staged/cloud_config", None)
        .await;
    let cc = &cloud["cloud_config"];
    assert_eq!(
        cc["azs"][0]["cloud_properties"]["datacenters"][0]["name"],
        "dc1"
    );
    assert_eq!(
        cc["azs"][0]["cloud_properties"]["datacenters"][0]["clusters"][0]["c-new"],
        json!({})
    );
    assert_eq!(
        cc["networks"][1]["subnets"][0]["cloud_properties"]["name"],
        "Services"
    );
    assert_eq!(cc["vm_types"].as_array().unwrap().len(), 2);
    assert_eq!(cc["vm_types"][1]["cloud_properties"]["cpu"], 4);
    assert_eq!(cc["disk_types"][1]["name"], "big");
    assert_eq!(cc["compilation"]["workers"], 2);
    assert_eq!(cc["compilation"]["vm_type"], "xlarge");

    let pending = api
        .ok(Method::GET, "/api/v0/staged/pending_changes", None)
        .await;
    let entry = &pending["product_changes"][0];
    assert_eq!(entry["guid"], pbosh.as_str());
    assert_eq!(
        entry["completeness_checks"]["configuration_complete"], true,
        "{entry:#}"
    );
    let list = api.ok(Method::GET, "/api/v0/staged/products", None).await;
    assert_eq!(list[0]["state"]["state"], "deployable", "{:#}", list[0]);

    let report = api.ok(Method::GET, "/api/v0/diagnostic_report", None).await;
    assert_eq!(report["infrastructure_type"], "vsphere");
    assert_eq!(report["added_products"]["staged"][0]["name"], "p-bosh");
}

fn errors(r: &Reply) -> &serde_json::Map<String, Value> {
    r.body["errors"]
        .as_object()
        .unwrap_or_else(|| panic!("no errors: {:#}", r.body))
}

#[tokio::test]
async fn invalid_director_values_are_422_and_change_nothing() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let before = api
        .get("/api/v0/staged/director/properties")
        .await
        .etag
        .unwrap();

    let r = api.put("/api/v0/staged/director/properties", json!({"director_configuration": {
        "ntp_servers_string": "not a host", "director_worker_instances": 0, "resurrector_enabled": "yes"}})).await;
    assert_eq!(r.status, 422);
    let e = errors(&r);
    assert!(
        e.contains_key("director_configuration.ntp_servers_string"),
        "{e:?}"
    );
    assert!(e.contains_key("director_configuration.director_worker_instances"));
    assert!(e.contains_key("director_configuration.resurrector_enabled"));

    let r = api
        .put(
            "/api/v0/staged/director/properties",
            json!({"iaas_configuration": {"iaas": "mainframe"}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(errors(&r).contains_key("iaas_configuration.iaas"));

    // What cannot be read and what the service refuses come back in one answer.
    let r = api
        .put(
            "/api/v0/staged/director/properties",
            json!({"iaas_configuration": {"iaas": "mainframe"},
                "director_configuration": {"canaries": -1},
                "syslog_configuration": "on"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        errors(&r).keys().collect::<Vec<_>>(),
        [
            "director_configuration.canaries",
            "iaas_configuration.iaas",
            "syslog_configuration"
        ],
        "{:#}",
        r.body
    );

    let r = api.put("/api/v0/staged/director/networks", json!({"networks": [{"name": "infra", "subnets": [{
        "iaas_identifier": "x", "cidr": "10.0.0.0/33", "gateway": "10.0.0.1", "availability_zone_names": ["nowhere"]}]}]})).await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    let keys: Vec<&String> = errors(&r).keys().collect();
    assert!(keys.iter().any(|k| k.contains("cidr")), "{keys:?}");
    assert!(keys.iter().any(|k| k.contains("azs")), "{keys:?}");

    // The Director's network cannot disappear; an AZ in use cannot be removed.
    let r = api.put("/api/v0/staged/director/networks", json!({"networks": [{"name": "other", "subnets": [{
        "iaas_identifier": "x", "cidr": "10.1.0.0/24", "gateway": "10.1.0.1", "availability_zone_names": ["az1"]}]}]})).await;
    assert_eq!(r.status, 422);
    let r = api
        .put(
            "/api/v0/staged/director/availability_zones",
            json!({"availability_zones": [{"name": "az2"}]}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(errors(&r)["availability_zones"][0]
        .as_str()
        .unwrap()
        .contains("in use"));

    let r = api
        .put(
            "/api/v0/staged/director/network_and_az",
            json!({"network_and_az": {"network": {"name": "nope"}}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(errors(&r).contains_key("network_and_az.network"));
    // Each key names something, and only the Director's two keys are taken.
    let r = api
        .put(
            "/api/v0/staged/director/network_and_az",
            json!({"network_and_az": {"network": "infra", "singleton_az": {"name": "az1"}}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        errors(&r).keys().collect::<Vec<_>>(),
        ["network_and_az.network", "network_and_az.singleton_az"],
        "{:#}",
        r.body
    );

    let r = api.put("/api/v0/vm_types", json!({"vm_types": [{"name": "a", "cpu": 0, "ram": 1, "ephemeral_disk": 1}, {"name": "a", "cpu": 1, "ram": 1, "ephemeral_disk": 1}]})).await;
    assert_eq!(r.status, 422);
    assert!(errors(&r).contains_key("vm_types[0].cpu"));
    assert!(errors(&r).contains_key("vm_types[1].name"));
    let r = api
        .put("/api/v0/vm_types", json!({"vm_types": "many"}))
        .await;
    assert_eq!(r.status, 422);

    let pbosh = api.guid_of("p-bosh").await;
    let job = api.job_guid(&pbosh, "director").await;
    let r = api
        .put(
            &format!("/api/v0/staged/products/{pbosh}/jobs/{job}/resource_config"),
            json!({"instances": 3, "instance_type": {"id": "huge"}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(errors(&r).contains_key("resource-config.director.instances"));
    assert!(errors(&r).contains_key("resource-config.director.instance_type"));

    let r = api
        .put("/api/v0/staged/director/properties", json!("text"))
        .await;
    assert_eq!(r.status, 422);

    // Nothing of the above was stored.
    assert_eq!(
        api.get("/api/v0/staged/director/properties")
            .await
            .etag
            .unwrap(),
        before
    );
}

/// om `configure-director`'s `security_configuration` and `syslog_configuration` keys: each
/// wrong field is named (section.field), nothing is stored then; a valid section is stored and
/// read back as sent.
#[tokio::test]
async fn security_and_syslog_sections_are_checked_per_field() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let before = api
        .get("/api/v0/staged/director/properties")
        .await
        .etag
        .unwrap();
    let r = api
        .put(
            "/api/v0/staged/director/properties",
            json!({
                "security_configuration": {"trusted_certificates": "not a certificate",
                    "generate_vm_passwords": "yes"},
                "syslog_configuration": {"enabled": true, "address": "logs here!",
                    "port": 70000, "transport_protocol": "ftp", "tls_enabled": true},
            }),
        )
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert_eq!(
        errors(&r).keys().collect::<Vec<_>>(),
        [
            "security_configuration.generate_vm_passwords",
            "security_configuration.trusted_certificates",
            "syslog_configuration.address",
            "syslog_configuration.permitted_peer",
            "syslog_configuration.port",
            "syslog_configuration.ssl_ca_certificate",
            "syslog_configuration.tls_enabled",
            "syslog_configuration.transport_protocol",
        ],
        "{:#}",
        r.body
    );
    assert_eq!(
        api.get("/api/v0/staged/director/properties")
            .await
            .etag
            .unwrap(),
        before
    );

    // Disabled syslog needs nothing else; valid sections are stored as sent.
    let (cert, _) = support::pks::test_cert();
    let security = json!({"trusted_certificates": cert, "generate_vm_passwords": false});
    let syslog = json!({"enabled": true, "address": "logs.example.com", "port": "514",
        "transport_protocol": "tcp", "tls_enabled": true, "permitted_peer": "*.example.com",
        "ssl_ca_certificate": cert});
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({"security_configuration": security, "syslog_configuration": syslog})),
    )
    .await;
    let props = api
        .ok(Method::GET, "/api/v0/staged/director/properties", None)
        .await;
    assert_eq!(props["syslog_configuration"], syslog);
    assert_eq!(props["security_configuration"], security);
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({"syslog_configuration": {"enabled": false}})),
    )
    .await;
}

/// What the Security, Syslog and Resource Config sections save through the API is what the
/// Director's manifest (`GET /api/v0/staged/director/manifest`) renders: the trusted
/// certificates (with the root CA when asked) and generated VM passwords in the `director` job,
/// the syslog forwarder with its settings, the Director VM's type and disk.
#[tokio::test]
async fn saved_sections_render_into_the_director_manifest() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;

    // Before anything is saved: no trusted certificates, no forwarder, the automatic VM.
    let m = api
        .ok(Method::GET, "/api/v0/staged/director/manifest", None)
        .await;
    let group = &m["manifest"]["instance_groups"][0];
    let jobs = |group: &Value| -> Vec<String> {
        group["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(jobs(group), ["director"], "{m:#}");
    assert_eq!(
        group["jobs"][0]["properties"]["director"]["trusted_certs"],
        ""
    );
    assert_eq!(group["vm_type"], "large.disk");

    let (cert, _) = support::pks::test_cert();
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({
            "security_configuration": {"trusted_certificates": cert,
                "generate_vm_passwords": false, "opsmanager_root_ca_trusted_certs": true},
            "syslog_configuration": {"enabled": true, "address": "logs.example.com",
                "port": "6514", "transport_protocol": "tcp", "tls_enabled": true,
                "permitted_peer": "*.example.com", "ssl_ca_certificate": cert},
        })),
    )
    .await;
    let products = api.ok(Method::GET, "/api/v0/staged/products", None).await;
    let bosh = products
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "p-bosh")
        .unwrap()["guid"]
        .as_str()
        .unwrap()
        .to_owned();
    let jobs_list = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{bosh}/jobs"),
            None,
        )
        .await;
    let director_job = jobs_list["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "director")
        .unwrap()["guid"]
        .as_str()
        .unwrap()
        .to_owned();
    let rc_path = format!("/api/v0/staged/products/{bosh}/jobs/{director_job}/resource_config");
    api.ok(
        Method::PUT,
        &rc_path,
        Some(json!({"instances": 1, "instance_type": {"id": "xlarge"},
            "persistent_disk": {"size_mb": "102400"}})),
    )
    .await;

    let m = api
        .ok(Method::GET, "/api/v0/staged/director/manifest", None)
        .await;
    let group = &m["manifest"]["instance_groups"][0];
    assert_eq!(jobs(group), ["director", "syslog_forwarder"], "{m:#}");
    let director = &group["jobs"][0]["properties"]["director"];
    let root = api
        .ok(Method::GET, "/api/v0/security/root_ca_certificate", None)
        .await;
    let root = root["root_ca_certificate_pem"].as_str().unwrap().trim();
    let trusted = director["trusted_certs"].as_str().unwrap();
    assert!(trusted.starts_with(cert.trim()), "{trusted}");
    assert!(trusted.contains(root), "the root CA is trusted when asked");
    assert_eq!(director["generate_vm_passwords"], false);
    let syslog = &group["jobs"][1]["properties"]["syslog"];
    assert_eq!(syslog["address"], "logs.example.com");
    assert_eq!(syslog["port"], 6514);
    assert_eq!(syslog["transport"], "tcp");
    assert_eq!(syslog["tls_enabled"], true);
    assert_eq!(syslog["permitted_peer"], "*.example.com");
    assert_eq!(syslog["ca_cert"].as_str().unwrap().trim(), cert.trim());
    assert_eq!(group["vm_type"], "xlarge");
    assert_eq!(group["persistent_disk"], 102400);

    // A bad Director VM type is a 422 naming the field; the manifest keeps the saved one.
    let r = api
        .put(
            &rc_path,
            json!({"instances": 1, "instance_type": {"id": "huge"}}),
        )
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(
        errors(&r).contains_key("resource-config.director.instance_type"),
        "{:#}",
        r.body
    );
    // Syslog switched off: no forwarder.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({"syslog_configuration": {"enabled": false}})),
    )
    .await;
    let m = api
        .ok(Method::GET, "/api/v0/staged/director/manifest", None)
        .await;
    assert_eq!(jobs(&m["manifest"]["instance_groups"][0]), ["director"]);
    assert_eq!(m["manifest"]["instance_groups"][0]["vm_type"], "xlarge");
}

#[tokio::test]
async fn a_stale_director_save_is_409_and_says_what_changed() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let version: i64 = api
        .get("/api/v0/staged/director/properties")
        .await
        .etag
        .unwrap()
        .parse()
        .unwrap();
    // Operator A saves against the version both read.
    let a = api
        .send(
            Method::PUT,
            "/api/v0/staged/director/properties",
            Some(&json!({"director_configuration": {"ntp_servers_string": "ntp.a.example"}})),
            Some(version),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["config_version"], version + 1);
    // Operator B, still on the old version, is refused.
    let b = api
        .send(
            Method::PUT,
            "/api/v0/staged/director/properties",
            Some(&json!({"director_configuration": {"ntp_servers_string": "ntp.b.example"}})),
            Some(version),
        )
        .await;
    assert_eq!(b.status, 409, "{:#}", b.body);
    assert_eq!(b.body["config_version"], version + 1);
    assert_eq!(
        b.body["changed"],
        json!(["director_configuration.ntp_servers_string"])
    );
    assert!(b.body["errors"]["base"][0]
        .as_str()
        .unwrap()
        .contains("ntp_servers_string"));
    // The body's config_version works like If-Match.
    let b2 = api.put("/api/v0/staged/director/properties",
        json!({"config_version": version, "director_configuration": {"ntp_servers_string": "ntp.b.example"}})).await;
    assert_eq!(b2.status, 409);
    let props = api
        .ok(Method::GET, "/api/v0/staged/director/properties", None)
        .await;
    assert_eq!(
        props["director_configuration"]["ntp_servers_string"],
        "ntp.a.example"
    );
    // With the current version B succeeds.
    let b3 = api
        .send(
            Method::PUT,
            "/api/v0/staged/director/properties",
            Some(&json!({"director_configuration": {"ntp_servers_string": "ntp.b.example"}})),
            Some(version + 1),
        )
        .await;
    assert_eq!(b3.status, 200);
    assert_eq!(b3.body["config_version"], version + 2);
    // The same values again (om re-sends a whole configuration on every run) change nothing:
    // the version stays, so an editor who read it is not made stale by a no-op.
    for _ in 0..2 {
        let same = api
            .send(
                Method::PUT,
                "/api/v0/staged/director/properties",
                Some(&json!({"director_configuration": {"ntp_servers_string": "ntp.b.example"}})),
                Some(version + 2),
            )
            .await;
        assert_eq!(same.status, 200, "{:#}", same.body);
        assert_eq!(same.body["config_version"], version + 2);
    }
}

#[tokio::test]
async fn director_endpoints_need_authentication() {
    let server = TestServer::start();
    let client = reqwest::Client::new();
    for path in [
        "/api/v0/staged/director/properties",
        "/api/v0/staged/director/availability_zones",
        "/api/v0/staged/director/networks",
        "/api/v0/vm_types",
        "/api/v0/staged/cloud_config",
    ] {
        let r = client.get(server.at(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let r = client
            .put(server.at(path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "PUT {path}");
    }
    let api = Api::login(&server).await;
    // Unknown AZ GUID: 404; the cloud config of an unconfigured Director: 422 with reasons.
    let r = api
        .put(
            "/api/v0/staged/director/availability_zones/az-00000000000000000000",
            json!({"availability_zone": {"name": "x"}}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = api.get("/api/v0/staged/cloud_config").await;
    assert_eq!(r.status, 422);
    assert!(r.body["errors"]["azs"].is_array(), "{:#}", r.body);
}
