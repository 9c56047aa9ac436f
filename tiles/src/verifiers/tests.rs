use std::collections::BTreeMap;

use serde_json::json;

use super::director::{self, Placement};
use super::*;
use crate::cloud_config::{AzConfig, NetworkConfig, SubnetConfig};

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
        certificates: Some(&certs),
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
        certificates: None,
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
        certificates: Some(&certs),
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
        certificates: Some(&certs),
    };
    assert!(run(pks::API_CERTIFICATE, &staged, &ctx).is_empty());
    certs.insert(
        pks::TLS_REFERENCE.to_owned(),
        Err("no PEM certificate found".into()),
    );
    let ctx = VerifyContext {
        director: None,
        certificates: Some(&certs),
    };
    assert!(run(pks::API_CERTIFICATE, &staged, &ctx)[0]
        .message
        .contains("cannot be read: no PEM certificate found"));
}

#[test]
fn director_verifiers_check_placements_against_networks_and_azs() {
    let config = DirectorConfig {
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
    for (name, _) in director::DIRECTOR_VERIFIERS {
        assert!(director::run(name, &config, std::slice::from_ref(&fine)).is_empty());
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
        &config,
        std::slice::from_ref(&wrong),
    );
    assert_eq!(nets.len(), 1);
    assert_eq!(nets[0].reference, "networks_and_azs.service_network");
    assert_eq!(
        nets[0].form_label,
        "Pivotal Container Service › Assign AZs and Networks"
    );
    assert!(nets[0]
        .message
        .contains("'gone' does not exist (the Director has default)"));
    let azs = director::run(director::AVAILABILITY_ZONES, &config, &[wrong]);
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
