//! The audit trail, through the real binary: every credential reveal (each revealing route of
//! the API, the UI, the PKS API and the broker) leaves an entry with its principal, and no
//! secret the test saw anywhere in the whole `audit_events` table; writes, sign-ins (with the
//! user name, failures too) and refusals are recorded with filtered bodies; the table refuses
//! UPDATE and DELETE; only administrators read it (API and page); the API pages, filters,
//! exports JSON lines and names a bad filter in a 422; entries older than the retention period
//! are pruned, each prune an entry of its own; a reveal the trail cannot record is withheld.
//! It runs on SQLite and on PostgreSQL (the tables are read from the server's own database).

mod common;
mod support;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use support::osb::*;
use support::pks::*;
use support::*;

const PKS_TLS: &str = ".pivotal-container-service.pks_tls";

/// The events matching `query` (newest first), as the administrator reads them.
async fn events(api: &Api<'_>, query: &str) -> Vec<Value> {
    let r = api
        .get(&format!("/api/v0/audit_events?per_page=500&{query}"))
        .await;
    assert_eq!(r.status, 200, "{query}: {:#}", r.body);
    r.body["audit_events"].as_array().unwrap().clone()
}

/// The newest event of `kind` on `route` (the pattern) by `principal`.
async fn entry(api: &Api<'_>, kind: &str, route: &str, principal: &str) -> Value {
    let query = format!(
        "kind={kind}&route={}&principal={}",
        enc(route),
        enc(principal)
    );
    let found = events(api, &query).await;
    found
        .into_iter()
        .find(|e| e["route"] == route)
        .unwrap_or_else(|| panic!("no {kind} entry for {route} by {principal}"))
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The server's own database, opened beside it: its PostgreSQL database when the suite runs on
/// PostgreSQL (`TestServer::database_url`), else the data dir's SQLite file.
async fn database(server: &TestServer) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = server.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            server.data_dir.path().join("tileworks.db").display()
        )
    });
    sqlx::AnyPool::connect(&url).await.unwrap()
}

