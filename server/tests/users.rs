//! Users and API clients through the real server and the real command line: administrators
//! create, list, re-role, disable, enable, delete users and reset their passwords (API and
//! `tileworks admin user …`); a change ends the user's sessions and tokens at once; disabled
//! users cannot log in; the last enabled administrator stays one; API clients are listed and
//! revoked (their tokens end); users change their own password; every other role is refused.

mod common;

use std::io::Write;
use std::process::{Output, Stdio};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const PASSWORD: &str = "a-long-enough-password";

/// A call with a bearer token: status and JSON body (`null` when empty).
async fn call(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, server.at(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A token by the password grant, or the refusal's status.
async fn user_token(server: &TestServer, user: &str, password: &str) -> Result<String, u16> {
    let response = reqwest::Client::new()
        .post(server.at("/uaa/oauth/token"))
        .basic_auth("opsman", Some(""))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "opsman"),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    if response.status() != 200 {
        return Err(response.status().as_u16());
    }
    let body: Value = response.json().await.unwrap();
    Ok(body["access_token"].as_str().unwrap().to_owned())
}

async fn admin_token(server: &TestServer) -> String {
    user_token(server, ADMIN_USER, ADMIN_PASSWORD)
        .await
        .unwrap()
}

/// A browser signed in as `user` (asserts the login worked).
async fn signed_in_browser(server: &TestServer, user: &str, password: &str) -> reqwest::Client {
    let client = browser();
    let response = log_in(&client, server, user, password).await;
    assert_eq!(location(&response), "/", "{user} logs in");
    assert!(session_works(&client, server).await);
    client
}

/// Whether a browser's session still signs its requests in.
async fn session_works(client: &reqwest::Client, server: &TestServer) -> bool {
    let status = client
        .get(server.at("/api/v0/staged/products"))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status == 200 || status == 401, "{status}");
    status == 200
}

/// Whether a browser login as `user` works (a refusal is the generic one).
async fn can_log_in(server: &TestServer, user: &str, password: &str) -> bool {
    let response = log_in(&browser(), server, user, password).await;
    match location(&response).as_str() {
        "/" => true,
        "/login?error=invalid" => false,
        other => panic!("login answered {} {other}", response.status()),
    }
}

/// `tileworks admin …` on the server's data dir, with `stdin` on standard input.
fn cli(server: &TestServer, args: &[&str], stdin: &str) -> Output {
    let mut child = common::cli(server)
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(server.data_dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn cli_ok(server: &TestServer, args: &[&str], stdin: &str) -> String {
    let output = cli(server, args, stdin);
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn cli_refused(server: &TestServer, args: &[&str], stdin: &str) -> String {
    let output = cli(server, args, stdin);
    assert!(!output.status.success(), "{args:?} should fail: {output:?}");
    String::from_utf8(output.stderr).unwrap()
}

fn listed<'a>(users: &'a Value, name: &str) -> Option<&'a Value> {
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == name)
}

