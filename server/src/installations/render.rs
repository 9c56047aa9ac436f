//! Rendering a staged product's manifest as an installation deploys it: the Director tile's
//! configuration (cloud config, VM types), the product's placement, the stemcells the Stemcell
//! Library assigns (so `stemcells:` names the assigned OS and version, not merely the
//! criteria's), the other staged products (for `..other.` references), the installation's root
//! CA, and generated credentials filled.
//!
//! What is deployed holds credential values; what Tileworks shows (the staged and deployed
//! manifest endpoints, diffs) must not. [`redact`] replaces every credential value the staged
//! configuration holds with a `((placeholder))` named after its property reference, the way
//! om's `bosh-diff` shows secrets.

use std::collections::BTreeMap;

use serde_json::Value;
use tiles::metadata::ProductTemplate;
use tiles::properties::types;
use tiles::properties::StagedValues;
use tiles::render::{
    placeholder_name, render_product, NetworkAssignment, OtherProduct, RenderContext,
    RenderedProduct,
};

use crate::products::{Products, StagedProduct};
use crate::{Error, Result};

/// A render ready to deploy, and the same manifest with credentials as placeholders.
#[derive(Debug, Clone)]
pub struct ProductRender {
    pub rendered: RenderedProduct,
    /// The manifest with `((placeholders))` for credential values.
    pub redacted: Value,
    /// Every credential value the manifest holds, by placeholder name (see
    /// [`credential_values`]).
    pub secrets: Vec<(String, String)>,
}

/// The namespace of the config-server variables Tileworks sets for a product's credentials:
/// `/tileworks/<product guid>/<placeholder name>`.
pub fn config_server_prefix(guid: &str) -> String {
    format!("/tileworks/{guid}")
}

/// What a Director with a config server is sent: the manifest with every credential value
/// replaced by an absolute `((/tileworks/<guid>/<name>))` placeholder, and the values to set
/// under those names first (a field placeholder `((x.field))` becomes a JSON value `x` with
/// that field, as CredHub's `name.key` interpolation reads it). The Director then stores the
/// manifest as a real Director does: placeholders, with the values in its config server.
pub fn for_config_server(
    manifest: &Value,
    secrets: &[(String, String)],
    guid: &str,
) -> (Value, Vec<(String, Value)>) {
    let prefix = config_server_prefix(guid);
    let absolute: Vec<(String, String)> = secrets
        .iter()
        .map(|(name, value)| (format!("{prefix}/{name}"), value.clone()))
        .collect();
    let manifest = redact(manifest, &absolute);
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    for (name, value) in &absolute {
        let (base, path) = match name.split_once('.') {
            Some((base, path)) => (base, Some(path)),
            None => (name.as_str(), None),
        };
        let Some(path) = path else {
            values.insert(base.to_owned(), Value::String(value.clone()));
            continue;
        };
        let mut slot = values
            .entry(base.to_owned())
            .or_insert_with(|| Value::Object(Default::default()));
        for key in path.split('.') {
            if !slot.is_object() {
                *slot = Value::Object(Default::default());
            }
            slot = slot
                .as_object_mut()
                .expect("made an object above")
                .entry(key.to_owned())
                .or_insert(Value::Null);
        }
        *slot = Value::String(value.clone());
    }
    (manifest, values.into_iter().collect())
}

/// The placement of a product from its `networks_and_azs`.
fn network_of(product: &StagedProduct) -> Result<NetworkAssignment> {
    let nets = product.settings.networks_and_azs.as_ref().ok_or_else(|| {
        Error::invalid(
            "networks_and_azs",
            "the product has no network and AZ assignment",
        )
    })?;
    NetworkAssignment::from_om(nets).map_err(|e| Error::invalid("networks_and_azs", e.to_string()))
}

