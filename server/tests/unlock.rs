//! The decryption passphrase against the real binary: the first start sets it (given or
//! generated and printed once), a later start without it is locked (pages go to `/unlock`,
//! APIs answer 503), and it unlocks through the browser form or `PUT /api/v0/unlock`, with
//! `GET /login/ensure_availability` answering as om's decrypt client expects
//! (pivotal-cf/om `network/decrypt_client.go`: a 200 from the unlock, then 302 →
//! `/auth/cloudfoundry` once ready, a 200 "Waiting for authentication system to start..."
//! meanwhile). Wrong passphrases are 403 and throttled; a change through
//! `tileworks admin change-decryption-passphrase` makes the old one useless at the next start.

mod common;
mod support;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::archive::{ensure_availability_through, om};

async fn put_unlock(server: &TestServer, body: Value) -> (StatusCode, Value) {
    let r = om()
        .put(server.at("/api/v0/unlock"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// om's `checkAvailability`: the status and the Location path, or the body of a 200.
async fn ensure_availability(server: &TestServer) -> (StatusCode, String) {
    ensure_availability_through(&om(), server).await
}

/// Polls ensure_availability as om does until it is ready (302 → /auth/cloudfoundry); only
/// the "waiting" answer may come in between.
async fn wait_until_available(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, what) = ensure_availability(server).await;
        if status == StatusCode::FOUND && what == "/auth/cloudfoundry" {
            return;
        }
        assert_eq!(status, StatusCode::OK, "{what}");
        assert!(
            what.contains("Waiting for authentication system to start..."),
            "{what}"
        );
        assert!(Instant::now() < deadline, "never became available");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A server set up with [`PASSPHRASE`], restarted without it: locked.
fn locked_server() -> TestServer {
    let mut server = TestServer::start();
    server.passphrase = None;
    server.restart();
    assert!(
        server.stdout.contains("Tileworks is locked"),
        "{}",
        server.stdout
    );
    server
}

async fn assert_locked(server: &TestServer) {
    // APIs: 503 saying why.
    let r = om()
        .get(server.at("/api/v0/staged/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["errors"]["base"][0]
            .as_str()
            .unwrap()
            .contains("locked: unlock it with the decryption passphrase"),
        "{body}"
    );
    // Logging in is not possible yet either.
    let r = browser()
        .post(server.at("/login"))
        .form(&[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Pages: to the unlock form.
    let r = browser()
        .get(server.at("/login"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(location(&r), "/unlock");
    // om: not available (a redirect that is neither ready nor unstarted).
    assert_eq!(
        ensure_availability(server).await,
        (StatusCode::FOUND, "/unlock".to_owned())
    );
}

#[tokio::test]
async fn a_locked_start_unlocks_through_the_api_as_om_does() {
    let server = locked_server();
    assert_locked(&server).await;

    // Wrong, missing and malformed passphrases: refused, still locked.
    let (status, body) = put_unlock(&server, json!({"passphrase": "not the passphrase"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["errors"]["base"][0],
        "The decryption passphrase is incorrect."
    );
    let (status, body) = put_unlock(&server, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["errors"]["passphrase"].is_array(), "{body}");
    let r = om()
        .put(server.at("/api/v0/unlock"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_locked(&server).await;

    // The right one, as om sends it.
    let r = om()
        .put(server.at("/api/v0/unlock"))
        .header("content-type", "application/json")
        .body(format!("{{\"passphrase\": \"{PASSPHRASE}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({}));
    wait_until_available(&server).await;

    // Open: om's login path leads to the login page, the API works with a token.
    let r = om()
        .get(server.at("/auth/cloudfoundry"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/login");
    let api = support_login(&server).await;
    assert!(api.contains("access_token"), "{api}");

    // `om --decryption-passphrase` unlocks before every command: still 200 once open, and a
    // wrong passphrase is still refused.
    assert_eq!(
        put_unlock(&server, json!({"passphrase": PASSPHRASE}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        put_unlock(&server, json!({"passphrase": "still not it"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    wait_until_available(&server).await;
    // The unlock page now sends to the login page.
    let r = browser().get(server.at("/unlock")).send().await.unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(location(&r), "/login");

    assert!(
        !server.log().contains(PASSPHRASE),
        "the log holds the passphrase"
    );
}

/// A token for the admin through the UAA endpoint (om's password grant).
async fn support_login(server: &TestServer) -> String {
    let r = reqwest::Client::new()
        .post(server.at("/uaa/oauth/token"))
        .basic_auth("opsman", Some(""))
        .form(&[
            ("grant_type", "password"),
            ("username", ADMIN_USER),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

#[tokio::test]
async fn the_browser_unlocks_with_the_form_before_logging_in() {
    let server = locked_server();
    let client = browser();
    let page = client.get(server.at("/unlock")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\" action=\"/unlock\">"),
        "{html}"
    );
    assert!(html.contains("name=\"passphrase\""), "{html}");

    // A wrong passphrase: the form again, with the message.
    let r = client
        .post(server.at("/unlock"))
        .form(&[("passphrase", "wrong passphrase")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("The decryption passphrase is incorrect."),
        "{html}"
    );
    assert!(html.contains("name=\"passphrase\""), "{html}");
    // A foreign page may not post it.
    let r = client
        .post(server.at("/unlock"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("passphrase", PASSPHRASE)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_locked(&server).await;

    // The right one: back to /unlock, which waits for the start and then sends to login.
    let r = client
        .post(server.at("/unlock"))
        .form(&[("passphrase", PASSPHRASE)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(location(&r), "/unlock");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = client.get(server.at("/unlock")).send().await.unwrap();
        if r.status().is_redirection() {
            assert_eq!(location(&r), "/login");
            break;
        }
        let html = r.text().await.unwrap();
        assert!(html.contains("http-equiv=\"refresh\""), "{html}");
        assert!(Instant::now() < deadline, "never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        location(&log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await),
        "/"
    );
}

#[tokio::test]
async fn wrong_passphrases_are_throttled_per_address() {
    let server = locked_server();
    for _ in 0..5 {
        let (status, _) = put_unlock(&server, json!({"passphrase": "guess guess guess"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let r = om()
        .put(server.at("/api/v0/unlock"))
        .json(&json!({"passphrase": PASSPHRASE}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_locked(&server).await;
}

fn change_passphrase(server: &TestServer, input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = common::cli(server)
        .args(["admin", "change-decryption-passphrase", "--data-dir"])
        .arg(server.data_dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn a_changed_passphrase_replaces_the_old_one_at_the_next_start() {
    let mut server = TestServer::start();
    let api_before = support_login(&server).await;
    assert!(api_before.contains("access_token"));

    // The current passphrase must be right, the new one long enough.
    let out = change_passphrase(&server, "not the current one\nnew passphrase here\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("incorrect"));
    let out = change_passphrase(&server, &format!("{PASSPHRASE}\nshort\n"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("new_passphrase"));
    let new = "the new decryption passphrase";
    let out = change_passphrase(&server, &format!("{PASSPHRASE}\n{new}\n"));
    assert!(out.status.success(), "{out:?}");
    // The running server is unaffected.
    assert!(support_login(&server).await.contains("access_token"));

    // The next start with the new one is unlocked at once, and every sealed value still opens
    // (the data key did not change): the Director tile's generated credentials read back.
    server.passphrase = Some(new.into());
    server.restart();
    assert!(!server.stdout.contains("locked"), "{}", server.stdout);
    let token: Value = serde_json::from_str(&support_login(&server).await).unwrap();
    let r = reqwest::Client::new()
        .get(server.at("/api/v0/deployed/director/credentials/director_client_credentials"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);

    // The old one no longer starts it…
    let refused = common::cli(&server)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(server.data_dir.path())
        .env("TILEWORKS_DECRYPTION_PASSPHRASE", PASSPHRASE)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("the decryption passphrase is incorrect"),
        "{refused:?}"
    );
    // …nor unlocks it.
    server.passphrase = None;
    server.restart();
    assert_eq!(
        put_unlock(&server, json!({"passphrase": PASSPHRASE}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put_unlock(&server, json!({"passphrase": new})).await.0,
        StatusCode::OK
    );
    wait_until_available(&server).await;

    // Administrators change it through the API too (other roles: tests/gate.rs).
    let token: Value = serde_json::from_str(&support_login(&server).await).unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let change = |body: Value| {
        let url = server.at("/api/v0/decryption_passphrase");
        let token = token.clone();
        async move {
            reqwest::Client::new()
                .put(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let third = "a third decryption passphrase";
    assert_eq!(
        change(json!({"current_passphrase": PASSPHRASE, "new_passphrase": third})).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        change(json!({"current_passphrase": new})).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        change(json!({"current_passphrase": new, "new_passphrase": third})).await,
        StatusCode::NO_CONTENT
    );
    server.passphrase = Some(third.into());
    server.restart();
    assert!(!server.stdout.contains("locked"), "{}", server.stdout);
}

#[tokio::test]
async fn a_generated_passphrase_is_printed_once_and_stored_nowhere() {
    let mut server = TestServer::start_full(&[], Some(ADMIN_PASSWORD), None);
    let printed = server
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Set the decryption passphrase: "))
        .unwrap_or_else(|| panic!("{}", server.stdout))
        .trim()
        .to_owned();
    assert!(printed.len() >= 20, "{printed}");
    // Nothing in the data dir holds it, and no key file is left beside the database.
    for entry in walk(server.data_dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes
                .windows(printed.len())
                .any(|w| w == printed.as_bytes()),
            "{} holds the passphrase",
            entry.display()
        );
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !["sealing.key", "config-server.key", "client-secret"].contains(&name.as_str()),
            "{} is a plaintext key file",
            entry.display()
        );
    }
    server.restart();
    assert!(!server.stdout.contains("Set the decryption passphrase"));
    assert_eq!(
        put_unlock(&server, json!({"passphrase": printed})).await.0,
        StatusCode::OK
    );
    wait_until_available(&server).await;
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
