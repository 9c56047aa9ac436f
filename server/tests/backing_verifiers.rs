//! The verifiers of the backing services a configuration points at, through the real server
//! against real services the test starts on loopback: Debian's MariaDB (a MySQL server) and
//! moto (an S3 server).
//!
//! A tile's `Verifiers::MysqlDatabaseVerifier` signs its user in to its database, and its
//! `Verifiers::BlobstoreVerifier` writes an object to its bucket (and deletes it): each passes
//! against a service that takes them and fails, naming the form and field, against a wrong
//! password, a missing database or bucket, or a port nothing listens on. The Director's
//! `DirectorConfigurationVerifier` does the same for Director Config's external database and
//! S3 blobstore when a real Director deploys, checks only their shapes on the embedded IaaS,
//! and the secrets in those sections are sealed, shown as `***` and kept when sent back so.

mod common;
mod support;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use support::external_director::ExternalDirector;
use support::mariadb::MariaDb;
use support::s3::S3Server;
use support::*;

const DB_USER: &str = "uaa";
const DB_PASSWORD: &str = "db-Secret-0461";
const S3_SECRET: &str = "s3-Secret-0462";

/// A MariaDB with the database `uaa` that the user `uaa` may use, `other` that it may not,
/// and rights on `missing`, which does not exist (so the server may say so: to a user without
/// rights on it, a missing database is only "access denied").
fn database() -> MariaDb {
    let db = MariaDb::start();
    db.sql(&format!(
        "CREATE DATABASE uaa; CREATE USER '{DB_USER}'@'%' IDENTIFIED BY '{DB_PASSWORD}'; \
         GRANT ALL ON uaa.* TO '{DB_USER}'@'%'; GRANT ALL ON missing.* TO '{DB_USER}'@'%'; \
         CREATE DATABASE other;"
    ));
    db
}

/// A job-less tile naming both verifiers with its own properties, as Push Notifications and
/// MySQL for PCF name them.
fn tile() -> Vec<u8> {
    let metadata = r#"name: backed
product_version: 1.0.0
metadata_version: '2.1'
label: Backed
rank: 1
stemcell_criteria: {os: ubuntu-xenial, version: '97.17'}
releases: []
install_time_verifiers:
- name: Verifiers::MysqlDatabaseVerifier
  properties:
    host: .properties.db_host
    port: .properties.db_port
    username: .properties.db_username
    password: .properties.db_password
    database: .properties.db_name
- name: Verifiers::BlobstoreVerifier
  properties:
    access_key_id: .properties.s3_access_key_id
    secret_access_key: .properties.s3_secret_access_key
    endpoint: .properties.s3_endpoint
    bucket_name: .properties.s3_bucket
    region: .properties.s3_region
property_blueprints:
- {name: db_host, type: string, configurable: true, optional: true}
- {name: db_port, type: port, configurable: true, default: 3306}
- {name: db_username, type: string, configurable: true, optional: true}
- {name: db_password, type: secret, configurable: true, optional: true}
- {name: db_name, type: string, configurable: true, optional: true}
- {name: s3_endpoint, type: string, configurable: true, optional: true}
- {name: s3_bucket, type: string, configurable: true, optional: true}
- {name: s3_region, type: string, configurable: true, optional: true}
- {name: s3_access_key_id, type: string, configurable: true, optional: true}
- {name: s3_secret_access_key, type: secret, configurable: true, optional: true}
form_types:
- name: backing
  label: Backing services
  property_inputs:
  - {reference: .properties.db_host, label: Database host}
  - {reference: .properties.db_port, label: Database port}
  - {reference: .properties.db_username, label: Database username}
  - {reference: .properties.db_password, label: Database password}
  - {reference: .properties.db_name, label: Database name}
  - {reference: .properties.s3_endpoint, label: S3 endpoint}
  - {reference: .properties.s3_bucket, label: Bucket name}
  - {reference: .properties.s3_region, label: Region}
  - {reference: .properties.s3_access_key_id, label: Access key ID}
  - {reference: .properties.s3_secret_access_key, label: Secret access key}
job_types: []
post_deploy_errands: []
"#;
    pivotal(&[("metadata/backed.yml", metadata.as_bytes(), true)])
}

/// A pre-deploy check's verifiers (`type`, `ignorable`, `errors`) and the whole answer.
async fn check(api: &Api<'_>, path: &str) -> (Vec<(String, bool, Vec<String>)>, String) {
    let check = api.get(path).await.expect(200);
    (verifier_errors(&check), check.to_string())
}

