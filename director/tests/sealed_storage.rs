//! What the stand-in stores when it is given its secrets (as Tileworks runs it): the client
//! secret and the config server's sealing key come from its configuration, so no secret file
//! is written; a manifest is stored as sent, with its `((placeholders))`; the values set
//! through `PUT /config_server/variables` and the generated ones are sealed, so no file of the
//! data dir (database, `-wal`, `-shm`, task outputs) holds them; its TLS CA's key is sealed
//! and its server key never written; and a restart with the same key reads them back, while
//! another key cannot.

mod common;

use common::*;
use reqwest::{Method, StatusCode};

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn holders(dir: &std::path::Path, needle: &str) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|f| {
            std::fs::read(f)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
        })
        .map(|f| f.display().to_string())
        .collect()
}

#[tokio::test]
async fn given_secrets_leave_no_plaintext_in_the_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("director");
    let key = director::SealingKey([42u8; 32]);
    let client_secret = "given-client-secret-0123456789";
    let given = |c: &mut director::DirectorConfig| {
        c.sealing_key = Some(key.clone());
        c.client_secret = Some(client_secret.into());
    };
    let t = TestDirector::start_in(&dir, given).await;
    t.prepare_director().await;

    // A value set as Tileworks sets a credential, referenced by an absolute placeholder.
    let secret = "set-secret-value-9f8e7d6c5b4a";
    let r = t
        .send(
            Method::PUT,
            "/api/v1/data",
            "application/json",
            format!(r#"{{"name": "/tileworks/p-guid/pw", "type": "value", "value": "{secret}"}}"#),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    t.deploy(&manifest("sealed", 2, "((/tileworks/p-guid/pw))"))
        .await;
    let stored = t.get_json("/deployments/sealed").await["manifest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(stored.contains("((/tileworks/p-guid/pw))"), "{stored}");
    assert!(!stored.contains(secret));
    // The generated password, as the config server holds it.
    let variables = t.get_json("/deployments/sealed/variables").await;
    assert!(
        variables.to_string().contains("admin_password"),
        "{variables}"
    );
    t.stop().await;

    assert!(!dir.join("config-server.key").exists());
    assert!(!dir.join("client-secret").exists());
    // Its TLS keys: the CA's sealed, the server's (made at each start) never written.
    assert!(dir.join("tls").join(director::tls::SEALED_CA_KEY).exists());
    assert!(!dir.join("tls").join("ca.key").exists());
    assert!(!dir.join("tls").join("server.key").exists());
    for file in files(&dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(
            !text.contains("PRIVATE KEY"),
            "{} holds a private key",
            file.display()
        );
    }
    for needle in [secret, client_secret] {
        assert_eq!(holders(&dir, needle), Vec::<String>::new(), "{needle}");
    }
    assert!(
        files(&dir)
            .iter()
            .any(|f| f.to_string_lossy().ends_with("director.db")),
        "the search covered the database"
    );

    // The same key reads the values back (a redeploy interpolates them); another key cannot.
    let t = TestDirector::start_in(&dir, given).await;
    t.deploy(&manifest("sealed", 2, "((/tileworks/p-guid/pw))"))
        .await;
    t.stop().await;
    let other = |c: &mut director::DirectorConfig| {
        c.sealing_key = Some(director::SealingKey([7u8; 32]));
        c.client_secret = Some(client_secret.into());
    };
    // Another key does not open the TLS CA's key: the stand-in does not start, and says why.
    let mut config = director::DirectorConfig::new(&dir);
    other(&mut config);
    let Err(refused) = director::start(config).await else {
        panic!("started with another key")
    };
    assert!(
        refused
            .to_string()
            .contains("ca.key.sealed cannot be opened"),
        "{refused}"
    );
    // Without that TLS identity (a new CA is made), the values still cannot be unsealed.
    std::fs::remove_dir_all(dir.join("tls")).unwrap();
    let t = TestDirector::start_in(&dir, other).await;
    let (_, task) = t
        .run_task(
            t.post_yaml(
                "/deployments",
                &manifest("sealed", 2, "((/tileworks/p-guid/pw))"),
            )
            .await,
        )
        .await;
    assert_eq!(task["state"], "error", "{task}");
    assert!(
        task["result"]
            .as_str()
            .unwrap()
            .contains("cannot be unsealed"),
        "{task}"
    );
    t.stop().await;
}
