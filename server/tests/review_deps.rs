//! Review Pending Changes over the API: `depends_on` and `changes` in
//! `GET /api/v0/staged/pending_changes`, and what `POST /api/v0/installations` checks — a
//! dependency with pending changes left out of the run, a required dependency no staged product
//! meets, errand overrides for errands that do not exist (errors, 422 whatever
//! `ignore_warnings` says), and warnings (an optional dependency at another version, errand
//! overrides for a product left out), which `ignore_warnings` skips; a selected product
//! without pending changes is deployed again without a warning. Small tiles without
//! jobs, built in memory, deployed by the embedded Director stand-in.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::*;

/// A job-less tile: `name` at `version` with one configurable string property and the
/// given `requires_product_versions` lines (YAML list items, or empty).
fn tile(name: &str, version: &str, requires: &str) -> Vec<u8> {
    let requires = if requires.is_empty() {
        String::new()
    } else {
        format!("requires_product_versions:\n{requires}")
    };
    let metadata = format!(
        "name: {name}\nproduct_version: {version}\nmetadata_version: '2.1'\nlabel: {name}\n\
         rank: 1\nminimum_version_for_upgrade: 1.0.0\n\
         stemcell_criteria: {{os: ubuntu-xenial, version: '97.17'}}\nreleases: []\n\
         {requires}\
         property_blueprints:\n- {{name: greeting, type: string, configurable: true, default: hi}}\n\
         form_types:\n- name: main\n  label: Main\n  property_inputs:\n  - {{reference: .properties.greeting, label: Greeting}}\n\
         job_types: []\npost_deploy_errands: []\n"
    );
    pivotal(&[(&format!("metadata/{name}.yml"), metadata.as_bytes(), true)])
}

async fn import(api: &Api<'_>, name: &str, version: &str, requires: &str) {
    let r = api
        .upload(
            &format!("{name}-{version}.pivotal"),
            tile(name, version, requires),
        )
        .await;
    assert_eq!(r.status, 200, "{name} {version}: {:#}", r.body);
}

/// Stages `name` (the newest import) and places it on the Director's network.
async fn stage_placed(api: &Api<'_>, name: &str) -> String {
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": name, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
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
    guid
}

