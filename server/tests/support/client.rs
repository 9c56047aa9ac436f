//! The typed test client: the API as om reaches it (a bearer token, JSON in and out, status and
//! ETag kept), with a method for each request the tests repeat — stage a product, set its
//! properties, placement, resources and errands, apply changes to the end, read pending changes
//! and manifests. Methods named for a request return its [`Reply`] where tests look at the
//! status or body; the others expect success and return what the tests read.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{client_token, TestServer, ADMIN_PASSWORD, ADMIN_USER};

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
    /// `Server-Timing`, as the broker's answers carry it.
    pub server_timing: Option<String>,
    pub body: Value,
}

impl<'a> Api<'a> {
    pub async fn login(server: &'a TestServer) -> Api<'a> {
        Self::login_with(server, reqwest::Client::new()).await
    }

    /// [`login`](Self::login) through `client` (one that trusts a test server's HTTPS
    /// certificate).
    pub async fn login_with(server: &'a TestServer, client: reqwest::Client) -> Api<'a> {
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

    /// A client created with the CLI under `name` with `role`, by its own token.
    pub async fn client(server: &'a TestServer, name: &str, role: &str) -> Api<'a> {
        Api {
            server,
            token: client_token(server, name, role).await,
            client: reqwest::Client::new(),
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

    /// A page's HTML as the server renders it for this API client (its token, as a browser's
    /// session would be), whatever the status.
    pub async fn page(&self, path: &str) -> String {
        reqwest::Client::new()
            .get(self.server.at(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The install-time verifier types of a staged product (`GET …/verifiers/install_time`).
    pub async fn verifier_types(&self, guid: &str) -> Vec<String> {
        let listed = self
            .get(&format!(
                "/api/v0/staged/products/{guid}/verifiers/install_time"
            ))
            .await
            .expect(200);
        listed["verifiers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["type"].as_str().unwrap().to_owned())
            .collect()
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
    let server_timing = r
        .headers()
        .get("server-timing")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = r.text().await.unwrap();
    Reply {
        status,
        etag,
        server_timing,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

impl Reply {
    /// A metric's `dur` (milliseconds) in `Server-Timing`.
    pub fn timing(&self, metric: &str) -> Option<f64> {
        self.server_timing.as_deref()?.split(',').find_map(|entry| {
            let mut parts = entry.trim().split(';');
            (parts.next()? == metric).then_some(())?;
            parts.find_map(|p| p.trim().strip_prefix("dur=")?.parse().ok())
        })
    }

    /// Asserts the status (the body in the message); the body.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "{:#}", self.body);
        self.body
    }
}

/// An installation that has ended: its id, final status body and log.
#[derive(Debug)]
pub struct Installation {
    pub id: i64,
    pub status: Value,
    pub log: String,
}

impl Installation {
    /// Asserts how it ended (`succeeded`, `failed`), with the log in the message.
    pub fn expect(&self, status: &str) -> &Self {
        assert_eq!(self.status["status"], status, "{}", self.log);
        self
    }
}

/// A staged product's requests.
fn staged(guid: &str, rest: &str) -> String {
    format!("/api/v0/staged/products/{guid}{rest}")
}

impl Api<'_> {
    /// The ETag version of `path` (200 expected).
    pub async fn version_of(&self, path: &str) -> i64 {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "{path}: {:#}", r.body);
        r.etag.unwrap().parse().unwrap()
    }

    /// `PUT path` with `If-Match: "version"`.
    pub async fn put_at(&self, path: &str, body: Value, version: i64) -> Reply {
        self.send(Method::PUT, path, Some(&body), Some(version))
            .await
    }

    /// `POST path` with `If-Match: "version"`.
    pub async fn post_at(&self, path: &str, body: Value, version: i64) -> Reply {
        self.send(Method::POST, path, Some(&body), Some(version))
            .await
    }

    /// Stages `product` at `version` (200 expected): its GUID.
    pub async fn stage(&self, product: &str, version: &str) -> String {
        let staged = self
            .ok(
                Method::POST,
                "/api/v0/staged/products",
                Some(json!({"name": product, "product_version": version})),
            )
            .await;
        staged["guid"].as_str().unwrap().to_owned()
    }

    /// A staged product's properties (200 expected).
    pub async fn properties(&self, guid: &str) -> Value {
        self.ok(Method::GET, &staged(guid, "/properties"), None)
            .await
    }

    /// `PUT …/properties` with `{"properties": properties}`.
    pub async fn set_properties(&self, guid: &str, properties: Value) -> Reply {
        self.put(
            &staged(guid, "/properties"),
            json!({ "properties": properties }),
        )
        .await
    }

    /// `PUT …/properties` of one property's value.
    pub async fn set_property(&self, guid: &str, name: &str, value: Value) -> Reply {
        self.set_properties(guid, json!({ name: { "value": value } }))
            .await
    }

    /// `PUT …/networks_and_azs` with `{"networks_and_azs": placement}`.
    pub async fn set_networks_and_azs(&self, guid: &str, placement: Value) -> Reply {
        self.put(
            &staged(guid, "/networks_and_azs"),
            json!({ "networks_and_azs": placement }),
        )
        .await
    }

    /// The path of a job's resource config.
    pub async fn resource_config_path(&self, guid: &str, job: &str) -> String {
        let job_guid = self.job_guid(guid, job).await;
        staged(guid, &format!("/jobs/{job_guid}/resource_config"))
    }

    /// `PUT …/errands` with `{"errands": errands}`.
    pub async fn set_errands(&self, guid: &str, errands: Value) -> Reply {
        self.put(&staged(guid, "/errands"), json!({ "errands": errands }))
            .await
    }

    /// The staged manifest of a product (200 expected): `{"manifest": …}`.
    pub async fn staged_manifest(&self, guid: &str) -> Value {
        self.ok(Method::GET, &staged(guid, "/manifest"), None).await
    }

    /// The deployed manifest of a product (200 expected).
    pub async fn deployed_manifest(&self, guid: &str) -> Value {
        self.ok(
            Method::GET,
            &format!("/api/v0/deployed/products/{guid}/manifest"),
            None,
        )
        .await
    }

    /// `GET /api/v0/staged/pending_changes` (200 expected).
    pub async fn pending_changes(&self) -> Value {
        self.ok(Method::GET, "/api/v0/staged/pending_changes", None)
            .await
    }

    /// The pending action of a product (`install`, `update`, `unchanged`, `delete`).
    pub async fn pending_action(&self, guid: &str) -> String {
        let pending = self.pending_changes().await;
        pending["product_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["guid"] == guid)
            .unwrap_or_else(|| panic!("{guid} not in {pending:#}"))["action"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The GUIDs of the deployed products.
    pub async fn deployed_guids(&self) -> Vec<String> {
        let list = self
            .ok(Method::GET, "/api/v0/deployed/products", None)
            .await;
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| p["guid"].as_str().unwrap().to_owned())
            .collect()
    }

    /// `PATCH /api/v0/stemcell_assignments` pinning one product's stemcell version.
    pub async fn assign_stemcell(&self, guid: &str, version: &str) -> Reply {
        let body = json!({"products": [{"guid": guid, "staged_stemcell_version": version}]});
        self.send(
            Method::PATCH,
            "/api/v0/stemcell_assignments",
            Some(&body),
            None,
        )
        .await
    }

    /// The Change Log (`GET /api/v0/installations`, 200 expected).
    pub async fn installations(&self) -> Value {
        self.ok(Method::GET, "/api/v0/installations", None).await
    }

    /// Starts Apply Changes with `body` as `om apply-changes` sends it (200 expected): its id.
    pub async fn start_apply(&self, body: Value) -> i64 {
        let r = self.post("/api/v0/installations", body.clone()).await;
        assert_eq!(r.status, 200, "{body}: {:#}", r.body);
        r.body["install"]["id"].as_i64().unwrap()
    }

    /// Polls like om until the installation ends (at most 180 s: generous for a loaded CI
    /// machine); its final status body, which has `started_at` and `finished_at`.
    pub async fn wait_for(&self, id: i64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        loop {
            let r = self.get(&format!("/api/v0/installations/{id}")).await;
            assert_eq!(r.status, 200, "{:#}", r.body);
            assert!(r.body["started_at"].is_string(), "{:#}", r.body);
            if r.body["status"] != "running" {
                assert!(r.body["finished_at"].is_string(), "{:#}", r.body);
                return r.body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "installation {id} still running"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// An installation's log so far (200 expected).
    pub async fn installation_log(&self, id: i64) -> String {
        let r = self.get(&format!("/api/v0/installations/{id}/logs")).await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        r.body["logs"].as_str().unwrap().to_owned()
    }

    /// Waits (at most 60 s) until an installation's log holds `text`.
    pub async fn wait_for_log(&self, id: i64, text: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let log = self.installation_log(id).await;
            if log.contains(text) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{log}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// An installation's events stream (`text/event-stream`), as the UI opens it.
    pub async fn installation_events(&self, id: i64) -> reqwest::Response {
        self.client
            .get(
                self.server
                    .at(&format!("/api/v0/installations/{id}/events")),
            )
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// Revert: `DELETE /api/v0/staged`.
    pub async fn revert_staged(&self) -> Reply {
        self.send(Method::DELETE, "/api/v0/staged", None, None)
            .await
    }

    /// Apply Changes with `body`, followed to its end.
    pub async fn apply_to_end(&self, body: Value) -> Installation {
        let id = self.start_apply(body).await;
        self.follow(id).await
    }

    /// A started installation followed to its end.
    pub async fn follow(&self, id: i64) -> Installation {
        let status = self.wait_for(id).await;
        let log = self.installation_log(id).await;
        Installation { id, status, log }
    }
}
