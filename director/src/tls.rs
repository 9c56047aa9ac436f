//! The Director's own TLS: a self-signed CA created on first start and kept in the data dir, and
//! a server certificate issued by it on every start with subject alternative names for the
//! listen address (so `bosh --ca-cert` and reqwest verify the host). Clients trust the CA.
//!
//! Keys are ECDSA P-256 (rcgen with ring): fast to generate, accepted by Go and rustls clients.
//! The same issuing helpers create `certificate` variables for the config server.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use crate::error::{Error, Result};

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertKey {
    pub cert_pem: String,
    pub key_pem: String,
}

/// What to put in a certificate.
#[derive(Debug, Clone, Default)]
pub struct CertSpec {
    pub common_name: String,
    pub organization: Option<String>,
    pub alternative_names: Vec<String>,
    pub is_ca: bool,
    /// `client_auth`, `server_auth` (BOSH variable names).
    pub extended_key_usage: Vec<String>,
    pub duration_days: i64,
}

fn cert_error(e: rcgen::Error) -> Error {
    Error::Invalid(format!("certificate generation: {e}"))
}

fn params_for(spec: &CertSpec) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        spec.common_name.chars().take(64).collect::<String>(),
    );
    if let Some(org) = spec.organization.as_deref().filter(|o| !o.is_empty()) {
        dn.push(DnType::OrganizationName, org);
    }
    params.distinguished_name = dn;
    for name in &spec.alternative_names {
        let name = name.trim();
        if let Ok(ip) = name.parse::<IpAddr>() {
            params.subject_alt_names.push(SanType::IpAddress(ip));
        } else if let Ok(dns) = name.to_string().try_into() {
            params.subject_alt_names.push(SanType::DnsName(dns));
        }
    }
    let now = std::time::SystemTime::now();
    let days = if spec.duration_days > 0 {
        spec.duration_days
    } else {
        365
    };
    params.not_before = (now - std::time::Duration::from_secs(3600)).into();
    params.not_after = (now + std::time::Duration::from_secs(days as u64 * 86_400)).into();
    if spec.is_ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
    } else {
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.use_authority_key_identifier_extension = true;
    }
    for eku in &spec.extended_key_usage {
        match eku.as_str() {
            "server_auth" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ServerAuth),
            "client_auth" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth),
            "code_signing" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::CodeSigning),
            "email_protection" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::EmailProtection),
            "timestamping" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::TimeStamping),
            other => {
                return Err(Error::Invalid(format!(
                    "unknown extended_key_usage '{other}'"
                )))
            }
        }
    }
    Ok(params)
}

/// Issues a certificate: self-signed when `issuer` is `None`, else signed by that CA.
pub fn issue(spec: &CertSpec, issuer: Option<&CertKey>) -> Result<CertKey> {
    let params = params_for(spec)?;
    let key = KeyPair::generate().map_err(cert_error)?;
    let cert = match issuer {
        None => params.self_signed(&key).map_err(cert_error)?,
        Some(ca) => {
            let ca_key = KeyPair::from_pem(&ca.key_pem).map_err(cert_error)?;
            let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, ca_key).map_err(cert_error)?;
            params.signed_by(&key, &issuer).map_err(cert_error)?
        }
    };
    Ok(CertKey {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// The Director's CA and its current server certificate.
#[derive(Debug, Clone)]
pub struct DirectorTls {
    pub ca: CertKey,
    pub server: CertKey,
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(format!("protecting {}", path.display()), e))?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
}

/// The names the server certificate must carry for `addr`: the IP itself, and for loopback or
/// unspecified addresses also `localhost` and `127.0.0.1`.
pub fn server_names(addr: SocketAddr) -> Vec<String> {
    let mut names = Vec::new();
    let ip = addr.ip();
    if ip.is_unspecified() || ip.is_loopback() {
        names.push("127.0.0.1".to_string());
        names.push("localhost".to_string());
        names.push("::1".to_string());
    }
    if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
        names.push(ip.to_string());
    }
    names
}

/// The CA key's file when it is sealed ([`load_or_create`]).
pub const SEALED_CA_KEY: &str = "ca.key.sealed";

