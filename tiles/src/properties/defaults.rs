//! Defaults and the value a property effectively has.
//!
//! A property's value is what was staged for it, or else its default: the blueprint's
//! `conditional_default` when the product it depends on is present, otherwise `default`.
//! Defaults are brought to the type's API shape (a quoted port becomes a number, a `string_list`
//! written as a YAML list becomes comma text). Credential defaults are generation hints, not
//! values — `{identity: NAME}` seeds the identity of simple/salted credentials and
//! `{domains: […]}` seeds a certificate — so only the identity part becomes a (partial) value.

use serde_json::{json, Value};

use super::staged::StagedValues;
use super::types;
use crate::metadata::{OptionTemplate, ProductTemplate, PropertyBlueprint};

/// The default of a blueprint in API shape, if it has one. `present_products` names the
/// products installed or staged next to this one (for `conditional_default`).
pub fn default_value(blueprint: &PropertyBlueprint, present_products: &[String]) -> Option<Value> {
    let raw = blueprint
        .conditional_default
        .as_ref()
        .filter(|c| present_products.contains(&c.dependency_present))
        .and_then(|c| c.value.clone())
        .or_else(|| blueprint.default.clone())?;
    let type_name = blueprint.property_type.as_str();
    match type_name {
        "simple_credentials" | "salted_credentials" => raw
            .get("identity")
            .filter(|i| !i.is_null())
            .map(|identity| json!({ "identity": identity })),
        "rsa_cert_credentials" | "rsa_pkey_credentials" | "uuid" => None,
        "secret" => match raw {
            Value::Object(_) | Value::String(_) => Some(types::coerce(type_name, raw)),
            _ => None,
        },
        // A default naming no option is tolerated at import and leaves the property unset, as
        // Ops Manager does (the lint warns): the operator has to choose.
        "selector" => {
            selector_default(blueprint, &raw).map(|o| Value::String(o.select_value.clone()))
        }
        // A default that is not a boolean (the lint warns) leaves the property unset.
        "boolean" => types::coerce(type_name, raw).as_bool().map(Value::Bool),
        "dropdown_select" => option_names_default(blueprint, raw, false),
        // Records written in YAML carry YAML's types (`cost_usd: 10` for a string field);
        // Ops Manager reads them as the field's type.
        "collection" => Some(match raw {
            Value::Array(records) => Value::Array(
                records
                    .into_iter()
                    .map(|record| coerce_record(blueprint, record))
                    .collect(),
            ),
            other => other,
        }),
        "multi_select_options" => option_names_default(blueprint, raw, true),
        _ => Some(types::coerce(type_name, raw)),
    }
    .filter(|v| !v.is_null())
}

/// The option a selector's default designates. An unquoted `default: No` is a YAML 1.1 boolean;
/// it designates the option whose `select_value` is one of that boolean's words, which is what
/// the author meant.
fn selector_default<'a>(
    selector: &'a PropertyBlueprint,
    raw: &Value,
) -> Option<&'a OptionTemplate> {
    if let Value::Bool(b) = raw {
        let words: &[&str] = if *b {
            &["yes", "true", "on"]
        } else {
            &["no", "false", "off"]
        };
        return selector
            .option_templates()
            .iter()
            .find(|o| words.contains(&o.select_value.to_ascii_lowercase().as_str()));
    }
    selected_option(selector, raw)
}

/// A collection record with each field brought to its sub-blueprint's type.
fn coerce_record(collection: &PropertyBlueprint, record: Value) -> Value {
    let Value::Object(fields) = record else {
        return record;
    };
    let subs = collection.sub_blueprints();
    Value::Object(
        fields
            .into_iter()
            .map(|(name, value)| {
                let value = match subs.iter().find(|b| b.name == name) {
                    Some(sub) => types::coerce(sub.property_type.as_str(), value),
                    None => value,
                };
                (name, value)
            })
            .collect(),
    )
}

/// A dropdown's or multi-select's default keeping only the names its options have; `None` when
/// nothing is left.
fn option_names_default(blueprint: &PropertyBlueprint, raw: Value, many: bool) -> Option<Value> {
    let names: Vec<String> = blueprint.options.iter().map(|o| o.name_text()).collect();
    let known = |v: &Value| crate::metadata::decode_text(v).is_some_and(|t| names.contains(&t));
    let type_name = blueprint.property_type.as_str();
    match raw {
        Value::Array(items) if many => {
            let kept: Vec<Value> = items.into_iter().filter(known).collect();
            (!kept.is_empty()).then(|| types::coerce(type_name, Value::Array(kept)))
        }
        single if known(&single) => Some(types::coerce(type_name, single)),
        _ => None,
    }
}

/// The value of `reference`: the staged one when the key is present (even a staged `null`,
/// which means the operator cleared it), else the default.
pub fn effective_value(
    reference: &str,
    blueprint: &PropertyBlueprint,
    staged: &StagedValues,
    present_products: &[String],
) -> Option<Value> {
    match staged.properties.get(reference) {
        Some(Value::Null) => None,
        Some(v) => Some(v.clone()),
        None => default_value(blueprint, present_products),
    }
}

/// The option a selector value designates: by `select_value` first (what the API stores),
/// then by option name (which om also accepts). Numbers and booleans compare by their text.
pub fn selected_option<'a>(
    selector: &'a PropertyBlueprint,
    value: &Value,
) -> Option<&'a OptionTemplate> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    selector
        .option_by_select_value(&text)
        .or_else(|| selector.option_template(&text))
}

