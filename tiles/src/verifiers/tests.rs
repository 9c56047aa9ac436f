use std::collections::BTreeMap;

use serde_json::json;

use super::director::{self, Placement};
use super::*;
use crate::cloud_config::{AzConfig, Iaas, Ip, NetworkConfig, SubnetConfig};

fn pks() -> ProductTemplate {
    ProductTemplate::from_yaml(crate::products::PKS_METADATA).unwrap()
}

fn run(name: &str, staged: &StagedValues, ctx: &VerifyContext<'_>) -> Vec<Finding> {
    let t = pks();
    let v = for_product(&t)
        .into_iter()
        .find(|v| v.name == name)
        .unwrap();
    v.run(&t, staged, ctx)
}

fn names(cn: Option<&str>, dns: &[&str], ips: &[&str]) -> CertificateNames {
    CertificateNames {
        common_name: cn.map(str::to_owned),
        dns_names: dns.iter().map(|s| s.to_string()).collect(),
        ip_addresses: ips.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn hostnames_follow_san_and_wildcard_rules() {
    let wildcard = names(Some("ignored.example.com"), &["*.pks.example.com"], &[]);
    assert!(wildcard.covers("api.pks.example.com"));
    assert!(wildcard.covers("API.PKS.example.com."));
    assert!(
        !wildcard.covers("pks.example.com"),
        "a wildcard needs a label"
    );
    assert!(!wildcard.covers("a.api.pks.example.com"), "one label only");
    assert!(
        !wildcard.covers("ignored.example.com"),
        "SANs present: CN ignored"
    );
    let cn_only = names(Some("api.pks.example.com"), &[], &[]);
    assert!(cn_only.covers("api.pks.example.com"));
    assert!(!cn_only.covers("other.pks.example.com"));
    assert!(!names(None, &["*.com"], &[]).covers("example.com"));
    assert!(!names(None, &["a*.example.com"], &[]).covers("ab.example.com"));
    let ip = names(Some("10.0.0.5"), &["api.example.com"], &["10.0.0.5"]);
    assert!(ip.covers("10.0.0.5"));
    assert!(
        !names(Some("10.0.0.5"), &[], &[]).covers("10.0.0.5"),
        "an IP needs an IP SAN"
    );
    assert_eq!(wildcard.described(), "*.pks.example.com");
}

#[test]
fn the_product_name_or_its_metadata_selects_verifiers() {
    let t = pks();
    let selected: Vec<&str> = for_product(&t).iter().map(|v| v.name).collect();
    assert_eq!(
        selected,
        vec![
            pks::API_CERTIFICATE,
            pks::PLAN_NAMES,
            pks::NETWORK_CIDRS,
            pks::WORKER_COUNTS,
            pks::ADDONS_YAML,
            pks::DRAIN_SETTINGS
        ]
    );
    let mut other = t.clone();
    other.name = "some-tile".into();
    assert!(for_product(&other).is_empty());
    other.install_time_verifiers = vec![crate::metadata::Verifier {
        name: "Verifiers::PksPlanNamesVerifier".into(),
        properties: Default::default(),
        ignorable: true,
        run_on: None,
    }];
    let selected: Vec<&str> = for_product(&other).iter().map(|v| v.name).collect();
    assert_eq!(selected, vec![pks::PLAN_NAMES]);
    assert!(ignorable(&other, pks::PLAN_NAMES));
    assert!(!ignorable(&t, pks::PLAN_NAMES));
}

#[test]
fn the_defaults_pass_every_pks_verifier() {
    let t = pks();
    let staged = StagedValues::new();
    let director = DirectorConfig::default();
    let certs = BTreeMap::new();
    let ctx = VerifyContext {
        director: Some(&director),
        network: None,
        certificates: Some(&certs),
        taken_ips: None,
        present_products: None,
    };
    for v in for_product(&t) {
        assert_eq!(v.run(&t, &staged, &ctx), vec![], "{}", v.name);
    }
}

#[test]
fn a_plan_name_used_twice_names_the_second_plan() {
    let mut staged = StagedValues::new();
    staged.set(".properties.plan3_selector.active.name", json!("Small"));
    let found = run(pks::PLAN_NAMES, &staged, &VerifyContext::default());
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f.verifier, pks::PLAN_NAMES);
    assert_eq!(f.form, "plan3");
    assert_eq!(f.form_label, "Plan 3");
    assert_eq!(f.field_label, "Name");
    assert_eq!(f.reference, ".properties.plan3_selector.active.name");
    assert!(
        f.message.contains("'Small' is already used by Plan 1"),
        "{}",
        f.message
    );
    assert!(f
        .text()
        .starts_with("Plan 3 › Name (.properties.plan3_selector.active.name): "));
    // An inactive plan's name does not count.
    staged.set(".properties.plan3_selector", json!("Plan Inactive"));
    assert!(run(pks::PLAN_NAMES, &staged, &VerifyContext::default()).is_empty());
}

#[test]
fn workers_above_the_plan_maximum_are_found() {
    let mut staged = StagedValues::new();
    staged.set(
        ".properties.plan2_selector.active.max_worker_instances",
        json!(3),
    );
    staged.set(
        ".properties.plan2_selector.active.worker_instances",
        json!(4),
    );
    let found = run(pks::WORKER_COUNTS, &staged, &VerifyContext::default());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].form_label, "Plan 2");
    assert_eq!(found[0].field_label, "Worker Node Instances");
    assert!(found[0]
        .message
        .contains("Maximum number of workers on a cluster (3)"));
    staged.set(
        ".properties.plan2_selector.active.worker_instances",
        json!(3),
    );
    assert!(run(pks::WORKER_COUNTS, &staged, &VerifyContext::default()).is_empty());
}

