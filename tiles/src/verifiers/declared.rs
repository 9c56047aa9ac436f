//! Ops Manager's own install-time verifiers that a tile names in `install_time_verifiers`
//! (`Verifiers::SsoUrlVerifier`, `Verifiers::SmtpAuthenticationVerifier`…): each entry's
//! `properties` resolved against the staged values, their shapes checked, and what must be
//! reached handed back as [`Reach`]es (the caller does the I/O).
//!
//! `properties` is a map from the verifier's parameter to a property reference
//! (`.properties.smtp_address`, `.job.prop`) or a literal; early tiles list the references
//! alone, in the verifier's parameter order (`- saml_login.sso_url`), which is read
//! positionally. A verifier with nothing to check (its URL or address left blank, as an
//! optional feature is) finds nothing: completeness speaks for required fields.
//!
//! `ignorable` and `run_on` come from the tile's entry: [`Declared::ignorable`],
//! [`Declared::upgrades_only`] with [`is_major_or_minor_change`].

use serde_json::Value;

use super::backing;
use super::iaas::url_endpoint;
use super::{value_of, Finding, Labels, Reach, SmtpLogin, Target};
use crate::metadata::{FormType, ProductTemplate, Verifier};
use crate::properties::staged::StagedValues;

pub const WILDCARD_DOMAIN: &str = "WildcardDomainVerifier";
pub const HTTP_SUCCESS: &str = "HttpSuccessVerifier";
pub const SSO_URL: &str = "SsoUrlVerifier";
pub const SMTP_AUTHENTICATION: &str = "SmtpAuthenticationVerifier";
pub const LDAP_BIND: &str = "LDAPBindVerifier";
pub const VSPHERE_CONFIGURATION: &str = "VsphereConfigurationVerifier";
pub const MYSQL_DATABASE: &str = "MysqlDatabaseVerifier";
pub const BLOBSTORE: &str = "BlobstoreVerifier";

/// The ones Tileworks runs: type, parameters in Ops Manager's order, what it checks.
pub const KNOWN: &[(&str, &[&str], &str)] = &[
    (
        WILDCARD_DOMAIN,
        &["domain"],
        "A name under the wildcard domain resolves",
    ),
    (
        HTTP_SUCCESS,
        &[
            "host",
            "port",
            "path",
            "scheme",
            "must_match_regex",
            "skip_ssl_verification",
        ],
        "The URL answers a GET with 2xx (and its body matches the pattern, when one is given)",
    ),
    (SSO_URL, &["url"], "The SSO URL answers a GET with 2xx"),
    (
        SMTP_AUTHENTICATION,
        &[
            "credentials",
            "address",
            "port",
            "helo_domain",
            "authentication",
            "enable_starttls_auto",
        ],
        "The SMTP server greets and accepts the credentials",
    ),
    (
        LDAP_BIND,
        &["url", "credentials"],
        "The LDAP server accepts a simple bind with the credentials",
    ),
    (
        VSPHERE_CONFIGURATION,
        &[
            "vcenter_hosturl",
            "vcenter_credentials",
            "datacenter",
            "datastore_pattern",
        ],
        "The vCenter settings are complete and the vCenter answers over TLS",
    ),
    (
        MYSQL_DATABASE,
        &["host", "port", "username", "password", "database"],
        "The MySQL server signs the user in to the database",
    ),
    (
        BLOBSTORE,
        &[
            "access_key_id",
            "secret_access_key",
            "endpoint",
            "bucket_name",
            "region",
            "signature_version",
        ],
        "The S3 bucket takes an object written and deleted with the key pair",
    ),
];

/// One verifier a tile names, as Tileworks runs it.
#[derive(Debug, Clone)]
pub struct Declared<'a> {
    pub kind: &'static str,
    pub description: &'static str,
    params: &'static [&'static str],
    entry: &'a Verifier,
}

/// The verifiers of [`KNOWN`] a tile's `install_time_verifiers` name, in the tile's order,
/// each once (the first entry).
pub fn of_product(template: &ProductTemplate) -> Vec<Declared<'_>> {
    let mut out: Vec<Declared<'_>> = Vec::new();
    for d in known(&template.install_time_verifiers) {
        if out.iter().all(|o| o.kind != d.kind) {
            out.push(d);
        }
    }
    out
}