/// Renders `product` as it would be deployed now.
pub async fn render_staged(
    products: &Products,
    product: &StagedProduct,
    director_hostname: &str,
) -> Result<ProductRender> {
    let director = products.director().await?;
    let network = network_of(product)?;
    let mut ctx = RenderContext::new(
        product.guid.clone(),
        director.settings.director_config(),
        network,
    )
    .map_err(|e| Error::invalid("cloud_config", e.to_string()))?;
    let ca = products.root_ca().await?;
    ctx.ops_manager
        .accessors
        .insert("ca_certificate".into(), Value::String(ca.cert_pem.clone()));
    // What deployments trust: the Director's trusted certificates and every CA's certificate,
    // so a CA generated for a rotation is trusted before it signs anything.
    let mut trusted: Vec<String> = director
        .settings
        .other_properties
        .get("security_configuration")
        .and_then(|s| s.get("trusted_certificates"))
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .map(|t| vec![t.trim_end().to_owned()])
        .unwrap_or_default();
    for pem in products.trusted_ca_certificates().await? {
        trusted.push(pem.trim_end().to_owned());
    }
    ctx.ops_manager.accessors.insert(
        "trusted_certificates".into(),
        Value::String(trusted.join("\n") + "\n"),
    );
    let d = &mut ctx.director.accessors;
    d.insert(
        "hostname".into(),
        Value::String(director_hostname.to_owned()),
    );
    d.insert(
        "deployment_ip".into(),
        Value::String(director_hostname.to_owned()),
    );
    d.insert("ca_public_key".into(), Value::String(ca.cert_pem.clone()));
    d.insert("guid".into(), Value::String(director.guid.clone()));
    ctx.errands = product.settings.errands.clone();
    ctx.staged_at = product.staged_at.clone();
    // The stemcells the Stemcell Library resolves for the product (its pin, else the newest
    // accepted import), by OS; a missing one keeps the criteria's version (the completeness
    // check refuses such a product before any deploy).
    for usage in
        crate::stemcells::assignments::uses_of(products, &product.guid, &product.template).await?
    {
        if let Some(version) = usage.staged_version {
            ctx.stemcells.insert(usage.required_os, version);
        }
    }
    for row in products.store().products().staged().await? {
        if row.guid == product.guid {
            continue;
        }
        let other = products.load_staged(row).await?;
        let network = network_of(&other).ok();
        ctx.products.insert(
            other.name.clone(),
            OtherProduct {
                guid: other.guid.clone(),
                template: (*other.template).clone(),
                staged: other.settings.staged.clone(),
                network,
                staged_at: other.staged_at.clone(),
            },
        );
    }
    let mut staged = product.settings.staged.clone();
    products
        .fill_generated(&product.template, &mut staged)
        .await?;
    let rendered = render_product(&product.template, &staged, &ctx)
        .map_err(|e| Error::invalid("manifest", e.to_string()))?;
    let secrets = credential_values(&product.template, &staged);
    let redacted = redact(&rendered.manifest, &secrets);
    Ok(ProductRender {
        rendered,
        redacted,
        secrets,
    })
}

/// Every credential string in `staged`, with the placeholder name that stands for it:
/// `reference` → `((name))`, fields as `((name.field))`, collection records' credential fields
/// as `((name_INDEX_field))`.
pub fn credential_values(
    template: &ProductTemplate,
    staged: &StagedValues,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for pref in template.property_refs() {
        let bp = pref.blueprint;
        let Some(value) = staged.get(&pref.reference) else {
            continue;
        };
        let name = placeholder_name(&pref.reference);
        if types::is_credential(bp.property_type.as_str()) {
            collect(value, &name, &mut out);
            continue;
        }
        let secret_fields: Vec<&str> = bp
            .sub_blueprints()
            .iter()
            .filter(|s| types::is_credential(s.property_type.as_str()))
            .map(|s| s.name.as_str())
            .collect();
        if let (false, Value::Array(records)) = (secret_fields.is_empty(), value) {
            for (i, record) in records.iter().enumerate() {
                for field in &secret_fields {
                    if let Some(v) = record.get(*field) {
                        collect(v, &format!("{name}_{i}_{field}"), &mut out);
                    }
                }
            }
        }
    }
    out
}