#[test]
fn cidrs_must_not_overlap_each_other_or_director_networks() {
    let mut staged = StagedValues::new();
    staged.set(
        ".properties.network_selector.flannel.service_cluster_cidr",
        json!("10.200.5.0/24"),
    );
    let found = run(pks::NETWORK_CIDRS, &staged, &VerifyContext::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].form, "networking");
    assert_eq!(
        found[0].field_label,
        "Kubernetes Service Network CIDR Range"
    );
    assert!(found[0]
        .message
        .contains("Kubernetes Pod Network CIDR Range 10.200.0.0/16"));

    let director = DirectorConfig {
        networks: vec![NetworkConfig {
            name: "services".into(),
            subnets: vec![SubnetConfig {
                cidr: "10.100.0.0/16".into(),
                ..Default::default()
            }],
        }],
        ..Default::default()
    };
    let ctx = VerifyContext {
        director: Some(&director),
        network: None,
        certificates: None,
        taken_ips: None,
        present_products: None,
    };
    let found = run(pks::NETWORK_CIDRS, &StagedValues::new(), &ctx);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].reference,
        ".properties.network_selector.flannel.service_cluster_cidr"
    );
    assert!(found[0]
        .message
        .contains("Director network 'services' (subnet 10.100.0.0/16)"));
    // NSX-T: the CIDR fields are not used.
    let mut nsx = StagedValues::new();
    nsx.set(".properties.network_selector", json!("nsx"));
    assert!(run(pks::NETWORK_CIDRS, &nsx, &ctx).is_empty());
}

#[test]
fn addons_must_be_kubernetes_yaml() {
    assert!(pks::addons_problems(
        "apiVersion: v1\nkind: Namespace\n---\napiVersion: v1\nkind: ConfigMap\n"
    )
    .is_empty());
    assert!(pks::addons_problems("---\napiVersion: v1\nkind: Namespace\n---\n").is_empty());
    let broken = pks::addons_problems("apiVersion: v1\nkind: Namespace\n---\nkind: [unclosed\n");
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(
        broken[0].starts_with("document 2 (from line 4) is not YAML"),
        "{}",
        broken[0]
    );
    let not_resource = pks::addons_problems("- a\n- b\n");
    assert!(not_resource[0].contains("not a Kubernetes resource"));
    let no_kind = pks::addons_problems("apiVersion: v1\nmetadata: {}\n");
    assert!(no_kind[0].contains("has no kind"), "{no_kind:?}");

    let mut staged = StagedValues::new();
    staged.set(
        ".properties.plan1_selector.active.addons_spec",
        json!("kind: [\n"),
    );
    let found = run(pks::ADDONS_YAML, &staged, &VerifyContext::default());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].form_label, "Plan 1");
    assert_eq!(
        found[0].field_label,
        "(Optional) Add-ons - Use with caution"
    );
}

#[test]
fn a_forced_drain_needs_a_timeout() {
    let mut staged = StagedValues::new();
    staged.set(
        ".properties.plan1_selector.active.kubelet_drain_force_node",
        json!(true),
    );
    let found = run(pks::DRAIN_SETTINGS, &staged, &VerifyContext::default());
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].field_label,
        "Force node to drain even if pods are still running after timeout"
    );
    assert!(found[0]
        .message
        .contains("Node Drain Timeout (mins) above 0"));
    staged.set(
        ".properties.plan1_selector.active.kubelet_drain_timeout",
        json!(10),
    );
    assert!(run(pks::DRAIN_SETTINGS, &staged, &VerifyContext::default()).is_empty());
}

