//! `POST /api/v0/certificates/generate` (om's `generate-certificate`) and what a refused stale
//! properties save says per property.

mod common;
mod support;

use std::process::Command;

use common::*;
use reqwest::Method;
use serde_json::json;
use support::*;

/// `openssl x509 -text` of a PEM certificate.
fn x509_text(cert_pem: &str) -> String {
    let dir = std::env::temp_dir().join(format!("tw-cert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cert.pem");
    std::fs::write(&path, cert_pem).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&path)
        .output()
        .expect("openssl runs");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn generate_certificate_signs_the_domains_with_the_root_ca() {
    let server = TestServer::start();
    let api = Api::login(&server).await;

    let r = api
        .post(
            "/api/v0/certificates/generate",
            json!({"domains": ["*.apps.example.com", "api.example.com"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let cert = r.body["certificate"].as_str().unwrap();
    let key = r.body["key"].as_str().unwrap();
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"), "{cert}");
    assert!(key.contains("PRIVATE KEY-----"), "a key, not {key:.30}");
    let text = x509_text(cert);
    assert!(
        text.contains("CN=*.apps.example.com") || text.contains("CN = *.apps.example.com"),
        "{text}"
    );
    assert!(text.contains("DNS:*.apps.example.com"), "{text}");
    assert!(text.contains("DNS:api.example.com"), "{text}");
    assert!(
        text.contains("Tileworks Root Certificate Authority"),
        "{text}"
    );

    // Each call makes a new key.
    let again = api
        .post(
            "/api/v0/certificates/generate",
            json!({"domains": ["api.example.com"]}),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_ne!(again.body["key"], r.body["key"]);

    // Refused: no domains, something that is not a domain, not a list.
    for body in [
        json!({}),
        json!({"domains": []}),
        json!({"domains": ["not a domain!"]}),
        json!({"domains": [1]}),
    ] {
        let r = api
            .post("/api/v0/certificates/generate", body.clone())
            .await;
        assert_eq!(r.status, 422, "{body}: {:#}", r.body);
        assert!(r.body["errors"]["domains"].is_array(), "{:#}", r.body);
    }

    // Without a token: 401.
    let anonymous = reqwest::Client::new()
        .post(server.at("/api/v0/certificates/generate"))
        .json(&json!({"domains": ["api.example.com"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // A key is a credential: roles that may not see credentials may not have one made.
    for role in ["restricted_control", "read_only"] {
        let token = client_token(&server, &format!("c-{role}"), role).await;
        let refused = reqwest::Client::new()
            .post(server.at("/api/v0/certificates/generate"))
            .bearer_auth(token)
            .json(&json!({"domains": ["api.example.com"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{role}");
    }
}

#[tokio::test]
async fn a_stale_properties_save_says_who_changed_what_to_which_value() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let available = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": available[0]["name"], "product_version": available[0]["product_version"]})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap();
    let path = format!("/api/v0/staged/products/{guid}/properties");
    let v0: i64 = api.get(&path).await.etag.unwrap().parse().unwrap();

    // Operator A changes the hostname and the PKS API certificate (a credential).
    let (cert, key) = support::pks::test_cert();
    let a = api
        .send(
            Method::PUT,
            &path,
            Some(&json!({"properties": {
                ".properties.pks_api_hostname": {"value": "a.example.com"},
                ".pivotal-container-service.pks_tls": {"value": {"cert_pem": cert, "private_key_pem": key}},
            }})),
            Some(v0),
        )
        .await;
    assert_eq!(a.status, 200, "{:#}", a.body);

    // Operator B, still on v0, writes the same properties and one A did not touch.
    let b = api
        .send(
            Method::PUT,
            &path,
            Some(&json!({"properties": {
                ".properties.pks_api_hostname": {"value": "b.example.com"},
                ".pivotal-container-service.pks_tls": {"value": {"cert_pem": "x", "private_key_pem": "y"}},
                ".properties.telemetry_selector": {"value": "disabled"},
            }})),
            Some(v0),
        )
        .await;
    assert_eq!(b.status, 409, "{:#}", b.body);
    assert_eq!(b.body["config_version"], v0 + 1);
    let changes = b.body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "only what A changed: {changes:#?}");
    let hostname = changes
        .iter()
        .find(|c| c["reference"] == ".properties.pks_api_hostname")
        .unwrap();
    assert_eq!(hostname["changed_by"], ADMIN_USER);
    assert_eq!(hostname["value"], "a.example.com");
    assert_eq!(hostname["version"], v0 + 1);
    assert_eq!(hostname["credential"], false);
    let tls = changes
        .iter()
        .find(|c| c["reference"] == ".pivotal-container-service.pks_tls")
        .unwrap();
    assert_eq!(tls["credential"], true);
    assert_eq!(
        tls["value"],
        json!({"cert_pem": "***", "private_key_pem": "***"})
    );
    // The key A stored appears nowhere in the refusal.
    assert!(!b.body.to_string().contains("PRIVATE KEY"), "{:#}", b.body);
    // Nothing of B's was stored.
    let now = api.ok(Method::GET, &path, None).await;
    assert_eq!(
        now["properties"][".properties.pks_api_hostname"]["value"],
        "a.example.com"
    );
}
