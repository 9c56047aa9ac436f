//! The catalogue of property blueprint types and the shape of each one's value.
//!
//! Types are named by the strings tile metadata uses (`"simple_credentials"`…) so the checks
//! work on any type name, including ones this engine does not know (those are accepted as
//! they are: an unknown type is a lint finding, not an operator error).
//!
//! Values use the properties-API shapes (tile-metadata reference §4.3, §9.1): a `secret` is
//! `{"secret": "…"}`, `simple_credentials` is `{"identity", "password"}`, a selector stores the
//! chosen option's `select_value`, a collection is a list of records.

use serde_json::{Map, Value};

use super::constraints::as_integer;
use super::formats;

/// Every blueprint type the Tile Developer Guide documents (32).
pub const PROPERTY_TYPES: [&str; 32] = [
    "string",
    "text",
    "integer",
    "boolean",
    "port",
    "domain",
    "wildcard_domain",
    "email",
    "http_url",
    "ldap_url",
    "ip_address",
    "ip_ranges",
    "network_address",
    "network_address_list",
    "string_list",
    "smtp_authentication",
    "ca_certificate",
    "uuid",
    "secret",
    "simple_credentials",
    "salted_credentials",
    "rsa_cert_credentials",
    "rsa_pkey_credentials",
    "dropdown_select",
    "multi_select_options",
    "selector",
    "collection",
    "vm_type_dropdown",
    "disk_type_dropdown",
    "service_network_az_multi_select",
    "service_network_az_single_select",
    "stemcell_selector",
];

/// The values an `smtp_authentication` property may take.
pub const SMTP_AUTHENTICATION: [&str; 3] = ["plain", "login", "cram_md5"];

/// True for a type in [`PROPERTY_TYPES`].
pub fn is_known(type_name: &str) -> bool {
    PROPERTY_TYPES.contains(&type_name)
}

/// Types whose value is a secret (`credential: true` in the API, redacted by default).
pub fn is_credential(type_name: &str) -> bool {
    !credential_fields(type_name).is_empty()
}

/// Types Ops Manager generates a value for when the blueprint is `configurable: false`.
pub fn is_generated(type_name: &str) -> bool {
    type_name == "uuid" || is_credential(type_name)
}

/// The fields of a credential value, in API order; empty for non-credential types.
pub fn credential_fields(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "secret" => &["secret"],
        "simple_credentials" => &["identity", "password"],
        "salted_credentials" => &["identity", "salt", "password"],
        "rsa_cert_credentials" => &["cert_pem", "private_key_pem"],
        "rsa_pkey_credentials" => &["private_key_pem"],
        _ => &[],
    }
}

/// Types whose value is a list.
fn is_list_type(type_name: &str) -> bool {
    matches!(
        type_name,
        "multi_select_options" | "service_network_az_multi_select" | "collection"
    )
}

/// Types whose value is text (possibly with a format).
fn is_text_type(type_name: &str) -> bool {
    matches!(
        type_name,
        "string"
            | "text"
            | "domain"
            | "wildcard_domain"
            | "email"
            | "http_url"
            | "ldap_url"
            | "ip_address"
            | "ip_ranges"
            | "network_address"
            | "network_address_list"
            | "smtp_authentication"
            | "ca_certificate"
            | "uuid"
            | "vm_type_dropdown"
            | "service_network_az_single_select"
            | "stemcell_selector"
    )
}

fn text_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// True when the value counts as "not set" (Rails' `blank?`, which Ops Manager's "can't be
/// blank" comes from): null, empty or whitespace text, an empty list, a credential whose
/// fields are all blank.
pub fn is_blank(type_name: &str, value: &Value) -> bool {
    let fields = credential_fields(type_name);
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) if !fields.is_empty() => {
            fields.iter().all(|f| map.get(*f).is_none_or(text_blank))
        }
        _ => false,
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

fn must_be(what: &str, value: &Value) -> Vec<String> {
    vec![format!("Value must be {what}, not {}", describe(value))]
}

