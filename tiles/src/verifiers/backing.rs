//! The backing services a configuration points at — a MySQL database, an S3 bucket — and
//! Ops Manager's verifiers of them: `MysqlDatabaseVerifier` and `BlobstoreVerifier`, which
//! a tile names with its own properties ([`super::declared`]), and the Director's
//! `DirectorConfigurationVerifier`, which reads Director Config's external database and
//! blobstore ([`director_configuration`]).
//!
//! A setting's shape is checked here (a host, a port, a URL, both halves of a key pair);
//! whether the service takes the credentials comes back as a [`Reach`]: a MySQL sign-in to
//! the database, and an S3 object written and deleted in the bucket (a bucket that can be
//! listed but not written would fail the first backup or the first release upload).
//!
//! What a finding is attached to is the caller's: each check takes `at(parameter, message)`,
//! the parameter being the name used below (`host`, `bucket_name`…).

use serde_json::{Map, Value};

use super::iaas::{host_and_port, url_endpoint};
use super::{Finding, Reach, Target};

pub const DIRECTOR_CONFIGURATION: &str = "DirectorConfigurationVerifier";

/// The MySQL port when none is given.
pub const MYSQL_PORT: u16 = 3306;

/// A MySQL database's settings as given (blank ones `None`).
#[derive(Debug, Clone, Default)]
pub struct MysqlSettings {
    pub host: Option<String>,
    pub port: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub database: Option<String>,
}

/// An S3 bucket's settings as given (blank ones `None`).
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// A URL (`https://s3.example.com:9000`) or a bare host; AWS's regional endpoint when blank.
    pub endpoint: Option<String>,
    pub bucket_name: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `2` or `4`; Tileworks signs with version 4 either way (every S3 service it reaches
    /// speaks it), so this is only checked for its shape.
    pub signature_version: Option<String>,
    /// `path-style` or `domain-style`; when blank, path-style for an endpoint given,
    /// domain-style for AWS's.
    pub url_style: Option<String>,
}

type At<'a> = &'a dyn Fn(&str, String) -> Finding;

/// A MySQL database: the host is needed for anything to be checked (a blank host is an
/// optional feature left off, or completeness's to report); then a usable port, a user and a
/// database, and a sign-in with them.
pub fn mysql(settings: &MysqlSettings, at: At<'_>) -> (Vec<Finding>, Option<Reach>) {
    let mut found = Vec::new();
    let Some(host_text) = settings.host.as_deref() else {
        return (found, None);
    };
    let host = match host_and_port(host_text, MYSQL_PORT) {
        Ok((host, _))
            if host_text.contains(':') && host_text.parse::<std::net::Ipv6Addr>().is_err() =>
        {
            found.push(at(
                "host",
                format!("'{host_text}' names a port; give the port in its own field"),
            ));
            host
        }
        Ok((host, _)) => host,
        Err(_) if host_text.parse::<std::net::Ipv6Addr>().is_ok() => host_text.to_owned(),
        Err(e) => {
            found.push(at("host", e));
            return (found, None);
        }
    };
    let port = match settings.port.as_deref() {
        None => MYSQL_PORT,
        Some(p) => match p.parse::<u16>().ok().filter(|p| *p > 0) {
            Some(p) => p,
            None => {
                found.push(at("port", format!("'{p}' is not a port (1–65535)")));
                MYSQL_PORT
            }
        },
    };
    if settings.username.is_none() {
        found.push(at(
            "username",
            "can't be blank: the database is signed in to".into(),
        ));
    }
    if settings.database.is_none() {
        found.push(at("database", "can't be blank".into()));
    }
    if !found.is_empty() {
        return (found, None);
    }
    let reach = Reach {
        target: Target::Mysql {
            host: host.clone(),
            port,
            username: settings.username.clone().unwrap_or_default(),
            password: settings.password.clone().unwrap_or_default(),
            database: settings.database.clone().unwrap_or_default(),
        },
        at: at("host", format!("the MySQL server {host}:{port} failed")),
        credentials_at: Some(at(
            "username",
            "the MySQL server refused the user or its password".into(),
        )),
    };
    (found, Some(reach))
}