#[tokio::test]
async fn administrators_manage_users_through_the_api_and_changes_end_sessions_and_tokens() {
    let server = TestServer::start();
    let admin = admin_token(&server).await;

    // Create: the rules first, each a 422 naming the field.
    for (body, field) in [
        (
            json!({"username": "op", "password": "short", "role": "full_view"}),
            "password",
        ),
        (
            json!({"username": "op", "password": PASSWORD, "role": "root"}),
            "role",
        ),
        (
            json!({"username": "has space", "password": PASSWORD, "role": "full_view"}),
            "username",
        ),
        (
            json!({"password": PASSWORD, "role": "full_view"}),
            "username",
        ),
    ] {
        let (status, body) = call(&server, &admin, Method::POST, "/api/v0/users", Some(body)).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["errors"][field].is_array(), "{field}: {body}");
    }
    let (status, created) = call(
        &server,
        &admin,
        Method::POST,
        "/api/v0/users",
        Some(json!({"username": "op", "password": PASSWORD, "role": "full_control"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["user"]["role"], "full_control");
    assert_eq!(created["user"]["enabled"], true);
    assert!(!created.to_string().contains(PASSWORD), "{created}");
    let (status, _) = call(
        &server,
        &admin,
        Method::POST,
        "/api/v0/users",
        Some(json!({"username": "op", "password": PASSWORD, "role": "full_view"})),
    )
    .await;
    assert_eq!(status, 409, "a second 'op'");
    let (status, users) = call(&server, &admin, Method::GET, "/api/v0/users", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed(&users, "op").unwrap()["role"], "full_control");
    assert_eq!(listed(&users, ADMIN_USER).unwrap()["role"], "admin");
    assert!(!users.to_string().contains("hash"), "{users}");

    // A role change ends the user's sessions and tokens; the next login has the new role.
    let session = signed_in_browser(&server, "op", PASSWORD).await;
    let token = user_token(&server, "op", PASSWORD).await.unwrap();
    let (status, _) = call(
        &server,
        &token,
        Method::GET,
        "/api/v0/staged/products",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, changed) = call(
        &server,
        &admin,
        Method::PATCH,
        "/api/v0/users/op",
        Some(json!({"role": "restricted_view"})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["user"]["role"], "restricted_view");
    assert!(
        !session_works(&session, &server).await,
        "session ended by the role change"
    );
    let (status, _) = call(
        &server,
        &token,
        Method::GET,
        "/api/v0/staged/products",
        None,
    )
    .await;
    assert_eq!(status, 401, "token ended by the role change");
    let token = user_token(&server, "op", PASSWORD).await.unwrap();
    let (status, _) = call(&server, &token, Method::DELETE, "/api/v0/staged", None).await;
    assert_eq!(status, 403, "restricted view may not change anything");

    // A password reset: the old password no longer works, sessions and tokens end.
    let session = signed_in_browser(&server, "op", PASSWORD).await;
    let (status, body) = call(
        &server,
        &admin,
        Method::PATCH,
        "/api/v0/users/op",
        Some(json!({"password": "tiny"})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["errors"]["password"][0]
        .as_str()
        .unwrap()
        .contains("at least 12 characters"));
    let (status, _) = call(
        &server,
        &admin,
        Method::PATCH,
        "/api/v0/users/op",
        Some(json!({"password": "another-long-password"})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        !session_works(&session, &server).await,
        "session ended by the reset"
    );
    let (status, _) = call(
        &server,
        &token,
        Method::GET,
        "/api/v0/staged/products",
        None,
    )
    .await;
    assert_eq!(status, 401, "token ended by the reset");
    assert!(!can_log_in(&server, "op", PASSWORD).await);
    assert!(can_log_in(&server, "op", "another-long-password").await);

    // Disable: sessions and tokens end, logins get the generic refusal; enable lets it back.
    let session = signed_in_browser(&server, "op", "another-long-password").await;
    let token = user_token(&server, "op", "another-long-password")
        .await
        .unwrap();
    let (status, body) = call(
        &server,
        &admin,
        Method::PATCH,
        "/api/v0/users/op",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["enabled"], false);
    assert!(
        !session_works(&session, &server).await,
        "session ended by the disable"
    );
    let (status, _) = call(
        &server,
        &token,
        Method::GET,
        "/api/v0/staged/products",
        None,
    )
    .await;
    assert_eq!(status, 401, "token ended by the disable");
    assert!(!can_log_in(&server, "op", "another-long-password").await);
    assert_eq!(
        user_token(&server, "op", "another-long-password").await,
        Err(401),
        "the password grant refuses a disabled user too"
    );
    let (status, _) = call(
        &server,
        &admin,
        Method::PATCH,
        "/api/v0/users/op",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(can_log_in(&server, "op", "another-long-password").await);

    // Delete: sessions end, the name is free again.
    let session = signed_in_browser(&server, "op", "another-long-password").await;
    let (status, _) = call(&server, &admin, Method::DELETE, "/api/v0/users/op", None).await;
    assert_eq!(status, 204);
    assert!(
        !session_works(&session, &server).await,
        "session ended by the delete"
    );
    assert!(!can_log_in(&server, "op", "another-long-password").await);
    let (_, users) = call(&server, &admin, Method::GET, "/api/v0/users", None).await;
    assert!(listed(&users, "op").is_none());
    for method in [Method::PATCH, Method::DELETE] {
        let (status, _) = call(
            &server,
            &admin,
            method,
            "/api/v0/users/op",
            Some(json!({"role": "admin"})),
        )
        .await;
        assert_eq!(status, 404);
    }
    // Nothing of this put a password in the log.
    let log = server.log();
    for secret in [PASSWORD, "another-long-password"] {
        assert!(!log.contains(secret), "a password in the log:\n{log}");
    }
}

#[tokio::test]
async fn the_last_enabled_administrator_stays_one() {
    let server = TestServer::start();
    let admin = admin_token(&server).await;
    let path = format!("/api/v0/users/{ADMIN_USER}");
    for (method, body, what) in [
        (
            Method::PATCH,
            Some(json!({"role": "full_control"})),
            "given another role",
        ),
        (Method::PATCH, Some(json!({"enabled": false})), "disabled"),
        (Method::DELETE, None, "deleted"),
    ] {
        let (status, body) = call(&server, &admin, method, &path, body).await;
        assert_eq!(status, 409, "{body}");
        let message = body["errors"]["base"][0].as_str().unwrap();
        assert!(message.contains("last enabled administrator"), "{message}");
        assert!(message.contains(what), "{message}");
    }
    // The refusal changed nothing: the admin still signs in and manages users.
    let admin = admin_token(&server).await;
    let (status, _) = call(&server, &admin, Method::GET, "/api/v0/users", None).await;
    assert_eq!(status, 200);
    // A disabled administrator does not count; a second enabled one does.
    call(
        &server,
        &admin,
        Method::POST,
        "/api/v0/users",
        Some(json!({"username": "second", "password": PASSWORD, "role": "admin"})),
    )
    .await;
    let (status, _) = call(
        &server,
        &admin,
        Method::PATCH,
        "/api/v0/users/second",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &server,
        &admin,
        Method::PATCH,
        &path,
        Some(json!({"role": "full_view"})),
    )
    .await;
    assert_eq!(status, 409, "the other administrator is disabled");
    call(
        &server,
        &admin,
        Method::PATCH,
        "/api/v0/users/second",
        Some(json!({"enabled": true})),
    )
    .await;
    let (status, body) = call(
        &server,
        &admin,
        Method::PATCH,
        &path,
        Some(json!({"role": "full_view"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The demotion ended the first admin's token; the second now is the last one.
    let (status, _) = call(&server, &admin, Method::GET, "/api/v0/users", None).await;
    assert_eq!(status, 401);
    let second = user_token(&server, "second", PASSWORD).await.unwrap();
    let (status, _) = call(
        &server,
        &second,
        Method::DELETE,
        "/api/v0/users/second",
        None,
    )
    .await;
    assert_eq!(status, 409);
    // The command line keeps the same rule.
    let refused = cli_refused(&server, &["user", "set-role", "second", "full_view"], "");
    assert!(refused.contains("last enabled administrator"), "{refused}");
}

#[tokio::test]
async fn every_other_role_is_refused_every_users_entry_point() {
    let server = TestServer::start();
    let admin = admin_token(&server).await;
    let endpoints: [(Method, &str, Option<Value>); 6] = [
        (Method::GET, "/api/v0/users", None),
        (
            Method::POST,
            "/api/v0/users",
            Some(json!({"username": "sneaky", "password": PASSWORD, "role": "admin"})),
        ),
        (
            Method::PATCH,
            "/api/v0/users/admin",
            Some(json!({"role": "restricted_view"})),
        ),
        (Method::DELETE, "/api/v0/users/admin", None),
        (Method::GET, "/api/v0/api_clients", None),
        (Method::DELETE, "/api/v0/api_clients/c-admin", None),
    ];
    client_token(&server, "c-admin", "admin").await;
    for role in [
        "full_control",
        "restricted_control",
        "full_view",
        "restricted_view",
        "read_only",
    ] {
        let client = client_token(&server, &format!("c-{role}"), role).await;
        let name = format!("u-{}", role.replace('_', "-"));
        let (status, _) = call(
            &server,
            &admin,
            Method::POST,
            "/api/v0/users",
            Some(json!({"username": name, "password": PASSWORD, "role": role})),
        )
        .await;
        assert_eq!(status, 201);
        let user = user_token(&server, &name, PASSWORD).await.unwrap();
        for token in [&client, &user] {
            for (method, path, body) in &endpoints {
                let (status, answer) =
                    call(&server, token, method.clone(), path, body.clone()).await;
                assert_eq!(status, 403, "{role} {method} {path}: {answer}");
                assert!(
                    answer.to_string().contains("may not manage users"),
                    "{answer}"
                );
            }
        }
        // The Users page and its calls, with the user's browser session.
        let session = signed_in_browser(&server, &name, PASSWORD).await;
        let page = session.get(server.at("/users")).send().await.unwrap();
        assert_eq!(page.status(), 403, "{role} /users");
        for function in ["users_page", "create_user", "set_user_role", "delete_user"] {
            let response = session
                .post(server.at(&format!("/_app/{function}")))
                .form(&[
                    ("username", "admin"),
                    ("password", PASSWORD),
                    ("role", "restricted_view"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{role} {function}");
        }
    }
    // Nothing changed: the admin is still the admin, every client still exists.
    let (_, users) = call(&server, &admin, Method::GET, "/api/v0/users", None).await;
    assert_eq!(listed(&users, ADMIN_USER).unwrap()["role"], "admin");
    assert!(listed(&users, "sneaky").is_none());
    let (_, clients) = call(&server, &admin, Method::GET, "/api/v0/api_clients", None).await;
    assert_eq!(
        clients["api_clients"].as_array().unwrap().len(),
        6,
        "{clients}"
    );
    // The administrator's page renders with its data.
    let session = signed_in_browser(&server, ADMIN_USER, ADMIN_PASSWORD).await;
    let page = session.get(server.at("/users")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for text in [
        "Create a user",
        "u-full-view",
        "c-restricted_control",
        "API clients",
    ] {
        assert!(html.contains(text), "{text} in the Users page");
    }
    assert!(!html.contains(PASSWORD));
}

#[tokio::test]
async fn users_change_their_own_password() {
    let server = TestServer::start();
    let admin = admin_token(&server).await;
    call(
        &server,
        &admin,
        Method::POST,
        "/api/v0/users",
        Some(json!({"username": "viewer", "password": PASSWORD, "role": "restricted_view"})),
    )
    .await;
    let token = user_token(&server, "viewer", PASSWORD).await.unwrap();
    let other_session = signed_in_browser(&server, "viewer", PASSWORD).await;
    for (body, field) in [
        (
            json!({"current_password": "wrong-password", "new_password": "a-new-long-password"}),
            "current_password",
        ),
        (
            json!({"current_password": PASSWORD, "new_password": "short"}),
            "new_password",
        ),
        (json!({"current_password": PASSWORD}), "new_password"),
        (
            json!({"current_password": PASSWORD, "new_password": PASSWORD}),
            "new_password",
        ),
    ] {
        let (status, answer) = call(
            &server,
            &token,
            Method::PUT,
            "/api/v0/me/password",
            Some(body),
        )
        .await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["errors"][field].is_array(), "{field}: {answer}");
    }
    assert!(
        session_works(&other_session, &server).await,
        "refusals end nothing"
    );
    let (status, answer) = call(
        &server,
        &token,
        Method::PUT,
        "/api/v0/me/password",
        Some(json!({"current_password": PASSWORD, "new_password": "a-new-long-password"})),
    )
    .await;
    assert_eq!(status, 204, "{answer}");
    let (status, _) = call(
        &server,
        &token,
        Method::GET,
        "/api/v0/staged/products",
        None,
    )
    .await;
    assert_eq!(status, 401, "the token used ended too");
    assert!(!session_works(&other_session, &server).await);
    assert!(!can_log_in(&server, "viewer", PASSWORD).await);
    assert!(can_log_in(&server, "viewer", "a-new-long-password").await);

    // The Account page's call, from a browser session.
    let session = signed_in_browser(&server, "viewer", "a-new-long-password").await;
    let page = session.get(server.at("/account")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Change password"));
    let response = session
        .post(server.at("/_app/change_own_password"))
        .form(&[
            ("current_password", "a-new-long-password"),
            ("new_password", "the-third-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert!(!session_works(&session, &server).await);
    assert!(can_log_in(&server, "viewer", "the-third-password").await);

    // An API client has no password of its own.
    let client = client_token(&server, "robot", "full_control").await;
    let (status, answer) = call(
        &server,
        &client,
        Method::PUT,
        "/api/v0/me/password",
        Some(json!({"current_password": "x", "new_password": "a-new-long-password"})),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
}

#[tokio::test]
async fn api_clients_are_listed_and_revoked_and_their_tokens_end() {
    let server = TestServer::start();
    let admin = admin_token(&server).await;
    let first = client_token(&server, "pipeline", "restricted_control").await;
    let second = client_token(&server, "scripts", "full_view").await;
    let (status, clients) = call(&server, &admin, Method::GET, "/api/v0/api_clients", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = clients["api_clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pipeline", "scripts"]);
    assert_eq!(clients["api_clients"][0]["role"], "restricted_control");
    assert!(!clients.to_string().contains("secret"), "{clients}");

    let (status, _) = call(
        &server,
        &admin,
        Method::DELETE,
        "/api/v0/api_clients/pipeline",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &server,
        &first,
        Method::GET,
        "/api/v0/staged/products",
        None,
    )
    .await;
    assert_eq!(status, 401, "a revoked client's token ends at once");
    let (status, _) = call(
        &server,
        &admin,
        Method::DELETE,
        "/api/v0/api_clients/pipeline",
        None,
    )
    .await;
    assert_eq!(status, 404);

    // The command line lists and revokes too.
    let list = cli_ok(&server, &["client", "list"], "");
    assert!(
        list.contains("scripts") && list.contains("full_view"),
        "{list}"
    );
    assert!(!list.contains("pipeline"), "{list}");
    let (status, _) = call(
        &server,
        &second,
        Method::GET,
        "/api/v0/staged/products",
        None,
    )
    .await;
    assert_eq!(status, 200);
    cli_ok(&server, &["client", "revoke", "scripts"], "");
    let (status, _) = call(
        &server,
        &second,
        Method::GET,
        "/api/v0/staged/products",
        None,
    )
    .await;
    assert_eq!(status, 401);
    let refused = cli_refused(&server, &["client", "revoke", "scripts"], "");
    assert!(refused.contains("not found"), "{refused}");
}

#[tokio::test]
async fn the_command_line_manages_users_with_passwords_on_standard_input() {
    let server = TestServer::start();
    // The password comes from standard input; too short is refused, naming the rule.
    let refused = cli_refused(
        &server,
        &["user", "create", "ops", "--role", "full_control"],
        "short\n",
    );
    assert!(refused.contains("at least 12 characters"), "{refused}");
    let refused = cli_refused(
        &server,
        &["user", "create", "ops", "--role", "full_control"],
        "",
    );
    assert!(refused.contains("standard input"), "{refused}");
    let out = cli_ok(
        &server,
        &["user", "create", "ops", "--role", "full_control"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        out.contains("Created user 'ops' with role 'full_control'"),
        "{out}"
    );
    assert!(!out.contains(PASSWORD));
    let list = cli_ok(&server, &["user", "list"], "");
    let line = list.lines().find(|l| l.starts_with("ops ")).unwrap();
    assert!(
        line.contains("full_control") && line.contains("enabled"),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("admin ") && l.contains(" admin ")),
        "{list}"
    );

    // A role change from the command line ends the running server's sessions and tokens.
    let session = signed_in_browser(&server, "ops", PASSWORD).await;
    let token = user_token(&server, "ops", PASSWORD).await.unwrap();
    cli_ok(&server, &["user", "set-role", "ops", "full_view"], "");
    assert!(!session_works(&session, &server).await);
    let (status, _) = call(
        &server,
        &token,
        Method::GET,
        "/api/v0/staged/products",
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert!(cli_ok(&server, &["user", "list"], "").contains("full_view"));

    // Disable, enable.
    let session = signed_in_browser(&server, "ops", PASSWORD).await;
    cli_ok(&server, &["user", "disable", "ops"], "");
    assert!(!session_works(&session, &server).await);
    assert!(!can_log_in(&server, "ops", PASSWORD).await);
    assert!(cli_ok(&server, &["user", "list"], "").contains("disabled"));
    cli_ok(&server, &["user", "enable", "ops"], "");
    assert!(can_log_in(&server, "ops", PASSWORD).await);

    // Reset the password (CRLF line endings are fine).
    let session = signed_in_browser(&server, "ops", PASSWORD).await;
    cli_ok(
        &server,
        &["user", "reset-password", "ops"],
        "the-reset-password\r\n",
    );
    assert!(!session_works(&session, &server).await);
    assert!(!can_log_in(&server, "ops", PASSWORD).await);
    assert!(can_log_in(&server, "ops", "the-reset-password").await);

    // Delete.
    let session = signed_in_browser(&server, "ops", "the-reset-password").await;
    cli_ok(&server, &["user", "delete", "ops"], "");
    assert!(!session_works(&session, &server).await);
    assert!(!cli_ok(&server, &["user", "list"], "").contains("ops "));
    let refused = cli_refused(&server, &["user", "delete", "ops"], "");
    assert!(refused.contains("not found"), "{refused}");
    let refused = cli_refused(&server, &["user", "delete", ADMIN_USER], "");
    assert!(refused.contains("last enabled administrator"), "{refused}");
}
