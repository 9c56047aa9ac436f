use serde_json::{json, Map};

use super::catalogue::obj;
use super::*;
use crate::manifest_check::Finding;

pub(crate) fn director() -> DirectorConfig {
    DirectorConfig::from_value(&json!({
        "iaas": "vsphere",
        "azs": [
            {"name": "z1", "cloud_properties": {"datacenters": [{"name": "dc", "clusters": [{"c1": {}}]}]}},
            {"name": "z2"}
        ],
        "networks": [{
            "name": "default",
            "subnets": [
                {"cidr": "10.0.0.0/24", "gateway": "10.0.0.1", "dns": ["8.8.8.8"],
                 "reserved": ["10.0.0.1-10.0.0.9"], "static": ["10.0.0.10-10.0.0.30"],
                 "azs": ["z1"], "cloud_properties": {"name": "VM Network"}},
                {"cidr": "10.0.1.0/24", "gateway": "10.0.1.1", "reserved": ["10.0.1.1 - 10.0.1.9"],
                 "static": ["10.0.1.10-10.0.1.30"], "azs": ["z2"]}
            ]
        }]
    }))
    .unwrap()
}

fn fields(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.field.as_str()).collect()
}

#[test]
fn ip_ranges_and_cidrs() {
    let r = IpRange::parse("10.0.0.5 - 10.0.0.9").unwrap();
    assert_eq!(r.len(), 5);
    assert!(r.contains(Ip::parse("10.0.0.7").unwrap()));
    assert!(!r.contains(Ip::parse("10.0.0.10").unwrap()));
    assert_eq!(IpRange::parse("10.0.0.0/30").unwrap().len(), 4);
    assert!(IpRange::parse("10.0.0.9-10.0.0.5").is_err());
    assert!(IpRange::parse("10.0.0.1-fd00::1").is_err());
    assert!(IpRange::parse("banana").is_err());
    let c = Cidr::parse("fd00::/120").unwrap();
    assert_eq!(c.range().len(), 256);
    assert!(Cidr::parse("10.0.0.1/24").unwrap_err().contains("10.0.0.0"));
    assert!(Cidr::parse("10.0.0.0/33").is_err());
    assert!(Cidr::parse("10.0.0.0").is_err());
    assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().range().len(), 1 << 32);
    assert_eq!(Ip::parse("10.1.2.3").unwrap().to_string(), "10.1.2.3");
    assert_eq!(Ip::parse("fd00::1").unwrap().to_string(), "fd00::1");
}

#[test]
fn generates_a_cloud_config() {
    let d = director();
    assert_eq!(d.validate(), vec![]);
    let cc = d.cloud_config().unwrap();
    assert_eq!(cc.azs.len(), 2);
    assert_eq!(cc.azs[0].cloud_properties["datacenters"][0]["name"], "dc");
    let net = &cc.networks[0];
    assert_eq!(net.network_type.as_deref(), Some("manual"));
    assert_eq!(net.subnets[0].range.as_deref(), Some("10.0.0.0/24"));
    assert_eq!(net.subnets[0].azs, Some(vec!["z1".to_string()]));
    assert_eq!(net.subnets[0].cloud_properties["name"], "VM Network");
    let micro = cc.vm_types.iter().find(|v| v.name == "micro").unwrap();
    assert_eq!(
        micro.cloud_properties,
        obj(json!({"cpu": 1, "ram": 1024, "disk": 8192}))
    );
    assert!(cc.vm_types.iter().any(|v| v.name == "xlarge"));
    assert!(cc
        .disk_types
        .iter()
        .any(|d| d.name == "10240" && d.disk_size == 10240));
    let comp = cc.compilation.as_ref().unwrap();
    assert_eq!(comp.network, "default");
    assert_eq!(comp.az.as_deref(), Some("z1"));
    assert_eq!(comp.workers, 4);
    // The generated cloud config passes the Director's own rules and round-trips.
    assert_eq!(cc.validate(), vec![]);
    let v = cc.to_value().unwrap();
    assert_eq!(CloudConfig::from_value(&v).unwrap(), cc);
    assert_eq!(
        v["networks"][0]["subnets"][0]["static"],
        json!(["10.0.0.10-10.0.0.30"])
    );
}