#[test]
fn the_api_certificate_must_cover_the_hostname() {
    let mut staged = StagedValues::new();
    staged.set(pks::HOSTNAME_REFERENCE, json!("api.pks.example.com"));
    let mut certs = BTreeMap::new();
    certs.insert(
        pks::TLS_REFERENCE.to_owned(),
        Ok(names(Some("x"), &["*.other.example.com"], &[])),
    );
    let ctx = VerifyContext {
        director: None,
        network: None,
        certificates: Some(&certs),
        taken_ips: None,
        present_products: None,
    };
    let found = run(pks::API_CERTIFICATE, &staged, &ctx);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].form_label, "PKS API");
    assert_eq!(found[0].field_label, "Certificate to secure the PKS API");
    assert!(found[0].message.contains("*.other.example.com"));
    assert!(found[0]
        .message
        .contains("API Hostname (FQDN) 'api.pks.example.com'"));
    certs.insert(
        pks::TLS_REFERENCE.to_owned(),
        Ok(names(None, &["*.pks.example.com"], &[])),
    );
    let ctx = VerifyContext {
        director: None,
        network: None,
        certificates: Some(&certs),
        taken_ips: None,
        present_products: None,
    };
    assert!(run(pks::API_CERTIFICATE, &staged, &ctx).is_empty());
    certs.insert(
        pks::TLS_REFERENCE.to_owned(),
        Err("no PEM certificate found".into()),
    );
    let ctx = VerifyContext {
        director: None,
        network: None,
        certificates: Some(&certs),
        taken_ips: None,
        present_products: None,
    };
    assert!(run(pks::API_CERTIFICATE, &staged, &ctx)[0]
        .message
        .contains("cannot be read: no PEM certificate found"));
}

#[test]
fn director_verifiers_check_placements_against_networks_and_azs() {
    let config = DirectorConfig {
        iaas: crate::cloud_config::Iaas::Embedded,
        azs: vec![
            AzConfig {
                name: "z1".into(),
                ..Default::default()
            },
            AzConfig {
                name: "z2".into(),
                ..Default::default()
            },
        ],
        networks: vec![NetworkConfig {
            name: "default".into(),
            subnets: vec![SubnetConfig {
                cidr: "10.0.0.0/24".into(),
                azs: vec!["z1".into()],
                ..Default::default()
            }],
        }],
        ..Default::default()
    };
    let fine = Placement {
        owner: "BOSH Director".into(),
        form: "network_and_az".into(),
        network: Some("default".into()),
        singleton_az: Some("z1".into()),
        ..Default::default()
    };
    let settings = serde_json::Map::new();
    let inputs = |placements| director::DirectorInputs {
        config: &config,
        iaas_configuration: &settings,
        icmp_checks_enabled: true,
        placements,
        ntp_servers: &[],
        director_configuration: &settings,
        new_static_ips: &[],
    };
    for (name, _) in director::DIRECTOR_VERIFIERS {
        let outcome = director::run(name, &inputs(std::slice::from_ref(&fine)));
        assert!(
            outcome.findings.is_empty() && outcome.reach.is_empty(),
            "{name}: {outcome:?}"
        );
    }
    let wrong = Placement {
        owner: "Pivotal Container Service".into(),
        form: "networks_and_azs".into(),
        network: Some("default".into()),
        service_network: Some("gone".into()),
        singleton_az: Some("z2".into()),
        other_azs: vec!["z1".into(), "z9".into()],
    };
    let nets = director::run(
        director::NETWORKS_EXISTENCE,
        &inputs(std::slice::from_ref(&wrong)),
    )
    .findings;
    assert_eq!(nets.len(), 1);
    assert_eq!(nets[0].reference, "networks_and_azs.service_network");
    assert_eq!(
        nets[0].form_label,
        "Pivotal Container Service › Assign AZs and Networks"
    );
    assert!(nets[0]
        .message
        .contains("'gone' does not exist (the Director has default)"));
    let azs = director::run(
        director::AVAILABILITY_ZONES,
        &inputs(std::slice::from_ref(&wrong)),
    )
    .findings;
    let messages: Vec<&str> = azs.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(azs.len(), 2, "{messages:?}");
    assert!(messages[0].contains("'default' has no subnet in the availability zone 'z2'"));
    assert!(messages[1].contains("'z9' does not exist"));
}

