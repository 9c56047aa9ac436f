//! Several replicas on one database (issue 15): real `tileworks serve` processes, each with its
//! own data dir, on one database — the PostgreSQL database scripts/test.sh gives
//! (TILEWORKS_TEST_DATABASE_URL), or without it one SQLite file both open — deploying to one
//! Director (`tileworks director`, started here), and Debian's haproxy in front where an
//! operator would have a load balancer. What one replica knows, the others know: login
//! failures, sessions and tokens, the Apply Changes lock and its holder, a product's version.
//! An operator's whole flow (configure, apply, a cluster through the PKS API) and a mixed load
//! work through haproxy; a replica killed mid-apply — started directly or through haproxy — is
//! found out by another within the lease (and one only stopped past its lease stops its apply
//! once it goes on), and a broker operation it was running is finished
//! by another replica; two operators saving one product on two replicas get a 409, never a
//! lost write. And the in-process Director stand-in is refused on PostgreSQL.

mod common;
mod support;

use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use support::director::Director;
use support::external_director::ExternalDirector;
use support::osb::*;
use support::pks::*;
use support::*;

/// `om`'s password grant for the administrator through `client`: the answer.
async fn grant(client: &reqwest::Client, server: &TestServer, password: &str) -> reqwest::Response {
    client
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
}

/// `om`'s password grant from the loopback address `from` (any 127.x.y.z reaches a server
/// listening on 127.0.0.1): its status.
async fn password_grant(server: &TestServer, from: &str, password: &str) -> u16 {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    grant(&client, server, password).await.status().as_u16()
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
    // On PostgreSQL the replica running an apply announces its changes (LISTEN/NOTIFY), which
    // other replicas' events streams wait for: listen as they do.
    let mut listener = match a.database_url.as_deref() {
        Some(url) if url.starts_with("postgres") => {
            let mut listener = sqlx::postgres::PgListener::connect(url).await.unwrap();
            listener.listen("tileworks_installations").await.unwrap();
            Some(listener)
        }
        _ => None,
    };
    let (id, guid) = {
        let api_a = Api::login(&a).await;
        let guid = stage_configured_pks(&api_a).await;
        let id = api_a.start_apply(json!({"deploy_products": "all"})).await;
        (id, guid)
    };
    if let Some(listener) = listener.as_mut() {
        let heard = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let n = listener.recv().await.unwrap();
                if n.payload() == id.to_string() {
                    return;
                }
            }
        })
        .await;
        assert!(heard.is_ok(), "installation {id} was never announced");
    }
    // Seen through B, so the line is stored (A's own log shows lines its writer has yet to
    // store, and a kill -9 takes those with it).
    api_b.wait_for_log(id, "create deployment").await;

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
    let ended = wait_until_ended(&api_b, id, Duration::from_secs(LEASE_SECS + 10)).await;
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