/// Checks that a non-blank value has the shape and format its type requires. Returns the
/// messages for the operator (empty when fine). Blank values are the caller's business
/// (`optional` decides); unknown types accept anything.
pub fn check_shape(type_name: &str, value: &Value) -> Vec<String> {
    if !credential_fields(type_name).is_empty() {
        return check_credential(type_name, value);
    }
    if is_list_type(type_name) {
        return check_list(type_name, value);
    }
    match type_name {
        "integer" => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Vec::new(),
            _ => must_be("an integer", value),
        },
        "port" => match value.as_i64() {
            Some(p) if value.is_number() && (0..=65535).contains(&p) => Vec::new(),
            Some(_) if value.is_number() => {
                vec!["Value must be a port number between 0 and 65535".to_string()]
            }
            _ => must_be("a port number", value),
        },
        "boolean" => match value {
            Value::Bool(_) => Vec::new(),
            _ => must_be("true or false", value),
        },
        "string_list" => match value {
            Value::String(_) => Vec::new(),
            Value::Array(items) if items.iter().all(Value::is_string) => Vec::new(),
            _ => must_be("a comma-separated list of text", value),
        },
        "dropdown_select" => match value {
            Value::String(_) | Value::Number(_) => Vec::new(),
            _ => must_be("one of the options", value),
        },
        "selector" => match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Vec::new(),
            _ => must_be("the selected option", value),
        },
        "disk_type_dropdown" => match value {
            Value::String(_) | Value::Number(_) => Vec::new(),
            _ => must_be("a disk type", value),
        },
        t if is_text_type(t) => match value.as_str() {
            Some(text) => check_text_format(t, text).err().into_iter().collect(),
            None => must_be("text", value),
        },
        _ => Vec::new(),
    }
}

/// The format rule of each text type.
fn check_text_format(type_name: &str, text: &str) -> Result<(), String> {
    match type_name {
        "domain" => formats::check_domain(text),
        "wildcard_domain" => formats::check_wildcard_domain(text),
        "email" => formats::check_email(text),
        "http_url" => formats::check_http_url(text),
        "ldap_url" => formats::check_ldap_url(text),
        "ip_address" => formats::check_ip_address(text),
        "ip_ranges" => formats::check_ip_ranges(text),
        "network_address" => formats::check_network_address(text),
        "network_address_list" => formats::check_network_address_list(text),
        "smtp_authentication" => {
            if SMTP_AUTHENTICATION.contains(&text) {
                Ok(())
            } else {
                Err(format!(
                    "Value must be one of {}",
                    SMTP_AUTHENTICATION.join(", ")
                ))
            }
        }
        "ca_certificate" => {
            if formats::looks_like_pem(text, &["CERTIFICATE"]) {
                Ok(())
            } else {
                Err("Value must be a PEM-encoded certificate".to_string())
            }
        }
        "uuid" => {
            if formats::is_uuid(text) {
                Ok(())
            } else {
                Err(format!("'{text}' is not a valid UUID"))
            }
        }
        _ => Ok(()),
    }
}

fn check_list(type_name: &str, value: &Value) -> Vec<String> {
    let Value::Array(items) = value else {
        return must_be("a list", value);
    };
    let ok = match type_name {
        "multi_select_options" => items.iter().all(|i| i.is_string() || i.is_number()),
        "service_network_az_multi_select" => items.iter().all(Value::is_string),
        "collection" => items.iter().all(Value::is_object),
        _ => true,
    };
    if ok {
        Vec::new()
    } else if type_name == "collection" {
        vec!["Each record of a collection must be a map".to_string()]
    } else {
        vec!["Each selected item must be text".to_string()]
    }
}

fn private_key_pem(text: &str) -> bool {
    formats::looks_like_pem(text, &["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"])
}

fn check_credential(type_name: &str, value: &Value) -> Vec<String> {
    let Value::Object(map) = value else {
        let fields = credential_fields(type_name)
            .iter()
            .map(|f| format!("\"{f}\""))
            .collect::<Vec<_>>()
            .join(", ");
        return vec![format!(
            "Value must be a map with {fields}, not {}",
            describe(value)
        )];
    };
    let mut messages = Vec::new();
    for field in credential_fields(type_name) {
        match map.get(*field) {
            None | Some(Value::Null) => messages.push(format!("{field} can't be blank")),
            Some(Value::String(s)) if s.trim().is_empty() => {
                messages.push(format!("{field} can't be blank"))
            }
            Some(Value::String(s)) => match *field {
                "cert_pem" if !formats::looks_like_pem(s, &["CERTIFICATE"]) => {
                    messages.push("cert_pem must be a PEM-encoded certificate".to_string())
                }
                "private_key_pem" if !private_key_pem(s) => {
                    messages.push("private_key_pem must be a PEM-encoded private key".to_string())
                }
                _ => {}
            },
            Some(other) => messages.push(format!("{field} must be text, not {}", describe(other))),
        }
    }
    messages
}