#[test]
fn adapter_warnings_name_the_plan_field_and_never_block() {
    let t = pks();
    assert!(
        !for_product(&t)
            .iter()
            .any(|v| v.name == pks::ADAPTER_WARNINGS),
        "informs, never blocks Apply Changes"
    );
    let fields = |found: &[Finding]| {
        found
            .iter()
            .map(|f| f.reference.clone())
            .collect::<Vec<_>>()
    };
    let defaults = pks::adapter_warnings(&t, &StagedValues::new());
    // Plans 1–3 (active as shipped): no admission plugins listed and privileged containers
    // off, so kubo 0.18.0 turns SecurityContextDeny on anyway.
    assert_eq!(
        fields(&defaults),
        [
            ".properties.plan1_selector.active.admission_plugins",
            ".properties.plan2_selector.active.admission_plugins",
            ".properties.plan3_selector.active.admission_plugins",
        ],
        "{defaults:#?}"
    );
    assert_eq!(defaults[0].form_label, "Plan 1");
    assert_eq!(defaults[0].field_label, "Admission Plugins");
    assert!(defaults[0].message.contains("SecurityContextDeny is on"));

    let mut staged = StagedValues::new();
    staged.set(
        ".properties.plan1_selector.active.admission_plugins",
        json!(["SecurityContextDeny"]),
    );
    staged.set(
        ".properties.plan1_selector.active.kubelet_drain_timeout",
        json!(15),
    );
    staged.set(
        ".properties.network_selector.flannel.service_cluster_cidr",
        json!("10.100.100.0/24"),
    );
    let found = pks::adapter_warnings(&t, &staged);
    assert_eq!(
        fields(&found),
        [
            ".properties.network_selector.flannel.service_cluster_cidr",
            ".properties.plan1_selector.active.kubelet_drain_timeout",
            ".properties.plan2_selector.active.admission_plugins",
            ".properties.plan3_selector.active.admission_plugins",
        ],
        "{found:#?}"
    );
    assert!(found[0]
        .message
        .starts_with("not carried into this plan's clusters: 10.100.100.0/24 is not applied"));
    assert!(found[1]
        .text()
        .starts_with("Plan 1 › Node Drain Timeout (mins)"));

    // An inactive plan says nothing; NSX-T takes no CIDRs from the tile.
    let mut nsx = staged.clone();
    nsx.set(".properties.network_selector", json!("nsx"));
    for plan in ["plan1", "plan2", "plan3"] {
        nsx.set(
            format!(".properties.{plan}_selector"),
            json!("Plan Inactive"),
        );
    }
    assert!(pks::adapter_warnings(&t, &nsx).is_empty());
}

#[test]
fn iaas_configuration_checks_shapes_and_names_the_endpoint() {
    use super::iaas;
    let settings = |pairs: &[(&str, &str)]| -> serde_json::Map<String, serde_json::Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
            .collect()
    };
    // The embedded IaaS needs nothing and reaches nothing.
    assert_eq!(
        iaas::check(Iaas::Embedded, &settings(&[])),
        (vec![], vec![])
    );
    let vsphere = [
        ("vcenter_host", "vcsa.example.com:8443"),
        ("vcenter_username", "admin"),
        ("vcenter_password", "secret"),
        ("datacenter", "dc1"),
        ("persistent_datastore_names", "ds1,ds2"),
        ("ephemeral_datastore_names", "ds1"),
    ];
    let (found, reach) = iaas::check(Iaas::Vsphere, &settings(&vsphere));
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(
        reach[0].target,
        Target::Connect {
            host: "vcsa.example.com".into(),
            port: 8443,
            tls: true
        }
    );
    assert_eq!(reach[0].at.reference, "iaas_configuration.vcenter_host");
    // A URL where a host belongs, an empty datastore name, a blank password: each named, and
    // nothing reached while the settings are wrong.
    let mut wrong = vsphere.to_vec();
    wrong[0] = ("vcenter_host", "https://vcsa.example.com/sdk");
    wrong[2] = ("vcenter_password", " ");
    wrong[4] = ("persistent_datastore_names", "ds1,,ds2");
    let (found, reach) = iaas::check(Iaas::Vsphere, &settings(&wrong));
    let refs: Vec<&str> = found.iter().map(|f| f.reference.as_str()).collect();
    assert_eq!(
        refs,
        [
            "iaas_configuration.vcenter_password",
            "iaas_configuration.persistent_datastore_names",
            "iaas_configuration.vcenter_host",
        ]
    );
    assert_eq!(found[2].form_label, "BOSH Director › IaaS Configuration");
    assert!(
        found[2].message.contains("is a URL"),
        "{}",
        found[2].message
    );
    assert!(reach.is_empty());
    // AWS: a region's shape decides the endpoint.
    let aws = [
        ("region", "eu-west-1"),
        ("security_group", "sg-1"),
        ("key_pair_name", "bosh"),
        (
            "ssh_private_key",
            "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----",
        ),
    ];
    let (found, reach) = iaas::check(Iaas::Aws, &settings(&aws));
    assert!(found.is_empty(), "{found:?}");
    assert!(format!("{:?}", reach[0].target).contains("ec2.eu-west-1.amazonaws.com:443"));
    let mut bad = aws.to_vec();
    bad[0] = ("region", "Europe");
    let (found, _) = iaas::check(Iaas::Aws, &settings(&bad));
    assert!(found[0].message.contains("is not an AWS region"));
    // OpenStack: the Keystone URL's host and port.
    let (found, _) = iaas::check(
        Iaas::Openstack,
        &settings(&[("identity_endpoint", "keystone.example.com:5000")]),
    );
    assert!(found
        .iter()
        .any(|f| f.reference == "iaas_configuration.identity_endpoint"
            && f.message.contains("is not a URL")));
}

