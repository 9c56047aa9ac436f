//! Request bodies as the audit trail keeps them: the body's shape (its keys, numbers and
//! booleans) as sent, and text only where it cannot be a secret, so an entry says what was
//! changed without holding what must stay secret.
//!
//! The gate records bodies before any handler has read them, so it cannot know a property's
//! type, and a credential can travel under any key (an om collection's secret field, an IaaS
//! option, a server function's argument). The rules therefore fail closed:
//! - text is kept only under a key known to hold no secret ([`plain_key`]: names, guids,
//!   versions, roles, hosts, network fields…) and only when it holds no PEM block; every other
//!   text becomes [`FILTERED`], whatever its key;
//! - a value under a key that names a credential ([`credential_key`]) is filtered whole, numbers
//!   included; a property's `value` and the value of a property reference key (`.properties.…`)
//!   keep only numbers, booleans and structure;
//! - text that is itself JSON (the UI's server functions send lists and objects as JSON text)
//!   is read and filtered by the same rules;
//! - a body with a key that does not look like one (quotes, spaces, a JSON document posted as
//!   a form's field name) cannot be classified: [`filtered`] gives `None` and the trail keeps
//!   only its size and type (`crate::audit::body_of`).

use serde_json::{Map, Value};

/// What a credential value becomes.
pub const FILTERED: &str = "[FILTERED]";

/// The body with every text that may be a secret replaced; `None` when a key cannot be
/// classified (the body is then left out).
pub fn filtered(body: Value) -> Option<Value> {
    under(None, body)
}

/// `value`, found under `key` (`None` at the top or in a list at the top).
fn under(key: Option<&str>, value: Value) -> Option<Value> {
    Some(match value {
        Value::Object(map) => Value::Object(object(map)?),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| under(key, item))
                .collect::<Option<_>>()?,
        ),
        Value::String(text) => text_value(key, text)?,
        other => other,
    })
}

fn object(map: Map<String, Value>) -> Option<Map<String, Value>> {
    map.into_iter()
        .map(|(key, value)| {
            if !key_like(&key) {
                return None;
            }
            let value = if value.is_null() {
                value
            } else if credential_key(&key) {
                Value::String(FILTERED.into())
            } else if key == "value" || key.starts_with('.') {
                property_value(value)?
            } else {
                under(Some(&key), value)?
            };
            Some((key, value))
        })
        .collect()
}

/// A property's value: numbers and booleans stay (they are never secrets a tile types as
/// such), an object keeps its structure with its values filtered, text goes.
fn property_value(value: Value) -> Option<Value> {
    Some(match value {
        Value::Bool(_) | Value::Number(_) | Value::Null => value,
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, inner)| {
                    if !key_like(&key) {
                        return None;
                    }
                    let inner = if credential_key(&key) {
                        Value::String(FILTERED.into())
                    } else {
                        property_value(inner)?
                    };
                    Some((key, inner))
                })
                .collect::<Option<_>>()?,
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(property_value)
                .collect::<Option<_>>()?,
        ),
        Value::String(text) => match embedded_json(&text) {
            Some(inner) => property_value(inner)?,
            None => Value::String(FILTERED.into()),
        },
    })
}

/// Text under `key`: read and filtered when it is JSON; kept when the key holds no secret and
/// the text no PEM block; else filtered.
fn text_value(key: Option<&str>, text: String) -> Option<Value> {
    if let Some(inner) = embedded_json(&text) {
        return under(key, inner);
    }
    let keep = key.is_some_and(plain_key) && !text.contains("-----BEGIN");
    Some(if keep {
        Value::String(text)
    } else {
        Value::String(FILTERED.into())
    })
}

