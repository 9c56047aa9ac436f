//! The job-spec check where operators meet it: a tile (built here: metadata and a release
//! tarball written by the test) whose template sets a misspelt property and names a job its
//! release lacks is imported (never refused), and both findings are in the import answer, the
//! available products list, Review Pending Changes (server-rendered HTML) and the product's
//! pre-deploy check, as warnings (`complete` stays true), and Apply Changes logs them at the
//! product's step. The configured PKS tile has none.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::pks::*;
use support::spec_tile::*;
use support::*;

fn spec_pivotal() -> Vec<u8> {
    let release = release();
    pivotal(&[
        ("metadata/spec-demo.yml", METADATA.as_bytes(), true),
        (&format!("releases/{RELEASE_FILE}"), &release, false),
    ])
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v:#}"))
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect()
}

/// Both findings, with their suggestions, among `lines`.
fn assert_both(lines: &[String]) {
    assert!(
        lines.iter().any(|l| l.contains("`greting`")
            && l.contains("job `web`")
            && l.contains("did you mean `greeting`?")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("no job `wrker`")
            && l.contains("spec-demo-release 1.0")
            && l.contains("did you mean `worker`?")),
        "{lines:#?}"
    );
    assert_eq!(lines.len(), 2, "only the two findings: {lines:#?}");
}

#[tokio::test]
async fn a_misspelt_property_and_a_missing_job_are_warned_at_import_review_and_pre_deploy() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;

    // Imported (Ops Manager would import it), the warnings in the answer and the list.
    let r = api.upload("spec-demo.pivotal", spec_pivotal()).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.body["outcome"], "imported");
    assert_both(&texts(&r.body["product"]["job_spec_warnings"]));
    let list = api
        .ok(Method::GET, "/api/v0/available_products", None)
        .await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == SPEC_TILE)
        .expect("listed");
    assert_both(&texts(&listed["job_spec_warnings"]));
    let bundled = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["bundled"] == true)
        .expect("a bundled tile");
    assert_eq!(bundled["job_spec_warnings"], json!([]), "{bundled:#}");

    // Staged but not placed: nothing renders, so nothing is checked yet. (The answer is kept
    // until the data generation moves: placing the product below must be seen.)
    let guid = api.stage(SPEC_TILE, "1.0.0").await;
    let unplaced = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{guid}/pre_deploy_check"),
            None,
        )
        .await;
    assert_eq!(
        unplaced["pre_deploy_check"]["job_spec_warnings"],
        json!([]),
        "{unplaced:#}"
    );

    // Placed: the rendered manifest is checked.
    api.set_networks_and_azs(
        &guid,
        json!({
            "network": {"name": "infra"},
            "singleton_availability_zone": {"name": "az1"},
            "other_availability_zones": [{"name": "az1"}],
        }),
    )
    .await
    .expect(200);
    let check = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{guid}/pre_deploy_check"),
            None,
        )
        .await;
    let findings = &check["pre_deploy_check"]["job_spec_warnings"];
    let messages: Vec<String> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}: {}", f["at"], f["message"].as_str().unwrap()))
        .collect();
    assert_both(&messages);
    let undeclared = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "undeclared_property")
        .expect("the misspelt property");
    assert_eq!(undeclared["at"], "instance_groups[web].jobs[web]");
    assert_eq!(undeclared["property"], "greting");
    assert_eq!(undeclared["suggestion"], "greeting");
    let missing = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "missing_job")
        .expect("the missing job");
    assert_eq!(missing["job"], "wrker");
    assert_eq!(missing["suggestion"], "worker");
    assert_eq!(
        check["pre_deploy_check"]["complete"], true,
        "warnings never block: {check:#}"
    );

    // Review Pending Changes, rendered on the server.
    let html = api.page("/review").await;
    let section = html
        .split("review-job-spec-warnings")
        .nth(1)
        .expect("Review shows the job-spec warnings");
    for needle in [
        "greting",
        "did you mean `greeting`?",
        "no job `wrker`",
        "did you mean `worker`?",
        &format!("/products/{guid}/settings"),
    ] {
        let escaped = needle.replace('`', "&#x60;");
        assert!(
            section.contains(needle) || section.contains(&escaped),
            "Review lacks {needle:?}"
        );
    }
}

#[tokio::test]
async fn apply_changes_logs_the_findings_at_the_products_step() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let r = api.upload("spec-demo.pivotal", spec_pivotal()).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let guid = api.stage(SPEC_TILE, "1.0.0").await;
    api.set_networks_and_azs(
        &guid,
        json!({
            "network": {"name": "infra"},
            "singleton_availability_zone": {"name": "az1"},
            "other_availability_zones": [{"name": "az1"}],
        }),
    )
    .await
    .expect(200);
    let ended = api
        .apply_to_end(json!({"deploy_products": [guid.clone()]}))
        .await;
    let log = &ended.log;
    let step = "[spec-demo 1.0.0]";
    let property = format!(
        "{step} Warning: job spec: instance_groups[web].jobs[web]: property `greting` is not \
         declared by job `web` of release spec-demo-release 1.0 (BOSH ignores it); did you mean \
         `greeting`?\n"
    );
    let job = format!(
        "{step} Warning: job spec: instance_groups[web].jobs[wrker]: release spec-demo-release \
         1.0 has no job `wrker`; did you mean `worker`?\n"
    );
    for line in [&property, &job] {
        assert_eq!(
            log.matches(line.as_str()).count(),
            1,
            "{line:?} once in:\n{log}"
        );
    }
    // At the product's step: after its manifest is rendered, before anything reaches the
    // Director for it.
    let rendering = log
        .find(&format!("{step} Rendering the manifest"))
        .expect("the product's step");
    let warned = log.find(property.as_str()).unwrap();
    assert!(rendering < warned, "{log}");
    for later in ["Uploading release", "Deploying to the Director"] {
        if let Some(at) = log.find(&format!("{step} {later}")) {
            assert!(warned < at, "{log}");
        }
    }
}

#[tokio::test]
async fn the_configured_pks_tile_passes_the_check() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let guid = stage_configured_pks(&api).await;
    let check = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{guid}/pre_deploy_check"),
            None,
        )
        .await;
    assert_eq!(
        check["pre_deploy_check"]["job_spec_warnings"],
        json!([]),
        "{check:#}"
    );
    let html = api.page("/review").await;
    assert!(html.contains("Review"), "the page rendered");
    assert!(!html.contains("review-job-spec-warnings"));
}