/// An S3 bucket: the bucket name is needed for anything to be checked; then a usable
/// endpoint, region, signature version and URL style, both halves of the key pair or neither
/// (neither: the VMs' instance profile signs, which Tileworks cannot borrow, so nothing is
/// reached), and an object written and deleted with them.
pub fn s3(settings: &S3Settings, at: At<'_>) -> (Vec<Finding>, Option<Reach>) {
    let mut found = Vec::new();
    let Some(bucket) = settings.bucket_name.as_deref() else {
        return (found, None);
    };
    // S3's bucket naming rules, loosely: what no S3-compatible service accepts is refused.
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._".contains(c))
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !bucket_ok {
        found.push(at(
            "bucket_name",
            format!(
                "'{bucket}' is not a bucket name (3–63 lower-case letters, digits, dots, \
                 hyphens; starting with a letter or digit)"
            ),
        ));
    }
    let region = settings
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".into());
    let endpoint = match settings.endpoint.as_deref() {
        None => None,
        Some(e) => {
            let url = if e.contains("://") {
                e.to_owned()
            } else {
                format!("https://{e}")
            };
            match url_endpoint(&url) {
                Ok(_) => Some(url.trim_end_matches('/').to_owned()),
                Err(why) => {
                    found.push(at("endpoint", why));
                    None
                }
            }
        }
    };
    if let Some(v) = settings.signature_version.as_deref() {
        if v != "2" && v != "4" {
            found.push(at("signature_version", format!("'{v}' is neither 2 nor 4")));
        }
    }
    // An endpoint of one's own (MinIO, Ceph, ECS…) is usually addressed path-style, AWS's
    // domain-style; `url_style` says otherwise when given.
    let path_style = match settings.url_style.as_deref() {
        None => endpoint.is_some(),
        Some("domain-style") => false,
        Some("path-style") => true,
        Some(other) => {
            found.push(at(
                "url_style",
                format!("'{other}' is neither domain-style nor path-style"),
            ));
            false
        }
    };
    let keys = match (&settings.access_key_id, &settings.secret_access_key) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        (None, None) => None,
        (Some(_), None) => {
            found.push(at(
                "secret_access_key",
                "can't be blank when an access key ID is given".into(),
            ));
            None
        }
        (None, Some(_)) => {
            found.push(at(
                "access_key_id",
                "can't be blank when a secret access key is given".into(),
            ));
            None
        }
    };
    if !found.is_empty() {
        return (found, None);
    }
    let Some((access_key_id, secret_access_key)) = keys else {
        return (found, None);
    };
    let shown = endpoint
        .clone()
        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    let reach = Reach {
        target: Target::S3Write {
            endpoint,
            region,
            bucket: bucket.to_owned(),
            access_key_id,
            secret_access_key,
            path_style,
        },
        at: at(
            "bucket_name",
            format!("writing to the bucket {bucket} at {shown} failed"),
        ),
        credentials_at: Some(at(
            "access_key_id",
            format!("the S3 service at {shown} refused the key"),
        )),
    };
    (found, Some(reach))
}

