//! Request bodies as the audit trail keeps them: every credential value replaced by
//! [`FILTERED`], everything else as sent, so an entry says what was changed without holding
//! what must stay secret.
//!
//! The gate records bodies before any handler has read them, so it cannot know a property's
//! type; the rules therefore err towards filtering:
//! - a value under a key that names a credential (`password`, `secret`, `private_key`,
//!   `passphrase`, `token`, `credential`, `auth`, `kubeconfig`, anything ending in `key`…);
//! - a property's `value` (om's `{"properties": {ref: {"value": …}}}`) and the value of a
//!   property reference key (`.properties.…`, as the settings form sends them), unless it is a
//!   number, a boolean or null: a secret property's value looks like any other text;
//! - any text holding a PEM block (certificates' private keys travel as PEM);
//! - text that is itself JSON (the UI's server functions send lists and objects as JSON text)
//!   is read and filtered by the same rules.

use serde_json::{Map, Value};

/// What a credential value becomes.
pub const FILTERED: &str = "[FILTERED]";

/// The body with every credential value replaced.
pub fn filtered(body: Value) -> Value {
    match body {
        Value::Object(map) => Value::Object(object(map)),
        Value::Array(items) => Value::Array(items.into_iter().map(filtered).collect()),
        Value::String(text) => text_value(text),
        other => other,
    }
}

fn object(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, value)| {
            let value = if value.is_null() {
                value
            } else if credential_key(&key) {
                Value::String(FILTERED.into())
            } else if key == "value" || key.starts_with('.') {
                property_value(value)
            } else {
                filtered(value)
            };
            (key, value)
        })
        .collect()
}

/// A property's value: numbers and booleans stay (they are never secrets a tile types as
/// such), an object keeps its structure with its values filtered, text goes.
fn property_value(value: Value) -> Value {
    match value {
        Value::Bool(_) | Value::Number(_) | Value::Null => value,
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, inner)| {
                    let inner = if credential_key(&key) {
                        Value::String(FILTERED.into())
                    } else {
                        property_value(inner)
                    };
                    (key, inner)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(property_value).collect()),
        Value::String(text) => match embedded_json(&text) {
            Some(inner) => property_value(inner),
            None => Value::String(FILTERED.into()),
        },
    }
}

/// Text: filtered when it holds a PEM block; read and filtered when it is JSON.
fn text_value(text: String) -> Value {
    match embedded_json(&text) {
        Some(inner) => filtered(inner),
        None if text.contains("-----BEGIN") => Value::String(FILTERED.into()),
        None => Value::String(text),
    }
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
        let out = filtered(body);
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
        let out = filtered(body);
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
        let out = filtered(form);
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