#[test]
fn gateways_lie_in_their_subnet_and_are_reached_only_on_a_real_iaas() {
    use crate::cloud_config::Iaas;
    let subnet = |cidr: &str, gateway: &str, static_ips: &[&str]| SubnetConfig {
        cidr: cidr.into(),
        gateway: gateway.into(),
        static_ips: static_ips.iter().map(|s| (*s).to_owned()).collect(),
        reserved: vec!["10.0.0.1-10.0.0.9".into()],
        ..Default::default()
    };
    let mut config = DirectorConfig {
        iaas: Iaas::Vsphere,
        networks: vec![NetworkConfig {
            name: "infra".into(),
            subnets: vec![
                subnet("10.0.0.0/24", "10.0.0.1", &[]),
                subnet("10.0.1.0/24", "10.0.0.1", &[]),
                subnet("10.0.2.0/24", "10.0.2.20", &["10.0.2.10-10.0.2.30"]),
                subnet("10.0.3.0/24", "10.0.3.255", &[]),
            ],
        }],
        ..Default::default()
    };
    let settings = serde_json::Map::new();
    let run = |config: &DirectorConfig, icmp: bool| {
        director::run(
            director::NETWORKS_PINGABLE,
            &director::DirectorInputs {
                config,
                iaas_configuration: &settings,
                icmp_checks_enabled: icmp,
                placements: &[],
                ntp_servers: &[],
                director_configuration: &settings,
                new_static_ips: &[],
            },
        )
    };
    let out = run(&config, true);
    let found: Vec<(&str, &str)> = out
        .findings
        .iter()
        .map(|f| (f.reference.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, "networks[0].subnets[1].gateway");
    assert!(found[0].1.contains("outside the subnet 10.0.1.0/24"));
    assert!(found[1].1.contains("among the static IPs"));
    assert!(found[2].1.contains("broadcast address"));
    assert_eq!(
        out.findings[0].form_label,
        "BOSH Director › Create Networks › infra"
    );
    // The reserved gateway of the first subnet is fine, and is the one to reach.
    assert_eq!(out.reach.len(), 1);
    assert_eq!(
        out.reach[0].target,
        Target::Host {
            host: "10.0.0.1".into()
        }
    );
    assert!(director::ignorable(director::NETWORKS_PINGABLE));
    assert!(!director::ignorable(super::iaas::IAAS_CONFIGURATION));
    // ICMP checks off, or the embedded IaaS: nothing reached, and the note says why.
    let off = run(&config, false);
    assert!(off.reach.is_empty() && off.note.unwrap().contains("ICMP checks are off"));
    config.iaas = Iaas::Embedded;
    let embedded = run(&config, true);
    assert!(embedded.reach.is_empty());
    assert!(embedded.note.unwrap().contains("no real network"));
    assert_eq!(embedded.findings.len(), 3, "the shapes are still checked");
}

#[test]
fn ntp_servers_are_checked_for_shape_and_asked_the_time_on_a_real_iaas() {
    let mut config = DirectorConfig {
        iaas: Iaas::Vsphere,
        ..Default::default()
    };
    let settings = serde_json::Map::new();
    let servers: Vec<String> = [
        "0.pool.ntp.org",
        "10.0.0.5:1123",
        "fe80::1",
        "bad_host!",
        "ntp.example.com:0",
        " ",
    ]
    .map(str::to_owned)
    .to_vec();
    let run = |config: &DirectorConfig| {
        director::run(
            director::NTP,
            &director::DirectorInputs {
                config,
                iaas_configuration: &settings,
                icmp_checks_enabled: true,
                placements: &[],
                ntp_servers: &servers,
                director_configuration: &settings,
                new_static_ips: &[],
            },
        )
    };
    let out = run(&config);
    let messages: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("'bad_host!' is neither a host name"),
        "{messages:?}"
    );
    assert!(messages[1].contains("'0' is not a port"), "{messages:?}");
    let f = &out.findings[0];
    assert_eq!(f.reference, "director_configuration.ntp_servers_string");
    assert_eq!(f.form_label, "BOSH Director › Director Config");
    let targets: Vec<&Target> = out.reach.iter().map(|r| &r.target).collect();
    assert_eq!(
        targets,
        [
            &Target::Ntp {
                host: "0.pool.ntp.org".into(),
                port: 123
            },
            &Target::Ntp {
                host: "10.0.0.5".into(),
                port: 1123
            },
            &Target::Ntp {
                host: "fe80::1".into(),
                port: 123
            },
        ]
    );
    assert!(out.reach[1]
        .at
        .message
        .contains("10.0.0.5:1123 does not answer"));
    assert!(director::ignorable(director::NTP));
    // The embedded IaaS: shapes checked, nothing asked, and the note says why.
    config.iaas = Iaas::Embedded;
    let embedded = run(&config);
    assert!(embedded.reach.is_empty());
    assert_eq!(embedded.findings.len(), 2);
    assert!(embedded.note.unwrap().contains("NTP servers are not asked"));
}

