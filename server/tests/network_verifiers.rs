//! The install-time verifiers that reach the network, through the real server against real
//! peers the test starts on loopback: an HTTP server, an SMTP server, an LDAP server, a TLS
//! listener standing in for a vCenter, and Debian's chronyd as an NTP server.
//!
//! Ops Manager's verifiers a tile names (`Verifiers::WildcardDomainVerifier`,
//! `HttpSuccessVerifier`, `SsoUrlVerifier`, `SmtpAuthenticationVerifier`, `LDAPBindVerifier`,
//! `VsphereConfigurationVerifier`) each pass against a peer that answers and fail, naming the
//! form and field, against one that does not (or refuses the credentials); an ignorable one
//! only warns; `run_on: major_or_minor_upgrades` skips a patch upgrade and says so in the
//! log; om's `disable-product-verifiers` shape switches one off. The Director's
//! `IaasConfigurationVerifier`, `NetworksPingableVerifier` and `NtpVerifier` do the same on
//! vSphere, and pass on the embedded IaaS with a note. Credentials never appear in what the API answers.

mod common;
mod support;

use std::net::SocketAddr;

use axum::routing::get;
use base64::Engine;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::external_director::ExternalDirector;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const SMTP_USER: &str = "mailer";
const SMTP_PASSWORD: &str = "smtp-Secret-0451";
const LDAP_DN: &str = "cn=admin,dc=example,dc=org";
const LDAP_PASSWORD: &str = "ldap-Secret-0452";

/// A job-less tile naming Ops Manager's network verifiers, each reading its own properties.
fn tile(version: &str) -> Vec<u8> {
    let metadata = format!(
        r#"name: reachy
product_version: {version}
metadata_version: '2.1'
label: Reachy
rank: 1
minimum_version_for_upgrade: 1.0.0
stemcell_criteria: {{os: ubuntu-xenial, version: '97.17'}}
releases: []
install_time_verifiers:
- name: Verifiers::WildcardDomainVerifier
  properties:
    domain: .properties.apps_domain
- name: Verifiers::HttpSuccessVerifier
  properties:
    host: .properties.health_host
    port: .properties.health_port
    path: .properties.health_path
    scheme: http
    must_match_regex: '/status: green/'
- name: Verifiers::SsoUrlVerifier
  ignorable: true
  properties:
    url: .properties.sso_url
- name: Verifiers::SmtpAuthenticationVerifier
  properties:
    credentials: .properties.smtp_credentials
    address: .properties.smtp_address
    port: .properties.smtp_port
    helo_domain: tileworks.test
    authentication: plain
    enable_starttls_auto: true
- name: Verifiers::LDAPBindVerifier
  run_on: major_or_minor_upgrades
  properties:
    url: .properties.ldap_url
    credentials: .properties.ldap_credentials
- name: Verifiers::VsphereConfigurationVerifier
  properties:
    vcenter_hosturl: .properties.vcenter_host
    vcenter_credentials: .properties.vcenter_credentials
    datacenter: dc1
    datastore_pattern: '^ds'
property_blueprints:
- {{name: apps_domain, type: wildcard_domain, configurable: true, optional: true}}
- {{name: health_host, type: network_address, configurable: true, optional: true}}
- {{name: health_port, type: port, configurable: true, optional: true}}
- {{name: health_path, type: string, configurable: true, default: /health}}
- {{name: sso_url, type: http_url, configurable: true, optional: true}}
- {{name: smtp_address, type: network_address, configurable: true, optional: true}}
- {{name: smtp_port, type: port, configurable: true, optional: true}}
- {{name: smtp_credentials, type: simple_credentials, configurable: true, optional: true}}
- {{name: ldap_url, type: ldap_url, configurable: true, optional: true}}
- {{name: ldap_credentials, type: simple_credentials, configurable: true, optional: true}}
- {{name: vcenter_host, type: string, configurable: true, optional: true}}
- {{name: vcenter_credentials, type: simple_credentials, configurable: true, optional: true}}
form_types:
- name: integrations
  label: Integrations
  property_inputs:
  - {{reference: .properties.apps_domain, label: Apps domain}}
  - {{reference: .properties.health_host, label: Health check host}}
  - {{reference: .properties.health_port, label: Health check port}}
  - {{reference: .properties.health_path, label: Health check path}}
  - {{reference: .properties.sso_url, label: SSO URL}}
  - {{reference: .properties.smtp_address, label: SMTP address}}
  - {{reference: .properties.smtp_port, label: SMTP port}}
  - {{reference: .properties.smtp_credentials, label: SMTP credentials}}
  - {{reference: .properties.ldap_url, label: LDAP URL}}
  - {{reference: .properties.ldap_credentials, label: LDAP credentials}}
  - {{reference: .properties.vcenter_host, label: vCenter host}}
  - {{reference: .properties.vcenter_credentials, label: vCenter credentials}}
job_types: []
post_deploy_errands: []
"#
    );
    pivotal(&[("metadata/reachy.yml", metadata.as_bytes(), true)])
}

