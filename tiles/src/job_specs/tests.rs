use serde_json::json;

use super::check::{declared, gap_root};
use super::*;
use crate::metadata::ProductTemplate;
use crate::products::bundled_job_specs;

/// A release summary for the tests: `web` 2.0.0 with two jobs.
const SUMMARY: &str = r#"
releases:
- name: web
  version: 2.0.0
  source: written for this test
  jobs:
    server:
    - port
    - tls.certificate
    - tls.private_key
    - admin_password
    - log_level
    drain: []
"#;

/// A tile whose job template sets `admin_pasword` (misspelt) and names a job `servr` the
/// release does not contain, beside a correct template.
const TILE: &str = r#"
name: typo-tile
product_version: 1.0.0
metadata_version: "2.5"
label: Typo
rank: 1
stemcell_criteria: {os: ubuntu-jammy, version: '1.10'}
releases:
- {name: web, file: web-2.0.0.tgz, version: 2.0.0}
- {name: private, file: private-1.0.0.tgz, version: 1.0.0}
job_types:
- name: web
  resource_label: Web
  instance_definition: {name: instances, type: integer, configurable: true, default: 1}
  resource_definitions: []
  templates:
  - name: server
    release: web
    manifest: |
      port: 8443
      admin_pasword: (( .properties.password.value ))
      tls: (( .properties.cert.value ))
  - name: servr
    release: web
  - name: secret-sauce
    release: private
"#;

#[test]
fn a_summary_reads_into_jobs_and_property_names() {
    let specs = JobSpecs::from_summary(SUMMARY).unwrap();
    let web = specs.release("web", "2.0.0").unwrap();
    assert_eq!(web.jobs["server"].len(), 5);
    assert!(web.jobs["drain"].is_empty());
    assert!(specs.release("web", "2.0.1").is_none());
    // `latest` is the one version held.
    assert_eq!(specs.release("web", "latest").unwrap().version, "2.0.0");
}

#[test]
fn a_summary_of_the_wrong_shape_is_refused_naming_the_key() {
    let err = JobSpecs::from_summary("releases:\n- {name: a, version: 1, jobs: [x]}\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("releases[0].jobs"), "{err}");
    let err = JobSpecs::from_summary("jobs: {}\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("releases"), "{err}");
}

#[test]
fn the_bundled_summary_holds_every_public_release_the_pks_tile_names() {
    let template = ProductTemplate::from_yaml(crate::products::PKS_METADATA).unwrap();
    let specs = bundled_job_specs();
    let summarised: Vec<&str> = template
        .releases
        .iter()
        .filter(|r| specs.release(&r.name, &r.version).is_some())
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        summarised,
        [
            "kubo",
            "cfcr-etcd",
            "docker",
            "uaa",
            "pxc",
            "on-demand-service-broker",
            "bpm",
            "syslog",
            "backup-and-restore-sdk"
        ],
        "the summary names releases at the versions the tile names"
    );
    let kubo = specs.release("kubo", "0.18.0").unwrap();
    assert!(!kubo.jobs["kubelet"]
        .iter()
        .any(|n| n == "kubelet-configuration"));
    assert!(kubo.jobs["kube-apiserver"]
        .iter()
        .any(|n| n == "admin-password"));
}

#[test]
fn a_job_manifest_yields_its_name_and_declared_properties() {
    let mf = "---\nname: server\ntemplates:\n  ctl.erb: bin/ctl\npackages: [web]\n\
              properties:\n  port:\n    description: the port\n    default: 8443\n  \
              tls.certificate:\n    description: PEM\n";
    let (name, props) = parse_job_manifest(mf).unwrap();
    assert_eq!(name, "server");
    assert_eq!(props, ["port", "tls.certificate"]);
    let (name, props) = parse_job_manifest("name: drain\n").unwrap();
    assert_eq!((name.as_str(), props.len()), ("drain", 0));
    assert!(
        parse_job_manifest("properties: {}\n").is_err(),
        "a job.MF names its job"
    );
    assert_eq!(
        parse_release_manifest("name: web\nversion: 2.0.0\njobs: []\n").unwrap(),
        ("web".to_owned(), "2.0.0".to_owned())
    );
}

#[test]
fn a_misspelt_property_and_a_job_missing_from_its_release_are_both_reported() {
    let template = ProductTemplate::from_yaml(TILE).unwrap();
    let specs = JobSpecs::from_summary(SUMMARY).unwrap();
    let report = check_template(&template, &specs);
    let found: Vec<(&str, &SpecFindingKind)> = report
        .findings
        .iter()
        .map(|f| (f.at.as_str(), &f.kind))
        .collect();
    assert_eq!(
        found,
        [
            (
                "job_types[0].templates[0]",
                &SpecFindingKind::UndeclaredProperty {
                    property: "admin_pasword".into(),
                    suggestion: Some("admin_password".into())
                }
            ),
            (
                "job_types[0].templates[1]",
                &SpecFindingKind::MissingJob {
                    suggestion: Some("server".into())
                }
            ),
        ]
    );
    assert_eq!(
        report.findings[0].message,
        "property `admin_pasword` is not declared by job `server` of release web 2.0.0 \
         (BOSH ignores it); did you mean `admin_password`?"
    );
    assert_eq!(
        report.findings[1].message,
        "release web 2.0.0 has no job `servr`; did you mean `server`?"
    );
    // The release without a summary is not checked, and says so.
    assert_eq!(report.unchecked_summary(), "private/1.0.0 (secret-sauce)");
}

#[test]
fn a_rendered_manifest_is_checked_at_the_versions_it_names() {
    let specs = JobSpecs::from_summary(SUMMARY).unwrap();
    let manifest = |version: &str| {
        json!({
            "releases": [{"name": "web", "version": version}],
            "instance_groups": [{"name": "web", "jobs": [
                {"name": "server", "release": "web", "properties": {
                    "port": 1, "tls": {"certificate": "c", "private_key": "k"},
                    "log_levle": "debug"
                }},
                {"name": "drian", "release": "web"}
            ]}],
            "addons": [{"name": "extra", "jobs": [
                {"name": "server", "release": "web", "properties": {"tls": {"ca": "x"}}}
            ]}]
        })
    };
    let report = check_manifest(&manifest("2.0.0"), &specs);
    let messages: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.at.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                "instance_groups[web].jobs[server]",
                "property `log_levle` is not declared by job `server` of release web 2.0.0 \
                 (BOSH ignores it); did you mean `log_level`?"
            ),
            (
                "instance_groups[web].jobs[drian]",
                "release web 2.0.0 has no job `drian`; did you mean `drain`?"
            ),
            (
                "addons[extra].jobs[server]",
                "property `tls.ca` is not declared by job `server` of release web 2.0.0 \
                 (BOSH ignores it)"
            ),
        ]
    );
    // Another version of the release is not checked against these specs.
    let other = check_manifest(&manifest("3.0.0"), &specs);
    assert!(other.findings.is_empty());
    assert_eq!(other.unchecked_summary(), "web/3.0.0 (drian, server)");
}

#[test]
fn declared_names_cover_maps_both_ways() {
    let names = vec!["tls.kubernetes.ca".to_owned(), "k8s".to_owned()];
    assert!(declared("tls.kubernetes", &names));
    assert!(declared("k8s.args.v", &names));
    assert!(!declared("tls.other", &names));
    assert!(
        !declared("k8s2", &names),
        "a prefix is only a prefix at a dot"
    );
    assert_eq!(gap_root("tls.other.ca", &names), "tls.other");
}