/// The errors of `kind`, asserting no secret is in the answer.
async fn errors_of(api: &Api<'_>, path: &str, kind: &str) -> Vec<String> {
    let (found, whole) = check(api, path).await;
    for secret in [DB_PASSWORD, S3_SECRET] {
        assert!(!whole.contains(secret), "a secret in {path}: {whole}");
    }
    found
        .into_iter()
        .filter(|(k, _, _)| k == kind)
        .flat_map(|(_, _, e)| e)
        .collect()
}

#[tokio::test]
async fn a_tiles_database_and_blobstore_verifiers_sign_in_and_write() {
    let db = database();
    let s3 = S3Server::start();
    let bucket = s3.bucket("backups").await;
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let r = api.upload("backed-1.0.0.pivotal", tile()).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let guid = api.stage("backed", "1.0.0").await;
    let path = format!("/api/v0/staged/products/{guid}/pre_deploy_check");
    let set = |properties: Value| {
        let api = &api;
        let guid = guid.clone();
        async move { api.set_properties(&guid, properties).await.expect(200) }
    };

    let kinds = api.verifier_types(&guid).await;
    assert_eq!(kinds, ["MysqlDatabaseVerifier", "BlobstoreVerifier"]);

    // Nothing given: nothing to check.
    assert_eq!(check(&api, &path).await.0, vec![]);

    // The database and the bucket take what is given.
    set(json!({
        ".properties.db_host": {"value": "127.0.0.1"},
        ".properties.db_port": {"value": db.port},
        ".properties.db_username": {"value": DB_USER},
        ".properties.db_password": {"value": {"secret": DB_PASSWORD}},
        ".properties.db_name": {"value": "uaa"},
        ".properties.s3_endpoint": {"value": s3.endpoint},
        ".properties.s3_bucket": {"value": bucket},
        ".properties.s3_region": {"value": "us-east-1"},
        ".properties.s3_access_key_id": {"value": "backup-key"},
        ".properties.s3_secret_access_key": {"value": {"secret": S3_SECRET}},
    }))
    .await;
    assert_eq!(check(&api, &path).await.0, vec![]);
    // The object written to check the bucket is gone again.
    assert_eq!(s3.keys(&bucket).await, Vec::<String>::new());

    // A wrong password: named at the user's field, with the server's refusal.
    set(json!({".properties.db_password": {"value": {"secret": "wrong-password"}}})).await;
    let errors = errors_of(&api, &path, "MysqlDatabaseVerifier").await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "Backing services › Database username (.properties.db_username): the MySQL server \
             refused the user or its password: "
        ) && errors[0].contains("Access denied"),
        "{errors:?}"
    );
    assert!(!errors[0].contains("wrong-password"), "{errors:?}");

    // A database the server does not have, and one the user may not use.
    set(json!({
        ".properties.db_password": {"value": {"secret": DB_PASSWORD}},
        ".properties.db_name": {"value": "missing"},
    }))
    .await;
    let errors = errors_of(&api, &path, "MysqlDatabaseVerifier").await;
    assert!(
        errors.len() == 1
            && errors[0].starts_with(
                "Backing services › Database host (.properties.db_host): the MySQL server \
                 127.0.0.1:"
            )
            && errors[0].ends_with("has no database 'missing'"),
        "{errors:?}"
    );
    set(json!({".properties.db_name": {"value": "other"}})).await;
    let errors = errors_of(&api, &path, "MysqlDatabaseVerifier").await;
    assert!(
        errors.len() == 1
            && errors[0].starts_with("Backing services › Database username")
            && errors[0].contains("to database 'other'"),
        "{errors:?}"
    );

    // A port nothing listens on; a port that is not one.
    set(json!({
        ".properties.db_name": {"value": "uaa"},
        ".properties.db_port": {"value": free_port()},
    }))
    .await;
    let errors = errors_of(&api, &path, "MysqlDatabaseVerifier").await;
    assert!(
        errors.len() == 1
            && errors[0].starts_with(
                "Backing services › Database host (.properties.db_host): the MySQL server \
                 127.0.0.1:"
            )
            && errors[0].contains("cannot connect"),
        "{errors:?}"
    );
    set(json!({".properties.db_port": {"value": db.port}})).await;
    assert_eq!(
        errors_of(&api, &path, "MysqlDatabaseVerifier").await,
        Vec::<String>::new()
    );

    // A bucket that does not exist; a key ID without its secret.
    set(json!({".properties.s3_bucket": {"value": "no-such-bucket"}})).await;
    let errors = errors_of(&api, &path, "BlobstoreVerifier").await;
    assert!(
        errors.len() == 1
            && errors[0].starts_with(
                "Backing services › Bucket name (.properties.s3_bucket): writing to the bucket \
                 no-such-bucket at http://127.0.0.1:"
            ),
        "{errors:?}"
    );
    set(json!({
        ".properties.s3_bucket": {"value": "Not_A_Bucket"},
        ".properties.s3_secret_access_key": {"value": {"secret": ""}},
    }))
    .await;
    let errors = errors_of(&api, &path, "BlobstoreVerifier").await;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("'Not_A_Bucket' is not a bucket name"))
            && errors.iter().any(|e| e.starts_with(
                "Backing services › Secret access key (.properties.s3_secret_access_key): \
                 can't be blank when an access key ID is given"
            )),
        "{errors:?}"
    );

    // A blocking finding refuses Apply Changes; om disable-product-verifiers lets it through.
    let refused = api
        .post(
            "/api/v0/installations",
            json!({"deploy_products": "all", "ignore_warnings": true}),
        )
        .await
        .expect(422);
    assert!(
        refused["errors"][guid.as_str()]
            .to_string()
            .contains("Bucket name"),
        "{refused:#}"
    );
    api.put(
        &format!(
            "/api/v0/staged/products/{guid}/verifiers/install_time/Verifiers::BlobstoreVerifier"
        ),
        json!({"enabled": false}),
    )
    .await
    .expect(200);
    assert_eq!(
        errors_of(&api, &path, "BlobstoreVerifier").await,
        Vec::<String>::new()
    );
}

