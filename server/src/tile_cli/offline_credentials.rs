//! The credentials an offline `tileworks tile render` generates, as Ops Manager generates them
//! before a deploy: every `configurable: false` secret, credential and uuid (and the salt of
//! typed `salted_credentials`), so every accessor renders — `public_key_pem`,
//! `public_key_fingerprint`, `sha512_hashed_password`… included.
//!
//! Where the values come from:
//! * `--credentials FILE`: a YAML map from property reference to value (the API's shapes;
//!   a `secret` may be given as a plain string), plus an optional `root_ca` (`cert_pem`,
//!   `private_key_pem`) that signs the generated certificates. Values in the file win.
//! * everything else is generated with the engine the server uses
//!   (`tiles::credentials::fill_generated`), from the operating system's randomness, or from
//!   `--seed N`: a deterministic generator and a fixed clock ([`SEEDED_NOW`]), so two runs
//!   with the same seed print the same manifest, certificates included.

use std::path::Path;

use rand::rngs::{OsRng, StdRng};
use rand::SeedableRng;
use serde_json::Value;
use tiles::credentials::{fill_generated, fill_missing_salts, CertificateAuthority};
use tiles::metadata::ProductTemplate;
use tiles::properties::types;
use tiles::properties::StagedValues;

use super::{EXIT_PROBLEMS, EXIT_UNREADABLE};
use crate::tile_archive::read_text_file;

/// The issue time of certificates generated with `--seed`: 2026-01-01T00:00:00Z (a clock that
/// moved would change every certificate).
pub const SEEDED_NOW: i64 = 1_767_225_600;

/// Credentials files are small; anything bigger is a mistake.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The key of the CA entry in a credentials file.
const ROOT_CA_KEY: &str = "root_ca";

/// Values a credentials file gives, by property reference.
type GivenValues = Vec<(String, Value)>;

/// Where generated values come from, and the CA that signs generated certificates.
pub struct OfflineCredentials {
    rng: StdRng,
    now: i64,
    pub ca: CertificateAuthority,
    /// Values from `--credentials`, by property reference.
    given: GivenValues,
}

impl OfflineCredentials {
    /// Reads `--credentials` (when given) against `template` and makes the CA: the file's
    /// `root_ca`, else one generated from the same random source. Problems are printed.
    pub fn new(
        template: &ProductTemplate,
        seed: Option<u64>,
        file: Option<&Path>,
        now: i64,
    ) -> Result<Self, u8> {
        let (mut rng, now) = match seed {
            Some(seed) => (StdRng::seed_from_u64(seed), SEEDED_NOW),
            None => (
                StdRng::from_rng(OsRng).map_err(|e| {
                    eprintln!("error: no random source: {e}");
                    EXIT_UNREADABLE
                })?,
                now,
            ),
        };
        let (given, ca) = match file {
            Some(path) => read_file(template, path)?,
            None => (Vec::new(), None),
        };
        let ca = match ca {
            Some(ca) => ca,
            None => CertificateAuthority::generate(
                "Tileworks offline render root CA",
                "Tileworks",
                now,
                &mut rng,
            )
            .map_err(|e| {
                eprintln!("error: cannot generate the root CA: {e}");
                EXIT_UNREADABLE
            })?,
        };
        Ok(OfflineCredentials {
            rng,
            now,
            ca,
            given,
        })
    }

    /// Before validation: the file's values, then a salt for every typed `salted_credentials`
    /// without one (Tileworks makes salts; operators never type them).
    pub fn apply_given(&mut self, template: &ProductTemplate, staged: &mut StagedValues) {
        for (reference, value) in &self.given {
            staged.set(reference.clone(), value.clone());
        }
        fill_missing_salts(template, staged, &mut self.rng);
    }

    /// After validation: generates every generated credential still without a value. Returns
    /// the references generated.
    pub fn generate(
        &mut self,
        template: &ProductTemplate,
        staged: &mut StagedValues,
    ) -> Result<Vec<String>, u8> {
        fill_generated(template, staged, &self.ca, self.now, &mut self.rng).map_err(|e| {
            eprintln!("error: cannot generate credentials: {e}");
            EXIT_PROBLEMS
        })
    }
}

/// Reads a credentials file: `reference: value` pairs for the tile's credential properties and
/// an optional `root_ca`. Every problem is printed with its key.
fn read_file(
    template: &ProductTemplate,
    path: &Path,
) -> Result<(GivenValues, Option<CertificateAuthority>), u8> {
    let text = read_text_file(path, MAX_FILE_BYTES).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_UNREADABLE
    })?;
    let doc = tiles::yaml::load(&text).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        EXIT_PROBLEMS
    })?;
    let Value::Object(entries) = doc else {
        eprintln!(
            "error: {}: expected a map from property reference to value",
            path.display()
        );
        return Err(EXIT_PROBLEMS);
    };
    let mut problems = Vec::new();
    let mut given = Vec::new();
    let mut ca = None;
    for (key, value) in entries {
        if key == ROOT_CA_KEY {
            let field = |f: &str| value.get(f).and_then(Value::as_str).unwrap_or_default();
            match CertificateAuthority::from_pem(field("cert_pem"), field("private_key_pem")) {
                Ok(c) => ca = Some(c),
                Err(e) => problems.push(format!("{key}: {e}")),
            }
            continue;
        }
        match check_entry(template, &key, value) {
            Ok(v) => given.push((key, v)),
            Err(message) => problems.push(format!("{key}: {message}")),
        }
    }
    if problems.is_empty() {
        return Ok((given, ca));
    }
    eprintln!("error: {} is not valid:", path.display());
    for p in problems {
        eprintln!("  {p}");
    }
    Err(EXIT_PROBLEMS)
}

/// One credential: a property of the tile whose type is a credential or a uuid, with a value
/// of that type's shape.
fn check_entry(template: &ProductTemplate, reference: &str, value: Value) -> Result<Value, String> {
    let property = template
        .property(reference)
        .ok_or("no such property in this tile (write references as in product.yml: .properties.NAME or .JOB.NAME)")?;
    let type_name = property.blueprint.property_type.as_str();
    if !types::is_generated(type_name) {
        return Err(format!(
            "a {type_name} property is not a credential; set it in the product configuration"
        ));
    }
    let value = match (type_name, value) {
        ("secret", Value::String(s)) => serde_json::json!({ "secret": s }),
        (_, v) => v,
    };
    // A salt is Tileworks's to make (`apply_given` adds it), so a file need not carry one.
    let mut probe = value.clone();
    if let (Value::Object(fields), "salted_credentials") = (&mut probe, type_name) {
        fields
            .entry("salt")
            .or_insert_with(|| Value::String("generated".into()));
    }
    let problems = types::check_shape(type_name, &probe);
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(format!("not a {type_name}: {}", problems.join("; ")))
    }
}
