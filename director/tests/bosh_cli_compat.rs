//! The stand-in against the `bosh` CLI, request for request.
//!
//! The CLI cannot run here, so these tests play its part: every request below uses the path,
//! method, query parameters, headers and body the CLI's Director client (bosh-cli `director/`
//! package, audited at the commit named in README.md) builds for the command named in the
//! comment, and every answer is decoded into a struct mirroring the Go struct the CLI decodes
//! it into, field for field (JSON name and type). Unknown fields are ignored, as Go does. A
//! field the CLI reads is required: a missing or mistyped field fails the test, where Go would
//! silently read a zero value and print nonsense. Where the Director legitimately sends `null`
//! (a Go string or pointer takes it as empty), the field is `Option` but still required.
//!
//! The task protocol is the CLI's too: a `302` is followed with a GET, the task is polled with
//! `GET /tasks/N` and its event output read with `Range: bytes=<offset>-` (`206`, or `416`
//! for "nothing new"), then the result is read whole.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{manifest, TestDirector, CLOUD_CONFIG};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Map, Value};

// ---- response structs (mirrors of the CLI's Go structs) -----------------------------------

/// A field that must be present but may be `null` (a Go string, pointer or map reads `null`
/// as its zero value). Unlike a bare `Option`, a missing key fails.
fn nullable<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

// bosh-cli director/info.go InfoResp
#[derive(Debug, Deserialize)]
struct InfoResp {
    name: String,
    uuid: String,
    version: String,
    #[serde(deserialize_with = "nullable")]
    user: Option<String>,
    user_authentication: UserAuthenticationResp,
    features: HashMap<String, InfoFeatureResp>,
    cpi: String,
    stemcell_os: String,
    stemcell_version: String,
}

// bosh-cli director/info.go UserAuthenticationResp
#[derive(Debug, Deserialize)]
struct UserAuthenticationResp {
    #[serde(rename = "type")]
    auth_type: String,
    options: Map<String, Value>,
}

// bosh-cli director/info.go InfoFeatureResp (extras ignored, as the CLI does)
#[derive(Debug, Deserialize)]
struct InfoFeatureResp {
    status: bool,
}

// bosh-cli uaa/uaa.go TokenResp. UAA sends no refresh token for a client credentials grant;
// the CLI only reads one for user logins, so it may be absent here.
#[derive(Debug, Deserialize)]
struct TokenResp {
    token_type: String,
    access_token: String,
    #[serde(default)]
    #[allow(dead_code)]
    refresh_token: String,
}

// bosh-cli director/task_client_request.go taskShortResp
#[derive(Debug, Deserialize)]
struct TaskShortResp {
    id: i64,
    state: String,
    started_at: i64,
}

// bosh-cli director/tasks.go TaskResp
#[derive(Debug, Clone, Deserialize)]
struct TaskResp {
    id: i64,
    started_at: i64,
    timestamp: i64,
    state: String,
    user: String,
    deployment: String,
    description: String,
    result: String,
    context_id: String,
}

// bosh-cli director/deployments.go DeploymentResp, as `GET /deployments` fills it (the
// list carries no manifest).
#[derive(Debug, Deserialize)]
struct DeploymentResp {
    name: String,
    releases: Vec<DeploymentReleaseResp>,
    stemcells: Vec<DeploymentStemcellResp>,
    teams: Vec<String>,
    cloud_config: String,
}

// bosh-cli director/deployments.go DeploymentResp, as `GET /deployments/:name` fills it
// (`bosh manifest` reads only Manifest).
#[derive(Debug, Deserialize)]
struct DeploymentManifestResp {
    manifest: String,
}

// bosh-cli director/deployments.go DeploymentReleaseResp
#[derive(Debug, Deserialize)]
struct DeploymentReleaseResp {
    name: String,
    version: String,
}

// bosh-cli director/deployments.go DeploymentStemcellResp
#[derive(Debug, Deserialize)]
struct DeploymentStemcellResp {
    name: String,
    version: String,
}

// bosh-cli director/diff.go DeploymentDiffResponse
#[derive(Debug, Deserialize)]
struct DeploymentDiffResponse {
    context: Map<String, Value>,
    diff: Vec<Vec<Value>>,
}

// bosh-cli director/vms.go VMInfo (Deployment and VMCreatedAt are filled by the CLI itself;
// resource_pool is gone from current Directors and read as empty).
#[derive(Debug, Deserialize)]
struct VmInfo {
    #[serde(deserialize_with = "nullable")]
    agent_id: Option<String>,
    job_name: String,
    id: String,
    #[serde(deserialize_with = "nullable")]
    index: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    job_state: Option<String>,
    #[serde(deserialize_with = "nullable")]
    active: Option<bool>,
    bootstrap: bool,
    ips: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    az: Option<String>,
    state: String,
    #[serde(deserialize_with = "nullable")]
    vm_cid: Option<String>,
    #[serde(deserialize_with = "nullable")]
    vm_type: Option<String>,
    #[serde(deserialize_with = "nullable")]
    disk_cid: Option<String>,
    ignore: bool,
    disk_cids: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    vm_created_at: Option<String>,
    cloud_properties: Value,
    processes: Vec<VmInfoProcess>,
    #[serde(deserialize_with = "vitals_or_empty")]
    vitals: Option<VmInfoVitals>,
    resurrection_paused: bool,
    #[serde(deserialize_with = "nullable")]
    stemcell: Option<VmInfoStemcell>,
}

