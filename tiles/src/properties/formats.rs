//! The string forms used by property types: hostnames, domains, URLs, e-mail addresses, IP
//! addresses and ranges, comma lists.
//!
//! Each `check_*` function returns `Ok(())` or the message shown to the operator. The checks
//! aim at catching typing mistakes (a space, a missing scheme, a reversed range), not at
//! implementing every RFC: a value that passes here is one Ops Manager would also accept.
//!
//! The `split_*`/`parse_*` helpers are what the `parsed_ip_ranges`, `parsed_network_addresses`
//! and `parsed_strings` accessors return.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Splits a comma list (`string_list`, `network_address_list`, `ip_ranges`) into its trimmed,
/// non-empty items, in order.
pub fn split_comma_list(value: &str) -> Vec<&str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// True for a DNS hostname: dot-separated labels of letters, digits, `-` and `_`, none empty,
/// none longer than 63 characters, none starting or ending with `-`, at most 253 in all.
/// Underscores are tolerated because real internal names (`_service.example`) carry them.
pub fn is_hostname(value: &str) -> bool {
    if value.is_empty() || value.len() > 253 {
        return false;
    }
    value.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// An IPv4 or IPv6 address.
pub fn parse_ip(value: &str) -> Option<IpAddr> {
    value.trim().parse::<IpAddr>().ok()
}

/// `ip_address`: one IPv4 or IPv6 address.
pub fn check_ip_address(value: &str) -> Result<(), String> {
    match parse_ip(value) {
        Some(_) if value.trim() == value => Ok(()),
        _ => Err(format!("'{value}' is not a valid IP address")),
    }
}

/// `network_address`: a hostname or an IP address.
pub fn check_network_address(value: &str) -> Result<(), String> {
    if value.trim() != value || value.is_empty() {
        return Err(format!("'{value}' is not a valid hostname or IP address"));
    }
    if parse_ip(value).is_some() || is_hostname(value) {
        Ok(())
    } else {
        Err(format!("'{value}' is not a valid hostname or IP address"))
    }
}

/// `network_address_list`: a comma list of hostnames or IP addresses.
pub fn check_network_address_list(value: &str) -> Result<(), String> {
    let items = split_comma_list(value);
    if items.is_empty() {
        return Err("Value must list at least one hostname or IP address".to_string());
    }
    for item in items {
        check_network_address(item)?;
    }
    Ok(())
}

/// One element of an `ip_ranges` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpRange {
    /// A single address.
    Single(IpAddr),
    /// `first-last`, both of the same family, `first <= last`.
    Range(IpAddr, IpAddr),
    /// `address/prefix`.
    Cidr(IpAddr, u8),
}

/// Parses one `ip_ranges` element: `a`, `a-b` or `a/n`.
pub fn parse_ip_range(item: &str) -> Result<IpRange, String> {
    let item = item.trim();
    if let Some((first, last)) = item.split_once('-') {
        let (Some(a), Some(b)) = (parse_ip(first), parse_ip(last)) else {
            return Err(format!("'{item}' is not a valid IP range"));
        };
        let ordered = match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => u32::from(a) <= u32::from(b),
            (IpAddr::V6(a), IpAddr::V6(b)) => u128::from(a) <= u128::from(b),
            _ => return Err(format!("'{item}' mixes IPv4 and IPv6 addresses")),
        };
        if !ordered {
            return Err(format!(
                "'{item}' is not a valid IP range: the first address is after the last"
            ));
        }
        return Ok(IpRange::Range(a, b));
    }
    if let Some((addr, prefix)) = item.split_once('/') {
        let Some(a) = parse_ip(addr) else {
            return Err(format!("'{item}' is not a valid CIDR range"));
        };
        let max = if a.is_ipv4() { 32 } else { 128 };
        return match prefix.parse::<u8>() {
            Ok(n) if n <= max => Ok(IpRange::Cidr(a, n)),
            _ => Err(format!("'{item}' is not a valid CIDR range")),
        };
    }
    parse_ip(item)
        .map(IpRange::Single)
        .ok_or_else(|| format!("'{item}' is not a valid IP address or range"))
}

/// `ip_ranges`: a comma list of addresses, `first-last` ranges and CIDR ranges.
pub fn check_ip_ranges(value: &str) -> Result<(), String> {
    let items = split_comma_list(value);
    if items.is_empty() {
        return Err("Value must list at least one IP address or range".to_string());
    }
    for item in items {
        parse_ip_range(item)?;
    }
    Ok(())
}

/// Host part of a URL or domain: a hostname, an IPv4 address or a bracketed IPv6 address.
fn check_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok();
    }
    host.parse::<Ipv4Addr>().is_ok() || is_hostname(host)
}

