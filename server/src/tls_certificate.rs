//! Tileworks's own TLS certificate, replaceable through the API as Ops Manager's is (`GET/PUT
//! /api/v0/settings/ssl_certificate`, `DELETE` back to the default; om
//! `update-ssl-certificate`, `ssl-certificate`, `delete-ssl-certificate`).
//!
//! The default is the certificate given on the command line (`--tls-cert`/`--tls-key`); a
//! certificate set through the API replaces it **at once**, for new connections (the HTTPS
//! listener's rustls configuration is reloaded in place), and **after a restart** too: it is
//! kept in `sealed_settings` (the key sealed under the data key) and put back on the listener
//! as soon as Tileworks is unlocked (until then the listener serves the command-line one). A
//! Tileworks serving plain HTTP has no certificate to replace: `PUT` is `409` saying so.
//!
//! A certificate and key are accepted only as a pair: PEM certificates (a chain allowed, the
//! leaf first), a PEM private key (PKCS#8, PKCS#1 or SEC1) rustls can sign with, whose public
//! key is the leaf's, and a leaf that has not expired (serving one would only make every
//! client refuse Tileworks). Anything else is `422` naming `certificate` or `private_key`. The
//! key is never shown.

use std::path::PathBuf;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use serde::{Deserialize, Serialize};

use crate::store::sealing::Sealer;
use crate::store::Store;
use crate::{Error, Result};

/// The `sealed_settings` name of a certificate set through the API.
const SETTING: &str = "tls.certificate";

#[derive(Serialize, Deserialize)]
struct Stored {
    certificate: String,
    private_key: String,
}

/// What `GET` shows: never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The certificate (chain) served, PEM; `None` on plain HTTP.
    pub certificate: Option<String>,
    /// Set through the API (else the command line's).
    pub custom: bool,
    /// Tileworks serves HTTPS (started with `--tls-cert`); else there is nothing to replace.
    pub https: bool,
}

/// What the Settings page shows of the served chain's first certificate ([`describe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub subject: String,
    pub issuer: String,
    /// Subject alternative names: DNS names, then IP addresses.
    pub names: Vec<String>,
    /// Unix seconds.
    pub not_after: i64,
}

/// Reads the first certificate of a PEM chain.
pub fn describe(certificate: &str) -> Result<Leaf> {
    let unreadable = |e: tiles::Error| Error::Internal(format!("the served certificate: {e}"));
    let info = tiles::credentials::certificate_info(certificate).map_err(unreadable)?;
    let names = tiles::credentials::certificate_names(certificate).map_err(unreadable)?;
    Ok(Leaf {
        subject: info.subject,
        issuer: info.issuer,
        names: names
            .dns_names
            .into_iter()
            .chain(names.ip_addresses)
            .collect(),
        not_after: info.not_after,
    })
}

/// The service. Cheap to clone.
#[derive(Clone)]
pub struct TlsCertificate {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    sealer: Sealer,
    /// The HTTPS listener's configuration (`None` on plain HTTP).
    live: Option<RustlsConfig>,
    /// `--tls-cert` and `--tls-key`.
    files: Option<(PathBuf, PathBuf)>,
}

impl TlsCertificate {
    /// Opens the service and puts a certificate set through the API back on the listener.
    pub async fn open(
        store: Store,
        sealer: Sealer,
        live: Option<RustlsConfig>,
        files: Option<(PathBuf, PathBuf)>,
    ) -> Result<TlsCertificate> {
        let service = TlsCertificate {
            inner: Arc::new(Inner {
                store,
                sealer,
                live,
                files,
            }),
        };
        if let (Some(stored), Some(live)) = (service.stored().await?, &service.inner.live) {
            reload(live, &stored).await?;
            tracing::info!("serving the TLS certificate set through the API");
        }
        Ok(service)
    }

    async fn stored(&self) -> Result<Option<Stored>> {
        let Some(sealed) = self.inner.store.keyring().sealed_setting(SETTING).await? else {
            return Ok(None);
        };
        let plain = self.inner.sealer.open_sealed(&sealed)?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| Error::Internal(format!("the stored TLS certificate is unreadable: {e}")))
    }

    /// The certificate served.
    pub async fn show(&self) -> Result<Shown> {
        if self.inner.live.is_none() {
            return Ok(Shown {
                certificate: None,
                custom: false,
                https: false,
            });
        }
        if let Some(stored) = self.stored().await? {
            return Ok(Shown {
                certificate: Some(stored.certificate),
                custom: true,
                https: true,
            });
        }
        let certificate = match &self.inner.files {
            Some((cert, _)) => Some(std::fs::read_to_string(cert).map_err(|e| {
                Error::io(format!("reading the TLS certificate {}", cert.display()), e)
            })?),
            None => None,
        };
        Ok(Shown {
            certificate,
            custom: false,
            https: true,
        })
    }

    /// Validates the pair, stores it and serves it from now on.
    pub async fn set(&self, certificate: &str, private_key: &str) -> Result<()> {
        validate_pair(certificate, private_key)?;
        let Some(live) = &self.inner.live else {
            return Err(Error::Refused(
                "Tileworks serves plain HTTP (started without --tls-cert): there is no TLS \
                 certificate to replace"
                    .into(),
            ));
        };
        let stored = Stored {
            certificate: certificate.trim().to_owned() + "\n",
            private_key: private_key.trim().to_owned() + "\n",
        };
        let plain = serde_json::to_vec(&stored)
            .map_err(|e| Error::Internal(format!("encoding the TLS certificate: {e}")))?;
        self.inner
            .store
            .keyring()
            .put_sealed_setting(SETTING, &self.inner.sealer.seal(&plain)?)
            .await?;
        reload(live, &stored).await?;
        tracing::info!(target: "audit", "the TLS certificate was replaced through the API");
        Ok(())
    }

    /// Back to the command line's certificate.
    pub async fn reset(&self) -> Result<()> {
        self.inner
            .store
            .keyring()
            .delete_sealed_setting(SETTING)
            .await?;
        if let (Some(live), Some((cert, key))) = (&self.inner.live, &self.inner.files) {
            live.reload_from_pem_file(cert, key)
                .await
                .map_err(|e| Error::io("reloading the command line's TLS certificate", e))?;
        }
        Ok(())
    }
}

