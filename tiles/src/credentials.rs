//! Credential generation: the values Ops Manager creates itself for `configurable: false`
//! credential properties (and `uuid`s), and the installation's root CA that signs generated
//! certificates.
//!
//! Behind the `credentials` feature because it needs randomness and RSA, which the browser
//! build does not. Everything here is still pure: the caller hands in the random number
//! generator and the current time, so the server decides where entropy and clock come from
//! and tests can be deterministic.
//!
//! Generated values are created **once**: [`fill_generated`] only fills references that have
//! no value yet, so a second call returns the same staged values. This is what keeps
//! rendered manifests stable across applies.
//!
//! Keys are 2048-bit RSA (what Ops Manager generates); private keys are PEM PKCS#1
//! (`RSA PRIVATE KEY`), public keys PEM SubjectPublicKeyInfo (`PUBLIC KEY`). Leaf certificates
//! are valid for 2 years and the root CA for 4, as in Ops Manager. Certificates are built with
//! `rcgen` and signed with the pure-Rust `rsa` crate (PKCS#1 v1.5, SHA-256), so no C
//! toolchain is needed.

use rand::{CryptoRng, Rng, RngCore};
use rcgen::string::{Ia5String, PrintableString};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose, PublicKeyData, SanType,
    SerialNumber, SignatureAlgorithm, SigningKey,
};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::sha2::{Digest, Sha256};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::metadata::ProductTemplate;
use crate::properties::{formats, types, StagedValues};

/// RSA key size for every generated key.
pub const RSA_BITS: usize = 2048;
/// Lifetime of generated leaf certificates (2 years).
pub const LEAF_VALIDITY_DAYS: i64 = 730;
/// Lifetime of a generated root CA (4 years).
pub const CA_VALIDITY_DAYS: i64 = 1461;
/// Generated passwords and secrets: letters and digits only, so they survive any quoting.
pub const PASSWORD_LENGTH: usize = 20;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn failure(field: &str, message: impl std::fmt::Display) -> Error {
    Error::Invalid {
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// A random string of letters and digits.
pub fn random_password<R: RngCore + CryptoRng>(rng: &mut R, length: usize) -> String {
    (0..length)
        .map(|_| {
            let i = rng.gen_range(0..ALPHANUMERIC.len());
            char::from(ALPHANUMERIC.get(i).copied().unwrap_or(b'x'))
        })
        .collect()
}

/// A random (version 4) UUID in canonical form.
pub fn generate_uuid<R: RngCore + CryptoRng>(rng: &mut R) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `{"secret": …}`.
pub fn generate_secret<R: RngCore + CryptoRng>(rng: &mut R) -> Value {
    json!({ "secret": random_password(rng, PASSWORD_LENGTH) })
}

/// `{"identity", "password"}`; the identity is the given one (from the blueprint's default)
/// or a random one.
pub fn generate_simple_credentials<R: RngCore + CryptoRng>(
    identity: Option<&str>,
    rng: &mut R,
) -> Value {
    let identity = identity
        .map(str::to_string)
        .unwrap_or_else(|| random_password(rng, PASSWORD_LENGTH));
    json!({ "identity": identity, "password": random_password(rng, PASSWORD_LENGTH) })
}

/// `{"identity", "salt", "password"}`; the salt is 16 hex digits.
pub fn generate_salted_credentials<R: RngCore + CryptoRng>(
    identity: Option<&str>,
    rng: &mut R,
) -> Value {
    let identity = identity
        .map(str::to_string)
        .unwrap_or_else(|| random_password(rng, PASSWORD_LENGTH));
    let mut salt = [0u8; 8];
    rng.fill_bytes(&mut salt);
    let salt: String = salt.iter().map(|x| format!("{x:02x}")).collect();
    json!({
        "identity": identity,
        "salt": salt,
        "password": random_password(rng, PASSWORD_LENGTH),
    })
}

/// An RSA key that signs certificates for rcgen.
struct RsaSigner {
    key: RsaPrivateKey,
    /// PKCS#1 `RSAPublicKey` DER (rcgen wraps it in a SubjectPublicKeyInfo).
    public_der: Vec<u8>,
}

impl RsaSigner {
    fn new(key: RsaPrivateKey) -> Result<Self> {
        let public_der = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| failure("rsa", e))?
            .as_bytes()
            .to_vec();
        Ok(RsaSigner { key, public_der })
    }

    fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Result<Self> {
        let key = RsaPrivateKey::new(rng, RSA_BITS).map_err(|e| failure("rsa", e))?;
        Self::new(key)
    }

    fn from_pem(pem: &str) -> Result<Self> {
        let key = RsaPrivateKey::from_pkcs1_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem))
            .map_err(|e| not_an_rsa_key(pem, e))?;
        Self::new(key)
    }

    fn private_pem(&self) -> Result<String> {
        Ok(self
            .key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| failure("rsa", e))?
            .to_string())
    }

    fn public_pem(&self) -> Result<String> {
        self.key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| failure("rsa", e))
    }

    /// RFC 7093 method 1: the leftmost 160 bits of the SHA-256 of the public key.
    fn key_id(&self) -> Vec<u8> {
        let digest = Sha256::digest(&self.public_der);
        digest.iter().take(20).copied().collect()
    }
}

