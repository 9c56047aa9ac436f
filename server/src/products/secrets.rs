//! Which staged values are credentials, so they are sealed at rest apart from the rest of the
//! configuration: every property of a credential type (`secret`, `simple_credentials`,
//! `rsa_cert_credentials`, …), and whole collections that have a credential field.

use serde_json::{Map, Value};
use tiles::metadata::ProductTemplate;
use tiles::properties::types;
use tiles::properties::StagedValues;

/// Moves the credential values out of `staged` into a map (reference → value) and returns it.
pub fn split(template: &ProductTemplate, staged: &mut StagedValues) -> Value {
    let mut hidden = Map::new();
    for pref in template.property_refs() {
        let bp = pref.blueprint;
        let secret = types::is_credential(bp.property_type.as_str())
            || bp
                .sub_blueprints()
                .iter()
                .any(|s| types::is_credential(s.property_type.as_str()));
        if secret {
            if let Some(v) = staged.remove(&pref.reference) {
                hidden.insert(pref.reference, v);
            }
        }
    }
    Value::Object(hidden)
}

/// Puts opened credential values back.
pub fn merge(staged: &mut StagedValues, opened: Value) {
    if let Value::Object(map) = opened {
        for (reference, value) in map {
            staged.set(reference, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credentials_go_apart_and_come_back() {
        let t = ProductTemplate::from_yaml(tiles::products::PKS_METADATA).unwrap();
        let cred = t
            .property_refs()
            .into_iter()
            .find(|p| types::is_credential(p.blueprint.property_type.as_str()))
            .unwrap()
            .reference;
        let plain = t
            .property_refs()
            .into_iter()
            .find(|p| p.blueprint.property_type.as_str() == "string")
            .unwrap()
            .reference;
        let mut s = StagedValues::new();
        s.set(&cred, json!({"secret": "x"}));
        s.set(&plain, json!("visible"));
        let original = s.clone();
        let hidden = split(&t, &mut s);
        assert_eq!(hidden[&cred], json!({"secret": "x"}));
        assert!(s.get(&cred).is_none());
        assert_eq!(s.get(&plain), Some(&json!("visible")));
        merge(&mut s, hidden);
        assert_eq!(s, original);
    }
}