fn collect(value: &Value, name: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) if !s.is_empty() => out.push((name.to_owned(), s.clone())),
        Value::Object(fields) => {
            for (k, v) in fields {
                // A `{"value": …}` record field is the value itself.
                if k == "value" {
                    collect(v, name, out);
                } else {
                    collect(v, &format!("{name}.{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect(v, &format!("{name}_{i}"), out);
            }
        }
        _ => {}
    }
}

/// Secrets shorter than this are replaced inside a longer string only where they stand
/// between delimiters (`https://user:abc@host`, `password=abc`): a short value (`abc`) inside a
/// word (`abcdef`) is more likely a coincidence than a copy.
const MIN_EMBEDDED_SECRET: usize = 8;

/// `manifest` with every credential value replaced by its `((placeholder))`: whole strings, and
/// copies embedded in longer strings (anywhere for values of 8 characters or more, between
/// [`delimiter`]s for shorter ones). Replacing more than a copy is harmless: the Director (or
/// [`crate::deployed`]'s reading of a stored manifest) puts the same value back.
pub fn redact(manifest: &Value, secrets: &[(String, String)]) -> Value {
    // Longest first, so a secret that contains another is replaced whole.
    let mut sorted: Vec<&(String, String)> = secrets
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .collect();
    sorted.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    let mut by_value: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, value) in &sorted {
        by_value.entry(value.as_str()).or_insert(name.as_str());
    }
    redact_value(manifest, &sorted, &by_value)
}

fn redact_value(v: &Value, sorted: &[&(String, String)], whole: &BTreeMap<&str, &str>) -> Value {
    match v {
        Value::String(s) => {
            if let Some(name) = whole.get(s.as_str()) {
                return Value::String(format!("(({name}))"));
            }
            Value::String(redact_embedded(s, sorted))
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| redact_value(i, sorted, whole))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), redact_value(v, sorted, whole)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `text` with the copies of `sorted`'s secrets replaced in one pass from the left, the
/// longest secret first at each position (so a placeholder already written is never searched
/// again).
fn redact_embedded(text: &str, sorted: &[&(String, String)]) -> String {
    // Most strings hold no secret: only those that do are scanned.
    let present: Vec<&(String, String)> = sorted
        .iter()
        .copied()
        .filter(|(_, secret)| text.contains(secret.as_str()))
        .collect();
    if present.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    'scan: while let Some(ch) = text[at..].chars().next() {
        for (name, secret) in &present {
            let end = at + secret.len();
            if text[at..].starts_with(secret.as_str())
                && (secret.len() >= MIN_EMBEDDED_SECRET
                    || (text[..at].chars().next_back().is_none_or(delimiter)
                        && text[end..].chars().next().is_none_or(delimiter)))
            {
                out.push_str("((");
                out.push_str(name);
                out.push_str("))");
                at = end;
                continue 'scan;
            }
        }
        out.push(ch);
        at += ch.len_utf8();
    }
    out
}

