//! The Clusters page and the cluster page against the real binary and its embedded Director,
//! with PKS deployed through Apply Changes on three AZs: a cluster of a three-AZ plan has its
//! masters in three AZs (on the Director and on the page); the pages are rendered with their
//! data; bad create input is a `422` naming the field; the manifest shows placeholders and no
//! secret; the kubeconfig download is refused to the view roles (and its link not offered);
//! resize, upgrade and delete go through the broker; a cluster VM killed through the
//! stand-in's fault injection is recreated by the resurrector and the cluster page says so.

mod common;
mod support;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::director::Director;
use support::osb::{deploy_pks_for_broker, Quotas};
use support::pks::{om_configure_product, pks_config_yaml, settled_cluster, test_cert, PKS};
use support::*;

const VM_CREATE_NOW: [&str; 2] = ["--director-vm-create-ms", "0"];

/// What the PKS tile's configuration holds that must never reach a page.
const VCENTER_SECRET: &str = "pks-vcenter-Secret-1";

/// The Director with a third AZ (on both networks), and PKS deployed with the plan "medium"
/// placing 3 masters over az1–az3 (at most 4 workers); "small" has 1 master in az1.
async fn deploy_pks_on_three_azs(api: &Api<'_>) -> String {
    configure_director(api).await;
    api.ok(
        Method::POST,
        "/api/v0/staged/director/availability_zones",
        Some(json!({"availability_zone": {"name": "az3",
            "clusters": [{"cluster": "c-az3", "resource_pool": "rp"}]}})),
    )
    .await;
    let azs = json!(["az1", "az2", "az3"]);
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/networks",
        Some(json!({
            "icmp_checks_enabled": false,
            "networks": [
                {"name": "infra", "subnets": [{
                    "iaas_identifier": "VM Network", "cidr": "10.0.0.0/24", "dns": "8.8.8.8",
                    "gateway": "10.0.0.1", "reserved_ip_ranges": "10.0.0.1-10.0.0.10",
                    "availability_zone_names": azs}]},
                {"name": "services", "subnets": [{
                    "iaas_identifier": "Services", "cidr": "10.0.4.0/24", "dns": "8.8.8.8",
                    "gateway": "10.0.4.1", "reserved_ip_ranges": "10.0.4.1-10.0.4.10",
                    "availability_zone_names": azs}]},
            ],
        })),
    )
    .await;
    let guid = api.stage(PKS, "latest").await;
    let (cert, key) = test_cert();
    let mut config = tiles::yaml::load(&pks_config_yaml(&cert, &key)).unwrap();
    let props = config["product-properties"].as_object_mut().unwrap();
    for (name, value) in [
        (".properties.plan2_selector", json!("Plan Active")),
        (
            ".properties.plan2_selector.active.master_az_placement",
            json!(["az1", "az2", "az3"]),
        ),
        (
            ".properties.plan2_selector.active.worker_az_placement",
            json!(["az1", "az2"]),
        ),
        (
            ".properties.plan2_selector.active.master_instances",
            json!(3),
        ),
        (
            ".properties.plan2_selector.active.worker_instances",
            json!(2),
        ),
        (
            ".properties.plan2_selector.active.max_worker_instances",
            json!(4),
        ),
    ] {
        props.insert(name.into(), json!({ "value": value }));
    }
    om_configure_product(api, &config).await;
    apply_succeeds(api, json!({"deploy_products": "all"})).await;
    guid
}