/// Director Config's external database (`database_type: external`,
/// `external_database_options`) and blobstore (`blobstore_type: s3` with
/// `s3_blobstore_options`, `gcs` with `gcs_blobstore_options`; `local` has nothing to
/// check). Unknown types are findings; the internal database and the local blobstore pass.
/// `reach` false (the embedded IaaS) checks the shapes only.
pub fn director_configuration(
    config: &Map<String, Value>,
    reach: bool,
) -> (Vec<Finding>, Vec<Reach>) {
    let mut found = Vec::new();
    let mut reaches = Vec::new();
    let finding = |reference: &str, label: &str, message: String| Finding {
        verifier: DIRECTOR_CONFIGURATION.to_owned(),
        form: "director_configuration".to_owned(),
        form_label: "BOSH Director › Director Config".to_owned(),
        reference: format!("director_configuration.{reference}"),
        field_label: label.to_owned(),
        message,
        product: None,
    };
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let section = |name: &str| config.get(name).and_then(Value::as_object);

    match text(config.get("database_type")).as_deref() {
        None | Some("internal") => {}
        Some("external") => {
            let options = section("external_database_options");
            let field = |key: &str| text(options.and_then(|o| o.get(key)));
            let settings = MysqlSettings {
                host: field("host"),
                port: field("port"),
                username: field("user").or_else(|| field("username")),
                password: field("password"),
                database: field("database"),
            };
            let at = |param: &str, message: String| {
                let (key, label) = match param {
                    "host" => ("host", "Host"),
                    "port" => ("port", "Port"),
                    "username" => ("user", "Username"),
                    "password" => ("password", "Password"),
                    _ => ("database", "Database name"),
                };
                finding(
                    &format!("external_database_options.{key}"),
                    &format!("External database › {label}"),
                    message,
                )
            };
            if settings.host.is_none() {
                found.push(at("host", "can't be blank for an external database".into()));
            }
            let (f, r) = mysql(&settings, &at);
            found.extend(f);
            reaches.extend(r);
        }
        Some(other) => found.push(finding(
            "database_type",
            "Database location",
            format!("'{other}' is neither internal nor external"),
        )),
    }

    match text(config.get("blobstore_type")).as_deref() {
        None | Some("local") => {}
        Some("s3") => {
            let options = section("s3_blobstore_options");
            let field = |key: &str| text(options.and_then(|o| o.get(key)));
            let from_profile = field("credentials_source").as_deref() == Some("env_or_profile");
            let settings = S3Settings {
                endpoint: field("endpoint"),
                bucket_name: field("bucket_name"),
                region: field("region"),
                access_key_id: field("access_key").filter(|_| !from_profile),
                secret_access_key: field("secret_key").filter(|_| !from_profile),
                signature_version: field("signature_version"),
                url_style: field("url_style"),
            };
            let at = |param: &str, message: String| {
                let (key, label) = match param {
                    "endpoint" => ("endpoint", "S3 endpoint"),
                    "bucket_name" => ("bucket_name", "Bucket name"),
                    "access_key_id" => ("access_key", "Access key ID"),
                    "secret_access_key" => ("secret_key", "Secret access key"),
                    "signature_version" => ("signature_version", "S3 signature version"),
                    "url_style" => ("url_style", "URL style"),
                    _ => ("region", "Region"),
                };
                finding(
                    &format!("s3_blobstore_options.{key}"),
                    &format!("S3 blobstore › {label}"),
                    message,
                )
            };
            if settings.bucket_name.is_none() {
                found.push(at(
                    "bucket_name",
                    "can't be blank for an S3 blobstore".into(),
                ));
            }
            if !from_profile
                && settings.access_key_id.is_none()
                && settings.secret_access_key.is_none()
            {
                found.push(at(
                    "access_key_id",
                    "can't be blank unless the credentials come from the VM's instance profile (credentials_source: env_or_profile)".into(),
                ));
            }
            let (f, r) = s3(&settings, &at);
            found.extend(f);
            reaches.extend(r);
        }
        Some("gcs") => {
            let options = section("gcs_blobstore_options");
            let field = |key: &str| text(options.and_then(|o| o.get(key)));
            let at = |key: &str, label: &str, message: String| {
                finding(
                    &format!("gcs_blobstore_options.{key}"),
                    &format!("GCS blobstore › {label}"),
                    message,
                )
            };
            if field("bucket_name").is_none() {
                found.push(at(
                    "bucket_name",
                    "Bucket name",
                    "can't be blank for a GCS blobstore".into(),
                ));
            }
            match field("service_account_key") {
                None => found.push(at(
                    "service_account_key",
                    "Service account key",
                    "can't be blank for a GCS blobstore".into(),
                )),
                Some(key) => {
                    let parsed: Option<Value> = serde_json::from_str(&key).ok();
                    let is_account = parsed.as_ref().is_some_and(|k| {
                        k.get("type").and_then(Value::as_str) == Some("service_account")
                            && k.get("private_key").and_then(Value::as_str).is_some()
                            && k.get("client_email").and_then(Value::as_str).is_some()
                    });
                    if !is_account {
                        found.push(at(
                            "service_account_key",
                            "Service account key",
                            "is not a service account's JSON key (type service_account, with client_email and private_key)".into(),
                        ));
                    }
                }
            }
        }
        Some(other) => found.push(finding(
            "blobstore_type",
            "Blobstore location",
            format!("'{other}' is not local, s3 or gcs"),
        )),
    }
    if !reach {
        reaches.clear();
    }
    (found, reaches)
}
