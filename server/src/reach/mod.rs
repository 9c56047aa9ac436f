//! Reaching what an install-time verifier names (`tiles::verifiers::Reach`): the vCenter, a
//! subnet's gateway, an NTP server, a wildcard domain, an SSO URL, an SMTP or LDAP server, a
//! MySQL database, an S3 bucket. The checks in
//! `tiles` are pure; this is their I/O, kept short (a few seconds per target, all targets at
//! once) because Review and the pre-deploy check run them too.
//!
//! Credentials travel only in memory, to the server being checked; a failure's text names
//! the host, the port and the protocol's status, never a credential.
//!
//! Files: `http.rs` (a GET), `icmp.rs` (an echo to a gateway), `smtp.rs` (greeting, EHLO,
//! STARTTLS, AUTH), `ldap.rs` (a simple bind), `ntp.rs` (a time request), `mysql.rs` (a
//! sign-in to a database), `s3.rs` (an object written to a bucket and deleted), `vcenter.rs`
//! (what a vCenter user may see).

mod http;
mod icmp;
mod ldap;
mod mysql;
mod ntp;
mod s3;
mod smtp;
mod vcenter;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::future::join_all;
use tiles::verifiers::{Finding, Reach, Target};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// How long a connection may take.
const CONNECT: Duration = Duration::from_secs(3);
/// How long a whole check may take (connection, TLS, the protocol's exchange).
const WHOLE: Duration = Duration::from_secs(6);

/// Why a target failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// It did not answer as it should.
    Unreachable(String),
    /// It answered and refused the credentials.
    Refused(String),
}

/// Tries every reach at once; the findings of those that failed, in the order given.
pub async fn findings(reaches: Vec<Reach>) -> Vec<Finding> {
    let outcomes = join_all(reaches.iter().map(|r| check(&r.target))).await;
    reaches
        .into_iter()
        .zip(outcomes)
        .filter_map(|(reach, outcome)| {
            let (mut finding, why) = match outcome {
                Ok(()) => return None,
                Err(Failure::Refused(why)) => (reach.credentials_at.unwrap_or(reach.at), why),
                Err(Failure::Unreachable(why)) => (reach.at, why),
            };
            finding.message = format!("{}: {why}", finding.message);
            Some(finding)
        })
        .collect()
}

/// Tries one target within [`WHOLE`].
pub async fn check(target: &Target) -> Result<(), Failure> {
    let run = async {
        match target {
            Target::Connect { host, port, tls } if *tls => {
                http::answers(&format!("https://{}/", authority(host, *port))).await
            }
            Target::Connect { host, port, .. } => connect(host, *port).await.map(drop),
            Target::Host { host } => host_answers(host).await,
            Target::Wildcard { domain } => wildcard(domain).await,
            Target::Ntp { host, port } => ntp::asks(host, *port).await,
            Target::Http {
                url,
                must_match,
                skip_tls_verification,
            } => http::succeeds(url, must_match.as_deref(), *skip_tls_verification).await,
            Target::Smtp {
                host,
                port,
                helo,
                starttls,
                login,
            } => smtp::check(host, *port, helo, *starttls, login.as_ref()).await,
            Target::LdapBind {
                host,
                port,
                tls,
                dn,
                password,
            } => ldap::bind(host, *port, *tls, dn, password).await,
            Target::Unused { ip } => unused(ip).await,
            Target::VcenterInventory {
                host,
                port,
                username,
                password,
                datacenter,
                datastores,
            } => vcenter::sees(host, *port, username, password, datacenter, datastores).await,
            Target::Mysql {
                host,
                port,
                username,
                password,
                database,
            } => mysql::sign_in(host, *port, username, password, database).await,
            Target::S3Write {
                endpoint,
                region,
                bucket,
                access_key_id,
                secret_access_key,
                path_style,
            } => {
                s3::write(&s3::Bucket {
                    endpoint: endpoint.as_deref(),
                    region,
                    bucket,
                    access_key_id,
                    secret_access_key,
                    path_style: *path_style,
                })
                .await
            }
        }
    };
    tokio::time::timeout(WHOLE, run).await.unwrap_or_else(|_| {
        Err(Failure::Unreachable(format!(
            "no answer within {} seconds",
            WHOLE.as_secs()
        )))
    })
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A TCP connection within [`CONNECT`].
async fn connect(host: &str, port: u16) -> Result<TcpStream, Failure> {
    match tokio::time::timeout(CONNECT, TcpStream::connect((host, port))).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(Failure::Unreachable(format!(
            "cannot connect to {}: {e}",
            authority(host, port)
        ))),
        Err(_) => Err(Failure::Unreachable(format!(
            "no connection to {} within {} seconds",
            authority(host, port),
            CONNECT.as_secs()
        ))),
    }
}