/// Vitals are `{}` without a responding agent (Go reads zero values); otherwise every field
/// the CLI prints must be there.
fn vitals_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<VmInfoVitals>, D::Error> {
    let value = Value::deserialize(d)?;
    match &value {
        Value::Null => Ok(None),
        Value::Object(map) if map.is_empty() => Ok(None),
        _ => serde_json::from_value(value)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

// bosh-cli director/vms.go VmInfoStemcell
#[derive(Debug, Deserialize)]
struct VmInfoStemcell {
    name: String,
    version: String,
    api_version: i64,
}

// bosh-cli director/vms.go VMInfoProcess
#[derive(Debug, Deserialize)]
struct VmInfoProcess {
    name: String,
    state: String,
    cpu: ProcessCpu,
    mem: VmInfoVitalsMemIntSize,
    uptime: VmInfoVitalsUptime,
}

// bosh-cli director/vms.go VMInfoVitalsCPU as a process fills it (only Total, a *float64).
#[derive(Debug, Deserialize)]
struct ProcessCpu {
    total: f64,
}

// bosh-cli director/vms.go VMInfoVitals
#[derive(Debug, Deserialize)]
struct VmInfoVitals {
    cpu: VitalsCpu,
    mem: VmInfoVitalsMemSize,
    swap: VmInfoVitalsMemSize,
    uptime: VmInfoVitalsUptime,
    load: Vec<String>,
    disk: HashMap<String, VmInfoVitalsDiskSize>,
}

// bosh-cli director/vms.go VMInfoVitalsCPU as the agent's vitals fill it (strings).
#[derive(Debug, Deserialize)]
struct VitalsCpu {
    sys: String,
    user: String,
    wait: String,
}

// bosh-cli director/vms.go VMInfoVitalsDiskSize
#[derive(Debug, Deserialize)]
struct VmInfoVitalsDiskSize {
    inode_percent: String,
    percent: String,
}

// bosh-cli director/vms.go VMInfoVitalsMemSize
#[derive(Debug, Deserialize)]
struct VmInfoVitalsMemSize {
    kb: String,
    percent: String,
}

// bosh-cli director/vms.go VMInfoVitalsMemIntSize
#[derive(Debug, Deserialize)]
struct VmInfoVitalsMemIntSize {
    kb: u64,
    percent: f64,
}

// bosh-cli director/vms.go VMInfoVitalsUptime
#[derive(Debug, Deserialize)]
struct VmInfoVitalsUptime {
    secs: u64,
}

// bosh-cli director/instances.go Instance
#[derive(Debug, Deserialize)]
struct Instance {
    #[serde(deserialize_with = "nullable")]
    agent_id: Option<String>,
    #[serde(deserialize_with = "nullable")]
    cid: Option<String>,
    id: String,
    job: String,
    #[serde(deserialize_with = "nullable")]
    az: Option<String>,
    expects_vm: bool,
    ips: Vec<String>,
}

// bosh-cli director/deployment.go DeploymentVMResp
#[derive(Debug, Deserialize)]
struct DeploymentVmResp {
    job: String,
    index: i64,
    agent_id: String,
    cid: String,
}

// bosh-cli director/deployment.go VariableResult
#[derive(Debug, Deserialize)]
struct VariableResult {
    id: String,
    name: String,
}

// bosh-cli director/locks.go LockResp
#[derive(Debug, Deserialize)]
struct LockResp {
    #[serde(rename = "type")]
    lock_type: String,
    resource: Vec<String>,
    timeout: String,
    task_id: String,
}

// bosh-cli director/events.go EventResp (parent_id is omitempty there and absent here)
#[derive(Debug, Deserialize)]
struct EventResp {
    id: String,
    timestamp: i64,
    user: String,
    action: String,
    object_type: String,
    #[serde(deserialize_with = "nullable")]
    object_name: Option<String>,
    #[serde(rename = "task", deserialize_with = "nullable")]
    task_id: Option<String>,
    #[serde(deserialize_with = "nullable")]
    deployment: Option<String>,
    #[serde(deserialize_with = "nullable")]
    instance: Option<String>,
    #[serde(deserialize_with = "nullable")]
    context: Option<Map<String, Value>>,
    #[serde(deserialize_with = "nullable")]
    error: Option<String>,
}

// bosh-cli director/configs.go Config
#[derive(Debug, Deserialize)]
struct Config {
    id: String,
    name: String,
    #[serde(rename = "type")]
    config_type: String,
    created_at: String,
    #[serde(deserialize_with = "nullable")]
    team: Option<String>,
    content: String,
    current: bool,
}

// bosh-cli director/configs.go ConfigResponse (the body of a 412)
#[derive(Debug, Deserialize)]
struct ConfigResponse {
    latest_id: String,
    expected_latest_id: String,
}

// bosh-cli director/config_diff.go ConfigDiffResponse
#[derive(Debug, Deserialize)]
struct ConfigDiffResponse {
    diff: Vec<Vec<Value>>,
    from: HashMap<String, String>,
}

// bosh-cli director/config_diff.go DiffConfigError (the Director's error body)
#[derive(Debug, Deserialize)]
struct DiffConfigError {
    code: i64,
    description: String,
}

// bosh-cli director/cloud_configs.go CloudConfig and runtime_configs.go RuntimeConfig
#[derive(Debug, Deserialize)]
struct PropertiesConfig {
    properties: String,
}

// bosh-cli director/stemcells.go StemcellResp
#[derive(Debug, Deserialize)]
struct StemcellResp {
    name: String,
    version: String,
    operating_system: String,
    cid: String,
    cpi: String,
    deployments: Vec<Value>,
}

// bosh-cli director/stemcells.go StemcellNeedsUpload's anonymous response struct
#[derive(Debug, Deserialize)]
struct NeededResp {
    needed: bool,
}

// bosh-cli director/release_series.go ReleaseSeriesResp
#[derive(Debug, Deserialize)]
struct ReleaseSeriesResp {
    name: String,
    release_versions: Vec<ReleaseVersionResp>,
}

// bosh-cli director/release_series.go ReleaseVersionResp
#[derive(Debug, Deserialize)]
struct ReleaseVersionResp {
    version: String,
    currently_deployed: bool,
    commit_hash: String,
    uncommitted_changes: bool,
}

// bosh-cli director/releases.go ReleaseResp
#[derive(Debug, Deserialize)]
struct ReleaseResp {
    jobs: Vec<Job>,
    packages: Vec<Package>,
}

// bosh-cli director/releases.go Job
#[derive(Debug, Deserialize)]
struct Job {
    name: String,
    fingerprint: String,
    blobstore_id: String,
    sha1: String,
    consumes: Vec<Link>,
    provides: Vec<Link>,
}

// bosh-cli director/releases.go Link
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Link {
    name: String,
    #[serde(rename = "type")]
    link_type: String,
}

// bosh-cli director/releases.go Package
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Package {
    name: String,
    blobstore_id: String,
}

// bosh-cli director/errands.go Errand
#[derive(Debug, Deserialize)]
struct Errand {
    name: String,
}

// bosh-cli director/errands.go ErrandRunResp
#[derive(Debug, Deserialize)]
struct ErrandRunResp {
    instance: ErrandInstance,
    exit_code: i64,
    stdout: String,
    stderr: String,
    logs: ErrandLogs,
}

// bosh-cli director/errands.go ErrandRunResp.Instance
#[derive(Debug, Deserialize)]
struct ErrandInstance {
    group: String,
    id: String,
}

// bosh-cli director/errands.go ErrandRunResp.Logs
#[derive(Debug, Deserialize)]
struct ErrandLogs {
    blobstore_id: String,
    sha1: String,
}

// bosh-cli director/problems.go Problem
#[derive(Debug, Deserialize)]
struct Problem {
    id: i64,
    #[serde(rename = "type")]
    problem_type: String,
    description: String,
    instance_group: String,
    data: Value,
    resolutions: Vec<ProblemResolution>,
}

// bosh-cli director/problems.go ProblemResolution
#[derive(Debug, Deserialize)]
struct ProblemResolution {
    #[serde(deserialize_with = "nullable")]
    name: Option<String>,
    plan: String,
}

// ---- the CLI's client ---------------------------------------------------------------------

/// Statuses the CLI's `ClientRequest` accepts; anything else is "Director responded with
/// non-successful status code".
const ACCEPTED: [u16; 5] = [200, 201, 204, 206, 302];

/// A `bosh` CLI session: its Authorization header and optional context id.
struct Cli<'a> {
    t: &'a TestDirector,
    authorization: String,
    context_id: Option<String>,
}

impl<'a> Cli<'a> {
    /// Basic auth, as with `BOSH_CLIENT` / `BOSH_CLIENT_SECRET` against a basic-auth Director.
    fn basic(t: &'a TestDirector) -> Cli<'a> {
        use base64::Engine;
        let pair = format!("{}:{}", t.running.client, t.running.client_secret);
        Cli {
            t,
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ),
            context_id: None,
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self
            .t
            .http
            .request(method, self.t.url(path))
            .header("Authorization", &self.authorization);
        if let Some(id) = &self.context_id {
            rb = rb.header("X-Bosh-Context-Id", id);
        }
        rb
    }

    async fn send(&self, rb: RequestBuilder) -> Response {
        rb.send().await.expect("request")
    }

    /// `ClientRequest.Get`: an accepted status and a JSON body of the Go type.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        let r = self.send(self.request(Method::GET, path)).await;
        decode(path, r).await
    }

    /// A request with the content type the CLI sets and a body.
    fn with_body(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> RequestBuilder {
        self.request(method, path)
            .header("Content-Type", content_type)
            .body(body)
    }

    /// Go's client follows a `302` from a POST/PUT/DELETE with a GET to its Location.
    async fn follow(&self, r: Response) -> TaskShortResp {
        assert_eq!(r.status(), StatusCode::FOUND, "expected a task redirect");
        let location = r
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("Location")
            .to_string();
        let path = match location.find("/tasks/") {
            Some(at) => location[at..].to_string(),
            None => panic!("Location {location} is not a task"),
        };
        self.get(&path).await
    }

    /// `TaskClientRequest.WaitForCompletion`: poll the task, read new output bytes with
    /// `Range`, until it leaves queued/processing/cancelling. Returns the task and the output.
    async fn wait_for_completion(&self, id: i64, output_type: &str) -> (TaskResp, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut output = Vec::new();
        loop {
            let task: TaskResp = self.get(&format!("/tasks/{id}")).await;
            let r = self
                .send(
                    self.request(
                        Method::GET,
                        &format!("/tasks/{id}/output?type={output_type}"),
                    )
                    .header("Range", format!("bytes={}-", output.len())),
                )
                .await;
            match r.status().as_u16() {
                416 => {}
                200 | 206 => output.extend_from_slice(&r.bytes().await.expect("output")),
                other => panic!("task output answered {other}"),
            }
            if !["queued", "processing", "cancelling"].contains(&task.state.as_str()) {
                return (task, String::from_utf8(output).expect("UTF-8 output"));
            }
            assert!(Instant::now() < deadline, "task {id} did not finish");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `PostResult` / `PutResult` / `DeleteResult` / `GetResult`: follow the redirect, wait,
    /// require `done`, then read the whole result output.
    async fn task_result(&self, r: Response) -> (i64, String) {
        let short = self.follow(r).await;
        assert!(short.started_at >= 0);
        let (task, events) = self.wait_for_completion(short.id, "event").await;
        assert_eq!(
            task.state, "done",
            "task {} failed: {} {events}",
            task.id, task.result
        );
        for line in events.lines() {
            let event: Value = serde_json::from_str(line).expect("event lines are JSON");
            assert!(event["time"].is_i64(), "{line}");
        }
        let r = self
            .send(self.request(
                Method::GET,
                &format!("/tasks/{}/output?type=result", task.id),
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        (task.id, r.text().await.expect("result"))
    }

    /// A task the CLI expects to fail: its final task.
    async fn task_failure(&self, r: Response) -> TaskResp {
        let short = self.follow(r).await;
        let (task, _) = self.wait_for_completion(short.id, "event").await;
        assert_ne!(task.state, "done", "task {} should fail", task.id);
        task
    }
}

async fn decode<T: DeserializeOwned>(what: &str, r: Response) -> T {
    let status = r.status();
    let text = r.text().await.expect("body");
    assert!(
        ACCEPTED.contains(&status.as_u16()),
        "{what}: {status} {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
}

/// A Director error: the status and the `{"code", "description"}` body.
async fn director_error(r: Response) -> (u16, DiffConfigError) {
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("error body {text}: {e}"));
    (status, body)
}

/// Result lines of `instances?format=full` decoded as the CLI does, one JSON object per line.
fn vm_infos(result: &str) -> Vec<VmInfo> {
    result
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("VMInfo {e}: {l}")))
        .collect()
}

/// `bosh -d app instances --ps --details`: the `format=full` task's result, decoded.
async fn instance_infos(cli: &Cli<'_>) -> Vec<VmInfo> {
    let r = cli
        .send(cli.request(Method::GET, "/deployments/app/instances?format=full"))
        .await;
    let (_, result) = cli.task_result(r).await;
    vm_infos(&result)
}

/// A gzipped tarball holding one file at `./name`.
fn tarball(name: &str, content: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, format!("./{name}"), content.as_bytes())
        .expect("tar entry");
    builder.into_inner().expect("tar").finish().expect("gzip")
}

const STEMCELL_MF: &str = "name: bosh-simulated-ubuntu-jammy-go_agent\nversion: '1.100'\noperating_system: ubuntu-jammy\napi_version: 3\n";
const RELEASE_MF: &str = "name: app\nversion: '1.0'\ncommit_hash: abc123\nuncommitted_changes: false\njobs:\n- {name: server, version: a, fingerprint: a, sha1: a}\n- {name: smoke-tests, version: b, fingerprint: b, sha1: b}\npackages: []\n";

/// `bosh upload-stemcell`, `upload-release` and `update-cloud-config`, as the CLI sends them.
async fn upload_everything(cli: &Cli<'_>) {
    // upload-stemcell stemcell.tgz: the existence check, then the tarball.
    let needed: NeededResp = decode(
        "stemcell_uploads",
        cli.send(cli.with_body(
            Method::POST,
            "/stemcell_uploads",
            "application/json",
            json!({"stemcell": {"name": "bosh-simulated-ubuntu-jammy-go_agent", "version": "1.100"}}).to_string(),
        ))
        .await,
    )
    .await;
    assert!(needed.needed);
    let r = cli
        .send(cli.with_body(
            Method::POST,
            "/stemcells?",
            "application/x-compressed",
            tarball("stemcell.MF", STEMCELL_MF),
        ))
        .await;
    cli.task_result(r).await;
    // upload-release release.tgz: the list, the package match, then the tarball.
    let series: Vec<ReleaseSeriesResp> = cli.get("/releases").await;
    assert!(series.is_empty());
    let matches: Vec<String> = decode(
        "packages/matches",
        cli.send(cli.with_body(Method::POST, "/packages/matches", "text/yaml", RELEASE_MF))
            .await,
    )
    .await;
    assert!(matches.is_empty());
    let r = cli
        .send(cli.with_body(
            Method::POST,
            "/releases?",
            "application/x-compressed",
            tarball("release.MF", RELEASE_MF),
        ))
        .await;
    cli.task_result(r).await;
    // update-cloud-config cc.yml (no --name: the CLI sends `name=`).
    let diff: ConfigDiffResponse = decode(
        "cloud_configs/diff",
        cli.send(cli.with_body(
            Method::POST,
            "/cloud_configs/diff?name=",
            "text/yaml",
            CLOUD_CONFIG,
        ))
        .await,
    )
    .await;
    assert!(diff.diff.iter().all(|l| l.len() == 2 && l[1] == "added"));
    let r = cli
        .send(cli.with_body(
            Method::POST,
            "/cloud_configs?name=",
            "text/yaml",
            CLOUD_CONFIG,
        ))
        .await;
    assert!(ACCEPTED.contains(&r.status().as_u16()), "{}", r.status());
}

/// `bosh -d NAME deploy manifest.yml -n` with extra query options; returns the task id.
async fn deploy(cli: &Cli<'_>, name: &str, yaml: &str, options: &[(&str, &str)]) -> i64 {
    let configs: Vec<Config> = cli.get("/configs?latest=true&limit=1&type=deploy").await;
    assert!(configs.is_empty());
    let diff: DeploymentDiffResponse = decode(
        "diff",
        cli.send(cli.with_body(
            Method::POST,
            &format!("/deployments/{name}/diff?redact=true"),
            "text/yaml",
            yaml.to_string(),
        ))
        .await,
    )
    .await;
    let mut query: Vec<(String, String)> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    query.push(("context".into(), Value::Object(diff.context).to_string()));
    let r = cli
        .send(
            cli.with_body(Method::POST, "/deployments", "text/yaml", yaml.to_string())
                .query(&query),
        )
        .await;
    cli.task_result(r).await.0
}

// ---- the commands -------------------------------------------------------------------------

/// `bosh env` with basic auth: `/info` anonymously (to learn the auth type), then with
/// credentials (to show the user).
#[tokio::test]
async fn env_with_basic_auth() {
    let t = TestDirector::start().await;
    let anonymous: InfoResp =
        decode("info", t.http.get(t.url("/info")).send().await.unwrap()).await;
    assert_eq!(anonymous.user, None);
    assert_eq!(anonymous.user_authentication.auth_type, "basic");
    assert!(!anonymous.name.is_empty() && !anonymous.uuid.is_empty());
    assert!(anonymous.version.contains('('));
    assert!(!anonymous.cpi.is_empty());
    assert_eq!(anonymous.stemcell_os, "ubuntu-jammy");
    assert!(!anonymous.stemcell_version.is_empty());
    assert!(anonymous
        .features
        .get("config_server")
        .is_some_and(|f| f.status));
    let cli = Cli::basic(&t);
    let info: InfoResp = cli.get("/info").await;
    assert_eq!(info.user.as_deref(), Some(t.running.client.as_str()));
    // Wrong credentials: 401 in the Director's error shape, which the CLI prints.
    let r = t
        .http
        .get(t.url("/deployments"))
        .basic_auth("admin", Some("wrong"))
        .send()
        .await
        .unwrap();
    let (status, error) = director_error(r).await;
    assert_eq!(status, 401);
    assert!(error.code > 0 && !error.description.is_empty());
    t.stop().await;
}

/// `bosh env` / any command against a UAA Director with a client secret: the CLI reads the
/// UAA URL from `/info`, gets a token with a client credentials grant (basic client auth,
/// form body) at `<url>/oauth/token`, and sends `<token_type> <access_token>`.
#[tokio::test]
async fn env_with_uaa_client_credentials() {
    let t = TestDirector::start_with(|c| c.uaa = true).await;
    let info: InfoResp = decode("info", t.http.get(t.url("/info")).send().await.unwrap()).await;
    assert_eq!(info.user_authentication.auth_type, "uaa");
    let url = info.user_authentication.options["url"]
        .as_str()
        .expect("options.url is a string")
        .to_string();
    assert!(url.starts_with("https://"), "{url}");
    let r = t
        .http
        .post(format!("{url}/oauth/token"))
        .basic_auth(&t.running.client, Some(&t.running.client_secret))
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "UAA answers 200 only");
    let token: TokenResp = r.json().await.unwrap();
    assert!(!token.access_token.is_empty());
    let cli = Cli {
        t: &t,
        authorization: format!("{} {}", token.token_type, token.access_token),
        context_id: None,
    };
    let info: InfoResp = cli.get("/info").await;
    assert_eq!(info.user.as_deref(), Some(t.running.client.as_str()));
    let deployments: Vec<DeploymentResp> = cli.get("/deployments?exclude_configs=true").await;
    assert!(deployments.is_empty());
    // A bad token is a 401, on which the CLI fetches a new token and retries.
    let stale = Cli {
        t: &t,
        authorization: format!("{} not-a-token", token.token_type),
        context_id: None,
    };
    let r = stale.send(stale.request(Method::GET, "/deployments")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    t.stop().await;
}

/// Uploads, `deploy` (diff, context, options, context id), and every read of a deployment:
/// `deployments`, `manifest`, `instances [--ps --details]`, `vms [--vitals]`, `variables`,
/// `tasks [--recent] [--all]`, `task N [--debug|--cpi|--result]`, `events`, `event`, `locks`,
/// `stemcells`, `releases`, `cloud-config`, `configs`, then `delete-deployment --force`.
#[tokio::test]
async fn upload_deploy_and_inspect_a_deployment() {
    let t = TestDirector::start().await;
    let mut cli = Cli::basic(&t);
    upload_everything(&cli).await;
    let yaml = manifest("app", 2, "hello");

    // The deploy diff is redacted unless --no-redact.
    let diff = |redact: &'static str| {
        let cli = &cli;
        let yaml = yaml.clone();
        async move {
            let r: DeploymentDiffResponse = decode(
                "diff",
                cli.send(cli.with_body(
                    Method::POST,
                    &format!("/deployments/app/diff?redact={redact}"),
                    "text/yaml",
                    yaml,
                ))
                .await,
            )
            .await;
            r
        }
    };
    let redacted = diff("true").await;
    assert!(redacted
        .diff
        .iter()
        .all(|l| l.len() == 2 && (l[1].is_null() || l[1] == "added")));
    let text: String = redacted
        .diff
        .iter()
        .map(|l| format!("{}\n", l[0].as_str().unwrap()))
        .collect();
    assert!(text.contains("admin_password: <redacted>"), "{text}");
    assert!(
        !text.contains("((admin_password))") && !text.contains("hello"),
        "{text}"
    );
    let plain = diff("false").await;
    let text: String = plain
        .diff
        .iter()
        .map(|l| format!("{}\n", l[0].as_str().unwrap()))
        .collect();
    assert!(
        text.contains("admin_password: ((admin_password))") && text.contains("hello"),
        "{text}"
    );
    assert!(redacted.context.contains_key("cloud_config_ids"));
    assert!(redacted.context.contains_key("runtime_config_ids"));

    // A context naming a config that doesn't exist fails the task: the context is honoured.
    let r = cli
        .send(
            cli.with_body(Method::POST, "/deployments", "text/yaml", yaml.clone())
                .query(&[(
                    "context",
                    r#"{"cloud_config_ids":[999999],"runtime_config_ids":[]}"#,
                )]),
        )
        .await;
    let failed = cli.task_failure(r).await;
    assert!(failed.result.contains("999999"), "{}", failed.result);

    cli.context_id = Some("ctx-42".into());
    let deploy_task = deploy(
        &cli,
        "app",
        &yaml,
        &[
            ("skip_drain", "*"),
            ("canaries", "1"),
            ("max_in_flight", "50%"),
        ],
    )
    .await;
    cli.context_id = None;
    let by_context: Vec<TaskResp> = cli.get("/tasks?context_id=ctx-42").await;
    assert_eq!(by_context.len(), 1);
    assert_eq!(by_context[0].id, deploy_task);
    assert_eq!(by_context[0].context_id, "ctx-42");
    assert_eq!(by_context[0].deployment, "app");
    assert_eq!(by_context[0].user, t.running.client);
    assert!(by_context[0].timestamp >= by_context[0].started_at && by_context[0].started_at > 0);
    assert!(by_context[0].description.contains("deployment"));

    // bosh deployments / bosh -d app manifest
    let deployments: Vec<DeploymentResp> = cli.get("/deployments?exclude_configs=true").await;
    assert_eq!(deployments.len(), 1);
    let d = &deployments[0];
    assert_eq!(d.name, "app");
    assert_eq!(
        (d.releases[0].name.as_str(), d.releases[0].version.as_str()),
        ("app", "1.0")
    );
    assert_eq!(d.stemcells[0].name, "bosh-simulated-ubuntu-jammy-go_agent");
    assert_eq!(d.stemcells[0].version, "1.100");
    assert!(d.teams.is_empty());
    assert_eq!(d.cloud_config, "latest");
    let shown: DeploymentManifestResp = cli.get("/deployments/app").await;
    assert_eq!(shown.manifest, yaml);

    // bosh -d app instances --ps --details
    let short = cli
        .follow(
            cli.send(cli.request(Method::GET, "/deployments/app/instances?format=full"))
                .await,
        )
        .await;
    let (task, _) = cli.wait_for_completion(short.id, "event").await;
    assert_eq!(task.state, "done");
    let r = cli
        .send(cli.request(
            Method::GET,
            &format!("/tasks/{}/output?type=result", task.id),
        ))
        .await;
    let infos = vm_infos(&r.text().await.unwrap());
    assert_eq!(infos.len(), 2, "errand instances have no VM until they run");
    assert_eq!(infos.iter().filter(|i| i.bootstrap).count(), 1);
    for info in &infos {
        assert_eq!(info.job_name, "web");
        assert!(info.index.is_some() && !info.id.is_empty());
        assert_eq!(info.job_state.as_deref(), Some("running"));
        assert_eq!(info.active, Some(true));
        assert_eq!(info.state, "started");
        assert!(info.agent_id.is_some() && info.vm_cid.is_some() && info.az.is_some());
        assert_eq!(info.vm_type.as_deref(), Some("small"));
        assert_eq!(info.ips.len(), 1);
        assert_eq!(info.disk_cids.len(), 1);
        assert_eq!(
            info.disk_cid.as_deref(),
            info.disk_cids.first().map(String::as_str)
        );
        assert!(!info.ignore && !info.resurrection_paused);
        assert!(info.cloud_properties.is_object());
        let created = info.vm_created_at.as_deref().expect("vm_created_at");
        assert!(
            created.ends_with('Z') && created.contains('T'),
            "RFC 3339: {created}"
        );
        let stemcell = info.stemcell.as_ref().expect("stemcell");
        assert_eq!(
            (
                stemcell.name.as_str(),
                stemcell.version.as_str(),
                stemcell.api_version
            ),
            ("bosh-simulated-ubuntu-jammy-go_agent", "1.100", 3)
        );
        assert_eq!(info.processes[0].name, "server");
        assert_eq!(info.processes[0].state, "running");
        assert!(info.processes[0].cpu.total >= 0.0 && info.processes[0].mem.kb > 0);
        assert!(info.processes[0].mem.percent >= 0.0);
        let _ = info.processes[0].uptime.secs;
        let vitals = info.vitals.as_ref().expect("vitals of a running VM");
        assert!(
            vitals.cpu.sys.parse::<f64>().is_ok()
                && vitals.cpu.user.parse::<f64>().is_ok()
                && vitals.cpu.wait.parse::<f64>().is_ok()
        );
        assert!(vitals.mem.kb.parse::<u64>().is_ok() && vitals.mem.percent.parse::<f64>().is_ok());
        assert!(
            vitals.swap.kb.parse::<u64>().is_ok() && vitals.swap.percent.parse::<f64>().is_ok()
        );
        assert_eq!(vitals.load.len(), 3);
        let _ = vitals.uptime.secs;
        for disk in ["system", "ephemeral", "persistent"] {
            let size = vitals
                .disk
                .get(disk)
                .unwrap_or_else(|| panic!("{disk} disk vitals"));
            assert!(
                size.percent.parse::<f64>().is_ok() && size.inode_percent.parse::<f64>().is_ok()
            );
        }
    }
    // bosh -d app vms --vitals
    let (_, result) = cli
        .task_result(
            cli.send(cli.request(Method::GET, "/deployments/app/vms?format=full"))
                .await,
        )
        .await;
    assert_eq!(vm_infos(&result).len(), 2);
    // Plain lists (ssh, scp, logs use them).
    let instances: Vec<Instance> = cli.get("/deployments/app/instances").await;
    assert!(instances.iter().any(|i| i.job == "web"
        && i.expects_vm
        && i.cid.is_some()
        && i.agent_id.is_some()
        && i.az.is_some()
        && !i.ips.is_empty()
        && !i.id.is_empty()));
    let vms: Vec<DeploymentVmResp> = cli.get("/deployments/app/vms").await;
    assert_eq!(vms.len(), 2);
    assert!(vms.iter().all(|v| v.job == "web"
        && v.index >= 0
        && !v.agent_id.is_empty()
        && v.cid.starts_with("vm-")));

    // bosh -d app variables
    let variables: Vec<VariableResult> = cli.get("/deployments/app/variables").await;
    assert_eq!(variables.len(), 3);
    assert!(variables
        .iter()
        .all(|v| !v.id.is_empty() && v.name.starts_with('/')));

    // bosh tasks --recent / --all, bosh tasks (current)
    let recent: Vec<TaskResp> = cli.get("/tasks?limit=30&verbose=1").await;
    assert!(
        recent.iter().all(|t| t.description != "retrieve vm-stats"),
        "vm tasks are hidden without --all"
    );
    assert!(recent.iter().any(|t| t.id == deploy_task));
    let all: Vec<TaskResp> = cli.get("/tasks?limit=30&verbose=2").await;
    assert!(all.iter().any(|t| t.description == "retrieve vm-stats"));
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let current: Vec<TaskResp> = cli
        .get("/tasks?state=processing%2Ccancelling%2Cqueued&verbose=1&deployment=app")
        .await;
    assert!(current.is_empty());

    // bosh task N (event), --debug, --cpi, --result: ranges as the CLI reads them.
    let r = cli
        .send(
            cli.request(
                Method::GET,
                &format!("/tasks/{deploy_task}/output?type=event"),
            )
            .header("Range", "bytes=0-"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    let events = r.bytes().await.unwrap();
    let r = cli
        .send(
            cli.request(
                Method::GET,
                &format!("/tasks/{deploy_task}/output?type=event"),
            )
            .header("Range", format!("bytes={}-", events.len())),
        )
        .await;
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "nothing new");
    for kind in ["debug", "cpi"] {
        let (task, output) = cli.wait_for_completion(deploy_task, kind).await;
        assert_eq!(task.state, "done");
        assert!(!output.is_empty(), "{kind} output");
    }
    let task: TaskResp = cli.get(&format!("/tasks/{deploy_task}")).await;
    assert_eq!(task.result, "/deployments/app");

    // bosh events, bosh event ID
    let events: Vec<EventResp> = cli.get("/events?deployment=app").await;
    let created = events
        .iter()
        .find(|e| e.action == "create" && e.object_type == "deployment")
        .expect("deployment event");
    assert_eq!(created.object_name.as_deref(), Some("app"));
    assert_eq!(
        created.task_id.as_deref(),
        Some(deploy_task.to_string().as_str())
    );
    assert_eq!(created.deployment.as_deref(), Some("app"));
    assert!(created.timestamp > 0 && created.user == t.running.client && created.error.is_none());
    assert!(created.instance.is_none() && created.context.is_some());
    let filtered: Vec<EventResp> = cli
        .get(&format!(
            "/events?deployment=app&task={deploy_task}&action=create&object_type=deployment"
        ))
        .await;
    assert_eq!(filtered.len(), 1);
    let before: Vec<EventResp> = cli.get(&format!("/events?before_id={}", created.id)).await;
    assert!(before
        .iter()
        .all(|e| e.id.parse::<i64>().unwrap() < created.id.parse::<i64>().unwrap()));
    let one: EventResp = cli.get(&format!("/events/{}", created.id)).await;
    assert_eq!(one.id, created.id);

    // bosh stemcells, bosh releases, bosh cloud-config, bosh configs
    let stemcells: Vec<StemcellResp> = cli.get("/stemcells").await;
    assert_eq!(stemcells.len(), 1);
    let s = &stemcells[0];
    assert_eq!(
        (
            s.name.as_str(),
            s.version.as_str(),
            s.operating_system.as_str()
        ),
        (
            "bosh-simulated-ubuntu-jammy-go_agent",
            "1.100",
            "ubuntu-jammy"
        )
    );
    assert!(!s.cid.is_empty() && s.cpi.is_empty());
    assert_eq!(s.deployments.len(), 1, "in use marks it");
    let series: Vec<ReleaseSeriesResp> = cli.get("/releases").await;
    assert_eq!(series[0].name, "app");
    let v = &series[0].release_versions[0];
    assert_eq!(
        (v.version.as_str(), v.commit_hash.as_str()),
        ("1.0", "abc123")
    );
    assert!(v.currently_deployed && !v.uncommitted_changes);
    let release: ReleaseResp = cli.get("/releases/app?version=1.0").await;
    let names: Vec<&str> = release.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["server", "smoke-tests"]);
    assert!(release.jobs.iter().all(|j| j.fingerprint.is_empty()
        && j.blobstore_id.is_empty()
        && j.sha1.is_empty()
        && j.consumes.is_empty()
        && j.provides.is_empty()));
    assert!(release.packages.is_empty());
    let cloud: Vec<PropertiesConfig> = cli.get("/cloud_configs?limit=1&name=").await;
    assert_eq!(cloud.len(), 1);
    assert_eq!(cloud[0].properties, CLOUD_CONFIG);
    let configs: Vec<Config> = cli.get("/configs?limit=1&latest=true").await;
    let cc = configs
        .iter()
        .find(|c| c.config_type == "cloud")
        .expect("cloud config");
    assert_eq!(cc.name, "default");
    assert!(cc.current && cc.team.is_none() && !cc.created_at.is_empty() && !cc.id.is_empty());
    assert_eq!(cc.content, CLOUD_CONFIG);

    // bosh locks (none once the deploy is done)
    let locks: Vec<LockResp> = cli.get("/locks").await;
    assert!(locks.is_empty());

    // bosh -d app delete-deployment --force
    let r = cli
        .send(cli.request(Method::DELETE, "/deployments/app?force=true"))
        .await;
    cli.task_result(r).await;
    let r = cli.send(cli.request(Method::GET, "/deployments/app")).await;
    let (status, error) = director_error(r).await;
    assert_eq!((status, error.code), (404, 70000));
    assert!(error.description.contains("app"));
    t.stop().await;
}

/// `upload-stemcell URL --sha1` sends JSON `{"location", "sha1"}`: the task fetches and
/// checks it. `--fix` replaces an existing stemcell.
#[tokio::test]
async fn upload_stemcell_by_url_with_sha1() {
    let t = TestDirector::start().await;
    let cli = Cli::basic(&t);
    let bytes = tarball("stemcell.MF", STEMCELL_MF);
    let path = t.dir.join("stemcell.tgz");
    std::fs::write(&path, &bytes).unwrap();
    let sha1 = hex::encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &bytes,
    ));
    let location = format!("file://{}", path.display());
    let upload = |body: Value, query: &'static str| {
        let cli = &cli;
        async move {
            cli.send(cli.with_body(
                Method::POST,
                &format!("/stemcells?{query}"),
                "application/json",
                body.to_string(),
            ))
            .await
        }
    };
    let wrong = cli
        .task_failure(
            upload(
                json!({"location": location, "sha1": "0000000000000000000000000000000000000000"}),
                "",
            )
            .await,
        )
        .await;
    assert!(wrong.result.contains("digest"), "{}", wrong.result);
    let offline = cli
        .task_failure(upload(json!({"location": "https://bosh.io/d/stemcells/x"}), "").await)
        .await;
    assert!(
        offline.result.contains("https://bosh.io/d/stemcells/x"),
        "{}",
        offline.result
    );
    cli.task_result(upload(json!({"location": location, "sha1": sha1}), "").await)
        .await;
    let sha256 = format!(
        "sha256:{}",
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes))
    );
    let before: Vec<StemcellResp> = cli.get("/stemcells").await;
    cli.task_result(upload(json!({"location": location, "sha1": sha256}), "").await)
        .await;
    let same: Vec<StemcellResp> = cli.get("/stemcells").await;
    assert_eq!(
        same[0].cid, before[0].cid,
        "without --fix an existing stemcell stays"
    );
    cli.task_result(upload(json!({"location": location, "sha1": sha1}), "fix=true").await)
        .await;
    let fixed: Vec<StemcellResp> = cli.get("/stemcells").await;
    assert_eq!(fixed.len(), 1);
    assert_ne!(fixed[0].cid, before[0].cid, "--fix replaces it");
    let needed: NeededResp = decode(
        "stemcell_uploads",
        cli.send(cli.with_body(Method::POST, "/stemcell_uploads", "application/json",
            json!({"stemcell": {"name": "bosh-simulated-ubuntu-jammy-go_agent", "version": "1.100"}}).to_string())).await,
    )
    .await;
    assert!(!needed.needed);
    t.stop().await;
}