impl PublicKeyData for RsaSigner {
    fn der_bytes(&self) -> &[u8] {
        &self.public_der
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl SigningKey for RsaSigner {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(self.key.clone());
        signer
            .try_sign(msg)
            .map(|s| s.to_vec())
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// `{"private_key_pem", "public_key_pem"}` for `rsa_pkey_credentials`.
pub fn generate_rsa_pkey<R: RngCore + CryptoRng>(rng: &mut R) -> Result<Value> {
    let signer = RsaSigner::generate(rng)?;
    Ok(json!({
        "private_key_pem": signer.private_pem()?,
        "public_key_pem": signer.public_pem()?,
    }))
}

fn datetime(unix: i64) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|e| failure("now", e))
}

fn random_serial<R: RngCore + CryptoRng>(rng: &mut R) -> SerialNumber {
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    // Positive and without a leading zero byte, as RFC 5280 wants.
    serial[0] = (serial[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&serial)
}

/// A certificate authority: the installation's root CA, or any CA given as PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAuthority {
    pub cert_pem: String,
    pub private_key_pem: String,
}

impl CertificateAuthority {
    /// Generates a self-signed root CA valid for [`CA_VALIDITY_DAYS`] from `now_unix`.
    pub fn generate<R: RngCore + CryptoRng>(
        common_name: &str,
        organization: &str,
        now_unix: i64,
        rng: &mut R,
    ) -> Result<Self> {
        let signer = RsaSigner::generate(rng)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        if !organization.is_empty() {
            dn.push(DnType::OrganizationName, organization);
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.key_identifier_method = KeyIdMethod::PreSpecified(signer.key_id());
        params.not_before = datetime(now_unix.saturating_sub(3600))?;
        params.not_after = datetime(now_unix.saturating_add(CA_VALIDITY_DAYS * 86_400))?;
        params.serial_number = Some(random_serial(rng));
        let cert = params
            .self_signed(&signer)
            .map_err(|e| failure("root_ca", e))?;
        Ok(CertificateAuthority {
            cert_pem: cert.pem(),
            private_key_pem: signer.private_pem()?,
        })
    }

    /// Checks that the PEMs are a CA certificate and an RSA key that belong together.
    pub fn from_pem(cert_pem: &str, private_key_pem: &str) -> Result<Self> {
        let ca = CertificateAuthority {
            cert_pem: cert_pem.to_string(),
            private_key_pem: private_key_pem.to_string(),
        };
        let signer = RsaSigner::from_pem(private_key_pem)?;
        let der = pem_block(cert_pem, "CERTIFICATE")
            .ok_or_else(|| failure("cert_pem", "no PEM certificate found"))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| failure("cert_pem", format!("not an X.509 certificate: {e}")))?;
        if !cert.is_ca() {
            return Err(failure("cert_pem", "the certificate is not a CA"));
        }
        let spki_key = cert.public_key().subject_public_key.data.as_ref();
        if spki_key != signer.public_der.as_slice() {
            return Err(failure(
                "private_key_pem",
                "the private key does not belong to the CA certificate",
            ));
        }
        Ok(ca)
    }

    /// The rcgen issuer for this CA. The issuer name is rebuilt from the CA certificate's
    /// subject with each attribute's original string type, so the issued certificate's
    /// issuer bytes equal the CA's subject bytes (Go's verifier compares them byte for byte).
    fn issuer(&self) -> Result<Issuer<'static, RsaSigner>> {
        let signer = RsaSigner::from_pem(&self.private_key_pem)?;
        let der = pem_block(&self.cert_pem, "CERTIFICATE")
            .ok_or_else(|| failure("cert_pem", "no PEM certificate found"))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| failure("cert_pem", format!("not an X.509 certificate: {e}")))?;
        let mut dn = DistinguishedName::new();
        for attr in cert.subject().iter_attributes() {
            let oid: Vec<u64> = attr
                .attr_type()
                .iter()
                .ok_or_else(|| failure("cert_pem", "unreadable subject attribute"))?
                .collect();
            let text = attr
                .as_str()
                .map_err(|_| failure("cert_pem", "subject attribute is not text"))?
                .to_string();
            let value = match attr.attr_value().tag() {
                x509_parser::der_parser::asn1_rs::Tag::PrintableString => {
                    PrintableString::try_from(text.clone())
                        .map(DnValue::PrintableString)
                        .unwrap_or(DnValue::Utf8String(text))
                }
                x509_parser::der_parser::asn1_rs::Tag::Ia5String => {
                    Ia5String::try_from(text.clone())
                        .map(DnValue::Ia5String)
                        .unwrap_or(DnValue::Utf8String(text))
                }
                _ => DnValue::Utf8String(text),
            };
            dn.push(DnType::from_oid(&oid), value);
        }
        let key_id = cert
            .iter_extensions()
            .find_map(|ext| match ext.parsed_extension() {
                x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(id) => {
                    Some(id.0.to_vec())
                }
                _ => None,
            })
            .unwrap_or_else(|| signer.key_id());
        let mut params = CertificateParams::default();
        params.distinguished_name = dn;
        params.key_identifier_method = KeyIdMethod::PreSpecified(key_id);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Ok(Issuer::new(params, signer))
    }
}

