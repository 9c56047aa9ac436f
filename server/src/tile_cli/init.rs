//! `tileworks tile init NAME [--dir DIR]`: a new tile folder that lints, renders and packs.
//!
//! The folder holds what `tile lint`, `tile render` and `tile pack` read: `metadata/NAME.yml`
//! (one property, one form, one instance group running one job, one release with its sha1),
//! `releases/NAME-0.1.0.tgz` (a real, tiny BOSH release written by
//! [`crate::release_tarball`], whose job spec declares what the manifest sets, so the job-spec
//! check passes too), `config/product.yml` (om's configure-product format, for `tile render`)
//! and a README naming the next commands. An existing folder is used only when empty.

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use sha1::{Digest, Sha1};

use super::{EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The product name: lower-case letters, digits and dashes, starting with a letter.
    pub name: String,
    /// Where to create the tile [default: ./NAME]; must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The version of the scaffolded tile and of its release.
const VERSION: &str = "0.1.0";
/// The one job of the scaffolded release, and the properties its spec declares.
const JOB: &str = "server";
const JOB_PROPERTIES: &[&str] = &["greeting", "port"];
/// A 1×1 transparent PNG, so the tile has a real icon until the author draws one.
const ICON_PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

pub fn run(args: &InitArgs) -> u8 {
    if let Err(problem) = check_name(&args.name) {
        eprintln!("error: {problem}");
        return EXIT_PROBLEMS;
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    match fs::read_dir(&dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                eprintln!(
                    "error: {} exists and is not empty; init writes only into a new or empty folder",
                    dir.display()
                );
                return EXIT_PROBLEMS;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            eprintln!(
                "error: {} cannot be used as the tile folder: {e}",
                dir.display()
            );
            return EXIT_PROBLEMS;
        }
    }
    match scaffold(&dir, &args.name) {
        Ok(()) => {
            let d = dir.display();
            println!("created tile {} in {d}", args.name);
            println!("next: tileworks tile lint {d}");
            println!("      tileworks tile render {d} --config {d}/config/product.yml");
            println!(
                "      tileworks tile pack {d} -o {}-{VERSION}.pivotal",
                args.name
            );
            EXIT_OK
        }
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_UNREADABLE
        }
    }
}

/// Product names appear in BOSH deployment names, URLs and `..name.` references.
fn check_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a tile name: use lower-case letters, digits and dashes, starting with a letter (at most 64)"
        ))
    }
}

fn scaffold(dir: &Path, name: &str) -> Result<(), String> {
    let release = crate::release_tarball::release_tgz(name, VERSION, &[(JOB, JOB_PROPERTIES)])
        .map_err(|e| format!("cannot write the release tarball: {e}"))?;
    let release_file = format!("{name}-{VERSION}.tgz");
    let sha1 = hex::encode(Sha1::digest(&release));
    let files: [(String, Vec<u8>); 4] = [
        (
            format!("metadata/{name}.yml"),
            metadata(name, &release_file, &sha1).into_bytes(),
        ),
        (format!("releases/{release_file}"), release),
        ("config/product.yml".into(), config(name).into_bytes()),
        ("README.md".into(), readme(name).into_bytes()),
    ];
    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn metadata(name: &str, release_file: &str, sha1: &str) -> String {
    format!(
        r#"# The product template Ops Manager (and Tileworks) reads. Check it with `tileworks tile lint`.
name: {name}
label: {name}
description: The {name} tile
icon_image: {ICON_PNG_BASE64}
product_version: {VERSION}
minimum_version_for_upgrade: 0.0.1
metadata_version: '2.7'
rank: 1
serial: false
stemcell_criteria:
  os: ubuntu-jammy
  version: '1.445'
releases:
- name: {name}
  file: {release_file}
  version: {VERSION}
  sha1: {sha1}
property_blueprints:
- name: greeting
  type: string
  configurable: true
  default: Hello from {name}
form_types:
- name: settings
  label: Settings
  description: What {name} says
  property_inputs:
  - reference: .properties.greeting
    label: Greeting
    description: The greeting the server answers with
job_types:
- name: {JOB}
  label: Server
  resource_label: Server
  static_ip: 0
  dynamic_ip: 1
  max_in_flight: 1
  single_az_only: false
  templates:
  - name: {JOB}
    release: {name}
    manifest: |
      greeting: (( .properties.greeting.value ))
      port: 8080
  resource_definitions:
  - {{name: ram, type: integer, configurable: true, default: 1024}}
  - {{name: ephemeral_disk, type: integer, configurable: true, default: 2048}}
  - {{name: persistent_disk, type: integer, configurable: true, default: 0}}
  - {{name: cpu, type: integer, configurable: true, default: 1}}
  instance_definition:
    name: instances
    type: integer
    configurable: true
    default: 1
"#
    )
}

fn config(name: &str) -> String {
    format!(
        r#"# A configuration in om's configure-product format, for
#   tileworks tile render . --config config/product.yml
product-name: {name}
product-properties:
  .properties.greeting:
    value: Hello from {name}
network-properties:
  network:
    name: default
  singleton_availability_zone:
    name: az1
  other_availability_zones:
  - name: az1
"#
    )
}

fn readme(name: &str) -> String {
    format!(
        r#"# {name}

A tile made by `tileworks tile init`.

- `metadata/{name}.yml`: the product template (forms, properties, jobs and their manifests).
- `releases/{name}-{VERSION}.tgz`: a placeholder BOSH release whose job `{JOB}` does nothing;
  replace it with your release and update the `releases` entry (name, file, version, sha1).
- `config/product.yml`: a product configuration to render with.

    tileworks tile lint .
    tileworks tile forms metadata/{name}.yml
    tileworks tile render . --config config/product.yml
    tileworks tile pack . -o ../{name}-{VERSION}.pivotal
"#
    )
}