/// A server on the embedded Director, configured as om does it, with the tile staged at 1.0.0.
async fn staged() -> (TestServer, String) {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let guid = {
        let api = Api::login(&server).await;
        configure_director(&api).await;
        import_and_stage(&api, "1.0.0").await
    };
    (server, guid)
}

async fn import_and_stage(api: &Api<'_>, version: &str) -> String {
    let r = api
        .upload(&format!("reachy-{version}.pivotal"), tile(version))
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": "reachy", "product_version": version})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    api.set_networks_and_azs(
        &guid,
        json!({"network": {"name": "infra"}, "singleton_availability_zone": {"name": "az1"},
               "other_availability_zones": [{"name": "az1"}]}),
    )
    .await
    .expect(200);
    guid
}

/// Imports `version` and upgrades the staged product to it, as om `stage-product` does.
async fn upgrade(api: &Api<'_>, guid: &str, version: &str) {
    let r = api
        .upload(&format!("reachy-{version}.pivotal"), tile(version))
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    api.put(
        &format!("/api/v0/staged/products/{guid}"),
        json!({"to_version": version}),
    )
    .await
    .expect(200);
}

/// An HTTP peer: `/health` answers 200 "status: green", `/sick` 200 "status: red", `/sso`
/// 200, anything else 404.
async fn http_peer() -> SocketAddr {
    let app = axum::Router::new()
        .route("/health", get(|| async { "status: green" }))
        .route("/sick", get(|| async { "status: red" }))
        .route("/sso", get(|| async { "sign in" }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A loopback listener running `session` on each connection it accepts.
async fn peer<F, Fut>(session: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(session(stream));
        }
    });
    addr
}

/// An SMTP peer offering AUTH PLAIN that accepts only [`SMTP_USER`]/[`SMTP_PASSWORD`].
async fn smtp_peer() -> SocketAddr {
    peer(|stream| async move {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 peer ESMTP\r\n").await.unwrap();
        while let Ok(Some(line)) = lines.next_line().await {
            let expected = base64::engine::general_purpose::STANDARD
                .encode(format!("\0{SMTP_USER}\0{SMTP_PASSWORD}"));
            let answer: &[u8] = if line.starts_with("EHLO ") {
                b"250-peer\r\n250 AUTH PLAIN LOGIN\r\n"
            } else if let Some(token) = line.strip_prefix("AUTH PLAIN ") {
                if token == expected {
                    b"235 2.7.0 accepted\r\n"
                } else {
                    b"535 5.7.8 bad credentials\r\n"
                }
            } else if line == "QUIT" {
                write.write_all(b"221 bye\r\n").await.unwrap();
                return;
            } else {
                b"502 what\r\n"
            };
            write.write_all(answer).await.unwrap();
        }
    })
    .await
}

/// An LDAP peer answering one simple bind: success for [`LDAP_DN`]/[`LDAP_PASSWORD`], else
/// invalidCredentials (49).
async fn ldap_peer() -> SocketAddr {
    peer(|mut stream| async move {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(head[0], 0x30, "an LDAPMessage");
        let mut body = vec![0u8; usize::from(head[1])];
        stream.read_exact(&mut body).await.unwrap();
        let ends_with_credentials = {
            let mut want = vec![0x04, LDAP_DN.len() as u8];
            want.extend(LDAP_DN.as_bytes());
            want.extend([0x80, LDAP_PASSWORD.len() as u8]);
            want.extend(LDAP_PASSWORD.as_bytes());
            body.ends_with(&want)
        };
        let code = if ends_with_credentials { 0 } else { 49 };
        stream
            .write_all(&[
                0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, code, 0x04, 0x00, 0x04, 0x00,
            ])
            .await
            .unwrap();
    })
    .await
}

/// A TLS listener (a vCenter's HTTPS, self-signed) answering every GET.
async fn tls_peer() -> SocketAddr {
    serve_tls(axum::Router::new().route("/", get(|| async { "vSphere" }))).await
}

/// Serves `app` over TLS (self-signed for localhost) on a loopback port.
async fn serve_tls(app: axum::Router) -> SocketAddr {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(
        cert.cert.pem().into_bytes(),
        cert.key_pair.serialize_pem().into_bytes(),
    )
    .await
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum_server::from_tcp_rustls(listener, config)
            .serve(app.into_make_service())
            .await
            .unwrap()
    });
    addr
}

