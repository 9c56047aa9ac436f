//! The Director API client against the real Director stand-in (the `director` crate), over TLS
//! with the stand-in's own CA: authentication (Basic and UAA-style tokens), errors, uploads,
//! configs, a deploy followed through its event log, ranged task output, instances, errands,
//! state changes and deletion.

use std::io::Write;
use std::time::Duration;

use director::{DirectorConfig, RunningDirector};
use server::director_client::{
    AuthMode, DeployOptions, DirectorClient, DirectorTarget, ErrandRunOptions, Event, JobState,
    JobStateOptions, JobTarget, OutputCursor, OutputType, TaskFilter, TaskState, Upload,
    UploadOptions,
};
use server::Error;

const CLOUD_CONFIG: &str = r#"
azs: [{name: z1}, {name: z2}]
networks:
- name: default
  type: manual
  subnets:
  - {range: 10.0.1.0/24, gateway: 10.0.1.1, az: z1, reserved: [10.0.1.2-10.0.1.9]}
  - {range: 10.0.2.0/24, gateway: 10.0.2.1, az: z2, reserved: [10.0.2.2-10.0.2.9]}
vm_types: [{name: small}]
disk_types: [{name: "10240", disk_size: 10240}]
compilation: {workers: 1, az: z1, vm_type: small, network: default}
"#;

const STEMCELL_MF: &str =
    "name: bosh-simulated-ubuntu-jammy-go_agent\nversion: '1.100'\noperating_system: ubuntu-jammy\n";

const RELEASE_MF: &str = "name: app\nversion: '1.0'\ncommit_hash: abc123\nuncommitted_changes: false\njobs:\n- {name: server, version: s1, fingerprint: s1, sha1: s1}\n- {name: smoke-tests, version: t1, fingerprint: t1, sha1: t1}\npackages: []\n";

fn manifest(name: &str, instances: u32) -> String {
    format!(
        r#"name: {name}
releases: [{{name: app, version: "1.0"}}]
stemcells: [{{alias: default, os: ubuntu-jammy, version: "1.100"}}]
update: {{canaries: 1, max_in_flight: 2, canary_watch_time: 1000, update_watch_time: 1000}}
instance_groups:
- name: web
  azs: [z1, z2]
  instances: {instances}
  vm_type: small
  stemcell: default
  persistent_disk_type: "10240"
  networks: [{{name: default}}]
  jobs:
  - name: server
    release: app
    properties:
      admin_password: ((admin_password))
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
"#
    )
}

/// A gzipped tarball holding `file_name` with `content` (and a stand-in image file).
fn tarball(file_name: &str, content: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, data) in [(file_name, content.as_bytes()), ("image", &[0u8; 4096][..])] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

struct Fixture {
    running: RunningDirector,
    _dir: tempfile::TempDir,
}

async fn start(tune: impl FnOnce(&mut DirectorConfig)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = DirectorConfig::new(dir.path().join("director"));
    config.heartbeat_ms = 50;
    tune(&mut config);
    let running = director::start(config).await.expect("the stand-in starts");
    Fixture { running, _dir: dir }
}

fn target(running: &RunningDirector) -> DirectorTarget {
    DirectorTarget {
        url: running.url.clone(),
        ca_cert_pem: Some(running.ca_cert_pem.clone()),
        client: running.client.clone(),
        client_secret: running.client_secret.clone(),
    }
}

fn client(running: &RunningDirector) -> DirectorClient {
    DirectorClient::new(target(running))
        .unwrap()
        .with_poll_interval(Duration::from_millis(25))
}

fn director_error(e: Error) -> (String, Option<u16>, String) {
    match e {
        Error::Director {
            call,
            status,
            message,
        } => (call, status, message),
        other => panic!("expected a Director error, got {other:?}"),
    }
}

/// Uploads the stemcell (a tarball file, streamed) and the release (a tarball in memory) and sets
/// the cloud config, all through the client.
async fn prepare(client: &DirectorClient) {
    assert!(client
        .stemcell_needed("bosh-simulated-ubuntu-jammy-go_agent", "1.100")
        .await
        .unwrap());
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&tarball("stemcell.MF", STEMCELL_MF))
        .unwrap();
    let task = client
        .upload_stemcell(
            &Upload::File(file.path().to_path_buf()),
            UploadOptions::default(),
        )
        .await
        .unwrap();
    client.wait_for_task(task, |_| {}).await.unwrap();
    assert!(!client
        .stemcell_needed("bosh-simulated-ubuntu-jammy-go_agent", "1.100")
        .await
        .unwrap());

    let task = client
        .upload_release(
            &Upload::Bytes(tarball("release.MF", RELEASE_MF)),
            UploadOptions::default(),
        )
        .await
        .unwrap();
    client.wait_for_task(task, |_| {}).await.unwrap();

    client.update_cloud_config(CLOUD_CONFIG).await.unwrap();
}

