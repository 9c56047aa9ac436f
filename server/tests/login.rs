//! Browser login, logout, sessions, cookies and throttling against the real server.

mod common;

use common::*;

#[tokio::test]
async fn login_with_the_right_password_opens_the_dashboard() {
    let server = TestServer::start();
    let client = browser();
    let response = log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/");
    let page = client.get(server.at("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Installation Dashboard"), "{html}");
    assert!(html.contains("BOSH Director"));
    assert!(html.contains(ADMIN_USER));
    // The page loads the hydration bundle.
    assert!(html.contains("/pkg/tileworks"), "{html}");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_generic_answer() {
    let server = TestServer::start();
    let client = browser();
    let wrong = log_in(&client, &server, ADMIN_USER, "wrong").await;
    let unknown = log_in(&client, &server, "nobody", "wrong").await;
    for response in [wrong, unknown] {
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/login?error=invalid");
        assert!(response.headers().get("set-cookie").is_none());
    }
    let page = client.get(server.at("/")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(location(&page), "/login");
    let login = client
        .get(server.at("/login?error=invalid"))
        .send()
        .await
        .unwrap();
    assert!(login
        .text()
        .await
        .unwrap()
        .contains("Invalid username or password."));
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after_even_for_the_right_password() {
    let server = TestServer::start();
    let client = browser();
    for _ in 0..5 {
        let response = log_in(&client, &server, ADMIN_USER, "guess").await;
        assert_eq!(response.status(), 303);
    }
    let locked = log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(locked.status(), 429);
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert!(locked
        .text()
        .await
        .unwrap()
        .contains("Too many failed login attempts"));
    // The API's password grant shares the lock for that user.
    let token = reqwest::Client::new()
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
    assert_eq!(token.status(), 429);
    assert!(token.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn failures_from_one_address_across_many_names_are_throttled() {
    let server = TestServer::start();
    let client = browser();
    for i in 0..20 {
        log_in(&client, &server, &format!("user{i}"), "guess").await;
    }
    let response = log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let server = TestServer::start();
    let client = browser();
    log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(
        client.get(server.at("/")).send().await.unwrap().status(),
        200
    );
    let out = client.post(server.at("/logout")).send().await.unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/login");
    assert_eq!(
        client.get(server.at("/")).send().await.unwrap().status(),
        303
    );
}

#[tokio::test]
async fn an_old_session_cookie_is_useless_after_logout() {
    let server = TestServer::start();
    let client = browser();
    let login = log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let cookie = session_cookie(&login);
    client.post(server.at("/logout")).send().await.unwrap();
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.at("/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
}

#[tokio::test]
async fn a_session_survives_a_server_restart() {
    let mut server = TestServer::start();
    let client = browser();
    log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let old_url = server.url.clone();
    server.restart();
    // The new process listens on another port; the cookie is for the host, so it still applies.
    assert_ne!(old_url, server.url);
    let page = client.get(server.at("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Installation Dashboard"));
}

#[tokio::test]
async fn the_session_id_changes_at_login_and_the_cookie_has_safe_flags() {
    let server = TestServer::start();
    let client = browser();
    let login = log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("tileworks_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(
        cookie.contains("SameSite=Lax") || cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP must not set Secure: {cookie}"
    );
    // Logging in again while holding a session (one an attacker could have planted) gets a new id,
    // and the old one stops working.
    let again = log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let renewed = session_cookie(&again);
    let first = cookie.split(';').next().unwrap().to_owned();
    assert_ne!(first, renewed);
    let with_old = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.at("/"))
        .header("cookie", first)
        .send()
        .await
        .unwrap();
    assert_eq!(with_old.status(), 303);
}

fn session_cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn oversized_and_malformed_login_posts_get_a_4xx_with_a_message() {
    let server = TestServer::start();
    let client = browser();
    let huge = "x".repeat(100 * 1024);
    // A client of its own: the server answers 413 before reading the body and then closes the
    // connection, which must not be reused for the next request.
    let oversized = browser()
        .post(server.at("/login"))
        .form(&[("username", "admin"), ("password", huge.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);
    assert!(!oversized.text().await.unwrap().is_empty());

    let long = "x".repeat(2000);
    let too_long = log_in(&client, &server, ADMIN_USER, &long).await;
    assert_eq!(too_long.status(), 400);
    assert!(too_long
        .text()
        .await
        .unwrap()
        .contains("at most 1024 bytes"));

    let missing = client
        .post(server.at("/login"))
        .form(&[("username", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 422);
    assert!(missing.text().await.unwrap().contains("'password'"));

    let not_a_form = client
        .post(server.at("/login"))
        .header("content-type", "application/json")
        .body("{\"username\": \"admin\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), 415);

    let garbage = client
        .post(server.at("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'%', b'%', 0x00])
        .send()
        .await
        .unwrap();
    assert!(garbage.status().is_client_error(), "{}", garbage.status());
    assert!(garbage.text().await.unwrap().contains("login form"));
}

#[tokio::test]
async fn pages_and_api_answers_are_gzipped_for_clients_that_accept_it() {
    use std::io::Read;
    let server = TestServer::start();
    let client = browser();
    log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    for path in ["/", "/api/v0/staged/products"] {
        let plain = client.get(server.at(path)).send().await.unwrap();
        assert_eq!(plain.status(), 200, "{path}");
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let plain = plain.bytes().await.unwrap();

        let zipped = client
            .get(server.at(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(zipped.status(), 200, "{path}");
        assert_eq!(zipped.headers()["content-encoding"], "gzip", "{path}");
        let zipped = zipped.bytes().await.unwrap();
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        // The same document (pages carry per-render ids, so compare sizes for the HTML).
        if path == "/" {
            let html = String::from_utf8(unzipped).unwrap();
            assert!(html.contains("Installation Dashboard"), "{html}");
            assert!(
                zipped.len() * 2 < plain.len(),
                "{} vs {}",
                zipped.len(),
                plain.len()
            );
        } else {
            assert_eq!(unzipped, plain.to_vec(), "{path}");
        }
    }
}

#[tokio::test]
async fn whoever_knows_a_user_name_cannot_lock_that_user_out() {
    let server = TestServer::start();
    // The attacker fails from 127.0.0.1 until that address is locked out of `admin`…
    let attacker = browser();
    for _ in 0..5 {
        log_in(&attacker, &server, ADMIN_USER, "guess").await;
    }
    let locked = log_in(&attacker, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(locked.status(), 429);
    // …while the administrator, from another address with no failures, logs in.
    let owner = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let response = log_in(&owner, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/");
    // The API's password grant from that address too.
    let token = owner
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
    assert_eq!(token.status(), 200);
    // Failed logins name the user in the log (never the password).
    let log = server.log();
    assert!(
        log.contains("failed login") && log.contains("user=admin"),
        "{log}"
    );
    assert!(!log.contains("guess"), "{log}");
}

#[tokio::test]
async fn session_ids_are_stored_as_digests_and_expire_when_idle_or_old() {
    let server = TestServer::start();
    let client = browser();
    let login = log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let cookie = session_cookie(&login);
    let id = cookie.split_once('=').unwrap().1.to_owned();
    let db = server.database().await;
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT id, record, expires_at FROM sessions")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    let (stored_id, record, expires_at) = &rows[0];
    // Neither column holds the id: a copy of the database opens no session.
    assert_ne!(stored_id, &id);
    assert_eq!(stored_id.len(), 64, "a SHA-256 digest: {stored_id}");
    assert!(!record.contains(&id), "{record}");
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.at("/"))
        .header("cookie", format!("tileworks_session={stored_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303, "the stored value is no session id");
    // Idle expiry: 30 minutes from the last activity.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (now + 29 * 60..=now + 31 * 60).contains(expires_at),
        "{expires_at}"
    );

    // Activity pushes the expiry out: make the session look 25 minutes idle, then use it.
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let mut stored: serde_json::Value = serde_json::from_str(record).unwrap();
    stored["data"]["seen_at"] = (now - 25 * 60).into();
    stored["expiry_date"] = soon
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        .into();
    sqlx::query("UPDATE sessions SET record = $1, expires_at = $2")
        .bind(stored.to_string())
        .bind(soon.unix_timestamp())
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        client.get(server.at("/")).send().await.unwrap().status(),
        200
    );
    let (expires_at,): (i64,) = sqlx::query_as("SELECT expires_at FROM sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(expires_at >= now + 29 * 60, "refreshed: {expires_at}");

    // Past the idle time: the session is gone.
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(now - 1)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        client.get(server.at("/")).send().await.unwrap().status(),
        303
    );

    // A fresh session signed in 13 hours ago ends whatever its activity (12 hours at most).
    log_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(
        client.get(server.at("/")).send().await.unwrap().status(),
        200
    );
    let (record,): (String,) = sqlx::query_as("SELECT record FROM sessions WHERE expires_at > $1")
        .bind(now)
        .fetch_one(&db)
        .await
        .unwrap();
    let mut stored: serde_json::Value = serde_json::from_str(&record).unwrap();
    stored["data"]["signed_in_at"] = (now - 13 * 3600).into();
    sqlx::query("UPDATE sessions SET record = $1 WHERE expires_at > $2")
        .bind(stored.to_string())
        .bind(now)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        client.get(server.at("/")).send().await.unwrap().status(),
        303
    );
    let api = client
        .get(server.at("/api/v0/staged/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);
}