#[test]
fn vm_types_follow_the_iaas() {
    let mut d = director();
    d.iaas = Iaas::Aws;
    let cc = d.cloud_config().unwrap();
    let large = cc.vm_types.iter().find(|v| v.name == "large").unwrap();
    assert_eq!(large.cloud_properties["instance_type"], "m5.large");
    d.iaas = Iaas::Gcp;
    let cc = d.cloud_config().unwrap();
    let small = cc.vm_types.iter().find(|v| v.name == "small.disk").unwrap();
    assert_eq!(small.cloud_properties["root_disk_size_gb"], 16);
    d.iaas = Iaas::Openstack;
    let f = d.validate();
    assert!(
        f.iter()
            .any(|f| f.message.contains("no Openstack instance type")),
        "{f:?}"
    );
    d.iaas = Iaas::Azure;
    d.vm_types = vec![VmTypeConfig {
        name: "custom".into(),
        cpu: 2,
        ram: 4096,
        ephemeral_disk: 10240,
        cloud_properties: None,
    }];
    d.compilation.vm_type = "custom".into();
    let cc = d.cloud_config().unwrap();
    assert_eq!(cc.vm_types.len(), 1);
    assert_eq!(
        cc.vm_types[0].cloud_properties["instance_type"],
        "Standard_B2s"
    );
}

#[test]
fn director_config_validation_names_fields() {
    let mut d = director();
    let s = &mut d.networks[0].subnets[0];
    s.gateway = "10.0.5.1".into();
    s.reserved = vec!["10.0.9.1".into()];
    s.static_ips = vec!["10.0.0.5-10.0.0.12".into(), "x".into()];
    s.azs = vec!["z9".into()];
    d.networks[0].subnets[1].cidr = "10.0.0.128/25".into();
    d.compilation.network = Some("nope".into());
    d.compilation.vm_type = "huge".into();
    d.azs.push(AzConfig {
        name: "z1".into(),
        cloud_properties: Map::new(),
    });
    let f = d.validate();
    let got = fields(&f);
    for want in [
        "azs[2].name",
        "networks[0].subnets[0].azs[0]",
        "networks[0].subnets[0].gateway",
        "networks[0].subnets[0].reserved[0]",
        "networks[0].subnets[0].static[1]",
        "networks[0].subnets[1].cidr",
        "compilation.vm_type",
        "compilation.network",
    ] {
        assert!(got.contains(&want), "missing {want} in {f:#?}");
    }
    assert!(d.cloud_config().is_err());
    // Static overlapping reserved.
    let mut d = director();
    d.networks[0].subnets[0].static_ips = vec!["10.0.0.5-10.0.0.12".into()];
    let f = d.validate();
    assert_eq!(
        fields(&f),
        vec!["networks[0].subnets[0].static[0]"],
        "{f:?}"
    );
    assert!(f[0].message.contains("reserved"));
    // Gateway on the network or broadcast address; bad CIDR.
    let mut d = director();
    d.networks[0].subnets[0].gateway = "10.0.0.255".into();
    d.networks[0].subnets[1].cidr = "10.0.1.0/99".into();
    let f = d.validate();
    assert_eq!(
        fields(&f),
        vec![
            "networks[0].subnets[0].gateway",
            "networks[0].subnets[1].cidr"
        ],
        "{f:?}"
    );
    assert!(f[0].message.contains("broadcast"));
    // Nothing configured at all.
    let f = DirectorConfig::default().validate();
    assert_eq!(fields(&f), vec!["azs", "networks"]);
}

#[test]
fn cloud_config_rules() {
    let cc = CloudConfig::from_value(&json!({
        "azs": [{"name": "z1"}, {"name": "z1"}],
        "networks": [
            {"name": "a", "subnets": [
                {"range": "10.0.0.0/24", "gateway": "10.0.0.1", "az": "z1", "azs": ["z1"]},
                {"range": "10.0.0.0/25", "gateway": "10.0.0.1"}
            ]},
            {"name": "A"},
            {"name": "d", "type": "dynamic", "subnets": [{"az": "zz"}]},
            {"name": "v", "type": "weird"}
        ],
        "vm_types": [{"name": "small"}],
        "disk_types": [{"name": "0", "disk_size": 0}],
        "compilation": {"workers": 0, "network": "missing", "az": "z3", "vm_type": "large"}
    }))
    .unwrap();
    let f = cc.validate();
    let got = fields(&f);
    for want in [
        "azs[z1]",
        "networks[A]",
        "disk_types[0].disk_size",
        "networks[a].subnets",
        "networks[a].subnets[0].azs",
        "networks[a].subnets[1].range",
        "networks[d].subnets[0].azs",
        "networks[v].type",
        "compilation.workers",
        "compilation.network",
        "compilation.az",
        "compilation.vm_type",
    ] {
        assert!(got.contains(&want), "missing {want} in {f:#?}");
    }
}

