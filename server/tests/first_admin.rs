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