/// `recreate`, `stop [--hard]`, `start`, `restart` (converging `PUT .../jobs/...?state=` with
/// `text/yaml` and an empty body, and `--no-converge` actions), `errands`, `run-errand`,
/// `update-resurrection`, and `cck` (scan, problems, `--auto` resolutions).
#[tokio::test]
async fn instance_state_errands_and_cloud_check() {
    let t = TestDirector::start().await;
    let cli = Cli::basic(&t);
    upload_everything(&cli).await;
    deploy(&cli, "app", &manifest("app", 2, "hi"), &[]).await;
    let cids =
        |v: &[VmInfo]| -> Vec<Option<String>> { v.iter().map(|i| i.vm_cid.clone()).collect() };
    let change = |path: &'static str| {
        let cli = &cli;
        async move {
            cli.send(cli.with_body(Method::PUT, path, "text/yaml", Vec::new()))
                .await
        }
    };
    let before = instance_infos(&cli).await;
    // bosh -d app recreate --dry-run: nothing changes.
    cli.task_result(change("/deployments/app/jobs/*?state=recreate&dry_run=true").await)
        .await;
    assert_eq!(cids(&instance_infos(&cli).await), cids(&before));
    // bosh -d app recreate --vms-created-before=<long ago>: nothing that old.
    cli.task_result(change("/deployments/app/jobs/*?recreate_vms_created_before=2000-01-01T00%3A00%3A00Z&state=recreate").await).await;
    assert_eq!(cids(&instance_infos(&cli).await), cids(&before));
    // bosh -d app recreate --skip-drain --canaries=1 --max-in-flight=1
    cli.task_result(
        change("/deployments/app/jobs/*?canaries=1&max_in_flight=1&skip_drain=true&state=recreate")
            .await,
    )
    .await;
    let recreated = instance_infos(&cli).await;
    assert!(cids(&recreated)
        .iter()
        .zip(cids(&before))
        .all(|(a, b)| a.is_some() && *a != b));
    // bosh -d app stop web, start web/0, restart, stop --hard web/<id>
    cli.task_result(change("/deployments/app/jobs/web?state=stopped").await)
        .await;
    assert!(instance_infos(&cli)
        .await
        .iter()
        .all(|i| i.job_state.as_deref() == Some("stopped") && i.state == "stopped"));
    cli.task_result(change("/deployments/app/jobs/web/0?state=started").await)
        .await;
    let now = instance_infos(&cli).await;
    let zero = now.iter().find(|i| i.index == Some(0)).unwrap();
    assert_eq!(zero.job_state.as_deref(), Some("running"));
    cli.task_result(change("/deployments/app/jobs/*?state=restart").await)
        .await;
    let first_id = zero.id.clone();
    let r = cli
        .send(cli.with_body(
            Method::PUT,
            &format!("/deployments/app/jobs/web/{first_id}?state=detached"),
            "text/yaml",
            Vec::new(),
        ))
        .await;
    cli.task_result(r).await;
    let detached = instance_infos(&cli).await;
    let zero = detached.iter().find(|i| i.id == first_id).unwrap();
    assert!(zero.vm_cid.is_none() && zero.vitals.is_none() && zero.state == "detached");
    // --no-converge: bosh -d app start web/<id> --no-converge
    let r = cli
        .send(cli.with_body(
            Method::POST,
            &format!("/deployments/app/instance_groups/web/{first_id}/actions/start?"),
            "text/yaml",
            Vec::new(),
        ))
        .await;
    cli.task_result(r).await;
    let started = instance_infos(&cli).await;
    assert!(started
        .iter()
        .all(|i| i.vm_cid.is_some() && i.job_state.as_deref() == Some("running")));
    // A state change of an unknown deployment: the Director's 404.
    let (status, error) =
        director_error(change("/deployments/nope/jobs/*?state=restart").await).await;
    assert_eq!((status, error.code), (404, 70000));

    // bosh -d app errands, run-errand smoke-tests, run-errand server --instance web/0
    let errands: Vec<Errand> = cli.get("/deployments/app/errands").await;
    assert_eq!(
        errands.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["smoke-tests"]
    );
    let run = |errand: &'static str, instances: Value| {
        let cli = &cli;
        async move {
            let body = json!({"keep-alive": false, "when-changed": false, "instances": instances});
            let r = cli
                .send(cli.with_body(
                    Method::POST,
                    &format!("/deployments/app/errands/{errand}/runs"),
                    "application/json",
                    body.to_string(),
                ))
                .await;
            let (_, result) = cli.task_result(r).await;
            serde_json::Deserializer::from_str(&result)
                .into_iter::<ErrandRunResp>()
                .map(|r| r.expect("ErrandRunResp"))
                .collect::<Vec<_>>()
        }
    };
    let runs = run("smoke-tests", json!([])).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].instance.group, "smoke-tests");
    assert!(!runs[0].instance.id.is_empty());
    assert_eq!(runs[0].exit_code, 0);
    assert!(runs[0].stdout.contains("smoke-tests") && runs[0].stderr.is_empty());
    assert!(runs[0].logs.blobstore_id.is_empty() && runs[0].logs.sha1.is_empty());
    let runs = run("server", json!([{"group": "web", "id": "0"}])).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].instance.group, "web");

    // bosh update-resurrection off; an agent dies; bosh -d app cck --auto
    let r = cli
        .send(cli.with_body(
            Method::PUT,
            "/resurrection",
            "application/json",
            r#"{"resurrection_paused":true}"#,
        ))
        .await;
    assert!(ACCEPTED.contains(&r.status().as_u16()));
    let r = cli
        .send(cli.request(Method::POST, "/chaos/deployments/app/instances/web/0/kill"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !instance_infos(&cli)
        .await
        .iter()
        .any(|i| i.job_state.as_deref() == Some("unresponsive agent"))
    {
        assert!(
            Instant::now() < deadline,
            "the agent never went unresponsive"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = cli
        .send(cli.with_body(
            Method::POST,
            "/deployments/app/scans",
            "application/json",
            Vec::new(),
        ))
        .await;
    cli.task_result(r).await;
    let problems: Vec<Problem> = cli.get("/deployments/app/problems").await;
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(
        (p.problem_type.as_str(), p.instance_group.as_str()),
        ("unresponsive_agent", "web")
    );
    assert!(p.id > 0 && !p.description.is_empty() && p.data.is_object());
    assert!(p
        .resolutions
        .iter()
        .all(|r| r.name.is_some() && !r.plan.is_empty()));
    // --auto: every resolution null (the type's default), as the CLI marshals it.
    let body = json!({"resolutions": {p.id.to_string(): null}});
    let r = cli
        .send(cli.with_body(
            Method::PUT,
            "/deployments/app/problems",
            "application/json",
            body.to_string(),
        ))
        .await;
    cli.task_result(r).await;
    assert!(instance_infos(&cli)
        .await
        .iter()
        .all(|i| i.job_state.as_deref() == Some("running")));
    let problems: Vec<Problem> = cli.get("/deployments/app/problems").await;
    assert!(problems.is_empty());
    t.stop().await;
}

/// `update-config`, `config`, `configs`, `diff-config`, `delete-config`, and
/// `update-runtime-config` / `runtime-config`, as the CLI sends them.
#[tokio::test]
async fn configs_and_runtime_configs() {
    let t = TestDirector::start().await;
    let cli = Cli::basic(&t);
    let update = |content: &'static str| {
        let cli = &cli;
        async move {
            // update-config: the diff first; its from.id becomes expected_latest_id.
            let diff: ConfigDiffResponse = decode(
                "configs/diff",
                cli.send(cli.with_body(
                    Method::POST,
                    "/configs/diff",
                    "application/json",
                    json!({"type": "custom", "name": "c1", "content": content}).to_string(),
                ))
                .await,
            )
            .await;
            let mut body = json!({"type": "custom", "name": "c1", "content": content});
            if let Some(id) = diff.from.get("id").filter(|i| !i.is_empty()) {
                body["expected_latest_id"] = json!(id);
            }
            let config: Config = decode(
                "configs",
                cli.send(cli.with_body(
                    Method::POST,
                    "/configs",
                    "application/json",
                    body.to_string(),
                ))
                .await,
            )
            .await;
            (diff, config)
        }
    };
    let (first_diff, first) = update("a: 1\n").await;
    assert!(first_diff.from.get("id").is_none_or(|i| i.is_empty()));
    assert!(first_diff.diff.iter().all(|l| l.len() == 2));
    assert_eq!(
        (
            first.config_type.as_str(),
            first.name.as_str(),
            first.content.as_str()
        ),
        ("custom", "c1", "a: 1\n")
    );
    assert!(first.current);
    let (second_diff, second) = update("a: 2\n").await;
    assert_eq!(second_diff.from.get("id"), Some(&first.id));
    assert!(
        second_diff.diff.iter().any(|l| l[1] == "removed")
            && second_diff.diff.iter().any(|l| l[1] == "added")
    );
    // A stale expected_latest_id: 412 with the ids the CLI prints.
    let r = cli.send(cli.with_body(Method::POST, "/configs", "application/json",
        json!({"type": "custom", "name": "c1", "content": "a: 3\n", "expected_latest_id": first.id}).to_string())).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let conflict: ConfigResponse = r.json().await.unwrap();
    assert_eq!(
        (
            conflict.latest_id.as_str(),
            conflict.expected_latest_id.as_str()
        ),
        (second.id.as_str(), first.id.as_str())
    );
    // bosh config --type custom --name c1; bosh config ID; bosh configs
    let latest: Vec<Config> = cli
        .get("/configs?latest=true&limit=1&name=c1&type=custom")
        .await;
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].id, second.id);
    let by_id: Config = cli.get(&format!("/configs/{}", first.id)).await;
    assert_eq!(by_id.content, "a: 1\n");
    let history: Vec<Config> = cli.get("/configs?latest=false&limit=10&type=custom").await;
    assert_eq!(history.len(), 2);
    // bosh diff-config --from-id A --to-content B
    let pair: ConfigDiffResponse = decode("configs/diff", cli.send(cli.with_body(Method::POST, "/configs/diff", "application/json",
        json!({"from": {"id": first.id, "content": ""}, "to": {"id": "", "content": "a: 9\n"}}).to_string())).await).await;
    assert!(
        pair.diff.iter().any(|l| l[0] == "a: 9" && l[1] == "added"),
        "{:?}",
        pair.diff
    );
    // bosh delete-config --type custom --name c1 (a second time: 404, "nothing deleted")
    let r = cli
        .send(cli.request(Method::DELETE, "/configs?name=c1&type=custom"))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = cli
        .send(cli.request(Method::DELETE, "/configs?name=c1&type=custom"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (status, error) =
        director_error(cli.send(cli.request(Method::GET, "/configs/999999")).await).await;
    assert_eq!(status, 404);
    assert!(error.description.contains("999999"));
    let r = cli
        .send(cli.request(Method::DELETE, &format!("/configs/{}", first.id)))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // A body that is not the JSON the Director expects: 400 in the Director's shape.
    let (status, _) = director_error(
        cli.send(cli.with_body(Method::POST, "/configs", "application/json", "{"))
            .await,
    )
    .await;
    assert_eq!(status, 400);

    // bosh update-runtime-config rc.yml (diff redacted unless --no-redact), bosh runtime-config
    let rc = "releases: []\naddons: []\nproperties: {db_password: s3cret}\n";
    let redacted: ConfigDiffResponse = decode(
        "runtime_configs/diff",
        cli.send(cli.with_body(Method::POST, "/runtime_configs/diff?name=", "text/yaml", rc))
            .await,
    )
    .await;
    let text: String = redacted
        .diff
        .iter()
        .map(|l| format!("{}\n", l[0].as_str().unwrap()))
        .collect();
    assert!(!text.contains("s3cret"), "{text}");
    let plain: ConfigDiffResponse = decode(
        "runtime_configs/diff",
        cli.send(cli.with_body(
            Method::POST,
            "/runtime_configs/diff?name=&redact=false",
            "text/yaml",
            rc,
        ))
        .await,
    )
    .await;
    let text: String = plain
        .diff
        .iter()
        .map(|l| format!("{}\n", l[0].as_str().unwrap()))
        .collect();
    assert!(text.contains("s3cret"), "{text}");
    let r = cli
        .send(cli.with_body(Method::POST, "/runtime_configs?name=", "text/yaml", rc))
        .await;
    assert!(ACCEPTED.contains(&r.status().as_u16()), "{}", r.status());
    let current: Vec<PropertiesConfig> = cli.get("/runtime_configs?limit=1&name=").await;
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].properties, rc);
    let named: Vec<PropertiesConfig> = cli.get("/runtime_configs?limit=1&name=other").await;
    assert!(named.is_empty(), "no runtime config named 'other'");
    t.stop().await;
}

