//! VM extensions through the real server, with om's requests replayed as its sources send them
//! (pivotal-cf/om `api/vm_extensions_service.go`: `{"name", "cloud_properties"}`;
//! `commands/configure_director.go`'s `vmextensions-configuration`: list, PUT each, DELETE the
//! leftovers; `configure-product`'s resource config with `additional_vm_extensions`): every
//! endpoint and its errors, the job reference checked against the known names, the extension
//! rendered into the staged manifest and the cloud config, shown by Review as a Director change,
//! deployed by Apply Changes to the embedded Director, and refused deletion while used.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use support::pks::*;
use support::*;

const LIST: &str = "/api/v0/staged/vm_extensions";

/// om's `api.VMExtensionResponse` / `api.VMExtension`.
#[derive(Debug, Deserialize)]
struct VmExtensionResponse {
    vm_extensions: Vec<VmExtension>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct VmExtension {
    name: String,
    cloud_properties: Map<String, Value>,
}

async fn om_list(api: &Api<'_>) -> Vec<VmExtension> {
    let r = api.get(LIST).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    serde_json::from_value::<VmExtensionResponse>(r.body)
        .unwrap()
        .vm_extensions
}

/// om's `CreateStagedVMExtension`: `PUT /api/v0/staged/vm_extensions/<name>` with the name and
/// the cloud properties; om wants a 200.
async fn om_create(api: &Api<'_>, name: &str, cloud_properties: Value) {
    let r = api
        .put(
            &format!("{LIST}/{name}"),
            json!({"name": name, "cloud_properties": cloud_properties}),
        )
        .await;
    assert_eq!(r.status, 200, "{name}: {:#}", r.body);
}

/// `om configure-director` with `vmextensions-configuration`: GET the list, PUT every wanted
/// extension, DELETE the ones no longer wanted (each must answer 200).
async fn om_configure_vm_extensions(api: &Api<'_>, wanted: &[(&str, Value)]) {
    let current = om_list(api).await;
    for (name, props) in wanted {
        om_create(api, name, props.clone()).await;
    }
    for leftover in current
        .iter()
        .filter(|c| !wanted.iter().any(|(n, _)| *n == c.name))
    {
        // om's DeleteVMExtension: no body.
        let r = api
            .send(
                Method::DELETE,
                &format!("{LIST}/{}", leftover.name),
                None,
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
    }
}

fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn om_requests_and_their_errors() {
    let server = TestServer::start();
    let api = Api::login(&server).await;

    assert!(om_list(&api).await.is_empty());
    om_configure_vm_extensions(
        &api,
        &[
            ("public_ip", json!({"associate_public_ip_address": true})),
            ("lb", json!({"elbs": ["pks-api"]})),
        ],
    )
    .await;
    let list = om_list(&api).await;
    assert_eq!(
        list.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["public_ip", "lb"]
    );
    assert_eq!(
        list[0].cloud_properties["associate_public_ip_address"],
        true
    );
    let one = api.get(&format!("{LIST}/lb")).await;
    assert_eq!(one.status, 200);
    assert_eq!(
        one.body["vm_extension"],
        json!({"name": "lb", "cloud_properties": {"elbs": ["pks-api"]}})
    );

    // A second configure-director run: lb changed, public_ip left out (deleted).
    om_configure_vm_extensions(&api, &[("lb", json!({"elbs": ["pks-api-2"]}))]).await;
    let list = om_list(&api).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].cloud_properties["elbs"], json!(["pks-api-2"]));
    // The same PUT again is fine (om re-applies its whole file).
    om_create(&api, "lb", json!({"elbs": ["pks-api-2"]})).await;

