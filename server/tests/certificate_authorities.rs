//! Certificate authorities through the real server, with om's requests replayed as
//! pivotal-cf/om `api/certificate_authorities_service.go`, `security_service.go` and
//! `expiring_certificates_service.go` send them: every endpoint with its errors, and a rotation
//! end to end on a small tile whose certificate Tileworks generates — signed by CA1, a new CA2
//! generated and applied (both trusted), activated and applied (the certificate now signed by
//! CA2, checked with `tiles::credentials::signed_by`), CA1 deleted, and Apply Changes still works.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use support::*;

const CAS: &str = "/api/v0/certificate_authorities";

/// om's `api.CA`.
#[derive(Debug, Deserialize, Clone)]
struct Ca {
    guid: String,
    issuer: String,
    created_on: String,
    expires_on: String,
    active: bool,
    cert_pem: String,
}

#[derive(Debug, Deserialize)]
struct CertificateAuthoritiesOutput {
    certificate_authorities: Vec<Ca>,
}

async fn list(api: &Api<'_>) -> Vec<Ca> {
    let r = api.get(CAS).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    serde_json::from_value::<CertificateAuthoritiesOutput>(r.body)
        .unwrap()
        .certificate_authorities
}

/// A job-less tile with a certificate Tileworks generates (not configurable).
fn tile() -> Vec<u8> {
    let metadata = "name: certy\nproduct_version: 1.0.0\nmetadata_version: '2.1'\nlabel: certy\n\
         rank: 1\nminimum_version_for_upgrade: 1.0.0\n\
         stemcell_criteria: {os: ubuntu-xenial, version: '97.17'}\nreleases: []\n\
         property_blueprints:\n\
         - {name: greeting, type: string, configurable: true, default: hi}\n\
         - {name: tls, type: rsa_cert_credentials, configurable: false, default: {domains: [certy.example.com]}}\n\
         form_types:\n- name: main\n  label: Main\n  property_inputs:\n  - {reference: .properties.greeting, label: Greeting}\n\
         job_types: []\npost_deploy_errands: []\n";
    pivotal(&[("metadata/certy.yml", metadata.as_bytes(), true)])
}

async fn staged_cert(api: &Api<'_>, guid: &str) -> String {
    let p = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{guid}/properties?redact=false"),
            None,
        )
        .await;
    p["properties"][".properties.tls"]["value"]["cert_pem"]
        .as_str()
        .unwrap_or_else(|| panic!("{p:#}"))
        .to_owned()
}

async fn deployed_certs(api: &Api<'_>, query: &str) -> Vec<Value> {
    let r = api
        .get(&format!("/api/v0/deployed/certificates{query}"))
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    r.body["certificates"].as_array().unwrap().clone()
}