/// Makes a copy of the database (an installation export's, `crate::installation_archive`)
/// carry the certificate this Tileworks serves, so an import serves it again: one set through
/// the API is in the copy already; otherwise the command line's pair (`files`) is read and
/// stored in the copy's `sealed_settings` as if it had been set through the API, its key sealed
/// under the data key like every other. Nothing without HTTPS.
pub async fn carry_into(
    copy: &Store,
    sealer: &Sealer,
    files: Option<&(PathBuf, PathBuf)>,
) -> Result<()> {
    let Some((cert, key)) = files else {
        return Ok(());
    };
    if copy.keyring().sealed_setting(SETTING).await?.is_some() {
        return Ok(());
    }
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading the TLS file {}", path.display()), e))
    };
    let stored = Stored {
        certificate: read(cert)?,
        private_key: read(key)?,
    };
    let plain = serde_json::to_vec(&stored)
        .map_err(|e| Error::Internal(format!("encoding the TLS certificate: {e}")))?;
    copy.keyring()
        .put_sealed_setting(SETTING, &sealer.seal(&plain)?)
        .await
}

async fn reload(live: &RustlsConfig, stored: &Stored) -> Result<()> {
    live.reload_from_pem(
        stored.certificate.clone().into_bytes(),
        stored.private_key.clone().into_bytes(),
    )
    .await
    .map_err(|e| Error::io("loading the TLS certificate", e))
}

/// The checks of a certificate and key given together (see the module docs).
pub fn validate_pair(certificate: &str, private_key: &str) -> Result<()> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    if certificate.trim().is_empty() {
        return Err(Error::invalid("certificate", "can't be blank"));
    }
    if private_key.trim().is_empty() {
        return Err(Error::invalid("private_key", "can't be blank"));
    }
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(certificate.as_bytes())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::invalid("certificate", format!("is not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid("certificate", "has no PEM certificate"));
    }
    tiles::credentials::certificate_names(certificate).map_err(|e| match e {
        tiles::Error::Invalid { message, .. } => Error::invalid("certificate", message),
        other => Error::invalid("certificate", other.to_string()),
    })?;
    let info = tiles::credentials::certificate_info(certificate)
        .map_err(|e| Error::invalid("certificate", e.to_string()))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if info.not_after < now {
        let when = time::OffsetDateTime::from_unix_timestamp(info.not_after)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        return Err(Error::invalid(
            "certificate",
            format!("has expired (it was valid until {when})"),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(private_key.as_bytes())
        .map_err(|e| Error::invalid("private_key", format!("is not a PEM private key: {e}")))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| {
        Error::invalid(
            "private_key",
            format!("is not an RSA, ECDSA or Ed25519 key: {e}"),
        )
    })?;
    rustls::sign::CertifiedKey::new(certs, signer)
        .keys_match()
        .map_err(|_| {
            Error::invalid(
                "private_key",
                "does not belong to the certificate (its public key differs)",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str) -> (String, String) {
        let c = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        (c.cert.pem(), c.key_pair.serialize_pem())
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_a_matching_pair_is_accepted() {
        let (cert, key) = pair("tileworks.example.com");
        let (_, other_key) = pair("other.example.com");
        validate_pair(&cert, &key).unwrap();
        assert_eq!(
            field_of(validate_pair(&cert, &other_key).unwrap_err()),
            "private_key"
        );
        assert_eq!(
            field_of(validate_pair("", &key).unwrap_err()),
            "certificate"
        );
        assert_eq!(
            field_of(validate_pair("junk", &key).unwrap_err()),
            "certificate"
        );
        assert_eq!(
            field_of(validate_pair(&cert, "junk").unwrap_err()),
            "private_key"
        );
        assert_eq!(
            field_of(validate_pair(&key, &key).unwrap_err()),
            "certificate"
        );
    }

    #[test]
    fn an_expired_certificate_is_refused_and_a_served_one_described() {
        let mut params = rcgen::CertificateParams::new(vec!["old.example.com".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let err = validate_pair(&cert.pem(), &key.serialize_pem()).unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { field, message } if field == "certificate" && message.contains("expired") && message.contains("2021-01-01")),
            "{err:?}"
        );

        let c = rcgen::generate_simple_self_signed(vec!["a.example.com".into(), "10.0.0.5".into()])
            .unwrap();
        let leaf = describe(&c.cert.pem()).unwrap();
        assert_eq!(leaf.names, vec!["a.example.com", "10.0.0.5"]);
        assert!(leaf.subject.contains("rcgen"), "{leaf:?}");
        assert!(leaf.not_after > time::OffsetDateTime::now_utc().unix_timestamp());
    }

    #[test]
    fn certificate_names_read_dns_and_ip_sans() {
        let c = rcgen::generate_simple_self_signed(vec!["10.0.0.5".into(), "a.example.com".into()])
            .unwrap();
        let names = tiles::credentials::certificate_names(&c.cert.pem()).unwrap();
        assert_eq!(names.dns_names, vec!["a.example.com"]);
        assert_eq!(names.ip_addresses, vec!["10.0.0.5"]);
        assert!(names.covers("10.0.0.5") && names.covers("a.example.com"));
        assert!(tiles::credentials::certificate_names("junk").is_err());
    }
}
