//! The gate, through the real server: every entry point (API route, server function, page)
//! answers every role exactly as the table in `server::http::gate::ENTRY_POINTS` says; read
//! roles cannot change anything through the UI's server functions; cross-site requests riding
//! on a session are refused; malformed server-function calls are 4xx; security headers are on.

mod common;
mod support;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::auth::roles::{role_allows, Action};
use server::http::gate::{Access, ENTRY_POINTS};

/// A concrete path for a route pattern: parameters become values no product has.
fn concrete(route: &str) -> String {
    route
        .split('/')
        .map(|segment| match segment {
            "{id}" => "987654",
            s if s.starts_with('{') => "nope-00000000000000000000",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

const ROLES: [&str; 6] = [
    "admin",
    "full_control",
    "restricted_control",
    "full_view",
    "restricted_view",
    "read_only",
];

async fn call(token: Option<&str>, server: &TestServer, method: &str, path: &str) -> StatusCode {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method.clone(), server.at(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if path.starts_with("/_app/") {
        // Arguments the functions do not take: a refusal must come before they are read.
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body("unexpected=1");
    } else if method != Method::GET {
        request = request
            .header("content-type", "application/json")
            .body("{}");
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn every_entry_point_answers_every_role_as_the_table_says() {
    let server = TestServer::start();
    let mut tokens = Vec::new();
    for role in ROLES {
        tokens.push((
            role,
            client_token(&server, &format!("c-{role}"), role).await,
        ));
    }
    let mut checked = 0;
    for (method, route, access) in ENTRY_POINTS {
        let path = concrete(route);
        // Anonymous: only the public few.
        let anonymous = call(None, &server, method, &path).await;
        match access {
            Access::Public => assert!(
                anonymous != StatusCode::UNAUTHORIZED && anonymous != StatusCode::FORBIDDEN,
                "{method} {route} is public but answered {anonymous} to an anonymous caller"
            ),
            Access::Signed(_)
                if path.starts_with("/api/")
                    || path.starts_with("/_app/")
                    || path.starts_with("/pks/") =>
            {
                assert_eq!(anonymous, 401, "anonymous {method} {route}")
            }
            Access::Signed(_) => {
                assert_eq!(
                    anonymous, 303,
                    "anonymous {method} {route} (to the login page)"
                )
            }
            // The broker answers only while PKS is deployed (not here): 404 to everyone, a
            // token no different from nobody. tests/broker.rs checks, with PKS deployed, that
            // tokens get 401 and the broker's credentials do not.
            Access::Broker => {
                assert_eq!(anonymous, 404, "anonymous {method} {route}");
                for (role, token) in &tokens {
                    let status = call(Some(token), &server, method, &path).await;
                    assert_eq!(status, 404, "{role}: {method} {route} without PKS deployed");
                }
            }
        }
        let Access::Signed(action) = access else {
            continue;
        };
        for (role, token) in &tokens {
            let status = call(Some(token), &server, method, &path).await;
            if role_allows(role, *action) {
                assert!(
                    status != StatusCode::FORBIDDEN
                        && status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{role} may {action:?}: {method} {route} answered {status}"
                );
            } else {
                assert_eq!(status, 403, "{role} may not {action:?}: {method} {route}");
            }
            checked += 1;
            // With `redact=false` the request needs what the route does *and* credentials:
            // asking for credentials never stands in for the route's own action.
            if path.starts_with("/api/") || path.starts_with("/pks/") {
                let status = call(
                    Some(token),
                    &server,
                    method,
                    &format!("{path}?redact=false"),
                )
                .await;
                if role_allows(role, *action) && role_allows(role, Action::SeeCredentials) {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{role}: {method} {route}?redact=false answered {status}"
                    );
                } else {
                    assert_eq!(status, 403, "{role}: {method} {route}?redact=false");
                }
            }
        }
    }
    assert!(checked > 600, "{checked} checks");
    // The audit trail's entry points are in the table, for administrators only.
    for (method, route) in [
        ("GET", "/api/v0/audit_events"),
        ("GET", "/api/v0/audit_events/export"),
        ("GET", "/audit"),
        ("POST", "/_app/audit_page"),
    ] {
        assert!(
            ENTRY_POINTS.iter().any(|(m, r, a)| *m == method
                && *r == route
                && *a == Access::Signed(Action::ReadAudit)),
            "{method} {route}"
        );
    }
    // The Stemcell Library page reads for every role, pins need Configure; the Settings menu
    // is for administrators.
    for (method, route, action) in [
        ("GET", "/stemcells", Action::View),
        ("POST", "/_app/stemcell_library", Action::View),
        ("POST", "/_app/assign_stemcell", Action::Configure),
        ("GET", "/settings", Action::Administer),
        ("POST", "/_app/settings_menu", Action::Administer),
        ("GET", "/settings/certificate-authorities", Action::View),
        ("POST", "/_app/certificate_authorities", Action::View),
        (
            "POST",
            "/settings/certificate-authorities",
            Action::Configure,
        ),
        ("POST", "/director", Action::Configure),
        ("GET", "/api/v0/staged/director/manifest", Action::View),
        // The TLS certificate and the passphrase are administrators'; VM extensions are read
        // by every role and changed with Configure, as their API routes are.
        (
            "GET",
            "/settings/ssl-certificate",
            Action::ManageTlsCertificate,
        ),
        (
            "POST",
            "/_app/tls_certificate",
            Action::ManageTlsCertificate,
        ),
        (
            "POST",
            "/settings/ssl-certificate",
            Action::ManageTlsCertificate,
        ),
        ("GET", "/settings/vm-extensions", Action::View),
        ("POST", "/_app/vm_extensions", Action::View),
        ("POST", "/settings/vm-extensions", Action::Configure),
        ("GET", "/settings/decryption-passphrase", Action::Administer),
        (
            "POST",
            "/settings/decryption-passphrase",
            Action::Administer,
        ),
    ] {
        assert!(
            ENTRY_POINTS
                .iter()
                .any(|(m, r, a)| *m == method && *r == route && *a == Access::Signed(action)),
            "{method} {route}"
        );
    }
    // `redact=false` asks for credentials whatever the route otherwise reads.
    for (role, token) in &tokens {
        let status = call(
            Some(token),
            &server,
            "GET",
            "/api/v0/staged/director/properties?redact=false",
        )
        .await;
        let expected = if role_allows(role, Action::SeeCredentials) {
            200
        } else {
            403
        };
        assert_eq!(status, expected, "{role} redact=false");
    }
    // A method no rule lists is 405 before any handler; an unknown API path a JSON 404.
    let admin = &tokens[0].1;
    assert_eq!(
        call(Some(admin), &server, "PUT", "/api/v0/staged/cloud_config").await,
        405
    );
    assert_eq!(
        call(Some(admin), &server, "GET", "/api/v0/no/such/thing").await,
        404
    );
}

/// What the read roles must not be able to change, read back after each refused call.
async fn snapshot(api: &support::Api<'_>) -> Value {
    json!({
        "director": api.get("/api/v0/staged/director/properties").await.body,
        "azs": api.get("/api/v0/staged/director/availability_zones").await.body,
        "staged": api.get("/api/v0/staged/products").await.body,
        "available": api.get("/api/v0/available_products").await.body,
        "properties": api.get(&format!("/api/v0/staged/products/{}/properties", api.guid_of("pivotal-container-service").await)).await.body,
    })
}

#[tokio::test]
async fn read_roles_change_nothing_through_server_functions() {
    let server = TestServer::start();
    let api = support::Api::login(&server).await;
    // PKS staged, so every write function has a real target.
    let available = api.get("/api/v0/available_products").await.body;
    let version = available[0]["product_version"].as_str().unwrap().to_owned();
    let staged = api
        .post(
            "/api/v0/staged/products",
            json!({"name": "pivotal-container-service", "product_version": version}),
        )
        .await;
    assert_eq!(staged.status, 200, "{:#}", staged.body);
    let guid = api.guid_of("pivotal-container-service").await;
    let director_version = api
        .get("/api/v0/staged/director/properties")
        .await
        .etag
        .unwrap();
    let product_version = api
        .get(&format!("/api/v0/staged/products/{guid}/properties"))
        .await
        .etag
        .unwrap();
    let (dv, pv) = (
        director_version.trim_matches('"').to_owned(),
        product_version.trim_matches('"').to_owned(),
    );
    let before = snapshot(&api).await;

    // Each write function with arguments that would succeed for a role that may write.
    let placement = json!({"config_version": pv.parse::<i64>().unwrap()}).to_string();
    let calls: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("stage_product", vec![("name", "pivotal-container-service".into()), ("version", version.clone())]),
        ("unstage_product", vec![("guid", guid.clone())]),
        ("delete_available_product", vec![("name", "pivotal-container-service".into()), ("version", version.clone())]),
        ("save_settings_form", vec![("guid", guid.clone()), ("form", "pks_api".into()), ("config_version", pv.clone()), ("values_json", json!({".properties.pks_api_hostname": "pks.example.com"}).to_string()), ("loaded_json", "{}".into())]),
        ("generate_form_certificate", vec![("guid", guid.clone()), ("reference", ".pivotal-container-service.pks_tls".into()), ("domains", "pks.example.com".into()), ("config_version", pv.clone())]),
        ("save_product_placement", vec![("guid", guid.clone()), ("section", "errands".into()), ("placement_json", placement)]),
        ("save_director_properties", vec![("config_version", dv.clone()), ("body_json", json!({"director_configuration": {"ntp_servers_string": "ntp.attacker.example"}}).to_string())]),
        ("save_director_azs", vec![("config_version", dv.clone()), ("azs_json", json!([{"name": "evil", "iaas_identifier": "", "clusters": [{"cluster": "c", "resource_pool": ""}], "other": {}}]).to_string())]),
        ("save_director_networks", vec![("config_version", dv.clone()), ("networks_json", "[]".into()), ("icmp_checks_enabled", "true".into())]),
        ("save_director_network_and_az", vec![("config_version", dv.clone()), ("network", "n".into()), ("singleton_az", "z".into())]),
        ("save_director_vm_types", vec![("config_version", dv.clone()), ("vm_types_json", "null".into())]),
        ("save_director_disk_types", vec![("config_version", dv.clone()), ("disk_types_json", "[]".into())]),
        ("apply_changes", vec![("deploy_products_json", "[]".into()), ("errands_json", "{}".into()), ("ignore_warnings", "true".into())]),
        // The Clusters page's writes (tests/clusters.rs checks them with PKS deployed).
        ("create_cluster", vec![("name", "k8s".into()), ("plan_name", "small".into()), ("worker_instances", "1".into()), ("external_hostname", "k8s.example.com".into())]),
        ("resize_cluster", vec![("name", "k8s".into()), ("worker_instances", "2".into())]),
        ("upgrade_cluster", vec![("name", "k8s".into())]),
        ("delete_cluster", vec![("name", "k8s".into())]),
    ];
    for role in ["read_only", "restricted_view", "full_view"] {
        let token = client_token(&server, &format!("ui-{role}"), role).await;
        for (function, args) in &calls {
            let response = reqwest::Client::new()
                .post(server.at(&format!("/_app/{function}")))
                .bearer_auth(&token)
                .form(args)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert_eq!(status, 403, "{role} {function}: {text}");
            assert!(
                text.contains(&format!("the role '{role}' may not")),
                "{text}"
            );
            assert_eq!(
                snapshot(&api).await,
                before,
                "{role} {function} changed something"
            );
        }
    }
    // The same calls from a role that may write do reach the backend (the refusal above was
    // the role's, not the arguments').
    let writer = client_token(&server, "ui-writer", "restricted_control").await;
    let response = reqwest::Client::new()
        .post(server.at("/_app/save_director_properties"))
        .bearer_auth(&writer)
        .form(&calls[6].1)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let after = api.get("/api/v0/staged/director/properties").await.body;
    assert_eq!(
        after["director_configuration"]["ntp_servers_string"],
        "ntp.attacker.example"
    );
}

#[tokio::test]
async fn cross_site_requests_riding_on_a_session_are_refused() {
    let server = TestServer::start();
    // A browser that says nothing of where a request comes from unless told (no fetch
    // metadata by default, unlike `common::browser`).
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(login.status(), 303);
    let api = support::Api::login(&server).await;
    let version = api.get("/api/v0/available_products").await.body[0]["product_version"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = [
        ("name", "pivotal-container-service".to_owned()),
        ("version", version.clone()),
    ];
    let own = server.at("");
    let own = own.trim_end_matches('/');
    let foreign = own.replace("127.0.0.1:", "127.0.0.1:1");
    // A same-site page on another port, an old browser's foreign Origin, no proof at all,
    // a sandboxed page: refused, nothing staged.
    let refusals: Vec<Vec<(&str, String)>> = vec![
        vec![
            ("sec-fetch-site", "same-site".into()),
            ("origin", foreign.clone()),
        ],
        vec![("origin", foreign.clone())],
        vec![("referer", format!("{foreign}/attack.html"))],
        vec![("origin", "null".into())],
        vec![],
    ];
    for headers in refusals {
        let mut request = browser.post(server.at("/_app/stage_product")).form(&form);
        for (k, v) in &headers {
            request = request.header(*k, v);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 403, "{headers:?}: {text}");
        assert!(text.contains("cross-site request refused"), "{text}");
        let staged = api.get("/api/v0/staged/products").await.body;
        assert_eq!(
            staged.as_array().unwrap().len(),
            1,
            "only the Director: {staged:#}"
        );
    }
    // A text/plain form to the certificate generator (the API parsed JSON whatever the type).
    let response = browser
        .post(server.at("/api/v0/certificates/generate"))
        .header("origin", foreign.clone())
        .header("content-type", "text/plain")
        .body(r#"{"domains": ["x.example.com"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(!response.text().await.unwrap().contains("PRIVATE KEY"));
    // Even same-origin (or with a token), a body that is not declared JSON is 415.
    let response = reqwest::Client::new()
        .post(server.at("/api/v0/certificates/generate"))
        .bearer_auth(&api.token)
        .header("content-type", "text/plain")
        .body(r#"{"domains": ["x.example.com"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"]["base"][0]
            .as_str()
            .unwrap()
            .contains("Content-Type"),
        "{body:#}"
    );
    // Tileworks's own page (same origin) does stage.
    let response = browser
        .post(server.at("/_app/stage_product"))
        .header("origin", own)
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let staged = api.get("/api/v0/staged/products").await.body;
    assert_eq!(staged.as_array().unwrap().len(), 2, "{staged:#}");
    // The login form refuses a foreign page (it would log the browser in as someone else).
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(server.at("/login"))
        .header("origin", foreign.clone())
        .form(&[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn malformed_server_function_calls_are_client_errors() {
    let server = TestServer::start();
    let api = support::Api::login(&server).await;
    let client = reqwest::Client::new();
    let bodies: [(&str, &str); 5] = [
        ("application/x-www-form-urlencoded", ""),
        (
            "application/x-www-form-urlencoded",
            "config_version=abc&body_json=%7B",
        ),
        (
            "application/x-www-form-urlencoded",
            "guid=x&section=nope&placement_json=%5B",
        ),
        ("application/json", "{not json"),
        ("application/x-www-form-urlencoded", "%%%%"),
    ];
    let mut calls = 0;
    for (method, route, _) in ENTRY_POINTS {
        if !route.starts_with("/_app/") || *method != "POST" {
            continue;
        }
        for (kind, body) in bodies {
            let response = client
                .post(server.at(route))
                .bearer_auth(&api.token)
                .header("content-type", kind)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(
                !status.is_server_error(),
                "{route} with {body:?} ({kind}): {status} {text}"
            );
            calls += 1;
        }
    }
    assert!(calls > 100, "{calls}");
    // The ones the issue named: a version that is not a number, a body over the limit.
    let response = client
        .post(server.at("/_app/save_director_properties"))
        .bearer_auth(&api.token)
        .form(&[("config_version", "abc"), ("body_json", "{}")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = client
        .post(server.at("/_app/save_director_properties"))
        .bearer_auth(&api.token)
        .form(&[("config_version", "1"), ("body_json", "[")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("body"));
    // A refusal the backend raises keeps its own status (not the framework's 500).
    let response = client
        .post(server.at("/_app/product_placement"))
        .bearer_auth(&api.token)
        .form(&[("guid", "nope-00000000000000000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("not found"));
    // Bodies over the limit are refused from their declared length, before any of it is read:
    // 413 for a server function (it was a 500) and for an API configuration write (it was
    // 422). The requests are written by hand, headers only, so the answer is read whatever
    // the server does with the unread body.
    let token = api.token.clone();
    let declared = |method: &str, path: &str, kind: &str, length: usize| {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {kind}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
            host = server.url.trim_start_matches("http://"),
        )
    };
    for (request, what) in [
        (
            declared(
                "POST",
                "/_app/save_director_properties",
                "application/x-www-form-urlencoded",
                50 * 1024 * 1024,
            ),
            "a 50 MB server-function call",
        ),
        (
            declared(
                "PUT",
                "/api/v0/staged/director/properties",
                "application/json",
                3 * 1024 * 1024,
            ),
            "a 3 MB configuration write",
        ),
    ] {
        assert_eq!(status_of_raw(&server, &request).await, 413, "{what}");
    }
}

/// Sends `request` (headers only) and reads the status code of the answer.
async fn status_of_raw(server: &TestServer, request: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.url.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 64];
    let n = stream.read(&mut answer).await.unwrap();
    let head = String::from_utf8_lossy(&answer[..n]).into_owned();
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let server = TestServer::start();
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let page = browser.get(server.at("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();
    let policy = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("object-src 'none'"), "{policy}");
    // The page's inline scripts carry the nonce the policy names.
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["cache-control"], "no-store");
    // The not-found page too (it renders outside the routes).
    let missing = browser
        .get(server.at("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let missing_policy = missing.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let missing_nonce = missing_policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the not-found page's policy")
        .to_owned();
    let missing_html = missing.text().await.unwrap();
    assert!(
        missing_html.contains(&format!("nonce=\"{missing_nonce}\"")),
        "{missing_html}"
    );
    // A second page gets another nonce.
    let again = browser.get(server.at("/")).send().await.unwrap();
    assert_ne!(again.headers()["content-security-policy"], policy.as_str());
    // JSON and the login page too; credentials are never cached.
    let api = support::Api::login(&server).await;
    let response = reqwest::Client::new()
        .get(server.at("/api/v0/deployed/director/credentials/bosh_commandline_credentials"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let login = reqwest::get(server.at("/login")).await.unwrap();
    assert!(login.headers().contains_key("content-security-policy"));
    assert_eq!(login.headers()["x-frame-options"], "DENY");
}
