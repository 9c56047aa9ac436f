//! Install-time verifiers: checks Apply Changes runs before anything is deployed, which an
//! operator may disable one by one (om `disable-director-verifiers`,
//! `disable-product-verifiers`). Pure, so the browser can show the same findings the server
//! enforces.
//!
//! A verifier has an Ops Manager-style type name (`PksPlanNamesVerifier`,
//! `NetworksExistenceVerifier`…) and turns a product's staged values (or the Director's
//! settings) into [`Finding`]s, each naming the form (its label) and the field (its label and
//! property reference) the operator must change.
//!
//! Files: [`backing`] (a MySQL database and an S3 bucket a configuration points at: Ops
//! Manager's `MysqlDatabaseVerifier`, `BlobstoreVerifier` and the Director's
//! `DirectorConfigurationVerifier`), [`hostname`] (does a certificate cover a hostname: SAN/CN and wildcard rules),
//! [`pks`] (the bundled PKS tile's verifiers, enforcing what its help text promises),
//! [`director`] (the Director's network, AZ and gateway verifiers), [`iaas`] (the Director's
//! IaaS configuration verifier), [`static_ips`] (Ops Manager's `StaticIpsVerifier` of the
//! static IPs an operator gives a product's jobs), [`declared`] (Ops Manager's verifiers a tile names in
//! `install_time_verifiers`, such as `Verifiers::SsoUrlVerifier`: their properties resolved
//! and checked), `tests.rs`.
//!
//! Which verifiers a product has: those its name selects (the bundled PKS tile,
//! [`crate::products::PKS_NAME`]), those its `install_time_verifiers` entries name
//! (`Verifiers::PksPlanNamesVerifier` or the bare type), see [`for_product`], and Ops Manager's
//! own that it names ([`declared::of_product`]).
//!
//! Some checks need the network (is the vCenter reachable, does the SMTP server take these
//! credentials). This crate does no I/O, so such a verifier answers with a [`Reach`]: what
//! the server must try, and the finding it reports when that fails.

pub mod backing;
pub mod declared;
pub mod director;
pub mod hostname;
pub mod iaas;
pub mod pks;
pub mod static_ips;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cloud_config::DirectorConfig;
use crate::forms::{FormTree, Input};
use crate::metadata::ProductTemplate;
use crate::properties::defaults::effective_value;
use crate::properties::staged::StagedValues;

pub use hostname::CertificateNames;

/// One thing a verifier found, named so the operator can find the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The verifier's type (`PksPlanNamesVerifier`).
    pub verifier: String,
    /// The form's name (`plan2`, `networks_and_azs`) and label (`Plan 2`).
    pub form: String,
    pub form_label: String,
    /// The field's property reference and label.
    pub reference: String,
    pub field_label: String,
    pub message: String,
    /// The staged product whose field this is (its GUID), when a Director verifier names a
    /// product's field (an address a product's job is given); `None`: the owner's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
}

impl Finding {
    /// The one-line text Apply Changes, the API and Review show:
    /// `Plan 2 › Name (.properties.plan2_selector.active.name): …`.
    pub fn text(&self) -> String {
        format!(
            "{} › {} ({}): {}",
            self.form_label, self.field_label, self.reference, self.message
        )
    }
}

/// A check only the caller can make, because it needs the network: reach `target`; when that
/// fails, `at` is the finding, with the reason appended to its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub target: Target,
    pub at: Finding,
    /// Where a refusal of the credentials is named (the credentials field), when the target
    /// carries some.
    pub credentials_at: Option<Finding>,
}

/// What to reach. Credentials are carried in memory only; nothing here is ever shown.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// A TCP connection to `host:port`, and a TLS handshake on it when `tls` (the certificate
    /// is not judged: reachability only).
    Connect { host: String, port: u16, tls: bool },
    /// A host answers at all: a TCP connection accepted or refused by it within the timeout
    /// (a gateway rarely listens, but a refusal proves it is there).
    Host { host: String },
    /// Some name under `domain` resolves (a wildcard DNS record).
    Wildcard { domain: String },
    /// A GET answered 2xx, its body matching `must_match` (a regex) when given.
    Http {
        url: String,
        must_match: Option<String>,
        skip_tls_verification: bool,
    },
    /// An SMTP server greets, answers EHLO, and accepts `login` when given.
    Smtp {
        host: String,
        port: u16,
        helo: String,
        starttls: bool,
        login: Option<SmtpLogin>,
    },
    /// An NTP server answers an SNTP request (UDP) with the time.
    Ntp { host: String, port: u16 },
    /// An LDAP server accepts a simple bind with `dn` and `password`.
    LdapBind {
        host: String,
        port: u16,
        tls: bool,
        dn: String,
        password: String,
    },
    /// A MySQL server signs `username` in to `database` (nothing is run).
    Mysql {
        host: String,
        port: u16,
        username: String,
        password: String,
        database: String,
    },
    /// Nothing answers at `ip`: an address about to be given to a new VM is free.
    Unused { ip: String },
    /// A vCenter signs `username` in (its Automation API) and shows it `datacenter` and each
    /// of `datastores` in it.
    VcenterInventory {
        host: String,
        port: u16,
        username: String,
        password: String,
        datacenter: String,
        datastores: Vec<String>,
    },
    /// An S3 bucket takes a small object written and deleted with the key pair (SigV4). No
    /// endpoint: AWS's for the region.
    S3Write {
        endpoint: Option<String>,
        region: String,
        bucket: String,
        access_key_id: String,
        secret_access_key: String,
        path_style: bool,
    },
}

