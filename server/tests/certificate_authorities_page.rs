//! The Certificate Authorities settings page (`/settings/certificate-authorities`) against the
//! real binary, as a browser without the wasm uses it: the page is whole on the server (the CAs,
//! which is active, their expiry, the forms), and each plain form (generate, activate, delete,
//! import) changes what `GET /api/v0/certificate_authorities` shows and answers 303 back to the
//! page saying what happened or, for a refusal, what was wrong.

mod common;
mod support;

use common::*;
use reqwest::Method;
use support::*;

const PAGE: &str = "/settings/certificate-authorities";

/// Posts a form; returns where the 303 sends the browser.
async fn post_form(
    browser: &reqwest::Client,
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
) -> String {
    let r = browser
        .post(server.at(path))
        .form(form)
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.status(),
        303,
        "{path}: {}",
        r.text().await.unwrap_or_default()
    );
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn page(browser: &reqwest::Client, server: &TestServer, query: &str) -> String {
    let r = browser
        .get(server.at(&format!("{PAGE}{query}")))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

#[tokio::test]
async fn cas_are_listed_generated_activated_and_deleted_through_plain_forms() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;

    let list = api
        .ok(Method::GET, "/api/v0/certificate_authorities", None)
        .await;
    let first = list["certificate_authorities"][0].clone();
    let first_guid = first["guid"].as_str().unwrap().to_owned();
    let html = page(&browser, &server, "").await;
    assert!(html.contains("<h1>Certificate authorities</h1>"), "{html}");
    assert!(html.contains(&format!("data-guid=\"{first_guid}\"")));
    assert!(html.contains(first["expires_on"].as_str().unwrap()));
    assert!(html.contains(">Active<"));
    assert!(!html.contains("PRIVATE KEY") && !html.contains("BEGIN CERTIFICATE"));
    // The active CA offers neither activate nor delete.
    assert!(!html.contains(&format!("{PAGE}/{first_guid}/delete")));

    // Generate: a second, inactive CA.
    let to = post_form(&browser, &server, &format!("{PAGE}/generate"), &[]).await;
    assert_eq!(to, format!("{PAGE}?done=generated"));
    let list = api
        .ok(Method::GET, "/api/v0/certificate_authorities", None)
        .await;
    let cas = list["certificate_authorities"].as_array().unwrap().clone();
    assert_eq!(cas.len(), 2);
    let second = cas
        .iter()
        .find(|c| c["guid"] != first_guid.as_str())
        .unwrap();
    let second_guid = second["guid"].as_str().unwrap().to_owned();
    assert_eq!(second["active"], false);
    let html = page(&browser, &server, "?done=generated").await;
    assert!(html.contains("Certificate authority generated."), "{html}");
    assert!(html.contains(&format!("{PAGE}/{second_guid}/activate")));

    // Activate it: the first becomes inactive and deletable.
    let to = post_form(
        &browser,
        &server,
        &format!("{PAGE}/{second_guid}/activate"),
        &[],
    )
    .await;
    assert_eq!(to, format!("{PAGE}?done=activated"));
    let list = api
        .ok(Method::GET, "/api/v0/certificate_authorities", None)
        .await;
    for ca in list["certificate_authorities"].as_array().unwrap() {
        assert_eq!(ca["active"], ca["guid"] == second_guid.as_str(), "{ca}");
    }

    // Deleting the active CA is refused, with the reason on the page; the inactive one goes.
    let to = post_form(
        &browser,
        &server,
        &format!("{PAGE}/{second_guid}/delete"),
        &[],
    )
    .await;
    assert!(to.starts_with(&format!("{PAGE}?error=")), "{to}");
    let to = post_form(
        &browser,
        &server,
        &format!("{PAGE}/{first_guid}/delete"),
        &[],
    )
    .await;
    assert_eq!(to, format!("{PAGE}?done=deleted"));
    let list = api
        .ok(Method::GET, "/api/v0/certificate_authorities", None)
        .await;
    assert_eq!(list["certificate_authorities"].as_array().unwrap().len(), 1);

    // Import: a blank field is named; a certificate that is not a CA is refused.
    let to = post_form(
        &browser,
        &server,
        &format!("{PAGE}/import"),
        &[("cert_pem", ""), ("private_key_pem", "")],
    )
    .await;
    assert!(to.starts_with(&format!("{PAGE}?error=cert_pem")), "{to}");
    let (cert, key) = support::pks::test_cert();
    let to = post_form(
        &browser,
        &server,
        &format!("{PAGE}/import"),
        &[("cert_pem", &cert), ("private_key_pem", &key)],
    )
    .await;
    assert!(to.starts_with(&format!("{PAGE}?error=")), "{to}");
    let list = api
        .ok(Method::GET, "/api/v0/certificate_authorities", None)
        .await;
    assert_eq!(list["certificate_authorities"].as_array().unwrap().len(), 1);
}