/// A vCenter's Automation API as the vSphere docs describe it, over TLS (self-signed): the
/// user `administrator@vsphere.local` with [`VCENTER_PASSWORD`] gets a session; with it the
/// datacenter `dc1` and the datastores `ds1`, `ds2` in it are listed by name. `rest`: vCenter
/// 6.7's `/rest` paths and `{"value": …}` answers, and no `/api`.
async fn vcenter_peer(rest: bool) -> SocketAddr {
    use axum::extract::RawQuery;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    const TOKEN: &str = "session-4f1c";
    let wrap = move |v: Value| if rest { json!({ "value": v }) } else { v };
    let signed_in = |headers: &HeaderMap| {
        headers
            .get("vmware-api-session-id")
            .is_some_and(|v| v == TOKEN)
    };
    let names = move |query: &Option<String>, key: &str| -> Vec<String> {
        let key = if rest {
            format!("filter.{key}")
        } else {
            key.to_owned()
        };
        query
            .as_deref()
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
            .collect()
    };
    let prefix = if rest {
        "/rest/vcenter"
    } else {
        "/api/vcenter"
    };
    let session = if rest {
        "/rest/com/vmware/cis/session"
    } else {
        "/api/session"
    };
    let app = axum::Router::new()
        .route(
            session,
            post(move |headers: HeaderMap| async move {
                let expected = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("administrator@vsphere.local:{VCENTER_PASSWORD}"))
                );
                if headers
                    .get("authorization")
                    .is_some_and(|v| *v == *expected)
                {
                    (StatusCode::CREATED, axum::Json(wrap(json!(TOKEN))))
                } else {
                    (
                        StatusCode::UNAUTHORIZED,
                        axum::Json(json!({"error_type": "UNAUTHENTICATED"})),
                    )
                }
            })
            .delete(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            &format!("{prefix}/datacenter"),
            get(
                move |headers: HeaderMap, RawQuery(query): RawQuery| async move {
                    if !signed_in(&headers) {
                        return (StatusCode::UNAUTHORIZED, axum::Json(json!({})));
                    }
                    let found: Vec<Value> = names(&query, "names")
                        .into_iter()
                        .filter(|n| n == "dc1")
                        .map(|n| json!({"datacenter": "datacenter-3", "name": n}))
                        .collect();
                    (StatusCode::OK, axum::Json(wrap(json!(found))))
                },
            ),
        )
        .route(
            &format!("{prefix}/datastore"),
            get(
                move |headers: HeaderMap, RawQuery(query): RawQuery| async move {
                    if !signed_in(&headers) {
                        return (StatusCode::UNAUTHORIZED, axum::Json(json!({})));
                    }
                    let in_dc1 = names(&query, "datacenters") == ["datacenter-3"];
                    let found: Vec<Value> = names(&query, "names")
                        .into_iter()
                        .filter(|n| in_dc1 && (n == "ds1" || n == "ds2"))
                        .map(|n| json!({"datastore": format!("datastore-{n}"), "name": n}))
                        .collect();
                    (StatusCode::OK, axum::Json(wrap(json!(found))))
                },
            ),
        );
    serve_tls(app).await
}

/// A real NTP server on a loopback UDP port: Debian's chronyd (unpacked into
/// `target/tools/chrony` by `scripts/install-tools.sh --for-tests`, or
/// `TILEWORKS_TEST_CHRONYD`), serving its local clock at stratum 8 without touching the
/// system's, answering once it serves. Killed when dropped.
struct NtpServer {
    port: u16,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for NtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn ntp_server() -> NtpServer {
    let binary = std::env::var("TILEWORKS_TEST_CHRONYD").map_or_else(
        |_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/tools/chrony/usr/sbin/chronyd")
        },
        std::path::PathBuf::from,
    );
    assert!(
        binary.is_file(),
        "no chronyd at {}: run scripts/install-tools.sh --for-tests (it unpacks Debian's chrony \
         into target/tools/chrony), or set TILEWORKS_TEST_CHRONYD",
        binary.display()
    );
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("chrony.conf");
    std::fs::write(
        &config,
        format!(
            "port {port}\nbindaddress 127.0.0.1\ncmdport 0\nlocal stratum 8\nallow 127.0.0.1\n\
             driftfile {d}/drift\npidfile {d}/chronyd.pid\n",
            d = dir.path().display()
        ),
    )
    .unwrap();
    let mut command = std::process::Command::new(&binary);
    // -x: never adjust the system clock; -d: stay in the foreground; as root, stay root (the
    // unpacked package has no `_chrony` user to drop to).
    command.args(["-x", "-d", "-f"]).arg(&config);
    if running_as_root() {
        command.args(["-u", "root"]);
    }
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let server = NtpServer {
        port,
        child,
        _dir: dir,
    };
    // Serving once it answers a client request.
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut request = [0u8; 48];
    request[0] = 0x23;
    for _ in 0..100 {
        socket.send_to(&request, ("127.0.0.1", port)).await.unwrap();
        let mut answer = [0u8; 64];
        let got = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            socket.recv_from(&mut answer),
        )
        .await;
        if matches!(got, Ok(Ok((48, _)))) && answer[1] != 0 {
            return server;
        }
    }
    panic!("chronyd did not serve the time on 127.0.0.1:{port} within 10 seconds");
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A loopback UDP port nothing listens on (bound, then let go).
fn closed_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A loopback port nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A pre-deploy check's verifiers: `(type, ignorable, errors)`.
async fn check_verifiers(api: &Api<'_>, path: &str) -> Vec<(String, bool, Vec<String>)> {
    verifier_errors(&api.get(path).await.expect(200))
}

