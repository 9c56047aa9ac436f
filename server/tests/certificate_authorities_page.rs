//! The Certificate Authorities settings page (`/settings/certificate-authorities`) against the
//! real binary, as a browser without the wasm uses it: the page is whole on the server (the CAs,
//! which is active, their expiry, the forms), and each plain form (generate, activate, delete,
//! import) changes what `GET /api/v0/certificate_authorities` shows and answers 303 back to the
//! page saying what happened; a refusal answers 4xx with the page rendered again, the refusal
//! beside the form that was sent, naming the field and the rule.

mod common;
mod support;

use common::*;
use reqwest::Method;
use support::*;

const PAGE: &str = "/settings/certificate-authorities";

/// Posts a form the server refuses; returns the page it renders again (this page).
async fn post_refused(
    browser: &reqwest::Client,
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
    status: u16,
) -> String {
    let html = post_form_refused(browser, server, path, form, status).await;
    assert!(html.contains("<h1>Certificate authorities</h1>"), "{html}");
    html
}

async fn page(browser: &reqwest::Client, server: &TestServer, query: &str) -> String {
    get_page(browser, server, &format!("{PAGE}{query}")).await
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
    assert!(!html.contains(&format!(r#"name="guid" value="{first_guid}""#)));

    // Generate: a second, inactive CA.
    let to = post_form_done(&browser, &server, PAGE, &[("form", "generate")]).await;
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
    assert!(html.contains(&format!(r#"name="guid" value="{second_guid}""#)));

    // Activate it: the first becomes inactive and deletable.
    let to = post_form_done(
        &browser,
        &server,
        PAGE,
        &[("form", "activate"), ("guid", &second_guid)],
    )
    .await;
    assert_eq!(to, format!("{PAGE}?done=activated"));
    let list = api
        .ok(Method::GET, "/api/v0/certificate_authorities", None)
        .await;
    for ca in list["certificate_authorities"].as_array().unwrap() {
        assert_eq!(ca["active"], ca["guid"] == second_guid.as_str(), "{ca}");
    }

    // Deleting the active CA is refused (409), with the rule beside its row; an unknown CA is
    // a 404 naming it; the inactive one goes.
    let html = post_refused(
        &browser,
        &server,
        PAGE,
        &[("form", "delete"), ("guid", &second_guid)],
        409,
    )
    .await;
    assert!(
        html.contains(r#"data-form="delete" data-field="guid""#),
        "{html}"
    );
    assert!(html.contains("active"), "{html}");
    let html = post_refused(
        &browser,
        &server,
        PAGE,
        &[("form", "activate"), ("guid", "no-such-ca")],
        404,
    )
    .await;
    assert!(
        html.contains("guid: certificate authority &#x27;no-such-ca&#x27; not found")
            || html.contains("guid: certificate authority 'no-such-ca' not found"),
        "{html}"
    );
    let to = post_form_done(
        &browser,
        &server,
        PAGE,
        &[("form", "delete"), ("guid", &first_guid)],
    )
    .await;
    assert_eq!(to, format!("{PAGE}?done=deleted"));
    let list = api
        .ok(Method::GET, "/api/v0/certificate_authorities", None)
        .await;
    assert_eq!(list["certificate_authorities"].as_array().unwrap().len(), 1);

    // Import: a blank field is named (422); a certificate that is not a CA is refused, the
    // certificate given back in its field and the private key never written into the page.
    let html = post_refused(
        &browser,
        &server,
        PAGE,
        &[
            ("form", "import"),
            ("cert_pem", ""),
            ("private_key_pem", ""),
        ],
        422,
    )
    .await;
    assert!(
        html.contains(r#"data-form="import" data-field="cert_pem""#),
        "{html}"
    );
    assert!(
        html.contains("cert_pem: can&#x27;t be blank") || html.contains("cert_pem: can't be blank"),
        "{html}"
    );
    let (cert, key) = support::pks::test_cert();
    let html = post_refused(
        &browser,
        &server,
        PAGE,
        &[
            ("form", "import"),
            ("cert_pem", &cert),
            ("private_key_pem", &key),
        ],
        422,
    )
    .await;
    assert!(
        html.contains(r#"data-form="import" data-field=""#),
        "{html}"
    );
    let first_line = cert.lines().nth(1).unwrap();
    assert!(html.contains(first_line), "the certificate is given back");
    assert!(
        !html.contains("PRIVATE KEY"),
        "the key is never in the page"
    );
    let list = api
        .ok(Method::GET, "/api/v0/certificate_authorities", None)
        .await;
    assert_eq!(list["certificate_authorities"].as_array().unwrap().len(), 1);
}