/// Director Config with an external database and an S3 blobstore.
fn external(db_port: u16, password: &str, endpoint: &str, bucket: &str) -> Value {
    json!({"director_configuration": {
        "ntp_servers_string": "0.pool.ntp.org",
        "database_type": "external",
        "external_database_options": {
            "host": "127.0.0.1", "port": db_port, "user": DB_USER,
            "password": password, "database": "uaa"
        },
        "blobstore_type": "s3",
        "s3_blobstore_options": {
            "endpoint": endpoint, "bucket_name": bucket, "access_key": "director-key",
            "secret_key": S3_SECRET, "signature_version": "4", "region": "us-east-1",
            "url_style": "path-style"
        }
    }})
}

#[tokio::test]
async fn the_directors_external_database_and_blobstore_are_checked_and_their_secrets_sealed() {
    let db = database();
    let s3 = S3Server::start();
    let bucket = s3.bucket("bosh-blobs").await;
    // A real Director (the stand-in run on its own, naming a real CPI): what Director Config
    // points at is reached.
    let director = ExternalDirector::start_with_cpi(0, Some("vsphere_cpi"));
    let server = TestServer::start_with(&director.serve_args(&[]), Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    // om's vCenter does not resolve here: that verifier is not this test's.
    api.put(
        "/api/v0/staged/director/verifiers/install_time/IaasConfigurationVerifier",
        json!({"enabled": false}),
    )
    .await
    .expect(200);
    let path = "/api/v0/staged/director/pre_deploy_check";
    let kind = "DirectorConfigurationVerifier";
    let listed = api
        .get("/api/v0/staged/director/verifiers/install_time")
        .await
        .expect(200);
    assert!(listed.to_string().contains(kind), "{listed:#}");

    // The internal database and local blobstore (om's defaults) have nothing to check.
    assert_eq!(errors_of(&api, path, kind).await, Vec::<String>::new());

    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(external(db.port, DB_PASSWORD, &s3.endpoint, &bucket)),
    )
    .await;
    assert_eq!(errors_of(&api, path, kind).await, Vec::<String>::new());

    // The secrets: `***` in what om reads, kept when om sends `***` back, never in the
    // database file in plaintext.
    let properties = api
        .get("/api/v0/staged/director/properties")
        .await
        .expect(200);
    let options = &properties["director_configuration"];
    assert_eq!(options["external_database_options"]["password"], "***");
    assert_eq!(options["s3_blobstore_options"]["secret_key"], "***");
    assert_eq!(
        options["s3_blobstore_options"]["access_key"],
        "director-key"
    );
    let mut sent_back = external(db.port, "***", &s3.endpoint, &bucket);
    sent_back["director_configuration"]["s3_blobstore_options"]["secret_key"] = json!("***");
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(sent_back),
    )
    .await;
    assert_eq!(errors_of(&api, path, kind).await, Vec::<String>::new());
    if server.database_url.is_none() {
        for name in ["tileworks.db", "tileworks.db-wal"] {
            let file = std::fs::read(server.data_dir.path().join(name)).unwrap_or_default();
            for secret in [DB_PASSWORD, S3_SECRET] {
                assert!(
                    memchr::memmem::find(&file, secret.as_bytes()).is_none(),
                    "{secret} in plaintext in {name}"
                );
            }
        }
    }

    // A wrong password; a bucket that does not exist.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(external(
            db.port,
            "wrong-password",
            &s3.endpoint,
            "no-such-bucket",
        )),
    )
    .await;
    let errors = errors_of(&api, path, kind).await;
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "BOSH Director › Director Config › External database › Username \
             (director_configuration.external_database_options.user): the MySQL server refused"
        ),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with(
            "BOSH Director › Director Config › S3 blobstore › Bucket name \
             (director_configuration.s3_blobstore_options.bucket_name): writing to the bucket \
             no-such-bucket"
        ),
        "{errors:?}"
    );
    // Not ignorable: a Director without its database or blobstore does not start.
    let refused = api
        .post(
            "/api/v0/installations",
            json!({"deploy_products": "all", "ignore_warnings": true}),
        )
        .await
        .expect(422);
    assert!(
        refused.to_string().contains("External database"),
        "{refused:#}"
    );

    // Shapes: an unknown type, blanks that an external database cannot have.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(json!({"director_configuration": {
            "database_type": "external", "external_database_options": {"host": ""},
            "blobstore_type": "nfs",
        }})),
    )
    .await;
    let errors = errors_of(&api, path, kind).await;
    assert!(
        errors.iter().any(|e| e.contains(
            "External database › Host (director_configuration.external_database_options.host): \
             can't be blank for an external database"
        )) && errors
            .iter()
            .any(|e| e.contains("'nfs' is not local, s3 or gcs")),
        "{errors:?}"
    );

    // om disable-director-verifiers --type DirectorConfigurationVerifier.
    api.put(
        "/api/v0/staged/director/verifiers/install_time/DirectorConfigurationVerifier",
        json!({"enabled": false}),
    )
    .await
    .expect(200);
    assert_eq!(errors_of(&api, path, kind).await, Vec::<String>::new());
}