async fn findings(api: &Api<'_>, guid: &str) -> Vec<(String, bool, Vec<String>)> {
    check_verifiers(
        api,
        &format!("/api/v0/staged/products/{guid}/pre_deploy_check"),
    )
    .await
}

fn only(found: &[(String, bool, Vec<String>)], kind: &str) -> Vec<String> {
    found
        .iter()
        .filter(|(k, _, _)| k == kind)
        .flat_map(|(_, _, e)| e.clone())
        .collect()
}

async fn set(api: &Api<'_>, guid: &str, properties: Value) {
    api.set_properties(guid, properties).await.expect(200);
}

#[tokio::test]
async fn each_tile_verifier_passes_against_a_live_peer_and_fails_naming_its_field() {
    let (server, guid) = staged().await;
    let api = Api::login(&server).await;

    // om's GET lists them under their bare type names.
    let kinds = api.verifier_types(&guid).await;
    assert_eq!(
        kinds,
        [
            "WildcardDomainVerifier",
            "HttpSuccessVerifier",
            "SsoUrlVerifier",
            "SmtpAuthenticationVerifier",
            "LDAPBindVerifier",
            "VsphereConfigurationVerifier"
        ]
    );

    // Nothing configured: an optional feature left blank has nothing to verify.
    assert_eq!(findings(&api, &guid).await, vec![]);

    // Every peer answers: nothing found.
    let http = http_peer().await;
    let smtp = smtp_peer().await;
    let ldap = ldap_peer().await;
    let vcenter = tls_peer().await;
    set(
        &api,
        &guid,
        json!({
            ".properties.apps_domain": {"value": "apps.localhost"},
            ".properties.health_host": {"value": "127.0.0.1"},
            ".properties.health_port": {"value": http.port()},
            ".properties.sso_url": {"value": format!("http://{http}/sso")},
            ".properties.smtp_address": {"value": "127.0.0.1"},
            ".properties.smtp_port": {"value": smtp.port()},
            ".properties.smtp_credentials": {"value": {"identity": SMTP_USER, "password": SMTP_PASSWORD}},
            ".properties.ldap_url": {"value": format!("ldap://{ldap}")},
            ".properties.ldap_credentials": {"value": {"identity": LDAP_DN, "password": LDAP_PASSWORD}},
            ".properties.vcenter_host": {"value": format!("https://{vcenter}/sdk")},
            ".properties.vcenter_credentials": {"value": {"identity": "admin", "password": "vc-pw"}},
        }),
    )
    .await;
    assert_eq!(findings(&api, &guid).await, vec![]);

    // Each one failing.
    let gone = closed_port();
    set(
        &api,
        &guid,
        json!({
            ".properties.apps_domain": {"value": "apps.example.invalid"},
            ".properties.health_port": {"value": gone},
            ".properties.sso_url": {"value": format!("http://{http}/nowhere")},
            ".properties.smtp_credentials": {"value": {"identity": SMTP_USER, "password": "wrong-password-77"}},
            ".properties.ldap_credentials": {"value": {"identity": LDAP_DN, "password": "wrong-password-78"}},
            ".properties.vcenter_host": {"value": format!("https://127.0.0.1:{gone}/sdk")},
        }),
    )
    .await;
    let found = findings(&api, &guid).await;
    let has = |kind: &str, starts: &str, contains: &str| {
        let messages = only(&found, kind);
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with(starts) && m.contains(contains)),
            "{kind}: no '{starts}…{contains}' in {messages:#?}"
        );
    };
    has(
        "WildcardDomainVerifier",
        "Integrations › Apps domain (.properties.apps_domain): ",
        "no name under *.apps.example.invalid resolves",
    );
    has(
        "HttpSuccessVerifier",
        "Integrations › Health check host (.properties.health_host): ",
        &format!("GET http://127.0.0.1:{gone}/health did not succeed"),
    );
    has(
        "SsoUrlVerifier",
        "Integrations › SSO URL (.properties.sso_url): ",
        "answered 404",
    );
    has(
        "SmtpAuthenticationVerifier",
        "Integrations › SMTP credentials (.properties.smtp_credentials): ",
        "the SMTP server refused them: AUTH PLAIN answered 535",
    );
    has(
        "LDAPBindVerifier",
        "Integrations › LDAP credentials (.properties.ldap_credentials): ",
        "refused the bind: ",
    );
    has(
        "VsphereConfigurationVerifier",
        "Integrations › vCenter host (.properties.vcenter_host): ",
        &format!("the vCenter at 127.0.0.1:{gone} cannot be reached"),
    );
    // The body must match the tile's pattern, not only answer 200.
    set(
        &api,
        &guid,
        json!({".properties.health_port": {"value": http.port()},
               ".properties.health_path": {"value": "/sick"}}),
    )
    .await;
    let sick = only(&findings(&api, &guid).await, "HttpSuccessVerifier");
    assert!(
        sick.len() == 1 && sick[0].contains("its body does not match /status: green/"),
        "{sick:?}"
    );
    let text = found
        .iter()
        .flat_map(|(_, _, e)| e.iter())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    for secret in [
        "wrong-password-77",
        "wrong-password-78",
        SMTP_PASSWORD,
        "vc-pw",
    ] {
        assert!(!text.contains(secret), "a credential in a finding: {text}");
    }
    // Only the SSO URL one is ignorable, as the tile says.
    let ignorable: Vec<&str> = found
        .iter()
        .filter(|(_, i, _)| *i)
        .map(|(k, _, _)| k.as_str())
        .collect();
    assert_eq!(ignorable, ["SsoUrlVerifier"]);
}