async fn pending(api: &Api<'_>, guid: &str) -> Value {
    let all = api
        .ok(Method::GET, "/api/v0/staged/pending_changes", None)
        .await;
    all["product_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["guid"] == guid)
        .unwrap_or_else(|| panic!("{guid} not in {all:#}"))
        .clone()
}

fn descriptions(change: &Value) -> Vec<String> {
    change["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["description"].as_str().unwrap().to_owned())
        .collect()
}

fn dependency<'a>(change: &'a Value, name: &str) -> &'a Value {
    change["depends_on"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no dependency {name}: {change:#}"))
}

/// POST expected to be refused: the body.
async fn refused(api: &Api<'_>, body: Value) -> Value {
    let r = api.post("/api/v0/installations", body.clone()).await;
    assert_eq!(r.status, 422, "{body}: {:#}", r.body);
    r.body
}

fn all_text(v: &Value) -> String {
    v.to_string()
}

#[tokio::test]
async fn dependencies_changes_and_warnings_through_apply_changes() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    import(&api, "rd-base", "1.0.0", "").await;
    import(
        &api,
        "rd-app",
        "1.0.0",
        "- {name: rd-base, version: '~> 1.0'}\n- {name: rd-extra, version: '>= 2.0', optional: true}\n",
    )
    .await;
    let base = stage_placed(&api, "rd-base").await;
    let app = stage_placed(&api, "rd-app").await;

    // --- Depends on and Changes before anything is deployed.
    let p = pending(&api, &app).await;
    assert_eq!(p["action"], "install");
    let d = dependency(&p, "rd-base");
    assert_eq!(d["state"], "satisfied", "{p:#}");
    assert_eq!(d["colour"], "green");
    assert_eq!(d["requirement"], "~> 1.0");
    assert_eq!(d["optional"], false);
    assert_eq!(d["found_version"], "1.0.0");
    assert_eq!(d["guid"], base.as_str());
    assert_eq!(d["pending"], true, "rd-base has never been deployed");
    let extra = dependency(&p, "rd-extra");
    assert_eq!(
        (&extra["state"], &extra["colour"], &extra["optional"]),
        (&json!("missing"), &json!("gray"), &json!(true))
    );
    let items = descriptions(&p);
    assert_eq!(items[0], "New install of v1.0.0", "{p:#}");
    assert!(
        items
            .iter()
            .any(|i| i.starts_with("Stemcell added: ubuntu-xenial 97.")),
        "{items:?}"
    );
    assert!(pending(&api, &base).await["depends_on"]
        .as_array()
        .unwrap()
        .is_empty());

    // --- The app without its pending dependency: refused, naming both.
    let body = refused(&api, json!({"deploy_products": [app]})).await;
    let errors = all_text(&body["errors"][&app]);
    assert!(
        errors.contains("rd-app requires rd-base, which has pending changes")
            && errors.contains(&base),
        "{body:#}"
    );
    let product = body["deployment_errors"]["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guid"] == app.as_str())
        .unwrap_or_else(|| panic!("{body:#}"));
    assert_eq!(product["identifier"], "rd-app");
    assert_eq!(product["complete"], true);
    assert_eq!(
        product["verifiers"][0]["type"],
        "ProductDependenciesVerifier"
    );
    assert_eq!(product["verifiers"][0]["ignorable"], false);
    // ignore_warnings does not skip errors.
    refused(
        &api,
        json!({"deploy_products": [app], "ignore_warnings": "true"}),
    )
    .await;
    // An errand override for an errand the tile does not have is an error too.
    let body = refused(
        &api,
        json!({"deploy_products": [app, base],
               "errands": {app.clone(): {"run_post_deploy": {"nope": true}}}}),
    )
    .await;
    assert!(
        all_text(&body["errors"][&app]).contains("rd-app has no post-deploy errand 'nope'"),
        "{body:#}"
    );

    // --- Together they deploy; afterwards nothing is pending.
    apply_succeeds(&api, json!({"deploy_products": [app, base]})).await;
    let p = pending(&api, &app).await;
    assert_eq!(p["action"], "unchanged");
    assert_eq!(p["changes"], json!([]));
    assert_eq!(dependency(&p, "rd-base")["pending"], false);

    // --- A product without pending changes named explicitly is deployed again as it is,
    // without a warning (om apply-changes --product-name must work for it).
    let log = apply_succeeds(&api, json!({"deploy_products": [app]})).await;
    assert!(!log.contains("Warning ignored"), "{log}");
    // --- A warning: overrides for a product left out. Refused without ignore_warnings,
    // applied with it.
    let overrides_for_base = json!({base.clone(): {"run_post_deploy": {}}});
    let body = refused(
        &api,
        json!({"deploy_products": [app], "errands": overrides_for_base}),
    )
    .await;
    assert_eq!(body["errors"], json!({}), "{body:#}");
    let warnings = all_text(&body["warnings"]);
    assert!(
        warnings.contains(&format!("rd-base ({base}): errand overrides are ignored")),
        "{body:#}"
    );
    let verifiers = all_text(&body["deployment_errors"]);
    assert!(verifiers.contains("ErrandOverridesVerifier"), "{body:#}");
    let log = apply_succeeds(
        &api,
        json!({"deploy_products": [app], "errands": overrides_for_base, "ignore_warnings": "true"}),
    )
    .await;
    assert!(
        log.contains(&format!(
            "Warning ignored (ignore_warnings): rd-base ({base}): errand overrides are ignored"
        )),
        "{log}"
    );
    // "all" deploys everything as it is without a warning, as om's apply-changes expects.
    apply_succeeds(&api, json!({"deploy_products": "all"})).await;

    // --- An optional dependency at another version: red, a warning only.
    import(&api, "rd-extra", "1.0.0", "").await;
    let extra = stage_placed(&api, "rd-extra").await;
    let p = pending(&api, &app).await;
    let d = dependency(&p, "rd-extra");
    assert_eq!(
        (&d["state"], &d["colour"], &d["found_version"]),
        (&json!("incompatible"), &json!("red"), &json!("1.0.0"))
    );
    let body = refused(&api, json!({"deploy_products": [app, extra]})).await;
    assert_eq!(body["errors"], json!({}), "{body:#}");
    assert!(
        all_text(&body["warnings"])
            .contains("optional dependency rd-extra >= 2.0: v1.0.0 does not satisfy >= 2.0"),
        "{body:#}"
    );
    apply_succeeds(
        &api,
        json!({"deploy_products": [app, extra], "ignore_warnings": true}),
    )
    .await;

    // --- Changes of an update: a new version and a changed property.
    import(&api, "rd-base", "1.1.0", "").await;
    let r = api
        .put(
            &format!("/api/v0/staged/products/{base}"),
            json!({"to_version": "1.1.0"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{base}/properties"),
        Some(json!({"properties": {".properties.greeting": {"value": "hello"}}})),
    )
    .await;
    let p = pending(&api, &base).await;
    assert_eq!(p["action"], "update");
    assert_eq!(
        descriptions(&p),
        vec![
            "Version updated from 1.0.0 to 1.1.0",
            "Properties changed: .properties.greeting"
        ],
        "{p:#}"
    );
    // The app still depends on it (1.1.0 meets ~> 1.0), so it must come along again.
    let d = dependency(&pending(&api, &app).await, "rd-base").clone();
    assert_eq!(
        (&d["state"], &d["pending"]),
        (&json!("satisfied"), &json!(true))
    );
    refused(
        &api,
        json!({"deploy_products": [app], "ignore_warnings": true}),
    )
    .await;
    apply_succeeds(&api, json!({"deploy_products": [base]})).await;

    // --- A staged deletion: the Changes item, and the app's dependency is gone.
    let r = api.delete(&format!("/api/v0/staged/products/{base}")).await;
    assert_eq!(r.body["outcome"], "deletion_staged", "{:#}", r.body);
    let p = pending(&api, &base).await;
    assert_eq!(p["action"], "delete");
    assert_eq!(
        descriptions(&p),
        vec!["Deletion staged: Apply Changes deletes the deployment"]
    );
    let p = pending(&api, &app).await;
    let d = dependency(&p, "rd-base");
    assert_eq!(
        (&d["state"], &d["colour"], &d["note"]),
        (
            &json!("missing"),
            &json!("red"),
            &json!("its deletion is staged")
        )
    );
    let body = refused(
        &api,
        json!({"deploy_products": [app], "ignore_warnings": true}),
    )
    .await;
    assert!(
        all_text(&body["errors"][&app])
            .contains("rd-app requires rd-base ~> 1.0: its deletion is staged"),
        "{body:#}"
    );
    assert_eq!(body["warnings"], json!([]), "{body:#}");
    let product = &body["deployment_errors"]["products"][0];
    assert_eq!(product["dependencies"][0]["name"], "rd-base", "{body:#}");
    assert_eq!(product["dependencies"][0]["state"], "missing");
}

#[tokio::test]
async fn a_required_product_that_is_not_there_blocks_the_apply() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    import(
        &api,
        "rd-needy",
        "1.0.0",
        "- {name: rd-ghost, version: '>= 1'}\n- {name: rd-base, version: '~> 2.0'}\n",
    )
    .await;
    import(&api, "rd-base", "1.0.0", "").await;
    let needy = stage_placed(&api, "rd-needy").await;
    stage_placed(&api, "rd-base").await;

    let p = pending(&api, &needy).await;
    let ghost = dependency(&p, "rd-ghost");
    assert_eq!(
        (&ghost["state"], &ghost["colour"], &ghost["note"]),
        (
            &json!("missing"),
            &json!("red"),
            &json!("neither staged nor deployed")
        )
    );
    let base = dependency(&p, "rd-base");
    assert_eq!(
        (&base["state"], &base["colour"]),
        (&json!("incompatible"), &json!("red"))
    );

    for body in [
        json!({"deploy_products": "all"}),
        json!({"deploy_products": [needy], "ignore_warnings": "true"}),
    ] {
        let r = refused(&api, body).await;
        let errors = all_text(&r["errors"][&needy]);
        assert!(
            errors.contains("rd-needy requires rd-ghost >= 1: neither staged nor deployed"),
            "{r:#}"
        );
        assert!(
            errors.contains("rd-needy requires rd-base ~> 2.0: v1.0.0 does not satisfy ~> 2.0"),
            "{r:#}"
        );
    }
    // Nothing started.
    let list = api.ok(Method::GET, "/api/v0/installations", None).await;
    assert_eq!(list["installations"], json!([]));
}