/// The names the first certificate of a PEM text covers (its CN and subject alternative
/// names), for [`crate::verifiers::hostname`]; an error names what cannot be read.
pub fn certificate_names(cert_pem: &str) -> Result<crate::verifiers::CertificateNames> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let der = pem_block(cert_pem, "CERTIFICATE")
        .ok_or_else(|| failure("cert_pem", "no PEM certificate found"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| failure("cert_pem", format!("not an X.509 certificate: {e}")))?;
    let mut names = crate::verifiers::CertificateNames {
        common_name: cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned),
        ..Default::default()
    };
    for ext in cert.iter_extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
            for name in &san.general_names {
                match name {
                    GeneralName::DNSName(dns) => names.dns_names.push((*dns).to_owned()),
                    GeneralName::IPAddress(bytes) => {
                        let ip = match bytes.len() {
                            4 => <[u8; 4]>::try_from(*bytes)
                                .ok()
                                .map(|b| std::net::IpAddr::from(b).to_string()),
                            16 => <[u8; 16]>::try_from(*bytes)
                                .ok()
                                .map(|b| std::net::IpAddr::from(b).to_string()),
                            _ => None,
                        };
                        names.ip_addresses.extend(ip);
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(names)
}

/// The DER of the first PEM block with the given label.
/// Checks a bundle of PEM certificates (trusted certificates, a CA chain): at least one, each
/// an X.509 certificate, nothing else between them. Returns how many; the error says which
/// one (from 1) is not a certificate.
pub fn check_certificate_bundle(text: &str) -> std::result::Result<usize, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut rest = text.trim();
    let mut count = 0;
    while !rest.is_empty() {
        count += 1;
        let Some(body) = rest.strip_prefix(BEGIN) else {
            return Err(format!(
                "certificate {count} is not a PEM certificate (-----BEGIN CERTIFICATE-----)"
            ));
        };
        let Some(stop) = body.find(END) else {
            return Err(format!(
                "certificate {count} has no -----END CERTIFICATE-----"
            ));
        };
        let block: String = body[..stop]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64_decode(&block)
            .ok_or_else(|| format!("certificate {count} is not valid base64"))?;
        x509_parser::parse_x509_certificate(&der)
            .map_err(|e| format!("certificate {count} is not an X.509 certificate: {e}"))?;
        rest = body[stop + END.len()..].trim_start();
    }
    if count == 0 {
        return Err("expected at least one PEM certificate".into());
    }
    Ok(count)
}

/// Why a private key is refused: a key of another algorithm is named as such (an operator who
/// pastes an EC key should not read a PKCS#8 parse error), anything else keeps the parser's word.
fn not_an_rsa_key(pem: &str, parse_error: impl std::fmt::Display) -> Error {
    const EC: &str = "1.2.840.10045.2.1";
    const ED25519: &str = "1.3.101.112";
    let algorithm = if pem.contains("-----BEGIN EC PRIVATE KEY-----") {
        Some("an elliptic-curve (EC)")
    } else {
        pem_block(pem, "PRIVATE KEY").and_then(|der| {
            let info = rsa::pkcs8::PrivateKeyInfo::try_from(der.as_slice()).ok()?;
            match info.algorithm.oid.to_string().as_str() {
                EC => Some("an elliptic-curve (EC)"),
                ED25519 => Some("an Ed25519"),
                _ => None,
            }
        })
    };
    match algorithm {
        Some(algorithm) => failure(
            "private_key_pem",
            format!(
                "{algorithm} private key: certificate authorities here sign with RSA; give an RSA \
                 private key (PEM, PKCS#1 or PKCS#8)"
            ),
        ),
        None => failure(
            "private_key_pem",
            format!("not an RSA private key: {parse_error}"),
        ),
    }
}

fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text.get(start..)?.find(&end)?;
    let body: String = text
        .get(start..stop)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64_decode(&body)
}

/// Standard base64 (with padding), enough to read PEM bodies.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= sextet(c)? << (18 - 6 * i);
        }
        let [_, a, b, c] = acc.to_be_bytes();
        match chunk.len() {
            4 => out.extend([a, b, c]),
            3 => out.extend([a, b]),
            2 => out.push(a),
            _ => return None,
        }
    }
    Some(out)
}

