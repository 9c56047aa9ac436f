//! A product's settings page carries only what the form it shows reads: the template cut to
//! that form (`tiles::form_template::for_form`) and that form's values, not the tile's whole
//! metadata; the placement sections carry the navigation only. Checked through the UI's server
//! function (`/_app/product_settings`) and the server-rendered page, against the real binary
//! with the bundled PKS tile staged.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::pks::PKS;
use support::*;
use tiles::metadata::ProductTemplate;
use tiles::properties::staged::StagedValues;
use tiles::validate::{validate_form, ValidationContext};

async fn settings(browser: &reqwest::Client, server: &TestServer, form: &[(&str, &str)]) -> Value {
    let r = browser
        .post(server.at("/_app/product_settings"))
        .form(form)
        .send()
        .await
        .expect("server function");
    let status = r.status();
    let text = r.text().await.expect("body");
    assert!(status.is_success(), "{status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| x["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_settings_page_carries_only_its_forms_metadata() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let full = ProductTemplate::from_yaml(tiles::products::PKS_METADATA).unwrap();
    let all_forms: Vec<String> = full.form_types.iter().map(|f| f.name.clone()).collect();

    // Plan 1: every form in the navigation, only plan 1's inputs and selector, its values.
    let page = settings(
        &browser,
        &server,
        &[("guid", &guid), ("form", "plan1"), ("section", "false")],
    )
    .await;
    assert_eq!(page["form"], "plan1");
    let template: ProductTemplate = serde_json::from_value(page["template"].clone()).unwrap();
    assert_eq!(names(&page["template"]["form_types"]), all_forms);
    assert_eq!(
        names(&page["template"]["property_blueprints"]),
        ["plan1_selector"]
    );
    assert!(template.job_types.is_empty() && template.releases.is_empty());
    for form in template.form_types.iter().filter(|f| f.name != "plan1") {
        assert!(form.property_inputs.is_empty(), "{}", form.name);
    }
    let values = page["values"].as_object().unwrap();
    assert!(!values.is_empty());
    for reference in values.keys() {
        assert!(
            reference.starts_with(".properties.plan1_selector"),
            "{reference}"
        );
    }
    // The navigation's marks are still computed over every form, on the server.
    let complete = page["form_complete"].as_object().unwrap();
    assert_eq!(complete.len(), all_forms.len());
    // The browser's validation of the page's values finds what the server finds.
    let staged_values = StagedValues {
        properties: values.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        ..StagedValues::default()
    };
    let ctx = ValidationContext::default();
    assert_eq!(
        validate_form(&template, "plan1", &staged_values, &ctx),
        validate_form(&full, "plan1", &staged_values, &ctx)
    );
    // The service adapter's warning on the plan's own field (as shipped, no admission plugins
    // listed: kubo turns SecurityContextDeny on anyway), and only this form's.
    let notes = page["notes"].as_object().unwrap();
    assert_eq!(
        notes.keys().collect::<Vec<_>>(),
        [".properties.plan1_selector.active.admission_plugins"],
        "{notes:?}"
    );
    assert!(
        notes[".properties.plan1_selector.active.admission_plugins"][0]
            .as_str()
            .unwrap()
            .starts_with("not carried into this plan's clusters: "),
        "{notes:?}"
    );
    // The bundled tile's templates agree with its releases' job specs: no warning, and the
    // same answer again from what the server keeps of the tile.
    assert_eq!(page["job_spec_warnings"], json!([]));
    assert_eq!(page["lint_warnings"], json!([]));
    let again = settings(
        &browser,
        &server,
        &[("guid", &guid), ("form", "plan1"), ("section", "false")],
    )
    .await;
    assert_eq!(again, page);
    let plan1_size = serde_json::to_string(&page).unwrap().len();
    assert!(
        plan1_size * 5 < tiles::products::PKS_METADATA.len(),
        "plan 1's settings are {plan1_size} bytes"
    );

    // No form named (or an unknown one): the first form, as the navigation shows it.
    for form in [vec![], vec![("form", "no-such-form")]] {
        let mut args = vec![("guid", guid.as_str()), ("section", "false")];
        args.extend(form);
        let page = settings(&browser, &server, &args).await;
        assert_eq!(page["form"], all_forms[0].as_str());
        assert!(!names(&page["template"]["property_blueprints"]).is_empty());
    }

    // A placement section: the navigation and its marks, no property metadata, no values.
    let page = settings(
        &browser,
        &server,
        &[("guid", &guid), ("form", "plan1"), ("section", "true")],
    )
    .await;
    assert_eq!(page["form"], Value::Null);
    assert_eq!(names(&page["template"]["form_types"]), all_forms);
    // (Empty lists are left out of the page data and read back empty.)
    let template: ProductTemplate = serde_json::from_value(page["template"].clone()).unwrap();
    assert!(template.property_blueprints.is_empty());
    assert!(template.job_types.is_empty());
    assert_eq!(page["template"].get("property_blueprints"), None);
    assert_eq!(page["values"], json!({}));
    assert_eq!(
        page["form_complete"].as_object().unwrap().len(),
        all_forms.len()
    );

    // The server-rendered pages: the form (with its fields), never another form's inputs or a
    // manifest; the section without any property.
    let html = browser
        .get(server.at(&format!("/products/{guid}/settings?form=plan1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Plan 1"), "{html}");
    assert!(html.contains(".properties.plan1_selector.active.name"));
    assert!(
        html.contains("not carried into this plan&#x27;s clusters")
            || html.contains("not carried into this plan's clusters"),
        "the adapter's warning is on the server-rendered form"
    );
    assert!(!html.contains("Configure your UAA user account store"));
    assert!(!html.contains("plan2_selector"));
    assert!(!html.contains("manifest: |"));
    assert!(
        html.len() < 100_000,
        "plan 1's page is {} bytes",
        html.len()
    );
    let html = browser
        .get(server.at(&format!("/products/{guid}/settings?section=resources")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Plan 1"), "the navigation lists the forms");
    assert!(
        !html.contains(".properties."),
        "no property on a section page"
    );
}

/// A plain form post (no wasm) whose `_loaded` field is not a JSON object is refused naming the
/// field, and nothing is saved.
#[tokio::test]
async fn a_plain_post_with_unreadable_loaded_values_is_refused_naming_the_field() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let path = format!("/products/{guid}/settings?form=plan1");
    let before = api
        .version_of(&format!("/api/v0/staged/products/{guid}/properties"))
        .await;
    let r = post_form(
        &browser,
        &server,
        &path,
        &[
            ("_form", "plan1"),
            ("_config_version", &before.to_string()),
            ("_loaded", "not json"),
            (".properties.plan1_selector.active.name", "renamed"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["errors"]["_loaded"].is_array(), "{body}");
    assert_eq!(
        api.version_of(&format!("/api/v0/staged/products/{guid}/properties"))
            .await,
        before,
        "nothing saved"
    );
}

/// What the response's `Server-Timing` says of the page: `cached` or `rendered`.
fn page_source(r: &reqwest::Response) -> String {
    let timing = r.headers()["server-timing"].to_str().unwrap();
    let source = timing
        .strip_prefix("page;desc=\"")
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("server-timing: {timing}"));
    source.to_owned()
}

/// What a second read of an unchanged page is: kept on SQLite, rendered again on PostgreSQL
/// (no data generation there: `migrations/postgres/0027_data_generation.sql`).
fn read_again(server: &TestServer) -> &'static str {
    if server.database_url.is_some() {
        "rendered"
    } else {
        "cached"
    }
}

/// GETs a page; returns where it came from, its CSP nonce and its HTML.
async fn read_page(
    browser: &reqwest::Client,
    server: &TestServer,
    path: &str,
) -> (String, String, String) {
    let r = browser.get(server.at(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    let source = page_source(&r);
    let policy = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy}"))
        .to_owned();
    (source, nonce, r.text().await.unwrap())
}

/// A settings page is rendered once and served again (`http/page_cache.rs`) until something it
/// shows changes, whoever changes it: the API, a plain form post, another process writing the
/// database. Each answer carries its own CSP nonce, and another user never gets a page rendered
/// for the first. On PostgreSQL every answer is rendered, and the same reads show the same
/// values.
#[tokio::test]
async fn a_settings_page_is_served_again_until_what_it_shows_changes() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let admin = browser();
    log_in(&admin, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    configure_director(&api).await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    let path = format!("/products/{guid}/settings?form=plan1");

    let (source, first_nonce, first) = read_page(&admin, &server, &path).await;
    assert_eq!(source, "rendered");
    assert!(
        first.contains(&format!("nonce=\"{first_nonce}\"")),
        "{first}"
    );
    let (source, nonce, again) = read_page(&admin, &server, &path).await;
    assert_eq!(source, read_again(&server));
    assert_ne!(nonce, first_nonce, "each answer has its own nonce");
    assert!(
        !again.contains(&first_nonce),
        "the first answer's nonce is not repeated"
    );
    assert_eq!(again, first.replace(&first_nonce, &nonce));
    // Another form of the same product is another page.
    let (source, ..) = read_page(
        &admin,
        &server,
        &format!("/products/{guid}/settings?form=plan2"),
    )
    .await;
    assert_eq!(source, "rendered");

    // A change through the API.
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{guid}/properties"),
        Some(json!({"properties": {
            ".properties.plan1_selector.active.name": {"value": "renamed-by-api"},
            ".properties.plan1_selector.active.master_az_placement": {"value": ["az1"]},
            ".properties.plan1_selector.active.worker_az_placement": {"value": ["az1"]},
        }})),
    )
    .await;
    let (source, _, html) = read_page(&admin, &server, &path).await;
    assert_eq!(source, "rendered");
    assert!(html.contains("renamed-by-api"));
    let (source, ..) = read_page(&admin, &server, &path).await;
    assert_eq!(source, read_again(&server));

    // Another user, another role: their own rendering, never the admin's page.
    api.post(
        "/api/v0/users",
        json!({"username": "looker", "password": "a long enough password", "role": "full_view"}),
    )
    .await
    .expect(201);
    let viewer = browser();
    log_in(&viewer, &server, "looker", "a long enough password").await;
    let (source, _, html) = read_page(&viewer, &server, &path).await;
    assert_eq!(source, "rendered");
    assert!(html.contains("renamed-by-api"));
    let (source, ..) = read_page(&viewer, &server, &path).await;
    assert_eq!(source, read_again(&server));

    // A plain form post (no wasm): the page it redirects to shows the saved value.
    let version = api
        .version_of(&format!("/api/v0/staged/products/{guid}/properties"))
        .await;
    let loaded = json!({".properties.plan1_selector.active.name": "renamed-by-api"}).to_string();
    let to = post_form_done(
        &admin,
        &server,
        &path,
        &[
            ("_form", "plan1"),
            ("_config_version", &version.to_string()),
            ("_loaded", &loaded),
            (".properties.plan1_selector.active.name", "renamed-by-form"),
        ],
    )
    .await;
    let (source, _, html) = read_page(&admin, &server, &to).await;
    assert_eq!(source, "rendered");
    assert!(html.contains("renamed-by-form"), "{html}");
    let (source, _, html) = read_page(&admin, &server, &path).await;
    assert_eq!(source, "rendered");
    assert!(html.contains("renamed-by-form"));

    // Another process writing the same database (the CLI creating an API client).
    let (source, ..) = read_page(&admin, &server, &path).await;
    assert_eq!(source, read_again(&server));
    client_token(&server, "page-cache-client", "full_view").await;
    let (source, ..) = read_page(&admin, &server, &path).await;
    assert_eq!(source, "rendered", "a write by another process is seen");
}
