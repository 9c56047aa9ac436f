//! A GET for `HttpSuccessVerifier`, `SsoUrlVerifier`, and for the IaaS endpoints (which only
//! have to answer over TLS: any status will do, and the certificate is the CPI's concern,
//! checked there with the CA the operator gives).

use super::{Failure, CONNECT, WHOLE};

/// The body read at most, for `must_match_regex`.
const BODY_LIMIT: usize = 1 << 20;

fn client(skip_tls_verification: bool) -> Result<reqwest::Client, Failure> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT)
        .timeout(WHOLE)
        // A redirect is an answer too; following it to another host is not what was asked.
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(skip_tls_verification);
    if !skip_tls_verification {
        if let Ok(pem) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") {
            for cert in reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default() {
                builder = builder.add_root_certificate(cert);
            }
        }
    }
    builder
        .build()
        .map_err(|e| Failure::Unreachable(format!("HTTP client: {e}")))
}

fn unreachable(url: &str, e: &reqwest::Error) -> Failure {
    // reqwest's text includes the URL; the source says why (refused, TLS, timeout).
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = s.to_string();
        source = s.source();
    }
    Failure::Unreachable(format!("GET {url}: {why}"))
}

/// Whether `url` answers at all (any status), over TLS whatever its certificate.
pub(super) async fn answers(url: &str) -> Result<(), Failure> {
    client(true)?
        .get(url)
        .send()
        .await
        .map(drop)
        .map_err(|e| unreachable(url, &e))
}

/// Whether a GET of `url` answers 2xx and its body matches `must_match` when given.
pub(super) async fn succeeds(
    url: &str,
    must_match: Option<&str>,
    skip_tls_verification: bool,
) -> Result<(), Failure> {
    let mut response = client(skip_tls_verification)?
        .get(url)
        .send()
        .await
        .map_err(|e| unreachable(url, &e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(Failure::Unreachable(format!("GET {url} answered {status}")));
    }
    let Some(pattern) = must_match else {
        return Ok(());
    };
    let re = regex::Regex::new(pattern)
        .map_err(|e| Failure::Unreachable(format!("the pattern does not compile: {e}")))?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(url, &e))? {
        body.extend_from_slice(&chunk);
        if body.len() >= BODY_LIMIT {
            break;
        }
    }
    if re.is_match(&String::from_utf8_lossy(&body)) {
        Ok(())
    } else {
        Err(Failure::Unreachable(format!(
            "GET {url} answered {status}, but its body does not match /{pattern}/"
        )))
    }
}
