//! A fresh instance and moving an installation, against the real binary, with om's requests as
//! its sources send them (pivotal-cf/om `api/setup_service.go`, `commands/configure_authentication.go`,
//! `api/installation_asset_service.go`, `commands/import_installation.go`):
//!
//! - `tileworks serve --setup=api` on an empty data dir starts fresh: `GET
//!   /login/ensure_availability` is `302 → /setup` (om's "unstarted"), everything else waits;
//!   `POST /api/v0/setup` sets it up once (`422` naming each bad field, `409` the second time),
//!   then ensure_availability reaches `302 → /auth/cloudfoundry` and the admin logs in.
//! - `GET /api/v0/installation_asset_collection` (administrators) streams an export; `POST`
//!   of it (multipart `installation[file]`, then `passphrase`) into a fresh instance brings
//!   back users, products, credentials and the change log, after checking all of it: a wrong
//!   passphrase, a flipped byte or a cut file is a `422` that changes nothing, and an instance
//!   that is set up refuses (`409`).

mod common;
mod support;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::archive::*;
use support::*;

/// A server on an empty data dir in setup mode: fresh.
fn fresh_server() -> TestServer {
    TestServer::start_full(&["--setup=api"], None, None)
}

/// om's `EnsureAvailability`: the status and the redirect's path, or the body of a 200.
async fn ensure_availability(server: &TestServer) -> (StatusCode, String) {
    ensure_availability_through(&om(), server).await
}

/// Polls as om does after a setup or an import until complete; only "unstarted" or "pending"
/// may come in between.
async fn wait_until_complete(server: &TestServer) {
    wait_until_complete_through(&om(), server).await
}

/// om `configure-authentication`'s body (`SetupInput` inside `{"setup": …}`).
fn om_setup_body(user: &str, password: &str, passphrase: &str) -> Value {
    json!({"setup": {
        "identity_provider": "internal",
        "admin_user_name": user,
        "admin_password": password,
        "admin_password_confirmation": password,
        "decryption_passphrase": passphrase,
        "decryption_passphrase_confirmation": passphrase,
        "eula_accepted": "true",
    }})
}

