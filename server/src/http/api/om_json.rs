//! Ops Manager JSON request bodies read into the products service's typed commands
//! ([`crate::products::commands`]). Bad input is refused here with 422 naming the field, in the
//! words the API has always used, before the service is asked anything.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tiles::cloud_config::Iaas;

use crate::products::commands::{
    iaas_named, DirectorPlacement, DirectorPropertiesUpdate, ErrandRule, ErrandRules, Findings,
    IaasUpdate, InFlight, Instances, MaxInFlightUpdates, PersistentDisk, Placement, PropertyUpdate,
    PropertyUpdates, ResourceConfig,
};
use crate::products::vm_extensions::VmExtensionEntry;
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
        let mut bad = || errors.entry(field.clone()).or_default().push(NAMED.into());
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

/// `PUT …/errands`' `errands`: `[{"name", "post_deploy"?, "pre_delete"?}]`, each rule `true`,
/// `false` (or as text), `"when-changed"` or `"default"`; `null` leaves a phase as it is. The
/// rules read, and findings on the ones that could not be (for the service to refuse with its
/// own, in one answer).
pub fn errand_rules(errands: &Value) -> Result<(Vec<ErrandRules>, Findings)> {
    let Value::Array(list) = errands else {
        return Err(Error::invalid("errands", "expected a list"));
    };
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            errors
                .entry(format!("errands[{i}].name"))
                .or_default()
                .push(tiles::validate::BLANK.into());
            continue;
        };
        let mut rule_of = |key: &str| {
            let v = item.get(key).filter(|v| !v.is_null())?;
            let rule = match v {
                Value::Bool(true) => ErrandRule::On,
                Value::Bool(false) => ErrandRule::Off,
                Value::String(s) if s == "true" => ErrandRule::On,
                Value::String(s) if s == "false" => ErrandRule::Off,
                Value::String(s) if s == "when-changed" => ErrandRule::WhenChanged,
                Value::String(s) if s == "default" => ErrandRule::Default,
                _ => {
                    errors
                        .entry(format!("errands.{name}.{key}"))
                        .or_default()
                        .push("must be true, false, \"when-changed\" or \"default\"".into());
                    return None;
                }
            };
            Some(rule)
        };
        let post_deploy = rule_of("post_deploy");
        let pre_delete = rule_of("pre_delete");
        out.push(ErrandRules {
            name: name.to_owned(),
            post_deploy,
            pre_delete,
        });
    }
    Ok((out, errors))
}

/// `PUT …/max_in_flight`' `max_in_flight`: `{job_guid: N | "N" | "N%" | "default"}`. The
/// values read, and findings on the ones that could not be.
pub fn max_in_flight(values: &Value) -> Result<(MaxInFlightUpdates, Findings)> {
    let Value::Object(values) = values else {
        return Err(Error::invalid("max_in_flight", "expected an object"));
    };
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut out = MaxInFlightUpdates::new();
    for (job_guid, v) in values {
        match in_flight(v) {
            Ok(v) => {
                out.insert(job_guid.clone(), v);
            }
            Err(m) => errors
                .entry(format!("max_in_flight.{job_guid}"))
                .or_default()
                .push(m),
        }
    }
    Ok((out, errors))
}

/// `N`, `"N"`, `"N%"` or `"default"` (→ `None`).
fn in_flight(v: &Value) -> std::result::Result<Option<InFlight>, String> {
    let bad = || {
        "must be a whole number of at least 1, a percentage like \"20%\", or \"default\""
            .to_string()
    };
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(n) if n >= 1 => Ok(Some(InFlight::Count(n))),
            _ => Err(bad()),
        },
        Value::String(s) if s == "default" => Ok(None),
        Value::String(s) => {
            if let Some(p) = s.strip_suffix('%') {
                match p.trim().parse::<u32>() {
                    Ok(p) if (1..=100).contains(&p) => Ok(Some(InFlight::Percent(p))),
                    _ => Err(bad()),
                }
            } else {
                match s.trim().parse::<i64>() {
                    Ok(n) if n >= 1 => Ok(Some(InFlight::Count(n))),
                    _ => Err(bad()),
                }
            }
        }
        _ => Err(bad()),
    }
}