/// The subject alternative name for one `default.domains` entry: an IP address, or a DNS
/// name (wildcards like `*.sys.example.com` included). Entries that are neither (text with
/// spaces or expressions) give none.
fn san_for(domain: &str) -> Option<SanType> {
    let domain = domain.trim();
    if let Some(ip) = formats::parse_ip(domain) {
        return Some(SanType::IpAddress(ip));
    }
    let bare = domain.strip_prefix("*.").unwrap_or(domain);
    if !formats::is_hostname(bare) {
        return None;
    }
    domain.to_string().try_into().ok().map(SanType::DnsName)
}

/// `{"cert_pem", "private_key_pem"}` for `rsa_cert_credentials`: a fresh key and a server/client
/// certificate signed by `ca`. The first domain is the common name; every domain is a subject
/// alternative name. With no domains the common name is `fallback_cn`.
pub fn generate_rsa_cert<R: RngCore + CryptoRng>(
    domains: &[String],
    fallback_cn: &str,
    ca: &CertificateAuthority,
    now_unix: i64,
    rng: &mut R,
) -> Result<Value> {
    let issuer = ca.issuer()?;
    let signer = RsaSigner::generate(rng)?;
    let mut params = CertificateParams::default();
    let cn = domains
        .first()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .unwrap_or(fallback_cn);
    let mut dn = DistinguishedName::new();
    // X.509 limits a common name to 64 characters.
    dn.push(DnType::CommonName, cn.chars().take(64).collect::<String>());
    params.distinguished_name = dn;
    params.subject_alt_names = domains.iter().filter_map(|d| san_for(d)).collect();
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    params.key_identifier_method = KeyIdMethod::PreSpecified(signer.key_id());
    params.not_before = datetime(now_unix.saturating_sub(3600))?;
    params.not_after = datetime(now_unix.saturating_add(LEAF_VALIDITY_DAYS * 86_400))?;
    params.serial_number = Some(random_serial(rng));
    let cert = params
        .signed_by(&signer, &issuer)
        .map_err(|e| failure("rsa_cert_credentials", e))?;
    Ok(json!({
        "cert_pem": cert.pem(),
        "private_key_pem": signer.private_pem()?,
    }))
}

/// Reads `default.domains` of an `rsa_cert_credentials` blueprint (a list, or one string).
pub fn default_domains(default: Option<&Value>) -> Vec<String> {
    let domains = default.and_then(|d| d.get("domains"));
    match domains {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The `identity` of a credential blueprint's default (`default: {identity: NAME}`).
pub fn default_identity(default: Option<&Value>) -> Option<&str> {
    default
        .and_then(|d| d.get("identity"))
        .and_then(Value::as_str)
}

/// Generates the value of one property of `type_name`, or `None` for types that are not
/// generated. `default` is the blueprint's default (identity, domains), `name` the property
/// name (a certificate's common name when no domain is given).
pub fn generate_value<R: RngCore + CryptoRng>(
    type_name: &str,
    name: &str,
    default: Option<&Value>,
    ca: &CertificateAuthority,
    now_unix: i64,
    rng: &mut R,
) -> Result<Option<Value>> {
    Ok(Some(match type_name {
        "uuid" => Value::String(generate_uuid(rng)),
        "secret" => generate_secret(rng),
        "simple_credentials" => generate_simple_credentials(default_identity(default), rng),
        "salted_credentials" => generate_salted_credentials(default_identity(default), rng),
        "rsa_pkey_credentials" => generate_rsa_pkey(rng)?,
        "rsa_cert_credentials" => {
            generate_rsa_cert(&default_domains(default), name, ca, now_unix, rng)?
        }
        _ => return Ok(None),
    }))
}

/// True when a stored value already holds a generated credential (so it must be kept).
pub fn has_value(type_name: &str, value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(v) => !types::is_blank(type_name, v),
    }
}

/// Fills in every generated value that is still missing and leaves existing ones untouched:
/// `configurable: false` properties of a generated type (`uuid`, `secret`, the credential
/// types) — product, job and selector-option properties alike — plus, in collections, each
/// record's `guid` and its non-configurable generated fields. Calling it again generates
/// nothing, so values stay stable across applies. Returns the references it filled (collection
/// fields as `.properties.COLL[i].FIELD`).
pub fn fill_generated<R: RngCore + CryptoRng>(
    template: &ProductTemplate,
    staged: &mut StagedValues,
    ca: &CertificateAuthority,
    now_unix: i64,
    rng: &mut R,
) -> Result<Vec<String>> {
    let mut filled = Vec::new();
    for pref in template.property_refs() {
        let bp = pref.blueprint;
        let type_name = bp.property_type.as_str();
        if !bp.configurable
            && types::is_generated(type_name)
            && !has_value(type_name, staged.get(&pref.reference))
        {
            if let Some(v) =
                generate_value(type_name, &bp.name, bp.default.as_ref(), ca, now_unix, rng)?
            {
                staged.set(pref.reference.clone(), v);
                filled.push(pref.reference.clone());
            }
        }
        if bp.sub_blueprints().is_empty() {
            continue;
        }
        let Some(Value::Array(records)) = staged.properties.get_mut(&pref.reference) else {
            continue;
        };
        for (i, record) in records.iter_mut().enumerate() {
            let Value::Object(map) = record else { continue };
            let has_guid = map
                .get("guid")
                .and_then(Value::as_str)
                .is_some_and(|g| !g.is_empty());
            if !has_guid {
                map.insert("guid".to_string(), Value::String(generate_uuid(rng)));
                filled.push(format!("{}[{i}].guid", pref.reference));
            }
            for sub in bp.sub_blueprints() {
                let t = sub.property_type.as_str();
                if sub.configurable || !types::is_generated(t) || has_value(t, map.get(&sub.name)) {
                    continue;
                }
                if let Some(v) =
                    generate_value(t, &sub.name, sub.default.as_ref(), ca, now_unix, rng)?
                {
                    map.insert(sub.name.clone(), v);
                    filled.push(format!("{}[{i}].{}", pref.reference, sub.name));
                }
            }
        }
    }
    Ok(filled)
}

/// Gives every `salted_credentials` value that has an identity or a password but no salt a
/// fresh salt (16 hex digits), as the server does when an operator saves one: the salt is never
/// typed, Tileworks makes it. Covers top-level, job and selector-option properties. Returns the
/// references it filled.
pub fn fill_missing_salts<R: RngCore + CryptoRng>(
    template: &ProductTemplate,
    staged: &mut StagedValues,
    rng: &mut R,
) -> Vec<String> {
    let blank = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
    };
    let mut filled = Vec::new();
    for pref in template.property_refs() {
        if pref.blueprint.property_type.as_str() != "salted_credentials" {
            continue;
        }
        let Some(Value::Object(fields)) = staged.properties.get_mut(&pref.reference) else {
            continue;
        };
        let typed = !blank(fields.get("identity")) || !blank(fields.get("password"));
        if typed && blank(fields.get("salt")) {
            let mut salt = [0u8; 8];
            rng.fill_bytes(&mut salt);
            let salt: String = salt.iter().map(|x| format!("{x:02x}")).collect();
            fields.insert("salt".into(), Value::String(salt));
            filled.push(pref.reference.clone());
        }
    }
    filled
}