#[test]
fn a_corpus_tiles_positional_verifier_properties_resolve_to_its_fields() {
    use super::declared;
    // Elastic Runtime 1.1 lists the references alone, in Ops Manager's parameter order.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/tiles/corpus/cf-1.1.0.0.yml");
    let cf = ProductTemplate::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let named = declared::of_product(&cf);
    let kinds: Vec<&str> = named.iter().map(|d| d.kind).collect();
    assert_eq!(kinds, [declared::SSO_URL, declared::SMTP_AUTHENTICATION]);
    assert!(!named[0].ignorable() && named[1].ignorable());
    let labels = Labels::of(&cf);
    // Blank (SAML and SMTP are optional there): nothing to check.
    let mut staged = StagedValues::new();
    assert_eq!(named[0].run(&cf, &staged, &labels), (vec![], vec![]));
    staged.set(".saml_login.sso_url", json!("sso.example.com/Metadata"));
    staged.set(".consoledb.smtp_address", json!("smtp.example.com"));
    staged.set(".consoledb.smtp_port", json!(2525));
    staged.set(
        ".consoledb.smtp_credentials",
        json!({"identity": "mailer", "password": "pw"}),
    );
    let (found, reach) = named[0].run(&cf, &staged, &labels);
    assert!(reach.is_empty());
    assert_eq!(found[0].reference, ".saml_login.sso_url");
    assert!(found[0].message.contains("is not a URL"), "{found:?}");
    let (found, reach) = named[1].run(&cf, &staged, &labels);
    assert!(found.is_empty(), "{found:?}");
    match &reach[0].target {
        Target::Smtp {
            host, port, login, ..
        } => {
            assert_eq!((host.as_str(), *port), ("smtp.example.com", 2525));
            assert_eq!(login.as_ref().unwrap().username, "mailer");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(reach[0].at.reference, ".consoledb.smtp_address");
    assert_eq!(
        reach[0].credentials_at.as_ref().unwrap().reference,
        ".consoledb.smtp_credentials"
    );
    // The password is never printed, even in a debug view.
    assert!(!format!("{reach:?}").contains("\"pw\""));
}

#[test]
fn only_a_major_or_minor_change_is_an_upgrade_for_run_on() {
    use super::declared::is_major_or_minor_change as changes;
    assert!(!changes("1.2.3", "1.2.4"));
    assert!(!changes("1.2.3", "1.2.4-build.7"));
    assert!(!changes("1.2", "1.2.0"));
    assert!(changes("1.2.3", "1.3.0"));
    assert!(changes("1.2.3", "2.0.0"));
    assert!(changes("1.2.3", "weird"), "unreadable versions run it");
}

/// A tile whose two jobs take static IPs, naming `Verifiers::StaticIpsVerifier`.
fn static_ip_tile() -> ProductTemplate {
    ProductTemplate::from_yaml(
        r#"
name: statics
product_version: 1.0.0
metadata_version: "2.7"
label: Statics
minimum_version_for_upgrade: 0.0.1
rank: 1
stemcell_criteria: {os: ubuntu-xenial, version: "97"}
releases: [{name: r, file: r.tgz, version: "1"}]
install_time_verifiers:
- name: Verifiers::StaticIpsVerifier
  properties: {}
form_types:
- name: ips
  label: Addresses
  property_inputs:
  - {reference: .web.static_ips, label: Web static IPs}
  - {reference: .db.static_ips, label: DB static IPs}
job_types:
- name: web
  resource_label: Web
  templates: [{name: web, release: r}]
  instance_definition: {name: instances, type: integer, configurable: true, default: 1}
  resource_definitions: []
  property_blueprints:
  - {name: static_ips, type: ip_ranges, configurable: true, optional: true}
- name: db
  resource_label: DB
  templates: [{name: db, release: r}]
  instance_definition: {name: instances, type: integer, configurable: true, default: 1}
  resource_definitions: []
  property_blueprints:
  - {name: static_ips, type: ip_ranges, configurable: true, optional: true}
"#,
    )
    .unwrap()
}

/// A Director with the network `deploy`: one subnet, 10.0.0.0/24, static IPs 10.0.0.10-30.
fn deploy_network(reserved: &[&str]) -> DirectorConfig {
    DirectorConfig {
        networks: vec![NetworkConfig {
            name: "deploy".into(),
            subnets: vec![SubnetConfig {
                cidr: "10.0.0.0/24".into(),
                gateway: "10.0.0.1".into(),
                reserved: reserved.iter().map(|r| r.to_string()).collect(),
                static_ips: vec!["10.0.0.10-10.0.0.30".into()],
                ..Default::default()
            }],
        }],
        ..Default::default()
    }
}

/// Stages `n` instances of `job`.
fn set_instances(staged: &mut StagedValues, job: &str, n: u64) {
    staged.resources.insert(
        job.into(),
        crate::properties::staged::ResourceConfig {
            instances: Some(json!(n)),
            ..Default::default()
        },
    );
}

#[test]
fn static_ips_outside_the_networks_static_ranges_or_given_twice_are_found() {
    let t = static_ip_tile();
    let selected: Vec<&str> = for_product(&t).iter().map(|v| v.name).collect();
    assert_eq!(selected, vec![static_ips::STATIC_IPS]);
    let director = deploy_network(&["10.0.0.1-10.0.0.9"]);
    let ctx = VerifyContext {
        director: Some(&director),
        network: Some("deploy"),
        certificates: None,
        taken_ips: None,
        present_products: None,
    };
    // Three web instances, one db instance (the tile's default).
    let with_three_webs = || {
        let mut staged = StagedValues::new();
        set_instances(&mut staged, "web", 3);
        staged
    };
    let check = |web: &str, db: &str| {
        let mut staged = with_three_webs();
        staged.set(".web.static_ips", json!(web));
        staged.set(".db.static_ips", json!(db));
        for_product(&t)[0]
            .run(&t, &staged, &ctx)
            .into_iter()
            .map(|f| f.text())
            .collect::<Vec<_>>()
    };
    // Inside the static range, each once: nothing found; blank finds nothing either.
    assert!(check("10.0.0.10-10.0.0.12", "10.0.0.20").is_empty());
    assert!(check("", "").is_empty());
    let found = check(
        "10.0.0.5, 10.0.0.40, 10.0.1.5, 10.0.0.0",
        "10.0.0.11,nonsense",
    );
    assert_eq!(
        found,
        vec![
            "Addresses › Web static IPs (.web.static_ips): 10.0.0.5 is reserved in subnet 10.0.0.0/24",
            "Addresses › Web static IPs (.web.static_ips): 10.0.0.40 is outside the static IPs of \
             subnet 10.0.0.0/24 (10.0.0.10-10.0.0.30)",
            "Addresses › Web static IPs (.web.static_ips): 10.0.1.5 is in no subnet of network 'deploy'",
            "Addresses › Web static IPs (.web.static_ips): 10.0.0.0 is the network address of \
             subnet 10.0.0.0/24",
            "Addresses › Web static IPs (.web.static_ips): 4 addresses for 3 instances: the \
             Director takes exactly one static IP per instance, so none of these is used until \
             the numbers match",
            "Addresses › DB static IPs (.db.static_ips): 'nonsense' is not an IP address",
        ],
        "{found:#?}"
    );
    let found = check("10.0.0.10-10.0.0.12", "10.0.0.11");
    assert_eq!(
        found,
        vec!["Addresses › DB static IPs (.db.static_ips): 10.0.0.11 is also given to job web"]
    );
    // A subnet without static ranges takes no static IP.
    let mut bare = director.clone();
    bare.networks[0].subnets[0].static_ips.clear();
    let ctx = VerifyContext {
        director: Some(&bare),
        ..ctx
    };
    let mut staged = StagedValues::new();
    staged.set(".web.static_ips", json!("10.0.0.20"));
    let found = for_product(&t)[0].run(&t, &staged, &ctx);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].message.contains("declares no static IPs"),
        "{found:#?}"
    );
    // Without the product's network, only shapes and duplicates are checked.
    let unplaced = VerifyContext {
        director: Some(&director),
        network: None,
        certificates: None,
        taken_ips: None,
        present_products: None,
    };
    staged.set(".web.static_ips", json!("192.168.0.1, 192.168.0.1"));
    let found: Vec<String> = for_product(&t)[0]
        .run(&t, &staged, &unplaced)
        .iter()
        .map(|f| f.message.clone())
        .collect();
    assert_eq!(
        found,
        vec![
            "192.168.0.1 is also given to this job",
            "2 addresses for 1 instance: the Director takes exactly one static IP per instance, \
             so none of these is used until the numbers match"
        ]
    );
}

