//! A product's configuration values: properties keyed by reference, and per-job resource
//! settings.
//!
//! This is what the operator edits (the *staged* layer) and, once applied, what was deployed;
//! validation compares the two for `freeze_on_deploy` and `may_only_increase`. Values are in the
//! properties-API shapes, so a `GET …/properties` response and an `om configure-product` file
//! both map onto it without translation.
//!
//! Keys:
//! - `.properties.NAME` and `.JOB.NAME` for product and job properties;
//! - `.properties.SEL.OPTION.NAME` (or `.JOB.SEL.OPTION.NAME`) for a selector option's
//!   sub-properties, OPTION being the option template's `name`;
//! - a collection is one key whose value is a list of flat records `{"guid": …, FIELD: value}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::constraints::as_integer;

/// Property values and resource settings of one product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StagedValues {
    /// Property reference → value.
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
    /// Job (instance group) name → its resource settings.
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceConfig>,
}

impl StagedValues {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value stored under `reference`, if any (a stored `null` counts as none).
    pub fn get(&self, reference: &str) -> Option<&Value> {
        self.properties.get(reference).filter(|v| !v.is_null())
    }

    /// Stores a value, replacing what was there.
    pub fn set(&mut self, reference: impl Into<String>, value: Value) {
        self.properties.insert(reference.into(), value);
    }

    /// Removes a value and returns it.
    pub fn remove(&mut self, reference: &str) -> Option<Value> {
        self.properties.remove(reference)
    }

    /// The resource settings of a job, if any were staged.
    pub fn resource(&self, job: &str) -> Option<&ResourceConfig> {
        self.resources.get(job)
    }
}

/// One job's resource settings, as the Resource Config page and `om`'s `resource-config`
/// section express them. `None` everywhere means "automatic" (the tile's defaults).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceConfig {
    /// An instance count, or `"automatic"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<Value>,
    /// A VM type name, or `"automatic"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// A persistent disk size in MB (number or numeric text), or `"automatic"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_disk_mb: Option<Value>,
    /// An integer, `"N%"`, or `"default"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<Value>,
    /// Everything else (`internet_connected`, `elb_names`, `additional_vm_extensions`, IaaS
    /// extras), kept as given.
    #[serde(default, flatten)]
    pub extra: Map<String, Value>,
}

/// A setting that is either automatic or an explicit number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sized {
    Automatic,
    Value(i64),
}

/// Reads `"automatic"`/absent as automatic and numbers or numeric text as a value; anything
/// else is `Err` with the offending text.
pub fn read_sized(value: Option<&Value>) -> Result<Sized, String> {
    match value {
        None | Some(Value::Null) => Ok(Sized::Automatic),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("automatic") => Ok(Sized::Automatic),
        Some(v) => match as_integer(v) {
            Some(n) if !v.is_boolean() => Ok(Sized::Value(n)),
            _ => Err(match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
        },
    }
}

impl ResourceConfig {
    /// The instance count: automatic, or the number set.
    pub fn instances(&self) -> Result<Sized, String> {
        read_sized(self.instances.as_ref())
    }

    /// The persistent disk size in MB: automatic, or the number set.
    pub fn persistent_disk_mb(&self) -> Result<Sized, String> {
        read_sized(self.persistent_disk_mb.as_ref())
    }

    /// The chosen VM type, `None` when automatic.
    pub fn vm_type(&self) -> Option<&str> {
        self.instance_type
            .as_deref()
            .filter(|t| !t.eq_ignore_ascii_case("automatic") && !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_by_reference() {
        let mut s = StagedValues::new();
        s.set(".properties.a", json!("x"));
        s.set(".properties.b", Value::Null);
        assert_eq!(s.get(".properties.a"), Some(&json!("x")));
        assert_eq!(s.get(".properties.b"), None);
        assert_eq!(s.remove(".properties.a"), Some(json!("x")));
        assert_eq!(s.get(".properties.a"), None);
    }

    #[test]
    fn resource_settings() {
        let r: ResourceConfig = serde_json::from_value(json!({
            "instances": "automatic", "instance_type": "large",
            "persistent_disk_mb": "20480", "internet_connected": true
        }))
        .unwrap();
        assert_eq!(r.instances(), Ok(Sized::Automatic));
        assert_eq!(r.persistent_disk_mb(), Ok(Sized::Value(20480)));
        assert_eq!(r.vm_type(), Some("large"));
        assert_eq!(r.extra.get("internet_connected"), Some(&json!(true)));
        let r = ResourceConfig {
            instances: Some(json!("lots")),
            instance_type: Some("automatic".into()),
            ..Default::default()
        };
        assert_eq!(r.instances(), Err("lots".to_string()));
        assert_eq!(r.vm_type(), None);
        assert_eq!(read_sized(Some(&json!(true))), Err("true".to_string()));
        assert_eq!(read_sized(Some(&json!(3))), Ok(Sized::Value(3)));
    }

    #[test]
    fn round_trips_through_json() {
        let mut s = StagedValues::new();
        s.set(".properties.a", json!({"secret": "x"}));
        s.resources.insert(
            "web".into(),
            ResourceConfig {
                instances: Some(json!(2)),
                ..Default::default()
            },
        );
        let back: StagedValues = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
