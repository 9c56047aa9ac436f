//! Every property a cluster manifest sets must be one the job's spec declares, in the release
//! version the manifest names: BOSH hands a job only the properties its spec declares, so a
//! property the spec does not know is silently dropped and the cluster runs without it.
//!
//! The job specs come from `products/pks/testdata/release-job-specs.yml`: the property names
//! of each job of kubo, cfcr-etcd, docker and bpm at the versions the bundled PKS tile names,
//! written down from the releases' `jobs/<job>/spec` files (see the file's header).
//!
//! The bundled cluster template follows kubo 0.18.0 throughout, so [`KNOWN_GAPS`] is empty;
//! plan settings kubo 0.18.0 cannot carry are reported as adapter warnings instead (see
//! `settings.rs`). The list stays as the place to record a gap knowingly: the test fails on
//! any property outside it, and on any listed gap that no longer occurs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::tests::{input, plan};
use super::*;

/// Property roots the bundled template sets that the named release version's job spec does
/// not declare: `(release, job, property root)`. A root is the shortest dotted prefix of the
/// manifest's property path that no declared property name starts with.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[];

/// The spec summary: release name → (version, job → declared property names).
type Specs = BTreeMap<String, (String, BTreeMap<String, Vec<String>>)>;

fn specs() -> Specs {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/products/pks/testdata/release-job-specs.yml"
    );
    let text = std::fs::read_to_string(path).expect("the job spec summary");
    let doc = crate::yaml::load(&text).expect("the job spec summary is YAML");
    let mut out = Specs::new();
    for (release, r) in doc["releases"].as_object().expect("releases") {
        let version = r["version"].as_str().expect("version").to_owned();
        let jobs = r["jobs"]
            .as_object()
            .expect("jobs")
            .iter()
            .map(|(job, names)| {
                let names = names
                    .as_array()
                    .expect("property names")
                    .iter()
                    .map(|n| n.as_str().expect("a name").to_owned())
                    .collect();
                (job.clone(), names)
            })
            .collect();
        out.insert(release.clone(), (version, jobs));
    }
    out
}

/// Every leaf path of a job's `properties` (an empty map or list is a leaf).
fn leaf_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaf_paths(v, &path, out);
            }
        }
        _ if prefix.is_empty() => {}
        _ => out.push(prefix.to_owned()),
    }
}

/// Whether `path` is declared by one of `names`: the name itself, a value inside a declared
/// map (`tls.kubernetes.ca` under `tls.kubernetes`), or a map holding declared names
/// (`tls.kubernetes` set as a whole certificate, whose `ca`, `certificate`… are declared).
fn declared(path: &str, names: &[String]) -> bool {
    names.iter().any(|n| {
        n == path || path.starts_with(&format!("{n}.")) || n.starts_with(&format!("{path}."))
    })
}

/// The shortest dotted prefix of an undeclared `path` that nothing declared starts with.
fn gap_root(path: &str, names: &[String]) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    for i in 1..=parts.len() {
        let prefix = parts[..i].join(".");
        if !names
            .iter()
            .any(|n| *n == prefix || n.starts_with(&format!("{prefix}.")))
        {
            return prefix;
        }
    }
    path.to_owned()
}

/// What `manifest` sets that its releases' job specs do not declare: `(release, job, root)`.
fn undeclared(manifest: &Value, specs: &Specs) -> BTreeSet<(String, String, String)> {
    let versions: BTreeMap<&str, &str> = manifest["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["version"].as_str().unwrap()))
        .collect();
    let mut jobs: Vec<&Value> = Vec::new();
    for g in manifest["instance_groups"].as_array().expect("groups") {
        jobs.extend(g["jobs"].as_array().expect("jobs"));
    }
    for a in manifest["addons"].as_array().into_iter().flatten() {
        jobs.extend(a["jobs"].as_array().expect("addon jobs"));
    }
    let mut out = BTreeSet::new();
    for job in jobs {
        let release = job["release"].as_str().expect("a job's release");
        let name = job["name"].as_str().expect("a job's name");
        let (version, spec_jobs) = specs
            .get(release)
            .unwrap_or_else(|| panic!("{release} (job {name}) is not in the spec summary"));
        assert_eq!(
            versions.get(release).copied(),
            Some(version.as_str()),
            "the manifest names {release} at another version than the spec summary"
        );
        let names = spec_jobs
            .get(name)
            .unwrap_or_else(|| panic!("{release} {version} has no job {name}"));
        let mut paths = Vec::new();
        leaf_paths(&job["properties"], "", &mut paths);
        for path in paths {
            if !declared(&path, names) {
                out.insert((release.to_owned(), name.to_owned(), gap_root(&path, names)));
            }
        }
    }
    out
}

fn known() -> BTreeSet<(String, String, String)> {
    KNOWN_GAPS
        .iter()
        .map(|(r, j, p)| ((*r).to_owned(), (*j).to_owned(), (*p).to_owned()))
        .collect()
}

#[test]
fn cluster_manifest_properties_exist_in_the_named_job_specs() {
    let specs = specs();
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

    let mut found = undeclared(&flannel, &specs);
    found.extend(undeclared(&vsphere, &specs));
    let known = known();
    let unexpected: Vec<_> = found.difference(&known).collect();
    assert!(
        unexpected.is_empty(),
        "the cluster manifest sets properties its job specs do not declare: {unexpected:#?}"
    );
    let fixed: Vec<_> = known.difference(&found).collect();
    assert!(
        fixed.is_empty(),
        "known gaps that no longer occur (remove them from KNOWN_GAPS): {fixed:#?}"
    );
}

#[test]
fn the_check_catches_an_undeclared_property() {
    let specs = specs();
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
    let found = undeclared(&manifest, &specs);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        [(
            "kubo".to_owned(),
            "kube-scheduler".to_owned(),
            "no-such-setting".to_owned()
        )]
    );
}

#[test]
fn declared_names_cover_maps_both_ways() {
    let names = vec!["tls.kubernetes.ca".to_owned(), "k8s".to_owned()];
    assert!(declared("tls.kubernetes", &names));
    assert!(declared("k8s.args.v", &names));
    assert!(!declared("tls.other", &names));
    assert_eq!(gap_root("tls.other.ca", &names), "tls.other");
}