#[test]
fn static_ips_of_other_products_and_instance_counts_are_compared() {
    let t = static_ip_tile();
    let director = deploy_network(&[]);
    // Another product on the network has 10.0.0.12 and 10.0.0.13, as the server finds them.
    let mut other = StagedValues::new();
    other.set(
        ".web.static_ips",
        json!("10.0.0.12-10.0.0.13, not an address"),
    );
    let taken: BTreeMap<Ip, String> = static_ips::addresses(&t, &other)
        .into_iter()
        .map(|(job, ip)| (ip, format!("job {job} of Other")))
        .collect();
    assert_eq!(taken.len(), 2, "{taken:?}");
    let ctx = VerifyContext {
        director: Some(&director),
        network: Some("deploy"),
        taken_ips: Some(&taken),
        ..Default::default()
    };
    let run = |staged: &StagedValues| -> Vec<String> {
        for_product(&t)[0]
            .run(&t, staged, &ctx)
            .into_iter()
            .map(|f| f.message)
            .collect()
    };
    let mut staged = StagedValues::new();
    staged.set(".web.static_ips", json!("10.0.0.13"));
    assert_eq!(
        run(&staged),
        vec!["10.0.0.13 is also given to job web of Other"]
    );
    staged.set(".web.static_ips", json!("10.0.0.14"));
    assert!(run(&staged).is_empty());
    // Fewer addresses than instances, then a job with no instances (nothing to give them to).
    set_instances(&mut staged, "web", 2);
    let found = run(&staged);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("1 address for 2 instances"),
        "{found:?}"
    );
    set_instances(&mut staged, "web", 0);
    assert!(run(&staged).is_empty());
}