/// `PUT …/jobs/:job_guid/resource_config`'s body: `{"instances": N | "automatic",
/// "instance_type": {"id": NAME | "automatic"}, "persistent_disk": {"size_mb": MB | NAME |
/// "automatic"}, …}` (each also accepted bare); `max_in_flight` is left out (it has its own
/// write), other keys are kept as given. The config read, and findings on the keys that could
/// not be, by key (`instances`…): the caller puts them under the job's `resource-config.JOB`.
pub fn resource_config(body: &Value) -> Result<(ResourceConfig, Findings)> {
    let Value::Object(body) = body else {
        return Err(Error::invalid("resource_config", "expected an object"));
    };
    let mut errors = Findings::new();
    let mut config = ResourceConfig::default();
    let mut refuse = |key: &str, message: String| {
        errors.entry(key.to_owned()).or_default().push(message);
    };
    // `{"id": x}` or `{"size_mb": x}`, or x alone; a missing inner key is null (automatic).
    let inner = |value: &Value, key: &str| match value {
        Value::Object(m) => m.get(key).cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    for (key, value) in body {
        match key.as_str() {
            "instances" => match Instances::read(value) {
                Ok(instances) => config.instances = instances,
                Err(message) => refuse(key, message),
            },
            "instance_type" => match inner(value, "id") {
                Value::Null => {}
                Value::String(s) if s.eq_ignore_ascii_case("automatic") => {}
                Value::String(s) => config.instance_type = Some(s),
                _ => refuse(key, "expected {\"id\": …} naming a VM type".into()),
            },
            "persistent_disk" => match PersistentDisk::read(&inner(value, "size_mb")) {
                Ok(disk) => config.persistent_disk = disk,
                Err(message) => refuse(key, message),
            },
            "max_in_flight" => {}
            _ => {
                config.other.insert(key.clone(), value.clone());
            }
        }
    }
    Ok((config, errors))
}

/// `PUT /api/v0/staged/director/properties`: `{"iaas_configuration": {…},
/// "director_configuration": {…}, "<other section>": {…}}`, each section an object. The update
/// read, and findings on what could not be (a section that is not an object, an IaaS name that
/// names none).
pub fn director_properties(body: &Value) -> Result<(DirectorPropertiesUpdate, Findings)> {
    let Value::Object(body) = body else {
        return Err(Error::invalid("base", "expected a JSON object"));
    };
    let mut errors = Findings::new();
    let mut update = DirectorPropertiesUpdate::default();
    for (section, value) in body {
        let Value::Object(fields) = value else {
            errors
                .entry(section.clone())
                .or_default()
                .push("expected an object".into());
            continue;
        };
        match section.as_str() {
            "iaas_configuration" => {
                let (iaas, problem) = iaas_update(fields);
                if let Some(message) = problem {
                    errors
                        .entry("iaas_configuration.iaas".into())
                        .or_default()
                        .push(message);
                }
                update.iaas = Some(iaas);
            }
            "director_configuration" => update.director = Some(fields.clone()),
            _ => update.other.push((section.clone(), fields.clone())),
        }
    }
    Ok((update, errors))
}

/// An `iaas_configuration`: the IaaS named by `iaas` (or `iaas_type`), else recognised by its
/// distinctive keys; and what is wrong with the name when it names none.
fn iaas_update(fields: &Map<String, Value>) -> (IaasUpdate, Option<String>) {
    let mut fields = fields.clone();
    let iaas_type = fields.shift_remove("iaas_type");
    let named = fields.shift_remove("iaas").or(iaas_type);
    let (iaas, problem) = match named {
        Some(name) => match iaas_named(name.as_str().unwrap_or_default()) {
            Ok(iaas) => (Some(iaas), None),
            Err(message) => (None, Some(message)),
        },
        None => (recognised_iaas(&fields), None),
    };
    (IaasUpdate { iaas, fields }, problem)
}

/// The IaaS whose essentials these are, by their distinctive keys.
fn recognised_iaas(config: &Map<String, Value>) -> Option<Iaas> {
    let has = |k: &str| config.contains_key(k);
    if has("vcenter_host") {
        Some(Iaas::Vsphere)
    } else if has("subscription_id") {
        Some(Iaas::Azure)
    } else if has("identity_endpoint") {
        Some(Iaas::Openstack)
    } else if has("project") {
        Some(Iaas::Gcp)
    } else if has("access_key_id") || has("iam_instance_profile") || has("region") {
        Some(Iaas::Aws)
    } else {
        None
    }
}

/// `PUT /api/v0/staged/director/network_and_az`'s `network_and_az`: `{"network": {"name": …},
/// "singleton_availability_zone": {"name": …}}` (422 per key that names nothing, or that the
/// Director's placement does not have).
pub fn director_placement(value: &Value) -> Result<DirectorPlacement> {
    let Value::Object(map) = value else {
        return Err(Error::invalid("network_and_az", "expected an object"));
    };
    let mut errors = Findings::new();
    let mut placement = DirectorPlacement::default();
    for (key, v) in map {
        let slot = match key.as_str() {
            "network" => &mut placement.network,
            "singleton_availability_zone" => &mut placement.singleton_az,
            _ => {
                errors
                    .entry(format!("network_and_az.{key}"))
                    .or_default()
                    .push(
                        "the Director is placed by network and singleton_availability_zone only"
                            .into(),
                    );
                continue;
            }
        };
        match name_of(v) {
            Some(name) => *slot = Some(name),
            None => errors
                .entry(format!("network_and_az.{key}"))
                .or_default()
                .push(NAMED.into()),
        }
    }
    if errors.is_empty() {
        Ok(placement)
    } else {
        Err(Error::Rejected(errors))
    }
}

/// `{"name": …}`'s name.
fn name_of(value: &Value) -> Option<String> {
    value.get("name").and_then(Value::as_str).map(str::to_owned)
}

/// What a key that should name something and does not is told.
const NAMED: &str = "expected {\"name\": …}";

/// Findings by key put under `scope` (`instances` → `resource-config.web.instances`).
pub fn under(scope: &str, findings: Findings) -> Findings {
    findings
        .into_iter()
        .map(|(key, messages)| (format!("{scope}.{key}"), messages))
        .collect()
}

/// om's `{"name", "cloud_properties"}` for `PUT /api/v0/staged/vm_extensions/:name` (also
/// accepted wrapped in `{"vm_extension": …}`): the body's name, when given, must be the path's;
/// `cloud_properties` an object (`null` or missing: none).
pub fn vm_extension(path_name: &str, body: &Value) -> Result<VmExtensionEntry> {
    let body = body.get("vm_extension").unwrap_or(body);
    if !body.is_object() {
        return Err(Error::invalid(
            "base",
            "expected {\"name\": …, \"cloud_properties\": {…}}",
        ));
    }
    match body.get("name") {
        None | Some(Value::Null) => {}
        Some(Value::String(n)) if n == path_name => {}
        Some(other) => {
            return Err(Error::invalid(
                "name",
                format!("must be the name in the path ('{path_name}'), not {other}"),
            ))
        }
    }
    let cloud_properties = match body.get("cloud_properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(Error::invalid(
                "cloud_properties",
                "must be an object of the IaaS's cloud properties",
            ))
        }
    };
    Ok(VmExtensionEntry {
        name: path_name.to_owned(),
        cloud_properties,
    })
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
    fn max_in_flight_values() {
        assert_eq!(in_flight(&json!(2)), Ok(Some(InFlight::Count(2))));
        assert_eq!(in_flight(&json!("3")), Ok(Some(InFlight::Count(3))));
        assert_eq!(in_flight(&json!("20%")), Ok(Some(InFlight::Percent(20))));
        assert_eq!(in_flight(&json!("default")), Ok(None));
        for bad in [
            json!(0),
            json!("0%"),
            json!("101%"),
            json!("lots"),
            json!(true),
        ] {
            assert!(in_flight(&bad).is_err(), "{bad}");
        }
        assert_eq!(InFlight::Percent(20).stored(), json!("20%"));
        assert_eq!(InFlight::Count(3).stored(), json!(3));
    }

    #[test]
    fn errand_rules_read_om_values() {
        let (rules, findings) = errand_rules(&json!([
            {"name": "smoke", "post_deploy": "when-changed", "pre_delete": null},
            {"name": "cleanup", "pre_delete": "false"},
        ]))
        .unwrap();
        assert!(findings.is_empty());
        assert_eq!(rules[0].post_deploy, Some(ErrandRule::WhenChanged));
        assert_eq!(rules[0].pre_delete, None);
        assert_eq!(rules[1].pre_delete, Some(ErrandRule::Off));
        let (rules, findings) =
            errand_rules(&json!([{"post_deploy": true}, {"name": "x", "post_deploy": 3}])).unwrap();
        assert_eq!(
            findings.keys().collect::<Vec<_>>(),
            ["errands.x.post_deploy", "errands[0].name"]
        );
        assert_eq!(rules.len(), 1);
    }

    #[test]
    fn resource_configs_keep_what_om_sends() {
        let body = json!({"instances": 3, "instance_type": {"id": "large"},
            "persistent_disk": {"size_mb": "20480"}, "max_in_flight": 4,
            "internet_connected": true, "elb_names": ["lb"]});
        let (config, findings) = resource_config(&body).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(
            config.instances,
            Instances::Count {
                count: 3,
                as_text: false
            }
        );
        assert_eq!(config.instance_type.as_deref(), Some("large"));
        assert_eq!(config.persistent_disk, PersistentDisk::Type("20480".into()));
        assert_eq!(
            config.other.keys().collect::<Vec<_>>(),
            ["internet_connected", "elb_names"]
        );
        // Stored as given: text stays text, numbers stay numbers.
        let stored = config.to_stored(Some(json!(2)));
        assert_eq!(stored.instances, Some(json!(3)));
        assert_eq!(stored.persistent_disk_mb, Some(json!("20480")));
        assert_eq!(stored.max_in_flight, Some(json!(2)));
        let (config, _) = resource_config(&json!({"instances": "2", "instance_type": "Automatic",
            "persistent_disk": 1024}))
        .unwrap();
        let stored = config.to_stored(None);
        assert_eq!(stored.instances, Some(json!("2")));
        assert_eq!(stored.instance_type, None);
        assert_eq!(stored.persistent_disk_mb, Some(json!(1024)));
        // Automatic everywhere: nothing stored.
        let (config, _) = resource_config(&json!({"instances": "automatic",
            "instance_type": {"id": "automatic"}, "persistent_disk": {"size_mb": "automatic"}}))
        .unwrap();
        assert_eq!(config, ResourceConfig::default());
        // What cannot be read is found by key, the rest is still read.
        let (config, findings) = resource_config(&json!({"instances": "many",
            "instance_type": {"id": 5}, "persistent_disk": {"size_mb": true}, "elb_names": []}))
        .unwrap();
        assert_eq!(
            findings.keys().collect::<Vec<_>>(),
            ["instance_type", "instances", "persistent_disk"]
        );
        assert_eq!(
            findings["instances"],
            ["'many' is not a number of instances"]
        );
        assert_eq!(config.other.len(), 1);
        assert_eq!(
            under("resource-config.web", findings)
                .keys()
                .next()
                .map(String::as_str),
            Some("resource-config.web.instance_type")
        );
        assert!(resource_config(&json!([])).is_err());
    }

    #[test]
    fn director_properties_by_section() {
        let (update, findings) = director_properties(&json!({
            "iaas_configuration": {"iaas": "AWS", "guid": "g", "region": "r"},
            "director_configuration": {"ntp_servers_string": "x"},
            "syslog_configuration": {"enabled": false},
            "dns_configuration": "text",
        }))
        .unwrap();
        assert_eq!(
            findings.keys().collect::<Vec<_>>(),
            ["dns_configuration"],
            "{findings:?}"
        );
        let iaas = update.iaas.as_ref().unwrap();
        assert_eq!(iaas.iaas, Some(Iaas::Aws));
        assert_eq!(iaas.fields.keys().collect::<Vec<_>>(), ["guid", "region"]);
        assert_eq!(
            update.sections(),
            [
                "iaas_configuration",
                "director_configuration",
                "syslog_configuration"
            ]
        );
        let (_, findings) =
            director_properties(&json!({"iaas_configuration": {"iaas_type": "nope"}})).unwrap();
        assert_eq!(
            findings["iaas_configuration.iaas"],
            ["must be one of vsphere, aws, gcp, azure, openstack, embedded"]
        );
        assert!(director_properties(&json!("text")).is_err());
    }

    #[test]
    fn iaas_is_named_or_recognised() {
        let iaas = |v: Value| iaas_update(v.as_object().unwrap()).0.iaas;
        assert_eq!(iaas(json!({"iaas": "AWS"})), Some(Iaas::Aws));
        assert_eq!(iaas(json!({"iaas_type": "gcp"})), Some(Iaas::Gcp));
        assert_eq!(iaas(json!({"vcenter_host": "h"})), Some(Iaas::Vsphere));
        assert_eq!(iaas(json!({"project": "p"})), Some(Iaas::Gcp));
        assert_eq!(iaas(json!({"iaas": "nope"})), None);
        assert_eq!(iaas(json!({})), None);
        assert!(iaas_update(json!({"iaas": 3}).as_object().unwrap())
            .1
            .is_some());
    }

    #[test]
    fn the_director_is_placed_by_network_and_az() {
        let body =
            json!({"network": {"name": "infra"}, "singleton_availability_zone": {"name": "az1"}});
        let p = director_placement(&body).unwrap();
        assert_eq!(p.network.as_deref(), Some("infra"));
        assert_eq!(p.singleton_az.as_deref(), Some("az1"));
        assert_eq!(p.to_stored(), body);
        match director_placement(&json!({"network": "infra", "singleton_az": {"name": "a"}})) {
            Err(Error::Rejected(errors)) => assert_eq!(
                errors.keys().collect::<Vec<_>>(),
                ["network_and_az.network", "network_and_az.singleton_az"]
            ),
            other => panic!("{other:?}"),
        }
        assert!(director_placement(&json!([])).is_err());
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
