//! `GET/PUT/DELETE /api/v0/settings/ssl_certificate` over a real HTTPS listener, with om's
//! shapes (`api/ssl_certificates_service.go`: `SSLCertificateInput{certificate,
//! private_key}`, `SSLCertificateOutput{ssl_certificate{certificate}}`): the certificate is
//! shown, never the key; a pair that does not belong together is `422` naming the field; a new
//! certificate is served at once (a client trusting only it connects, one trusting only the
//! old one no longer does), still after a restart, and `DELETE` goes back to the command
//! line's.

mod common;

use common::*;
use serde::Deserialize;
use serde_json::{json, Value};

/// om's `SSLCertificateOutput`.
#[derive(Debug, Deserialize)]
struct SslCertificateOutput {
    ssl_certificate: SslCertificate,
}

#[derive(Debug, Deserialize)]
struct SslCertificate {
    certificate: String,
}

struct Pair {
    cert: String,
    key: String,
}

fn pair() -> Pair {
    let c =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    Pair {
        cert: c.cert.pem(),
        key: c.key_pair.serialize_pem(),
    }
}

/// A client that trusts only `pair`'s certificate.
fn trusting(pair: &Pair) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pair.cert.as_bytes()).unwrap())
        .build()
        .unwrap()
}

/// Whether a fresh connection trusting only `pair` reaches the server.
async fn serves(server: &TestServer, pair: &Pair) -> bool {
    trusting(pair)
        .get(server.at("/api/v0/info"))
        .send()
        .await
        .is_ok()
}

async fn token(server: &TestServer, client: &reqwest::Client) -> String {
    let body: Value = client
        .post(server.at("/uaa/oauth/token"))
        .basic_auth("opsman", Some(""))
        .form(&[
            ("grant_type", "password"),
            ("username", ADMIN_USER),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn call(
    server: &TestServer,
    client: &reqwest::Client,
    method: reqwest::Method,
    body: Option<Value>,
) -> (u16, Value) {
    let token = token(server, client).await;
    let mut request = client
        .request(method, server.at("/api/v0/settings/ssl_certificate"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_new_certificate_is_served_at_once_and_after_a_restart() {
    let (a, b) = (pair(), pair());
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, &a.cert).unwrap();
    std::fs::write(&key_path, &a.key).unwrap();
    let mut server = TestServer::start_with(
        &[
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
        Some(ADMIN_PASSWORD),
    );
    let (via_a, via_b) = (trusting(&a), trusting(&b));
    assert!(serves(&server, &a).await && !serves(&server, &b).await);

    // om ssl-certificate: the command line's certificate.
    let (status, shown) = call(&server, &via_a, reqwest::Method::GET, None).await;
    assert_eq!(status, 200, "{shown}");
    let output: SslCertificateOutput = serde_json::from_value(shown.clone()).unwrap();
    assert_eq!(output.ssl_certificate.certificate, a.cert);
    assert_eq!(shown["ssl_certificate"]["custom"], false);

    // Pairs that do not belong together, or bodies without a field: 422 naming it.
    let other = pair();
    for (body, field) in [
        (
            json!({"certificate": b.cert, "private_key": other.key}),
            "private_key",
        ),
        (
            json!({"certificate": "not a certificate", "private_key": b.key}),
            "certificate",
        ),
        (
            json!({"certificate": b.cert, "private_key": "junk"}),
            "private_key",
        ),
        (json!({"private_key": b.key}), "certificate"),
        (json!({"certificate": b.cert}), "private_key"),
    ] {
        let (status, refused) = call(&server, &via_a, reqwest::Method::PUT, Some(body)).await;
        assert_eq!(status, 422, "{field}: {refused}");
        assert!(refused["errors"][field].is_array(), "{field}: {refused}");
    }
    assert!(serves(&server, &a).await, "a refused PUT changes nothing");

    // om update-ssl-certificate: served from now on, for new connections.
    let (status, shown) = call(
        &server,
        &via_a,
        reqwest::Method::PUT,
        Some(json!({"certificate": b.cert, "private_key": b.key})),
    )
    .await;
    assert_eq!(status, 200, "{shown}");
    assert!(!shown.to_string().contains("PRIVATE KEY"), "{shown}");
    assert!(
        serves(&server, &b).await,
        "the new certificate is served at once"
    );
    assert!(!serves(&server, &a).await);
    let (_, shown) = call(&server, &via_b, reqwest::Method::GET, None).await;
    assert_eq!(
        shown["ssl_certificate"]["certificate"],
        b.cert.trim().to_owned() + "\n"
    );
    assert_eq!(shown["ssl_certificate"]["custom"], true);
    assert!(!shown.to_string().contains("PRIVATE KEY"));
    // The key is sealed at rest and filtered from the audit trail: no line of it in the
    // database or its write-ahead log.
    let needle = b.key.lines().nth(1).unwrap().as_bytes();
    for file in ["tileworks.db", "tileworks.db-wal"] {
        let bytes = std::fs::read(server.data_dir.path().join(file)).unwrap_or_default();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{file}");
    }

    // After a restart (once unlocked) the new one is still served.
    server.restart();
    assert!(serves(&server, &b).await, "{}", server.log());
    assert!(!serves(&server, &a).await);

    // om delete-ssl-certificate: back to the command line's.
    let (status, shown) = call(&server, &via_b, reqwest::Method::DELETE, None).await;
    assert_eq!(status, 200, "{shown}");
    assert!(serves(&server, &a).await && !serves(&server, &b).await);
    let (_, shown) = call(&server, &via_a, reqwest::Method::GET, None).await;
    assert_eq!(shown["ssl_certificate"]["certificate"], a.cert);
    assert_eq!(shown["ssl_certificate"]["custom"], false);
}

#[tokio::test]
async fn on_plain_http_there_is_no_certificate_to_replace() {
    let server = TestServer::start_with(&[], Some(ADMIN_PASSWORD));
    let client = reqwest::Client::new();
    let (status, shown) = call(&server, &client, reqwest::Method::GET, None).await;
    assert_eq!(status, 200);
    assert_eq!(shown["ssl_certificate"]["certificate"], "");
    let b = pair();
    let (status, refused) = call(
        &server,
        &client,
        reqwest::Method::PUT,
        Some(json!({"certificate": b.cert, "private_key": b.key})),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.to_string().contains("plain HTTP"), "{refused}");
}