/// Loads the CA from `dir` (creating it on first start) and issues a fresh server certificate
/// for `addr`. Files: `ca.crt` (what clients trust) and the CA's key: with `sealer` (the stand-in
/// was given its config server's key, as Tileworks runs it) sealed under that key in
/// [`SEALED_CA_KEY`], and the server's key, made afresh at every start, kept in memory only;
/// without it `ca.key`, `server.crt` and `server.key` (keys mode 0600), as a standalone stand-in
/// keeps its config server's key beside them. A plaintext `ca.key` found when a sealer is given
/// is sealed and removed.
pub fn load_or_create(
    dir: &Path,
    addr: SocketAddr,
    sealer: Option<&crate::config_server::ConfigServer>,
) -> Result<DirectorTls> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let ca_cert = dir.join("ca.crt");
    let ca_key = dir.join("ca.key");
    let sealed_key = dir.join(SEALED_CA_KEY);
    let stored_key = match sealer {
        Some(sealer) if sealed_key.exists() => {
            let sealed = std::fs::read(&sealed_key)
                .map_err(|e| Error::io(format!("reading {}", sealed_key.display()), e))?;
            let plain = sealer.open_file(SEALED_CA_KEY, &sealed)?;
            Some(String::from_utf8(plain).map_err(|_| {
                Error::Config(format!("{} does not hold a PEM key", sealed_key.display()))
            })?)
        }
        _ if ca_key.exists() => Some(read(&ca_key)?),
        _ => None,
    };
    let keep_key = |key_pem: &str| -> Result<()> {
        match sealer {
            Some(sealer) => {
                let sealed = sealer.seal_file(SEALED_CA_KEY, key_pem.as_bytes())?;
                std::fs::write(&sealed_key, sealed)
                    .map_err(|e| Error::io(format!("writing {}", sealed_key.display()), e))?;
                for plain in [ca_key.clone(), dir.join("server.key")] {
                    if plain.exists() {
                        std::fs::remove_file(&plain)
                            .map_err(|e| Error::io(format!("removing {}", plain.display()), e))?;
                    }
                }
                Ok(())
            }
            None => write_private(&ca_key, key_pem),
        }
    };
    let ca = match stored_key {
        Some(key_pem) if ca_cert.exists() => {
            if sealer.is_some() && !sealed_key.exists() {
                keep_key(&key_pem)?;
            }
            CertKey {
                cert_pem: read(&ca_cert)?,
                key_pem,
            }
        }
        _ => {
            let ca = issue(
                &CertSpec {
                    common_name: "Tileworks BOSH Director CA".into(),
                    organization: Some("Tileworks".into()),
                    is_ca: true,
                    duration_days: 3650,
                    ..CertSpec::default()
                },
                None,
            )?;
            keep_key(&ca.key_pem)?;
            write_private(&ca_cert, &ca.cert_pem)?;
            ca
        }
    };
    let names = server_names(addr);
    let server = issue(
        &CertSpec {
            common_name: names.first().cloned().unwrap_or_else(|| "director".into()),
            organization: Some("Tileworks".into()),
            alternative_names: names,
            extended_key_usage: vec!["server_auth".into()],
            duration_days: 730,
            ..CertSpec::default()
        },
        Some(&ca),
    )?;
    if sealer.is_none() {
        write_private(&dir.join("server.key"), &server.key_pem)?;
        write_private(&dir.join("server.crt"), &server.cert_pem)?;
    }
    Ok(DirectorTls { ca, server })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plaintext_ca_key_is_sealed_once_a_key_is_given_and_the_ca_stays() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tls");
        let addr: SocketAddr = "127.0.0.1:25555".parse().unwrap();
        let plain = load_or_create(&dir, addr, None).unwrap();
        assert!(dir.join("ca.key").exists() && dir.join("server.key").exists());

        let sealer = crate::config_server::ConfigServer::load_or_create(
            tmp.path(),
            "d",
            Some(&crate::SealingKey([9u8; 32])),
        )
        .unwrap();
        let sealed = load_or_create(&dir, addr, Some(&sealer)).unwrap();
        assert_eq!(sealed.ca.cert_pem, plain.ca.cert_pem, "the same CA");
        assert_eq!(sealed.ca.key_pem, plain.ca.key_pem);
        assert!(!dir.join("ca.key").exists() && !dir.join("server.key").exists());
        let on_disk = std::fs::read(dir.join(SEALED_CA_KEY)).unwrap();
        assert!(!String::from_utf8_lossy(&on_disk).contains("PRIVATE KEY"));
        // And read back sealed at the next start.
        let again = load_or_create(&dir, addr, Some(&sealer)).unwrap();
        assert_eq!(again.ca.key_pem, plain.ca.key_pem);
    }

    #[test]
    fn ca_and_leaf_are_pem() {
        let ca = issue(
            &CertSpec {
                common_name: "ca".into(),
                is_ca: true,
                ..CertSpec::default()
            },
            None,
        )
        .unwrap();
        let leaf = issue(
            &CertSpec {
                common_name: "leaf".into(),
                alternative_names: vec!["10.0.0.1".into(), "*.example.com".into()],
                extended_key_usage: vec!["server_auth".into(), "client_auth".into()],
                ..CertSpec::default()
            },
            Some(&ca),
        )
        .unwrap();
        assert!(leaf.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(leaf.key_pem.contains("PRIVATE KEY"));
        assert_ne!(leaf.cert_pem, ca.cert_pem);
    }

    #[test]
    fn unknown_extended_key_usage_is_refused() {
        let err = issue(
            &CertSpec {
                common_name: "x".into(),
                extended_key_usage: vec!["teleport".into()],
                ..CertSpec::default()
            },
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("teleport"));
    }

    #[test]
    fn loopback_names() {
        let names = server_names("127.0.0.1:25555".parse().unwrap());
        assert!(names.contains(&"127.0.0.1".to_string()));
        assert!(names.contains(&"localhost".to_string()));
        let names = server_names("10.1.2.3:25555".parse().unwrap());
        assert_eq!(names, vec!["10.1.2.3".to_string()]);
    }
}