/// JSON objects and arrays sent as text.
fn embedded_json(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

/// Whether a key looks like one: what om, the forms and the server functions send (names,
/// property references, guids, `a[b]` and `ref#part` form fields), not free text.
fn key_like(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 256
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.[]:/#".contains(&b))
}

/// Whether text under this key is never a secret: identifiers, versions, roles and the
/// Director's network and host fields. Anything not listed loses its text in the trail (its
/// key stays), which costs detail, never a secret.
pub fn plain_key(key: &str) -> bool {
    const EXACT: [&str; 38] = [
        "name",
        "names",
        "guid",
        "id",
        "client_id",
        "username",
        "user_name",
        "role",
        "roles",
        "version",
        "product_version",
        "config_version",
        "type",
        "kind",
        "state",
        "status",
        "action",
        "operation",
        "operation_type",
        "grant_type",
        "deploy_products",
        "errands",
        "form",
        "section",
        "page",
        "per_page",
        "reference",
        "domains",
        "network",
        "cidr",
        "gateway",
        "dns",
        "reserved_ip_ranges",
        "iaas_identifier",
        "datacenter",
        "cluster",
        "resource_pool",
        "ntp_servers_string",
    ];
    const SUFFIXES: [&str; 5] = ["_name", "_names", "_guid", "_host", "_version"];
    if credential_key(key) {
        return false;
    }
    let key = key.to_ascii_lowercase().replace('-', "_");
    EXACT.contains(&key.as_str()) || SUFFIXES.iter().any(|suffix| key.ends_with(suffix))
}

/// Whether a key names a credential (case and separators aside).
pub fn credential_key(key: &str) -> bool {
    const WORDS: [&str; 11] = [
        "password",
        "passwd",
        "passphrase",
        "secret",
        "private",
        "token",
        "credential",
        "auth",
        "kubeconfig",
        "key_pem",
        "cookie",
    ];
    let key = key.to_ascii_lowercase().replace('-', "_");
    WORDS.iter().any(|word| key.contains(word)) || key.ends_with("key")
}

/// A request's query string as the trail keeps it: every key, and a value only where it cannot
/// be a secret (text under a [`plain_key`] without a PEM block, or `true`/`false` under a key
/// that names no credential); every other value becomes [`FILTERED`]. A query that does not
/// parse, or has a key that does not look like one, is kept only as [`FILTERED`]: a token or a
/// password sent in a URL (`?password=…`, `?access_token=…`) never reaches the trail.
pub fn query(query: &str) -> String {
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
        return FILTERED.into();
    };
    if pairs.iter().any(|(key, _)| !key_like(key)) {
        return FILTERED.into();
    }
    let kept: Vec<String> = pairs
        .into_iter()
        .map(|(key, value)| {
            let keep = !credential_key(&key)
                && ((plain_key(&key) && !value.contains("-----BEGIN"))
                    || value == "true"
                    || value == "false");
            let value = if keep { value.as_str() } else { "" };
            let mut pair = serde_urlencoded::to_string([(key.as_str(), value)])
                .unwrap_or_else(|_| FILTERED.into());
            if !keep {
                pair.push_str(FILTERED);
            }
            pair
        })
        .collect();
    kept.join("&")
}

