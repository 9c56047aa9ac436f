//! The UAA-style token endpoint, bearer tokens, `/api/v0/info`, and that every protected route
//! refuses anonymous requests.

mod common;

use common::*;
use serde_json::Value;

async fn password_grant(server: &TestServer, user: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.at("/uaa/oauth/token"))
        .basic_auth("opsman", Some(""))
        .form(&[
            ("client_id", "opsman"),
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
            ("token_format", "jwt"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn info_is_public_and_names_the_api_level_then_tileworks() {
    let server = TestServer::start();
    let response = reqwest::get(server.at("/api/v0/info")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let version = body["info"]["version"].as_str().unwrap();
    // om parses major.minor from the front and needs them numeric.
    let (api, ours) = version.split_once('-').unwrap();
    let mut parts = api.split('.');
    let major: u32 = parts.next().unwrap().parse().unwrap();
    let minor: u32 = parts.next().unwrap().parse().unwrap();
    assert!(major >= 3, "{version}");
    let _ = minor;
    assert!(ours.starts_with("tileworks."), "{version}");
    assert_eq!(body.as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn the_password_grant_issues_a_bearer_token_that_the_api_accepts() {
    let server = TestServer::start();
    let response = password_grant(&server, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 3600);
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 32);

    let client = reqwest::Client::new();
    let installations = client
        .get(server.at("/api/v0/installations"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(installations.status(), 200);
    let list: Value = installations.json().await.unwrap();
    assert_eq!(list, serde_json::json!({"installations": []}));
}

#[tokio::test]
async fn the_password_grant_refuses_wrong_passwords_and_other_clients() {
    let server = TestServer::start();
    let wrong = password_grant(&server, ADMIN_USER, "nope").await;
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");

    let other_client = reqwest::Client::new()
        .post(server.at("/uaa/oauth/token"))
        .basic_auth("someone", Some("x"))
        .form(&[
            ("grant_type", "password"),
            ("username", ADMIN_USER),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(other_client.status(), 401);
    let body: Value = other_client.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn create_client_then_the_client_credentials_grant() {
    let server = TestServer::start();
    let output = common::cli(&server)
        .args(["admin", "create-client", "ci-bot", "--data-dir"])
        .arg(server.data_dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let secret = stdout.lines().last().unwrap().trim().to_owned();
    assert!(secret.len() >= 24, "{stdout}");

    let again = common::cli(&server)
        .args(["admin", "create-client", "ci-bot", "--data-dir"])
        .arg(server.data_dir.path())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let bad_name = common::cli(&server)
        .args(["admin", "create-client", "has:colon", "--data-dir"])
        .arg(server.data_dir.path())
        .output()
        .unwrap();
    assert!(!bad_name.status.success());
    assert!(String::from_utf8_lossy(&bad_name.stderr).contains("name"));

    let grant = |secret: String| {
        let url = server.at("/uaa/oauth/token");
        async move {
            reqwest::Client::new()
                .post(url)
                .basic_auth("ci-bot", Some(secret))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("token_format", "jwt"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let ok = grant(secret.clone()).await;
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let api = reqwest::Client::new()
        .get(server.at("/api/v0/installations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);

    let wrong = grant("not-the-secret".into()).await;
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn missing_or_bad_tokens_get_401_json() {
    let server = TestServer::start();
    let client = reqwest::Client::new();
    let none = client
        .get(server.at("/api/v0/installations"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");

    for header in [
        "Bearer not-a-real-token",
        "Bearer ",
        "Basic YWRtaW46eA==",
        "garbage",
    ] {
        let response = client
            .get(server.at("/api/v0/installations"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error_description"].as_str().is_some(), "{header}");
    }
}

#[tokio::test]
async fn every_protected_route_refuses_an_anonymous_request() {
    let server = TestServer::start();
    let client = browser();
    // Pages redirect to the login page.
    for path in ["/", "/some/page", "/settings"] {
        let response = client.get(server.at(path)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(location(&response), "/login", "{path}");
    }
    let logout = client.post(server.at("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), 303);
    // The API and the UI's server functions answer 401 JSON.
    for (method, path) in [
        ("GET", "/api/v0/installations"),
        ("GET", "/api/v0/staged/products"),
        ("POST", "/api/v0/available_products"),
        ("DELETE", "/api/v0/staged"),
        ("POST", "/_app/get_current_user"),
    ] {
        let response = client
            .request(method.parse().unwrap(), server.at(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized", "{method} {path}");
    }
    // The public few stay reachable.
    assert_eq!(
        client
            .get(server.at("/login"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(server.at("/api/v0/info"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn bad_token_requests_get_a_4xx_with_a_message() {
    let server = TestServer::start();
    let client = reqwest::Client::new();
    let url = server.at("/uaa/oauth/token");
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (
            client
                .post(&url)
                .basic_auth("opsman", Some(""))
                .form(&[("username", "admin")]),
            400,
        ),
        (
            client
                .post(&url)
                .basic_auth("opsman", Some(""))
                .form(&[("grant_type", "implicit")]),
            400,
        ),
        (
            client
                .post(&url)
                .basic_auth("opsman", Some(""))
                .form(&[("grant_type", "password")]),
            400,
        ),
        (
            client
                .post(&url)
                .header("content-type", "application/json")
                .body("{\"grant_type\":\"password\"}"),
            415,
        ),
        (
            client
                .post(&url)
                .header("authorization", "Basic !!!not-base64")
                .form(&[("grant_type", "client_credentials")]),
            401,
        ),
        (
            client
                .post(&url)
                .form(&[("grant_type", "client_credentials")]),
            401,
        ),
        (
            client.post(&url).basic_auth("opsman", Some("")).form(&[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", &"p".repeat(5000)),
            ]),
            400,
        ),
        (
            client
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("x".repeat(64 * 1024)),
            413,
        ),
    ];
    for (i, (request, status)) in cases.into_iter().enumerate() {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "case {i}");
        let text = response.text().await.unwrap();
        assert!(!text.is_empty(), "case {i} has no message");
    }
}

#[tokio::test]
async fn roles_limit_writes_and_credentials() {
    let server = TestServer::start();
    let unknown_role = common::cli(&server)
        .args([
            "admin",
            "create-client",
            "x",
            "--role",
            "superuser",
            "--data-dir",
        ])
        .arg(server.data_dir.path())
        .output()
        .unwrap();
    assert!(!unknown_role.status.success());
    assert!(String::from_utf8_lossy(&unknown_role.stderr).contains("read_only"));

    let http = reqwest::Client::new();
    let write = |token: String| {
        let request = http
            .put(server.at("/api/v0/staged/director/properties"))
            .bearer_auth(token)
            .json(&serde_json::json!({"director_configuration": {"ntp_servers_string": "pool.ntp.org"}}));
        async move { request.send().await.unwrap() }
    };
    let unredacted = |token: String| {
        let request = http
            .get(server.at("/api/v0/staged/director/properties?redact=false"))
            .bearer_auth(token);
        async move { request.send().await.unwrap() }
    };

    for (name, role) in [("viewer", "read_only"), ("auditor", "restricted_view")] {
        let token = client_token(&server, name, role).await;
        let read = http
            .get(server.at("/api/v0/staged/products"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200, "{role} may read");
        let refused = write(token.clone()).await;
        assert_eq!(refused.status(), 403, "{role} may not write");
        let body: Value = refused.json().await.unwrap();
        assert!(body.to_string().contains(role), "{body}");
        assert_eq!(
            unredacted(token).await.status(),
            403,
            "{role} sees no credentials"
        );
    }

    let operator = client_token(&server, "operator", "restricted_control").await;
    assert_eq!(write(operator.clone()).await.status(), 200);
    assert_eq!(unredacted(operator).await.status(), 403);

    let admin = client_token(&server, "root", "full_control").await;
    assert_eq!(unredacted(admin).await.status(), 200);
}