/// The verifiers of [`KNOWN`] a form names in its own `verifiers`, which Ops Manager runs when
/// the form is saved: every entry, in order (a form may check several databases with the same
/// verifier, as PAS's Databases form does).
pub fn of_form(form: &FormType) -> Vec<Declared<'_>> {
    known(&form.verifiers)
}

fn known(entries: &[Verifier]) -> Vec<Declared<'_>> {
    entries
        .iter()
        .filter_map(|entry| {
            let name = entry
                .name
                .strip_prefix("Verifiers::")
                .unwrap_or(&entry.name);
            let (kind, params, description) = KNOWN.iter().find(|(k, _, _)| *k == name)?;
            Some(Declared {
                kind,
                description,
                params,
                entry,
            })
        })
        .collect()
}

/// Whether `staged` changes the major or minor version of `deployed` (`1.2.3` → `1.3.0`
/// does, `1.2.3` → `1.2.4-build.1` does not). Unreadable versions count as a change: a
/// verifier is better run once too often than skipped.
pub fn is_major_or_minor_change(deployed: &str, staged: &str) -> bool {
    fn major_minor(v: &str) -> Option<(u64, u64)> {
        let core = v.trim().split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
        Some((major, minor))
    }
    match (major_minor(deployed), major_minor(staged)) {
        (Some(d), Some(s)) => d != s,
        _ => true,
    }
}

/// A parameter: where its value comes from (the property reference, or
/// `<Verifier>.<param>` for a literal, so a finding can still name it) and the value.
struct Param {
    reference: String,
    value: Option<Value>,
}