#[test]
fn director_configuration_checks_shapes_and_reaches_only_a_real_iaas() {
    use super::backing::director_configuration;
    let config = |v: Value| v.as_object().unwrap().clone();
    // Internal database, local blobstore: nothing.
    let (found, reach) = director_configuration(
        &config(json!({"database_type": "internal", "blobstore_type": "local"})),
        true,
    );
    assert!(found.is_empty() && reach.is_empty());

    let good = config(json!({
        "database_type": "external",
        "external_database_options": {"host": "db.example.com", "port": 3306, "user": "bosh",
                                      "password": "pw", "database": "bosh"},
        "blobstore_type": "s3",
        "s3_blobstore_options": {"bucket_name": "blobs", "access_key": "id", "secret_key": "s",
                                 "endpoint": "minio.example.com:9000"},
    }));
    let (found, reach) = director_configuration(&good, true);
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(reach.len(), 2);
    assert!(
        matches!(&reach[0].target, Target::Mysql { host, port: 3306, .. } if host == "db.example.com")
    );
    // A bare host is taken as https, and an endpoint of one's own is addressed path-style.
    assert!(matches!(
        &reach[1].target,
        Target::S3Write { endpoint: Some(e), path_style: true, region, .. }
            if e == "https://minio.example.com:9000" && region == "us-east-1"
    ));
    // The debug form of a target never shows a password or key.
    let shown = format!("{:?}", reach);
    assert!(!shown.contains("pw") && !shown.contains("\"s\""), "{shown}");
    // The embedded IaaS: shapes only.
    assert!(director_configuration(&good, false).1.is_empty());

    let bad = config(json!({
        "database_type": "external",
        "external_database_options": {"host": "db.example.com:3306", "port": "x"},
        "blobstore_type": "s3",
        "s3_blobstore_options": {"bucket_name": "B", "access_key": "id",
                                 "signature_version": "3", "url_style": "sideways",
                                 "endpoint": "ftp://x"},
    }));
    let (found, reach) = director_configuration(&bad, true);
    assert!(reach.is_empty());
    let refs: Vec<&str> = found.iter().map(|f| f.reference.as_str()).collect();
    for expected in [
        "director_configuration.external_database_options.host",
        "director_configuration.external_database_options.port",
        "director_configuration.external_database_options.user",
        "director_configuration.external_database_options.database",
        "director_configuration.s3_blobstore_options.bucket_name",
        "director_configuration.s3_blobstore_options.endpoint",
        "director_configuration.s3_blobstore_options.signature_version",
        "director_configuration.s3_blobstore_options.url_style",
        "director_configuration.s3_blobstore_options.secret_key",
    ] {
        assert!(refs.contains(&expected), "{expected} not in {refs:?}");
    }

    // GCS: a service account's JSON key, else a finding; instance-profile S3 credentials are
    // not reached (Tileworks cannot borrow them).
    let (found, _) = director_configuration(
        &config(json!({"blobstore_type": "gcs",
                       "gcs_blobstore_options": {"bucket_name": "b", "service_account_key": "{}"}})),
        true,
    );
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("service account"));
    let (found, reach) = director_configuration(
        &config(json!({"blobstore_type": "s3",
                       "s3_blobstore_options": {"bucket_name": "blobs",
                                                "credentials_source": "env_or_profile"}})),
        true,
    );
    assert!(found.is_empty() && reach.is_empty(), "{found:?}");
}