/// Splits `host[:port]`, checking the port; IPv6 hosts are bracketed.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        return match rest.strip_prefix(':') {
            None if rest.is_empty() => Some((host, None)),
            Some(port) => port.parse().ok().map(|p| (host, Some(p))),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => port.parse().ok().map(|p| (host, Some(p))),
        None => Some((authority, None)),
    }
}

fn has_whitespace(value: &str) -> bool {
    value.chars().any(char::is_whitespace)
}

/// `domain`: a hostname, optionally followed by `:port` and a path (`x.example.com:80/a/b`).
pub fn check_domain(value: &str) -> Result<(), String> {
    let err = || Err(format!("'{value}' is not a valid domain"));
    if has_whitespace(value) {
        return err();
    }
    let authority = value.split_once('/').map_or(value, |(a, _)| a);
    match split_host_port(authority) {
        Some((host, _)) if check_host(host) => Ok(()),
        _ => err(),
    }
}

/// `wildcard_domain`: a domain, optionally already prefixed with `*.`.
pub fn check_wildcard_domain(value: &str) -> Result<(), String> {
    let bare = value.strip_prefix("*.").unwrap_or(value);
    if bare.contains('*') || check_domain(bare).is_err() {
        return Err(format!("'{value}' is not a valid wildcard domain"));
    }
    Ok(())
}

/// The `to_wildcard` accessor of `wildcard_domain`: prefixes `*.` unless already there.
pub fn to_wildcard(value: &str) -> String {
    if value.starts_with("*.") {
        value.to_string()
    } else {
        format!("*.{value}")
    }
}

/// `email`: `local@host` with a non-empty local part and a hostname.
pub fn check_email(value: &str) -> Result<(), String> {
    let err = || Err(format!("'{value}' is not a valid email address"));
    if has_whitespace(value) {
        return err();
    }
    match value.rsplit_once('@') {
        Some((local, host)) if !local.is_empty() && !local.contains('@') && is_hostname(host) => {
            Ok(())
        }
        _ => err(),
    }
}

