//! The Director an installation deploys to: the embedded stand-in (started in-process by
//! `tileworks serve` unless `--director-url` is given) or a real one. Either way Tileworks holds
//! only a [`DirectorClient`] and the connection facts, which it also hands to operators as the
//! `bosh` command-line credentials.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::DirectorFlags;
use crate::director_client::{DirectorClient, DirectorTarget};
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
            let mut config = director::DirectorConfig::new(data_dir.join("director"));
            config.vm_create_ms = flags.vm_create_ms;
            config.workers = usize::from(flags.workers);
            config.client = flags.client.clone();
            config.client_secret = flags.client_secret.clone();
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
