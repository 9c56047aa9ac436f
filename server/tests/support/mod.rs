//! What the products and Director integration tests share: the typed API client
//! ([`client`]), `.pivotal` and stemcell fixtures, and the Director configured as om does it.

#![allow(dead_code)] // each test binary uses a different part

use std::io::{Cursor, Write};

use reqwest::Method;
use serde_json::Value;

pub mod archive;
pub mod client;
pub mod director;
pub mod external_director;
pub mod mariadb;
pub mod osb;
pub mod pks;
pub mod s3;

pub use client::*;

/// A `.pivotal` (zip) in memory from (path, bytes, deflate?).
pub fn pivotal(files: &[(&str, &[u8], bool)]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, deflate) in files {
        let method = if *deflate {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The bundled PKS metadata with another product version.
pub fn pks_metadata_version(version: &str) -> String {
    let text = tiles::products::PKS_METADATA;
    let old = format!("product_version: {}", tiles::products::PKS_VERSION);
    assert!(text.contains(&old), "PKS metadata has no `{old}` line");
    text.replacen(&old, &format!("product_version: {version}"), 1)
}

/// A `.pivotal` of the PKS metadata at `version` (releases are not needed to import).
pub fn pks_pivotal(version: &str) -> Vec<u8> {
    pivotal(&[(
        "metadata/pks.yml",
        pks_metadata_version(version).as_bytes(),
        true,
    )])
}

pub const VCENTER_PASSWORD: &str = "vcenter-secret-Pa55";

/// `om configure-director` for vSphere, as om sends it: properties, AZs (per AZ, POST), networks,
/// network assignment.
pub async fn configure_director(api: &Api<'_>) {
    use serde_json::json;
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({
            "iaas_configuration": {
                "vcenter_host": "vcsa.example.com",
                "vcenter_username": "administrator@vsphere.local",
                "vcenter_password": VCENTER_PASSWORD,
                "datacenter": "dc1",
                "persistent_datastore_names": "ds1",
                "ephemeral_datastore_names": "ds1",
            },
            "director_configuration": {
                "ntp_servers_string": "0.pool.ntp.org,1.pool.ntp.org",
                "resurrector_enabled": true,
                "director_worker_instances": 5,
                "max_threads": 8,
            },
        })),
    )
    .await;
    for az in ["az1", "az2"] {
        api.ok(
            Method::POST,
            "/api/v0/staged/director/availability_zones",
            Some(json!({"availability_zone": {"name": az, "clusters": [{"cluster": format!("c-{az}"), "resource_pool": "rp"}]}})),
        )
        .await;
    }
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/networks",
        Some(json!({
            "icmp_checks_enabled": false,
            "networks": [
                {"name": "infra", "subnets": [{
                    "iaas_identifier": "VM Network", "cidr": "10.0.0.0/24", "dns": "8.8.8.8",
                    "gateway": "10.0.0.1", "reserved_ip_ranges": "10.0.0.1-10.0.0.10",
                    "availability_zone_names": ["az1", "az2"]}]},
                {"name": "services", "subnets": [{
                    "iaas_identifier": "Services", "cidr": "10.0.4.0/24", "dns": "8.8.8.8",
                    "gateway": "10.0.4.1", "reserved_ip_ranges": "10.0.4.1-10.0.4.10",
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

/// A small stemcell `.tgz` (`stemcell.MF` naming `os` `version` for vSphere, and an image).
pub fn stemcell_tarball(os: &str, version: &str) -> Vec<u8> {
    let mf = format!(
        "name: bosh-vsphere-esxi-{os}-go_agent\nversion: '{version}'\nbosh_protocol: 1\n\
         api_version: 3\noperating_system: {os}\nstemcell_formats: [vsphere-ova]\n\
         cloud_properties:\n  infrastructure: vsphere\n  hypervisor: esxi\n"
    );
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in [("stemcell.MF", mf.into_bytes()), ("image", vec![7u8; 4096])] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes.as_slice())
            .unwrap();
    }
    let mut gz = tar.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

/// `om upload-stemcell` (not floating): multipart `stemcell[file]`.
pub async fn om_upload_stemcell(api: &Api<'_>, file_name: &str, bytes: Vec<u8>) -> Reply {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
    let form = reqwest::multipart::Form::new()
        .part("stemcell[file]", part)
        .text("stemcell[floating]", "false");
    let r = reqwest::Client::new()
        .post(api.server.at("/api/v0/stemcells"))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    reply(r).await
}

/// Starts Apply Changes with `body` and follows it to its end: its final status and its log.
pub async fn apply_to_end(api: &Api<'_>, body: Value) -> (Value, String) {
    let ended = api.apply_to_end(body).await;
    (ended.status, ended.log)
}

/// [`apply_to_end`], expecting it to succeed: its log.
pub async fn apply_succeeds(api: &Api<'_>, body: Value) -> String {
    let ended = api.apply_to_end(body).await;
    ended.expect("succeeded");
    ended.log
}

pub mod spec_tile;

/// A loopback TCP port nothing listens on now (bound, then let go) for a server a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A pre-deploy check's verifiers (`GET …/pre_deploy_check`'s `pre_deploy_check.verifiers`):
/// `(type, ignorable, errors)` each.
pub fn verifier_errors(check: &Value) -> Vec<(String, bool, Vec<String>)> {
    check["pre_deploy_check"]["verifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["type"].as_str().unwrap().to_owned(),
                v["ignorable"].as_bool().unwrap(),
                serde_json::from_value(v["errors"].clone()).unwrap(),
            )
        })
        .collect()
}

/// A job-less-release tile `name` (label `label`) whose jobs `web` and `db` take static IPs
/// (`.web.static_ips`, `.db.static_ips`) on its form Addresses; `verifiers` is its
/// `install_time_verifiers` YAML list (`[]` for none).
pub fn static_ips_tile(name: &str, label: &str, verifiers: &str) -> Vec<u8> {
    let metadata = format!(
        r#"name: {name}
product_version: 1.0.0
metadata_version: '2.1'
label: {label}
rank: 1
minimum_version_for_upgrade: 1.0.0
stemcell_criteria: {{os: ubuntu-xenial, version: '97.17'}}
releases: []
install_time_verifiers: {verifiers}
property_blueprints: []
form_types:
- name: ips
  label: Addresses
  property_inputs:
  - {{reference: .web.static_ips, label: Web static IPs}}
  - {{reference: .db.static_ips, label: DB static IPs}}
job_types:
- name: web
  resource_label: Web
  templates: []
  instance_definition: {{name: instances, type: integer, configurable: true, default: 1}}
  resource_definitions: []
  property_blueprints:
  - {{name: static_ips, type: ip_ranges, configurable: true, optional: true}}
- name: db
  resource_label: DB
  templates: []
  instance_definition: {{name: instances, type: integer, configurable: true, default: 1}}
  resource_definitions: []
  property_blueprints:
  - {{name: static_ips, type: ip_ranges, configurable: true, optional: true}}
post_deploy_errands: []
"#
    );
    pivotal(&[(&format!("metadata/{name}.yml"), metadata.as_bytes(), true)])
}