#[tokio::test]
async fn info_and_basic_auth() {
    let fixture = start(|_| {}).await;
    let client = client(&fixture.running);
    let info = client.info().await.unwrap();
    assert_eq!(info.user_authentication.kind, "basic");
    assert_eq!(info.user, None);
    assert!(!info.uuid.is_empty());
    assert_eq!(client.auth_mode().await.unwrap(), AuthMode::Basic);
    let me = client.authenticated_info().await.unwrap();
    assert_eq!(me.user.as_deref(), Some(fixture.running.client.as_str()));
    assert!(client.deployments().await.unwrap().is_empty());
    fixture.running.shutdown.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_is_a_clear_error() {
    let fixture = start(|_| {}).await;
    let mut target = target(&fixture.running);
    target.client_secret = "not-the-secret".into();
    let client = DirectorClient::new(target).unwrap();
    // /info needs no credentials.
    client.info().await.unwrap();
    let (call, status, message) = director_error(client.deployments().await.unwrap_err());
    assert_eq!(call, "GET /deployments");
    assert_eq!(status, Some(401));
    assert!(
        message.contains("refused the credentials of client \"admin\""),
        "{message}"
    );
    fixture.running.shutdown.shutdown().await;
}

#[tokio::test]
async fn a_wrong_ca_is_named_as_a_tls_failure() {
    let fixture = start(|_| {}).await;
    let other_ca = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let mut target = target(&fixture.running);
    target.ca_cert_pem = Some(other_ca.cert.pem());
    let client = DirectorClient::new(target).unwrap();
    let (call, status, message) = director_error(client.info().await.unwrap_err());
    assert_eq!(call, "GET /info");
    assert_eq!(status, None);
    assert!(message.contains("TLS handshake"), "{message}");
    assert!(message.contains("Director CA certificate"), "{message}");
    assert!(message.contains("UnknownIssuer"), "{message}");
    // An authenticated call fails the same way (it needs /info first), naming its own call.
    let (call, _, message) = director_error(client.stemcells().await.unwrap_err());
    assert!(call.starts_with("GET /stemcells"), "{call}");
    assert!(message.contains("TLS handshake"), "{message}");
    fixture.running.shutdown.shutdown().await;
}

#[tokio::test]
async fn a_director_that_is_not_there_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = DirectorClient::new(DirectorTarget {
        url: format!("https://127.0.0.1:{port}"),
        ca_cert_pem: None,
        client: "admin".into(),
        client_secret: "x".into(),
    })
    .unwrap();
    let (call, status, message) = director_error(client.info().await.unwrap_err());
    assert_eq!(call, "GET /info");
    assert_eq!(status, None);
    assert!(
        message.contains("cannot connect to https://127.0.0.1"),
        "{message}"
    );
}

#[tokio::test]
async fn uaa_tokens_are_fetched_and_renewed_after_a_401() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("director");
    let mut config = DirectorConfig::new(&data);
    config.uaa = true;
    config.client_secret = Some("uaa-client-secret".into());
    let running = director::start(config.clone()).await.unwrap();
    let client = client(&running);
    match client.auth_mode().await.unwrap() {
        AuthMode::Uaa { url } => assert_eq!(url, format!("{}/uaa", running.url)),
        other => panic!("expected UAA, got {other:?}"),
    }
    let me = client.authenticated_info().await.unwrap();
    assert_eq!(me.user.as_deref(), Some("admin"));
    assert!(client.releases().await.unwrap().is_empty());

    // A wrong secret: UAA refuses the token, and the error says so and names the call.
    let mut bad = target(&running);
    bad.client_secret = "wrong".into();
    let bad = DirectorClient::new(bad).unwrap();
    let (call, status, message) = director_error(bad.deployments().await.unwrap_err());
    assert!(
        call.contains("/uaa/oauth/token (for GET /deployments)"),
        "{call}"
    );
    assert_eq!(status, Some(401));
    assert!(
        message.contains("UAA refused client \"admin\""),
        "{message}"
    );

    // The stand-in forgets its tokens on restart: the cached token gets a 401, and the client
    // fetches a new one and repeats the call.
    let addr = running.addr;
    running.shutdown.shutdown().await;
    config.listen = addr;
    let restarted = director::start(config).await.unwrap();
    assert!(client.deployments().await.unwrap().is_empty());
    restarted.shutdown.shutdown().await;
}

