//! The syntax tree of a `(( ))` expression, and the classification of references.
//!
//! A reference is classified when it is parsed (global property, job property, job accessor,
//! product field, `$context`…), so that the renderer's [`Resolver`](super::Resolver) can match on
//! what is asked for instead of re-splitting dotted strings, and lint can check references
//! statically against the metadata.

use std::fmt;

/// One parsed expression: the part between `((` and `))`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A quoted string, `true`/`false`, or a number.
    Literal(Literal),
    /// A reference to a property, a job, a product or a `$context`.
    Ref(Reference),
    /// A list literal; real tiles only use `[]`, but elements are allowed.
    List(Vec<Expr>),
    /// `a || b || c`: the first operand that is present (see [`is_present`](super::is_present)),
    /// else the last one.
    Or(Vec<Expr>),
    /// `cond ? then : otherwise`.
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
}

/// A literal value written inside an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    Int(i64),
    Float(f64),
}

/// What a reference points at, already classified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// A property value read through an accessor, e.g. `.properties.x.value`,
    /// `.web_server.cert.cert_pem`, `cert.cert_pem` (job-local), `current_record.x.value`,
    /// `..cf.uaa.admin_credentials.identity`.
    Property(PropertyRef),
    /// A field of a product: `.deployment_name`, `..cf.network_name`, `..p-redis.present?`.
    Product {
        /// `None` for this product, `Some(name)` for `..name.`.
        product: Option<String>,
        field: ProductField,
    },
    /// A job (instance group) accessor: `instances` (the job being rendered), `.router.ips`,
    /// `..cf.router.first_ip`.
    Job {
        /// `None` for this product, `Some(name)` for `..name.`.
        product: Option<String>,
        /// `None` for the job whose manifest is being rendered (bare word).
        job: Option<String>,
        field: JobField,
    },
    /// A `$context.path` value supplied by the environment: `$director.hostname`,
    /// `$ops_manager.ca_certificate`, `$self.uaa_client_name`, `$runtime.system_domain`.
    Context { context: Context, path: Vec<String> },
}

/// A property read: whose property, its path, and the accessor applied to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PropertyRef {
    /// `None` for this product, `Some(name)` for another product (`..name.`).
    pub product: Option<String>,
    pub owner: Owner,
    /// The property's path below its owner: `[name]`, or `[selector, option, name]` for a
    /// selector option's sub-property.
    pub path: Vec<String>,
    pub accessor: Accessor,
}

/// Who owns a property.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    /// `.properties.P` — a product-level blueprint.
    Global,
    /// `.JOB.P` — a blueprint of job type `JOB`.
    Job(String),
    /// Bare `P` — a blueprint of the job whose manifest is being rendered.
    CurrentJob,
    /// `current_record.P` — a sub-property of the collection record being rendered.
    CurrentRecord,
}

/// The terminal accessor of a property reference (tile-metadata §4.3 / §7.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Accessor {
    Value,
    ValuePresent,
    Identity,
    Password,
    Salt,
    Sha512HashedPassword,
    CertPem,
    PrivateKeyPem,
    PublicKeyPem,
    CertAndPrivateKeyPems,
    PublicKeyOpenssh,
    PublicKeyFingerprint,
    ParsedStrings,
    ParsedRegex,
    ParsedIpRanges,
    ParsedNetworkAddresses,
    ToWildcard,
    /// `SEL.selected_option` — the selected option template's name.
    SelectedOption,
    /// stemcell_selector: `os`, `version`, `assigned?`.
    Os,
    Version,
    Assigned,
    /// `COLL.parsed_manifest(N)` — a collection's named manifest, once per record.
    ParsedManifest(String),
    /// `SEL.selected_option.parsed_manifest(N)` — the selected option's named manifest.
    SelectedOptionManifest(String),
    /// An accessor this engine does not know. Kept (not rejected) so that tiles using a newer
    /// accessor still parse; the resolver reports it and lint flags it.
    Other(String),
}