/// Every row of the whole audit table, every column, read from the database itself.
async fn whole_table(server: &TestServer) -> String {
    let pool = database(server).await;
    let object = if server.database_url.is_some() {
        "json_build_object"
    } else {
        "json_object"
    };
    let rows: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT CAST({object}('id', id, 'time', time, 'principal', principal, 'role', role, \
         'address', address, 'method', method, 'route', route, 'target', target, \
         'status', status, 'result', result, 'kind', kind, 'body', body) AS TEXT) \
         FROM audit_events"
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(r,)| r)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The secrets in a response: values under credential keys (and `{name, value}` fields of
/// such names), and the body of every PEM private key.
fn secrets_in(v: &Value, out: &mut Vec<String>) {
    let secret_name = |k: &str| {
        let k = k.to_ascii_lowercase();
        ["password", "secret", "private_key", "token"]
            .iter()
            .any(|w| k.contains(w))
    };
    match v {
        Value::String(s) => {
            if s.contains("PRIVATE KEY") {
                // A line of the key's body: unique to it.
                if let Some(line) = s.lines().find(|l| l.len() > 40 && !l.starts_with("-----")) {
                    out.push(line.to_owned());
                }
            }
            if let Some(rest) = s.split("BOSH_CLIENT_SECRET=").nth(1) {
                out.push(rest.split_whitespace().next().unwrap_or("").to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|i| secrets_in(i, out)),
        Value::Object(map) => {
            if let (Some(Value::String(name)), Some(Value::String(value))) =
                (map.get("name"), map.get("value"))
            {
                if secret_name(name) {
                    out.push(value.clone());
                }
            }
            for (k, value) in map {
                if let Value::String(s) = value {
                    if secret_name(k) && s.len() >= 8 {
                        out.push(s.clone());
                    }
                }
                secrets_in(value, out);
            }
        }
        _ => {}
    }
    out.retain(|s| s.len() >= 8);
}

/// Asserts none of `secrets` is in the whole audit table.
async fn table_holds_none(server: &TestServer, secrets: &[String]) {
    assert!(!secrets.is_empty());
    let table = whole_table(server).await;
    assert!(!table.is_empty());
    for secret in secrets {
        assert!(
            !table.contains(secret.as_str()),
            "a secret ({}…) is in the audit table",
            &secret[..secret.len().min(6)]
        );
    }
}

/// A server function called with a bearer token: status and JSON answer.
async fn call_fn(
    server: &TestServer,
    token: &str,
    function: &str,
    args: &[(&str, String)],
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(server.at(&format!("/_app/{function}")))
        .bearer_auth(token)
        .form(args)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A GET with a bearer token: status and body (JSON, or the text as a string).
async fn get_raw(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(server.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

#[tokio::test]
async fn every_reveal_is_recorded_with_its_principal_and_no_secret() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let guid = deploy_pks_for_broker(&api, Quotas::default()).await;
    let mut secrets = vec![VCENTER_PASSWORD.to_owned()];

    // The API's reveals, each with its route pattern.
    let reveals = [
        (
            format!("/api/v0/staged/products/{guid}/properties?redact=false"),
            "/api/v0/staged/products/{guid}/properties",
        ),
        (
            "/api/v0/staged/director/properties?redact=false".to_owned(),
            "/api/v0/staged/director/properties",
        ),
        (
            "/api/v0/deployed/director/credentials/bosh_commandline_credentials".to_owned(),
            "/api/v0/deployed/director/credentials/bosh_commandline_credentials",
        ),
        (
            "/api/v0/deployed/director/credentials/director_client_credentials".to_owned(),
            "/api/v0/deployed/director/credentials/{name}",
        ),
        (
            format!("/api/v0/deployed/products/{guid}/credentials/{PKS_TLS}"),
            "/api/v0/deployed/products/{guid}/credentials/{reference}",
        ),
    ];
    for (path, route) in &reveals {
        let (status, body) = get_raw(&server, &api.token, path).await;
        assert_eq!(status, 200, "{path}: {body:#}");
        let before = secrets.len();
        secrets_in(&body, &mut secrets);
        assert!(
            secrets.len() > before,
            "{path} revealed no secret the test sees: {body:#}"
        );
        let e = entry(&api, "reveal", route, ADMIN_USER).await;
        assert_eq!(e["result"], "success", "{e:#}");
        assert_eq!(e["status"], 200);
        assert_eq!(e["role"], "admin");
        assert_eq!(e["method"], "GET");
        assert_eq!(e["target"], path.as_str());
        assert!(e["time"].as_str().unwrap().ends_with('Z'), "{e:#}");
        assert_eq!(e["address"], "127.0.0.1");
    }

    // Certificate generation (the API answers the private key).
    let r = api
        .post(
            "/api/v0/certificates/generate",
            json!({"domains": ["audit.example.com"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    secrets_in(&r.body, &mut secrets);
    let e = entry(&api, "reveal", "/api/v0/certificates/generate", ADMIN_USER).await;
    assert_eq!(e["body"], json!({"domains": ["audit.example.com"]}));

    // The UI's: a credential revealed, a certificate generated into the form.
    let (status, revealed) = call_fn(
        &server,
        &api.token,
        "reveal_credential",
        &[("guid", guid.clone()), ("reference", PKS_TLS.into())],
    )
    .await;
    assert_eq!(status, 200, "{revealed:#}");
    secrets_in(&revealed, &mut secrets);
    let e = entry(&api, "reveal", "/_app/reveal_credential", ADMIN_USER).await;
    assert_eq!(e["body"]["reference"], PKS_TLS, "{e:#}");
    let version = api
        .version_of(&format!("/api/v0/staged/products/{guid}/properties"))
        .await;
    let (status, generated) = call_fn(
        &server,
        &api.token,
        "generate_form_certificate",
        &[
            ("guid", guid.clone()),
            ("reference", PKS_TLS.into()),
            ("domains", "form.example.com".into()),
            ("config_version", version.to_string()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{generated:#}");
    secrets_in(&generated, &mut secrets);
    let staged = api
        .get(&format!(
            "/api/v0/staged/products/{guid}/properties?redact=false"
        ))
        .await;
    secrets_in(&staged.body, &mut secrets);
    let e = entry(
        &api,
        "reveal",
        "/_app/generate_form_certificate",
        ADMIN_USER,
    )
    .await;
    assert_eq!(e["body"]["domains"], "form.example.com", "{e:#}");

    // A log bundle: the fetch and the download.
    let r = api
        .post(
            &format!("/api/v0/deployed/products/{guid}/logs"),
            json!({"instance_group": PKS, "index": 0}),
        )
        .await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = loop {
        let r = api
            .get(&format!("/api/v0/deployed/products/{guid}/logs/{id}"))
            .await;
        if r.body["status"] == "ready" {
            break r.body["download_url"].as_str().unwrap().to_owned();
        }
        assert_eq!(r.body["status"], "running", "{:#}", r.body);
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (status, _) = get_raw(&server, &api.token, &url).await;
    assert_eq!(status, 200);
    entry(
        &api,
        "reveal",
        "/api/v0/deployed/products/{guid}/logs",
        ADMIN_USER,
    )
    .await;
    let e = entry(
        &api,
        "reveal",
        "/api/v0/deployed/products/{guid}/logs/{id}/download",
        ADMIN_USER,
    )
    .await;
    assert_eq!(e["target"], url.as_str());
    // Polling the fetch's progress hands out nothing and is not recorded.
    assert!(events(
        &api,
        "route=/api/v0/deployed/products/%7Bguid%7D/logs/%7Bid%7D"
    )
    .await
    .iter()
    .all(|e| e["route"] != "/api/v0/deployed/products/{guid}/logs/{id}"));

    // A cluster's kubeconfig (the PKS API) and a binding's credentials (the broker).
    let r = api
        .post(
            "/pks/v1/clusters",
            json!({"name": "audited", "plan_name": "small",
                   "parameters": {"kubernetes_master_host": "audited.example.com",
                                  "kubernetes_worker_instances": 1}}),
        )
        .await;
    assert_eq!(r.status, 202, "{:#}", r.body);
    let uuid = r.body["uuid"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = api.get("/pks/v1/clusters/audited").await;
        if r.body["last_action_state"] != "in progress" {
            assert_eq!(r.body["last_action_state"], "succeeded", "{:#}", r.body);
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let e = entry(&api, "write", "/pks/v1/clusters", ADMIN_USER).await;
    assert_eq!(e["body"]["name"], "audited");
    let r = api.post("/pks/v1/clusters/audited/binds", json!({})).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    secrets_in(&r.body, &mut secrets);
    entry(&api, "reveal", "/pks/v1/clusters/{name}/binds", ADMIN_USER).await;
    let osb = Osb::of(&api, &guid).await;
    let small = osb.plan_id("small").await;
    let r = osb.bind(&uuid, "audit-binding", &small).await;
    assert!(r.status.is_success(), "{:#}", r.body);
    secrets_in(&r.body, &mut secrets);
    let bindings = events(&api, "kind=reveal&route=/broker/v2/service_instances/").await;
    let e = bindings
        .iter()
        .find(|e| {
            e["target"]
                .as_str()
                .unwrap()
                .ends_with("/service_bindings/audit-binding")
        })
        .expect("the broker binding's entry");
    assert_eq!(e["method"], "PUT");
    assert_eq!(e["role"], "broker");
    assert!(e["principal"].is_string(), "{e:#}");
    assert_eq!(e["body"]["app_guid"], "app");

    // Nothing the test saw revealed is anywhere in the table.
    secrets.sort();
    secrets.dedup();
    assert!(secrets.len() >= 8, "{} secrets seen", secrets.len());
    table_holds_none(&server, &secrets).await;
}

#[tokio::test]
async fn writes_sign_ins_and_refusals_are_recorded_with_filtered_bodies() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let mut secrets = vec![ADMIN_PASSWORD.to_owned(), VCENTER_PASSWORD.to_owned()];

    // The token endpoint's sign-in (Api::login): the user name, no password.
    let e = entry(&api, "sign_in", "/uaa/oauth/token", ADMIN_USER).await;
    assert_eq!(e["result"], "success");
    assert_eq!(e["body"]["password"], "[FILTERED]", "{e:#}");
    assert_eq!(e["body"]["grant_type"], "password");

    // API writes: the Director's properties (a vCenter password), a product's secret
    // property, a user created and its own password changed.
    configure_director(&api).await;
    let e = entry(
        &api,
        "write",
        "/api/v0/staged/director/properties",
        ADMIN_USER,
    )
    .await;
    assert_eq!(e["method"], "PUT");
    assert_eq!(e["result"], "success");
    assert_eq!(
        e["body"]["iaas_configuration"]["vcenter_password"], "[FILTERED]",
        "{e:#}"
    );
    assert_eq!(
        e["body"]["iaas_configuration"]["vcenter_host"],
        "vcsa.example.com"
    );
    let guid = api.stage(PKS, "latest").await;
    let e = entry(&api, "write", "/api/v0/staged/products", ADMIN_USER).await;
    assert_eq!(e["body"]["name"], PKS);
    let vsphere_secret = "audit-vcenter-Secret-77";
    secrets.push(vsphere_secret.into());
    let r = api
        .set_property(
            &guid,
            ".properties.cloud_provider.vsphere.vcenter_master_creds",
            json!({"identity": "administrator@vsphere.local", "password": vsphere_secret}),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let e = entry(
        &api,
        "write",
        "/api/v0/staged/products/{guid}/properties",
        ADMIN_USER,
    )
    .await;
    assert_eq!(
        e["body"]["properties"][".properties.cloud_provider.vsphere.vcenter_master_creds"]["value"]
            ["password"],
        "[FILTERED]",
        "{e:#}"
    );
    let operator_password = "operator-Pa55word-1";
    let new_password = "operator-Pa55word-2";
    secrets.extend([operator_password.to_owned(), new_password.to_owned()]);
    let r = api
        .post(
            "/api/v0/users",
            json!({"username": "operator", "password": operator_password, "role": "full_view"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    let e = entry(&api, "write", "/api/v0/users", ADMIN_USER).await;
    assert_eq!(e["body"]["username"], "operator");
    assert_eq!(e["body"]["password"], "[FILTERED]");

    // The login form: a failure (the typed user name) and a success.
    let browser = browser();
    let r = log_in(&browser, &server, "operator", "not-the-Password-3").await;
    assert_eq!(location(&r), "/login?error=invalid");
    secrets.push("not-the-Password-3".into());
    let r = log_in(&browser, &server, "operator", operator_password).await;
    assert_eq!(location(&r), "/");
    let sign_ins = events(&api, "kind=sign_in&route=/login&principal=operator").await;
    assert_eq!(sign_ins.len(), 2, "{sign_ins:#?}");
    assert_eq!(sign_ins[0]["result"], "success");
    assert_eq!(sign_ins[1]["result"], "failure");
    assert_eq!(sign_ins[1]["body"]["username"], "operator");
    assert_eq!(sign_ins[1]["body"]["password"], "[FILTERED]");
    // A UI write through the session: the user's own password change.
    let r = browser
        .post(server.at("/_app/change_own_password"))
        .form(&[
            ("current_password", operator_password),
            ("new_password", new_password),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let e = entry(&api, "write", "/_app/change_own_password", "operator").await;
    assert_eq!(e["role"], "full_view");
    assert_eq!(e["body"]["current_password"], "[FILTERED]");
    assert_eq!(e["body"]["new_password"], "[FILTERED]");
    // A UI write with a credential inside JSON text: the settings form.
    let version = api
        .version_of(&format!("/api/v0/staged/products/{guid}/properties"))
        .await;
    let form_secret = "form-vcenter-Secret-88";
    secrets.push(form_secret.into());
    let (status, answer) = call_fn(
        &server,
        &api.token,
        "save_settings_form",
        &[
            ("guid", guid.clone()),
            ("form", "cloud_provider".into()),
            ("config_version", version.to_string()),
            (
                "values_json",
                json!({".properties.cloud_provider.vsphere.vcenter_master_creds":
                       {"identity": "administrator@vsphere.local", "password": form_secret}})
                .to_string(),
            ),
            ("loaded_json", "{}".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer:#}");
    let e = entry(&api, "write", "/_app/save_settings_form", ADMIN_USER).await;
    assert_eq!(e["body"]["guid"], guid.as_str(), "{e:#}");

    // Refusals: a role (API and UI), a cross-site write riding on a session.
    let viewer = Api::client(&server, "audit-viewer", "restricted_view").await;
    assert_eq!(viewer.delete("/api/v0/staged").await.status, 403);
    let e = entry(&api, "refusal", "/api/v0/staged", "audit-viewer").await;
    assert_eq!(e["result"], "refused");
    assert_eq!(e["status"], 403);
    assert_eq!(e["role"], "restricted_view");
    let (status, _) = call_fn(
        &server,
        &viewer.token,
        "stage_product",
        &[("name", PKS.into()), ("version", "1".into())],
    )
    .await;
    assert_eq!(status, 403);
    entry(&api, "refusal", "/_app/stage_product", "audit-viewer").await;
    let cross_site = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    log_in(&cross_site, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let r = cross_site
        .post(server.at("/_app/unstage_product"))
        .header("origin", "http://attacker.example")
        .form(&[("guid", guid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let e = entry(&api, "refusal", "/_app/unstage_product", ADMIN_USER).await;
    assert_eq!(e["body"]["guid"], guid.as_str());
    // A restricted role's `redact=false`.
    assert_eq!(
        viewer
            .get("/api/v0/staged/director/properties?redact=false")
            .await
            .status,
        403
    );
    entry(
        &api,
        "refusal",
        "/api/v0/staged/director/properties",
        "audit-viewer",
    )
    .await;

    // Reads that reveal nothing are not recorded.
    api.get("/api/v0/staged/products").await;
    assert!(events(&api, "route=/api/v0/staged/products")
        .await
        .iter()
        .all(|e| e["method"] != "GET"));

    // Uploads are recorded by size, never read into the trail.
    let r = api.upload("pks.pivotal", pks_pivotal("1.99.0")).await;
    assert!(r.status.is_success(), "{:#}", r.body);
    let e = entry(&api, "write", "/api/v0/available_products", ADMIN_USER).await;
    assert_eq!(e["body"]["omitted"], "an upload", "{e:#}");
    assert!(e["body"]["bytes"].as_u64().unwrap() > 100, "{e:#}");

    table_holds_none(&server, &secrets).await;
}

#[tokio::test]
async fn the_table_is_append_only() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    assert!(!events(&api, "").await.is_empty());
    let pool = database(&server).await;
    let before: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    for statement in [
        "UPDATE audit_events SET principal = 'someone-else'",
        "UPDATE audit_events SET body = NULL WHERE id = 1",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE id = 1",
    ] {
        let err = sqlx::query(statement)
            .execute(&pool)
            .await
            .expect_err(statement);
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
    let after: (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT principal) FROM audit_events WHERE principal = 'admin'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(after.0, before.0, "nothing was deleted");
    pool.close().await;
}

/// With a 30-day retention, back-dated entries are pruned at start (the pruner's first run) and
/// the prune is recorded with its count and cutoff; an entry inside the period stays, and the
/// database refuses to delete it (the cutoff the prune recorded is what it lets go). The period is shown in the API and on the page.
#[tokio::test]
async fn entries_older_than_the_retention_period_are_pruned_and_the_prune_recorded() {
    let mut server =
        TestServer::start_with(&["--audit-retention-days", "30"], Some(ADMIN_PASSWORD));
    let pool = database(&server).await;
    let days_ago = |days: i64| {
        (time::OffsetDateTime::now_utc() - time::Duration::days(days))
            .replace_nanosecond(0)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let insert = |time: String, target: &'static str| {
        sqlx::query(
            "INSERT INTO audit_events (time, principal, method, route, target, status, result, \
             kind) VALUES ($1, 'old-admin', 'PUT', '/api/v0/staged', $2, 200, 'success', 'write')",
        )
        .bind(time)
        .bind(target)
    };
    for (time, target) in [
        ("2020-01-01T00:00:00Z".to_owned(), "/backdated/2020"),
        (days_ago(400), "/backdated/400"),
        (days_ago(31), "/backdated/31"),
        (days_ago(29), "/backdated/29"),
    ] {
        insert(time, target).execute(&pool).await.unwrap();
    }
    pool.close().await;

    // The pruner runs at start.
    server.restart();
    let api = Api::login(&server).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let prune = loop {
        let found = events(&api, "principal=tileworks").await;
        if let Some(prune) = found.into_iter().next() {
            break prune;
        }
        assert!(Instant::now() < deadline, "no prune was recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(prune["principal"], "tileworks", "{prune:#}");
    assert_eq!(prune["kind"], "write", "{prune:#}");
    assert_eq!(prune["body"]["pruned"], 3, "{prune:#}");
    assert_eq!(prune["body"]["retention_days"], 30, "{prune:#}");
    let cutoff = prune["body"]["cutoff"].as_str().unwrap().to_owned();
    assert!(
        days_ago(31) < cutoff && cutoff < days_ago(29),
        "{cutoff} is not 30 days ago"
    );
    let left: Vec<String> = events(&api, "principal=old-admin")
        .await
        .iter()
        .map(|e| e["target"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, vec!["/backdated/29"]);
    // Recent entries stayed (this very sign-in, the first start's).
    assert!(!events(&api, "kind=sign_in").await.is_empty());

    // The entry inside the period cannot be deleted by anyone but a later prune.
    let pool = database(&server).await;
    let err = sqlx::query("DELETE FROM audit_events WHERE target = '/backdated/29'")
        .execute(&pool)
        .await
        .expect_err("deleted inside the retention period");
    assert!(err.to_string().contains("append-only"), "{err}");
    pool.close().await;

    // Shown where the trail is read.
    let page = api.get("/api/v0/audit_events?per_page=1").await;
    assert_eq!(page.body["retention_days"], 30, "{:#}", page.body);
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let html = get_page(&browser, &server, "/audit").await;
    assert!(
        html.contains("Entries are kept 30 days (--audit-retention-days)"),
        "{html}"
    );
}

#[tokio::test]
async fn only_administrators_read_the_trail() {
    let server = TestServer::start();
    let admin = Api::login(&server).await;
    for role in [
        "full_control",
        "restricted_control",
        "full_view",
        "restricted_view",
        "read_only",
    ] {
        let other = Api::client(&server, &format!("reader-{role}"), role).await;
        for path in [
            "/api/v0/audit_events",
            "/api/v0/audit_events/export",
            "/audit",
        ] {
            let (status, body) = get_raw(&server, &other.token, path).await;
            assert_eq!(status, 403, "{role} {path}");
            assert!(!body.to_string().contains("uaa/oauth/token"), "{body}");
        }
        let (status, _) = call_fn(&server, &other.token, "audit_page", &[]).await;
        assert_eq!(status, 403, "{role} audit_page");
        // The header links the page for administrators only.
        let (_, home) = get_raw(&server, &other.token, "/").await;
        assert!(
            !home.as_str().unwrap().contains("href=\"/audit\""),
            "{role}"
        );
    }
    let (_, home) = get_raw(&server, &admin.token, "/").await;
    assert!(home.as_str().unwrap().contains("href=\"/audit\""));
    // The refusals are themselves in the trail.
    let refused = events(&admin, "kind=refusal&route=/api/v0/audit_events").await;
    assert!(refused.len() >= 5, "{refused:#?}");
}

#[tokio::test]
async fn the_api_pages_filters_exports_and_names_bad_filters() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let writer = Api::client(&server, "audit-writer", "full_control").await;
    for n in 0..7 {
        let r = writer
            .put(
                "/api/v0/staged/director/properties",
                json!({"director_configuration": {"ntp_servers_string": format!("ntp{n}.example.com")}}),
            )
            .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
    }
    // Paging: newest first, a total, pages that do not overlap.
    let query = "principal=audit-writer&kind=write";
    let first = api
        .get(&format!("/api/v0/audit_events?{query}&per_page=3"))
        .await
        .expect(200);
    assert_eq!(first["total"], 7);
    assert_eq!(first["page"], 1);
    assert_eq!(first["per_page"], 3);
    let ids = |page: &Value| -> Vec<i64> {
        page["audit_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let third = api
        .get(&format!("/api/v0/audit_events?{query}&per_page=3&page=3"))
        .await
        .expect(200);
    let (a, c) = (ids(&first), ids(&third));
    assert_eq!(a.len(), 3);
    assert_eq!(c.len(), 1);
    assert!(a.windows(2).all(|w| w[0] > w[1]), "newest first: {a:?}");
    assert!(a[2] > c[0]);
    assert_eq!(
        first["audit_events"][0]["body"]["director_configuration"]["ntp_servers_string"],
        "ntp6.example.com"
    );
    // Filters: result, route prefix, time window.
    assert_eq!(
        events(&api, &format!("{query}&result=failure")).await.len(),
        0
    );
    assert_eq!(
        events(&api, "route=/api/v0/staged/director&principal=audit-writer")
            .await
            .len(),
        7
    );
    assert_eq!(
        events(&api, &format!("{query}&since=2000-01-01&until=2000-01-02"))
            .await
            .len(),
        0
    );
    assert_eq!(
        events(&api, &format!("{query}&since=2000-01-01"))
            .await
            .len(),
        7
    );
    // Bad filters: 422 naming them.
    for (bad, field) in [
        ("kind=everything", "kind"),
        ("result=ok", "result"),
        ("since=yesterday", "since"),
        ("until=2026-99-99", "until"),
        ("page=0", "page"),
        ("per_page=abc", "per_page"),
        ("principle=admin", "principle"),
        ("since=2026-12-06&until=2026-12-05", "until"),
    ] {
        let r = api.get(&format!("/api/v0/audit_events?{bad}")).await;
        assert_eq!(r.status, 422, "{bad}: {:#}", r.body);
        assert!(r.body["errors"][field].is_array(), "{bad}: {:#}", r.body);
        let r = api.get(&format!("/api/v0/audit_events/export?{bad}")).await;
        assert_eq!(r.status, 422, "export {bad}");
    }
    // The export: JSON lines, oldest first, the same filters.
    let r = reqwest::Client::new()
        .get(server.at(&format!("/api/v0/audit_events/export?{query}")))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(text.ends_with('\n'));
    assert!(lines
        .windows(2)
        .all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64()));
    assert!(lines.iter().all(|l| l["principal"] == "audit-writer"));
    // The whole trail, unfiltered: every event once (fewer than one 500-event chunk here; the
    // chunk boundary itself is not exercised by this test).
    let all = reqwest::Client::new()
        .get(server.at("/api/v0/audit_events/export"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let total = api.get("/api/v0/audit_events").await.expect(200)["total"]
        .as_i64()
        .unwrap();
    assert_eq!(all.lines().count() as i64, total);

    // The page: SSR with the rows, a GET form, the export link, a 422 worded on the page.
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let html = browser
        .get(server.at("/audit?principal=audit-writer&kind=write"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<form method="get" action="/audit" role="search" class="audit-filters">"#),
        "{html}"
    );
    assert_eq!(html.matches("data-event=").count(), 7, "{html}");
    assert!(
        html.contains("/api/v0/audit_events/export?principal=audit-writer&amp;kind=write")
            || html.contains("/api/v0/audit_events/export?principal=audit-writer&kind=write"),
        "{html}"
    );
    assert!(html.contains("ntp6.example.com"));
    let html = browser
        .get(server.at("/audit?kind=everything"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("kind: &#x27;everything&#x27; is not a kind")
            || html.contains("kind: 'everything' is not a kind"),
        "{html}"
    );
}

/// The value every probe carries; it must appear nowhere in the trail.
const PROBE_SECRET: &str = "Tw-Audit-Probe-Secret-7f3c1e";

/// The bodies each state-changing route is sent: the secret under credential keys, under
/// innocuous ones (an om collection's secret field, an IaaS option, a certificate's key, a
/// passphrase, a user's password, the setup's fields), as a property value, inside JSON text
/// inside a string, in a form (plain and as a JSON document posted as one), in JSON that does
/// not parse, in multipart and in text. Each names a `marker` under `name`, which the filter
/// keeps, so the test sees that the bodies were recorded at all.
fn probes(marker: &str) -> Vec<(String, Vec<u8>)> {
    let s = PROBE_SECRET;
    let json_body = json!({
        "name": marker,
        "note": s,
        "value": s,
        "properties": {
            ".properties.plain_text": {"value": s},
            ".properties.collection": {"value": [{"label": "x", "api_creds": {"secret": s}, "extra": s}]},
        },
        "iaas_configuration": {"project": s, "vcenter_password": s, "auth_json": s},
        "ssl_certificate": {"certificate": s, "private_key": s},
        "passphrase": s,
        "decryption_passphrase": s,
        "user": {"user_name": "probe", "password": s, "password_confirmation": s},
        "setup": {"admin_password": s, "decryption_passphrase_confirmation": s},
        "cert_pem": s,
        "private_key_pem": s,
        "nested_text": json!({"deeper": {"anything": s}}).to_string(),
    });
    let form = serde_urlencoded::to_string([
        ("name", marker),
        ("note", s),
        (
            "values_json",
            &json!({".properties.x": s, "other": s}).to_string(),
        ),
        (".properties.creds#identity", s),
        ("field[0][name]", s),
    ])
    .unwrap();
    let probes: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", json_body.to_string().into_bytes()),
        ("application/x-www-form-urlencoded", form.into_bytes()),
        (
            "application/x-www-form-urlencoded",
            json!({"password": s, "name": marker})
                .to_string()
                .into_bytes(),
        ),
        (
            "application/json",
            format!("{{\"name\": \"{marker}\", \"password\": \"{s}\"").into_bytes(),
        ),
        (
            "multipart/form-data; boundary=XyZ",
            format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n{s}\r\n--XyZ--\r\n"
            )
            .into_bytes(),
        ),
        ("text/plain", format!("password={s}").into_bytes()),
    ];
    let mut probes: Vec<(String, Vec<u8>)> = probes
        .into_iter()
        .map(|(content_type, body)| (content_type.to_owned(), body))
        .collect();
    // The secret in the content type's parameters.
    probes.push((
        format!("application/json; charset={s}"),
        json!({"name": marker}).to_string().into_bytes(),
    ));
    probes
}

/// For every state-changing route of the gate's table, bodies carrying a known secret in
/// every shape the filter must handle; then the whole trail — the API's export and every row
/// and column of the `audit_events` table — holds the secret nowhere, while the bodies'
/// markers show the bodies were recorded. (Other tables may hold what a handler accepted,
/// sealed where it is a credential; `no_plaintext.rs` searches the whole data dir.)
#[tokio::test]
async fn no_body_sent_to_any_state_changing_route_leaves_its_secret_in_the_trail() {
    use server::http::gate::ENTRY_POINTS;
    let server = TestServer::start();
    let mut api = Api::login(&server).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (mut sent, mut routes) = (0, 0);
    for (method, route, _) in ENTRY_POINTS {
        if matches!(*method, "GET" | "HEAD" | "OPTIONS") {
            continue;
        }
        let path: String = route
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "probe-target"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        routes += 1;
        for (i, (content_type, body)) in probes(&format!("marker-{routes}")).into_iter().enumerate()
        {
            // The first probe also carries the secret in its query (a URL can hold a token).
            let url = if i == 0 {
                format!(
                    "{path}?password={PROBE_SECRET}&access_token={PROBE_SECRET}\
                     &q={PROBE_SECRET}&name=query-marker-{routes}"
                )
            } else {
                path.clone()
            };
            let request = client
                .request(method.parse().unwrap(), server.at(&url))
                .bearer_auth(&api.token)
                .header("content-type", content_type.as_str())
                .header("sec-fetch-site", "same-origin")
                .body(body);
            let status = request.send().await.unwrap().status();
            // A probe that ends the token (sign-out) is followed by a new sign-in.
            if status == 401 {
                api = Api::login(&server).await;
            }
            sent += 1;
        }
    }
    assert!(sent > 100, "only {sent} probes");

    let export = reqwest::Client::new()
        .get(server.at("/api/v0/audit_events/export"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let exported = export.text().await.unwrap();
    assert!(
        !exported.contains(PROBE_SECRET),
        "the export holds the secret"
    );
    // The bodies were recorded (their markers are there), and the unclassifiable ones as a
    // note of their size and type.
    // (Server functions that only read are not recorded; every other route is.)
    let markers = (1..=routes)
        .filter(|i| exported.contains(&format!("\"marker-{i}\"")))
        .count();
    assert!(
        markers > routes / 2,
        "only {markers} of {routes} routes' bodies recorded"
    );
    let query_markers = (1..=routes)
        .filter(|i| exported.contains(&format!("name=query-marker-{i}\"")))
        .count();
    assert!(
        query_markers > routes / 2,
        "only {query_markers} of {routes} routes' queries recorded"
    );
    assert!(exported.contains("password=[FILTERED]&access_token=[FILTERED]&q=[FILTERED]"));
    for note in [
        "not JSON or a form",
        "keys the filter cannot classify",
        "an upload",
    ] {
        assert!(
            exported.contains(note),
            "no entry left a body out as {note}"
        );
    }
    let table = whole_table(&server).await;
    assert!(!table.contains(PROBE_SECRET), "the table holds the secret");
}

/// The trail fails closed for reveals: while the database refuses new entries (a trigger
/// stands in for a full disk or a damaged table), a credential reveal is a 503 that hands out
/// nothing, while a read that reveals nothing is answered as usual; once entries are accepted
/// again the same reveal is answered and recorded.
#[tokio::test]
async fn a_reveal_the_trail_cannot_record_is_withheld() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let reveal = "/api/v0/staged/director/properties?redact=false";
    let open = api.get(reveal).await;
    assert_eq!(open.status, 200, "{:#}", open.body);
    assert!(open.body.to_string().contains(VCENTER_PASSWORD));

    let pool = database(&server).await;
    let (refuse, allow): (&[&str], &str) = if server.database_url.is_some() {
        (
            &[
                "CREATE FUNCTION test_trail_refuses() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'the trail refuses entries (test)'; END; $$",
                "CREATE TRIGGER test_trail_refuses BEFORE INSERT ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION test_trail_refuses()",
            ],
            "DROP TRIGGER test_trail_refuses ON audit_events",
        )
    } else {
        (
            &[
                "CREATE TRIGGER test_trail_refuses BEFORE INSERT ON audit_events \
               BEGIN SELECT RAISE(ABORT, 'the trail refuses entries (test)'); END",
            ],
            "DROP TRIGGER test_trail_refuses",
        )
    };
    for statement in refuse {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    let withheld = api.get(reveal).await;
    assert_eq!(withheld.status, 503, "{:#}", withheld.body);
    let text = withheld.body.to_string();
    assert!(!text.contains(VCENTER_PASSWORD), "{text}");
    assert!(
        text.contains("audit trail could not record this credential reveal"),
        "{text}"
    );
    // The redacted read reveals nothing and is not recorded: it is answered.
    let redacted = api.get("/api/v0/staged/director/properties").await;
    assert_eq!(redacted.status, 200, "{:#}", redacted.body);
    assert!(!redacted.body.to_string().contains(VCENTER_PASSWORD));

    sqlx::query(allow).execute(&pool).await.unwrap();
    pool.close().await;
    let again = api.get(reveal).await;
    assert_eq!(again.status, 200, "{:#}", again.body);
    assert!(again.body.to_string().contains(VCENTER_PASSWORD));
    let recorded = events(&api, "kind=reveal&route=/api/v0/staged/director/properties").await;
    assert_eq!(
        recorded.len(),
        2,
        "the first and the last reveal: {recorded:#?}"
    );
}