/// Whether a host answers a ping, as Ops Manager pings a gateway. Where this process may not
/// ping (see `icmp.rs`), a TCP connection the host accepts or refuses on a usual port stands
/// in, and the failure says that only TCP was tried.
async fn host_answers(host: &str) -> Result<(), Failure> {
    if let Ok(std::net::IpAddr::V4(ip)) = host.parse::<std::net::IpAddr>() {
        let pinged = tokio::task::spawn_blocking(move || icmp::ping(ip, CONNECT))
            .await
            .map_err(|e| Failure::Unreachable(format!("ping: {e}")))?;
        match pinged {
            Ok(true) => return Ok(()),
            Ok(false) => {
                return Err(Failure::Unreachable(format!(
                    "no answer to a ping within {} seconds",
                    CONNECT.as_secs()
                )))
            }
            Err(icmp::Unavailable) => {}
        }
    }
    let tries = [443u16, 22, 80].map(|port| async move {
        match tokio::time::timeout(CONNECT, TcpStream::connect((host, port))).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => e.kind() == std::io::ErrorKind::ConnectionRefused,
            Err(_) => false,
        }
    });
    if join_all(tries).await.into_iter().any(|answered| answered) {
        Ok(())
    } else {
        Err(Failure::Unreachable(format!(
            "no answer on TCP ports 443, 22 or 80 within {} seconds (this process may not ping)",
            CONNECT.as_secs()
        )))
    }
}

/// Whether nothing answers at `ip` (an address about to be given to a new VM): the opposite
/// of [`host_answers`].
async fn unused(ip: &str) -> Result<(), Failure> {
    match host_answers(ip).await {
        Ok(()) => Err(Failure::Unreachable(
            "something answers there (a ping, or a TCP connection accepted or refused)".into(),
        )),
        Err(_) => Ok(()),
    }
}

/// Whether a name no one has registered under `domain` resolves, as a wildcard record makes
/// every name do. Names under `localhost` are loopback by definition (RFC 6761 §6.3), as
/// browsers and curl resolve them, whatever the system resolver says.
async fn wildcard(domain: &str) -> Result<(), Failure> {
    let name = format!("tileworks-check-{:08x}.{domain}", rand::random::<u32>());
    if domain == "localhost" || domain.ends_with(".localhost") {
        return Ok(());
    }
    let found = tokio::net::lookup_host((name.as_str(), 0))
        .await
        .map(|mut addrs| addrs.next().is_some());
    match found {
        Ok(true) => Ok(()),
        Ok(false) => Err(Failure::Unreachable(format!("{name} has no address"))),
        Err(e) => Err(Failure::Unreachable(format!(
            "{name} does not resolve: {e}"
        ))),
    }
}

/// A stream a protocol check reads and writes: plain TCP, or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The system's CAs (Debian's bundle): what STARTTLS and LDAPS servers are checked against,
/// as the deployed product's own clients would check them.
fn system_roots() -> Arc<rustls::RootCertStore> {
    static ROOTS: OnceLock<Arc<rustls::RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            use rustls::pki_types::pem::PemObject;
            use rustls::pki_types::CertificateDer;
            let mut store = rustls::RootCertStore::empty();
            if let Ok(pem) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") {
                for cert in CertificateDer::pem_slice_iter(&pem).flatten() {
                    let _ = store.add(cert);
                }
            }
            Arc::new(store)
        })
        .clone()
}

/// TLS over `stream` to `host`, its certificate checked against [`system_roots`].
async fn tls(stream: Box<dyn Io>, host: &str) -> Result<Box<dyn Io>, Failure> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::Unreachable(format!("TLS: {e}")))?
        .with_root_certificates(system_roots())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| Failure::Unreachable(format!("TLS: '{host}': {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match connector.connect(name, stream).await {
        Ok(s) => Ok(Box::new(s)),
        Err(e) => Err(Failure::Unreachable(format!("TLS with {host}: {e}"))),
    }
}
