//! The credentials of deployed products (`GET /api/v0/deployed/products/:guid/credentials[/:ref]`,
//! `…/variables`, `GET /api/v0/deployed/director/credentials[/:name]`) and the Credentials tab,
//! against the real binary with its embedded Director: PKS deployed through Apply Changes, its
//! credentials as deployed (a staged change shows only once applied), the Director's variables
//! by name, the roles that may not see values, the 404s, and a tab whose HTML never holds a
//! value.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::director::Director;
use support::pks::*;
use support::*;

const VSPHERE_CREDS: &str = ".properties.cloud_provider.vsphere.vcenter_master_creds";
const PKS_TLS: &str = ".pivotal-container-service.pks_tls";

/// A GET with a bearer token: status and JSON body.
async fn get_as(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(server.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The Credentials tab's HTML as the holder of `token` gets it.
async fn tab_html(server: &TestServer, token: &str, guid: &str) -> String {
    let r = reqwest::Client::new()
        .get(server.at(&format!("/products/{guid}/credentials")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// Every string inside a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

/// The deployed value of `reference` (as the admin sees it).
async fn credential(api: &Api<'_>, guid: &str, reference: &str) -> Value {
    let r = api
        .get(&format!(
            "/api/v0/deployed/products/{guid}/credentials/{reference}"
        ))
        .await;
    assert_eq!(r.status, 200, "{reference}: {:#}", r.body);
    r.body["credential"].clone()
}

#[tokio::test]
async fn deployed_credentials_by_reference_with_roles_404s_and_a_tab_without_values() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let staged = api
        .ok(
            Method::POST,
            "/api/v0/staged/products",
            Some(json!({"name": PKS, "product_version": "latest"})),
        )
        .await;
    let guid = staged["guid"].as_str().unwrap().to_owned();
    // Its own certificate: the test checks the deployed key is this one.
    let (cert, key) = test_cert();
    om_configure_product(
        &api,
        &tiles::yaml::load(&pks_config_yaml(&cert, &key)).unwrap(),
    )
    .await;

    // Nothing deployed yet: 404s (om's configure-director reads the Director's as "not
    // deployed"), and the tab says so.
    for path in [
        format!("/api/v0/deployed/products/{guid}/credentials"),
        format!("/api/v0/deployed/products/{guid}/credentials/{PKS_TLS}"),
        format!("/api/v0/deployed/products/{guid}/variables"),
        "/api/v0/deployed/director/credentials".to_owned(),
        "/api/v0/deployed/director/credentials/director_client_credentials".to_owned(),
        "/api/v0/deployed/products/nothing-0123456789abcdef0123/credentials".to_owned(),
    ] {
        let r = api.get(&path).await;
        assert_eq!(r.status, 404, "{path}: {:#}", r.body);
    }
    let html = tab_html(&server, &api.token, &guid).await;
    assert!(html.contains("Not deployed yet"), "{html}");
    assert!(!html.contains("pks-vcenter-Secret-1"));
    // The Director tile's tab too; its settings are the Director page, which links to it.
    let bosh_guid = api.guid_of("p-bosh").await;
    let html = tab_html(&server, &api.token, &bosh_guid).await;
    assert!(html.contains("Not deployed yet"), "{html}");
    assert!(html.contains(r#"href="/director""#), "{html}");
    let r = reqwest::Client::new()
        .get(server.at("/director"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("/products/{bosh_guid}/credentials")),
        "{html}"
    );

    apply_succeeds(&api, json!({"deploy_products": "all"})).await;

    // The list: om's credential-references shape, the tile's credential properties.
    let list = api
        .ok(
            Method::GET,
            &format!("/api/v0/deployed/products/{guid}/credentials"),
            None,
        )
        .await;
    let references: Vec<String> = list["credentials"]
        .as_array()
        .unwrap_or_else(|| panic!("{list:#}"))
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    assert!(references.contains(&PKS_TLS.to_owned()), "{list:#}");
    assert!(references.contains(&VSPHERE_CREDS.to_owned()), "{list:#}");
    assert!(
        !references.contains(&".properties.pks_api_hostname".to_owned()),
        "plain properties are not credentials: {list:#}"
    );

    // Every value is what properties?redact=false shows (nothing is staged beyond the deploy),
    // in om's credentials shape.
    let properties = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{guid}/properties?redact=false"),
            None,
        )
        .await;
    let mut secrets = Vec::new();
    for reference in &references {
        let c = credential(&api, &guid, reference).await;
        let p = &properties["properties"][reference];
        assert_eq!(p["credential"], true, "{reference}");
        assert_eq!(c["type"], p["type"], "{reference}");
        assert_eq!(c["value"], p["value"], "{reference}");
        assert!(c["value"].is_object(), "om reads fields: {c:#}");
        strings(&c["value"], &mut secrets);
    }
    let vsphere = credential(&api, &guid, VSPHERE_CREDS).await;
    assert_eq!(
        vsphere,
        json!({"type": "simple_credentials", "value": {"identity": "administrator@vsphere.local", "password": "pks-vcenter-Secret-1"}})
    );
    assert_eq!(
        credential(&api, &guid, PKS_TLS).await["value"]["private_key_pem"]
            .as_str()
            .map(str::trim),
        Some(key.trim())
    );

    // A staged change does not show until it is applied.
    api.ok(
        Method::PUT,
        &format!("/api/v0/staged/products/{guid}/properties"),
        Some(json!({"properties": {VSPHERE_CREDS: {"value": {"identity": "administrator@vsphere.local", "password": "rotated-Secret-2"}}}})),
    )
    .await;
    let staged_now = api
        .ok(
            Method::GET,
            &format!("/api/v0/staged/products/{guid}/properties?redact=false"),
            None,
        )
        .await;
    assert_eq!(
        staged_now["properties"][VSPHERE_CREDS]["value"]["password"],
        "rotated-Secret-2"
    );
    assert_eq!(
        credential(&api, &guid, VSPHERE_CREDS).await["value"]["password"],
        "pks-vcenter-Secret-1",
        "the deployed value until Apply Changes"
    );
    apply_succeeds(&api, json!({"deploy_products": "all"})).await;
    assert_eq!(
        credential(&api, &guid, VSPHERE_CREDS).await["value"]["password"],
        "rotated-Secret-2"
    );
    secrets.push("rotated-Secret-2".into());

    // Unknown references are 404s naming them; a credential with the wrong product too.
    let r = api
        .get(&format!(
            "/api/v0/deployed/products/{guid}/credentials/.properties.no_such_thing"
        ))
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);
    assert!(
        r.body.to_string().contains(".properties.no_such_thing"),
        "{:#}",
        r.body
    );
    let r = api
        .get(&format!(
            "/api/v0/deployed/products/{guid}/credentials/.properties.pks_api_hostname"
        ))
        .await;
    assert_eq!(r.status, 404, "not a credential: {:#}", r.body);

    // The BOSH variables, by name, as the Director lists them for the deployment.
    let director = Director::of(&api).await;
    let manifest = api
        .ok(
            Method::GET,
            &format!("/api/v0/deployed/products/{guid}/manifest"),
            None,
        )
        .await;
    let deployment = manifest["name"].as_str().unwrap();
    let (status, listed) = director
        .send(
            Method::GET,
            &format!("/deployments/{deployment}/variables"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{listed:#}");
    let mut expected: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let full = v["name"].as_str().unwrap();
            full.rsplit('/').next().unwrap().to_owned()
        })
        .collect();
    expected.sort();
    expected.dedup();
    assert!(!expected.is_empty(), "PKS declares variables: {listed:#}");
    let vars = api
        .ok(
            Method::GET,
            &format!("/api/v0/deployed/products/{guid}/variables"),
            None,
        )
        .await;
    let names: Vec<String> = vars["variables"]
        .as_array()
        .unwrap_or_else(|| panic!("{vars:#}"))
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, expected);
    // A value is not readable through the Director API: 422 saying so; unknown names 404.
    let r = api
        .get(&format!(
            "/api/v0/deployed/products/{guid}/variables?name={}",
            names[0]
        ))
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(r.body.to_string().contains("names only"), "{:#}", r.body);
    let r = api
        .get(&format!(
            "/api/v0/deployed/products/{guid}/variables?name=no-such-variable"
        ))
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);

    // The Director tile: what Tileworks holds for the Director.
    let list = api
        .ok(Method::GET, "/api/v0/deployed/director/credentials", None)
        .await;
    assert_eq!(
        list,
        json!({"credentials": ["bosh_commandline_credentials", "director_client_credentials"]})
    );
    let client = api
        .ok(
            Method::GET,
            "/api/v0/deployed/director/credentials/director_client_credentials",
            None,
        )
        .await;
    assert_eq!(client["credential"]["type"], "simple_credentials");
    assert_eq!(client["credential"]["value"]["identity"], director.client);
    assert_eq!(client["credential"]["value"]["password"], director.secret);
    let r = api
        .get("/api/v0/deployed/director/credentials/no_such_credentials")
        .await;
    assert_eq!(r.status, 404, "{:#}", r.body);
    assert!(r.body.to_string().contains("no_such_credentials"));
    // …and as a deployed product (`om credentials -p p-bosh -c .director.…`).
    let deployed = api.ok(Method::GET, "/api/v0/deployed/products", None).await;
    let bosh = deployed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "p-bosh")
        .unwrap()["guid"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = api
        .ok(
            Method::GET,
            &format!("/api/v0/deployed/products/{bosh}/credentials"),
            None,
        )
        .await;
    assert!(
        list["credentials"]
            .as_array()
            .unwrap()
            .contains(&json!(".director.director_client_credentials")),
        "{list:#}"
    );
    assert_eq!(
        credential(&api, &bosh, ".director.director_client_credentials").await,
        client["credential"]
    );
    secrets.push(director.secret.clone());

    // Roles that may not see credentials: the references, never a value (403 naming the role).
    for role in ["restricted_control", "read_only", "restricted_view"] {
        let token = client_token(&server, &format!("creds-{role}"), role).await;
        let (status, body) = get_as(
            &server,
            &token,
            &format!("/api/v0/deployed/products/{guid}/credentials"),
        )
        .await;
        assert_eq!(status, 200, "{role}: {body:#}");
        assert_eq!(body["credentials"], list_of(&references), "{role}");
        for path in [
            format!("/api/v0/deployed/products/{guid}/credentials/{VSPHERE_CREDS}"),
            format!("/api/v0/deployed/products/{guid}/credentials/.properties.no_such_thing"),
            format!("/api/v0/deployed/products/{bosh}/credentials/.director.director_client_credentials"),
            "/api/v0/deployed/director/credentials/director_client_credentials".to_owned(),
            "/api/v0/deployed/director/credentials/bosh_commandline_credentials".to_owned(),
            format!("/api/v0/deployed/products/{guid}/variables?name={}", names[0]),
        ] {
            let (status, body) = get_as(&server, &token, &path).await;
            assert_eq!(status, 403, "{role} {path}: {body:#}");
            assert!(
                body.to_string().contains(&format!("'{role}' may not see credentials")),
                "{role} {path}: {body:#}"
            );
        }
        // The tab lists the references without the action, and no value.
        let html = tab_html(&server, &token, &guid).await;
        assert!(html.contains(VSPHERE_CREDS), "{role}: {html}");
        assert!(!html.contains("Link to Credential"), "{role}: {html}");
        assert!(html.contains("may not see credential values"), "{role}");
        for secret in &secrets {
            assert!(
                !html.contains(secret.as_str()),
                "{role}: a value in the HTML"
            );
        }
        // The page's server function refuses too.
        let r = reqwest::Client::new()
            .post(server.at("/_app/reveal_credential"))
            .bearer_auth(&token)
            .form(&[("guid", guid.as_str()), ("reference", VSPHERE_CREDS)])
            .send()
            .await
            .unwrap();
        // A refusal, answered as one (never as a server failure).
        assert_eq!(r.status(), 403, "{role}");
        let text = r.text().await.unwrap();
        assert!(text.contains("may not see credentials"), "{role}: {text}");
        assert!(!text.contains("rotated-Secret-2"), "{role}: {text}");
    }
    let full = client_token(&server, "creds-full-control", "full_control").await;
    let (status, body) = get_as(
        &server,
        &full,
        &format!("/api/v0/deployed/products/{guid}/credentials/{VSPHERE_CREDS}"),
    )
    .await;
    assert_eq!(status, 200, "{body:#}");

    // The tab of an administrator: every reference with its type and the action, the
    // variables' names, and still no value in the HTML (values come only on a click).
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let html = browser
        .get(server.at(&format!("/products/{guid}/credentials")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for reference in &references {
        assert!(
            html.contains(&format!("data-reference=\"{reference}\"")),
            "{reference}: {html}"
        );
    }
    assert!(html.contains("rsa_cert_credentials"), "{html}");
    assert!(html.contains("Link to Credential"), "{html}");
    assert!(html.contains(&names[0]), "the variables: {html}");
    for secret in &secrets {
        assert!(
            !html.contains(secret.as_str()),
            "a value in the SSR HTML: {secret}"
        );
    }
    // The settings and Status pages link to the tab.
    for page in ["settings", "status"] {
        let html = browser
            .get(server.at(&format!("/products/{guid}/{page}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!("/products/{guid}/credentials")),
            "{page}: {html}"
        );
    }
    // Link to Credential's server function answers with the deployed value.
    let r = browser
        .post(server.at("/_app/reveal_credential"))
        // As the page's own request: a browser names its origin on every POST.
        .header("origin", server.at("").trim_end_matches('/'))
        .header("accept", "application/json")
        .form(&[("guid", guid.as_str()), ("reference", VSPHERE_CREDS)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let revealed: Value = r.json().await.unwrap();
    assert_eq!(revealed["reference"], VSPHERE_CREDS, "{revealed:#}");
    assert_eq!(
        revealed["fields"],
        json!([{"name": "identity", "value": "administrator@vsphere.local"}, {"name": "password", "value": "rotated-Secret-2"}])
    );
    // The Director tile's tab.
    let html = browser
        .get(server.at(&format!("/products/{bosh}/credentials")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(".director.director_client_credentials"),
        "{html}"
    );
    assert!(!html.contains(director.secret.as_str()));
    // An unknown product's tab says it is not available.
    let html = browser
        .get(server.at("/products/nothing-0123456789abcdef0123/credentials"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Credentials not available"), "{html}");
}

fn list_of(references: &[String]) -> Value {
    Value::Array(references.iter().map(|r| json!(r)).collect())
}
