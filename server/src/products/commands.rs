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

/// Where a product's jobs run (Assign AZs and Networks): each by name. `None` leaves a key out
/// of the placement (the tile is then incomplete, or the key is not needed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    pub network: Option<String>,
    /// The network of on-demand service instances (tiles with a service broker).
    pub service_network: Option<String>,
    pub singleton_availability_zone: Option<String>,
    pub other_availability_zones: Option<Vec<String>>,
    /// Other names Ops Manager clients may send (`{"key": {"name": …}}`), kept as given.
    pub other: BTreeMap<String, String>,
}

impl Placement {
    /// The stored form (also what `GET …/networks_and_azs` answers): `{"network": {"name":
    /// …}, …, "other_availability_zones": [{"name": …}, …]}`.
    pub fn to_stored(&self) -> Value {
        use serde_json::{json, Map};
        let mut m = Map::new();
        let named = |n: &String| json!({ "name": n });
        for (key, name) in [
            ("network", &self.network),
            ("service_network", &self.service_network),
            (
                "singleton_availability_zone",
                &self.singleton_availability_zone,
            ),
        ] {
            if let Some(name) = name {
                m.insert(key.into(), named(name));
            }
        }
        if let Some(azs) = &self.other_availability_zones {
            m.insert(
                "other_availability_zones".into(),
                Value::Array(azs.iter().map(named).collect()),
            );
        }
        for (key, name) in &self.other {
            m.insert(key.clone(), named(name));
        }
        Value::Object(m)
    }
}

/// When an errand runs (Errands page, `PUT …/errands`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrandRule {
    On,
    Off,
    /// Post-deploy only: when the product's manifest changed.
    WhenChanged,
    /// Back to the tile's default.
    Default,
}

impl ErrandRule {
    /// The stored rule (`None`: the tile's default).
    pub fn stored(self) -> Option<Value> {
        match self {
            ErrandRule::On => Some(Value::Bool(true)),
            ErrandRule::Off => Some(Value::Bool(false)),
            ErrandRule::WhenChanged => Some(Value::String("when-changed".into())),
            ErrandRule::Default => None,
        }
    }
}

/// The rules of one errand; `None` leaves a phase as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrandRules {
    pub name: String,
    pub post_deploy: Option<ErrandRule>,
    pub pre_delete: Option<ErrandRule>,
}

/// A max in flight (`PUT …/max_in_flight`): how many instances of a job update at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlight {
    Count(i64),
    Percent(u32),
}

impl InFlight {
    /// The stored value: `N` or `"N%"`.
    pub fn stored(self) -> Value {
        match self {
            InFlight::Count(n) => Value::from(n),
            InFlight::Percent(p) => Value::String(format!("{p}%")),
        }
    }
}

/// Max in flight by job GUID; `None` is back to the tile's default.
pub type MaxInFlightUpdates = BTreeMap<String, Option<InFlight>>;

/// Findings on a request by field, made by the caller before the service saw it (values it
/// could not read into a command): the service refuses them together with its own, so one
/// answer names every problem of the request.
pub type Findings = BTreeMap<String, Vec<String>>;
