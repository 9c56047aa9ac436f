//! The Director an installation deploys to: the embedded stand-in (started in-process by
//! `tileworks serve` unless `--director-url` is given) or a real one. Either way Tileworks holds
//! only a [`DirectorClient`] and the connection facts, which it also hands to operators as the
//! `bosh` command-line credentials. The stand-in's client secret and its config server's
//! sealing key are Tileworks's: kept sealed under the data key and given to it at start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::DirectorFlags;
use crate::director_client::{DirectorClient, DirectorTarget};
use crate::store::sealing::{Key32, Sealer};
use crate::store::Store;
use crate::{Error, Result};

/// File (under the data dir) holding the Director's CA certificate, for `BOSH_CA_CERT`.
pub const CA_CERT_FILE: &str = "director-ca.pem";

/// How often running Director tasks are polled while an installation follows them.
const TASK_POLL: Duration = Duration::from_millis(250);

/// A connection to the Director.
#[derive(Debug, Clone)]
pub struct DirectorLink {
    pub client: DirectorClient,
    pub target: DirectorTarget,
    /// Where the CA certificate was written (none when the system's CAs are trusted).
    pub ca_cert_path: Option<PathBuf>,
    /// Whether this is the embedded stand-in (which accepts stemcells and releases by their
    /// manifest alone).
    pub embedded: bool,
}

impl DirectorLink {
    /// A link to `target`, writing its CA to `<data-dir>/director-ca.pem`.
    pub fn new(target: DirectorTarget, data_dir: &Path, embedded: bool) -> Result<DirectorLink> {
        let ca_cert_path = match &target.ca_cert_pem {
            Some(pem) => {
                let path = data_dir.join(CA_CERT_FILE);
                std::fs::write(&path, pem)
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                Some(path)
            }
            None => None,
        };
        let client = DirectorClient::new(target.clone())?.with_poll_interval(TASK_POLL);
        Ok(DirectorLink {
            client,
            target,
            ca_cert_path,
            embedded,
        })
    }

    /// `BOSH_CLIENT=… BOSH_CLIENT_SECRET=… BOSH_CA_CERT=… BOSH_ENVIRONMENT=… bosh `, the
    /// string Ops Manager's `bosh_commandline_credentials` gives.
    pub fn bosh_commandline_credentials(&self) -> String {
        let mut out = format!(
            "BOSH_CLIENT={} BOSH_CLIENT_SECRET={} ",
            self.target.client, self.target.client_secret
        );
        if let Some(path) = &self.ca_cert_path {
            out.push_str(&format!("BOSH_CA_CERT={} ", path.display()));
        }
        let env = self.client.url().as_str().trim_end_matches('/').to_string();
        out.push_str(&format!("BOSH_ENVIRONMENT={env} bosh "));
        out
    }

    /// The Director's host name (for `$director.hostname`).
    pub fn hostname(&self) -> String {
        self.client
            .url()
            .host_str()
            .unwrap_or("localhost")
            .to_string()
    }
}