#[tokio::test]
async fn uploads_configs_deploy_instances_errands_and_delete() {
    let fixture = start(|_| {}).await;
    let client = client(&fixture.running);
    prepare(&client).await;

    let stemcells = client.stemcells().await.unwrap();
    assert_eq!(stemcells.len(), 1);
    assert_eq!(stemcells[0].version, "1.100");
    assert_eq!(stemcells[0].operating_system, "ubuntu-jammy");
    assert!(client.has_release("app", "1.0").await.unwrap());
    assert!(!client.has_release("app", "2.0").await.unwrap());
    let cloud = client
        .cloud_config()
        .await
        .unwrap()
        .expect("a cloud config");
    assert!(cloud.contains("vm_types"), "{cloud}");

    // Runtime configs: set one, list it, delete it.
    client
        .update_runtime_config("dns", "addons: []\n")
        .await
        .unwrap();
    let runtime = client.runtime_configs().await.unwrap();
    assert!(runtime
        .iter()
        .any(|c| c.name == "dns" && c.kind == "runtime"));
    assert!(client.delete_config("runtime", "dns").await.unwrap());

    // Diff, then deploy with the diff's context, following the event log.
    let yaml = manifest("app", 2);
    let diff = client.diff("app", &yaml).await.unwrap();
    assert!(
        diff.diff
            .iter()
            .any(|(_, change)| change.as_deref() == Some("added")),
        "{diff:?}"
    );
    let task = client
        .deploy(
            &yaml,
            &DeployOptions {
                context: Some(diff.context.clone()),
                context_id: Some("installation-7".into()),
                ..DeployOptions::default()
            },
        )
        .await
        .unwrap();
    let mut events: Vec<Event> = Vec::new();
    let done = client
        .follow_task(task, |e| events.push(e.clone()))
        .await
        .unwrap();
    assert_eq!(done.state, TaskState::Done, "{done:?}");
    assert!(
        events
            .iter()
            .any(|e| e.stage.as_deref() == Some("Updating instance")
                && e.state.as_deref() == Some("finished")),
        "{events:#?}"
    );
    assert!(events.iter().all(|e| e.kind.as_deref() != Some("unparsed")));

    // The same event log read by byte ranges: all of it once, then nothing new (416), and from a
    // saved offset only the lines after it.
    let full = client
        .task_output_text(task, OutputType::Event)
        .await
        .unwrap();
    let mut cursor = OutputCursor::new();
    let lines = client
        .task_output(task, OutputType::Event, &mut cursor)
        .await
        .unwrap();
    assert_eq!(lines.len(), events.len());
    assert_eq!(cursor.offset(), full.len() as u64);
    assert!(client
        .task_output(task, OutputType::Event, &mut cursor)
        .await
        .unwrap()
        .is_empty());
    let first_line = full.lines().next().unwrap().len() as u64 + 1;
    let mut resumed = OutputCursor::from_offset(first_line);
    let rest = client
        .task_output(task, OutputType::Event, &mut resumed)
        .await
        .unwrap();
    assert_eq!(rest, lines[1..].to_vec());

    // What the Director now knows.
    let deployments = client.deployments().await.unwrap();
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0].name, "app");
    let deployed = client.deployment_manifest("app").await.unwrap().unwrap();
    assert!(deployed.contains("instance_groups"), "{deployed}");
    let tasks = client
        .tasks(&TaskFilter {
            deployment: Some("app".into()),
            limit: Some(10),
            ..TaskFilter::default()
        })
        .await
        .unwrap();
    assert!(tasks.iter().any(|t| t.id == task), "{tasks:?}");
    let shown = client.task(task).await.unwrap();
    assert_eq!(shown.state, TaskState::Done);
    assert_eq!(shown.context_id.as_deref(), Some("installation-7"));
    let running = client
        .tasks(&TaskFilter {
            states: vec!["processing".into(), "cancelling".into(), "queued".into()],
            ..TaskFilter::default()
        })
        .await
        .unwrap();
    assert!(
        running.iter().all(|t| !t.state.is_finished()),
        "{running:?}"
    );

    // A cloud-config diff against the current version.
    let changed = CLOUD_CONFIG.replace(
        "vm_types: [{name: small}]",
        "vm_types: [{name: small}, {name: large}]",
    );
    let config_diff = client
        .diff_config("cloud", "default", &changed)
        .await
        .unwrap();
    assert!(
        config_diff
            .diff
            .iter()
            .any(|(line, change)| line.contains("large") && change.as_deref() == Some("added")),
        "{config_diff:?}"
    );
    let variables = client.variables("app").await.unwrap();
    assert!(
        variables
            .iter()
            .any(|v| v.name.ends_with("/app/admin_password")),
        "{variables:?}"
    );
    assert!(client.locks().await.unwrap().is_empty());

    let instances = client.instances("app", |_| {}).await.unwrap();
    let web: Vec<_> = instances.iter().filter(|i| i.job_name == "web").collect();
    assert_eq!(web.len(), 2, "{instances:#?}");
    assert!(web.iter().all(|i| !i.ips.is_empty() && i.vm_cid.is_some()));
    let vms = client.vms("app").await.unwrap();
    assert_eq!(vms.iter().filter(|v| v.job == "web").count(), 2, "{vms:?}");

    // The errand.
    let errands = client.errands("app").await.unwrap();
    assert!(
        errands.iter().any(|e| e.name == "smoke-tests"),
        "{errands:?}"
    );
    let results = client
        .run_errand_and_wait("app", "smoke-tests", &ErrandRunOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(results[0].succeeded(), "{results:?}");

    let detailed = client.vms_full("app", |_| {}).await.unwrap();
    assert_eq!(detailed.iter().filter(|i| i.job_name == "web").count(), 2);

    // Stop one instance, then start everything.
    let one = web[0].id.clone();
    let task = client
        .change_job_state(
            "app",
            &JobTarget::Instance {
                group: "web".into(),
                id: one.clone(),
            },
            JobState::Stopped,
            &JobStateOptions::default(),
        )
        .await
        .unwrap();
    client.wait_for_task(task, |_| {}).await.unwrap();
    let stopped = client.instances("app", |_| {}).await.unwrap();
    let state_of = |list: &[server::director_client::Instance], id: &str| {
        list.iter()
            .find(|i| i.id == id)
            .and_then(|i| i.state.clone())
    };
    assert_eq!(
        state_of(&stopped, &one).as_deref(),
        Some("stopped"),
        "{stopped:#?}"
    );
    let task = client
        .change_job_state(
            "app",
            &JobTarget::All,
            JobState::Started,
            &JobStateOptions::default(),
        )
        .await
        .unwrap();
    client.wait_for_task(task, |_| {}).await.unwrap();
    let started = client.instances("app", |_| {}).await.unwrap();
    assert_eq!(
        state_of(&started, &one).as_deref(),
        Some("started"),
        "{started:#?}"
    );

    // Recreate one group.
    let task = client
        .change_job_state(
            "app",
            &JobTarget::Group("web".into()),
            JobState::Recreate,
            &JobStateOptions::default(),
        )
        .await
        .unwrap();
    client.wait_for_task(task, |_| {}).await.unwrap();

    // Delete.
    let task = client.delete_deployment("app", false).await.unwrap();
    client.wait_for_task(task, |_| {}).await.unwrap();
    assert!(!client.deployment_exists("app").await.unwrap());
    fixture.running.shutdown.shutdown().await;
}

