//! Shared helpers for the Director stand-in's integration tests: start a Director on a temp
//! data dir and talk to it over HTTPS with reqwest, trusting only its generated CA.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use director::{DirectorConfig, RunningDirector};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

pub struct TestDirector {
    pub running: RunningDirector,
    pub http: Client,
    pub dir: std::path::PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

pub const CLOUD_CONFIG: &str = r#"
azs: [{name: z1}, {name: z2}, {name: z3}]
networks:
- name: default
  type: manual
  subnets:
  - {range: 10.0.1.0/24, gateway: 10.0.1.1, az: z1, reserved: [10.0.1.2-10.0.1.9], static: [10.0.1.200-10.0.1.210]}
  - {range: 10.0.2.0/24, gateway: 10.0.2.1, az: z2, reserved: [10.0.2.2-10.0.2.9]}
  - {range: 10.0.3.0/24, gateway: 10.0.3.1, az: z3, reserved: [10.0.3.2-10.0.3.9]}
vm_types: [{name: small}]
disk_types: [{name: "10240", disk_size: 10240}, {name: "20480", disk_size: 20480}]
compilation: {workers: 1, az: z1, vm_type: small, network: default}
"#;

/// A manifest with `instances` web instances, a property value, and an errand group.
pub fn manifest(name: &str, instances: u32, greeting: &str) -> String {
    format!(
        r#"name: {name}
releases: [{{name: app, version: "1.0"}}]
stemcells: [{{alias: default, os: ubuntu-jammy, version: "1.100"}}]
update: {{canaries: 1, max_in_flight: 2, canary_watch_time: 1000, update_watch_time: 1000}}
instance_groups:
- name: web
  azs: [z1, z2, z3]
  instances: {instances}
  vm_type: small
  stemcell: default
  persistent_disk_type: "10240"
  networks: [{{name: default}}]
  jobs:
  - name: server
    release: app
    properties:
      greeting: {greeting}
      admin_password: ((admin_password))
      tls: ((web_tls))
      url: "https://admin:((admin_password))@web.example.com"
- name: smoke-tests
  lifecycle: errand
  azs: [z1]
  instances: 1
  vm_type: small
  stemcell: default
  networks: [{{name: default}}]
  jobs: [{{name: smoke-tests, release: app}}]
variables:
- {{name: admin_password, type: password}}
- {{name: app_ca, type: certificate, options: {{is_ca: true, common_name: app-ca}}}}
- name: web_tls
  type: certificate
  options: {{ca: app_ca, common_name: web.example.com, alternative_names: [web.example.com, 10.0.1.10], extended_key_usage: [server_auth]}}
"#
    )
}

impl TestDirector {
    pub async fn start() -> TestDirector {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut DirectorConfig)) -> TestDirector {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("director");
        let mut t = Self::start_in(&dir, tune).await;
        t._tmp = Some(tmp);
        t
    }

    pub async fn start_in(
        dir: &std::path::Path,
        tune: impl FnOnce(&mut DirectorConfig),
    ) -> TestDirector {
        let mut config = DirectorConfig::new(dir);
        config.heartbeat_ms = 50;
        tune(&mut config);
        let running = director::start(config).await.expect("director starts");
        let ca = reqwest::Certificate::from_pem(running.ca_cert_pem.as_bytes()).expect("CA pem");
        let http = Client::builder()
            .add_root_certificate(ca)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        TestDirector {
            running,
            http,
            dir: dir.to_path_buf(),
            _tmp: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url)
    }

    fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        rb.basic_auth(&self.running.client, Some(&self.running.client_secret))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.auth(self.http.get(self.url(path)))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.expect("json")
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.auth(self.http.request(method, self.url(path)))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_yaml(&self, path: &str, yaml: &str) -> Response {
        self.send(reqwest::Method::POST, path, "text/yaml", yaml.to_string())
            .await
    }

    /// The task id a 302 points at.
    pub fn task_of(response: &Response) -> i64 {
        assert_eq!(
            response.status(),
            StatusCode::FOUND,
            "expected a task redirect"
        );
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("Location header");
        location
            .strip_prefix("/tasks/")
            .and_then(|id| id.parse().ok())
            .expect("Location /tasks/<id>")
    }

    /// Polls a task until it ends; returns its JSON.
    pub async fn wait(&self, id: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let task = self.get_json(&format!("/tasks/{id}")).await;
            let state = task["state"].as_str().unwrap_or_default().to_string();
            if !["queued", "processing", "cancelling"].contains(&state.as_str()) {
                return task;
            }
            assert!(Instant::now() < deadline, "task {id} did not finish");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls a task until a worker has picked it up (or it ended), so a test
    /// never races the worker pool on a slow machine.
    pub async fn wait_started(&self, id: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let task = self.get_json(&format!("/tasks/{id}")).await;
            if task["state"] != "queued" {
                return task;
            }
            assert!(Instant::now() < deadline, "task {id} never started");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Sends a request that answers with a task and waits for it.
    pub async fn run_task(&self, response: Response) -> (i64, Value) {
        let id = Self::task_of(&response);
        (id, self.wait(id).await)
    }

    pub async fn output(&self, id: i64, kind: &str) -> String {
        let r = self.get(&format!("/tasks/{id}/output?type={kind}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.expect("text")
    }

    pub async fn events_of(&self, id: i64) -> Vec<Value> {
        self.output(id, "event")
            .await
            .lines()
            .map(|l| serde_json::from_str(l).expect("event line is JSON"))
            .collect()
    }

    pub async fn result_lines(&self, id: i64) -> Vec<Value> {
        self.output(id, "result")
            .await
            .lines()
            .map(|l| serde_json::from_str(l).expect("result line is JSON"))
            .collect()
    }

    /// Uploads the test release and stemcell by metadata and sets the cloud config.
    pub async fn prepare_director(&self) {
        let release = json!({"name": "app", "version": "1.0", "commit_hash": "abc123",
                             "jobs": [{"name": "server"}, {"name": "smoke-tests"}]});
        let r = self
            .send(
                reqwest::Method::POST,
                "/releases",
                "application/json",
                release.to_string(),
            )
            .await;
        let (_, task) = self.run_task(r).await;
        assert_eq!(task["state"], "done", "release upload: {task}");
        let stemcell = "name: bosh-simulated-ubuntu-jammy-go_agent\nversion: '1.100'\noperating_system: ubuntu-jammy\n";
        let r = self
            .send(
                reqwest::Method::POST,
                "/stemcells",
                "text/yaml",
                stemcell.to_string(),
            )
            .await;
        let (_, task) = self.run_task(r).await;
        assert_eq!(task["state"], "done", "stemcell upload: {task}");
        let r = self
            .post_yaml("/cloud_configs?name=default", CLOUD_CONFIG)
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap_or_default()
        );
    }

    /// Deploys and asserts success; returns the task id.
    pub async fn deploy(&self, yaml: &str) -> i64 {
        let r = self.post_yaml("/deployments", yaml).await;
        let (id, task) = self.run_task(r).await;
        assert_eq!(task["state"], "done", "deploy failed: {task}");
        id
    }

    /// `instances?format=full` as parsed result lines.
    pub async fn instances(&self, deployment: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/deployments/{deployment}/instances?format=full"))
            .await;
        let (id, task) = self.run_task(r).await;
        assert_eq!(task["state"], "done");
        self.result_lines(id).await
    }

    pub async fn stop(self) {
        self.running.shutdown.shutdown().await;
    }
}