/// Characters that end a short secret embedded in text: what separates the parts of a URL,
/// a connection string, a `key=value` list or a quoted value. `-`, `_` and `.` are not among
/// them: they join the parts of names (`pks-api`, `abc.example.com`), which stay as they are.
fn delimiter(c: char) -> bool {
    c.is_whitespace() || ":/@=,;&?|\"'()[]{}<>".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_server_gets_the_values_and_the_manifest_only_placeholders() {
        let secrets = vec![
            (
                "properties_pw".to_owned(),
                "hunter2-long-password".to_owned(),
            ),
            (
                "properties_cert.cert_pem".to_owned(),
                "CERT-PEM-TEXT".to_owned(),
            ),
            (
                "properties_cert.private_key_pem".to_owned(),
                "KEY-PEM-TEXT".to_owned(),
            ),
        ];
        let manifest = serde_json::json!({
            "name": "p-guid",
            "properties": {
                "pw": "hunter2-long-password",
                "url": "https://admin:hunter2-long-password@host",
                "tls": {"cert": "CERT-PEM-TEXT", "key": "KEY-PEM-TEXT"},
            },
        });
        let (sent, values) = for_config_server(&manifest, &secrets, "p-guid");
        let text = sent.to_string();
        for (_, secret) in &secrets {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
        assert_eq!(
            sent["properties"]["pw"],
            "((/tileworks/p-guid/properties_pw))"
        );
        assert_eq!(
            sent["properties"]["url"],
            "https://admin:((/tileworks/p-guid/properties_pw))@host"
        );
        assert_eq!(
            sent["properties"]["tls"]["key"],
            "((/tileworks/p-guid/properties_cert.private_key_pem))"
        );
        let values: BTreeMap<String, Value> = values.into_iter().collect();
        assert_eq!(
            values["/tileworks/p-guid/properties_pw"],
            "hunter2-long-password"
        );
        assert_eq!(
            values["/tileworks/p-guid/properties_cert"],
            serde_json::json!({"cert_pem": "CERT-PEM-TEXT", "private_key_pem": "KEY-PEM-TEXT"})
        );
    }

    #[test]
    fn credentials_become_placeholders() {
        let secrets = vec![
            (
                "properties_admin.password".to_owned(),
                "s3cret-Pa55word".to_owned(),
            ),
            ("properties_short".to_owned(), "abc".to_owned()),
        ];
        let manifest = json!({
            "instance_groups": [{"jobs": [{"properties": {
                "password": "s3cret-Pa55word",
                "url": "https://admin:s3cret-Pa55word@host",
                "short": "abc",
                "name": "abcdef",
                "dsn": "postgres://db:abc@host/abc-x?sslmode=abc.d",
                "pair": "user=x password=abc",
                "quoted": "'abc' abc",
                "count": 3,
            }}]}]
        });
        let out = redact(&manifest, &secrets);
        let p = &out["instance_groups"][0]["jobs"][0]["properties"];
        assert_eq!(p["password"], "((properties_admin.password))");
        assert_eq!(p["url"], "https://admin:((properties_admin.password))@host");
        assert_eq!(p["short"], "((properties_short))");
        assert_eq!(p["name"], "abcdef");
        // A short secret between delimiters is a copy; inside a name or word it is not.
        assert_eq!(
            p["dsn"],
            "postgres://db:((properties_short))@host/abc-x?sslmode=abc.d"
        );
        assert_eq!(p["pair"], "user=x password=((properties_short))");
        assert_eq!(p["quoted"], "'((properties_short))' ((properties_short))");
        assert_eq!(p["count"], 3);
    }

    #[test]
    fn the_pks_tiles_credentials_are_found() {
        let t = ProductTemplate::from_yaml(tiles::products::PKS_METADATA).unwrap();
        let cred = t
            .property_refs()
            .into_iter()
            .find(|p| p.blueprint.property_type.as_str() == "simple_credentials")
            .unwrap()
            .reference;
        let plain = t
            .property_refs()
            .into_iter()
            .find(|p| p.blueprint.property_type.as_str() == "string")
            .unwrap()
            .reference;
        let mut s = StagedValues::new();
        s.set(
            &cred,
            json!({"identity": "admin", "password": "pw-123456789"}),
        );
        s.set(&plain, json!("visible"));
        let found = credential_values(&t, &s);
        let name = placeholder_name(&cred);
        assert!(found.contains(&(format!("{name}.password"), "pw-123456789".into())));
        assert!(found.contains(&(format!("{name}.identity"), "admin".into())));
        assert!(!found.iter().any(|(_, v)| v == "visible"));
    }
}