/// A URL whose scheme is one of `schemes` (compared case-insensitively): `scheme://authority`
/// followed by anything without whitespace. The authority may carry `user@`.
fn check_url_with(value: &str, schemes: &[&str]) -> bool {
    if has_whitespace(value) {
        return false;
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    if !schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return false;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    matches!(split_host_port(authority), Some((host, _)) if check_host(host))
}

/// `http_url`: an `http://` or `https://` URL with a host.
pub fn check_http_url(value: &str) -> Result<(), String> {
    if check_url_with(value, &["http", "https"]) {
        Ok(())
    } else {
        Err(format!("'{value}' is not a valid http or https URL"))
    }
}

/// `ldap_url`: one `ldap://` or `ldaps://` URL, or several separated by spaces.
pub fn check_ldap_url(value: &str) -> Result<(), String> {
    let urls: Vec<&str> = value.split_whitespace().collect();
    if urls.is_empty() {
        return Err(format!("'{value}' is not a valid LDAP URL"));
    }
    for url in urls {
        if !check_url_with(url, &["ldap", "ldaps"]) {
            return Err(format!(
                "'{url}' is not a valid LDAP URL (ldap:// or ldaps://)"
            ));
        }
    }
    Ok(())
}

/// A port number written as text (`"443"`).
pub fn parse_port(value: &str) -> Option<u16> {
    value.trim().parse::<u16>().ok()
}

/// A port or a port range `low-high` (`"1024-2048"`), as used by firewall-like settings.
pub fn check_port_range(value: &str) -> Result<(), String> {
    let err = || Err(format!("'{value}' is not a valid port or port range"));
    match value.split_once('-') {
        Some((low, high)) => match (parse_port(low), parse_port(high)) {
            (Some(l), Some(h)) if l <= h => Ok(()),
            _ => err(),
        },
        None => parse_port(value).map(|_| ()).map_or_else(err, Ok),
    }
}

/// A PEM document containing at least one block of the given label
/// (`CERTIFICATE`, `PRIVATE KEY`…); only the armour is checked, not the DER inside.
pub fn looks_like_pem(value: &str, labels: &[&str]) -> bool {
    labels.iter().any(|label| {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        match value.find(&begin) {
            Some(at) => value.get(at..).is_some_and(|rest| rest.contains(&end)),
            None => false,
        }
    })
}

/// A UUID in its canonical hyphenated form (`8-4-4-4-12` hex digits).
pub fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert!(is_hostname("example.com"));
        assert!(is_hostname("a-b.example_1.com"));
        assert!(is_hostname("localhost"));
        assert!(!is_hostname(""));
        assert!(!is_hostname("a..b"));
        assert!(!is_hostname("-a.com"));
        assert!(!is_hostname("a-.com"));
        assert!(!is_hostname("a b.com"));
        assert!(!is_hostname(&"a".repeat(64)));
    }

    #[test]
    fn ip_address_forms() {
        assert!(check_ip_address("10.0.0.1").is_ok());
        assert!(check_ip_address("::1").is_ok());
        assert!(check_ip_address("10.0.0.256").is_err());
        assert!(check_ip_address(" 10.0.0.1").is_err());
        assert!(check_ip_address("example.com").is_err());
    }

    #[test]
    fn ip_ranges_forms() {
        assert!(check_ip_ranges("1.1.1.1-1.1.1.4,2.2.2.1").is_ok());
        assert!(check_ip_ranges("1.1.1.1 - 1.1.1.4, 2.2.2.1").is_ok());
        assert!(check_ip_ranges("10.0.0.0/24").is_ok());
        assert!(check_ip_ranges("fd00::1-fd00::9").is_ok());
        assert!(check_ip_ranges("1.1.1.4-1.1.1.1").is_err());
        assert!(check_ip_ranges("1.1.1.1-fd00::1").is_err());
        assert!(check_ip_ranges("10.0.0.0/33").is_err());
        assert!(check_ip_ranges("1.1.1").is_err());
        assert!(check_ip_ranges(" , ").is_err());
        assert_eq!(
            parse_ip_range("1.1.1.1-1.1.1.2"),
            Ok(IpRange::Range(
                "1.1.1.1".parse().unwrap(),
                "1.1.1.2".parse().unwrap()
            ))
        );
    }

    #[test]
    fn network_addresses() {
        assert!(check_network_address("10.0.0.1").is_ok());
        assert!(check_network_address("nats.service.internal").is_ok());
        assert!(check_network_address("bad host").is_err());
        assert!(check_network_address_list("1.1.1.1,example.com, foo.bar.example.com").is_ok());
        assert!(check_network_address_list("1.1.1.1,bad host").is_err());
        assert!(check_network_address_list("").is_err());
        assert_eq!(split_comma_list("a, b,,c "), vec!["a", "b", "c"]);
    }

    #[test]
    fn domains() {
        assert!(check_domain("example.com").is_ok());
        assert!(check_domain("x.example.com:80/a/b").is_ok());
        assert!(check_domain("10.0.0.1").is_ok());
        assert!(check_domain("x.example.com:99999").is_err());
        assert!(check_domain("exa mple.com").is_err());
        assert!(check_domain("http://example.com").is_err());
        assert!(check_wildcard_domain("example.com").is_ok());
        assert!(check_wildcard_domain("*.apps.example.com").is_ok());
        assert!(check_wildcard_domain("*.*.example.com").is_err());
        assert!(check_wildcard_domain("a*.example.com").is_err());
        assert_eq!(to_wildcard("example.com"), "*.example.com");
        assert_eq!(to_wildcard("*.example.com"), "*.example.com");
    }

    #[test]
    fn emails() {
        assert!(check_email("ops@example.com").is_ok());
        assert!(check_email("first.last+tag@mail.example.com").is_ok());
        assert!(check_email("@example.com").is_err());
        assert!(check_email("ops@").is_err());
        assert!(check_email("ops example.com").is_err());
        assert!(check_email("ops@exa mple.com").is_err());
    }

    #[test]
    fn urls() {
        assert!(check_http_url("https://uaa.example.com").is_ok());
        assert!(check_http_url("http://10.0.0.1:8080/path?q=1#f").is_ok());
        assert!(check_http_url("HTTPS://user:pw@[::1]:8443/x").is_ok());
        assert!(check_http_url("ftp://example.com").is_err());
        assert!(check_http_url("example.com").is_err());
        assert!(check_http_url("https://").is_err());
        assert!(check_http_url("https://exa mple.com").is_err());
        assert!(check_ldap_url("ldap://ldap.example.com:389").is_ok());
        assert!(check_ldap_url("ldaps://a.example.com ldaps://b.example.com:636").is_ok());
        assert!(check_ldap_url("https://ldap.example.com").is_err());
        assert!(check_ldap_url("ldap://a.example.com http://b").is_err());
        assert!(check_ldap_url("  ").is_err());
    }

    #[test]
    fn ports_pem_uuid() {
        assert!(check_port_range("443").is_ok());
        assert!(check_port_range("1024-2048").is_ok());
        assert!(check_port_range("2048-1024").is_err());
        assert!(check_port_range("70000").is_err());
        assert!(check_port_range("a-b").is_err());
        assert!(looks_like_pem(
            "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n",
            &["CERTIFICATE"]
        ));
        assert!(!looks_like_pem(
            "-----BEGIN CERTIFICATE-----\nMII\n",
            &["CERTIFICATE"]
        ));
        assert!(is_uuid("28bab1d3-4a5b-4c6d-8e9f-0123456789ab"));
        assert!(!is_uuid("28bab1d34a5b4c6d8e9f0123456789ab"));
        assert!(!is_uuid("28bab1d3-4a5b-4c6d-8e9f-0123456789ag"));
    }
}