#[tokio::test]
async fn failures_name_the_call_and_the_directors_message() {
    let fixture = start(|_| {}).await;
    let client = client(&fixture.running);

    let (call, status, message) =
        director_error(client.deployment_manifest("nope").await.unwrap_err());
    assert_eq!(call, "GET /deployments/nope");
    assert_eq!(status, Some(404));
    assert!(message.contains("nope"), "{message}");

    // A deploy whose release is missing: the task fails and the error carries its message.
    client.update_cloud_config(CLOUD_CONFIG).await.unwrap();
    let task = client
        .deploy(&manifest("broken", 1), &DeployOptions::default())
        .await
        .unwrap();
    let mut errors = Vec::new();
    let ended = client
        .follow_task(task, |e| {
            if e.is_error() {
                errors.push(e.describe())
            }
        })
        .await
        .unwrap();
    assert_eq!(ended.state, TaskState::Error);
    let err = ended.ensure_done().unwrap_err().to_string();
    assert!(err.contains(&format!("task {task}")), "{err}");
    assert!(err.contains("app"), "{err}");
    assert!(!errors.is_empty(), "the event log reports the error");

    // An upload the Director cannot read fails as a task with its reason.
    let task = client
        .upload_stemcell(
            &Upload::Bytes(b"not a tarball".to_vec()),
            UploadOptions::default(),
        )
        .await
        .unwrap();
    let err = client
        .wait_for_task(task, |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("ended in state error"), "{err}");
    fixture.running.shutdown.shutdown().await;
}