/// A page as `token`'s holder gets it: status and HTML.
async fn page(server: &TestServer, token: &str, path: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(server.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A server function called as the page calls it: status and body.
async fn call(
    server: &TestServer,
    token: &str,
    function: &str,
    args: &[(&str, &str)],
) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(server.at(&format!("/_app/{function}")))
        .bearer_auth(token)
        .form(args)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The cluster's row in the Clusters page's HTML (from its `<tr` to its `</tr>`).
fn row<'h>(html: &'h str, name: &str) -> &'h str {
    let start = html
        .find(&format!(r#"data-cluster="{name}""#))
        .unwrap_or_else(|| panic!("no row for {name}: {html}"));
    let end = html[start..]
        .find("</tr>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

/// The Director's instances of a cluster (`group`, `az`, `id`).
async fn director_instances(director: &Director, uuid: &str) -> Vec<(String, String, String)> {
    let (status, list) = director
        .send(
            Method::GET,
            &format!("/deployments/service-instance_{uuid}/instances"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["job"].as_str().unwrap_or_default().to_owned(),
                i["az"].as_str().unwrap_or_default().to_owned(),
                i["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn create_args<'a>(
    name: &'a str,
    plan: &'a str,
    workers: &'a str,
    host: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("name", name),
        ("plan_name", plan),
        ("worker_instances", workers),
        ("external_hostname", host),
    ]
}

#[tokio::test]
async fn clusters_pages_end_to_end() {
    let server = TestServer::start_with(&VM_CREATE_NOW, Some(ADMIN_PASSWORD));
    let admin = Api::login(&server).await;

    // Before PKS is deployed the page says so (a page, not an error).
    let (status, html) = page(&server, &admin.token, "/clusters").await;
    assert_eq!(status, 200);
    assert!(html.contains("The PKS tile is not deployed"), "{html}");

    deploy_pks_on_three_azs(&admin).await;
    let director = Director::of(&admin).await;
    let full_view = Api::client(&server, "full-viewer", "full_view").await;
    let restricted_view = Api::client(&server, "viewer", "restricted_view").await;

    // The page lists the plans to create with, rendered on the server.
    let (_, html) = page(&server, &admin.token, "/clusters").await;
    assert!(html.contains("Create a cluster"), "{html}");
    assert!(html.contains("medium"), "{html}");
    assert!(html.contains("No clusters yet."), "{html}");
    let (_, html) = page(&server, &full_view.token, "/clusters").await;
    assert!(
        !html.contains("Create a cluster"),
        "the view roles are offered no form"
    );

    // Bad input: 422 naming the field; nothing is created.
    for (args, field) in [
        (
            create_args("bad name", "medium", "2", "k8s.example.com"),
            "name",
        ),
        (
            create_args("k8s-x", "huge", "2", "k8s.example.com"),
            "plan_name",
        ),
        (
            create_args("k8s-x", "medium", "5", "k8s.example.com"),
            "worker_instances",
        ),
        (
            create_args("k8s-x", "medium", "0", "k8s.example.com"),
            "worker_instances",
        ),
        (
            create_args("k8s-x", "medium", "two", "k8s.example.com"),
            "worker_instances",
        ),
        (
            create_args("k8s-x", "medium", "2", "not a host"),
            "external_hostname",
        ),
    ] {
        let (status, body) = call(&server, &admin.token, "create_cluster", &args).await;
        assert_eq!(status, 422, "{args:?}: {body}");
        assert!(
            body.contains(&format!("{field}:")),
            "{field} named in {body}"
        );
    }
    assert_eq!(
        admin.get("/pks/v1/clusters").await.expect(200),
        json!([]),
        "nothing was created"
    );
    // The view roles create nothing.
    for viewer in [&full_view, &restricted_view] {
        let args = create_args("k8s-v", "small", "1", "v.example.com");
        let (status, _) = call(&server, &viewer.token, "create_cluster", &args).await;
        assert_eq!(status, 403);
    }

    // Create a cluster of the three-AZ plan; the page shows it while it is provisioned.
    let args = create_args("three-az", "medium", "2", "k8s.example.com");
    let (status, body) = call(&server, &admin.token, "create_cluster", &args).await;
    assert_eq!(status, 200, "{body}");
    let (_, html) = page(&server, &admin.token, "/clusters").await;
    assert!(html.contains(r#"data-cluster="three-az""#), "{html}");
    let cluster = settled_cluster(&admin, "three-az").await;
    assert_eq!(cluster["last_action_state"], "succeeded", "{cluster:#}");
    let uuid = cluster["uuid"].as_str().unwrap().to_owned();

    // Its masters are in three AZs, on the Director and on the page.
    let instances = director_instances(&director, &uuid).await;
    let mut master_azs: Vec<&str> = instances
        .iter()
        .filter(|(g, _, _)| g == "master")
        .map(|(_, az, _)| az.as_str())
        .collect();
    master_azs.sort();
    assert_eq!(master_azs, ["az1", "az2", "az3"], "{instances:?}");
    let (status, html) = page(&server, &admin.token, "/clusters/three-az").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("az1, az2, az3"),
        "master AZs on the page: {html}"
    );
    for az in ["az1", "az2", "az3"] {
        assert!(html.contains(&format!(r#"data-az="{az}""#)), "{az}: {html}");
    }
    assert!(html.contains("Instance provisioning completed"), "{html}");
    // The list shows what `pks clusters` shows: plan, workers, host, state, description.
    let (_, list) = page(&server, &admin.token, "/clusters").await;
    for text in [
        "medium",
        "k8s.example.com",
        "succeeded",
        "Instance provisioning completed",
    ] {
        assert!(list.contains(text), "{text}: {list}");
    }

    // The manifest: credentials as placeholders, no secret (the vCenter password the plan
    // carries into the cloud provider is the tile's placeholder).
    assert!(html.contains("((kubo-admin-password))"), "{html}");
    assert!(
        !html.contains(VCENTER_SECRET),
        "a secret on the cluster page"
    );
    for viewer in [&full_view, &restricted_view] {
        let (status, html) = page(&server, &viewer.token, "/clusters/three-az").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("three-az"),
            "the view roles see every cluster"
        );
        assert!(!html.contains(VCENTER_SECRET));
        assert!(
            !html.contains("Download kubeconfig"),
            "no link for the view roles"
        );
    }

    // The kubeconfig: for the roles that manage clusters; the view roles are refused by the
    // server, whatever the page offers.
    assert!(html.contains("Download kubeconfig"));
    let r = reqwest::Client::new()
        .get(server.at("/clusters/three-az/kubeconfig"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("three-az-kubeconfig.yml"),
        "{disposition}"
    );
    let kubeconfig = tiles::yaml::load(&r.text().await.unwrap()).unwrap();
    assert_eq!(
        kubeconfig["clusters"][0]["name"], "three-az",
        "{kubeconfig:#}"
    );
    for viewer in [&full_view, &restricted_view] {
        let r = reqwest::Client::new()
            .get(server.at("/clusters/three-az/kubeconfig"))
            .bearer_auth(&viewer.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(!r.text().await.unwrap().contains("token"));
    }

    // Resize: beyond the plan's maximum is refused naming the field; within it, the Director's
    // worker count follows.
    let (status, body) = call(
        &server,
        &admin.token,
        "resize_cluster",
        &[("name", "three-az"), ("worker_instances", "5")],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("worker_instances:"), "{body}");
    for viewer in [&full_view, &restricted_view] {
        for (function, args) in [
            (
                "resize_cluster",
                vec![("name", "three-az"), ("worker_instances", "3")],
            ),
            ("upgrade_cluster", vec![("name", "three-az")]),
            ("delete_cluster", vec![("name", "three-az")]),
        ] {
            let (status, _) = call(&server, &viewer.token, function, &args).await;
            assert_eq!(status, 403, "{function}");
        }
    }
    let (status, body) = call(
        &server,
        &admin.token,
        "resize_cluster",
        &[("name", "three-az"), ("worker_instances", "3")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let cluster = settled_cluster(&admin, "three-az").await;
    assert_eq!(cluster["last_action"], "UPDATE");
    assert_eq!(cluster["last_action_state"], "succeeded");
    assert_eq!(cluster["parameters"]["kubernetes_worker_instances"], 3);
    let workers = director_instances(&director, &uuid)
        .await
        .into_iter()
        .filter(|(g, _, _)| g == "worker")
        .count();
    assert_eq!(workers, 3);

    // Upgrade: ODB's per-instance upgrade, with the plan as deployed now.
    let (status, body) = call(
        &server,
        &admin.token,
        "upgrade_cluster",
        &[("name", "three-az")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let cluster = settled_cluster(&admin, "three-az").await;
    assert_eq!(cluster["last_action"], "UPGRADE");
    assert_eq!(cluster["last_action_state"], "succeeded");
    assert_eq!(
        cluster["parameters"]["kubernetes_worker_instances"], 3,
        "kept"
    );

    // A worker VM killed through the stand-in's fault injection: the resurrector recreates it
    // and the cluster page shows the healing (and the Director's events).
    let (_, victim_az, victim) = director_instances(&director, &uuid)
        .await
        .into_iter()
        .find(|(g, _, _)| g == "worker")
        .unwrap();
    let kill = format!("/chaos/deployments/service-instance_{uuid}/instances/worker/{victim}/kill");
    let (status, killed) = director.send(Method::POST, &kill, None).await;
    assert_eq!(status, 200, "{killed}");
    let deadline = Instant::now() + Duration::from_secs(90);
    let html = loop {
        let (_, html) = page(&server, &admin.token, "/clusters/three-az").await;
        if html.contains("resurrected 1×") {
            break html;
        }
        assert!(Instant::now() < deadline, "not healed: {html}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(html.contains(r#"data-resurrected="true""#), "{html}");
    assert!(html.contains(&format!("worker/{victim}")), "{html}");
    assert!(
        html.contains("health_monitor"),
        "the resurrector's events: {html}"
    );
    assert!(
        html.contains(r#"data-action="kill""#),
        "the fault injection's event: {html}"
    );
    let healed = director_instances(&director, &uuid)
        .await
        .into_iter()
        .find(|(_, _, id)| *id == victim)
        .unwrap();
    assert_eq!(healed.1, victim_az, "recreated in its AZ");
    // A new VM, and the page shows the new one in the row.
    let (_, vms) = director
        .send(
            Method::GET,
            &format!("/deployments/service-instance_{uuid}/vms"),
            None,
        )
        .await;
    let new_cid = vms
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == victim.as_str())
        .and_then(|v| v["cid"].as_str())
        .unwrap()
        .to_owned();
    assert_ne!(new_cid, killed["vm_cid"].as_str().unwrap(), "a new VM");
    // The page's look at the Director is shared for a moment (one task, not one per look):
    // the new VM shows within that moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, html) = page(&server, &admin.token, "/clusters/three-az").await;
        if html.contains(&new_cid) {
            break;
        }
        assert!(Instant::now() < deadline, "the new VM on the page: {html}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // The operation history: create, resize, upgrade.
    for text in ["CREATE", "Instance update completed"] {
        assert!(html.contains(text), "{text}: {html}");
    }

    // Delete (the page asks for a confirmation; the call is the confirmed one).
    let (status, body) = call(
        &server,
        &admin.token,
        "delete_cluster",
        &[("name", "three-az")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while admin.get("/pks/v1/clusters/three-az").await.status != 404 {
        assert!(Instant::now() < deadline, "not deleted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, html) = page(&server, &admin.token, "/clusters").await;
    assert!(!html.contains(r#"data-cluster="three-az""#), "{html}");
    let (status, html) = page(&server, &admin.token, "/clusters/three-az").await;
    assert_eq!(status, 200);
    assert!(html.contains("Cluster not available"), "{html}");
    assert!(!director
        .deployment_names()
        .await
        .contains(&format!("service-instance_{uuid}")));
}

/// The PKS tile upgraded to a version whose catalog names another `maintenance_info` (applied
/// with the upgrade errand off): the cluster deployed before shows "Upgrade available" on the
/// Clusters page, server-rendered; the view roles cannot run the upgrade (403 at the gate);
/// the Upgrade button's call runs ODB's per-instance upgrade (`UPGRADE`, "Instance upgrade
/// completed") and the badge goes. "When" reads relative, the absolute time in its title.
/// Review lists the service adapter's warnings on the plan field they are about.
#[tokio::test]
async fn a_tile_upgrade_offers_the_cluster_upgrade() {
    let server = TestServer::start_with(&VM_CREATE_NOW, Some(ADMIN_PASSWORD));
    let admin = Api::login(&server).await;
    let guid = deploy_pks_for_broker(&admin, Quotas::default()).await;
    let full_view = Api::client(&server, "full-viewer", "full_view").await;

    // Review shows the service adapter's warnings on the plan fields, without blocking: plan
    // 1 lists no admission plugins, yet kubo 0.18.0 turns SecurityContextDeny on.
    let (status, html) = page(&server, &admin.token, "/review").await;
    assert_eq!(status, 200);
    let notes = html
        .split(r#"<ul class="review-adapter-warnings">"#)
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .unwrap_or_else(|| panic!("no adapter warnings on Review: {html}"));
    assert!(notes.contains("Admission Plugins"), "{notes}");
    assert!(notes.contains("SecurityContextDeny is on"), "{notes}");
    assert!(
        notes.contains(".properties.plan1_selector.active.admission_plugins"),
        "{notes}"
    );

    let (status, body) = call(
        &server,
        &admin.token,
        "create_cluster",
        &create_args("k1", "small", "1", "k1.example.com"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let cluster = settled_cluster(&admin, "k1").await;
    assert_eq!(cluster["last_action_state"], "succeeded", "{cluster:#}");
    let (_, html) = page(&server, &admin.token, "/clusters").await;
    let k1 = row(&html, "k1");
    assert!(!k1.contains("Upgrade available"), "up to date: {k1}");
    assert!(!k1.contains("data-upgrade-available"), "{k1}");
    // "When": relative text, the absolute RFC 3339 time in the title and `datetime`.
    let at = k1
        .split(r#"<time datetime=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no <time datetime>: {k1}"));
    assert!(at.starts_with("20") && at.ends_with('Z'), "{at}");
    assert!(k1.contains(&format!(r#"title="{at}""#)), "{k1}");
    assert!(
        k1.contains(">just now<") || k1.contains(" s ago<"),
        "relative time: {k1}"
    );

    // A newer PKS tile whose catalog offers another maintenance version, applied without its
    // upgrade-all errand.
    let newer = format!("{}-build.7", tiles::products::PKS_VERSION);
    let old_maintenance = "maintenance_info:\n          version: 1.1.3\n";
    let metadata = pks_metadata_version(&newer);
    assert!(
        metadata.contains(old_maintenance),
        "the bundled catalog changed"
    );
    let metadata = metadata.replacen(
        old_maintenance,
        "maintenance_info:\n          version: 1.1.4\n",
        1,
    );
    let r = admin
        .upload(
            "pks-newer.pivotal",
            pivotal(&[("metadata/pks.yml", metadata.as_bytes(), true)]),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    admin
        .ok(
            Method::PUT,
            &format!("/api/v0/staged/products/{guid}"),
            Some(json!({"to_version": newer})),
        )
        .await;
    apply_succeeds(
        &admin,
        json!({"deploy_products": "all",
               "errands": {guid.clone(): {"run_post_deploy": {"upgrade-all-service-instances": false}}}}),
    )
    .await;

    let (_, html) = page(&server, &admin.token, "/clusters").await;
    let k1 = row(&html, "k1");
    assert!(k1.contains(r#"data-upgrade-available="true""#), "{k1}");
    assert!(k1.contains("Upgrade available"), "{k1}");
    let (_, html) = page(&server, &full_view.token, "/clusters").await;
    assert!(
        row(&html, "k1").contains("Upgrade available"),
        "the view roles see it too"
    );
    let (status, _) = call(
        &server,
        &full_view.token,
        "upgrade_cluster",
        &[("name", "k1")],
    )
    .await;
    assert_eq!(status, 403, "ManageClusters only");

    let (status, body) = call(&server, &admin.token, "upgrade_cluster", &[("name", "k1")]).await;
    assert_eq!(status, 200, "{body}");
    let cluster = settled_cluster(&admin, "k1").await;
    assert_eq!(cluster["last_action"], "UPGRADE", "{cluster:#}");
    assert_eq!(cluster["last_action_state"], "succeeded", "{cluster:#}");
    assert_eq!(
        cluster["last_action_description"],
        "Instance upgrade completed"
    );
    let (_, html) = page(&server, &admin.token, "/clusters").await;
    let k1 = row(&html, "k1");
    assert!(!k1.contains("Upgrade available"), "upgraded: {k1}");
}

/// A plan value changed in the PKS tile (plan 1's worker VM type) and applied with the
/// upgrade-all errand off: the clusters of the plan show "Upgrade available" saying the plan's
/// settings changed (the catalog's maintenance version did not); "Upgrade all clusters" on the
/// Clusters page is refused to the view roles and to restricted control (it touches every
/// principal's clusters), and run by an admin it is a fleet run whose progress the page shows;
/// afterwards the clusters' manifests carry the new VM type and the badge is gone.
///
/// On the way: the plan form page shows the service adapter's warnings under the field they
/// are about (server-rendered), and the cluster page lists them once, for the plan its
/// manifest was rendered from.
#[tokio::test]
async fn a_plan_change_offers_the_upgrade_and_upgrade_all_from_the_page_carries_it() {
    let server = TestServer::start_with(&VM_CREATE_NOW, Some(ADMIN_PASSWORD));
    let admin = Api::login(&server).await;
    let guid = deploy_pks_for_broker(&admin, Quotas::default()).await;
    let full_view = Api::client(&server, "full-viewer", "full_view").await;
    let restricted = Api::client(&server, "restricted", "restricted_control").await;

    // The plan form: the adapter's warning under the Admission Plugins field, nowhere else.
    let (status, html) = page(
        &server,
        &admin.token,
        &format!("/products/{guid}/settings?form=plan1"),
    )
    .await;
    assert_eq!(status, 200);
    let field = html
        .split(r#"data-reference=".properties.plan1_selector.active.admission_plugins""#)
        .nth(1)
        .and_then(|rest| rest.split(r#"<div class="field""#).next())
        .unwrap_or_else(|| panic!("no Admission Plugins field: {html}"));
    assert!(
        field.contains(r#"class="field-notes adapter-warnings""#),
        "{field}"
    );
    assert!(field.contains("SecurityContextDeny is on"), "{field}");
    assert_eq!(
        html.matches(r#"class="field-notes adapter-warnings""#)
            .count(),
        1,
        "one note, on its field"
    );
    // Another form of the tile carries none.
    let (_, html) = page(
        &server,
        &admin.token,
        &format!("/products/{guid}/settings?form=pks_api"),
    )
    .await;
    assert!(!html.contains("field-notes"), "{html}");

    for name in ["p1", "p2"] {
        let (status, body) = call(
            &server,
            &admin.token,
            "create_cluster",
            &create_args(name, "small", "1", &format!("{name}.example.com")),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    for name in ["p1", "p2"] {
        let cluster = settled_cluster(&admin, name).await;
        assert_eq!(cluster["last_action_state"], "succeeded", "{cluster:#}");
    }
    // The cluster page lists the adapter's warnings for its plan, once.
    let (_, html) = page(&server, &admin.token, "/clusters/p1").await;
    assert!(html.contains("Plan settings not applied"), "{html}");
    let listed = html
        .split(r#"<ul class="adapter-warnings">"#)
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .unwrap_or_else(|| panic!("no adapter warnings: {html}"));
    assert_eq!(
        listed.matches("<li>").count(),
        1,
        "each said once: {listed}"
    );
    assert!(listed.contains("SecurityContextDeny is on"), "{listed}");
    let (_, html) = page(&server, &admin.token, "/clusters").await;
    assert!(!row(&html, "p1").contains("Upgrade available"), "{html}");
    assert!(
        html.contains(r#"class="upgrade-all""#),
        "offered to an admin: {html}"
    );
    let (_, html) = page(&server, &restricted.token, "/clusters").await;
    assert!(
        !html.contains(r#"class="upgrade-all""#),
        "not offered to restricted control: {html}"
    );

    // Plan 1's worker VM type changes, applied without the upgrade errand.
    admin
        .put(
            &format!("/api/v0/staged/products/{guid}/properties"),
            json!({"properties": {
                ".properties.plan1_selector.active.worker_vm_type": {"value": "large"}}}),
        )
        .await
        .expect(200);
    apply_succeeds(
        &admin,
        json!({"deploy_products": "all",
               "errands": {guid.clone(): {"run_post_deploy": {"upgrade-all-service-instances": false}}}}),
    )
    .await;
    let (_, html) = page(&server, &admin.token, "/clusters").await;
    for name in ["p1", "p2"] {
        let r = row(&html, name);
        assert!(r.contains(r#"data-upgrade-available="true""#), "{r}");
        assert!(
            r.contains("plan small&#x27;s settings changed in the PKS tile")
                || r.contains("plan small's settings changed in the PKS tile"),
            "{r}"
        );
    }
    assert!(
        html.contains("Upgrade all clusters (2 have an upgrade available)"),
        "{html}"
    );
    let (_, html) = page(&server, &admin.token, "/clusters/p1").await;
    assert!(html.contains(r#"<dd class="upgrade-available">"#), "{html}");
    assert!(
        html.contains(
            "plan small's settings changed in the PKS tile since this cluster was deployed"
        ),
        "{html}"
    );

    for (who, token) in [
        ("full_view", &full_view.token),
        ("restricted", &restricted.token),
    ] {
        let (status, body) = call(&server, token, "upgrade_all_clusters", &[]).await;
        assert_eq!(status, 403, "{who}: {body}");
    }
    let (status, body) = call(&server, &admin.token, "upgrade_all_clusters", &[]).await;
    assert_eq!(status, 200, "{body}");
    let run: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(run["kind"], "upgrade", "{run:#}");
    assert_eq!(run["total"], 2, "{run:#}");
    let id = run["id"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = admin.get(&format!("/pks/v1/fleet-runs/{id}")).await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        if r.body["state"] == "succeeded" {
            break;
        }
        assert_ne!(r.body["state"], "failed", "{:#}", r.body);
        assert!(Instant::now() < deadline, "{:#}", r.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, html) = page(&server, &admin.token, "/clusters").await;
    assert!(
        html.contains(&format!(r#"data-state="succeeded" data-run="{id}""#)),
        "{html}"
    );
    assert!(html.contains("2 of 2 clusters done"), "{html}");
    for name in ["p1", "p2"] {
        let r = row(&html, name);
        assert!(!r.contains("Upgrade available"), "upgraded: {r}");
        let (_, detail) = page(&server, &admin.token, &format!("/clusters/{name}")).await;
        let manifest = detail
            .split(r#"<pre class="manifest">"#)
            .nth(1)
            .and_then(|rest| rest.split("</pre>").next())
            .unwrap_or_else(|| panic!("no manifest: {detail}"));
        let manifest = manifest
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        let manifest = tiles::yaml::load(&manifest).unwrap_or_else(|e| panic!("{e}: {manifest}"));
        let vm_type = manifest["instance_groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "worker")
            .map(|g| g["vm_type"].clone())
            .unwrap_or_else(|| panic!("no worker group: {manifest:#}"));
        assert_eq!(vm_type, "large", "{name}");
    }
}