/// [`fill_generated`] with the operating system's random number generator.
pub fn fill_generated_with_os_rng(
    template: &ProductTemplate,
    staged: &mut StagedValues,
    ca: &CertificateAuthority,
    now_unix: i64,
) -> Result<Vec<String>> {
    fill_generated(template, staged, ca, now_unix, &mut rand::rngs::OsRng)
}

/// What Tileworks shows of a certificate: its subject and issuer (RFC 4514 text), validity
/// (Unix seconds) and whether it is a CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    pub is_ca: bool,
}

/// Reads the first certificate of a PEM text.
pub fn certificate_info(cert_pem: &str) -> Result<CertificateInfo> {
    let der = pem_block(cert_pem, "CERTIFICATE")
        .ok_or_else(|| failure("cert_pem", "no PEM certificate found"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| failure("cert_pem", format!("not an X.509 certificate: {e}")))?;
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        is_ca: cert.is_ca(),
    })
}

/// Whether the first certificate of `cert_pem` was issued by the CA certificate `ca_cert_pem`:
/// its issuer is the CA's subject (byte for byte) and its signature (RSA PKCS#1 v1.5, SHA-256,
/// what Tileworks and Ops Manager sign with) verifies under the CA's public key. Anything
/// unreadable, another algorithm or another signer is `false`.
pub fn signed_by(cert_pem: &str, ca_cert_pem: &str) -> bool {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let (Some(der), Some(ca_der)) = (
        pem_block(cert_pem, "CERTIFICATE"),
        pem_block(ca_cert_pem, "CERTIFICATE"),
    ) else {
        return false;
    };
    let (Ok((_, cert)), Ok((_, ca))) = (
        x509_parser::parse_x509_certificate(&der),
        x509_parser::parse_x509_certificate(&ca_der),
    ) else {
        return false;
    };
    if cert.issuer().as_raw() != ca.subject().as_raw()
        || cert.signature_algorithm.algorithm != x509_parser::oid_registry::OID_PKCS1_SHA256WITHRSA
    {
        return false;
    }
    let Ok(public) = rsa::RsaPublicKey::from_public_key_der(ca.public_key().raw) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(cert.signature_value.data.as_ref()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(public)
        .verify(cert.tbs_certificate.as_ref(), &signature)
        .is_ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use rsa::pkcs1v15::VerifyingKey;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    use std::sync::OnceLock;
    use x509_parser::prelude::*;

    pub(crate) const NOW: i64 = 1_750_000_000;

    /// One CA for all tests: RSA key generation is slow in debug builds.
    pub(crate) fn test_ca() -> &'static CertificateAuthority {
        static CA: OnceLock<CertificateAuthority> = OnceLock::new();
        CA.get_or_init(|| {
            let mut rng = StdRng::seed_from_u64(7);
            CertificateAuthority::generate("Tileworks Test Root CA", "Tileworks", NOW, &mut rng)
                .expect("CA")
        })
    }

    fn der(pem: &str) -> Vec<u8> {
        pem_block(pem, "CERTIFICATE").expect("pem")
    }

    #[test]
    fn certificate_bundles_are_checked_one_by_one() {
        let ca = &test_ca().cert_pem;
        assert_eq!(check_certificate_bundle(ca), Ok(1));
        assert_eq!(check_certificate_bundle(&format!("{ca}\n{ca}")), Ok(2));
        let err = check_certificate_bundle(&format!("{ca}\nnot a certificate")).unwrap_err();
        assert!(
            err.starts_with("certificate 2 is not a PEM certificate"),
            "{err}"
        );
        let broken = ca.replacen("MII", "AAA", 1);
        let err = check_certificate_bundle(&broken).unwrap_err();
        assert!(
            err.starts_with("certificate 1 is not an X.509 certificate"),
            "{err}"
        );
        assert!(check_certificate_bundle("  ").is_err());
    }

    #[test]
    fn passwords_and_uuids() {
        let mut rng = StdRng::seed_from_u64(1);
        let p = random_password(&mut rng, 20);
        assert_eq!(p.len(), 20);
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(p, random_password(&mut rng, 20));
        let u = generate_uuid(&mut rng);
        assert!(formats::is_uuid(&u));
        assert_eq!(u.as_bytes()[14], b'4');
        let s = generate_salted_credentials(Some("admin"), &mut rng);
        assert_eq!(s["identity"], "admin");
        assert_eq!(s["salt"].as_str().unwrap().len(), 16);
        let c = generate_simple_credentials(None, &mut rng);
        assert_eq!(c["identity"].as_str().unwrap().len(), 20);
        assert!(crate::properties::types::check_shape("simple_credentials", &c).is_empty());
        assert!(crate::properties::types::check_shape("salted_credentials", &s).is_empty());
        assert!(
            crate::properties::types::check_shape("secret", &generate_secret(&mut rng)).is_empty()
        );
    }

    #[test]
    fn base64_reader() {
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("aGk="), Some(b"hi".to_vec()));
        assert_eq!(base64_decode("aGV5"), Some(b"hey".to_vec()));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("a*=="), None);
    }

    #[test]
    fn root_ca_is_a_self_signed_ca() {
        let ca = test_ca();
        let der = der(&ca.cert_pem);
        let (_, cert) = parse_x509_certificate(&der).unwrap();
        assert!(cert.is_ca());
        assert_eq!(cert.subject(), cert.issuer());
        let cn = cert.subject().iter_common_name().next().unwrap();
        assert_eq!(cn.as_str().unwrap(), "Tileworks Test Root CA");
        let days = (cert.validity().not_after.timestamp() - NOW) / 86_400;
        assert_eq!(days, CA_VALIDITY_DAYS);
        assert!(CertificateAuthority::from_pem(&ca.cert_pem, &ca.private_key_pem).is_ok());
        assert!(ca
            .private_key_pem
            .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    }

    #[test]
    fn signed_by_tells_the_issuing_ca_and_info_reads_the_certificate() {
        let ca = test_ca();
        let mut rng = StdRng::seed_from_u64(11);
        let other = CertificateAuthority::generate("Other CA", "", NOW, &mut rng).unwrap();
        let leaf = generate_rsa_cert(&["a.example.com".into()], "x", ca, NOW, &mut rng).unwrap();
        let leaf = leaf["cert_pem"].as_str().unwrap();
        assert!(signed_by(leaf, &ca.cert_pem));
        assert!(!signed_by(leaf, &other.cert_pem));
        assert!(signed_by(&ca.cert_pem, &ca.cert_pem), "a root signs itself");
        assert!(!signed_by("not a certificate", &ca.cert_pem));
        let info = certificate_info(leaf).unwrap();
        assert!(info.subject.contains("CN=a.example.com"), "{info:?}");
        assert!(info.issuer.contains("Tileworks Test Root CA"), "{info:?}");
        assert_eq!((info.not_after - NOW) / 86_400, LEAF_VALIDITY_DAYS);
        assert!(!info.is_ca);
        assert!(certificate_info(&ca.cert_pem).unwrap().is_ca);
        assert!(certificate_info("junk").is_err());
    }

    #[test]
    fn certificate_signed_by_the_ca_with_cn_and_sans() {
        let ca = test_ca();
        let mut rng = StdRng::seed_from_u64(2);
        let domains = vec![
            "*.pks.example.com".to_string(),
            "api.pks.example.com".to_string(),
            "10.0.0.5".to_string(),
            "(( not a name ))".to_string(),
        ];
        let v = generate_rsa_cert(&domains, "fallback", ca, NOW, &mut rng).unwrap();
        assert!(crate::properties::types::check_shape("rsa_cert_credentials", &v).is_empty());
        let leaf_der = der(v["cert_pem"].as_str().unwrap());
        let (_, leaf) = parse_x509_certificate(&leaf_der).unwrap();
        let cn = leaf.subject().iter_common_name().next().unwrap();
        assert_eq!(cn.as_str().unwrap(), "*.pks.example.com");
        let san = leaf.subject_alternative_name().unwrap().unwrap();
        let names: Vec<String> = san
            .value
            .general_names
            .iter()
            .map(|n| match n {
                GeneralName::DNSName(d) => d.to_string(),
                GeneralName::IPAddress(ip) => format!("ip:{ip:?}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            names,
            vec![
                "*.pks.example.com",
                "api.pks.example.com",
                "ip:[10, 0, 0, 5]"
            ]
        );
        assert!(!leaf.is_ca());
        // Issued by the CA: issuer name matches and the CA key verifies the signature.
        let ca_der = der(&ca.cert_pem);
        let (_, ca_cert) = parse_x509_certificate(&ca_der).unwrap();
        assert_eq!(leaf.issuer().as_raw(), ca_cert.subject().as_raw());
        let ca_public = rsa::RsaPublicKey::from_public_key_der(ca_cert.public_key().raw).unwrap();
        let verifier = VerifyingKey::<Sha256>::new(ca_public);
        let signature =
            rsa::pkcs1v15::Signature::try_from(leaf.signature_value.data.as_ref()).unwrap();
        verifier
            .verify(leaf.tbs_certificate.as_ref(), &signature)
            .expect("signed by the CA");
        let days = (leaf.validity().not_after.timestamp() - NOW) / 86_400;
        assert_eq!(days, LEAF_VALIDITY_DAYS);
        // The private key belongs to the certificate.
        let key = RsaPrivateKey::from_pkcs1_pem(v["private_key_pem"].as_str().unwrap()).unwrap();
        let public_der = key.to_public_key().to_pkcs1_der().unwrap();
        assert_eq!(
            leaf.public_key().subject_public_key.data.as_ref(),
            public_der.as_bytes()
        );
    }

    #[test]
    fn rsa_pkey_and_mismatched_ca() {
        let mut rng = StdRng::seed_from_u64(3);
        let v = generate_rsa_pkey(&mut rng).unwrap();
        assert!(crate::properties::types::check_shape("rsa_pkey_credentials", &v).is_empty());
        assert!(v["public_key_pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        let ca = test_ca();
        let err =
            CertificateAuthority::from_pem(&ca.cert_pem, v["private_key_pem"].as_str().unwrap())
                .unwrap_err();
        assert!(err.to_string().contains("does not belong"));
        assert!(CertificateAuthority::from_pem("junk", &ca.private_key_pem).is_err());
        assert!(CertificateAuthority::from_pem(&ca.cert_pem, "junk").is_err());
    }

    /// Keys of other algorithms (throw-away keys made for this test with openssl) are named.
    #[test]
    fn a_ca_key_of_another_algorithm_is_named_as_such() {
        const EC_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFRAuvXSgE1wEzNJlDFkES82KxBnfUnQH5BGBvxrOa34oAoGCCqGSM49\nAwEHoUQDQgAE3sxPFbV2UOKeGeofunDKa5BO/GZ0CsES1fDDD0SNE2sFJnj1DfUp\nsiMXN6kfLsQaxheLAB6mqKmaIAfzFZWlWg==\n-----END EC PRIVATE KEY-----\n";
        const EC_PKCS8: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcCelqtT3Y8B5p3X+\nousKjxVRMPJJDoVl/yC7Nd+qZwuhRANCAARthmxevV2j6ey9qMJ9C0n4AGcs3cp6\nBmIEZlQTIw+xrAo9A0gw/WnqT2MP7V0hVHwqhoOSC9l5ke5xD+TRfCVy\n-----END PRIVATE KEY-----\n";
        const ED25519: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPQrhH9gQzYd5CGoodWoYd28D0XDfjpAC2Z9nSgIb76L\n-----END PRIVATE KEY-----\n";
        let ca = test_ca();
        for (key, named) in [
            (EC_SEC1, "an elliptic-curve (EC) private key"),
            (EC_PKCS8, "an elliptic-curve (EC) private key"),
            (ED25519, "an Ed25519 private key"),
        ] {
            let message = CertificateAuthority::from_pem(&ca.cert_pem, key)
                .unwrap_err()
                .to_string();
            assert!(message.contains(named), "{message}");
            assert!(message.contains("give an RSA private key"), "{message}");
        }
        let message = CertificateAuthority::from_pem(&ca.cert_pem, "junk")
            .unwrap_err()
            .to_string();
        assert!(message.contains("not an RSA private key"), "{message}");
    }

    #[test]
    fn typed_salted_credentials_get_a_salt_and_kept_salts_stay() {
        let template = ProductTemplate::from_yaml(
            r#"
name: t
product_version: "1"
metadata_version: "2.5"
property_blueprints:
- {name: typed, type: salted_credentials, configurable: true}
- {name: kept, type: salted_credentials, configurable: true}
- {name: empty, type: salted_credentials, configurable: true}
"#,
        )
        .unwrap();
        let mut staged = StagedValues::new();
        staged.set(
            ".properties.typed",
            json!({"identity": "a", "password": "p"}),
        );
        staged.set(
            ".properties.kept",
            json!({"identity": "a", "password": "p", "salt": "0011"}),
        );
        let mut rng = StdRng::seed_from_u64(4);
        let filled = fill_missing_salts(&template, &mut staged, &mut rng);
        assert_eq!(filled, vec![".properties.typed".to_string()]);
        let salt = staged.get(".properties.typed").unwrap()["salt"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(salt.len(), 16);
        assert!(salt.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(staged.get(".properties.kept").unwrap()["salt"], "0011");
        assert_eq!(staged.get(".properties.empty"), None);
        assert!(fill_missing_salts(&template, &mut staged, &mut rng).is_empty());
    }

    #[test]
    fn defaults_are_read() {
        assert_eq!(
            default_domains(Some(&json!({"domains": ["a.example.com", "b"]}))),
            vec!["a.example.com", "b"]
        );
        assert_eq!(default_domains(Some(&json!({"domains": "a"}))), vec!["a"]);
        assert!(default_domains(Some(&json!("x"))).is_empty());
        assert_eq!(
            default_identity(Some(&json!({"identity": "admin"}))),
            Some("admin")
        );
        assert_eq!(default_identity(None), None);
    }

    #[test]
    fn fill_generated_is_stable_and_leaves_existing_values() {
        let template = ProductTemplate::from_yaml(
            r#"
name: t
product_version: "1"
metadata_version: "2.5"
property_blueprints:
- {name: id, type: uuid}
- {name: token, type: secret}
- {name: admin, type: simple_credentials, default: {identity: admin}}
- {name: salted, type: salted_credentials}
- {name: typed_secret, type: secret, configurable: true}
- {name: kept, type: secret}
- {name: cert, type: rsa_cert_credentials, default: {domains: ["*.sys.example.com", uaa.sys.example.com]}}
- name: sel
  type: selector
  configurable: true
  default: On
  option_templates:
  - name: on_option
    select_value: On
    property_blueprints:
    - {name: key, type: rsa_pkey_credentials}
- name: coll
  type: collection
  configurable: true
  property_blueprints:
  - {name: name, type: string}
  - {name: pw, type: secret}
"#,
        )
        .unwrap();
        let mut staged = StagedValues::new();
        staged.set(".properties.kept", json!({"secret": "operator-chosen"}));
        staged.set(
            ".properties.coll",
            json!([{"name": "a"}, {"name": "b", "guid": "g-b"}]),
        );
        let mut rng = StdRng::seed_from_u64(9);
        let ca = test_ca();
        let filled = fill_generated(&template, &mut staged, ca, NOW, &mut rng).unwrap();
        for reference in [
            ".properties.id",
            ".properties.token",
            ".properties.admin",
            ".properties.salted",
            ".properties.cert",
            ".properties.sel.on_option.key",
            ".properties.coll[0].guid",
            ".properties.coll[0].pw",
            ".properties.coll[1].pw",
        ] {
            assert!(
                filled.contains(&reference.to_string()),
                "{reference}: {filled:?}"
            );
        }
        assert_eq!(filled.len(), 9, "{filled:?}");
        assert_eq!(
            staged.get(".properties.kept"),
            Some(&json!({"secret": "operator-chosen"}))
        );
        assert_eq!(
            staged.get(".properties.typed_secret"),
            None,
            "configurable: operator's job"
        );
        assert_eq!(
            staged.get(".properties.admin").unwrap()["identity"],
            "admin"
        );
        assert_eq!(staged.get(".properties.coll").unwrap()[1]["guid"], "g-b");
        let cert = staged.get(".properties.cert").unwrap()["cert_pem"]
            .as_str()
            .unwrap();
        let cert_der = der(cert);
        let (_, leaf) = parse_x509_certificate(&cert_der).unwrap();
        let cn = leaf.subject().iter_common_name().next().unwrap();
        assert_eq!(cn.as_str().unwrap(), "*.sys.example.com");
        // Everything generated validates, and a second call changes nothing.
        let before = staged.clone();
        let again = fill_generated(&template, &mut staged, ca, NOW, &mut rng).unwrap();
        assert!(again.is_empty(), "{again:?}");
        assert_eq!(staged, before);
    }
}