/// Fills every property that has no staged key with its default (selector sub-properties
/// included, collections' records get their sub-defaults). Existing keys are left alone, so
/// calling it again changes nothing. Returns the references it filled.
pub fn apply_defaults(
    template: &ProductTemplate,
    staged: &mut StagedValues,
    present_products: &[String],
) -> Vec<String> {
    let mut filled = Vec::new();
    for pref in template.property_refs() {
        if staged.properties.contains_key(&pref.reference) {
            continue;
        }
        if let Some(mut value) = default_value(pref.blueprint, present_products) {
            if let Value::Array(records) = &mut value {
                fill_record_defaults(pref.blueprint, records, present_products);
            }
            staged.set(pref.reference.clone(), value);
            filled.push(pref.reference);
        }
    }
    filled
}

/// Adds missing sub-property defaults to collection records.
pub fn fill_record_defaults(
    collection: &PropertyBlueprint,
    records: &mut [Value],
    present_products: &[String],
) {
    for record in records.iter_mut() {
        let Value::Object(map) = record else { continue };
        for sub in collection.sub_blueprints() {
            if map.contains_key(&sub.name) {
                continue;
            }
            if let Some(v) = default_value(sub, present_products) {
                map.insert(sub.name.clone(), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> ProductTemplate {
        ProductTemplate::from_yaml(
            r#"
name: t
product_version: "1.0"
metadata_version: "2.5"
property_blueprints:
- {name: port, type: port, configurable: true, default: "443"}
- {name: list, type: string_list, configurable: true, default: [a, b]}
- name: conditional
  type: string
  configurable: true
  default: plain
  conditional_default: {dependency_present: cf, value: with-cf}
- {name: creds, type: simple_credentials, configurable: true, default: {identity: admin}}
- {name: cert, type: rsa_cert_credentials, default: {domains: [a.example.com]}}
- {name: nodefault, type: string, configurable: true}
- name: sel
  type: selector
  configurable: true
  default: Pizza
  option_templates:
  - name: pizza_option
    select_value: Pizza
    property_blueprints:
    - {name: cheese, type: boolean, configurable: true, default: true}
  - name: other
    select_value: Other
- name: coll
  type: collection
  configurable: true
  default: [{album: X}]
  property_blueprints:
  - {name: album, type: string, configurable: true}
  - {name: explicit, type: boolean, configurable: true, default: false}
"#,
        )
        .unwrap()
    }

    #[test]
    fn defaults_in_api_shape() {
        let t = template();
        let bp = |n: &str| t.product_blueprint(n).unwrap();
        assert_eq!(default_value(bp("port"), &[]), Some(json!(443)));
        assert_eq!(default_value(bp("list"), &[]), Some(json!("a,b")));
        assert_eq!(
            default_value(bp("creds"), &[]),
            Some(json!({"identity": "admin"}))
        );
        assert_eq!(default_value(bp("cert"), &[]), None);
        assert_eq!(default_value(bp("nodefault"), &[]), None);
        assert_eq!(default_value(bp("sel"), &[]), Some(json!("Pizza")));
    }

    #[test]
    fn conditional_default_follows_the_dependency() {
        let t = template();
        let bp = t.product_blueprint("conditional").unwrap();
        assert_eq!(default_value(bp, &[]), Some(json!("plain")));
        assert_eq!(default_value(bp, &["p-redis".into()]), Some(json!("plain")));
        assert_eq!(default_value(bp, &["cf".into()]), Some(json!("with-cf")));
    }

    #[test]
    fn effective_value_prefers_staged_and_respects_clearing() {
        let t = template();
        let bp = t.product_blueprint("conditional").unwrap();
        let mut s = StagedValues::new();
        assert_eq!(
            effective_value(".properties.conditional", bp, &s, &[]),
            Some(json!("plain"))
        );
        s.set(".properties.conditional", json!("mine"));
        assert_eq!(
            effective_value(".properties.conditional", bp, &s, &[]),
            Some(json!("mine"))
        );
        s.set(".properties.conditional", Value::Null);
        assert_eq!(
            effective_value(".properties.conditional", bp, &s, &[]),
            None
        );
    }

    #[test]
    fn selected_option_by_value_or_name() {
        let t = template();
        let sel = t.product_blueprint("sel").unwrap();
        assert_eq!(
            selected_option(sel, &json!("Pizza")).unwrap().name,
            "pizza_option"
        );
        assert_eq!(selected_option(sel, &json!("other")).unwrap().name, "other");
        assert!(selected_option(sel, &json!("Nope")).is_none());
        assert!(selected_option(sel, &json!({"x": 1})).is_none());
    }

    #[test]
    fn apply_defaults_is_idempotent() {
        let t = template();
        let mut s = StagedValues::new();
        s.set(".properties.port", json!(8443));
        let filled = apply_defaults(&t, &mut s, &[]);
        assert!(filled.contains(&".properties.sel.pizza_option.cheese".to_string()));
        assert!(!filled.contains(&".properties.port".to_string()));
        assert_eq!(s.get(".properties.port"), Some(&json!(8443)));
        assert_eq!(
            s.get(".properties.coll"),
            Some(&json!([{"album": "X", "explicit": false}]))
        );
        let before = s.clone();
        assert!(apply_defaults(&t, &mut s, &[]).is_empty());
        assert_eq!(s, before);
    }
}