#[tokio::test]
async fn an_ignorable_finding_only_warns_and_a_blocking_one_refuses_until_disabled() {
    let (server, guid) = staged().await;
    let api = Api::login(&server).await;
    let http = http_peer().await;
    set(
        &api,
        &guid,
        json!({
            ".properties.health_host": {"value": "127.0.0.1"},
            ".properties.health_port": {"value": http.port()},
            ".properties.sso_url": {"value": format!("http://{http}/nowhere")},
        }),
    )
    .await;
    // Only the ignorable SSO URL verifier fails: Apply Changes is refused with a warning…
    let found = findings(&api, &guid).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].0.as_str(), found[0].1), ("SsoUrlVerifier", true));
    let refused = api
        .post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await
        .expect(422);
    assert!(
        refused["errors"].get(guid.as_str()).is_none(),
        "{refused:#}"
    );
    assert!(
        refused["warnings"].to_string().contains("SSO URL"),
        "{refused:#}"
    );
    // …which ignore_warnings lets through, and the log says what was ignored.
    let done = api
        .apply_to_end(json!({"deploy_products": "all", "ignore_warnings": true}))
        .await;
    done.expect("succeeded");
    assert!(
        done.log.contains("Warning ignored (ignore_warnings)")
            && done.log.contains("(.properties.sso_url)"),
        "{}",
        done.log
    );
    // The Director's verifiers say why they reached nothing on the embedded stand-in.
    assert!(
        done.log
            .contains("IaasConfigurationVerifier of p-bosh (p-bosh-")
            && done
                .log
                .contains("Tileworks's Director stand-in simulates the IaaS: nothing was reached"),
        "{}",
        done.log
    );

    // A blocking one refuses Apply Changes under the product's GUID, whatever
    // ignore_warnings says: the health check's port is closed.
    api.put(
        &format!("/api/v0/staged/products/{guid}/verifiers/install_time/SsoUrlVerifier"),
        json!({"enabled": false}),
    )
    .await
    .expect(200);
    set(
        &api,
        &guid,
        json!({".properties.health_port": {"value": closed_port()}}),
    )
    .await;
    let refused = api
        .post(
            "/api/v0/installations",
            json!({"deploy_products": "all", "ignore_warnings": true}),
        )
        .await
        .expect(422);
    let product = &refused["deployment_errors"]["products"][0];
    assert_eq!(product["verifiers"][0]["type"], "HttpSuccessVerifier");
    assert_eq!(product["verifiers"][0]["ignorable"], false);
    assert!(refused["errors"][guid.as_str()]
        .to_string()
        .contains("Health check host"));

    // om disable-product-verifiers --type Verifiers::HttpSuccessVerifier (the tile's
    // spelling is accepted too): the apply goes through, and the log says it was skipped.
    let switched = api
        .put(
            &format!(
                "/api/v0/staged/products/{guid}/verifiers/install_time/Verifiers::HttpSuccessVerifier"
            ),
            json!({ "enabled": false }),
        )
        .await
        .expect(200);
    assert_eq!(
        switched,
        json!({"type": "HttpSuccessVerifier", "enabled": false})
    );
    let done = api.apply_to_end(json!({"deploy_products": "all"})).await;
    done.expect("succeeded");
    assert!(
        done.log.contains(&format!(
            "Install-time verifier HttpSuccessVerifier of reachy ({guid}) is disabled: skipped"
        )),
        "{}",
        done.log
    );
}