const ACCESSOR_NAMES: &[(&str, Accessor)] = &[
    ("value", Accessor::Value),
    ("value_present?", Accessor::ValuePresent),
    ("identity", Accessor::Identity),
    ("password", Accessor::Password),
    ("salt", Accessor::Salt),
    ("sha512_hashed_password", Accessor::Sha512HashedPassword),
    ("cert_pem", Accessor::CertPem),
    ("private_key_pem", Accessor::PrivateKeyPem),
    ("public_key_pem", Accessor::PublicKeyPem),
    ("cert_and_private_key_pems", Accessor::CertAndPrivateKeyPems),
    ("public_key_openssh", Accessor::PublicKeyOpenssh),
    ("public_key_fingerprint", Accessor::PublicKeyFingerprint),
    ("parsed_strings", Accessor::ParsedStrings),
    ("parsed_regex", Accessor::ParsedRegex),
    ("parsed_ip_ranges", Accessor::ParsedIpRanges),
    ("parsed_network_addresses", Accessor::ParsedNetworkAddresses),
    ("to_wildcard", Accessor::ToWildcard),
    ("selected_option", Accessor::SelectedOption),
    ("os", Accessor::Os),
    ("version", Accessor::Version),
    ("assigned?", Accessor::Assigned),
];

/// The names of every accessor this engine knows (calls such as `parsed_manifest(N)` aside),
/// for lint's "did you mean".
pub fn accessor_names() -> impl Iterator<Item = &'static str> {
    ACCESSOR_NAMES.iter().map(|(n, _)| *n)
}

impl Accessor {
    /// The accessor named `name` (without call arguments).
    pub fn from_name(name: &str) -> Accessor {
        ACCESSOR_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| Accessor::Other(name.to_string()))
    }

    /// False only for [`Accessor::Other`].
    pub fn is_known(&self) -> bool {
        !matches!(self, Accessor::Other(_))
    }
}

impl fmt::Display for Accessor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Accessor::ParsedManifest(n) => write!(f, "parsed_manifest({n})"),
            Accessor::SelectedOptionManifest(n) => {
                write!(f, "selected_option.parsed_manifest({n})")
            }
            Accessor::Other(n) => f.write_str(n),
            known => {
                let name = ACCESSOR_NAMES
                    .iter()
                    .find(|(_, a)| a == known)
                    .map(|(n, _)| *n)
                    .unwrap_or("?");
                f.write_str(name)
            }
        }
    }
}

/// Fields of a product, addressed as `.F` (this product) or `..PRODUCT.F`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProductField {
    DeploymentName,
    NetworkName,
    /// `present?` — whether the product is installed (only meaningful for `..PRODUCT`).
    Present,
}

impl ProductField {
    pub const ALL: [ProductField; 3] = [
        ProductField::DeploymentName,
        ProductField::NetworkName,
        ProductField::Present,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProductField::DeploymentName => "deployment_name",
            ProductField::NetworkName => "network_name",
            ProductField::Present => "present?",
        }
    }

    pub fn from_name(name: &str) -> Option<ProductField> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Accessors of a job (instance group): bare inside that job's manifests, `.JOB.F` elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobField {
    Name,
    Cpu,
    Ram,
    EphemeralDisk,
    PersistentDisk,
    Instances,
    /// `any_instances` — instances > 0.
    AnyInstances,
    SubnetCidrs,
    /// Removed in Ops Manager 2.1 in favour of BOSH links; still parsed so old tiles render.
    Ips,
    FirstIp,
    DnsNames,
}

impl JobField {
    pub const ALL: [JobField; 11] = [
        JobField::Name,
        JobField::Cpu,
        JobField::Ram,
        JobField::EphemeralDisk,
        JobField::PersistentDisk,
        JobField::Instances,
        JobField::AnyInstances,
        JobField::SubnetCidrs,
        JobField::Ips,
        JobField::FirstIp,
        JobField::DnsNames,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JobField::Name => "name",
            JobField::Cpu => "cpu",
            JobField::Ram => "ram",
            JobField::EphemeralDisk => "ephemeral_disk",
            JobField::PersistentDisk => "persistent_disk",
            JobField::Instances => "instances",
            JobField::AnyInstances => "any_instances",
            JobField::SubnetCidrs => "subnet_cidrs",
            JobField::Ips => "ips",
            JobField::FirstIp => "first_ip",
            JobField::DnsNames => "dns_names",
        }
    }

    pub fn from_name(name: &str) -> Option<JobField> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The `$` contexts of tile-metadata §7.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    OpsManager,
    Director,
    /// `$self` — this product's own service-broker context.
    SelfProduct,
    /// `$runtime` — values of the PAS runtime (system domain…).
    Runtime,
}

