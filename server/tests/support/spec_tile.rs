//! A small tile whose templates disagree with its release's job specs, and that release as a
//! real BOSH release tarball (`release.MF`, `jobs/<job>.tgz` holding `job.MF`), written by the
//! tests: job `web` sets `greting` where its spec declares `greeting`, and the tile names a job
//! `wrker` that the release (jobs `web`, `worker`) does not contain.

#![allow(dead_code)] // each test binary uses a different part

use flate2::write::GzEncoder;

pub const SPEC_TILE: &str = "spec-demo";
pub const RELEASE_FILE: &str = "spec-demo-release-1.0.tgz";

/// The tile's metadata (its release file named, without a `sha1`).
pub const METADATA: &str = r#"name: spec-demo
label: Spec Demo
description: A tile whose manifest disagrees with its release's job specs
icon_image: iVBORw0KGgo=
product_version: 1.0.0
minimum_version_for_upgrade: 0.0.1
metadata_version: '2.1'
rank: 1
serial: false
stemcell_criteria:
  os: ubuntu-xenial
  version: '97.17'
releases:
- name: spec-demo-release
  file: spec-demo-release-1.0.tgz
  version: '1.0'
property_blueprints:
- name: greeting
  type: string
  configurable: true
  default: hello
form_types:
- name: settings
  label: Settings
  description: Demo settings
  property_inputs:
  - reference: .properties.greeting
    label: Greeting
job_types:
- name: web
  label: Web
  resource_label: Web
  static_ip: 0
  dynamic_ip: 1
  max_in_flight: 1
  single_az_only: false
  templates:
  - name: web
    release: spec-demo-release
    manifest: |
      greting: (( .properties.greeting.value ))
      port: 8080
  - name: wrker
    release: spec-demo-release
  resource_definitions:
  - {name: ram, type: integer, configurable: true, default: 1024}
  - {name: ephemeral_disk, type: integer, configurable: true, default: 2048}
  - {name: persistent_disk, type: integer, configurable: true, default: 0}
  - {name: cpu, type: integer, configurable: true, default: 1}
  instance_definition:
    name: instances
    type: integer
    configurable: true
    default: 1
"#;

/// A gzip tar of `files` (path, bytes).
pub fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Default::default()));
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, *bytes).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A release tarball laid out as `bosh create-release --tarball` lays it out.
pub fn release_tgz(name: &str, version: &str, jobs: &[(&str, &[&str])]) -> Vec<u8> {
    let mut mf = format!("name: {name}\nversion: '{version}'\njobs:\n");
    let mut job_files = Vec::new();
    for (job, properties) in jobs {
        mf.push_str(&format!(
            "- name: {job}\n  version: abc\n  fingerprint: abc\n"
        ));
        let mut spec = format!("---\nname: {job}\ntemplates: {{}}\nproperties:\n");
        for p in *properties {
            spec.push_str(&format!("  {p}:\n    description: a setting\n"));
        }
        job_files.push((
            format!("./jobs/{job}.tgz"),
            tgz(&[("./job.MF", spec.as_bytes())]),
        ));
    }
    let mut files: Vec<(&str, &[u8])> = vec![("./release.MF", mf.as_bytes())];
    for (path, bytes) in &job_files {
        files.push((path.as_str(), bytes.as_slice()));
    }
    files.push(("./packages/app.tgz", b"package bytes"));
    tgz(&files)
}

/// The tile's release: `web` declares `greeting` and `port`, `worker` nothing.
pub fn release() -> Vec<u8> {
    release_tgz(
        "spec-demo-release",
        "1.0",
        &[("web", &["greeting", "port"]), ("worker", &[])],
    )
}