    // om create-vm-extension without cloud properties sends `null`: an extension without any.
    let r = api
        .put(
            &format!("{LIST}/bare"),
            json!({"name": "bare", "cloud_properties": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(
        api.get(&format!("{LIST}/bare")).await.body["vm_extension"]["cloud_properties"],
        json!({})
    );

    // Unknown names: 404 for GET and DELETE.
    for method in [Method::GET, Method::DELETE] {
        let r = api
            .send(method.clone(), &format!("{LIST}/nope"), None, None)
            .await;
        assert_eq!(r.status, 404, "{method}: {:#}", r.body);
    }
    // Bad bodies: 422 naming the field; nothing stored.
    for (path_name, body, field) in [
        (
            "lb",
            json!({"name": "other", "cloud_properties": {}}),
            "name",
        ),
        (
            "lb",
            json!({"name": "lb", "cloud_properties": "x"}),
            "cloud_properties",
        ),
        (
            "lb",
            json!({"name": "lb", "cloud_properties": [1]}),
            "cloud_properties",
        ),
        ("bad%20name", json!({"cloud_properties": {}}), "name"),
        ("lb", json!([]), "base"),
    ] {
        let r = api.put(&format!("{LIST}/{path_name}"), body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {:#}", r.body);
        assert_eq!(error_fields(&r.body), [field], "{body}: {:#}", r.body);
    }
    assert_eq!(om_list(&api).await.len(), 2);
    // Not JSON at all: refused before the handler.
    let r = reqwest::Client::new()
        .put(server.at(&format!("{LIST}/lb")))
        .bearer_auth(&api.token)
        .header("content-type", "text/plain")
        .body("lb")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}

#[tokio::test]
async fn extensions_reach_the_manifest_the_cloud_config_and_the_director() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let guid = stage_configured_pks(&api).await;
    om_configure_vm_extensions(
        &api,
        &[("public_ip", json!({"associate_public_ip_address": true}))],
    )
    .await;

    // om configure-product's resource-config: GET, shallow merge, PUT the whole object.
    let job = "pivotal-container-service";
    let path = api.resource_config_path(&guid, job).await;
    let mut rc = api.ok(Method::GET, &path, None).await;
    assert_eq!(rc["additional_vm_extensions"], json!([]));
    rc["additional_vm_extensions"] = json!(["public_ip", "nope"]);
    let r = api.put(&path, rc.clone()).await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    let field = format!("resource-config.{job}.additional_vm_extensions");
    assert_eq!(error_fields(&r.body), vec![field.clone()], "{:#}", r.body);
    assert!(r.body["errors"][&field][0]
        .as_str()
        .unwrap()
        .contains("'nope'"));
    rc["additional_vm_extensions"] = json!("public_ip");
    assert_eq!(api.put(&path, rc.clone()).await.status, 422);
    rc["additional_vm_extensions"] = json!(["public_ip"]);
    let r = api.put(&path, rc.clone()).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(
        api.ok(Method::GET, &path, None).await["additional_vm_extensions"],
        json!(["public_ip"])
    );

    // Rendered: the instance group names it, the cloud config defines it.
    let manifest = api.staged_manifest(&guid).await;
    let group = manifest["manifest"]["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == job)
        .unwrap_or_else(|| panic!("{manifest:#}"));
    assert_eq!(group["vm_extensions"], json!(["public_ip"]), "{group:#}");
    let cloud = api
        .ok(Method::GET, "/api/v0/staged/cloud_config", None)
        .await;
    assert_eq!(
        cloud["cloud_config"]["vm_extensions"],
        json!([{"name": "public_ip", "cloud_properties": {"associate_public_ip_address": true}}]),
        "{cloud:#}"
    );
    // Review: the Director's cloud config diff carries it.
    let dd = api.ok(Method::GET, "/api/v0/director/diff", None).await;
    assert!(
        dd["cloud_config"]["diff"]
            .as_str()
            .unwrap()
            .contains("public_ip"),
        "{dd:#}"
    );

    // Used by a job: it cannot be deleted.
    let r = api.delete(&format!("{LIST}/public_ip")).await;
    assert_eq!(r.status, 409, "{:#}", r.body);
    assert!(r.body.to_string().contains(job), "{:#}", r.body);

    // Apply Changes deploys both to the Director.
    apply_succeeds(&api, json!({"deploy_products": "all"})).await;
    let deployed = api.deployed_manifest(&guid).await;
    let group = deployed["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == job)
        .unwrap();
    assert_eq!(group["vm_extensions"], json!(["public_ip"]));
    let director = support::director::Director::of(&api).await;
    let (status, configs) = director
        .send(Method::GET, "/configs?type=cloud&latest=true", None)
        .await;
    assert_eq!(status, 200, "{configs:#}");
    let content = configs
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["content"].as_str().unwrap_or_default().to_owned())
        .collect::<String>();
    let cloud = tiles::yaml::load(&content).unwrap_or_else(|e| panic!("{e}: {content}"));
    assert_eq!(cloud["vm_extensions"][0]["name"], "public_ip", "{content}");
    assert_eq!(
        cloud["vm_extensions"][0]["cloud_properties"]["associate_public_ip_address"],
        true
    );
    let (status, shown) = director
        .send(Method::GET, &format!("/deployments/{guid}"), None)
        .await;
    assert_eq!(status, 200, "{shown:#}");
    assert!(
        shown["manifest"].as_str().unwrap().contains("public_ip"),
        "{shown:#}"
    );
    let dd = api.ok(Method::GET, "/api/v0/director/diff", None).await;
    assert_eq!(dd["cloud_config"]["status"], "same", "{dd:#}");

    // Taken off the job, it can be deleted; the deletion is a pending Director change.
    rc["additional_vm_extensions"] = json!([]);
    assert_eq!(api.put(&path, rc).await.status, 200);
    let r = api.delete(&format!("{LIST}/public_ip")).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let dd = api.ok(Method::GET, "/api/v0/director/diff", None).await;
    assert_eq!(dd["cloud_config"]["status"], "different", "{dd:#}");
}