/// An SMTP AUTH: mechanism (`plain`, `login`, `cram_md5`) and credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpLogin {
    pub mechanism: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Target {
    /// Never prints a password (a `Reach` may be logged by a test or a panic).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Connect { host, port, tls } => write!(f, "connect {host}:{port} tls={tls}"),
            Target::Host { host } => write!(f, "host {host}"),
            Target::Wildcard { domain } => write!(f, "wildcard *.{domain}"),
            Target::Ntp { host, port } => write!(f, "NTP {host}:{port}"),
            Target::Http { url, .. } => write!(f, "GET {url}"),
            Target::Smtp { host, port, .. } => write!(f, "SMTP {host}:{port}"),
            Target::LdapBind { host, port, dn, .. } => write!(f, "LDAP bind {dn} at {host}:{port}"),
            Target::Mysql {
                host,
                port,
                username,
                database,
                ..
            } => write!(f, "MySQL {username}@{host}:{port}/{database}"),
            Target::Unused { ip } => write!(f, "{ip} unused"),
            Target::VcenterInventory {
                host,
                port,
                username,
                datacenter,
                ..
            } => write!(f, "vCenter {username}@{host}:{port} sees {datacenter}"),
            Target::S3Write {
                endpoint, bucket, ..
            } => write!(
                f,
                "S3 write to {bucket} at {}",
                endpoint.as_deref().unwrap_or("AWS")
            ),
        }
    }
}

/// What product verifiers need besides the metadata and the staged values.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyContext<'a> {
    /// The Director's settings (its networks), when known.
    pub director: Option<&'a DirectorConfig>,
    /// The name of the network the product is placed on (Assign AZs and Networks), when set.
    pub network: Option<&'a str>,
    /// What each `rsa_cert_credentials` property's certificate covers, by property reference,
    /// or why it cannot be read. Filled by whoever can parse PEM (the server); a certificate
    /// missing here is not checked.
    pub certificates: Option<&'a BTreeMap<String, Result<CertificateNames, String>>>,
    /// Static IPs the other staged products give their jobs on this product's network: the
    /// address and who has it (`job router of Product X`). See [`static_ips::addresses`].
    pub taken_ips: Option<&'a BTreeMap<crate::cloud_config::Ip, String>>,
    /// The names of the products present beside this one, for instance counts that depend on
    /// them (`zero_if`); none when not given.
    pub present_products: Option<&'a [String]>,
}

