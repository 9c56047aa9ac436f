//! Does a certificate cover a hostname? The rules of RFC 6125 as browsers and Go's TLS client
//! apply them: when the certificate has subject alternative names, only they count (the
//! common name is ignored); otherwise the common name. DNS names compare without case and
//! without a trailing dot; a wildcard is only a whole left-most label (`*.pks.example.com`)
//! and stands for exactly one label, so it covers `api.pks.example.com` but neither
//! `pks.example.com` nor `a.api.pks.example.com`. An IP address hostname needs an IP SAN.
//!
//! Reading the names out of a PEM certificate needs an X.509 parser, which the browser build
//! does not carry: the server fills [`CertificateNames`] (`crate::credentials::certificate_names`).

use serde::{Deserialize, Serialize};

/// The names a certificate is valid for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateNames {
    /// The subject's common name, if any.
    pub common_name: Option<String>,
    /// `subjectAltName` DNS names.
    pub dns_names: Vec<String>,
    /// `subjectAltName` IP addresses, as text.
    pub ip_addresses: Vec<String>,
}

impl CertificateNames {
    /// Whether the certificate covers `host` (see the module docs).
    pub fn covers(&self, host: &str) -> bool {
        let host = normalise(host);
        if host.is_empty() {
            return false;
        }
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return self
                .ip_addresses
                .iter()
                .any(|a| a.trim().parse::<std::net::IpAddr>().is_ok_and(|a| a == ip));
        }
        let has_sans = !self.dns_names.is_empty() || !self.ip_addresses.is_empty();
        if has_sans {
            self.dns_names.iter().any(|n| name_matches(n, &host))
        } else {
            self.common_name
                .as_deref()
                .is_some_and(|n| name_matches(n, &host))
        }
    }

    /// The names that count, for a message (`api.example.com, *.example.com`).
    pub fn described(&self) -> String {
        let mut names: Vec<&str> = self
            .dns_names
            .iter()
            .chain(&self.ip_addresses)
            .map(String::as_str)
            .collect();
        if names.is_empty() {
            if let Some(cn) = &self.common_name {
                names.push(cn);
            }
        }
        if names.is_empty() {
            "no names".into()
        } else {
            names.join(", ")
        }
    }
}

fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// One certificate name against a (normalised) host.
fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = normalise(pattern);
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            // The wildcard stands for one whole, non-empty label; a pattern with a second
            // wildcard or too few labels (`*.com`) covers nothing.
            if rest.contains('*') || !rest.contains('.') {
                return false;
            }
            match host.split_once('.') {
                Some((label, tail)) => !label.is_empty() && tail == rest,
                None => false,
            }
        }
        None => !pattern.contains('*') && pattern == host,
    }
}