/// `locks` while a deploy holds its deployment, `cancel-task` of the running deploy (it stops
/// at a checkpoint), and `cancel-tasks` of queued ones.
#[tokio::test]
async fn locks_and_cancelling_tasks() {
    let t = TestDirector::start_with(|c| c.workers = 1).await;
    let cli = Cli::basic(&t);
    upload_everything(&cli).await;
    let r = cli
        .send(cli.with_body(
            Method::PUT,
            "/chaos/cpi",
            "application/json",
            r#"{"paused":true}"#,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let yaml = manifest("held", 2, "x");
    let r = cli
        .send(cli.with_body(Method::POST, "/deployments", "text/yaml", yaml.clone()))
        .await;
    let running = cli.follow(r).await;
    assert!(["queued", "processing"].contains(&running.state.as_str()));
    let locks: Vec<LockResp> = cli.get("/locks").await;
    assert_eq!(locks.len(), 1);
    let lock = &locks[0];
    assert_eq!(
        (lock.lock_type.as_str(), lock.resource.as_slice()),
        ("deployment", &["held".to_string()][..])
    );
    assert_eq!(lock.task_id, running.id.to_string());
    assert!(
        lock.timeout.parse::<f64>().is_ok(),
        "timeout parses as a float: {}",
        lock.timeout
    );
    // Wait until the held deploy is inside the CPI, so the single worker is surely busy.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let task: TaskResp = cli.get(&format!("/tasks/{}", running.id)).await;
        let r = cli
            .send(cli.request(
                Method::GET,
                &format!("/tasks/{}/output?type=event", running.id),
            ))
            .await;
        let events = r.text().await.unwrap();
        if task.state == "processing" && events.contains("Creating missing vms") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the deploy never reached the CPI"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Two more deploys of other deployments wait for the single worker; cancel-tasks takes them.
    let mut queued = Vec::new();
    for name in ["q1", "q2"] {
        let r = cli
            .send(cli.with_body(
                Method::POST,
                "/deployments",
                "text/yaml",
                manifest(name, 1, "x"),
            ))
            .await;
        queued.push(cli.follow(r).await.id);
    }
    let r = cli
        .send(cli.with_body(
            Method::POST,
            "/tasks/cancel",
            "application/json",
            r#"{"states":["queued"]}"#,
        ))
        .await;
    assert!(ACCEPTED.contains(&r.status().as_u16()), "{}", r.status());
    for id in &queued {
        let (task, _) = cli.wait_for_completion(*id, "event").await;
        assert_eq!(task.state, "cancelled");
    }
    // bosh cancel-task N on the processing deploy: cancelling, then cancelled at a checkpoint.
    let r = cli
        .send(cli.request(Method::DELETE, &format!("/task/{}", running.id)))
        .await;
    assert!(ACCEPTED.contains(&r.status().as_u16()), "{}", r.status());
    let current: Vec<TaskResp> = cli
        .get("/tasks?state=processing%2Ccancelling%2Cqueued&verbose=1")
        .await;
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].state, "cancelling");
    let r = cli
        .send(cli.with_body(
            Method::PUT,
            "/chaos/cpi",
            "application/json",
            r#"{"paused":false}"#,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (task, _) = cli.wait_for_completion(running.id, "event").await;
    assert_eq!(task.state, "cancelled");
    let locks: Vec<LockResp> = cli.get("/locks").await;
    assert!(locks.is_empty());
    // Cancelling an ended task: 400, which the CLI reports.
    let (status, error) = director_error(
        cli.send(cli.request(Method::DELETE, &format!("/task/{}", running.id)))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(error.description.contains("Cannot cancel task"));
    t.stop().await;
}
