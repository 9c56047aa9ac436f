//! Ops Manager JSON request bodies read into the products service's typed commands
//! ([`crate::products::commands`]). Bad input is refused here with 422 naming the field, in the
//! words the API has always used, before the service is asked anything.

use serde_json::Value;

use crate::products::commands::{PropertyUpdate, PropertyUpdates};
use crate::{Error, Result};

/// A scalar as text (`selected_option: 2` names option "2").
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `PUT …/properties`' `properties`: `{REFERENCE: {"value": …, "selected_option"?: …}}`
/// (`option_value` is om's older name for `selected_option`; an option alone designates the
/// choice).
pub fn property_updates(properties: &Value) -> Result<PropertyUpdates> {
    let Value::Object(map) = properties else {
        return Err(Error::invalid("properties", "expected an object"));
    };
    let mut updates = PropertyUpdates::new();
    for (reference, entry) in map {
        let Value::Object(entry) = entry else {
            return Err(Error::invalid(reference, "expected a map with `value`"));
        };
        let selected_option = entry
            .get("selected_option")
            .or_else(|| entry.get("option_value"))
            .and_then(text_of);
        let value = match (entry.get("value"), &selected_option) {
            (Some(v), _) => v.clone(),
            (None, Some(option)) => Value::String(option.clone()),
            (None, None) => return Err(Error::invalid(reference, "has no `value`")),
        };
        updates.insert(
            reference.clone(),
            PropertyUpdate {
                value,
                selected_option,
            },
        );
    }
    Ok(updates)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn property_updates_name_the_bad_reference() {
        let updates = property_updates(&json!({
            ".properties.a": {"value": 1},
            ".properties.sel": {"selected_option": "on"},
            ".properties.old": {"value": "x", "option_value": 2},
        }))
        .unwrap();
        assert_eq!(updates[".properties.a"], PropertyUpdate::value(json!(1)));
        assert_eq!(updates[".properties.sel"].value, json!("on"));
        assert_eq!(
            updates[".properties.old"].selected_option.as_deref(),
            Some("2")
        );
        for (body, field) in [
            (json!([]), "properties"),
            (json!({".properties.a": "bare"}), ".properties.a"),
            (json!({".properties.a": {}}), ".properties.a"),
        ] {
            match property_updates(&body) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