async fn post_setup(server: &TestServer, body: &Value) -> (StatusCode, Value) {
    let r = om()
        .post(server.at("/api/v0/setup"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// om `configure-authentication` against a fresh server, with the test's admin.
async fn configure_authentication(server: &TestServer) {
    let (status, path) = ensure_availability(server).await;
    assert_eq!((status, path.as_str()), (StatusCode::FOUND, "/setup"));
    let info: Value = om()
        .get(server.at("/api/v0/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(info["info"]["version"].as_str().unwrap().starts_with("3."));
    let (status, body) = post_setup(
        server,
        &om_setup_body(ADMIN_USER, ADMIN_PASSWORD, PASSPHRASE),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    wait_until_complete(server).await;
}

#[tokio::test]
async fn a_fresh_instance_is_set_up_once_through_the_api() {
    let server = fresh_server();
    assert!(
        server.stdout.contains("not set up yet"),
        "{}",
        server.stdout
    );

    // Fresh: om reads "unstarted"; pages go to the setup form, the API waits.
    assert_eq!(
        ensure_availability(&server).await,
        (StatusCode::FOUND, "/setup".to_owned())
    );
    let page = om()
        .get(server.at("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(location(&page), "/setup");
    let form = om().get(server.at("/setup")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(html.contains("name=\"decryption_passphrase\""), "{html}");
    let api = om()
        .get(server.at("/api/v0/staged/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 503);
    let unlock = om()
        .put(server.at("/api/v0/unlock"))
        .json(&json!({"passphrase": PASSPHRASE}))
        .send()
        .await
        .unwrap();
    assert_eq!(unlock.status(), 409);
    // Nothing was set up by starting: no admin, no passphrase printed.
    assert!(!server.stdout.contains("passphrase:"), "{}", server.stdout);
    assert!(!server
        .data_dir
        .path()
        .join("initial-admin-password")
        .exists());

    // Bad bodies: 422 naming each field and rule; nothing is set up.
    let (status, body) = post_setup(&server, &json!({"setup": {}})).await;
    assert_eq!(status, 422, "{body}");
    for field in [
        "admin_user_name",
        "admin_password",
        "decryption_passphrase",
        "eula_accepted",
    ] {
        assert!(body["errors"][field].is_array(), "{field}: {body}");
    }
    let mut short = om_setup_body(ADMIN_USER, ADMIN_PASSWORD, "short");
    short["setup"]["admin_password_confirmation"] = json!("something else");
    let (status, body) = post_setup(&server, &short).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"]["decryption_passphrase"][0]
            .as_str()
            .unwrap()
            .contains("at least 12"),
        "{body}"
    );
    assert!(
        body["errors"]["admin_password_confirmation"].is_array(),
        "{body}"
    );
    let (status, body) = post_setup(&server, &json!({"admin_user_name": "x"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["setup"].is_array(), "{body}");
    let not_json = om()
        .post(server.at("/api/v0/setup"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 422);
    assert_eq!(
        ensure_availability(&server).await,
        (StatusCode::FOUND, "/setup".to_owned())
    );

    // om configure-authentication: set up, then available; the admin logs in.
    configure_authentication(&server).await;
    let api = Api::login(&server).await;
    let users = api.get("/api/v0/users").await;
    assert_eq!(users.status, 200, "{:?}", users.body);
    assert!(users.body.to_string().contains(ADMIN_USER));

    // Once set up: refused, naming why, and nothing changes.
    let (status, body) = post_setup(
        &server,
        &om_setup_body("intruder", "another long password", "another passphrase"),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("set up already"), "{body}");
    assert!(!api
        .get("/api/v0/users")
        .await
        .body
        .to_string()
        .contains("intruder"));

    // The passphrase given at setup is the instance's: a restart without it is locked and
    // opens with it.
    let mut server = server;
    server.passphrase = None;
    server.restart();
    assert_eq!(
        ensure_availability(&server).await,
        (StatusCode::FOUND, "/unlock".to_owned())
    );
    let unlock = om()
        .put(server.at("/api/v0/unlock"))
        .json(&json!({"passphrase": PASSPHRASE}))
        .send()
        .await
        .unwrap();
    assert_eq!(unlock.status(), 200);
    wait_until_complete(&server).await;
}

#[tokio::test]
async fn the_setup_form_sets_up_without_a_script() {
    let server = fresh_server();
    let browser = browser();
    let refused = browser
        .post(server.at("/setup"))
        .form(&[
            ("admin_user_name", ADMIN_USER),
            ("admin_password", ADMIN_PASSWORD),
            ("admin_password_confirmation", ADMIN_PASSWORD),
            ("decryption_passphrase", PASSPHRASE),
            (
                "decryption_passphrase_confirmation",
                "a different passphrase",
            ),
            ("eula_accepted", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("Decryption passphrase confirmation: does not match"),
        "{html}"
    );
    let done = browser
        .post(server.at("/setup"))
        .form(&[
            ("admin_user_name", ADMIN_USER),
            ("admin_password", ADMIN_PASSWORD),
            ("admin_password_confirmation", ADMIN_PASSWORD),
            ("decryption_passphrase", PASSPHRASE),
            ("decryption_passphrase_confirmation", PASSPHRASE),
            ("eula_accepted", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/setup");
    wait_until_complete(&server).await;
    let login = log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(login.status(), 303);
    assert_eq!(location(&login), "/");
}

const PKS_TLS: &str = ".pivotal-container-service.pks_tls";
const EXTRA_TILE_VERSION: &str = "1.99.0";
const EXTRA_STEMCELL_VERSION: &str = "97.99";

/// om `export-installation`: the status, the `Content-Type`, the `Content-Length` and the
/// bytes.
async fn export(server: &TestServer, token: &str) -> (StatusCode, String, Option<u64>, Vec<u8>) {
    export_through(&reqwest::Client::new(), server, token).await
}

/// [`export`] through `client` (one trusting a server's HTTPS certificate).
async fn export_through(
    client: &reqwest::Client,
    server: &TestServer,
    token: &str,
) -> (StatusCode, String, Option<u64>, Vec<u8>) {
    let r = client
        .get(server.at(EXPORT))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let length = r.content_length();
    (
        status,
        content_type,
        length,
        r.bytes().await.unwrap().to_vec(),
    )
}

/// om `import-installation`: multipart, the file first, then the passphrase.
async fn import(server: &TestServer, bytes: Vec<u8>, passphrase: &str) -> (StatusCode, Value) {
    import_through(&om(), server, bytes, passphrase).await
}

/// Every file under the data dir with its size, its database's bytes aside (SQLite may touch
/// its header on open): what a refused import must leave as it was.
fn data_dir_listing(dir: &std::path::Path) -> Vec<(String, u64)> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, u64)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            let name = entry
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if meta.is_dir() {
                out.push((format!("{name}/"), 0));
                walk(root, &entry.path(), out);
            } else if name.starts_with("tileworks.db") {
                out.push((name, 0));
            } else {
                out.push((name, meta.len()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// What an installation is, as the API shows it: staged and deployed products, the
/// installations, a deployed credential, users and the change log.
async fn what_is_installed(api: &Api<'_>, guid: &str) -> Value {
    let change_log = reqwest::Client::new()
        .post(api.server.at("/_app/change_log"))
        .bearer_auth(&api.token)
        .form(&[("page", "1"), ("per_page", "100"), ("query", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(change_log.status(), 200);
    let change_log: Value = change_log.json().await.unwrap();
    let mut installations = api.installations().await;
    json!({
        "staged": api.ok(reqwest::Method::GET, "/api/v0/staged/products", None).await,
        "deployed": api.ok(reqwest::Method::GET, "/api/v0/deployed/products", None).await,
        "installations": installations["installations"].take(),
        "credential": api
            .ok(
                reqwest::Method::GET,
                &format!("/api/v0/deployed/products/{guid}/credentials/{PKS_TLS}"),
                None,
            )
            .await,
        "users": api.ok(reqwest::Method::GET, "/api/v0/users", None).await,
        "change_log": change_log,
    })
}

#[tokio::test]
async fn an_installation_moves_to_a_fresh_instance_and_runs_there() {
    let (bytes, guid, before) = export_a_deployed_pks().await;
    // The exporting Tileworks and its data dir are gone: the import needs nothing of them.

    let target = fresh_server();
    // om import-installation: the file, then the passphrase; then it polls until available.
    let (status, body) = import(&target, bytes.clone(), PASSPHRASE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({}));
    wait_until_complete(&target).await;

    // The admin logs in with the exported instance's password; everything is as it was.
    let api = Api::login(&target).await;
    let after = what_is_installed(&api, &guid).await;
    for part in [
        "staged",
        "deployed",
        "installations",
        "credential",
        "change_log",
    ] {
        assert_eq!(after[part], before[part], "{part} differs after the import");
    }
    let fetch = before["log_fetch"].as_str().unwrap();
    let r = api
        .get(&format!("/api/v0/deployed/products/{guid}/logs/{fetch}"))
        .await;
    assert_eq!(
        r.status, 404,
        "a log fetch travelled without its bundle: {:#}",
        r.body
    );
    let names = |v: &Value| -> Vec<String> {
        let mut names: Vec<String> = v["users"]["users"]
            .as_array()
            .unwrap_or_else(|| panic!("{v:#}"))
            .iter()
            .map(|u| format!("{} {}", u["user_name"], u["role"]))
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&after), names(&before));
    // The tile and the stemcell are this data dir's files now (the exporting data dir is gone):
    // the stemcell is on disk, and deleting the tile removes its file here.
    let files_in = |folder: &str| -> usize {
        std::fs::read_dir(target.data_dir.path().join(folder))
            .unwrap()
            .count()
    };
    assert_eq!((files_in("tiles"), files_in("stemcells")), (1, 1));
    let library = api
        .ok(reqwest::Method::GET, "/api/v0/stemcells", None)
        .await;
    let uploaded = library["stemcells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["version"] == EXTRA_STEMCELL_VERSION)
        .unwrap_or_else(|| panic!("{library:#}"));
    assert_eq!(uploaded["present_on_disk"], true, "{uploaded:#}");
    let deleted = api
        .send(
            reqwest::Method::DELETE,
            &format!(
                "/api/v0/available_products?product_name=pivotal-container-service&version={EXTRA_TILE_VERSION}"
            ),
            None,
            None,
        )
        .await;
    assert!(deleted.status.is_success(), "{:#}", deleted.body);
    assert_eq!(files_in("tiles"), 0, "the tile's file stayed");

    // Set up now: another import is refused, to anyone, before its body is read.
    let (status, body) = import(&target, bytes.clone(), PASSPHRASE).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("set up already"), "{body}");
    let as_admin = reqwest::Client::new()
        .post(target.at(EXPORT))
        .bearer_auth(&api.token)
        .multipart(
            reqwest::multipart::Form::new()
                .part(
                    "installation[file]",
                    reqwest::multipart::Part::bytes(bytes.clone()).file_name("installation.zip"),
                )
                .text("passphrase", PASSPHRASE),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(as_admin.status(), 409);

    // A new Apply Changes works against the imported embedded Director, which still knows
    // the deployment: the change is an update, not a fresh deploy.
    api.set_property(
        &guid,
        ".properties.pks_api_hostname",
        json!("api2.pks.example.com"),
    )
    .await
    .expect(200);
    assert_eq!(api.pending_action(&guid).await, "update");
    apply_succeeds(&api, json!({"deploy_products": "all"})).await;
    assert_eq!(api.pending_action(&guid).await, "unchanged");
    let director = director::Director::of(&api).await;
    assert!(
        director
            .deployment_names()
            .await
            .iter()
            .any(|n| n.starts_with("pivotal-container-service")),
        "the Director lost its deployment"
    );
    // The credential survived the apply unchanged (it is the exported one, not regenerated).
    let credential = api
        .ok(
            reqwest::Method::GET,
            &format!("/api/v0/deployed/products/{guid}/credentials/{PKS_TLS}"),
            None,
        )
        .await;
    assert_eq!(credential, before["credential"]);

    // The imported instance's passphrase is the exported one's: a restart is locked and opens
    // with it.
    drop(api);
    let mut target = target;
    target.passphrase = None;
    target.restart();
    assert_eq!(
        ensure_availability(&target).await,
        (StatusCode::FOUND, "/unlock".to_owned())
    );
    let unlock = om()
        .put(target.at("/api/v0/unlock"))
        .json(&json!({"passphrase": PASSPHRASE}))
        .send()
        .await
        .unwrap();
    assert_eq!(unlock.status(), 200);
    wait_until_complete(&target).await;
    Api::login(&target).await;
}

/// A self-signed certificate for 127.0.0.1 in files, as `--tls-cert`/`--tls-key` take it.
struct TlsFiles {
    certificate: String,
    private_key: String,
    dir: tempfile::TempDir,
}

impl TlsFiles {
    fn new() -> TlsFiles {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let files = TlsFiles {
            certificate: made.cert.pem(),
            private_key: made.key_pair.serialize_pem(),
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(files.dir.path().join("cert.pem"), &files.certificate).unwrap();
        std::fs::write(files.dir.path().join("key.pem"), &files.private_key).unwrap();
        files
    }

    fn serve_args(&self) -> Vec<String> {
        vec![
            "--tls-cert".into(),
            self.dir.path().join("cert.pem").display().to_string(),
            "--tls-key".into(),
            self.dir.path().join("key.pem").display().to_string(),
        ]
    }

    /// A client that trusts only this certificate and follows no redirects.
    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.certificate.as_bytes()).unwrap(),
            )
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Whether `server` serves this certificate (a client trusting only it connects).
    async fn served_by(&self, server: &TestServer) -> bool {
        self.client()
            .get(server.at("/api/v0/info"))
            .send()
            .await
            .is_ok()
    }
}

/// The certificate given on the exporting Tileworks's command line lives outside its data dir;
/// the installation logs of the Change Log live in its database. Both come back with an
/// import into a fresh instance started with a certificate of its own: that instance then
/// serves the exported certificate, and reads the same logs.
#[tokio::test]
async fn the_served_certificate_and_the_installation_logs_move_with_an_export() {
    let (exported, own) = (TlsFiles::new(), TlsFiles::new());
    let args = |files: &TlsFiles| files.serve_args();
    let source_args = args(&exported);
    let source_args: Vec<&str> = source_args.iter().map(String::as_str).collect();
    let source = TestServer::start_with(&source_args, Some(ADMIN_PASSWORD));
    assert!(source.url.starts_with("https://"), "{}", source.url);
    let api = Api::login_with(&source, exported.client()).await;
    configure_director(&api).await;
    let installation = api.apply_to_end(json!({"deploy_products": "none"})).await;
    installation.expect("succeeded");
    assert!(!installation.log.is_empty());
    let (status, _, _, bytes) = export_through(&exported.client(), &source, &api.token).await;
    assert_eq!(status, 200);
    // The key travels only sealed: neither its PEM nor a line of its base64 is in the file.
    let haystack = String::from_utf8_lossy(&bytes);
    for secret in ["PRIVATE KEY", exported.private_key.lines().nth(1).unwrap()] {
        assert!(!haystack.contains(secret), "the export shows {secret}");
    }
    drop(api);
    drop(source);

    let target_args = args(&own);
    let mut target_args: Vec<&str> = target_args.iter().map(String::as_str).collect();
    target_args.push("--setup=api");
    let target = TestServer::start_full(&target_args, None, None);
    assert!(own.served_by(&target).await && !exported.served_by(&target).await);
    let (status, body) = import_through(&own.client(), &target, bytes, PASSPHRASE).await;
    assert_eq!(status, 200, "{body}");
    // From the services' start on, the exported certificate is served (new connections).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !exported.served_by(&target).await {
        assert!(
            Instant::now() < deadline,
            "the exported certificate is never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!own.served_by(&target).await);
    wait_until_complete_through(&exported.client(), &target).await;
    let api = Api::login_with(&target, exported.client()).await;
    assert_eq!(
        api.installation_log(installation.id).await,
        installation.log
    );
    assert_eq!(
        api.installations().await["installations"][0]["status"],
        "succeeded"
    );
    // As if it had been set through the API: shown as custom, the key never.
    let shown = api.get("/api/v0/settings/ssl_certificate").await;
    assert_eq!(shown.status, 200, "{:#}", shown.body);
    assert_eq!(
        shown.body["ssl_certificate"]["certificate"]
            .as_str()
            .map(str::trim),
        Some(exported.certificate.trim())
    );
    assert!(
        !shown.body.to_string().contains("PRIVATE KEY"),
        "{:#}",
        shown.body
    );
    // And it outlives a restart (it is in the imported database, sealed).
    drop(api);
    let mut target = target;
    target.passphrase = Some(PASSPHRASE.into());
    target.restart();
    assert!(exported.served_by(&target).await && !own.served_by(&target).await);
}

/// A deployed PKS, exported: the file, the product's guid and what was installed.
async fn export_a_deployed_pks() -> (Vec<u8>, String, Value) {
    let source = TestServer::start();
    let api = Api::login(&source).await;
    let guid = pks::deploy_pks(&api).await;
    // An imported tile and a full stemcell: files in the data dir, named by path in the
    // database.
    assert_eq!(
        api.upload("pks.pivotal", pks_pivotal(EXTRA_TILE_VERSION))
            .await
            .status,
        200
    );
    let stemcell = om_upload_stemcell(
        &api,
        "bosh-stemcell-97.99.tgz",
        stemcell_tarball("ubuntu-xenial", EXTRA_STEMCELL_VERSION),
    )
    .await;
    assert_eq!(stemcell.status, 200, "{:#}", stemcell.body);
    let mut before = what_is_installed(&api, &guid).await;
    // A finished instance log fetch: its bundle is not exported, so neither is the fetch.
    let fetch = api
        .post(
            &format!("/api/v0/deployed/products/{guid}/logs"),
            json!({"instance_group": "pivotal-container-service", "index": 0}),
        )
        .await;
    assert_eq!(fetch.status, 202, "{:#}", fetch.body);
    let fetch_id = fetch.body["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while api
        .get(&format!("/api/v0/deployed/products/{guid}/logs/{fetch_id}"))
        .await
        .expect(200)["status"]
        == "running"
    {
        assert!(Instant::now() < deadline, "log fetch still running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    before["log_fetch"] = json!(fetch_id);
    let private_key = before["credential"]["credential"]["value"]["private_key_pem"]
        .as_str()
        .unwrap_or_else(|| panic!("{:#}", before["credential"]))
        .to_owned();

    // Administrators only; every other role is refused (the gate matrix checks each too).
    for role in [
        "full_control",
        "restricted_control",
        "full_view",
        "restricted_view",
    ] {
        let token = client_token(&source, &format!("exporter-{role}"), role).await;
        assert_eq!(export(&source, &token).await.0, 403, "{role}");
    }
    let (status, content_type, length, bytes) = export(&source, &api.token).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/zip");
    assert_eq!(length, Some(bytes.len() as u64));
    // om's check: a zip holding installation.yml; nothing readable in it but the header.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(names.contains(&"installation.yml".to_owned()), "{names:?}");
    let header: Value = {
        use std::io::Read;
        let mut text = String::new();
        zip.by_name("installation.yml")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    assert_eq!(header["format"], "tileworks-installation", "{header:#}");
    let key_line = private_key.lines().nth(1).unwrap();
    let haystack = String::from_utf8_lossy(&bytes);
    for secret in [
        key_line,
        PASSPHRASE,
        "BEGIN RSA PRIVATE KEY",
        "SQLite format",
    ] {
        assert!(!haystack.contains(secret), "the export shows {secret}");
    }
    // Recorded as a reveal, naming who.
    let audit = api.get("/api/v0/audit_events?kind=reveal").await;
    assert!(
        audit
            .body
            .to_string()
            .contains("installation_asset_collection"),
        "{:#}",
        audit.body
    );
    (bytes, guid, before)
}

/// Each bad import is a 4xx naming the problem, and the fresh instance stays fresh with its
/// data dir as it was; the right file afterwards still imports.
#[tokio::test]
async fn a_bad_import_is_refused_and_changes_nothing() {
    let (bytes, _guid, _before) = export_a_deployed_pks().await;
    let target = fresh_server();
    let unchanged = data_dir_listing(target.data_dir.path());
    let file_field = "installation[file]";
    let mut cut_in_half = bytes.clone();
    cut_in_half.truncate(bytes.len() / 2);
    let last_byte_missing = bytes[..bytes.len() - 1].to_vec();
    let flipped_at = |at: usize| {
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        b
    };
    // Where the zip keeps what: the header entry near the start, the sealed payload in the
    // middle, the central directory and the MAC at the end.
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "wrong passphrase",
            bytes.clone(),
            "not the passphrase",
            "passphrase",
        ),
        ("no passphrase", bytes.clone(), "", "passphrase"),
        (
            "flipped byte in the payload",
            flipped_at(bytes.len() / 2),
            PASSPHRASE,
            file_field,
        ),
        (
            "flipped byte in the header",
            flipped_at(60),
            PASSPHRASE,
            file_field,
        ),
        (
            "flipped byte in the central directory",
            flipped_at(bytes.len() - 120),
            PASSPHRASE,
            file_field,
        ),
        (
            "flipped byte in the MAC",
            flipped_at(bytes.len() - 1),
            PASSPHRASE,
            file_field,
        ),
        ("cut in half", cut_in_half, PASSPHRASE, file_field),
        (
            "last byte missing",
            last_byte_missing,
            PASSPHRASE,
            file_field,
        ),
        (
            "not a zip",
            b"just some text, not an export".to_vec(),
            PASSPHRASE,
            file_field,
        ),
        ("empty file", Vec::new(), PASSPHRASE, file_field),
    ];
    for (what, file, passphrase, field) in cases {
        let (status, body) = import(&target, file, passphrase).await;
        assert_eq!(status, 422, "{what}: {body}");
        let message = body["errors"][field][0]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: names no {field}: {body}"));
        assert!(!message.is_empty(), "{what}");
        assert_eq!(
            data_dir_listing(target.data_dir.path()),
            unchanged,
            "{what} changed the data dir"
        );
        assert_eq!(
            ensure_availability(&target).await,
            (StatusCode::FOUND, "/setup".to_owned()),
            "{what}"
        );
    }
    // Without the file at all, and not multipart.
    let no_file = om()
        .post(target.at(EXPORT))
        .multipart(reqwest::multipart::Form::new().text("passphrase", PASSPHRASE))
        .send()
        .await
        .unwrap();
    assert_eq!(no_file.status(), 422);
    let body: Value = no_file.json().await.unwrap();
    assert!(body["errors"][file_field].is_array(), "{body}");
    let json_body = om()
        .post(target.at(EXPORT))
        .json(&json!({"passphrase": PASSPHRASE}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 422);
    assert_eq!(data_dir_listing(target.data_dir.path()), unchanged);

    // The wrong passphrase's message says what to give; a damaged file's says damaged.
    let (_, body) = import(&target, bytes.clone(), "not the passphrase").await;
    assert!(
        body["errors"]["passphrase"][0]
            .as_str()
            .unwrap()
            .contains("does not open this export"),
        "{body}"
    );
    let (_, body) = import(&target, flipped_at(bytes.len() / 2), PASSPHRASE).await;
    assert!(body.to_string().contains("damaged"), "{body}");

    // After all that, the right file with the right passphrase imports.
    let (status, body) = import(&target, bytes, PASSPHRASE).await;
    assert_eq!(status, 200, "{body}");
    wait_until_complete(&target).await;
    Api::login(&target).await;
}

/// An instance set up by itself refuses an import from anyone (409), whatever the body.
/// Guessing an export's passphrase on a fresh instance is as slow as guessing at the unlock
/// page (the same counters): after five wrong passphrases from one address the import answers
/// `429` with `Retry-After`, without opening the body, even with the right passphrase.
#[tokio::test]
async fn wrong_passphrases_for_an_import_are_throttled() {
    let source = TestServer::start();
    let api = Api::login(&source).await;
    let (status, _, _, bytes) = export(&source, &api.token).await;
    assert_eq!(status, 200);
    let target = fresh_server();
    for attempt in 1..=5 {
        let (status, body) = import(&target, bytes.clone(), "not the passphrase").await;
        assert_eq!(status, 422, "attempt {attempt}: {body}");
        assert!(body["errors"]["passphrase"].is_array(), "{body}");
    }
    let form = reqwest::multipart::Form::new()
        .part(
            "installation[file]",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name("installation.zip"),
        )
        .text("passphrase", PASSPHRASE.to_owned());
    let r = om()
        .post(target.at(EXPORT))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    assert_eq!(
        ensure_availability(&target).await,
        (StatusCode::FOUND, "/setup".to_owned()),
        "still fresh"
    );
}

#[tokio::test]
async fn an_instance_that_is_set_up_refuses_an_import() {
    let server = TestServer::start();
    let (status, body) = import(&server, b"anything".to_vec(), PASSPHRASE).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("set up already"), "{body}");
    let api = Api::login(&server).await;
    let as_admin = reqwest::Client::new()
        .post(server.at(EXPORT))
        .bearer_auth(&api.token)
        .multipart(reqwest::multipart::Form::new().text("passphrase", PASSPHRASE))
        .send()
        .await
        .unwrap();
    assert_eq!(as_admin.status(), 409);
    // Its users are its own still.
    let users = api.get("/api/v0/users").await;
    assert_eq!(users.status, 200);
    assert!(users.body.to_string().contains(ADMIN_USER));
}

/// `tileworks admin <args> --data-dir DIR` with `stdin` on standard input: whether it
/// succeeded, its standard output and standard error.
/// `tileworks admin …` on the installation in `dir` whose database is `database_url` (the data
/// dir's SQLite file when `None`).
fn admin(
    dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
    stdin: &str,
) -> (bool, String, String) {
    use std::io::Write;
    let mut command = std::process::Command::new(binary());
    command.arg("admin").args(args).arg("--data-dir").arg(dir);
    match database_url {
        Some(url) => command.env("TILEWORKS_DATABASE_URL", url),
        None => command.env_remove("TILEWORKS_DATABASE_URL"),
    };
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The same export and import from the command line: `admin export-installation` beside a
/// running server writes a file the API imports; `admin import-installation` fills an empty
/// data dir once, after the same checks.
#[tokio::test]
async fn the_command_line_exports_and_imports() {
    let source = TestServer::start();
    let api = Api::login(&source).await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("installation.zip");
    let file_arg = file.to_str().unwrap();

    let source_db = source.database_url.as_deref();
    let (ok, _, stderr) = admin(
        source.data_dir.path(),
        source_db,
        &["export-installation", "--output", file_arg],
        "not the passphrase\n",
    );
    assert!(!ok && !file.exists(), "{stderr}");
    assert!(stderr.contains("passphrase"), "{stderr}");
    let (ok, stdout, stderr) = admin(
        source.data_dir.path(),
        source_db,
        &["export-installation", "--output", file_arg],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Exported the installation"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let bytes = std::fs::read(&file).unwrap();
    let audit = api.get("/api/v0/audit_events?kind=reveal").await;
    assert!(
        audit.body.to_string().contains("export-installation"),
        "{:#}",
        audit.body
    );

    // The API imports what the command line exported.
    let target = fresh_server();
    let (status, body) = import(&target, bytes, PASSPHRASE).await;
    assert_eq!(status, 200, "{body}");
    wait_until_complete(&target).await;
    Api::login(&target).await;

    // The command line imports into an empty data dir (and, on PostgreSQL, an empty
    // database): a wrong passphrase changes nothing.
    let empty = tempfile::tempdir().unwrap();
    let empty_db = common::fresh_database_url();
    let empty_db = empty_db.as_deref();
    let (ok, _, stderr) = admin(
        empty.path(),
        empty_db,
        &["import-installation", file_arg],
        "not the passphrase\n",
    );
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("does not open this export"), "{stderr}");
    let after_refusal = data_dir_listing(empty.path());
    assert!(
        after_refusal
            .iter()
            .all(|(name, _)| name.starts_with("tileworks.db")),
        "{after_refusal:?}"
    );
    let (ok, stdout, stderr) = admin(
        empty.path(),
        empty_db,
        &["import-installation", file_arg],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Imported the installation"), "{stdout}");
    let (ok, users, stderr) = admin(empty.path(), empty_db, &["user", "list"], "");
    assert!(ok && users.contains(ADMIN_USER), "{users}{stderr}");
    // Set up now: a second import is refused.
    let (ok, _, stderr) = admin(
        empty.path(),
        empty_db,
        &["import-installation", file_arg],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("set up already"), "{stderr}");
}