impl Declared<'_> {
    /// The entry's `ignorable`: a finding only warns.
    pub fn ignorable(&self) -> bool {
        self.entry.ignorable
    }

    /// `run_on: major_or_minor_upgrades`: run only when the version's major or minor changes.
    pub fn upgrades_only(&self) -> bool {
        self.entry.run_on.as_deref() == Some("major_or_minor_upgrades")
    }

    fn param(&self, template: &ProductTemplate, staged: &StagedValues, name: &str) -> Param {
        let literal = |value: Option<Value>| Param {
            reference: format!("{}.{name}", self.kind),
            value,
        };
        let props = &self.entry.properties;
        // Early tiles: the references as a list, read in the verifier's parameter order.
        let positional = !props.is_empty() && props.values().all(Value::is_null);
        let given = if positional {
            let at = self.params.iter().position(|p| *p == name);
            at.and_then(|i| props.keys().nth(i))
                .map(|k| Value::String(k.clone()))
        } else {
            props.get(name).cloned()
        };
        match given {
            Some(Value::String(s)) => match template.property(s.trim()) {
                Some(p) => Param {
                    value: value_of(template, staged, &p.reference),
                    reference: p.reference,
                },
                None => literal(Some(Value::String(s))).non_blank(),
            },
            other => literal(other).non_blank(),
        }
    }

    /// Checks the parameters' shapes; what must be reached comes back as [`Reach`]es.
    pub fn run(
        &self,
        template: &ProductTemplate,
        staged: &StagedValues,
        labels: &Labels,
    ) -> (Vec<Finding>, Vec<Reach>) {
        let p = |name: &str| self.param(template, staged, name);
        let at =
            |param: &Param, message: &str| labels.finding(self.kind, &param.reference, message);
        let mut found = Vec::new();
        let mut reach = Vec::new();
        match self.kind {
            WILDCARD_DOMAIN => {
                let domain = p("domain");
                if let Some(d) = domain.text() {
                    let d = d.trim_start_matches("*.").trim_end_matches('.');
                    if super::iaas::host_and_port(d, 0).is_ok() && !d.contains(':') {
                        reach.push(Reach {
                            target: Target::Wildcard { domain: d.into() },
                            at: at(&domain, &format!("no name under *.{d} resolves")),
                            credentials_at: None,
                        });
                    } else {
                        found.push(at(&domain, &format!("'{d}' is not a domain")));
                    }
                }
            }
            HTTP_SUCCESS => {
                let host = p("host");
                if let Some(h) = host.text() {
                    let scheme = p("scheme").text().unwrap_or_else(|| "https".into());
                    let port = p("port");
                    let path = p("path").text().unwrap_or_default();
                    let pattern = p("must_match_regex");
                    let skip = p("skip_ssl_verification").flag();
                    let authority = match port.number() {
                        Some(n) => format!("{h}:{n}"),
                        None => h.clone(),
                    };
                    let slash = if path.starts_with('/') || path.is_empty() {
                        ""
                    } else {
                        "/"
                    };
                    let url = format!("{scheme}://{authority}{slash}{path}");
                    let must_match = pattern.text().map(|r| {
                        r.strip_prefix('/')
                            .and_then(|r| r.strip_suffix('/'))
                            .unwrap_or(&r)
                            .to_owned()
                    });
                    if port.value.is_some() && port.number().is_none() {
                        found.push(at(&port, "is not a port (1–65535)"));
                    } else if let Err(e) = url_endpoint(&url) {
                        found.push(at(&host, &e));
                    } else if let Some(Err(e)) = must_match.as_deref().map(regex::Regex::new) {
                        found.push(at(&pattern, &format!("is not a regular expression: {e}")));
                    } else {
                        reach.push(Reach {
                            target: Target::Http {
                                url: url.clone(),
                                must_match,
                                skip_tls_verification: skip,
                            },
                            at: at(&host, &format!("GET {url} did not succeed")),
                            credentials_at: None,
                        });
                    }
                }
            }
            SSO_URL => {
                let url = p("url");
                if let Some(u) = url.text() {
                    match url_endpoint(&u) {
                        Err(e) => found.push(at(&url, &e)),
                        Ok(_) => reach.push(Reach {
                            target: Target::Http {
                                url: u.clone(),
                                must_match: None,
                                skip_tls_verification: false,
                            },
                            at: at(&url, &format!("GET {u} did not succeed")),
                            credentials_at: None,
                        }),
                    }
                }
            }
            SMTP_AUTHENTICATION => {
                let address = p("address");
                if let Some(host) = address.text() {
                    let port = p("port");
                    let credentials = p("credentials");
                    let mechanism = p("authentication")
                        .text()
                        .unwrap_or_else(|| "plain".into())
                        .to_ascii_lowercase();
                    let login = credentials.login();
                    if port.number().is_none() {
                        found.push(at(&port, "is not a port (1–65535)"));
                    } else if login.is_some()
                        && !["plain", "login", "cram_md5"].contains(&mechanism.as_str())
                    {
                        found.push(at(
                            &p("authentication"),
                            &format!("'{mechanism}' is not plain, login or cram_md5"),
                        ));
                    } else {
                        let port = port.number().unwrap_or(25);
                        reach.push(Reach {
                            target: Target::Smtp {
                                host: host.clone(),
                                port,
                                helo: p("helo_domain")
                                    .text()
                                    .unwrap_or_else(|| "localhost".into()),
                                starttls: p("enable_starttls_auto").flag(),
                                login: login.map(|(username, password)| SmtpLogin {
                                    mechanism,
                                    username,
                                    password,
                                }),
                            },
                            at: at(&address, &format!("the SMTP server {host}:{port} failed")),
                            credentials_at: Some(at(&credentials, "the SMTP server refused them")),
                        });
                    }
                }
            }
            LDAP_BIND => {
                let url = p("url");
                if let Some(u) = url.text() {
                    // An LDAP URL property may list several servers; the first is tried.
                    let first = u.split_whitespace().next().unwrap_or_default().to_owned();
                    let parsed = first
                        .split_once("://")
                        .map(|(scheme, rest)| (scheme.to_ascii_lowercase(), rest));
                    let credentials = p("credentials");
                    match parsed {
                        Some((scheme, rest)) if scheme == "ldap" || scheme == "ldaps" => {
                            let tls = scheme == "ldaps";
                            let as_http =
                                format!("{}://{rest}", if tls { "https" } else { "http" });
                            match (url_endpoint(&as_http), credentials.login()) {
                                (Err(e), _) => found.push(at(&url, &e)),
                                (Ok(_), None) => {
                                    found.push(at(&credentials, "a bind needs a DN and a password"))
                                }
                                (Ok((host, port, _)), Some((dn, password))) => {
                                    let port = if rest.contains(':') {
                                        port
                                    } else if tls {
                                        636
                                    } else {
                                        389
                                    };
                                    reach.push(Reach {
                                        target: Target::LdapBind {
                                            host: host.clone(),
                                            port,
                                            tls,
                                            dn,
                                            password,
                                        },
                                        at: at(
                                            &url,
                                            &format!("the LDAP server {host}:{port} failed"),
                                        ),
                                        credentials_at: Some(at(
                                            &credentials,
                                            "the LDAP server refused the bind",
                                        )),
                                    });
                                }
                            }
                        }
                        _ => found.push(at(
                            &url,
                            &format!("'{first}' is not an ldap:// or ldaps:// URL"),
                        )),
                    }
                }
            }
            VSPHERE_CONFIGURATION => {
                let host = p("vcenter_hosturl");
                if let Some(h) = host.text() {
                    for name in ["vcenter_credentials", "datacenter", "datastore_pattern"] {
                        let param = p(name);
                        let blank = match name {
                            "vcenter_credentials" => param.login().is_none(),
                            _ => param.text().is_none(),
                        };
                        if blank {
                            found.push(at(&param, "can't be blank"));
                        }
                    }
                    if let Some(pattern) = p("datastore_pattern").text() {
                        if let Err(e) = regex::Regex::new(&pattern) {
                            found.push(at(
                                &p("datastore_pattern"),
                                &format!("is not a regular expression: {e}"),
                            ));
                        }
                    }
                    let bare = h.split_once("://").map_or(h.as_str(), |(_, r)| r);
                    let bare = bare.split('/').next().unwrap_or_default();
                    match super::iaas::host_and_port(bare, 443) {
                        Err(e) => found.push(at(&host, &e)),
                        Ok((host_name, port)) if found.is_empty() => reach.push(Reach {
                            target: Target::Connect {
                                host: host_name.clone(),
                                port,
                                tls: true,
                            },
                            at: at(
                                &host,
                                &format!("the vCenter at {host_name}:{port} cannot be reached"),
                            ),
                            credentials_at: None,
                        }),
                        Ok(_) => {}
                    }
                }
            }
            MYSQL_DATABASE => {
                let settings = backing::MysqlSettings {
                    host: p("host").text(),
                    port: p("port").text(),
                    username: p("username").text(),
                    password: p("password").secret(),
                    database: p("database").text(),
                };
                let (f, r) = backing::mysql(&settings, &|name, message| at(&p(name), &message));
                found.extend(f);
                reach.extend(r);
            }
            BLOBSTORE => {
                let settings = backing::S3Settings {
                    endpoint: p("endpoint").text(),
                    bucket_name: p("bucket_name").text(),
                    region: p("region").text(),
                    access_key_id: p("access_key_id").text(),
                    secret_access_key: p("secret_access_key").secret(),
                    signature_version: p("signature_version").text(),
                    url_style: None,
                };
                let (f, r) = backing::s3(&settings, &|name, message| at(&p(name), &message));
                found.extend(f);
                reach.extend(r);
            }
            _ => {}
        }
        (found, reach)
    }
}

impl Param {
    fn non_blank(mut self) -> Param {
        if matches!(&self.value, Some(Value::String(s)) if s.trim().is_empty())
            || matches!(self.value, Some(Value::Null))
        {
            self.value = None;
        }
        self
    }

    /// A text value (numbers spelled out).
    fn text(&self) -> Option<String> {
        match self.value.as_ref()? {
            Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A `secret` property's value (`{"secret": "…"}`), or a plain text one.
    fn secret(&self) -> Option<String> {
        match self.value.as_ref()? {
            Value::Object(o) => o
                .get("secret")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    }

    fn number(&self) -> Option<u16> {
        self.text()?.parse().ok().filter(|p| *p > 0)
    }

    fn flag(&self) -> bool {
        match &self.value {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    /// `{identity, password}` of a `simple_credentials` value, both given.
    fn login(&self) -> Option<(String, String)> {
        let v = self.value.as_ref()?;
        let identity = v.get("identity").and_then(Value::as_str)?.trim();
        let password = v.get("password").and_then(Value::as_str)?;
        (!identity.is_empty() && !password.is_empty())
            .then(|| (identity.to_owned(), password.to_owned()))
    }
}