type Run = fn(&ProductTemplate, &StagedValues, &VerifyContext<'_>) -> Vec<Finding>;

/// A product verifier Tileworks runs.
#[derive(Clone, Copy)]
pub struct ProductVerifier {
    /// The type name of the API (`GET …/verifiers/install_time`).
    pub name: &'static str,
    /// What it checks, for the operator.
    pub description: &'static str,
    run: Run,
}

impl std::fmt::Debug for ProductVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl ProductVerifier {
    /// Runs the verifier on a product's staged values.
    pub fn run(
        &self,
        template: &ProductTemplate,
        staged: &StagedValues,
        ctx: &VerifyContext<'_>,
    ) -> Vec<Finding> {
        (self.run)(template, staged, ctx)
    }
}

/// Every product verifier Tileworks knows.
pub const PRODUCT_VERIFIERS: &[ProductVerifier] = &[
    ProductVerifier {
        name: pks::API_CERTIFICATE,
        description: "The PKS API certificate covers the API hostname (SANs, else CN; a wildcard covers one label)",
        run: pks::api_certificate,
    },
    ProductVerifier {
        name: pks::PLAN_NAMES,
        description: "Active plans have unique names",
        run: pks::plan_names,
    },
    ProductVerifier {
        name: pks::NETWORK_CIDRS,
        description: "The pod and service CIDRs overlap neither each other nor the Director's networks",
        run: pks::network_cidrs,
    },
    ProductVerifier {
        name: pks::WORKER_COUNTS,
        description: "Each plan's default worker count is within its maximum",
        run: pks::worker_counts,
    },
    ProductVerifier {
        name: pks::ADDONS_YAML,
        description: "Each plan's add-ons are Kubernetes YAML documents that parse",
        run: pks::addons_yaml,
    },
    ProductVerifier {
        name: pks::DRAIN_SETTINGS,
        description: "Drain settings are consistent (forcing a node to drain after the timeout needs a timeout)",
        run: pks::drain_settings,
    },
    ProductVerifier {
        name: static_ips::STATIC_IPS,
        description: "Each job's static IPs lie in the static ranges of a subnet of the product's network, outside reserved ranges and the gateway, each given once",
        run: static_ips::static_ips,
    },
];

/// The verifiers of a product: those its name selects and those its `install_time_verifiers`
/// name, each once, in [`PRODUCT_VERIFIERS`] order.
pub fn for_product(template: &ProductTemplate) -> Vec<&'static ProductVerifier> {
    let named = |v: &ProductVerifier| {
        template.install_time_verifiers.iter().any(|entry| {
            let name = entry
                .name
                .strip_prefix("Verifiers::")
                .unwrap_or(&entry.name);
            name == v.name
        })
    };
    PRODUCT_VERIFIERS
        .iter()
        .filter(|v| (template.name == crate::products::PKS_NAME && pks::is_pks(v.name)) || named(v))
        .collect()
}

/// Whether a failing verifier only warns: the tile's `install_time_verifiers` entry says
/// `ignorable: true`; Tileworks's own verifiers block.
pub fn ignorable(template: &ProductTemplate, verifier: &str) -> bool {
    template.install_time_verifiers.iter().any(|entry| {
        entry.ignorable
            && entry
                .name
                .strip_prefix("Verifiers::")
                .unwrap_or(&entry.name)
                == verifier
    })
}

/// Where the forms show each field: reference → (form name, form label, field label).
#[derive(Debug, Clone, Default)]
pub struct Labels {
    by_reference: BTreeMap<String, (String, String, String)>,
}

impl Labels {
    pub fn of(template: &ProductTemplate) -> Labels {
        fn walk(
            inputs: &[Input],
            form: &(String, String),
            out: &mut BTreeMap<String, (String, String, String)>,
        ) {
            for input in inputs {
                out.entry(input.reference.clone())
                    .or_insert_with(|| (form.0.clone(), form.1.clone(), input.label.clone()));
                for option in &input.selector_options {
                    walk(&option.inputs, form, out);
                }
            }
        }
        let mut by_reference = BTreeMap::new();
        for form in FormTree::build(template).forms {
            walk(
                &form.inputs,
                &(form.name.clone(), form.label.clone()),
                &mut by_reference,
            );
        }
        Labels { by_reference }
    }

    /// A finding on `reference`, named by its form and label (the reference itself when no
    /// form shows it).
    pub fn finding(&self, verifier: &str, reference: &str, message: impl Into<String>) -> Finding {
        let (form, form_label, field_label) = self
            .by_reference
            .get(reference)
            .cloned()
            .unwrap_or_else(|| (String::new(), String::new(), reference.to_owned()));
        Finding {
            verifier: verifier.to_owned(),
            form,
            form_label,
            reference: reference.to_owned(),
            field_label,
            message: message.into(),
            product: None,
        }
    }

    /// The label the forms give `reference` (the reference when none).
    pub fn label(&self, reference: &str) -> String {
        self.by_reference
            .get(reference)
            .map_or_else(|| reference.to_owned(), |(_, _, l)| l.clone())
    }

    /// The label of the form showing `reference`.
    pub fn form_label(&self, reference: &str) -> String {
        self.by_reference
            .get(reference)
            .map_or_else(String::new, |(_, l, _)| l.clone())
    }
}

/// A property's value: the staged one, else its default (`None` when blank or unknown).
pub(crate) fn value_of(
    template: &ProductTemplate,
    staged: &StagedValues,
    reference: &str,
) -> Option<Value> {
    let property = template.property(reference)?;
    effective_value(&property.reference, property.blueprint, staged, &[]).filter(|v| match v {
        Value::String(s) => !s.trim().is_empty(),
        Value::Null => false,
        _ => true,
    })
}

#[cfg(test)]
mod tests;