#[tokio::test]
async fn run_on_major_or_minor_upgrades_skips_a_patch_upgrade() {
    let (server, guid) = staged().await;
    let api = Api::login(&server).await;
    // The LDAP server refuses the bind: on a first deploy the verifier runs and blocks.
    let ldap = ldap_peer().await;
    set(
        &api,
        &guid,
        json!({
            ".properties.ldap_url": {"value": format!("ldap://{ldap}")},
            ".properties.ldap_credentials": {"value": {"identity": LDAP_DN, "password": "not-it-99"}},
        }),
    )
    .await;
    assert_eq!(
        only(&findings(&api, &guid).await, "LDAPBindVerifier").len(),
        1
    );
    set(
        &api,
        &guid,
        json!({".properties.ldap_credentials": {"value": {"identity": LDAP_DN, "password": LDAP_PASSWORD}}}),
    )
    .await;
    api.apply_to_end(json!({"deploy_products": "all"}))
        .await
        .expect("succeeded");

    // 1.0.0 → 1.0.1 is a patch: the refused bind is not even tried, and the log says why.
    set(
        &api,
        &guid,
        json!({".properties.ldap_credentials": {"value": {"identity": LDAP_DN, "password": "not-it-99"}}}),
    )
    .await;
    upgrade(&api, &guid, "1.0.1").await;
    assert!(only(&findings(&api, &guid).await, "LDAPBindVerifier").is_empty());
    let done = api.apply_to_end(json!({"deploy_products": "all"})).await;
    done.expect("succeeded");
    assert!(
        done.log.contains(&format!(
            "Install-time verifier LDAPBindVerifier of reachy ({guid}): runs only on major or \
             minor upgrades (run_on: major_or_minor_upgrades) and 1.0.0 → 1.0.1 is neither: skipped"
        )),
        "{}",
        done.log
    );

    // 1.0.1 → 1.1.0 is a minor upgrade: it runs, and the refused bind blocks.
    upgrade(&api, &guid, "1.1.0").await;
    let messages = only(&findings(&api, &guid).await, "LDAPBindVerifier");
    assert!(
        messages[0].starts_with("Integrations › LDAP credentials (.properties.ldap_credentials): "),
        "{messages:?}"
    );
    api.post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await
        .expect(422);
}

/// The Director's networks for vSphere: `infra` on loopback (its gateway answers a ping),
/// and `far` behind a gateway in IPv6's documentation prefix, which no route leads to. (Not
/// TEST-NET-1: this machine's sandbox answers ICMP echoes for every IPv4 address.)
async fn loopback_networks(api: &Api<'_>, icmp: bool) {
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/networks",
        Some(json!({"icmp_checks_enabled": icmp, "networks": [
            {"name": "infra", "subnets": [{
                "iaas_identifier": "VM Network", "cidr": "127.0.0.0/24", "dns": "127.0.0.53",
                "gateway": "127.0.0.1", "reserved_ip_ranges": "127.0.0.1-127.0.0.9",
                "availability_zone_names": ["az1", "az2"]}]},
            {"name": "far", "subnets": [{
                "iaas_identifier": "Far", "cidr": "2001:db8::/64", "dns": "127.0.0.53",
                "gateway": "2001:db8::1", "reserved_ip_ranges": "2001:db8::1-2001:db8::9",
                "availability_zone_names": ["az1"]}]},
        ]})),
    )
    .await;
}

async fn director_findings(api: &Api<'_>) -> Vec<(String, bool, Vec<String>)> {
    check_verifiers(api, "/api/v0/staged/director/pre_deploy_check").await
}