#[tokio::test]
async fn on_the_embedded_iaas_only_the_shapes_are_checked() {
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    configure_director(&api).await;
    let path = "/api/v0/staged/director/pre_deploy_check";
    let kind = "DirectorConfigurationVerifier";
    // Nothing listens there, but the stand-in keeps its own database: nothing is reached.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(external(
            free_port(),
            DB_PASSWORD,
            "http://127.0.0.1:1",
            "bosh-blobs",
        )),
    )
    .await;
    assert_eq!(errors_of(&api, path, kind).await, Vec::<String>::new());
    // A shape is still a finding.
    api.ok(
        Method::PUT,
        "/api/v0/staged/director/properties",
        Some(
            json!({"director_configuration": {"external_database_options": {
                "host": "127.0.0.1", "port": "not-a-port", "user": DB_USER, "database": "uaa"
            }}}),
        ),
    )
    .await;
    let errors = errors_of(&api, path, kind).await;
    assert!(
        errors.len() == 1 && errors[0].contains("'not-a-port' is not a port"),
        "{errors:?}"
    );
}

/// A tile whose Database form names a MySQL verifier of its own, as PAS's UAA and Databases
/// forms do (the password comes from another form).
fn form_verifier_tile() -> Vec<u8> {
    let metadata = r#"name: formed
product_version: 1.0.0
metadata_version: '2.1'
label: Formed
rank: 1
stemcell_criteria: {os: ubuntu-xenial, version: '97.17'}
releases: []
property_blueprints:
- {name: db_host, type: string, configurable: true, optional: true}
- {name: db_port, type: port, configurable: true, default: 3306}
- {name: db_username, type: string, configurable: true, optional: true}
- {name: db_name, type: string, configurable: true, optional: true}
- {name: db_password, type: secret, configurable: true, optional: true}
form_types:
- name: database
  label: Database
  property_inputs:
  - {reference: .properties.db_host, label: Database host}
  - {reference: .properties.db_port, label: Database port}
  - {reference: .properties.db_username, label: Database username}
  - {reference: .properties.db_name, label: Database name}
  verifiers:
  - name: Verifiers::MysqlDatabaseVerifier
    properties:
      host: .properties.db_host
      port: .properties.db_port
      username: .properties.db_username
      password: .properties.db_password
      database: .properties.db_name
- name: credentials
  label: Credentials
  property_inputs:
  - {reference: .properties.db_password, label: Database password}
job_types: []
post_deploy_errands: []
"#;
    pivotal(&[("metadata/formed.yml", metadata.as_bytes(), true)])
}