#[tokio::test]
async fn endpoints_errors_and_a_rotation_end_to_end() {
    let server = TestServer::start();
    let api = Api::login(&server).await;

    // One active CA from the start; the root CA endpoint (om bosh-env) gives it.
    let cas = list(&api).await;
    assert_eq!(cas.len(), 1, "{cas:?}");
    let ca1 = cas[0].clone();
    assert!(ca1.active);
    assert!(ca1.issuer.starts_with("/CN=Tileworks Root"), "{ca1:?}");
    assert_eq!(ca1.created_on.len(), 10, "{ca1:?}");
    assert!(ca1.expires_on > ca1.created_on);
    let root = api.get("/api/v0/security/root_ca_certificate").await;
    assert_eq!(root.status, 200);
    assert_eq!(root.body["root_ca_certificate_pem"], ca1.cert_pem);

    // Errors: unknown GUIDs 404, the active CA cannot be deleted, bad imports 422 naming fields.
    let r = api
        .send(
            Method::POST,
            &format!("{CAS}/nope/activate"),
            Some(&json!({})),
            None,
        )
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);
    let r = api
        .send(Method::DELETE, &format!("{CAS}/nope"), None, None)
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);
    let r = api
        .send(Method::DELETE, &format!("{CAS}/{}", ca1.guid), None, None)
        .await;
    assert_eq!(r.status, 409, "{:#}", r.body);
    let leaf = rcgen::generate_simple_self_signed(vec!["x.example.com".into()]).unwrap();
    for (body, field) in [
        (json!({"private_key_pem": "k"}), "cert_pem"),
        (json!({"cert_pem": "c"}), "private_key_pem"),
        (json!({"cert_pem": 1, "private_key_pem": "k"}), "cert_pem"),
        (
            json!({"cert_pem": "junk", "private_key_pem": leaf.key_pair.serialize_pem()}),
            "cert_pem",
        ),
        (
            json!({"cert_pem": leaf.cert.pem(), "private_key_pem": "junk"}),
            "private_key_pem",
        ),
        (
            json!({"cert_pem": "c", "private_key_pem": "k", "extra": 1}),
            "extra",
        ),
    ] {
        let r = api.post(CAS, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {:#}", r.body);
        assert!(
            r.body["errors"].get(field).is_some(),
            "{field}: {:#}",
            r.body
        );
    }
    for query in [
        "?expires_within=3",
        "?expires_within=0d",
        "?expires_within=3h",
    ] {
        let r = api
            .get(&format!("/api/v0/deployed/certificates{query}"))
            .await;
        assert_eq!(r.status, 422, "{query}");
        assert!(
            r.body["errors"].get("expires_within").is_some(),
            "{:#}",
            r.body
        );
    }
    assert_eq!(list(&api).await.len(), 1, "nothing stored");

    // A tile whose certificate Tileworks generates, deployed: signed by CA1.
    configure_director(&api).await;
    assert_eq!(api.upload("certy-1.0.0.pivotal", tile()).await.status, 200);
    let guid = api.stage("certy", "latest").await;
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{guid}/networks_and_azs"),
        Some(json!({"networks_and_azs": {
            "network": {"name": "infra"},
            "singleton_availability_zone": {"name": "az1"},
            "other_availability_zones": [{"name": "az1"}],
        }})),
    )
    .await;
    let cert1 = staged_cert(&api, &guid).await;
    assert!(tiles::credentials::signed_by(&cert1, &ca1.cert_pem));
    apply_succeeds(&api, json!({"deploy_products": "all"})).await;
    let deployed = deployed_certs(&api, "").await;
    let mine = |list: &[Value]| {
        list.iter()
            .find(|c| c["product_guid"] == guid.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{list:#?}"))
    };
    assert_eq!(mine(&deployed)["issuer"], ca1.issuer.as_str());
    assert_eq!(mine(&deployed)["property_reference"], ".properties.tls");
    assert_eq!(mine(&deployed)["configurable"], false);
    assert_eq!(mine(&deployed)["location"], "ops_manager");
    // om expiring-certificates: nothing within 3 days, everything within 10 years.
    assert!(deployed_certs(&api, "?expires_within=3d").await.is_empty());
    assert_eq!(
        deployed_certs(&api, "?expires_within=10y").await.len(),
        deployed.len()
    );

    // om generate-certificate-authority: a new inactive CA; both are trusted.
    let r = api
        .send(Method::POST, &format!("{CAS}/generate"), None, None)
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let ca2: Ca = serde_json::from_value(r.body.clone()).unwrap();
    assert!(!ca2.active);
    assert!(r.body.get("private_key_pem").is_none());
    assert!(!r.body.to_string().contains("PRIVATE KEY"));
    assert_ne!(ca2.issuer, ca1.issuer);
    assert_eq!(list(&api).await.len(), 2);
    assert_eq!(
        api.get("/api/v0/security/root_ca_certificate").await.body["root_ca_certificate_pem"],
        ca1.cert_pem,
        "the active CA is still CA1"
    );
    assert_eq!(
        staged_cert(&api, &guid).await,
        cert1,
        "nothing regenerated yet"
    );
    apply_succeeds(&api, json!({"deploy_products": "all"})).await;

    // om activate-certificate-authority (`{}`): CA2 signs; the certificate is regenerated in
    // the staged configuration, deployed at the next apply.
    let r = api
        .send(
            Method::POST,
            &format!("{CAS}/{}/activate", ca2.guid),
            Some(&json!({})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let cas = list(&api).await;
    assert!(cas.iter().any(|c| c.guid == ca2.guid && c.active));
    assert!(cas.iter().any(|c| c.guid == ca1.guid && !c.active));
    let cert2 = staged_cert(&api, &guid).await;
    assert_ne!(cert2, cert1);
    assert!(tiles::credentials::signed_by(&cert2, &ca2.cert_pem));
    assert!(!tiles::credentials::signed_by(&cert2, &ca1.cert_pem));
    assert_eq!(
        mine(&deployed_certs(&api, "").await)["issuer"],
        ca1.issuer.as_str(),
        "the deployed one stays until the apply"
    );
    assert_eq!(api.pending_action(&guid).await, "update");
    apply_succeeds(&api, json!({"deploy_products": "all"})).await;
    assert_eq!(
        mine(&deployed_certs(&api, "").await)["issuer"],
        ca2.issuer.as_str()
    );

    // om regenerate-certificates: every generated certificate made again by the active CA.
    let r = api
        .send(
            Method::POST,
            &format!("{CAS}/active/regenerate"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let cert3 = staged_cert(&api, &guid).await;
    assert_ne!(cert3, cert2);
    assert!(tiles::credentials::signed_by(&cert3, &ca2.cert_pem));

    // om delete-certificate-authority: the old CA goes; apply still works.
    let r = api
        .send(Method::DELETE, &format!("{CAS}/{}", ca1.guid), None, None)
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let cas = list(&api).await;
    assert_eq!(cas.len(), 1);
    assert_eq!(cas[0].guid, ca2.guid);
    apply_succeeds(&api, json!({"deploy_products": "all"})).await;

    // om create-certificate-authority: an operator's own CA, imported inactive.
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Operator CA");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .or_else(|_| rcgen::KeyPair::generate())
        .unwrap();
    let own = params.self_signed(&key).unwrap();
    let r = api
        .post(
            CAS,
            json!({"cert_pem": own.pem(), "private_key_pem": key.serialize_pem()}),
        )
        .await;
    if r.status == 422 {
        // rcgen here may only make ECDSA keys, which Tileworks's RSA signer refuses: the
        // refusal must name the key.
        assert!(
            r.body["errors"].get("private_key_pem").is_some(),
            "{:#}",
            r.body
        );
    } else {
        assert_eq!(r.status, 200, "{:#}", r.body);
        assert_eq!(r.body["active"], false);
        assert!(r.body["issuer"].as_str().unwrap().contains("Operator CA"));
        assert!(!r.body.to_string().contains("PRIVATE KEY"));
    }
}
