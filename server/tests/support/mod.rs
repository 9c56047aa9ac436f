//! An om-like API client for the products and Director integration tests: a bearer token from
//! the password grant, JSON in and out, status and headers kept.

#![allow(dead_code)] // each test binary uses a different part

use std::io::{Cursor, Write};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{TestServer, ADMIN_PASSWORD, ADMIN_USER};

pub mod director;
pub mod pks;

pub struct Api<'a> {
    pub server: &'a TestServer,
    pub token: String,
    client: reqwest::Client,
}

/// A response: status, ETag (if any) and the JSON body (`null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub etag: Option<String>,
    pub body: Value,
}

impl<'a> Api<'a> {
    pub async fn login(server: &'a TestServer) -> Api<'a> {
        let client = reqwest::Client::new();
        let body: Value = client
            .post(server.at("/uaa/oauth/token"))
            .basic_auth("opsman", Some(""))
            .form(&[
                ("client_id", "opsman"),
                ("grant_type", "password"),
                ("username", ADMIN_USER),
                ("password", ADMIN_PASSWORD),
                ("token_format", "jwt"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            server,
            token: body["access_token"].as_str().unwrap().to_owned(),
            client,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<i64>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, self.server.at(path))
            .bearer_auth(&self.token)
            // om sends this on every request, GETs included.
            .header("content-type", "application/json");
        if let Some(v) = if_match {
            request = request.header("if-match", format!("\"{v}\""));
        }
        if let Some(b) = body {
            request = request.body(b.to_string());
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(&body), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(&body), None).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, Some(&serde_json::json!({})), None)
            .await
    }

    /// 200 expected; the body.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.send(method.clone(), path, body.as_ref(), None).await;
        assert_eq!(r.status, 200, "{method} {path}: {:#}", r.body);
        r.body
    }

    /// `om upload-product`: multipart `product[file]`.
    pub async fn upload(&self, file_name: &str, bytes: Vec<u8>) -> Reply {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
        let form = reqwest::multipart::Form::new().part("product[file]", part);
        let r = self
            .client
            .post(self.server.at("/api/v0/available_products"))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        reply(r).await
    }

    /// The GUID of a staged product by type.
    pub async fn guid_of(&self, product: &str) -> String {
        let list = self.ok(Method::GET, "/api/v0/staged/products", None).await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["type"] == product)
            .unwrap_or_else(|| panic!("{product} is not staged: {list:#}"))["guid"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The job GUID of a job by name.
    pub async fn job_guid(&self, guid: &str, job: &str) -> String {
        let jobs = self
            .ok(
                Method::GET,
                &format!("/api/v0/staged/products/{guid}/jobs"),
                None,
            )
            .await;
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == job)
            .unwrap_or_else(|| panic!("no job {job}: {jobs:#}"))["guid"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status();
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().trim_matches('"').to_owned());
    let text = r.text().await.unwrap();
    Reply {
        status,
        etag,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

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

/// Starts Apply Changes with `body` (as `om apply-changes` sends it), polls until it ends (at
/// most 180 s: generous for a loaded CI machine) and returns its final status and its log.
pub async fn apply_to_end(api: &Api<'_>, body: Value) -> (Value, String) {
    let r = api.post("/api/v0/installations", body.clone()).await;
    assert_eq!(r.status, 200, "{body}: {:#}", r.body);
    let id = r.body["install"]["id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    loop {
        let status = api
            .ok(Method::GET, &format!("/api/v0/installations/{id}"), None)
            .await;
        if status["status"] != "running" {
            let logs = api
                .ok(
                    Method::GET,
                    &format!("/api/v0/installations/{id}/logs"),
                    None,
                )
                .await;
            let log = logs["logs"].as_str().unwrap_or_default().to_owned();
            return (status, log);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "installation {id} still running"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// [`apply_to_end`], expecting it to succeed: its log.
pub async fn apply_succeeds(api: &Api<'_>, body: Value) -> String {
    let (status, log) = apply_to_end(api, body).await;
    assert_eq!(status["status"], "succeeded", "{log}");
    log
}
