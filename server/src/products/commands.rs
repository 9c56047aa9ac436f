//! The typed requests the products service takes for configuration writes. The Ops Manager
//! API (`http/api`, which parses om's JSON into these and answers 422 naming the field) and the
//! UI backends (`ui`, which build them from their forms) both speak these, so the service never
//! sees a request body: what it validates is what the operator asked for.

use std::collections::BTreeMap;

use serde_json::Value;

/// A value for one property: the value as given (`tiles` shapes it by the property's type and
/// checks it) and, for a selector, the option chosen by name (`selected_option`).
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyUpdate {
    pub value: Value,
    pub selected_option: Option<String>,
}

impl PropertyUpdate {
    /// A value, without a selected option.
    pub fn value(value: Value) -> PropertyUpdate {
        PropertyUpdate {
            value,
            selected_option: None,
        }
    }
}

/// The properties one write sets, by reference (`.properties.x`, `.job.y`).
pub type PropertyUpdates = BTreeMap<String, PropertyUpdate>;
