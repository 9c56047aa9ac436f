//! Several replicas on one database (issue 15): real `tileworks serve` processes, each with its
//! own data dir, on one database — the PostgreSQL database scripts/test.sh gives
//! (TILEWORKS_TEST_DATABASE_URL), or without it one SQLite file both open — deploying to one
//! Director (`tileworks director`, started here). What one replica knows, the others know:
//! login failures, the Apply Changes lock and its holder; a replica killed mid-apply is found
//! out by another within the lease, and a broker operation it was running is finished by
//! another replica. And the in-process Director stand-in is refused on
//! PostgreSQL.

mod common;
mod support;

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use support::director::Director;
use support::osb::*;
use support::pks::*;
use support::*;

/// One `tileworks director` (the stand-in on its own) for the replicas to share.
struct ExternalDirector {
    child: Child,
    _dir: tempfile::TempDir,
    flags: Vec<String>,
}

impl ExternalDirector {
    fn start(vm_create_ms: u64) -> ExternalDirector {
        let dir = tempfile::tempdir().unwrap();
        let secret = "shared-director-secret";
        let mut child = Command::new(binary())
            .args(["director", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--vm-create-ms", &vm_create_ms.to_string()])
            .env("TILEWORKS_DIRECTOR_CLIENT_SECRET", secret)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tileworks director");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("the director printed its URL").unwrap();
            if let Some(url) = line.split("listening on ").nth(1) {
                break url.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let ca = dir.path().join("tls").join("ca.crt");
        let flags = vec![
            "--director-url".into(),
            url,
            "--director-ca-cert".into(),
            ca.display().to_string(),
            "--director-client".into(),
            "admin".into(),
            "--director-client-secret".into(),
            secret.into(),
        ];
        ExternalDirector {
            child,
            _dir: dir,
            flags,
        }
    }

    /// `serve` flags: this Director, then `extra`.
    fn serve_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        args
    }
}

impl Drop for ExternalDirector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `om`'s password grant from the loopback address `from` (any 127.x.y.z reaches a server
/// listening on 127.0.0.1): its status.
async fn password_grant(server: &TestServer, from: &str, password: &str) -> u16 {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
        .post(server.at("/uaa/oauth/token"))
        .basic_auth("opsman", Some(""))
        .form(&[
            ("client_id", "opsman"),
            ("grant_type", "password"),
            ("username", ADMIN_USER),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn failed_logins_on_one_replica_throttle_the_same_user_and_address_on_another() {
    let director = ExternalDirector::start(0);
    let a = TestServer::start_with(&director.serve_args(&[]), Some(ADMIN_PASSWORD));
    let b = TestServer::start_replica(&a, &director.serve_args(&[]));
    // The per user+address limit is 5 failures.
    for _ in 0..5 {
        assert_eq!(password_grant(&a, "127.0.0.1", "wrong").await, 401);
    }
    // B counts A's failures: the right password from that address waits there too.
    assert_eq!(password_grant(&b, "127.0.0.1", ADMIN_PASSWORD).await, 429);
    assert_eq!(password_grant(&a, "127.0.0.1", ADMIN_PASSWORD).await, 429);
    // A source with a clean record is let through on either replica (a user name cannot be
    // locked out by someone else).
    assert_eq!(password_grant(&b, "127.0.0.2", ADMIN_PASSWORD).await, 200);
    assert_eq!(password_grant(&a, "127.0.0.3", ADMIN_PASSWORD).await, 200);
}

const HOSTNAME: &str = ".properties.pks_api_hostname";
/// The replicas' lease (seconds): short, so the test sees a dead holder found out quickly.
const LEASE_SECS: u64 = 2;

#[tokio::test]
async fn an_apply_locks_every_replica_and_a_killed_holder_is_failed_within_its_lease() {
    let director = ExternalDirector::start(4000);
    let lease = LEASE_SECS.to_string();
    let args = director.serve_args(&["--apply-lease-secs", &lease]);
    let mut a = TestServer::start_with(&args, Some(ADMIN_PASSWORD));
    let b = TestServer::start_replica(&a, &args);
    let api_b = Api::login(&b).await;
    let (id, guid) = {
        let api_a = Api::login(&a).await;
        let guid = stage_configured_pks(&api_a).await;
        let id = api_a.start_apply(json!({"deploy_products": "all"})).await;
        api_a.wait_for_log(id, "create deployment").await;
        (id, guid)
    };

    // While A runs it, B refuses writes and a second apply with 409 naming A's installation.
    let write = api_b
        .set_property(&guid, HOSTNAME, json!("other.example.com"))
        .await;
    assert_eq!(write.expect(409)["installation_id"], id);
    let second = api_b
        .post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await;
    assert_eq!(second.expect(409)["installation_id"], id);
    // A renews its lease: longer than the lease later, the apply still runs.
    tokio::time::sleep(Duration::from_millis(LEASE_SECS * 1000 + 1000)).await;
    let list = api_b.installations().await;
    assert_eq!(list["installations"][0]["id"], id);
    assert_eq!(list["installations"][0]["status"], "running", "{list:#}");

    // B's events stream of A's apply: the log as A stores it, polled from the database, until
    // the installation ends (here: failed by B below).
    let stream = api_b.installation_events(id).await;
    assert_eq!(stream.status(), 200);
    let stream = tokio::spawn(async move { stream.text().await.unwrap() });

    // kill -9 A mid-apply: B finds the lease run out and fails the installation, within the
    // lease and B's check period (a third of it), plus slack for a loaded machine.
    a.kill();
    let killed = Instant::now();
    let ended = loop {
        let r = api_b.get(&format!("/api/v0/installations/{id}")).await;
        if r.body["status"] != "running" {
            break r.body;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(LEASE_SECS + 10),
            "still running {:?} after the kill",
            killed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ended["status"], "failed", "{ended:#}");
    assert!(ended["finished_at"].is_string());
    let log = api_b.installation_log(id).await;
    assert!(
        log.contains(&format!(
            "Replica {} running this installation stopped renewing its lock",
            a.replica_id
        )) && log.contains(&format!("replica {} marked it failed", b.replica_id)),
        "{log}"
    );
    let events = tokio::time::timeout(Duration::from_secs(30), stream)
        .await
        .expect("B's events stream ends with the installation")
        .unwrap();
    let streamed: Vec<String> = events
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter(|v| v["type"] == "log")
        .map(|v| v["line"].as_str().unwrap().to_owned())
        .collect();
    let stored: Vec<String> = api_b
        .installation_log(id)
        .await
        .lines()
        .map(str::to_owned)
        .collect();
    // Every line up to the failure, once each, in order (the reconciled task's line comes later).
    assert_eq!(streamed[..], stored[..streamed.len()], "{events}");
    assert!(
        streamed.iter().any(|l| l.contains("create deployment")),
        "{events}"
    );
    assert!(
        streamed
            .iter()
            .any(|l| l.contains("stopped renewing its lock")),
        "{events}"
    );
    assert!(
        events
            .trim_end()
            .ends_with(r#"data: {"type":"finished","status":"failed"}"#),
        "{events}"
    );

    // Nothing staged was lost. B follows the Director task A left behind to its end (it holds
    // the deployment's lock on the Director); then writes and a new apply go ahead on B.
    assert_eq!(api_b.pending_action(&guid).await, "install");
    api_b
        .wait_for_log(id, "left running at the restart ended")
        .await;
    let next = api_b.apply_to_end(json!({"deploy_products": "all"})).await;
    assert!(next.id > id);
    next.expect("succeeded");
    assert!(api_b.deployed_guids().await.contains(&guid));
    api_b
        .set_property(&guid, HOSTNAME, json!("other.example.com"))
        .await
        .expect(200);
}

/// Holds (or releases) the Director's VM creations.
async fn cpi_paused(director: &Director, paused: bool) {
    let (status, body) = director
        .send(
            reqwest::Method::PUT,
            "/chaos/cpi",
            Some(json!({ "paused": paused })),
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
}

#[tokio::test]
async fn a_broker_operation_of_a_killed_replica_is_finished_by_another() {
    let director = ExternalDirector::start(0);
    let lease = LEASE_SECS.to_string();
    let args = director.serve_args(&["--apply-lease-secs", &lease]);
    let mut a = TestServer::start_with(&args, Some(ADMIN_PASSWORD));
    let b = TestServer::start_replica(&a, &args);
    let (osb, operation, bosh) = {
        let api = Api::login(&a).await;
        let guid = deploy_pks_for_broker(&api, Quotas::default()).await;
        let osb = Osb::of(&api, &guid).await;
        let bosh = Director::of(&api).await;
        let small = osb.plan_id("small").await;
        // The Director holds the cluster's deploy inside its first VM creation.
        cpi_paused(&bosh, true).await;
        let r = osb.provision("r1", &small, json!({})).await;
        assert_eq!(r.status, 202, "{:#}", r.body);
        let operation = r.body["operation"].as_str().unwrap().to_owned();
        (osb, operation, bosh)
    };
    // kill -9 the replica running the operation; the Director (its own process) keeps the task.
    a.kill();
    let osb = osb.at(&b.url);
    tokio::time::sleep(Duration::from_millis(LEASE_SECS * 1000 + 1500)).await;
    let last = osb.last_operation("r1", &operation).await.expect(200);
    assert_eq!(last["state"], "in progress", "{last:#}");
    // B took the operation over when A's claim ran out and follows its task: once the Director
    // goes on, the operation ends on B, succeeded — nobody else could have recorded it.
    cpi_paused(&bosh, false).await;
    let last = osb.wait("r1", &operation).await;
    assert_eq!(last["state"], "succeeded", "{last:#}");
    assert_eq!(osb.instance("r1").await.status, 200);
}

/// Debian's haproxy in front of `replicas` on a free loopback port, round robin, with its
/// statistics as CSV at `/haproxy-stats;csv`.
struct LoadBalancer {
    child: Child,
    _dir: tempfile::TempDir,
    url: String,
}

impl LoadBalancer {
    fn start(replicas: &[&TestServer]) -> LoadBalancer {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 60s\n    \
             timeout server 60s\nfrontend tileworks\n    bind 127.0.0.1:{port}\n    \
             stats enable\n    stats uri /haproxy-stats\n    default_backend replicas\n\
             backend replicas\n    balance roundrobin\n"
        );
        for (i, server) in replicas.iter().enumerate() {
            let address = server.url.trim_start_matches("http://");
            config.push_str(&format!("    server replica-{i} {address}\n"));
        }
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("/usr/sbin/haproxy")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .spawn()
            .expect("haproxy (scripts/install-tools.sh --for-tests installs Debian's)");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "haproxy did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        LoadBalancer {
            child,
            _dir: dir,
            url,
        }
    }

    /// Requests each replica answered so far (haproxy's `stot` per server).
    async fn requests_per_replica(&self) -> Vec<u64> {
        let csv = reqwest::get(format!("{}/haproxy-stats;csv", self.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let stot = header.iter().position(|h| *h == "stot").unwrap();
        csv.lines()
            .filter(|l| l.starts_with("replicas,replica-"))
            .map(|l| l.split(',').nth(stot).unwrap().parse().unwrap())
            .collect()
    }
}

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn an_operator_works_through_a_load_balancer_in_front_of_three_replicas() {
    let director = ExternalDirector::start(0);
    let args = director.serve_args(&[]);
    let first = TestServer::start_with(&args, Some(ADMIN_PASSWORD));
    let second = TestServer::start_replica(&first, &args);
    let mut third = TestServer::start_replica(&first, &args);
    let lb = LoadBalancer::start(&[&first, &second, &third]);
    // The operator's view: the third replica's handle, addressed through the load balancer
    // (every request of the flow below goes to the next replica in turn).
    let third_url = std::mem::replace(&mut third.url, lb.url.clone());
    {
        let api = Api::login(&third).await;
        let guid = stage_configured_pks(&api).await;
        let applied = api.apply_to_end(json!({"deploy_products": "all"})).await;
        applied.expect("succeeded");
        assert!(api.deployed_guids().await.contains(&guid));
        assert_eq!(api.pending_action(&guid).await, "unchanged");

        // A few seconds of mixed reads and writes from four clients at once: no errors.
        let until = Instant::now() + Duration::from_secs(5);
        let clients = (0..4).map(|n| {
            let api = &api;
            let guid = &guid;
            async move {
                let mut done = 0;
                while Instant::now() < until {
                    api.get("/api/v0/staged/products").await.expect(200);
                    api.get(&format!("/api/v0/staged/products/{guid}/properties"))
                        .await
                        .expect(200);
                    api.get("/api/v0/installations").await.expect(200);
                    api.set_property(guid, HOSTNAME, json!(format!("api-{n}.pks.example.com")))
                        .await
                        .expect(200);
                    done += 4;
                }
                done
            }
        });
        let done: usize = futures_util::future::join_all(clients).await.iter().sum();
        assert!(done > 0);
    }
    let spread = lb.requests_per_replica().await;
    assert_eq!(spread.len(), 3, "{spread:?}");
    assert!(
        spread.iter().all(|&n| n > 10),
        "requests per replica: {spread:?}"
    );
    third.url = third_url;
}

#[tokio::test]
async fn the_in_process_director_is_refused_on_postgresql() {
    // Refused from the URL alone, before connecting (nothing listens there).
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args([
            "--database-url",
            "postgres://tileworks@127.0.0.1:1/tileworks",
        ])
        .env_remove("TILEWORKS_DIRECTOR_URL")
        .env_remove("TILEWORKS_SINGLE_REPLICA")
        .env("TILEWORKS_ADMIN_PASSWORD", "x")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--director-url is required with a PostgreSQL database")
            && stderr.contains("tileworks director")
            && stderr.contains("--single-replica"),
        "{stderr}"
    );
}