impl Context {
    pub const ALL: [Context; 4] = [
        Context::OpsManager,
        Context::Director,
        Context::SelfProduct,
        Context::Runtime,
    ];

    /// The name without `$`.
    pub fn name(self) -> &'static str {
        match self {
            Context::OpsManager => "ops_manager",
            Context::Director => "director",
            Context::SelfProduct => "self",
            Context::Runtime => "runtime",
        }
    }

    pub fn from_name(name: &str) -> Option<Context> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The accessors documented for this context. Lint uses it; parsing does not restrict to it
    /// because environments may supply more.
    pub fn accessors(self) -> &'static [&'static str] {
        match self {
            Context::OpsManager => &[
                "ca_certificate",
                "trusted_certificates",
                "http_proxy",
                "https_proxy",
                "no_proxy",
                "instance_types_catalog",
                "restricted_view_api_access_credentials",
                "iaas_type",
                "dns_enabled",
            ],
            Context::Director => &[
                "guid",
                "deployment_ip",
                "hostname",
                "username",
                "password",
                "ntp_servers",
                "ca_public_key",
                "tld",
                "metrics_server_enabled",
                "system_metrics_runtime_enabled",
                "dns_release_present",
                "bosh_metrics_forwarder_client_name",
                "bosh_metrics_forwarder_client_secret",
            ],
            Context::SelfProduct => &[
                "uaa_client_name",
                "uaa_client_secret",
                "service_network",
                "stemcell_version",
            ],
            Context::Runtime => &[
                "system_domain",
                "apps_domain",
                "system_api_url",
                "login_url",
                "uaa_url",
                "console_url",
                "default_reply_to",
                "default_from",
            ],
        }
    }
}

fn write_product(f: &mut fmt::Formatter<'_>, product: &Option<String>) -> fmt::Result {
    match product {
        Some(p) => write!(f, "..{p}."),
        None => f.write_str("."),
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Property(p) => p.fmt(f),
            Reference::Product { product, field } => {
                write_product(f, product)?;
                f.write_str(field.name())
            }
            Reference::Job {
                product,
                job,
                field,
            } => {
                match job {
                    Some(j) => {
                        write_product(f, product)?;
                        write!(f, "{j}.")?;
                    }
                    None => {
                        if let Some(p) = product {
                            write!(f, "..{p}.")?;
                        }
                    }
                }
                f.write_str(field.name())
            }
            Reference::Context { context, path } => {
                write!(f, "${}", context.name())?;
                for seg in path {
                    write!(f, ".{seg}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for PropertyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.owner {
            Owner::Global => {
                write_product(f, &self.product)?;
                f.write_str("properties.")?;
            }
            Owner::Job(j) => {
                write_product(f, &self.product)?;
                write!(f, "{j}.")?;
            }
            Owner::CurrentJob => {}
            Owner::CurrentRecord => f.write_str("current_record.")?,
        }
        for seg in &self.path {
            write!(f, "{seg}.")?;
        }
        self.accessor.fmt(f)
    }
}

fn write_str_literal(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    // Single quotes unless the text contains one, so that output re-parses to the same string.
    if !s.contains('\'') && !s.contains('\\') {
        return write!(f, "'{s}'");
    }
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write_str_literal(f, s),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Float(x) => write!(f, "{x:?}"),
        }
    }
}

/// Prints the expression in canonical form (single spaces, parentheses only where needed);
/// the output parses back to the same tree.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(l) => l.fmt(f),
            Expr::Ref(r) => r.fmt(f),
            Expr::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_str("]")
            }
            Expr::Or(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" || ")?;
                    }
                    // Operands of `||` bind tighter than `?:`; a nested ternary needs parentheses.
                    if matches!(item, Expr::Ternary { .. } | Expr::Or(_)) {
                        write!(f, "({item})")?;
                    } else {
                        item.fmt(f)?;
                    }
                }
                Ok(())
            }
            Expr::Ternary {
                cond,
                then,
                otherwise,
            } => {
                if matches!(**cond, Expr::Ternary { .. }) {
                    write!(f, "({cond})")?;
                } else {
                    cond.fmt(f)?;
                }
                write!(f, " ? {then} : {otherwise}")
            }
        }
    }
}