#[tokio::test]
async fn the_directors_iaas_and_gateways_are_reached_when_a_real_director_deploys() {
    // The stand-in on its own, which Tileworks drives as a real Director: the IaaS it names
    // is taken at its word.
    // Presenting a real CPI's name: Tileworks treats the IaaS as real and reaches it.
    let director = ExternalDirector::start_with_cpi(0, Some("vsphere_cpi"));
    let server = TestServer::start_with(&director.serve_args(&[]), Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    // The VMs' NTP server: a real one that answers.
    let ntp = ntp_server().await;
    let ntp_at = |server: String| json!({"director_configuration": {"ntp_servers_string": server}});
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(ntp_at(format!("127.0.0.1:{}", ntp.port))),
    )
    .await;
    let listed = api
        .get("/api/v0/staged/director/verifiers/install_time")
        .await
        .expect(200);
    let kinds: Vec<&str> = listed["verifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["type"].as_str().unwrap())
        .collect();
    for kind in [
        "IaasConfigurationVerifier",
        "NetworksPingableVerifier",
        "NtpVerifier",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }

    // om's vCenter (vcsa.example.com) does not resolve here: it blocks Apply Changes under
    // the Director's GUID, whatever ignore_warnings says.
    let found = director_findings(&api).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("IaasConfigurationVerifier", false)
    );
    assert!(
        found[0].2[0].starts_with(
            "BOSH Director › IaaS Configuration › vCenter host (iaas_configuration.vcenter_host): \
             the vCenter at vcsa.example.com:443 cannot be reached: "
        ),
        "{found:?}"
    );
    let director_guid = api
        .get("/api/v0/staged/director/pre_deploy_check")
        .await
        .expect(200)["pre_deploy_check"]["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = api
        .post(
            "/api/v0/installations",
            json!({"deploy_products": "all", "ignore_warnings": true}),
        )
        .await
        .expect(422);
    assert!(refused["errors"][director_guid.as_str()]
        .to_string()
        .contains("vCenter host"));

    // A vCenter that answers over TLS (its certificate is the CPI's concern) and shows the
    // user what the Director needs: it passes.
    let vcenter = vcenter_peer(false).await;
    let at_vcenter =
        |port: u16| json!({"iaas_configuration": {"vcenter_host": format!("127.0.0.1:{port}")}});
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(at_vcenter(vcenter.port())),
    )
    .await;
    assert_eq!(director_findings(&api).await, vec![]);
    // A port nothing listens on fails again; a URL where a host belongs is named without
    // reaching anything.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(at_vcenter(closed_port())),
    )
    .await;
    assert!(director_findings(&api).await[0].2[0].contains("cannot be reached"));
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({"iaas_configuration": {"vcenter_host": "https://vcsa.example.com/sdk"}})),
    )
    .await;
    assert!(director_findings(&api).await[0].2[0].contains("is a URL"));
    // om disable-director-verifiers --type IaasConfigurationVerifier.
    api.put(
        "/api/v0/staged/director/verifiers/install_time/IaasConfigurationVerifier",
        json!({ "enabled": false }),
    )
    .await
    .expect(200);
    assert_eq!(director_findings(&api).await, vec![]);

    // Gateways, pinged with ICMP checks on: the loopback one answers, the unrouted one does
    // not, which only warns (NetworksPingableVerifier is ignorable in Ops Manager).
    loopback_networks(&api, true).await;
    let found = director_findings(&api).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let (kind, ignorable, errors) = &found[0];
    assert_eq!(
        (kind.as_str(), *ignorable),
        ("NetworksPingableVerifier", true)
    );
    assert!(
        errors[0].starts_with(
            "BOSH Director › Create Networks › far › Gateway (networks[1].subnets[0].gateway): \
             2001:db8::1 does not answer"
        ),
        "{errors:?}"
    );
    let refused = api
        .post("/api/v0/installations", json!({"deploy_products": "all"}))
        .await
        .expect(422);
    assert!(
        refused["warnings"].to_string().contains("2001:db8::1")
            && refused["errors"].as_object().unwrap().is_empty(),
        "{refused:#}"
    );
    // ICMP checks off (Create Networks): gateways are not reached.
    loopback_networks(&api, false).await;
    assert_eq!(director_findings(&api).await, vec![]);

    // An NTP server that does not answer (a port nothing listens on) only warns, naming the
    // field; om disable-director-verifiers --type NtpVerifier switches it off.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(ntp_at(format!(
            "127.0.0.1:{}, 127.0.0.1:{}",
            ntp.port,
            closed_udp_port()
        ))),
    )
    .await;
    let found = director_findings(&api).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let (kind, ignorable, errors) = &found[0];
    assert_eq!((kind.as_str(), *ignorable), ("NtpVerifier", true));
    assert_eq!(errors.len(), 1, "the answering server passes: {errors:?}");
    assert!(
        errors[0].starts_with(
            "BOSH Director › Director Config › NTP servers \
             (director_configuration.ntp_servers_string): the NTP server 127.0.0.1:"
        ) && errors[0].contains("does not answer a time request"),
        "{errors:?}"
    );
    drop(ntp);
    api.put(
        "/api/v0/staged/director/verifiers/install_time/NtpVerifier",
        json!({ "enabled": false }),
    )
    .await
    .expect(200);
    assert_eq!(director_findings(&api).await, vec![]);

    // The vCenter password never reaches an answer.
    let body = api.get("/api/v0/staged/director/pre_deploy_check").await;
    assert!(!body.body.to_string().contains(VCENTER_PASSWORD));
}

