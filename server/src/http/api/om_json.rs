//! Ops Manager JSON request bodies read into the products service's typed commands
//! ([`crate::products::commands`]). Bad input is refused here with 422 naming the field, in the
//! words the API has always used, before the service is asked anything.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::products::commands::{Placement, PropertyUpdate, PropertyUpdates};
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

/// `PUT …/networks_and_azs`' `networks_and_azs`: `{"network": {"name": …},
/// "service_network": …, "singleton_availability_zone": …, "other_availability_zones":
/// [{"name": …}, …]}`; every key given must name something (422 per key otherwise).
pub fn placement(value: &Value) -> Result<Placement> {
    let Value::Object(map) = value else {
        return Err(Error::invalid("networks_and_azs", "expected an object"));
    };
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut placement = Placement::default();
    for (key, v) in map {
        let field = format!("networks_and_azs.{key}");
        let mut bad = || {
            errors
                .entry(field.clone())
                .or_default()
                .push("expected {\"name\": …}".into());
        };
        let name_of = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_owned);
        if key == "other_availability_zones" {
            let mut names = Vec::new();
            match v {
                Value::Array(items) => {
                    for item in items {
                        match name_of(item) {
                            Some(n) => names.push(n),
                            None => bad(),
                        }
                    }
                }
                _ => bad(),
            }
            placement.other_availability_zones = Some(names);
            continue;
        }
        let Some(name) = name_of(v) else {
            bad();
            continue;
        };
        match key.as_str() {
            "network" => placement.network = Some(name),
            "service_network" => placement.service_network = Some(name),
            "singleton_availability_zone" => placement.singleton_availability_zone = Some(name),
            _ => {
                placement.other.insert(key.clone(), name);
            }
        }
    }
    if errors.is_empty() {
        Ok(placement)
    } else {
        Err(Error::Rejected(errors))
    }
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

    #[test]
    fn placements_are_names() {
        let body = json!({
            "network": {"name": "infra"},
            "singleton_availability_zone": {"name": "az1"},
            "other_availability_zones": [{"name": "az1"}, {"name": "az2"}],
        });
        let p = placement(&body).unwrap();
        assert_eq!(p.network.as_deref(), Some("infra"));
        assert_eq!(p.service_network, None);
        assert_eq!(
            p.other_availability_zones,
            Some(vec!["az1".to_owned(), "az2".to_owned()])
        );
        assert_eq!(p.to_stored(), body);
        match placement(&json!({"network": "infra", "other_availability_zones": {}})) {
            Err(Error::Rejected(errors)) => assert_eq!(
                errors.keys().collect::<Vec<_>>(),
                [
                    "networks_and_azs.network",
                    "networks_and_azs.other_availability_zones"
                ]
            ),
            other => panic!("{other:?}"),
        }
    }
}
