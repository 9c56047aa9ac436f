//! The first start creates the first administrator; later starts never change users.

mod common;

use common::*;

#[tokio::test]
async fn a_generated_password_is_printed_once_and_written_with_mode_0600() {
    let mut server = TestServer::start_with(&[], None);
    let file = server.data_dir.path().join("initial-admin-password");
    let password = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert!(password.len() >= 20);
    assert!(server.stdout.contains(&password), "printed on the console");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let client = browser();
    assert_eq!(
        location(&log_in(&client, &server, "admin", &password).await),
        "/"
    );

    // A restart (which sets TILEWORKS_ADMIN_PASSWORD to something else) changes nothing.
    server.restart();
    assert!(!server.stdout.contains("Created the first administrator"));
    let fresh = browser();
    assert_eq!(
        location(&log_in(&fresh, &server, "admin", &password).await),
        "/"
    );
    let other = browser();
    let refused = log_in(&other, &server, "admin", "a-different-password").await;
    assert_eq!(location(&refused), "/login?error=invalid");
    assert!(file.exists(), "kept while its password still signs in");

    // Once the administrator has chosen a password, the next start removes the file.
    let token = {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(server.at("/uaa/oauth/token"))
            .basic_auth("opsman", Some(""))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "opsman"),
                ("username", "admin"),
                ("password", password.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"].as_str().unwrap().to_owned()
    };
    let changed = reqwest::Client::new()
        .put(server.at("/api/v0/me/password"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "current_password": password,
            "new_password": "the-administrator-chose-this",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    server.restart();
    assert!(
        !file.exists(),
        "removed once its password no longer signs in"
    );
    assert!(server.stdout.contains("Removed"), "{}", server.stdout);
    let signed_in = browser();
    assert_eq!(
        location(&log_in(&signed_in, &server, "admin", "the-administrator-chose-this").await),
        "/"
    );
}

#[tokio::test]
async fn the_configured_password_is_used_and_never_printed() {
    let server = TestServer::start();
    assert!(!server.stdout.contains(ADMIN_PASSWORD));
    assert!(!server
        .data_dir
        .path()
        .join("initial-admin-password")
        .exists());
}