#[tokio::test]
async fn allocated_addresses_and_the_vcenter_users_permissions_when_a_real_director_deploys() {
    let director = ExternalDirector::start_with_cpi(0, Some("vsphere_cpi"));
    let server = TestServer::start_with(&director.serve_args(&[]), Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    loopback_networks(&api, true).await;
    // What other tests check and the network here cannot give: the public NTP server, the
    // unrouted gateway.
    for kind in ["NtpVerifier", "NetworksPingableVerifier"] {
        api.put(
            &format!("/api/v0/staged/director/verifiers/install_time/{kind}"),
            json!({ "enabled": false }),
        )
        .await
        .expect(200);
    }
    let at_vcenter = |addr: SocketAddr, datacenter: &str, datastores: &str| {
        json!({"iaas_configuration": {
            "vcenter_host": format!("127.0.0.1:{}", addr.port()),
            "datacenter": datacenter,
            "persistent_datastore_names": datastores,
            "ephemeral_datastore_names": "ds1",
        }})
    };
    let put = |body: Value| {
        let api = &api;
        async move {
            api.ok(
                Method::PUT,
                "/api/v0/staged/director/properties",
                Some(body),
            )
            .await;
        }
    };

    // PrivilegeVerifier: the vCenter signs the user in and shows it dc1, ds1 and ds2.
    let vcenter = vcenter_peer(false).await;
    put(at_vcenter(vcenter, "dc1", "ds1, ds2")).await;
    assert_eq!(director_findings(&api).await, vec![]);
    // vCenter 6.7's /rest API, found when /api is missing.
    let old_vcenter = vcenter_peer(true).await;
    put(at_vcenter(old_vcenter, "dc1", "ds2")).await;
    assert_eq!(director_findings(&api).await, vec![]);
    // A datacenter or datastore the user does not see is named at the datacenter.
    put(at_vcenter(vcenter, "dc2", "ds1")).await;
    let found = director_findings(&api).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("PrivilegeVerifier", false)
    );
    assert_eq!(
        found[0].2,
        ["BOSH Director › IaaS Configuration › Datacenter name (iaas_configuration.datacenter): \
          the vCenter user cannot see what the Director needs: the user sees no datacenter 'dc2'"]
    );
    put(at_vcenter(old_vcenter, "dc1", "ds1, ds9")).await;
    let found = director_findings(&api).await;
    assert!(
        found[0].2[0].ends_with("the user sees no datastore 'ds9' in 'dc1'"),
        "{found:#?}"
    );
    // A wrong password is named at the username, and refuses Apply Changes.
    put(json!({"iaas_configuration": {
        "vcenter_host": format!("127.0.0.1:{}", vcenter.port()),
        "persistent_datastore_names": "ds1",
        "vcenter_password": "not-the-password",
    }}))
    .await;
    let found = director_findings(&api).await;
    assert!(
        found[0].2[0].starts_with(
            "BOSH Director › IaaS Configuration › vCenter username \
             (iaas_configuration.vcenter_username): the vCenter refused the user or its \
             password: POST /api/session answered 401"
        ),
        "{found:#?}"
    );
    api.post(
        "/api/v0/installations",
        json!({"deploy_products": "all", "ignore_warnings": true}),
    )
    .await
    .expect(422);
    // A vCenter IaasConfigurationVerifier cannot reach is not asked again.
    put(json!({"iaas_configuration": {"vcenter_host": format!("127.0.0.1:{}", closed_port())}}))
        .await;
    let found = director_findings(&api).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "IaasConfigurationVerifier");
    put(json!({"iaas_configuration": {
        "vcenter_host": format!("127.0.0.1:{}", vcenter.port()),
        "vcenter_password": VCENTER_PASSWORD,
    }}))
    .await;
    assert_eq!(director_findings(&api).await, vec![]);

    // AllocatedIpAddressVerifier: a product's job given 127.0.0.20, which answers a ping here
    // (all of 127/8 is this machine), warns at that product's field; an address nothing
    // answers at passes.
    let r = api
        .upload(
            "statics-1.0.0.pivotal",
            static_ips_tile("statics", "Statics", "[]"),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let guid = api.stage("statics", "1.0.0").await;
    api.set_networks_and_azs(
        &guid,
        json!({"network": {"name": "infra"}, "singleton_availability_zone": {"name": "az1"},
               "other_availability_zones": [{"name": "az1"}]}),
    )
    .await
    .expect(200);
    set(
        &api,
        &guid,
        json!({".web.static_ips": {"value": "127.0.0.20"},
               ".db.static_ips": {"value": "2001:db8::20"}}),
    )
    .await;
    let found = director_findings(&api).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let (kind, ignorable, errors) = &found[0];
    assert_eq!(
        (kind.as_str(), *ignorable),
        ("AllocatedIpAddressVerifier", true)
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "Statics › Addresses › Web static IPs (.web.static_ips): 127.0.0.20 is already in \
             use: something answers there"
        ),
        "{errors:?}"
    );
    // Review shows it, linked to the product's form, not the Director's.
    let html = api.page("/review").await;
    assert!(
        html.contains("127.0.0.20 is already in use"),
        "the Review page does not show the finding"
    );
    assert!(
        html.contains(&format!("/products/{guid}/settings?form=ips#")),
        "the finding does not link to the product's form"
    );
    // ICMP checks off: addresses are not pinged.
    loopback_networks(&api, false).await;
    assert_eq!(director_findings(&api).await, vec![]);

    // Deployed, the product's VMs hold their addresses (given as a range), which rightly
    // answer: no longer a finding, with ICMP checks on again.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/networks",
        Some(json!({"icmp_checks_enabled": true, "networks": [
            {"name": "infra", "subnets": [{
                "iaas_identifier": "VM Network", "cidr": "127.0.0.0/24", "dns": "127.0.0.53",
                "gateway": "127.0.0.1", "reserved_ip_ranges": "127.0.0.1-127.0.0.9",
                "static_ip_ranges": "127.0.0.20-127.0.0.30",
                "availability_zone_names": ["az1", "az2"]}]},
        ]})),
    )
    .await;
    set(
        &api,
        &guid,
        json!({".web.static_ips": {"value": "127.0.0.20-127.0.0.20"},
               ".db.static_ips": {"value": "127.0.0.21"}}),
    )
    .await;
    assert_eq!(director_findings(&api).await.len(), 1);
    api.apply_to_end(json!({"deploy_products": [guid.as_str()], "ignore_warnings": true}))
        .await
        .expect("succeeded");
    assert_eq!(director_findings(&api).await, vec![]);
}
