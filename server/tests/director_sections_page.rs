//! The Director page's Security, Syslog and Resource Config sections against the real binary,
//! as a browser without the wasm uses them: each section is whole on the server (its saved
//! values in named fields, a form that posts to the page's own address); a plain post saves
//! through the same service as `PUT /api/v0/staged/director/properties` and the Director's
//! resource config (303 back with `saved=1`, the values in the API and the Director's
//! manifest), and a refused post is a 422 with the page again, the posted values kept and the
//! error under its field.

mod common;
mod support;

use common::*;
use reqwest::Method;
use support::*;

async fn section(browser: &reqwest::Client, server: &TestServer, slug: &str) -> String {
    let r = browser
        .get(server.at(&format!("/director?section={slug}")))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// The version the section's form posts with.
fn form_version(html: &str) -> String {
    let marker = r#"name="config_version" value=""#;
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no version in {html}"))
        + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// The section's address, where its form posts.
fn at(slug: &str) -> String {
    format!("/director?section={slug}")
}

#[tokio::test]
async fn security_syslog_and_resource_config_save_through_plain_forms() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let (cert, _) = support::pks::test_cert();

    // Security: the form is on the page with its names; a bad certificate is refused under
    // its field, the typed text kept; a good one is saved and rendered into the manifest.
    let html = section(&browser, &server, "security").await;
    assert!(
        html.contains(r#"action="/director?section=security""#),
        "{html}"
    );
    assert!(html.contains(r#"name="trusted_certificates""#));
    assert!(html.contains(r#"name="generate_vm_passwords""#));
    assert!(
        html.contains(r#"data-section="security""#),
        "in the navigation"
    );
    let version = form_version(&html);
    let html = post_form_refused(
        &browser,
        &server,
        &at("security"),
        &[
            ("config_version", &version),
            ("trusted_certificates", "not a certificate"),
            ("generate_vm_passwords", "true"),
        ],
        422,
    )
    .await;
    assert!(
        html.contains(r#"data-error-for="security_configuration.trusted_certificates""#),
        "{html}"
    );
    assert!(html.contains(">not a certificate</textarea>"), "{html}");
    let to = post_form_done(
        &browser,
        &server,
        &at("security"),
        &[
            ("config_version", &version),
            ("trusted_certificates", &cert),
            ("opsmanager_root_ca_trusted_certs", "true"),
        ],
    )
    .await;
    assert_eq!(to, "/director?section=security&saved=1");
    let props = api
        .ok(Method::GET, "/api/v0/staged/director/properties", None)
        .await;
    let security = &props["security_configuration"];
    assert_eq!(
        security["trusted_certificates"].as_str().unwrap(),
        cert.trim()
    );
    assert_eq!(security["generate_vm_passwords"], false, "an unticked box");
    assert_eq!(security["opsmanager_root_ca_trusted_certs"], true);
    let html = section(&browser, &server, "security").await;
    assert!(
        html.contains(cert.lines().nth(1).unwrap()),
        "the saved value is shown"
    );

    // Syslog: a bad port and transport are refused by field; good values are saved.
    let html = section(&browser, &server, "syslog").await;
    let version = form_version(&html);
    let html = post_form_refused(
        &browser,
        &server,
        &at("syslog"),
        &[
            ("config_version", &version),
            ("enabled", "true"),
            ("address", "logs.example.com"),
            ("port", "99999"),
            ("transport_protocol", "ftp"),
        ],
        422,
    )
    .await;
    assert!(
        html.contains(r#"data-error-for="syslog_configuration.port""#),
        "{html}"
    );
    assert!(html.contains(r#"data-error-for="syslog_configuration.transport_protocol""#));
    assert!(html.contains(r#"value="99999""#), "the posted port is kept");
    post_form_done(
        &browser,
        &server,
        &at("syslog"),
        &[
            ("config_version", &version),
            ("enabled", "true"),
            ("address", "logs.example.com"),
            ("port", "514"),
            ("transport_protocol", "udp"),
        ],
    )
    .await;
    let props = api
        .ok(Method::GET, "/api/v0/staged/director/properties", None)
        .await;
    assert_eq!(props["syslog_configuration"]["address"], "logs.example.com");
    assert_eq!(props["syslog_configuration"]["enabled"], true);

    // Resource Config: automatic says what it means; an unknown VM type is refused; a chosen
    // type and disk are saved and reach the Director's manifest.
    let html = section(&browser, &server, "resource-config").await;
    assert!(html.contains("Automatic: large.disk ("), "{html}");
    assert!(html.contains(r#"name="director.instance_type""#));
    assert!(html.contains(r#"name="compilation.instances""#));
    let version = form_version(&html);
    let html = post_form_refused(
        &browser,
        &server,
        &at("resource-config"),
        &[
            ("config_version", &version),
            ("director.instance_type", "huge"),
            ("compilation.instances", "many"),
        ],
        422,
    )
    .await;
    assert!(
        html.contains(r#"data-error-for="resource-config.director.instance_type""#),
        "{html}"
    );
    assert!(html.contains(r#"data-error-for="resource-config.compilation.instances""#));
    post_form_done(
        &browser,
        &server,
        &at("resource-config"),
        &[
            ("config_version", &version),
            ("director.instance_type", "xlarge"),
            ("director.persistent_disk", "102400"),
            ("compilation.instances", "2"),
            ("compilation.instance_type", "automatic"),
        ],
    )
    .await;
    let manifest = api
        .ok(Method::GET, "/api/v0/staged/director/manifest", None)
        .await;
    let group = &manifest["manifest"]["instance_groups"][0];
    assert_eq!(group["vm_type"], "xlarge");
    assert_eq!(group["persistent_disk"], 102400);
    let jobs: Vec<&str> = group["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(jobs, ["director", "syslog_forwarder"]);
    // "Forward debug logs" was left off: the forwarder drops debug lines.
    assert_eq!(
        group["jobs"][1]["properties"]["syslog"]["custom_rule"],
        r#"if ($msg contains " DEBUG ") then stop"#
    );
    let html = section(&browser, &server, "resource-config").await;
    assert!(
        html.contains(r#"value="2""#),
        "the compilation count is shown: {html}"
    );

    // A stale version is a 409 with the values kept.
    let r = post_form(
        &browser,
        &server,
        &at("syslog"),
        &[("config_version", "1"), ("enabled", "false")],
    )
    .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("another operator saved"));
}

#[tokio::test]
async fn a_read_only_role_sees_the_sections_but_may_not_post_them() {
    let server = TestServer::start();
    let token = client_token(&server, "viewer", "full_view").await;
    let r = reqwest::Client::new()
        .post(server.at("/director?section=security"))
        .bearer_auth(&token)
        .form(&[("config_version", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = reqwest::Client::new()
        .get(server.at("/api/v0/staged/director/manifest"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