/// Connects as the flags say: a real Director, or the stand-in started here (returned too, so
/// the caller keeps it running and shuts it down).
pub async fn connect(
    flags: &DirectorFlags,
    data_dir: &Path,
    store: &Store,
    sealer: &Sealer,
) -> Result<(DirectorLink, Option<director::RunningDirector>)> {
    match &flags.url {
        Some(url) => {
            let ca_cert_pem = match &flags.ca_cert {
                None => None,
                Some(text) if text.trim_start().starts_with("-----BEGIN") => Some(text.clone()),
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| Error::Config(format!("--director-ca-cert {path}: {e}")))?,
                ),
            };
            let client_secret = flags.client_secret.clone().ok_or_else(|| {
                Error::Config("--director-url needs --director-client-secret".into())
            })?;
            let target = DirectorTarget {
                url: url.clone(),
                ca_cert_pem,
                client: flags.client.clone().unwrap_or_else(|| "admin".into()),
                client_secret,
            };
            Ok((DirectorLink::new(target, data_dir, false)?, None))
        }
        None => {
            let director_dir = data_dir.join("director");
            let mut config = director::DirectorConfig::new(&director_dir);
            config.vm_create_ms = flags.vm_create_ms;
            config.workers = usize::from(flags.workers);
            config.client = flags.client.clone();
            // Both secrets live sealed under the data key, never in a file the stand-in reads.
            config.client_secret = match flags.client_secret.clone().filter(|s| !s.is_empty()) {
                Some(given) => Some(given),
                None => Some(
                    String::from_utf8(
                        embedded_secret(store, sealer, &director_dir, CLIENT_SECRET, || {
                            tiles::credentials::random_password(&mut rand::rngs::OsRng, 24)
                                .into_bytes()
                        })
                        .await?,
                    )
                    .map_err(|_| {
                        Error::Internal("the Director's client secret is not text".into())
                    })?,
                ),
            };
            let sealing_key = embedded_secret(store, sealer, &director_dir, SEALING_KEY, || {
                Key32::generate().as_bytes().to_vec()
            })
            .await?;
            config.sealing_key = Some(director::SealingKey(sealing_key.try_into().map_err(
                |_| Error::Internal("the Director's sealing key is not 32 bytes".into()),
            )?));
            let running = director::start(config)
                .await
                .map_err(|e| Error::Internal(format!("starting the Director stand-in: {e}")))?;
            let target = DirectorTarget {
                url: running.url.clone(),
                ca_cert_pem: Some(running.ca_cert_pem.clone()),
                client: running.client.clone(),
                client_secret: running.client_secret.clone(),
            };
            tracing::info!(url = %running.url, "embedded BOSH Director stand-in started");
            Ok((DirectorLink::new(target, data_dir, true)?, Some(running)))
        }
    }
}

/// The embedded stand-in's secrets, by their `sealed_settings` name and the file the stand-in
/// kept them in before Tileworks gave them (adopted once, then removed).
const CLIENT_SECRET: (&str, &str) = ("director.client_secret", "client-secret");
const SEALING_KEY: (&str, &str) = ("director.sealing_key", director::config_server::KEY_FILE);

/// One of the stand-in's secrets: opened from `sealed_settings`, or on first use taken from the
/// file an older stand-in wrote (its values stay readable) or generated, and stored sealed.
async fn embedded_secret(
    store: &Store,
    sealer: &Sealer,
    director_dir: &Path,
    (name, legacy_file): (&str, &str),
    generate: impl FnOnce() -> Vec<u8>,
) -> Result<Vec<u8>> {
    if let Some(sealed) = store.keyring().sealed_setting(name).await? {
        return sealer.open_sealed(&sealed);
    }
    let legacy = director_dir.join(legacy_file);
    let value = match std::fs::read(&legacy) {
        Ok(bytes) if name == CLIENT_SECRET.0 => {
            String::from_utf8_lossy(&bytes).trim().as_bytes().to_vec()
        }
        Ok(bytes) => bytes,
        Err(_) => generate(),
    };
    let stored = store
        .keyring()
        .insert_sealed_setting(name, &sealer.seal(&value)?)
        .await?;
    if legacy.exists() {
        std::fs::remove_file(&legacy)
            .map_err(|e| Error::io(format!("removing {}", legacy.display()), e))?;
    }
    sealer.open_sealed(&stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commandline_credentials_have_oms_shape() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["10.0.0.5".to_owned()])
            .unwrap()
            .cert
            .pem();
        let link = DirectorLink::new(
            DirectorTarget {
                url: "https://10.0.0.5:25555".into(),
                ca_cert_pem: Some(ca.clone()),
                client: "ops".into(),
                client_secret: "s3cret".into(),
            },
            dir.path(),
            false,
        )
        .unwrap();
        let path = dir.path().join(CA_CERT_FILE);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), ca);
        assert_eq!(
            link.bosh_commandline_credentials(),
            format!(
                "BOSH_CLIENT=ops BOSH_CLIENT_SECRET=s3cret BOSH_CA_CERT={} BOSH_ENVIRONMENT=https://10.0.0.5:25555 bosh ",
                path.display()
            )
        );
        assert_eq!(link.hostname(), "10.0.0.5");
    }
}
