//! The typed requests the products service takes for configuration writes. The Ops Manager
//! API (`http/api`, which parses om's JSON into these and answers 422 naming the field) and the
//! UI backends (`ui`, which build them from their forms) both speak these, so the service never
//! sees a request body: what it validates is what the operator asked for.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tiles::cloud_config::Iaas;
use tiles::properties::constraints::as_integer;
use tiles::properties::staged::ResourceConfig as StoredResourceConfig;

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
        use serde_json::json;
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

/// A job's resource settings (Resource Config, `PUT …/jobs/:job_guid/resource_config`): the
/// whole of them, as om sends them after merging its keys over the current ones (what is not
/// given is automatic). Max in flight is not part of it: it has its own write and stays as
/// stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceConfig {
    pub instances: Instances,
    /// A VM type by name; `None`: automatic (the tile's choice).
    pub instance_type: Option<String>,
    pub persistent_disk: PersistentDisk,
    /// The other keys om sends (`internet_connected`, `elb_names`,
    /// `additional_vm_extensions`, IaaS extras), kept as given.
    pub other: Map<String, Value>,
}

/// How many instances of a job run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Instances {
    /// The tile's default.
    #[default]
    Automatic,
    /// A count, and whether it was given as text (`"3"`): it is stored as it was given, so a
    /// save of what a GET answered changes nothing.
    Count { count: i64, as_text: bool },
}

impl Instances {
    /// `"automatic"` (in any case) or `null`, a whole number, or a whole number as text; else
    /// what is wrong with it, in the words validation uses.
    pub fn read(value: &Value) -> Result<Instances, String> {
        match value {
            Value::Null => Ok(Instances::Automatic),
            Value::String(s) if s.eq_ignore_ascii_case("automatic") => Ok(Instances::Automatic),
            Value::Number(_) | Value::String(_) => match as_integer(value) {
                Some(count) => Ok(Instances::Count {
                    count,
                    as_text: value.is_string(),
                }),
                None => Err(format!("'{}' is not a number of instances", text(value))),
            },
            other => Err(format!("'{}' is not a number of instances", text(other))),
        }
    }

    /// The count, `None` when automatic.
    pub fn count(self) -> Option<i64> {
        match self {
            Instances::Automatic => None,
            Instances::Count { count, .. } => Some(count),
        }
    }
}

/// A job's persistent disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PersistentDisk {
    /// The tile's default.
    #[default]
    Automatic,
    /// A size in MB, given as a number.
    Mb(i64),
    /// A disk type by name, given as text; the default catalogue's are named by their size in
    /// MB (`"20480"`), as om sends them.
    Type(String),
}

impl PersistentDisk {
    /// `"automatic"` (in any case) or `null`, a size in MB, or a disk type's name; else what
    /// is wrong with it, in the words validation uses.
    pub fn read(value: &Value) -> Result<PersistentDisk, String> {
        match value {
            Value::Null => Ok(PersistentDisk::Automatic),
            Value::String(s) if s.eq_ignore_ascii_case("automatic") => {
                Ok(PersistentDisk::Automatic)
            }
            Value::String(s) => Ok(PersistentDisk::Type(s.clone())),
            Value::Number(_) => as_integer(value)
                .map(PersistentDisk::Mb)
                .ok_or_else(|| format!("'{value}' is not a disk size in MB")),
            other => Err(format!("'{other}' is not a disk size in MB")),
        }
    }
}

impl ResourceConfig {
    /// The stored form, with the job's max in flight as it is stored.
    pub fn to_stored(&self, max_in_flight: Option<Value>) -> StoredResourceConfig {
        StoredResourceConfig {
            instances: match self.instances {
                Instances::Automatic => None,
                Instances::Count {
                    count,
                    as_text: false,
                } => Some(Value::from(count)),
                Instances::Count {
                    count,
                    as_text: true,
                } => Some(Value::String(count.to_string())),
            },
            instance_type: self.instance_type.clone(),
            persistent_disk_mb: match &self.persistent_disk {
                PersistentDisk::Automatic => None,
                PersistentDisk::Mb(mb) => Some(Value::from(*mb)),
                PersistentDisk::Type(name) => Some(Value::String(name.clone())),
            },
            max_in_flight,
            extra: self.other.clone(),
        }
    }
}

/// A write of the Director's properties (`PUT /api/v0/staged/director/properties`, the
/// Director page's IaaS and Director Config saves): the sections given; within a section, each
/// key given replaces the stored one and the others stay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectorPropertiesUpdate {
    /// `iaas_configuration`.
    pub iaas: Option<IaasUpdate>,
    /// `director_configuration`: settings by name (`ntp_servers_string`, `resurrector_enabled`,
    /// `director_worker_instances`, `max_threads`, `canaries`… the service checks the ones it
    /// knows and keeps the others as given).
    pub director: Option<Map<String, Value>>,
    /// The other sections (`security_configuration`, `syslog_configuration`,
    /// `dns_configuration`…) in the order given: each replaces the stored one, kept as given.
    pub other: Vec<(String, Map<String, Value>)>,
}

impl DirectorPropertiesUpdate {
    /// The sections the update sets, by their API names.
    pub fn sections(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.iaas.is_some() {
            names.push("iaas_configuration".to_owned());
        }
        if self.director.is_some() {
            names.push("director_configuration".to_owned());
        }
        names.extend(self.other.iter().map(|(name, _)| name.clone()));
        names
    }
}

/// The IaaS essentials a write sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IaasUpdate {
    /// The IaaS, when the request names it (or, from om, its keys give it away).
    pub iaas: Option<Iaas>,
    /// The essentials given (`vcenter_host`, `region`…) without the IaaS's name; a secret sent
    /// back as `***` keeps its stored value, and the configuration's `guid` is Tileworks's.
    pub fields: Map<String, Value>,
}

/// An IaaS by name, in any case; else what is wrong with the name.
pub fn iaas_named(name: &str) -> Result<Iaas, String> {
    serde_json::from_value(Value::String(name.to_ascii_lowercase()))
        .map_err(|_| "must be one of vsphere, aws, gcp, azure, openstack, embedded".to_owned())
}

/// Where the Director itself runs (`PUT /api/v0/staged/director/network_and_az`, the Director
/// page's Assign AZ and Network, and the Director tile's `networks_and_azs`): each by name;
/// `None` leaves a key out (the Director is then incomplete).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectorPlacement {
    pub network: Option<String>,
    pub singleton_az: Option<String>,
}

impl DirectorPlacement {
    /// The stored form (also what `GET …/network_and_az` answers): `{"network": {"name": …},
    /// "singleton_availability_zone": {"name": …}}`.
    pub fn to_stored(&self) -> Value {
        let mut m = Map::new();
        for (key, name) in [
            ("network", &self.network),
            ("singleton_availability_zone", &self.singleton_az),
        ] {
            if let Some(name) = name {
                m.insert(key.into(), serde_json::json!({ "name": name }));
            }
        }
        Value::Object(m)
    }
}

/// A value as a message quotes it: text as it is, anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Findings on a request by field, made by the caller before the service saw it (values it
/// could not read into a command): the service refuses them together with its own, so one
/// answer names every problem of the request.
pub type Findings = BTreeMap<String, Vec<String>>;