#[tokio::test]
async fn uploads_by_url_and_by_manifest() {
    let fixture = start(|_| {}).await;
    let client = client(&fixture.running);
    // The stand-in reads file:// locations (a real Director downloads http(s) ones).
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&tarball("release.MF", RELEASE_MF)).unwrap();
    let task = client
        .upload_release(
            &Upload::Url {
                url: format!("file://{}", file.path().display()),
                sha1: None,
            },
            UploadOptions::default(),
        )
        .await
        .unwrap();
    client.wait_for_task(task, |_| {}).await.unwrap();
    assert!(client.has_release("app", "1.0").await.unwrap());
    let task = client
        .upload_stemcell(
            &Upload::Manifest(STEMCELL_MF.into()),
            UploadOptions {
                fix: true,
                rebase: false,
            },
        )
        .await
        .unwrap();
    client.wait_for_task(task, |_| {}).await.unwrap();
    assert_eq!(client.stemcells().await.unwrap().len(), 1);
    fixture.running.shutdown.shutdown().await;
}

/// Behaviours the stand-in does not show but other Directors do, from a scripted Director on
/// plain HTTP: no `/configs` API (old Directors: `/cloud_configs` instead), a task redirect with
/// an absolute Location, task output that ignores `Range` (200 with everything) and ends without
/// a newline, and `instances?format=full` answered directly.
mod scripted_director {
    use super::*;
    use axum::extract::State;
    use axum::http::{header, HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use serde_json::json;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Script {
        task_polls: AtomicU32,
        output_reads: AtomicU32,
        ranges: Mutex<Vec<String>>,
        cloud_config: Mutex<Option<String>>,
        base: Mutex<String>,
    }

    async fn serve() -> (String, Arc<Script>) {
        let script = Arc::new(Script::default());
        let app = Router::new()
            .route(
                "/info",
                get(|| async {
                    Json(json!({"name": "old", "uuid": "u", "version": "262.0.0",
                                "user_authentication": {"type": "basic", "options": {}}}))
                }),
            )
            .route(
                "/configs",
                get(|| async { StatusCode::NOT_FOUND }).post(|| async { StatusCode::NOT_FOUND }),
            )
            .route(
                "/cloud_configs",
                get(|State(s): State<Arc<Script>>| async move {
                    let current = s.cloud_config.lock().unwrap().clone();
                    Json(match current {
                        Some(yaml) => json!([{"properties": yaml, "created_at": "x"}]),
                        None => json!([]),
                    })
                })
                .post(|State(s): State<Arc<Script>>, body: String| async move {
                    *s.cloud_config.lock().unwrap() = Some(body);
                    StatusCode::CREATED
                }),
            )
            .route(
                "/deployments",
                post(|State(s): State<Arc<Script>>| async move {
                    let location = format!("{}/tasks/9", s.base.lock().unwrap());
                    (StatusCode::FOUND, [(header::LOCATION, location)])
                }),
            )
            .route(
                "/deployments/{name}/instances",
                get(|| async {
                    Json(json!([{"job_name": "web", "id": "a", "index": 0, "ips": ["10.0.0.5"],
                                 "processes": [{"name": "server", "state": "running"}]}]))
                }),
            )
            .route(
                "/tasks/9",
                get(|State(s): State<Arc<Script>>| async move {
                    let polls = s.task_polls.fetch_add(1, Ordering::SeqCst);
                    let state = if polls < 2 { "processing" } else { "done" };
                    Json(json!({"id": 9, "state": state, "description": "create deployment"}))
                }),
            )
            .route(
                "/tasks/9/output",
                get(|State(s): State<Arc<Script>>, headers: HeaderMap| async move {
                    if let Some(range) = headers.get(header::RANGE) {
                        s.ranges
                            .lock()
                            .unwrap()
                            .push(range.to_str().unwrap_or_default().to_string());
                    }
                    let reads = s.output_reads.fetch_add(1, Ordering::SeqCst);
                    let one = r#"{"time":1,"stage":"Preparing deployment","tags":[],"total":1,"task":"Preparing deployment","index":1,"state":"started","progress":0}"#;
                    let two = r#"{"time":2,"stage":"Preparing deployment","tags":[],"total":1,"task":"Preparing deployment","index":1,"state":"finished","progress":100}"#;
                    // Ignores Range: always everything so far; the last line has no newline.
                    let body = if reads == 0 {
                        format!("{one}\n")
                    } else {
                        format!("{one}\n{two}")
                    };
                    (StatusCode::OK, body).into_response()
                }),
            )
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        *script.base.lock().unwrap() = base.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (base, script)
    }

    fn scripted_client(base: &str) -> DirectorClient {
        DirectorClient::new(DirectorTarget {
            url: base.to_string(),
            ca_cert_pem: None,
            client: "admin".into(),
            client_secret: "secret".into(),
        })
        .unwrap()
        .with_poll_interval(Duration::from_millis(10))
    }

    #[tokio::test]
    async fn cloud_config_falls_back_to_cloud_configs() {
        let (base, script) = serve().await;
        let client = scripted_client(&base);
        assert_eq!(client.cloud_config().await.unwrap(), None);
        client.update_cloud_config("azs: []\n").await.unwrap();
        assert_eq!(
            script.cloud_config.lock().unwrap().as_deref(),
            Some("azs: []\n")
        );
        assert_eq!(
            client.cloud_config().await.unwrap().as_deref(),
            Some("azs: []\n")
        );
    }

    #[tokio::test]
    async fn absolute_task_redirects_and_output_without_range_support() {
        let (base, script) = serve().await;
        let client = scripted_client(&base);
        let task = client
            .deploy("name: d\n", &DeployOptions::default())
            .await
            .unwrap();
        assert_eq!(task, 9);
        let mut events = Vec::new();
        let done = client
            .follow_task(task, |e| events.push(e.state.clone().unwrap_or_default()))
            .await
            .unwrap();
        assert_eq!(done.state, TaskState::Done);
        // Each line exactly once, although every read returned the whole log, and the last
        // line (no newline) delivered when the task ended.
        assert_eq!(events, vec!["started", "finished"]);
        let ranges = script.ranges.lock().unwrap().clone();
        assert_eq!(ranges.first().map(String::as_str), Some("bytes=0-"));
        assert!(ranges.iter().skip(1).all(|r| r != "bytes=0-"), "{ranges:?}");
    }

    #[tokio::test]
    async fn instances_answered_directly() {
        let (base, _script) = serve().await;
        let client = scripted_client(&base);
        let instances = client.instances("d", |_| {}).await.unwrap();
        assert_eq!(instances.len(), 1);
        assert_eq!(instances[0].processes[0].state, "running");
    }
}

#[tokio::test]
async fn a_queued_task_can_be_cancelled() {
    // One worker and slow VMs: the second deploy waits in the queue while the first runs.
    let fixture = start(|c| {
        c.workers = 1;
        c.vm_create_ms = 300;
    })
    .await;
    let client = client(&fixture.running);
    prepare(&client).await;
    let first = client
        .deploy(&manifest("first", 1), &DeployOptions::default())
        .await
        .unwrap();
    let second = client
        .deploy(&manifest("second", 1), &DeployOptions::default())
        .await
        .unwrap();
    assert_eq!(client.task(second).await.unwrap().state, TaskState::Queued);
    client.cancel_task(second).await.unwrap();
    let ended = client.follow_task(second, |_| {}).await.unwrap();
    assert_eq!(ended.state, TaskState::Cancelled);
    let err = ended.ensure_done().unwrap_err().to_string();
    assert!(err.contains("ended in state cancelled"), "{err}");
    // A finished task cannot be cancelled; the error carries the Director's reason.
    client.wait_for_task(first, |_| {}).await.unwrap();
    let (call, status, message) = director_error(client.cancel_task(first).await.unwrap_err());
    assert_eq!(call, format!("DELETE /task/{first}"));
    assert!(status.is_some_and(|s| s >= 400), "{status:?}");
    assert!(message.contains("Cannot cancel task"), "{message}");
    fixture.running.shutdown.shutdown().await;
}