/// Brings a value written loosely (a form field, an om YAML file, a metadata default) to the
/// type's canonical shape: numbers as text for text types, numeric text as integers, `"true"`
/// as a boolean, a bare string as `{"secret": …}`, a single option as a one-item list, a
/// `string_list` given as a list as comma text. Values that cannot be converted are returned
/// unchanged, so validation still reports them.
pub fn coerce(type_name: &str, value: Value) -> Value {
    match (type_name, value) {
        (t, Value::Number(n)) if is_text_type(t) || t == "disk_type_dropdown" => {
            Value::String(n.to_string())
        }
        (t, Value::Bool(b)) if is_text_type(t) => Value::String(b.to_string()),
        ("integer" | "port", v) => match as_integer(&v) {
            Some(n) if !v.is_boolean() => Value::from(n),
            _ => v,
        },
        ("boolean", Value::String(s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        ("boolean", Value::String(s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        ("secret", Value::String(s)) => {
            let mut map = Map::new();
            map.insert("secret".to_string(), Value::String(s));
            Value::Object(map)
        }
        ("multi_select_options" | "service_network_az_multi_select", v)
            if v.is_string() || v.is_number() =>
        {
            Value::Array(vec![v])
        }
        ("string_list", Value::Array(items)) if items.iter().all(|i| !i.is_object()) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            Value::String(parts.join(","))
        }
        (_, v) => v,
    }
}

/// The API's redacted form of a credential value: every present field becomes `"***"`.
/// Non-credential values and unset credentials are returned as they are.
pub fn redact(type_name: &str, value: &Value) -> Value {
    match value {
        Value::Object(map) if is_credential(type_name) => Value::Object(
            map.keys()
                .map(|k| (k.clone(), Value::String("***".to_string())))
                .collect(),
        ),
        Value::String(_) if is_credential(type_name) => Value::String("***".to_string()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";

    fn ok(t: &str, v: Value) {
        assert!(
            check_shape(t, &v).is_empty(),
            "{t} {v}: {:?}",
            check_shape(t, &v)
        );
    }
    fn bad(t: &str, v: Value) -> String {
        let m = check_shape(t, &v);
        assert!(!m.is_empty(), "{t} {v} should be refused");
        m.join("; ")
    }

    #[test]
    fn catalogue() {
        assert_eq!(PROPERTY_TYPES.len(), 32);
        let mut sorted = PROPERTY_TYPES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 32);
        assert!(is_known("selector"));
        assert!(!is_known("az_multi_select"));
        assert!(is_credential("secret") && is_credential("rsa_pkey_credentials"));
        assert!(!is_credential("uuid") && is_generated("uuid"));
        assert!(!is_generated("string"));
        assert!(!is_credential("ca_certificate"));
    }

    #[test]
    fn scalar_types() {
        ok("string", json!("anything at all"));
        bad("string", json!(3));
        ok("text", json!("line 1\nline 2"));
        bad("text", json!(["x"]));
        ok("integer", json!(-5));
        ok("integer", json!(2147483648u64));
        assert!(bad("integer", json!(1.5)).contains("an integer"));
        assert!(bad("integer", json!("5")).contains("not text"));
        ok("boolean", json!(false));
        bad("boolean", json!("yes"));
        ok("port", json!(0));
        ok("port", json!(65535));
        assert!(bad("port", json!(65536)).contains("between 0 and 65535"));
        bad("port", json!(-1));
        bad("port", json!("443"));
        ok("uuid", json!("28bab1d3-4a5b-4c6d-8e9f-0123456789ab"));
        bad("uuid", json!("not-a-uuid"));
        ok("smtp_authentication", json!("cram_md5"));
        assert!(bad("smtp_authentication", json!("oauth")).contains("plain, login, cram_md5"));
        ok("ca_certificate", json!(CERT));
        bad("ca_certificate", json!("hello"));
    }

    #[test]
    fn formatted_text_types() {
        ok("domain", json!("sys.example.com"));
        bad("domain", json!("not a domain"));
        ok("wildcard_domain", json!("*.apps.example.com"));
        bad("wildcard_domain", json!("*bad"));
        ok("email", json!("ops@example.com"));
        bad("email", json!("ops"));
        ok("http_url", json!("https://uaa.example.com"));
        bad("http_url", json!("uaa.example.com"));
        ok("ldap_url", json!("ldaps://ldap.example.com:636"));
        bad("ldap_url", json!("http://ldap.example.com"));
        ok("ip_address", json!("10.0.0.5"));
        bad("ip_address", json!("10.0.0"));
        ok("ip_ranges", json!("10.0.0.1-10.0.0.10,10.0.0.20"));
        bad("ip_ranges", json!("10.0.0.10-10.0.0.1"));
        ok("network_address", json!("nats.internal"));
        bad("network_address", json!("a b"));
        ok("network_address_list", json!("1.1.1.1,example.com"));
        bad("network_address_list", json!("1.1.1.1,a b"));
        ok("string_list", json!("a,list,of,strings"));
        ok("string_list", json!(["a", "b"]));
        bad("string_list", json!([1]));
        ok("vm_type_dropdown", json!("large"));
        bad("vm_type_dropdown", json!(4));
        ok("service_network_az_single_select", json!("az1"));
        ok("stemcell_selector", json!("ubuntu-xenial"));
        bad("stemcell_selector", json!({}));
    }

    #[test]
    fn choice_and_list_types() {
        ok("dropdown_select", json!("rare"));
        ok("dropdown_select", json!(3));
        bad("dropdown_select", json!(["rare"]));
        ok("multi_select_options", json!(["earth", "jupiter", 3]));
        bad("multi_select_options", json!("earth"));
        bad("multi_select_options", json!([{"a": 1}]));
        ok("service_network_az_multi_select", json!(["az1", "az2"]));
        bad("service_network_az_multi_select", json!([1]));
        ok("selector", json!("Pizza"));
        bad("selector", json!({"value": "Pizza"}));
        ok("collection", json!([{"guid": "x", "name": "a"}]));
        assert!(bad("collection", json!([1])).contains("record"));
        bad("collection", json!({"name": "a"}));
        ok("disk_type_dropdown", json!("10240"));
        ok("disk_type_dropdown", json!(10240));
        bad("disk_type_dropdown", json!(true));
        ok("some_future_type", json!({"whatever": [1]}));
    }

    #[test]
    fn credential_types() {
        ok("secret", json!({"secret": "s3cret"}));
        assert!(bad("secret", json!("s3cret")).contains("\"secret\""));
        ok(
            "simple_credentials",
            json!({"identity": "admin", "password": "pw"}),
        );
        assert_eq!(
            bad("simple_credentials", json!({"identity": "admin"})),
            "password can't be blank"
        );
        assert!(bad(
            "simple_credentials",
            json!({"identity": 1, "password": "p"})
        )
        .contains("identity must be text"));
        ok(
            "salted_credentials",
            json!({"identity": "a", "salt": "s", "password": "p"}),
        );
        bad(
            "salted_credentials",
            json!({"identity": "a", "password": "p"}),
        );
        ok(
            "rsa_cert_credentials",
            json!({"cert_pem": CERT, "private_key_pem": KEY}),
        );
        assert!(bad(
            "rsa_cert_credentials",
            json!({"cert_pem": "x", "private_key_pem": KEY})
        )
        .contains("cert_pem must be a PEM-encoded certificate"));
        assert!(bad(
            "rsa_cert_credentials",
            json!({"cert_pem": CERT, "private_key_pem": CERT})
        )
        .contains("private key"));
        ok(
            "rsa_pkey_credentials",
            json!({"private_key_pem": KEY, "public_key_pem": "x"}),
        );
        bad("rsa_pkey_credentials", json!({"public_key_pem": "x"}));
    }

    #[test]
    fn blankness() {
        assert!(is_blank("string", &json!(null)));
        assert!(is_blank("string", &json!("  ")));
        assert!(!is_blank("string", &json!("x")));
        assert!(!is_blank("integer", &json!(0)));
        assert!(!is_blank("boolean", &json!(false)));
        assert!(is_blank("multi_select_options", &json!([])));
        assert!(is_blank("secret", &json!({"secret": ""})));
        assert!(is_blank("simple_credentials", &json!({})));
        assert!(!is_blank(
            "simple_credentials",
            &json!({"identity": "admin"})
        ));
        assert!(!is_blank("selector", &json!({})));
    }

    #[test]
    fn coercion() {
        assert_eq!(coerce("string", json!(1.5)), json!("1.5"));
        assert_eq!(coerce("string", json!(true)), json!("true"));
        assert_eq!(coerce("integer", json!("8_192")), json!(8192));
        assert_eq!(coerce("integer", json!("x")), json!("x"));
        assert_eq!(coerce("integer", json!(true)), json!(true));
        assert_eq!(coerce("port", json!("443")), json!(443));
        assert_eq!(coerce("boolean", json!("TRUE")), json!(true));
        assert_eq!(coerce("secret", json!("s")), json!({"secret": "s"}));
        assert_eq!(
            coerce("multi_select_options", json!("earth")),
            json!(["earth"])
        );
        assert_eq!(coerce("string_list", json!(["a", "b"])), json!("a,b"));
        assert_eq!(coerce("disk_type_dropdown", json!(1024)), json!("1024"));
        assert_eq!(coerce("selector", json!("Pizza")), json!("Pizza"));
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact(
                "simple_credentials",
                &json!({"identity": "a", "password": "b"})
            ),
            json!({"identity": "***", "password": "***"})
        );
        assert_eq!(
            redact("secret", &json!({"secret": "b"})),
            json!({"secret": "***"})
        );
        assert_eq!(redact("secret", &json!(null)), json!(null));
        assert_eq!(redact("string", &json!("visible")), json!("visible"));
    }
}
