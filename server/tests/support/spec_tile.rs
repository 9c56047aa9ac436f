//! A small tile whose templates disagree with its release's job specs, and that release as a
//! real BOSH release tarball (`release.MF`, `jobs/<job>.tgz` holding `job.MF`), written by
//! `server::release_tarball`: job `web` sets `greting` where its spec declares `greeting`, and the tile names a job
//! `wrker` that the release (jobs `web`, `worker`) does not contain.

#![allow(dead_code)] // each test binary uses a different part

use server::release_tarball::release_tgz;

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

/// The tile's release: `web` declares `greeting` and `port`, `worker` nothing.
pub fn release() -> Vec<u8> {
    release_tgz(
        "spec-demo-release",
        "1.0",
        &[("web", &["greeting", "port"]), ("worker", &[])],
    )
    .expect("write the release tarball")
}