/// The checks both validators share report in each model's own words, paths and order.
#[test]
fn shared_checks_keep_each_models_words_and_order() {
    let said = |f: &[Finding]| -> Vec<(String, String)> {
        f.iter()
            .map(|f| (f.field.clone(), f.message.clone()))
            .collect()
    };
    // An overlapping subnet that is also wrong on its own: the operator's model names the
    // overlap first and calls the range `cidr`; the cloud config names it last.
    let mut d = director();
    d.networks[0].subnets[1].cidr = "10.0.0.128/25".into();
    d.compilation = CompilationConfig {
        workers: 0,
        vm_type: "huge".into(),
        az: Some("z9".into()),
        network: Some("nope".into()),
        reuse_compilation_vms: true,
    };
    let s1 = "networks[0].subnets[1]";
    let overlap = (
        format!("{s1}.cidr"),
        "overlaps networks[0].subnets[0]".into(),
    );
    let gateway = (
        format!("{s1}.gateway"),
        "gateway 10.0.1.1 is outside the range 10.0.0.128/25".into(),
    );
    let got = said(&d.validate());
    let at = |x: &(String, String)| got.iter().position(|g| g == x).unwrap();
    assert!(at(&overlap) < at(&gateway), "{got:#?}");
    let compilation: Vec<_> = got
        .iter()
        .filter(|(f, _)| f.starts_with("compilation"))
        .cloned()
        .collect();
    let pair = |f: &str, m: &str| (f.to_string(), m.to_string());
    assert_eq!(
        compilation,
        vec![
            pair("compilation.workers", "must be at least 1"),
            pair("compilation.vm_type", "unknown VM type 'huge'"),
            pair("compilation.az", "unknown availability zone 'z9'"),
            pair("compilation.network", "unknown network 'nope'"),
        ]
    );
    let cc = CloudConfig::from_value(&json!({
        "azs": [{"name": "z1"}],
        "networks": [{"name": "n", "subnets": [
            {"range": "10.0.0.0/24", "gateway": "10.0.0.1", "azs": ["z1"]},
            {"range": "10.0.0.128/25", "gateway": "10.0.1.1", "azs": ["z1", "z9"]}
        ]}],
        "compilation": {"workers": 0, "network": "nope", "az": "z9", "vm_type": "huge"}
    }))
    .unwrap();
    let s1 = "networks[n].subnets[1]";
    assert_eq!(
        said(&cc.validate()),
        vec![
            pair(
                &format!("{s1}.azs"),
                "subnet references unknown availability zone 'z9'"
            ),
            pair(
                &format!("{s1}.gateway"),
                "gateway 10.0.1.1 is outside the range 10.0.0.128/25"
            ),
            pair(&format!("{s1}.range"), "overlaps networks[n].subnets[0]"),
            pair("compilation.workers", "must be at least 1"),
            pair(
                "compilation.network",
                "compilation references an unknown network 'nope'"
            ),
            pair(
                "compilation.az",
                "compilation references unknown availability zone 'z9'"
            ),
            pair(
                "compilation.vm_type",
                "compilation references an unknown vm type 'huge'"
            ),
        ]
    );
}

#[test]
fn operator_names_must_be_given_and_distinct() {
    let mut d = director();
    d.azs.push(AzConfig {
        name: " ".into(),
        cloud_properties: Map::new(),
    });
    d.azs.push(AzConfig {
        name: "z2".into(),
        cloud_properties: Map::new(),
    });
    let mut twin = d.networks[0].clone();
    twin.name = "DEFAULT".into();
    twin.subnets.clear();
    d.networks.push(twin);
    let f = d.validate();
    let said: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f.field.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(
        said,
        vec![
            ("azs[2].name", "availability zone name is empty"),
            ("azs[3].name", "duplicate availability zone 'z2'"),
            ("networks[1].name", "duplicate network 'DEFAULT'"),
            ("networks[1].subnets", "a network needs at least one subnet"),
        ]
    );
}

#[test]
fn reserved_may_be_a_single_string() {
    let cc = CloudConfig::from_value(&json!({
        "azs": [{"name": "z1"}],
        "networks": [{"name": "n", "subnets": [{"range": "10.0.0.0/24", "gateway": "10.0.0.1", "reserved": "10.0.0.2-10.0.0.9", "static": "10.0.0.10", "az": "z1"}]}]
    }))
    .unwrap();
    assert_eq!(
        cc.networks[0].subnets[0].reserved,
        Some(vec!["10.0.0.2-10.0.0.9".to_string()])
    );
    assert!(cc.networks[0].subnets[0].static_contains(Ip::parse("10.0.0.10").unwrap()));
    assert_eq!(cc.validate(), vec![]);
    assert_eq!(static_ranges_by_az(&cc, "n")["z1"].len(), 1);
}