#[tokio::test]
async fn a_forms_own_verifier_runs_when_the_form_is_saved() {
    let db = database();
    let server = TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    let api = Api::login(&server).await;
    let r = api
        .upload("formed-1.0.0.pivotal", form_verifier_tile())
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let guid = api.stage("formed", "1.0.0").await;
    api.set_properties(
        &guid,
        json!({".properties.db_password": {"value": {"secret": DB_PASSWORD}}}),
    )
    .await
    .expect(200);
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let path = format!("/products/{guid}/settings?form=database");
    let properties = format!("/api/v0/staged/products/{guid}/properties");
    let port = db.port.to_string();
    let save = |name: &'static str, version: i64| {
        let port = port.clone();
        let browser = &browser;
        let server = &server;
        let path = path.clone();
        async move {
            post_form(
                browser,
                server,
                &path,
                &[
                    ("_form", "database"),
                    ("_config_version", &version.to_string()),
                    ("_loaded", "{}"),
                    (".properties.db_host", "127.0.0.1"),
                    (".properties.db_port", &port),
                    (".properties.db_username", DB_USER),
                    (".properties.db_name", name),
                ],
            )
            .await
        }
    };

    // Saving a database the server does not have is refused, naming the field; nothing saved.
    let before = api.version_of(&properties).await;
    let r = save("missing", before).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("has no database 'missing'")
            || body.contains(&escaped("has no database 'missing'")),
        "the refusal names the database: {body}"
    );
    assert!(!body.contains(DB_PASSWORD));
    assert_eq!(api.version_of(&properties).await, before, "nothing saved");

    // One it has is saved.
    let r = save("uaa", before).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let after = api.version_of(&properties).await;
    assert_ne!(after, before);

    // The API's property writes run no form verifier, as in Ops Manager.
    api.set_properties(&guid, json!({".properties.db_name": {"value": "missing"}}))
        .await
        .expect(200);
}

#[tokio::test]
async fn director_config_secrets_stored_in_plaintext_before_are_sealed_at_start() {
    let mut server =
        TestServer::start_with(&["--director-vm-create-ms", "0"], Some(ADMIN_PASSWORD));
    {
        let api = Api::login(&server).await;
        configure_director(&api).await;
    }
    let before = {
        let api = Api::login(&server).await;
        api.version_of("/api/v0/staged/director/properties").await
    };
    // What a Tileworks before the sealing of Director Config's sections left in the database.
    let pool = server.database().await;
    let config: String = sqlx::query_scalar("SELECT config FROM director_config WHERE id = 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut config: Value = serde_json::from_str(&config).unwrap();
    config["director_configuration"]["external_database_options"] = json!({
        "host": "db.example.com", "user": DB_USER, "password": DB_PASSWORD, "database": "bosh"
    });
    sqlx::query("UPDATE director_config SET config = $1 WHERE id = 1")
        .bind(config.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    server.restart();
    let api = Api::login(&server).await;
    let pool = server.database().await;
    let config: String = sqlx::query_scalar("SELECT config FROM director_config WHERE id = 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        !config.contains(DB_PASSWORD),
        "still in plaintext: {config}"
    );
    // Sealed, not lost; shown as `***`; nothing an operator set changed.
    let shown = api
        .get("/api/v0/staged/director/properties")
        .await
        .expect(200);
    let options = &shown["director_configuration"]["external_database_options"];
    assert_eq!(options["password"], "***");
    assert_eq!(options["host"], "db.example.com");
    let open = api
        .get("/api/v0/staged/director/properties?redact=false")
        .await
        .expect(200);
    assert_eq!(
        open["director_configuration"]["external_database_options"]["password"],
        DB_PASSWORD
    );
    assert_eq!(
        api.version_of("/api/v0/staged/director/properties").await,
        before
    );
}