/// A form body (`a=1&b=2`) as a JSON object of text (a repeated field becomes a list).
pub fn form_object(pairs: Vec<(String, String)>) -> Value {
    let mut map = Map::new();
    for (key, value) in pairs {
        match map.get_mut(&key) {
            Some(Value::Array(items)) => items.push(Value::String(value)),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(value)]);
            }
            None => {
                map.insert(key, Value::String(value));
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_query_keeps_keys_and_only_values_that_cannot_be_secrets() {
        assert_eq!(query("redact=false&name=pks"), "redact=false&name=pks");
        assert_eq!(
            query("password=hunter2&access_token=abc.def&name=x"),
            "password=[FILTERED]&access_token=[FILTERED]&name=x"
        );
        // Text under a key not known to be plain goes, whatever it looks like.
        assert_eq!(
            query("expires_within=3m&q=s3cr3t"),
            "expires_within=[FILTERED]&q=[FILTERED]"
        );
        // `true` under a credential key is still filtered.
        assert_eq!(query("secret=true"), "secret=[FILTERED]");
        // Encoded text stays encoded; a PEM block under a plain key goes.
        assert_eq!(query("name=a%20b"), "name=a+b");
        assert_eq!(query("name=-----BEGIN%20RSA"), "name=[FILTERED]");
        // A key that is not a key: the whole query goes.
        assert_eq!(query("a%20b=1"), FILTERED);
        assert_eq!(query("%7B%22password%22%3A1%7D"), FILTERED);
    }

    fn text_of(v: &Value) -> String {
        v.to_string()
    }

    #[test]
    fn credential_keys_are_filtered_wherever_they_are() {
        let body = json!({
            "iaas_configuration": {
                "vcenter_host": "vcsa.example.com",
                "vcenter_password": "vc-Secret-1",
                "secret_access_key": "aws-Secret-2",
                "access_key_id": "AKIA-not-secret-but-filtered",
                "auth_json": "{\"type\": \"service_account\"}",
            },
            "users": [{"username": "ops", "password": "Pa55-word-3", "role": "admin"}],
            "client_secret": 12345,
            "note": null,
        });
        let out = filtered(body).unwrap();
        let text = text_of(&out);
        for secret in [
            "vc-Secret-1",
            "aws-Secret-2",
            "Pa55-word-3",
            "12345",
            "service_account",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(
            out["iaas_configuration"]["vcenter_host"],
            "vcsa.example.com"
        );
        assert_eq!(out["iaas_configuration"]["vcenter_password"], FILTERED);
        assert_eq!(out["users"][0]["username"], "ops");
        assert_eq!(out["users"][0]["role"], "admin");
        assert_eq!(out["note"], Value::Null);
    }

    #[test]
    fn property_values_lose_text_and_keep_numbers_and_booleans() {
        let body = json!({"properties": {
            ".properties.plain_secret": {"value": {"secret": "s3cret-4"}},
            ".properties.typed_as_text": {"value": "untyped-Secret-5"},
            ".properties.creds": {"value": {"identity": "admin", "password": "Pa55-6"}},
            ".properties.workers": {"value": 3},
            ".properties.enabled": {"value": true},
        }});
        let out = filtered(body).unwrap();
        let text = text_of(&out);
        for secret in ["s3cret-4", "untyped-Secret-5", "Pa55-6"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let p = &out["properties"];
        assert_eq!(p[".properties.workers"]["value"], 3);
        assert_eq!(p[".properties.enabled"]["value"], true);
        assert_eq!(p[".properties.typed_as_text"]["value"], FILTERED);
        assert_eq!(p[".properties.creds"]["value"]["password"], FILTERED);
    }

    #[test]
    fn pem_blocks_and_json_text_are_read_and_filtered() {
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n-----END RSA PRIVATE KEY-----";
        let form = form_object(vec![
            ("guid".into(), "pks-123".into()),
            ("config_version".into(), "4".into()),
            (
                "values_json".into(),
                json!({".pivotal-container-service.pks_tls": {"cert_pem": "CERT", "private_key_pem": key},
                       ".properties.pks_api_hostname": "pks.example.com"})
                .to_string(),
            ),
            ("body_json".into(), json!({"x": {"pem": key}}).to_string()),
            ("current_password".into(), "old-Pa55".into()),
            ("new_password".into(), "new-Pa55".into()),
        ]);
        let out = filtered(form).unwrap();
        let text = text_of(&out);
        for secret in ["MIIEsecret", "old-Pa55", "new-Pa55", "pks.example.com"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(out["guid"], "pks-123");
        assert_eq!(out["config_version"], "4");
        assert_eq!(out["body_json"]["x"]["pem"], FILTERED);
        assert!(out["values_json"].is_object(), "{text}");
    }

    #[test]
    fn text_under_keys_not_known_plain_is_filtered() {
        let secret = "innocuous-S3cret-7";
        let body = json!({
            "products": [{"name": "p-1", "guid": "p-1-guid", "note": secret}],
            "iaas_configuration": {"vcenter_host": "vc.example.com", "project": secret},
            "collection": {"value": [{"label": "x", "api": {"secret": secret}}]},
            "nested_text": json!({"inner": {"anything": secret}}).to_string(),
            "certificate": secret,
            "workers": 3,
            "enabled": true,
            "name": format!("-----BEGIN RSA PRIVATE KEY-----{secret}"),
        });
        let out = filtered(body).unwrap();
        assert!(!out.to_string().contains(secret), "{out}");
        assert_eq!(out["products"][0]["name"], "p-1");
        assert_eq!(out["products"][0]["guid"], "p-1-guid");
        assert_eq!(out["products"][0]["note"], FILTERED);
        assert_eq!(out["iaas_configuration"]["vcenter_host"], "vc.example.com");
        assert_eq!(out["nested_text"]["inner"]["anything"], FILTERED);
        assert_eq!(
            (out["workers"].clone(), out["enabled"].clone()),
            (json!(3), json!(true))
        );
        // A bare JSON text body has no key to vouch for it.
        assert_eq!(filtered(json!(secret)).unwrap(), json!(FILTERED));
        assert_eq!(filtered(json!([secret])).unwrap(), json!([FILTERED]));
    }

    #[test]
    fn keys_that_are_not_keys_leave_the_body_out() {
        // A JSON document posted as a form: its text becomes a field's name.
        let posted = format!("{{\"password\": \"{}\"}}", "Pa55-in-a-key");
        assert_eq!(filtered(form_object(vec![(posted, String::new())])), None);
        assert_eq!(filtered(json!({"a b": 1})), None);
        assert_eq!(
            filtered(json!({"properties": {".x": {"value": {"k\"": 1}}}})),
            None
        );
        assert!(filtered(json!({".properties.a#identity": "x", "values[0][name]": "y"})).is_some());
    }

    #[test]
    fn keys_naming_credentials() {
        for key in [
            "password",
            "new_password",
            "client_secret",
            "private_key_pem",
            "ssh_private_key",
            "access_token",
            "kubeconfig",
            "api-key",
            "Decryption-Passphrase",
        ] {
            assert!(credential_key(key), "{key}");
        }
        for key in [
            "username", "name", "domains", "role", "guid", "cert_pem", "network",
        ] {
            assert!(!credential_key(key), "{key}");
        }
    }

    #[test]
    fn repeated_form_fields_become_lists() {
        let out = form_object(vec![
            ("a".into(), "1".into()),
            ("a".into(), "2".into()),
            ("a".into(), "3".into()),
            ("b".into(), "x".into()),
        ]);
        assert_eq!(out, json!({"a": ["1", "2", "3"], "b": "x"}));
    }
}
