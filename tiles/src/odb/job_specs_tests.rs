//! Every property a cluster manifest sets must be one the job's spec declares, in the release
//! version the manifest names: BOSH hands a job only the properties its spec declares, so a
//! property the spec does not know is silently dropped and the cluster runs without it.
//!
//! The specs are the bundled PKS tile's summary (`products/pks/job-specs.yml`), checked with
//! `crate::job_specs`, the same check Review Pending Changes and `tile render --check` run. The
//! bundled cluster template follows kubo 0.18.0 throughout; plan settings kubo 0.18.0 cannot
//! carry are reported as adapter warnings instead (see `settings.rs`).

use serde_json::{json, Value};

use super::tests::{input, plan};
use super::*;
use crate::job_specs::check_manifest;
use crate::products::bundled_job_specs;

#[test]
fn cluster_manifest_properties_exist_in_the_named_job_specs() {
    let specs = bundled_job_specs();
    // The flannel cluster of the golden manifest, and one with the vSphere cloud provider
    // (the `cloud-provider` job on masters and workers).
    let flannel = generate_manifest(&input(
        plan(3, 3, 50),
        json!({"kubernetes_master_host": "k8s.example.com"}),
    ))
    .expect("generate")
    .manifest_value;
    let mut p = plan(1, 2, 50);
    p.properties.insert(
        "cloud_provider".into(),
        json!({"type": "vsphere", "cloud_config": {"Global": {"datacenter": "dc1"}}}),
    );
    let vsphere = generate_manifest(&input(p, Value::Null))
        .expect("generate")
        .manifest_value;

    for manifest in [&flannel, &vsphere] {
        let report = check_manifest(manifest, &specs);
        assert!(
            report.findings.is_empty(),
            "the cluster manifest sets what its job specs do not declare: {:#?}",
            report.findings
        );
        // Every release of a cluster (kubo, cfcr-etcd, docker, bpm) is public and summarised.
        assert!(report.unchecked.is_empty(), "{:?}", report.unchecked);
    }
    let jobs = flannel["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["jobs"].as_array().unwrap().len())
        .sum::<usize>();
    assert!(jobs > 10, "the check saw the cluster's jobs ({jobs})");
}

#[test]
fn the_check_catches_an_undeclared_property_in_a_cluster_job() {
    let manifest = json!({
        "releases": [{"name": "kubo", "version": "0.18.0"}],
        "instance_groups": [{"name": "master", "jobs": [
            {"name": "kube-scheduler", "release": "kubo", "properties": {
                "api-token": "((t))",
                "tls": {"kubernetes": "((tls-kubernetes))"},
                "no-such-setting": {"deep": 1}
            }}
        ]}]
    });
    let report = check_manifest(&manifest, &bundled_job_specs());
    let found: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.at.as_str(), f.kind.clone()))
        .collect();
    assert_eq!(
        found,
        [(
            "instance_groups[master].jobs[kube-scheduler]",
            crate::job_specs::SpecFindingKind::UndeclaredProperty {
                property: "no-such-setting".into(),
                suggestion: None
            }
        )]
    );
}
