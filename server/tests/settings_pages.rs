//! The TLS certificate, VM extensions and decryption passphrase settings pages against the real
//! binary, as a browser without the wasm uses them: each page is whole on the server; each plain
//! form changes what its API shows and answers `303` back to the page saying what happened; a
//! refusal answers 4xx with the page rendered again, the refusal naming the form, the field and
//! the rule, and nothing stored. Each page answers each role as the gate says, and refuses a
//! cross-site post. The passphrase change re-seals the data key only: the session goes on, and
//! after a restart only the new passphrase unlocks; a wrong current passphrase is counted with
//! the unlock's throttle.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::*;

const TLS: &str = "/settings/ssl-certificate";
const EXTENSIONS: &str = "/settings/vm-extensions";
const PASSPHRASE: &str = "/settings/decryption-passphrase";

/// The answer's status to a GET of `path`.
async fn status_of(browser: &reqwest::Client, server: &TestServer, path: &str) -> u16 {
    browser
        .get(server.at(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A browser signed in as a new user of `role`.
async fn signed_in_as(api: &Api<'_>, server: &TestServer, role: &str) -> reqwest::Client {
    let name = format!("user-{role}");
    let password = format!("{role}-Pa55word-1");
    let r = api
        .post(
            "/api/v0/users",
            json!({"username": name, "password": password, "role": role}),
        )
        .await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    let browser = browser();
    let r = log_in(&browser, server, &name, &password).await;
    assert_eq!(location(&r), "/", "{role} signs in");
    browser
}

/// A form post from another site's page (what a browser says of one), riding on the session.
async fn cross_site_post(
    browser: &reqwest::Client,
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
) -> u16 {
    browser
        .post(server.at(path))
        .header("sec-fetch-site", "cross-site")
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn each_role_gets_the_pages_the_gate_allows_and_the_menu_links_them() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let admin = browser();
    log_in(&admin, &server, ADMIN_USER, ADMIN_PASSWORD).await;

    // The Settings menu links all three (available: the gate knows them).
    let menu = get_page(&admin, &server, "/settings").await;
    for page in [TLS, EXTENSIONS, PASSPHRASE] {
        assert!(
            menu.contains(&format!(r#"href="{page}""#)),
            "{page}: {menu}"
        );
    }
    assert!(!menu.contains("not available"), "{menu}");

    for page in [TLS, EXTENSIONS, PASSPHRASE] {
        assert_eq!(status_of(&admin, &server, page).await, 200, "admin {page}");
    }
    // The TLS certificate and the passphrase are for administrators; VM extensions are read
    // by every role and changed by the configuring ones.
    for role in [
        "full_control",
        "restricted_control",
        "full_view",
        "restricted_view",
    ] {
        let browser = signed_in_as(&api, &server, role).await;
        assert_eq!(status_of(&browser, &server, TLS).await, 403, "{role}");
        assert_eq!(
            status_of(&browser, &server, PASSPHRASE).await,
            403,
            "{role}"
        );
        let html = get_page(&browser, &server, EXTENSIONS).await;
        let configures = matches!(role, "full_control" | "restricted_control");
        assert_eq!(
            html.contains(r#"class="vm-extension-save""#),
            configures,
            "{role}: the form only for roles that may use it"
        );
        let name = format!("ext-{role}");
        let form = [
            ("form", "save"),
            ("name", name.as_str()),
            ("cloud_properties", "{}"),
        ];
        if configures {
            let to = post_form_done(&browser, &server, EXTENSIONS, &form).await;
            assert_eq!(to, format!("{EXTENSIONS}?done=saved"));
        } else {
            post_form_refused(&browser, &server, EXTENSIONS, &form, 403).await;
        }
        for (page, form) in [
            (TLS, vec![("form", "reset")]),
            (
                TLS,
                vec![("form", "generate"), ("domains", "tileworks.example.com")],
            ),
            (
                PASSPHRASE,
                vec![
                    ("form", "change"),
                    ("current_passphrase", common::PASSPHRASE),
                    ("new_passphrase", "another passphrase 1"),
                    ("new_passphrase_confirmation", "another passphrase 1"),
                ],
            ),
        ] {
            post_form_refused(&browser, &server, page, &form, 403).await;
        }
    }
    let names: Vec<String> = api
        .ok(Method::GET, "/api/v0/staged/vm_extensions", None)
        .await["vm_extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        vec!["ext-full_control", "ext-restricted_control"],
        "only the configuring roles' saves were stored"
    );

    // Served over plain HTTP: nothing to show or replace, said plainly; a certificate sent
    // anyway is refused (409) beside the form.
    let html = get_page(&admin, &server, TLS).await;
    assert!(html.contains("plain HTTP"), "{html}");
    let (cert, key) = support::pks::test_cert();
    let html = post_form_refused(
        &admin,
        &server,
        TLS,
        &[
            ("form", "set"),
            ("certificate", &cert),
            ("private_key", &key),
        ],
        409,
    )
    .await;
    assert!(
        html.contains(r#"data-form="set" data-field="certificate""#),
        "{html}"
    );
    assert!(!html.contains("PRIVATE KEY"), "the key is never in a page");
}

struct Pair {
    cert: String,
    key: String,
}

fn pair(names: &[&str]) -> Pair {
    let c =
        rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    Pair {
        cert: c.cert.pem(),
        key: c.key_pair.serialize_pem(),
    }
}

/// A browser (cookies, no redirects, its own pages' `Sec-Fetch-Site`) trusting only `roots`.
fn https_browser(roots: &[&Pair]) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    let mut builder = reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .tls_built_in_root_certs(false);
    for pair in roots {
        builder = builder
            .add_root_certificate(reqwest::Certificate::from_pem(pair.cert.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn the_tls_certificate_is_shown_replaced_and_reset_through_plain_forms() {
    let (a, b) = (
        pair(&["127.0.0.1", "localhost"]),
        pair(&["127.0.0.1", "tileworks.example.com"]),
    );
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, &a.cert).unwrap();
    std::fs::write(&key_path, &a.key).unwrap();
    let server = TestServer::start_with(
        &[
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
        Some(ADMIN_PASSWORD),
    );
    let browser = https_browser(&[&a, &b]);
    let r = log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(location(&r), "/");
    let served = || async {
        let body: Value = browser
            .get(server.at("/api/v0/settings/ssl_certificate"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["ssl_certificate"].clone()
    };

    // The command line's certificate: its subject, names, issuer, expiry and source; no key.
    let html = get_page(&browser, &server, TLS).await;
    assert!(
        html.contains("<h1>Tileworks TLS certificate</h1>"),
        "{html}"
    );
    assert!(html.contains("localhost, 127.0.0.1"), "{html}");
    assert!(
        html.contains("rcgen self signed cert"),
        "subject and issuer: {html}"
    );
    assert!(
        html.contains("The command line&#x27;s (--tls-cert)")
            || html.contains("The command line's (--tls-cert)"),
        "{html}"
    );
    assert!(
        html.contains("restart"),
        "says when it takes effect: {html}"
    );
    assert!(!html.contains("PRIVATE KEY") && !html.contains("BEGIN CERTIFICATE"));
    assert!(!html.contains("tls-reset"), "nothing to reset to yet");

    // Refusals name the field; the certificate comes back, the key never; nothing is stored.
    let other = pair(&["127.0.0.1"]);
    let mut expired = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    expired.not_before = rcgen::date_time_ymd(2020, 1, 1);
    expired.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let expired_key = rcgen::KeyPair::generate().unwrap();
    let expired_cert = expired.self_signed(&expired_key).unwrap().pem();
    let expired_key = expired_key.serialize_pem();
    for (certificate, private_key, field, rule) in [
        ("", b.key.as_str(), "certificate", "can"),
        (
            "not a certificate",
            b.key.as_str(),
            "certificate",
            "has no PEM certificate",
        ),
        (b.cert.as_str(), "", "private_key", "can"),
        (
            b.cert.as_str(),
            other.key.as_str(),
            "private_key",
            "does not belong",
        ),
        (
            expired_cert.as_str(),
            expired_key.as_str(),
            "certificate",
            "has expired",
        ),
    ] {
        let html = post_form_refused(
            &browser,
            &server,
            TLS,
            &[
                ("form", "set"),
                ("certificate", certificate),
                ("private_key", private_key),
            ],
            422,
        )
        .await;
        assert!(
            html.contains("<h1>Tileworks TLS certificate</h1>"),
            "{html}"
        );
        assert!(
            html.contains(&format!(r#"data-form="set" data-field="{field}""#)),
            "{field}: {html}"
        );
        assert!(
            html.contains(&format!("{field}: {rule}")),
            "{field} {rule}: {html}"
        );
        if let Some(line) = certificate.lines().nth(1) {
            assert!(html.contains(line), "the certificate is given back");
        }
        assert!(!html.contains("PRIVATE KEY"), "the key is never in a page");
        assert_eq!(served().await["custom"], false, "nothing stored");
    }

    // Set: served at once (a client trusting only b connects) and shown as set here.
    let to = post_form_done(
        &browser,
        &server,
        TLS,
        &[
            ("form", "set"),
            ("certificate", &b.cert),
            ("private_key", &b.key),
        ],
    )
    .await;
    assert_eq!(to, format!("{TLS}?done=set"));
    let shown = served().await;
    assert_eq!(shown["custom"], true);
    assert_eq!(shown["certificate"].as_str().unwrap().trim(), b.cert.trim());
    assert!(https_browser(&[&b])
        .get(server.at("/api/v0/info"))
        .send()
        .await
        .is_ok());
    let html = get_page(&browser, &server, &format!("{TLS}?done=set")).await;
    assert!(html.contains("Certificate saved."), "{html}");
    assert!(html.contains("tileworks.example.com, 127.0.0.1"), "{html}");
    assert!(html.contains("Set through this page or the API"), "{html}");

    // A cross-site post is refused and changes nothing.
    assert_eq!(
        cross_site_post(&browser, &server, TLS, &[("form", "reset")]).await,
        403
    );
    assert_eq!(served().await["custom"], true);

    // Generate: a bad name is refused naming `domains` and given back; good names get a new
    // key and a certificate signed by the root CA, served at once.
    let html = post_form_refused(
        &browser,
        &server,
        TLS,
        &[
            ("form", "generate"),
            ("domains", "ops.example.com, not a host"),
        ],
        422,
    )
    .await;
    assert!(
        html.contains(r#"data-form="generate" data-field="domains""#),
        "{html}"
    );
    assert!(html.contains("not a valid domain"), "{html}");
    assert!(
        html.contains(r#"value="ops.example.com, not a host""#),
        "{html}"
    );
    assert_eq!(
        served().await["certificate"].as_str().unwrap().trim(),
        b.cert.trim()
    );
    let to = post_form_done(
        &browser,
        &server,
        TLS,
        &[
            ("form", "generate"),
            ("domains", "tileworks.test, *.ops.test"),
        ],
    )
    .await;
    assert_eq!(to, format!("{TLS}?done=generated"));
    let html = get_page(&browser, &server, &format!("{TLS}?done=generated")).await;
    assert!(html.contains("Certificate generated"), "{html}");
    assert!(html.contains("tileworks.test, *.ops.test"), "{html}");
    assert!(!html.contains("PRIVATE KEY"), "the key is never in a page");
    let root: Value = browser
        .get(server.at("/api/v0/security/root_ca_certificate"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let root = root["root_ca_certificate_pem"].as_str().unwrap();
    let addr: std::net::SocketAddr = server.url.trim_start_matches("https://").parse().unwrap();
    let trusting_the_root_ca = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).unwrap())
        .resolve("tileworks.test", addr)
        .build()
        .unwrap();
    let r = trusting_the_root_ca
        .get(format!(
            "https://tileworks.test:{}/api/v0/info",
            addr.port()
        ))
        .send()
        .await
        .expect("a client trusting the root CA connects by the generated name");
    assert_eq!(r.status(), 200);

    // Reset: back to the command line's.
    let to = post_form_done(&browser, &server, TLS, &[("form", "reset")]).await;
    assert_eq!(to, format!("{TLS}?done=reset"));
    let shown = served().await;
    assert_eq!(shown["custom"], false);
    assert_eq!(shown["certificate"].as_str().unwrap(), a.cert);
}

fn extension_names(list: &Value) -> Vec<String> {
    list["vm_extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn vm_extensions_are_saved_refused_and_deleted_after_a_confirmation() {
    let server = TestServer::start();
    let api = Api::login(&server).await;
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    const LIST: &str = "/api/v0/staged/vm_extensions";
    // Review's Director diff needs a Director with its AZs and networks.
    configure_director(&api).await;

    let html = get_page(&browser, &server, EXTENSIONS).await;
    assert!(html.contains("<h1>VM extensions</h1>"), "{html}");
    assert!(html.contains("No VM extensions yet."), "{html}");

    // Save: listed by the API, on the page, and a Director change in Review's cloud config diff.
    let to = post_form_done(
        &browser,
        &server,
        EXTENSIONS,
        &[
            ("form", "save"),
            ("name", "public_ip"),
            (
                "cloud_properties",
                r#"{"associate_public_ip_address": true}"#,
            ),
        ],
    )
    .await;
    assert_eq!(to, format!("{EXTENSIONS}?done=saved"));
    let one = api
        .ok(Method::GET, &format!("{LIST}/public_ip"), None)
        .await["vm_extension"]
        .clone();
    assert_eq!(
        one["cloud_properties"],
        json!({"associate_public_ip_address": true}),
        "{one:#}"
    );
    let html = get_page(&browser, &server, &format!("{EXTENSIONS}?done=saved")).await;
    assert!(html.contains("VM extension saved."), "{html}");
    assert!(html.contains(r#"data-name="public_ip""#), "{html}");
    assert!(html.contains("associate_public_ip_address"), "{html}");
    let diff = api.ok(Method::GET, "/api/v0/director/diff", None).await;
    assert!(
        diff["cloud_config"]["diff"]
            .as_str()
            .unwrap()
            .contains("public_ip"),
        "{diff:#}"
    );

    // Edit: the form holds its properties; saving again replaces them.
    let html = get_page(&browser, &server, &format!("{EXTENSIONS}?edit=public_ip")).await;
    assert!(html.contains(r#"name="name" value="public_ip""#), "{html}");
    post_form_done(
        &browser,
        &server,
        EXTENSIONS,
        &[
            ("form", "save"),
            ("name", "public_ip"),
            (
                "cloud_properties",
                r#"{"associate_public_ip_address": false}"#,
            ),
        ],
    )
    .await;
    let one = api
        .ok(Method::GET, &format!("{LIST}/public_ip"), None)
        .await["vm_extension"]
        .clone();
    assert_eq!(
        one["cloud_properties"]["associate_public_ip_address"],
        false
    );

    // Refusals: a bad name, text that is not JSON, JSON that is not an object, a blank field;
    // each names its field and rule, gives back what was typed, and stores nothing.
    for (name, properties, field, rule) in [
        ("has space", "{}", "name", "may hold only"),
        ("", "{}", "name", "can"),
        ("lb", "{not json", "cloud_properties", "is not JSON"),
        ("lb", "[1, 2]", "cloud_properties", "must be a JSON object"),
        ("lb", " ", "cloud_properties", "can"),
    ] {
        let html = post_form_refused(
            &browser,
            &server,
            EXTENSIONS,
            &[
                ("form", "save"),
                ("name", name),
                ("cloud_properties", properties),
            ],
            422,
        )
        .await;
        assert!(html.contains("<h1>VM extensions</h1>"), "{html}");
        assert!(
            html.contains(&format!(r#"data-form="save" data-field="{field}""#)),
            "{field}: {html}"
        );
        assert!(
            html.contains(&format!("{field}: ")) && html.contains(rule),
            "{field} {rule}: {html}"
        );
        assert!(
            html.contains(&escaped(properties)),
            "what was typed comes back: {html}"
        );
        assert_eq!(
            extension_names(&api.ok(Method::GET, LIST, None).await),
            vec!["public_ip"]
        );
    }
    let r = post_form(&browser, &server, EXTENSIONS, &[("form", "rename")]).await;
    assert_eq!(r.status(), 422);

    // A job that names it: the delete is refused (409) with the reason, and it stays.
    let guid = api.stage(support::pks::PKS, "latest").await;
    let job = "pivotal-container-service";
    let path = api.resource_config_path(&guid, job).await;
    let mut rc = api.ok(Method::GET, &path, None).await;
    rc["additional_vm_extensions"] = json!(["public_ip"]);
    let r = api.put(&path, rc.clone()).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let html = get_page(&browser, &server, &format!("{EXTENSIONS}?delete=public_ip")).await;
    assert!(
        html.contains(r#"class="vm-extension-delete"#),
        "the confirmation: {html}"
    );
    assert!(html.contains("Delete the VM extension"), "{html}");
    let html = post_form_refused(
        &browser,
        &server,
        EXTENSIONS,
        &[("form", "delete"), ("name", "public_ip")],
        409,
    )
    .await;
    assert!(
        html.contains(r#"data-form="delete" data-field="name""#),
        "{html}"
    );
    assert!(html.contains(job), "the reason names the job: {html}");
    assert_eq!(
        extension_names(&api.ok(Method::GET, LIST, None).await),
        vec!["public_ip"]
    );
    // An unknown one is 404 naming it.
    let html = post_form_refused(
        &browser,
        &server,
        EXTENSIONS,
        &[("form", "delete"), ("name", "nope")],
        404,
    )
    .await;
    assert!(html.contains("not found"), "{html}");

    // A cross-site post is refused.
    assert_eq!(
        cross_site_post(
            &browser,
            &server,
            EXTENSIONS,
            &[("form", "delete"), ("name", "public_ip")]
        )
        .await,
        403
    );

    // No longer named: deleted.
    rc["additional_vm_extensions"] = json!([]);
    assert_eq!(api.put(&path, rc).await.status, 200);
    let to = post_form_done(
        &browser,
        &server,
        EXTENSIONS,
        &[("form", "delete"), ("name", "public_ip")],
    )
    .await;
    assert_eq!(to, format!("{EXTENSIONS}?done=deleted"));
    assert!(extension_names(&api.ok(Method::GET, LIST, None).await).is_empty());
}

#[tokio::test]
async fn the_passphrase_changes_through_the_form_and_only_the_new_one_unlocks_after_a_restart() {
    let mut server = TestServer::start();
    let api = Api::login(&server).await;
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let old = common::PASSPHRASE;
    let new = "a brand new passphrase 42";

    let html = get_page(&browser, &server, PASSPHRASE).await;
    assert!(html.contains("<h1>Decryption passphrase</h1>"), "{html}");
    assert!(html.contains(r#"name="current_passphrase""#), "{html}");

    // Refusals: each names its field and rule, nothing typed comes back, nothing changes.
    for (current, fresh, again, status, field, rule) in [
        ("", new, new, 422, "current_passphrase", "can"),
        (old, "", "", 422, "new_passphrase", "can"),
        (
            old,
            "too short",
            "too short",
            422,
            "new_passphrase",
            "at least 12",
        ),
        (
            old,
            new,
            "a brand new passphrase 43",
            422,
            "new_passphrase_confirmation",
            "does not match",
        ),
        (
            "not the passphrase",
            new,
            new,
            403,
            "current_passphrase",
            "incorrect",
        ),
    ] {
        let html = post_form_refused(
            &browser,
            &server,
            PASSPHRASE,
            &[
                ("form", "change"),
                ("current_passphrase", current),
                ("new_passphrase", fresh),
                ("new_passphrase_confirmation", again),
            ],
            status,
        )
        .await;
        assert!(html.contains("<h1>Decryption passphrase</h1>"), "{html}");
        assert!(
            html.contains(&format!(r#"data-form="change" data-field="{field}""#)),
            "{field}: {html}"
        );
        assert!(html.contains(rule), "{field} {rule}: {html}");
        for typed in [current, fresh, again] {
            assert!(
                typed.is_empty() || !html.contains(typed),
                "'{typed}' echoed: {html}"
            );
        }
    }
    // A cross-site post is refused.
    assert_eq!(
        cross_site_post(
            &browser,
            &server,
            PASSPHRASE,
            &[
                ("form", "change"),
                ("current_passphrase", old),
                ("new_passphrase", new),
                ("new_passphrase_confirmation", new),
            ]
        )
        .await,
        403
    );

    let to = post_form_done(
        &browser,
        &server,
        PASSPHRASE,
        &[
            ("form", "change"),
            ("current_passphrase", old),
            ("new_passphrase", new),
            ("new_passphrase_confirmation", new),
        ],
    )
    .await;
    assert_eq!(to, format!("{PASSPHRASE}?done=changed"));
    let html = get_page(&browser, &server, &format!("{PASSPHRASE}?done=changed")).await;
    assert!(html.contains("Decryption passphrase changed."), "{html}");
    // Nothing else ended: the session and the API token still work.
    assert_eq!(status_of(&browser, &server, "/settings").await, 200);
    api.ok(Method::GET, "/api/v0/staged/vm_extensions", None)
        .await;

    // Audited, without the passphrases.
    let events = api
        .get("/api/v0/audit_events?per_page=500&route=%2Fsettings%2Fdecryption-passphrase")
        .await;
    assert_eq!(events.status, 200, "{:#}", events.body);
    let list = events.body["audit_events"].as_array().unwrap();
    assert!(
        list.iter()
            .any(|e| e["status"] == 303 && e["principal"] == ADMIN_USER),
        "{list:#?}"
    );
    let text = events.body.to_string();
    for secret in [old, new, "not the passphrase"] {
        assert!(!text.contains(secret), "'{secret}' in the audit trail");
    }
    assert!(text.contains("[FILTERED]"), "{text}");

    // A restart is locked; only the new passphrase unlocks it.
    server.passphrase = None;
    server.restart();
    let unlock = |passphrase: &'static str| {
        let url = server.at("/api/v0/unlock");
        async move {
            reqwest::Client::new()
                .put(url)
                .json(&json!({ "passphrase": passphrase }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(unlock(common::PASSPHRASE).await, 403);
    assert_eq!(unlock("a brand new passphrase 42").await, 200);
}

#[tokio::test]
async fn wrong_current_passphrases_are_throttled_as_wrong_unlocks_are() {
    let server = TestServer::start();
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let new = "a brand new passphrase 42";
    let form = |current: &'static str| {
        [
            ("form", "change"),
            ("current_passphrase", current),
            ("new_passphrase", new),
            ("new_passphrase_confirmation", new),
        ]
    };
    // The unlock's policy: five failures from one address, then a wait.
    for _ in 0..5 {
        post_form_refused(
            &browser,
            &server,
            PASSPHRASE,
            &form("a wrong passphrase"),
            403,
        )
        .await;
    }
    let html = post_form_refused(
        &browser,
        &server,
        PASSPHRASE,
        &form(common::PASSPHRASE),
        429,
    )
    .await;
    assert!(
        html.contains(r#"data-form="change" data-field="current_passphrase""#),
        "{html}"
    );
    assert!(html.contains("too many failed attempts"), "{html}");
    // The API counts the same failures.
    let api = Api::login(&server).await;
    let r = api
        .put(
            "/api/v0/decryption_passphrase",
            json!({"current_passphrase": common::PASSPHRASE, "new_passphrase": new}),
        )
        .await;
    assert_eq!(r.status, 429, "{:#}", r.body);
}