/// A replica that stops renewing its lease without dying (its process stopped past the lease)
/// finds, once it goes on, that another replica failed its apply, and stops it there: it does
/// not carry on deploying and record the product as deployed behind the failed installation.
#[tokio::test]
async fn a_replica_that_lost_its_lease_while_stopped_does_not_carry_on_its_apply() {
    let director = ExternalDirector::start(0);
    let lease = LEASE_SECS.to_string();
    let args = director.serve_args(&["--apply-lease-secs", &lease]);
    let a = TestServer::start_with(&args, Some(ADMIN_PASSWORD));
    let b = TestServer::start_replica(&a, &args);
    let api_b = Api::login(&b).await;
    let bosh = director.bosh();
    let (id, guid) = {
        let api_a = Api::login(&a).await;
        let guid = stage_configured_pks(&api_a).await;
        // The deploy waits inside its first VM creation while the CPI is paused.
        cpi_paused(&bosh, true).await;
        let id = api_a.start_apply(json!({"deploy_products": "all"})).await;
        (id, guid)
    };
    api_b.wait_for_log(id, "create deployment").await;

    a.pause(true);
    let ended = wait_until_ended(&api_b, id, Duration::from_secs(LEASE_SECS + 10)).await;
    assert_eq!(ended["status"], "failed", "{ended:#}");
    a.pause(false);
    // A's next renewal (a third of the lease) finds the installation gone from it.
    tokio::time::sleep(Duration::from_millis(LEASE_SECS * 1000)).await;
    cpi_paused(&bosh, false).await;
    // The deploy task A left behind ends on the Director; B follows it to its end.
    api_b
        .wait_for_log(id, "left running at the restart ended")
        .await;
    // Had A carried on, it would have recorded the deploy by now (the task above ended).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(api_b.pending_action(&guid).await, "install");
    let ended = api_b.get(&format!("/api/v0/installations/{id}")).await.body;
    assert_eq!(ended["status"], "failed", "{ended:#}");
    // A lives, and the next apply goes ahead, through A itself.
    let api_a = Api::login(&a).await;
    api_a
        .apply_to_end(json!({"deploy_products": "all"}))
        .await
        .expect("succeeded");
    assert!(api_b.deployed_guids().await.contains(&guid));
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

/// Debian's haproxy in front of `replicas` on a free loopback port, round robin, as the README
/// sets it up plus what a test needs to see: which replica answered (`X-Served-By`, haproxy's
/// name `replica-<index>`) and haproxy's statistics as CSV at `/haproxy-stats;csv`. Health checks
/// take a dead replica out within about a second; a request that cannot connect to one is sent
/// to another (`retries`, `option redispatch`), as an operator's load balancer would.
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
        // `timeout check` well above `inter`: a replica slow to answer on a loaded machine is
        // not a dead one, and taking every replica out would turn the load into 503s.
        let mut config = format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 60s\n    \
             timeout server 60s\n    timeout check 5s\n    retries 3\n    option redispatch\n\
             frontend tileworks\n    bind 127.0.0.1:{port}\n    \
             stats enable\n    stats uri /haproxy-stats\n    default_backend replicas\n\
             backend replicas\n    balance roundrobin\n    option httpchk GET /api/v0/info\n    \
             default-server check inter 500ms fall 2 rise 1\n    \
             http-response set-header X-Served-By %[srv_name]\n"
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

    /// Makes `server`'s handle the operator's: every request made through it goes to the load
    /// balancer, which hands it to the next replica in turn.
    fn in_front_of(&self, server: &mut TestServer) {
        server.url = self.url.clone();
    }

    /// haproxy's statistics rows of the replicas, by column name.
    async fn replica_stats(&self, column: &str) -> Vec<String> {
        let csv = reqwest::get(format!("{}/haproxy-stats;csv", self.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let at = header.iter().position(|h| *h == column).unwrap();
        csv.lines()
            .filter(|l| l.starts_with("replicas,replica-"))
            .map(|l| l.split(',').nth(at).unwrap().to_owned())
            .collect()
    }

    /// Requests each replica answered so far (haproxy's `stot` per server).
    async fn requests_per_replica(&self) -> Vec<u64> {
        let counts = self.replica_stats("stot").await;
        counts.iter().map(|n| n.parse().unwrap()).collect()
    }

    /// Waits (at most 10 s) until haproxy's checks have taken replica `index` out.
    async fn wait_until_down(&self, index: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = self.replica_stats("status").await;
            if status[index].starts_with("DOWN") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "replica-{index} still {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `POST path` with `body` as `api` sends it, through the load balancer: the reply and the
/// index of the replica haproxy gave it to (its `X-Served-By`).
async fn post_served_by(api: &Api<'_>, path: &str, body: serde_json::Value) -> (Reply, usize) {
    let r = reqwest::Client::new()
        .post(api.server.at(path))
        .bearer_auth(&api.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let served_by = r.headers()["x-served-by"].to_str().unwrap().to_owned();
    let index = served_by
        .strip_prefix("replica-")
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("X-Served-By: {served_by}"));
    (reply(r).await, index)
}

/// Three replicas of one database on `director`, each started with `args`.
fn three_replicas(args: &[&str]) -> Vec<TestServer> {
    let first = TestServer::start_with(args, Some(ADMIN_PASSWORD));
    let second = TestServer::start_replica(&first, args);
    let third = TestServer::start_replica(&first, args);
    vec![first, second, third]
}

/// Polls an installation through `api` until it is no longer running; the last status body.
async fn wait_until_ended(api: &Api<'_>, id: i64, within: Duration) -> serde_json::Value {
    let since = Instant::now();
    loop {
        let r = api.get(&format!("/api/v0/installations/{id}")).await;
        if r.body["status"] != "running" {
            return r.body;
        }
        assert!(
            since.elapsed() < within,
            "installation {id} still running after {:?}",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How long the mixed load runs: a minute on PostgreSQL, where several replicas are the real
/// use (scripts/test.sh's second pass); a few seconds on SQLite (one file shared by processes
/// on one machine, a test set-up rather than a deployment), so the suite's first pass checks the
/// load's requests without paying the minute twice.
fn load_duration(first: &TestServer) -> Duration {
    let on_postgres = first
        .database_url
        .as_deref()
        .is_some_and(|url| url.starts_with("postgres"));
    Duration::from_secs(if on_postgres { 60 } else { 5 })
}

/// The mixed load's requests of one kind: how many were answered as expected, how many not,
/// and the first few of those.
#[derive(Default)]
struct Tally {
    ok: usize,
    failed: usize,
    first_failures: Vec<String>,
}

impl Tally {
    fn count(&mut self, what: &str, status: u16, expected: u16) {
        if status == expected {
            self.ok += 1;
            return;
        }
        self.failed += 1;
        if self.first_failures.len() < 5 {
            self.first_failures.push(format!("{what}: {status}"));
        }
    }
}

/// What the mixed load did, per kind of request.
#[derive(Default)]
struct LoadReport {
    logins: Tally,
    pages: Tally,
    reads: Tally,
    writes: Tally,
}

/// One operator of the mixed load: until `until`, in turn — sign in through the login form and
/// take a token with om's password grant; read the PKS plan form, the dashboard and the
/// Clusters page with the session; read staged products, the product's properties, the Change
/// Log and the PKS API's clusters with the token; save the PKS API hostname (staged).
async fn operator_load(front: &TestServer, guid: &str, n: usize, until: Instant) -> LoadReport {
    let mut report = LoadReport::default();
    let token_client = reqwest::Client::new();
    let mut round = 0;
    while Instant::now() < until {
        round += 1;
        let browser = browser();
        let login = log_in(&browser, front, ADMIN_USER, ADMIN_PASSWORD).await;
        report
            .logins
            .count("POST /login", login.status().as_u16(), 303);
        let grant = grant(&token_client, front, ADMIN_PASSWORD).await;
        let status = grant.status().as_u16();
        report.logins.count("POST /uaa/oauth/token", status, 200);
        let body: serde_json::Value = grant.json().await.unwrap_or_default();
        let Some(token) = body["access_token"].as_str() else {
            continue;
        };
        let plan_form = format!("/products/{guid}/settings?form=plan1");
        // Without the session a page is a redirect to the login form, so 200 means the
        // replica that answered knew the session another one created.
        for page in [plan_form.as_str(), "/", "/clusters"] {
            let r = browser.get(front.at(page)).send().await.unwrap();
            report
                .pages
                .count(&format!("GET {page}"), r.status().as_u16(), 200);
        }
        let properties = format!("/api/v0/staged/products/{guid}/properties");
        for read in [
            "/api/v0/staged/products",
            properties.as_str(),
            "/api/v0/installations",
            "/pks/v1/clusters",
        ] {
            let r = token_client
                .get(front.at(read))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            report
                .reads
                .count(&format!("GET {read}"), r.status().as_u16(), 200);
        }
        let write = token_client
            .put(front.at(&properties))
            .bearer_auth(token)
            .json(&json!({"properties": {
                HOSTNAME: {"value": format!("api-{n}-{round}.pks.example.com")},
            }}))
            .send()
            .await
            .unwrap();
        report
            .writes
            .count(&format!("PUT {properties}"), write.status().as_u16(), 200);
    }
    report
}

/// The operator's whole flow through haproxy in front of three replicas, every request going to
/// the next replica in turn: configure the Director and PKS, apply, and once PKS is deployed
/// create a cluster through the PKS API (the broker deploys it to the shared Director) and get
/// its kubeconfig. Then a mixed load of four operators — logins, pages, API reads, staged
/// writes — with no error at all; [`load_duration`] says how long, and why it is a minute on
/// PostgreSQL only.
#[tokio::test]
async fn an_operator_works_through_a_load_balancer_in_front_of_three_replicas() {
    let director = ExternalDirector::start(0);
    let bosh = director.bosh();
    let args = director.serve_args(&[]);
    let mut replicas = three_replicas(&args);
    let load_for = load_duration(&replicas[0]);
    let lb = LoadBalancer::start(&replicas.iter().collect::<Vec<_>>());
    lb.in_front_of(&mut replicas[2]);
    let front = &replicas[2];
    let api = Api::login(front).await;

    let guid = stage_configured_pks(&api).await;
    let applied = api.apply_to_end(json!({"deploy_products": "all"})).await;
    applied.expect("succeeded");
    assert!(api.deployed_guids().await.contains(&guid));
    assert_eq!(api.pending_action(&guid).await, "unchanged");

    // PKS is deployed: its plans, a cluster created, followed to its end and on the Director,
    // its kubeconfig — each request to another replica than the one before.
    let plans = api.get("/pks/v1/plans").await.expect(200);
    assert_eq!(plans[0]["name"], "small", "{plans:#}");
    let created = api
        .post(
            "/pks/v1/clusters",
            json!({
                "name": "through-lb",
                "plan_name": "small",
                "parameters": {"kubernetes_master_host": "through-lb.example.com",
                               "kubernetes_worker_instances": 2},
            }),
        )
        .await
        .expect(202);
    let uuid = created["uuid"].as_str().unwrap();
    let cluster = settled_cluster(&api, "through-lb").await;
    assert_eq!(cluster["last_action_state"], "succeeded", "{cluster:#}");
    assert!(bosh
        .deployment_names()
        .await
        .contains(&format!("service-instance_{uuid}")));
    let kubeconfig = api
        .post("/pks/v1/clusters/through-lb/binds", json!({}))
        .await
        .expect(200);
    assert_eq!(kubeconfig["kind"], "Config");
    assert_eq!(kubeconfig["clusters"][0]["name"], "through-lb");
    let spread = lb.requests_per_replica().await;
    assert!(
        spread.iter().all(|&n| n > 10),
        "requests per replica: {spread:?}"
    );

    let until = Instant::now() + load_for;
    let operators = (0..4).map(|n| operator_load(front, &guid, n, until));
    let reports = futures_util::future::join_all(operators).await;
    for (kind, tally) in [
        (
            "logins",
            reports.iter().map(|r| &r.logins).collect::<Vec<_>>(),
        ),
        ("pages", reports.iter().map(|r| &r.pages).collect()),
        ("API reads", reports.iter().map(|r| &r.reads).collect()),
        ("staged writes", reports.iter().map(|r| &r.writes).collect()),
    ] {
        let ok: usize = tally.iter().map(|t| t.ok).sum();
        let failed: usize = tally.iter().map(|t| t.failed).sum();
        let first: Vec<&String> = tally.iter().flat_map(|t| &t.first_failures).collect();
        assert_eq!(
            failed,
            0,
            "{kind}: {failed} of {} failed, first: {first:?}",
            ok + failed
        );
        assert!(ok > 0, "no {kind} in {load_for:?}");
        // What the load amounted to, for the test's output (not checked: it depends on the
        // machine).
        eprintln!("mixed load, {load_for:?}: {ok} {kind}, no error");
    }
    let after = lb.requests_per_replica().await;
    let during: Vec<u64> = after.iter().zip(&spread).map(|(a, b)| a - b).collect();
    assert!(
        during.iter().all(|&n| n > 10),
        "load per replica: {during:?}"
    );
}

/// Apply Changes started through the load balancer, and the replica haproxy gave it to killed
/// (-9) while its deploy waits on the Director: haproxy takes that replica out, another replica
/// fails the installation within the lease and says why in its log, the Change Log and the lock
/// agree (nothing running, writes accepted again), and once the Director's task has ended the
/// next apply through the load balancer succeeds.
#[tokio::test]
async fn a_replica_killed_during_an_apply_started_through_the_load_balancer_is_found_out() {
    let director = ExternalDirector::start(0);
    let bosh = director.bosh();
    let lease = LEASE_SECS.to_string();
    let args = director.serve_args(&["--apply-lease-secs", &lease]);
    let mut replicas = three_replicas(&args);
    let ids: Vec<String> = replicas.iter().map(|r| r.replica_id.clone()).collect();
    let lb = LoadBalancer::start(&replicas.iter().collect::<Vec<_>>());
    lb.in_front_of(&mut replicas[0]);

    let (guid, id, holder) = {
        let api = Api::login(&replicas[0]).await;
        let guid = stage_configured_pks(&api).await;
        // The Director holds the deploy inside its first VM creation.
        cpi_paused(&bosh, true).await;
        let (r, holder) = post_served_by(
            &api,
            "/api/v0/installations",
            json!({"deploy_products": "all"}),
        )
        .await;
        let id = r.expect(200)["install"]["id"].as_i64().unwrap();
        api.wait_for_log(id, "create deployment").await;
        // The lock holds on every replica: three writes, one to each.
        for _ in 0..3 {
            let write = api
                .set_property(&guid, HOSTNAME, json!("other.example.com"))
                .await;
            assert_eq!(write.expect(409)["installation_id"], id);
        }
        (guid, id, holder)
    };

    replicas[holder].kill();
    let killed = Instant::now();
    lb.wait_until_down(holder).await;
    let api = Api::login(&replicas[0]).await;
    // Within the lease and a check period (a third of it), plus slack for a loaded machine.
    let end = wait_until_ended(&api, id, Duration::from_secs(LEASE_SECS + 10)).await;
    assert_eq!(end["status"], "failed", "{end:#}");
    assert!(killed.elapsed() < Duration::from_secs(LEASE_SECS + 10));
    let log = api.installation_log(id).await;
    let lost = format!(
        "Replica {} running this installation stopped renewing its lock",
        ids[holder]
    );
    assert!(log.contains(&lost), "{log}");
    let by_survivor = ids
        .iter()
        .enumerate()
        .any(|(i, id)| i != holder && log.contains(&format!("replica {id} marked it failed")));
    assert!(by_survivor, "{log}");
    // The Change Log says the same, and nothing holds the lock: a write goes through, and the
    // staged product is still to be installed.
    let change_log = api.installations().await;
    assert_eq!(change_log["installations"][0]["id"], id);
    assert_eq!(
        change_log["installations"][0]["status"], "failed",
        "{change_log:#}"
    );
    api.set_property(&guid, HOSTNAME, json!("api.pks.example.com"))
        .await
        .expect(200);
    assert_eq!(api.pending_action(&guid).await, "install");

    // A survivor follows the deploy task the dead replica left on the Director to its end;
    // then the next apply, through the load balancer, succeeds.
    cpi_paused(&bosh, false).await;
    api.wait_for_log(id, "left running at the restart ended")
        .await;
    let next = api.apply_to_end(json!({"deploy_products": "all"})).await;
    assert!(next.id > id);
    next.expect("succeeded");
    assert!(api.deployed_guids().await.contains(&guid));
}

/// Saves the PKS API hostname at `path` from `version` (`If-Match`).
async fn save_hostname(api: &Api<'_>, path: &str, value: &str, version: i64) -> Reply {
    let body = json!({"properties": {HOSTNAME: {"value": value}}});
    api.put_at(path, body, version).await
}

/// Two operators on two replicas saving the same product from the same version at the same
/// moment: one save is taken, the other is refused with 409 naming the property, who changed it
/// and its value now — never both taken, the second silently over the first. Several rounds, so
/// either replica may win; the refused operator's save, read again, then goes through.
#[tokio::test]
async fn two_operators_on_two_replicas_saving_one_product_get_a_409_not_a_lost_write() {
    let director = ExternalDirector::start(0);
    let args = director.serve_args(&[]);
    let a = TestServer::start_with(&args, Some(ADMIN_PASSWORD));
    let b = TestServer::start_replica(&a, &args);
    let guid = {
        let admin = Api::login(&a).await;
        configure_director(&admin).await;
        admin.stage(PKS, "latest").await
    };
    let one = Api::client(&a, "operator-one", "full_control").await;
    let two = Api::client(&b, "operator-two", "full_control").await;
    let path = format!("/api/v0/staged/products/{guid}/properties");

    for round in 0..8 {
        let version = one.version_of(&path).await;
        assert_eq!(two.version_of(&path).await, version);
        let mine = [
            format!("one-{round}.example.com"),
            format!("two-{round}.example.com"),
        ];
        let (r1, r2) = tokio::join!(
            save_hostname(&one, &path, &mine[0], version),
            save_hostname(&two, &path, &mine[1], version)
        );
        let statuses = [r1.status.as_u16(), r2.status.as_u16()];
        let winner = match statuses {
            [200, 409] => 0,
            [409, 200] => 1,
            other => panic!("round {round}: {other:?}, {:#} {:#}", r1.body, r2.body),
        };
        let refused = if winner == 0 { r2.body } else { r1.body };
        assert_eq!(refused["config_version"], version + 1, "{refused:#}");
        assert_eq!(refused["changed"], json!([HOSTNAME]), "{refused:#}");
        let change = &refused["changes"][0];
        assert_eq!(change["reference"], HOSTNAME, "{refused:#}");
        let names = ["operator-one", "operator-two"];
        assert_eq!(change["changed_by"], names[winner], "{refused:#}");
        assert_eq!(change["value"], mine[winner].as_str(), "{refused:#}");
        // Both replicas hold the winner's value, at the new version.
        for api in [&one, &two] {
            let stored = api.properties(&guid).await;
            assert_eq!(
                stored["properties"][HOSTNAME]["value"],
                mine[winner].as_str()
            );
        }
        // The refused operator reads again and saves: now it is taken.
        let loser = if winner == 0 { &two } else { &one };
        let again = loser.version_of(&path).await;
        assert_eq!(again, version + 1);
        save_hostname(loser, &path, &mine[1 - winner], again)
            .await
            .expect(200);
    }
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
