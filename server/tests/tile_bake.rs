//! `tileworks tile bake` and `tileworks tile init` run as real processes.
//!
//! bake: the kiln-layout tile in tiles/tests/data/kiln-tile/ (with a release tarball written
//! here by `server::release_tarball`) bakes to the metadata kiln bakes from it
//! (tiles/tests/data/kiln-tile.expected.yml, compared as parsed YAML), packs into a `.pivotal`
//! that lints, and its refusals name the file and the reference (exit 1).
//! init: a new tile lints without findings, renders and packs.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha1::{Digest, Sha1};

fn tile(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut command = Command::new(common::binary());
    command.arg("tile");
    for a in args {
        command.arg(a);
    }
    command.output().expect("run tileworks")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tiles/tests/data")
}

fn kiln_tile() -> PathBuf {
    data().join("kiln-tile")
}

/// The sha1 the expected metadata names; replaced by the real tarball's.
const EXPECTED_SHA1: &str = "0123456789abcdef0123456789abcdef01234567";

/// Writes the kiln-demo 1.0.3 release into `dir/releases/` and returns its sha1.
fn write_release(dir: &Path) -> String {
    fs::create_dir_all(dir.join("releases")).unwrap();
    let bytes = server::release_tarball::release_tgz(
        "kiln-demo",
        "1.0.3",
        &[("web", &["greeting", "log_level", "secret", "version"])],
    )
    .unwrap();
    fs::write(dir.join("releases/kiln-demo-1.0.3.tgz"), &bytes).unwrap();
    hex::encode(Sha1::digest(&bytes))
}

fn expected_metadata(sha1: &str) -> Value {
    let text = fs::read_to_string(data().join("kiln-tile.expected.yml")).unwrap();
    tiles::yaml::load(&text.replace(EXPECTED_SHA1, sha1)).unwrap()
}

fn bake_kiln_tile(tmp: &Path, result: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let tile_dir = kiln_tile();
    let releases = tmp.join("releases");
    let variables = tile_dir.join("variables/demo.yml");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"bake",
        &tile_dir,
        &"--variables-file",
        &variables,
        &"--releases-directory",
        &releases,
    ];
    args.extend_from_slice(result);
    tile(&args)
}

#[test]
fn bake_writes_the_metadata_kiln_would_bake() {
    let tmp = tempfile::tempdir().unwrap();
    let sha1 = write_release(tmp.path());
    let out_file = tmp.path().join("metadata.yml");
    let out = bake_kiln_tile(tmp.path(), &[&"--metadata-only", &out_file]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let baked = tiles::yaml::load(&fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(baked, expected_metadata(&sha1));

    // `-` prints it; --version and --variable win over the version file and variables file.
    let out = bake_kiln_tile(
        tmp.path(),
        &[
            &"--metadata-only",
            &"-",
            &"--version",
            &"9.9.9",
            &"--variable",
            &"default_greeting=hi there",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let baked = tiles::yaml::load(&stdout(&out)).unwrap();
    assert_eq!(baked["product_version"], "9.9.9");
    assert_eq!(baked["property_blueprints"][0]["default"], "hi there");
}

#[test]
fn bake_packs_a_pivotal_that_lints() {
    let tmp = tempfile::tempdir().unwrap();
    let sha1 = write_release(tmp.path());
    let pivotal = tmp.path().join("kiln-demo.pivotal");
    let out = bake_kiln_tile(tmp.path(), &[&"--output", &pivotal]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("packed"), "{}", stdout(&out));

    let mut archive = zip::ZipArchive::new(fs::File::open(&pivotal).unwrap()).unwrap();
    let mut names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    names.sort();
    // kiln's layout of a .pivotal: the metadata as metadata/metadata.yml, migrations flat in
    // migrations/v1/ (node_modules/ left out), the release tarballs.
    assert_eq!(
        names,
        [
            "metadata/metadata.yml",
            "migrations/v1/201801010000_noop.js",
            "releases/kiln-demo-1.0.3.tgz"
        ]
    );
    let mut text = String::new();
    archive
        .by_name("metadata/metadata.yml")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(tiles::yaml::load(&text).unwrap(), expected_metadata(&sha1));

    let out = tile(&[&"lint", &pivotal]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
}

/// A small kiln-layout tile in `tmp` with one form part, for the refusals.
fn small_kiln_tile(tmp: &Path, base: &str, form: &str) -> PathBuf {
    let dir = tmp.join("small");
    fs::create_dir_all(dir.join("forms")).unwrap();
    fs::write(dir.join("base.yml"), base).unwrap();
    fs::write(dir.join("forms/settings.yml"), form).unwrap();
    dir
}

#[test]
fn bake_refusals_name_the_file_and_the_reference() {
    let tmp = tempfile::tempdir().unwrap();

    // An unknown part: the base file's line, the action, a near name; nothing written.
    let dir = small_kiln_tile(
        tmp.path(),
        "name: small\nform_types:\n- $( form \"setings\" )\n",
        "name: settings\nlabel: Settings\n",
    );
    let out_file = tmp.path().join("out.yml");
    let out = tile(&[&"bake", &dir, &"--metadata-only", &out_file]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("base.yml line 3: `$( form \"setings\" )`: no form named `setings` in forms/; did you mean `settings`?"),
        "{err}"
    );
    assert!(!out_file.exists());

    // A variable not given, inside a part: the part's file.
    fs::write(
        dir.join("forms/settings.yml"),
        "name: settings\nlabel: $( variable \"form_label\" )\n",
    )
    .unwrap();
    fs::write(
        dir.join("base.yml"),
        "name: small\nform_types:\n- $( form \"settings\" )\n",
    )
    .unwrap();
    let out = tile(&[&"bake", &dir, &"--metadata-only", &out_file]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "forms/settings.yml: `$( variable \"form_label\" )`: no variable `form_label`"
        ),
        "{}",
        stderr(&out)
    );
    // Given, it bakes.
    let out = tile(&[
        &"bake",
        &dir,
        &"--metadata-only",
        &"-",
        &"--variable",
        &"form_label=Settings",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("label: Settings"), "{}", stdout(&out));

    // Bad YAML in a part: its file.
    fs::write(dir.join("forms/broken.yml"), "name: broken\n  label: [x\n").unwrap();
    let out = tile(&[
        &"bake",
        &dir,
        &"--metadata-only",
        &"-",
        &"--variable",
        &"form_label=S",
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("forms/broken.yml: not readable YAML"),
        "{}",
        stderr(&out)
    );
    fs::remove_file(dir.join("forms/broken.yml")).unwrap();

    // Two parts with one name.
    fs::write(dir.join("forms/again.yml"), "name: settings\n").unwrap();
    let out = tile(&[
        &"bake",
        &dir,
        &"--metadata-only",
        &"-",
        &"--variable",
        &"form_label=S",
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("two forms are named `settings`"),
        "{}",
        stderr(&out)
    );

    // A folder without a base file cannot be read at all.
    let empty = tmp.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let out = tile(&[&"bake", &empty, &"--metadata-only", &"-"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("base.yml"), "{}", stderr(&out));
}

fn lint_counts(path: &Path) -> (i32, Value) {
    let out = tile(&[&"lint", &path, &"--format", &"json"]);
    let report: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (code(&out), report)
}

#[test]
fn init_makes_a_tile_that_lints_renders_and_packs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hello-tile");
    let out = tile(&[&"init", &"hello-tile", &"--dir", &dir]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(dir.join("metadata/hello-tile.yml").is_file());
    assert!(dir.join("releases/hello-tile-0.1.0.tgz").is_file());

    // Lint: no errors and no warnings (the release's job spec declares what the manifest sets).
    let (status, report) = lint_counts(&dir);
    assert_eq!(status, 0, "{report:#}");
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(report["warnings"], 0, "{report:#}");

    // Render with the config init wrote, checking against the release's job spec.
    let config = dir.join("config/product.yml");
    let out = tile(&[
        &"render",
        &dir,
        &"--config",
        &config,
        &"--check",
        &"--strict",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let manifest = tiles::yaml::load(&stdout(&out)).unwrap();
    let text = stdout(&out);
    assert!(text.contains("Hello from hello-tile"), "{text}");
    assert_eq!(
        manifest["name"]
            .as_str()
            .map(|n| n.starts_with("hello-tile")),
        Some(true),
        "{text}"
    );

    // Pack, and the .pivotal lints.
    let pivotal = tmp.path().join("hello-tile.pivotal");
    let out = tile(&[&"pack", &dir, &"-o", &pivotal]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (status, report) = lint_counts(&pivotal);
    assert_eq!(status, 0, "{report:#}");
    assert_eq!(report["errors"], 0, "{report:#}");

    // The folder now exists and is not empty: init refuses it; a bad name is refused.
    let out = tile(&[&"init", &"hello-tile", &"--dir", &dir]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("is not empty"), "{}", stderr(&out));
    let out = tile(&[&"init", &"Hello_Tile", &"--dir", &tmp.path().join("x")]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("not a tile name"), "{}", stderr(&out));
    assert!(!tmp.path().join("x").exists());
}

/// A Kilnfile's bake configurations stand in for the flags (paths relative to the tile); with
/// several, `--variable tile_name=NAME` chooses one and is refused when it names none; a flag
/// given wins over the configuration's field.
#[test]
fn bake_configurations_in_the_kilnfile_choose_the_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = small_kiln_tile(
        tmp.path(),
        "name: $( variable \"tile_name\" )\nlabel: $( variable \"label\" )\nform_types:\n- $( form \"settings\" )\n",
        "name: settings\nlabel: Settings\n",
    );
    fs::create_dir_all(dir.join("forms-large")).unwrap();
    fs::write(
        dir.join("forms-large/extra.yml"),
        "name: extra\nlabel: Extra\n",
    )
    .unwrap();
    fs::write(
        dir.join("large.yml"),
        "name: $( variable \"tile_name\" )\nlabel: $( variable \"label\" )\nform_types:\n- $( form \"settings\" )\n- $( form \"extra\" )\n",
    )
    .unwrap();
    fs::create_dir_all(dir.join("vars")).unwrap();
    fs::write(dir.join("vars/small.yml"), "label: Small footprint\n").unwrap();
    fs::write(dir.join("vars/large.yml"), "label: Large footprint\n").unwrap();
    let kilnfile = "bake_configurations:\n\
        - tile_name: small-footprint\n  metadata_filepath: base.yml\n  variable_files: [vars/small.yml]\n\
        - tile_name: large-footprint\n  metadata_filepath: large.yml\n\
        \x20 forms_directories: [forms, forms-large]\n  variable_files: [vars/large.yml]\n";
    fs::write(dir.join("Kilnfile"), kilnfile).unwrap();

    let bake = |extra: &[&str]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
            vec![&"bake", &dir, &"--metadata-only", &"-"];
        for a in extra {
            args.push(a);
        }
        tile(&args)
    };
    // Two configurations and none chosen: refused, naming both.
    let out = bake(&[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 bake configurations (small-footprint, large-footprint); choose one with --variable tile_name=NAME"),
        "{}",
        stderr(&out)
    );
    let out = bake(&["--variable", "tile_name=medium"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("no bake configuration has tile_name `medium`"),
        "{}",
        stderr(&out)
    );

    // Chosen: its metadata file, form folders and variables file.
    let out = bake(&["--variable", "tile_name=large-footprint"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let baked = tiles::yaml::load(&stdout(&out)).unwrap();
    assert_eq!(baked["name"], "large-footprint");
    assert_eq!(baked["label"], "Large footprint");
    assert_eq!(baked["form_types"][1]["name"], "extra");
    // A flag wins over the configuration's field; a variable wins over its variables file.
    let base = dir.join("base.yml");
    let base = base.to_str().unwrap();
    let out = bake(&[
        "--variable",
        "tile_name=large-footprint",
        "--metadata",
        base,
        "--variable",
        "label=Mine",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let baked = tiles::yaml::load(&stdout(&out)).unwrap();
    assert_eq!(baked["form_types"].as_array().unwrap().len(), 1);
    assert_eq!(baked["label"], "Mine");

    // One configuration: used without choosing, its tile_name the variable.
    fs::write(
        dir.join("Kilnfile"),
        "bake_configurations:\n- tile_name: small-footprint\n  variable_files: [vars/small.yml]\n  embed_files: []\n",
    )
    .unwrap();
    let out = bake(&[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let baked = tiles::yaml::load(&stdout(&out)).unwrap();
    assert_eq!(baked["name"], "small-footprint");
    assert_eq!(baked["label"], "Small footprint");
    // `embed_paths` is a known field (what it packs: `bake_embeds_files_and_stubs_releases`).
    fs::write(
        dir.join("Kilnfile"),
        "bake_configurations:\n- tile_name: small-footprint\n  variable_files: [vars/small.yml]\n  embed_paths: [notes.txt]\n",
    )
    .unwrap();
    let out = bake(&[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

/// Copies the folder `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The entries of a .pivotal: name → unix mode.
fn entries(pivotal: &Path) -> BTreeMap<String, u32> {
    let mut archive = zip::ZipArchive::new(fs::File::open(pivotal).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let entry = archive.by_index(i).unwrap();
            (
                entry.name().unwrap().to_string(),
                entry.unix_mode().unwrap_or(0) & 0o777,
            )
        })
        .collect()
}

/// `embed_paths` (and `--embed`) pack files and folders under embed/<name>/ with their
/// executable bits, as kiln does; `--stub-releases` packs the metadata that names the
/// releases without their tarballs (lint names each one missing).
#[test]
fn bake_embeds_files_and_stubs_releases() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let sha1 = write_release(tmp.path());
    let dir = tmp.path().join("tile");
    copy_dir(&kiln_tile(), &dir);
    fs::create_dir_all(dir.join("scripts/lib")).unwrap();
    fs::write(dir.join("scripts/run.sh"), "#!/bin/sh\necho run\n").unwrap();
    fs::set_permissions(
        dir.join("scripts/run.sh"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::write(dir.join("scripts/lib/common.sh"), "x=1\n").unwrap();
    fs::write(dir.join("NOTICE"), "notice\n").unwrap();
    fs::write(
        dir.join("Kilnfile"),
        "bake_configurations:\n- tile_name: demo\n  embed_paths: [scripts]\n",
    )
    .unwrap();
    let releases = tmp.path().join("releases");
    let variables = dir.join("variables/demo.yml");
    let pivotal = tmp.path().join("embedded.pivotal");
    let bake = |extra: &[&dyn AsRef<std::ffi::OsStr>]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
            &"bake",
            &dir,
            &"--variables-file",
            &variables,
            &"--releases-directory",
            &releases,
            &"--output",
            &pivotal,
        ];
        args.extend_from_slice(extra);
        tile(&args)
    };
    let out = bake(&[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let packed = entries(&pivotal);
    assert_eq!(
        packed.get("embed/scripts/run.sh"),
        Some(&0o755),
        "{packed:?}"
    );
    assert_eq!(
        packed.get("embed/scripts/lib/common.sh"),
        Some(&0o644),
        "{packed:?}"
    );
    assert!(
        packed.contains_key("releases/kiln-demo-1.0.3.tgz"),
        "{packed:?}"
    );

    // --embed wins over the configuration's field; a file is packed as embed/<its name>.
    let notice = dir.join("NOTICE");
    let out = bake(&[&"--embed", &notice, &"--stub-releases"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let packed = entries(&pivotal);
    assert_eq!(
        packed.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "embed/NOTICE",
            "metadata/metadata.yml",
            "migrations/v1/201801010000_noop.js"
        ],
        "no release tarball, no scripts/"
    );
    let mut archive = zip::ZipArchive::new(fs::File::open(&pivotal).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name("metadata/metadata.yml")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let baked = tiles::yaml::load(&text).unwrap();
    assert_eq!(
        baked["releases"][0]["sha1"], sha1,
        "the stub still names the release read"
    );
    // Lint says what is missing (Tileworks imports it, as Ops Manager does; Apply Changes would
    // need the release), and nothing else.
    let out = tile(&[&"lint", &pivotal, &"--format", &"json"]);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["release-file-present"], "{report:#}");

    // An --embed that does not exist stops the bake, naming it.
    let missing = dir.join("nothing-here");
    let out = bake(&[&"--embed", &missing]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--embed"), "{}", stderr(&out));
}

/// A stemcell tarball (only its `stemcell.MF`) of `os` at `version`, into `dir`.
fn write_stemcell(dir: &Path, os: &str, version: &str) {
    fs::create_dir_all(dir).unwrap();
    let manifest = format!(
        "name: bosh-vsphere-esxi-{os}-go_agent\noperating_system: {os}\nversion: '{version}'\n\
         cloud_properties: {{infrastructure: vsphere, hypervisor: esxi}}\n"
    );
    let file = fs::File::create(dir.join(format!("bosh-stemcell-{version}-{os}.tgz"))).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ));
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o644);
    tar.append_data(&mut header, "stemcell.MF", manifest.as_bytes())
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
}

/// `$( stemcell "os" )` from stemcell tarballs (`--stemcells-directory`, `--stemcell-tarball`)
/// instead of Kilnfile.lock; two versions of one OS and a file that is no stemcell are refused.
#[test]
fn bake_reads_stemcell_criteria_from_stemcell_tarballs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = small_kiln_tile(
        tmp.path(),
        "name: small\nstemcell_criteria: $( stemcell \"ubuntu-jammy\" )\n\
         additional_stemcells_criteria:\n- $( stemcell \"windows2019\" )\n",
        "name: settings\nlabel: Settings\n",
    );
    let stemcells = tmp.path().join("stemcells");
    write_stemcell(&stemcells, "ubuntu-jammy", "1.99");
    let windows = tmp.path().join("windows");
    write_stemcell(&windows, "windows2019", "2019.80");
    let tarball = windows.join("bosh-stemcell-2019.80-windows2019.tgz");
    let out = tile(&[
        &"bake",
        &dir,
        &"--metadata-only",
        &"-",
        &"--stemcells-directory",
        &stemcells,
        &"--stemcell-tarball",
        &tarball,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let baked = tiles::yaml::load(&stdout(&out)).unwrap();
    assert_eq!(
        baked["stemcell_criteria"],
        serde_json::json!({"os": "ubuntu-jammy", "version": "1.99"})
    );
    assert_eq!(
        baked["additional_stemcells_criteria"][0],
        serde_json::json!({"os": "windows2019", "version": "2019.80"})
    );

    write_stemcell(&stemcells, "ubuntu-jammy", "1.100");
    let refused = |why: &str| {
        let out = tile(&[
            &"bake",
            &dir,
            &"--metadata-only",
            &"-",
            &"--stemcells-directory",
            &stemcells,
        ]);
        assert_eq!(code(&out), 1);
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
    };
    refused("two versions of ubuntu-jammy");

    fs::write(
        stemcells.join("bosh-stemcell-1.100-ubuntu-jammy.tgz"),
        b"not a tarball",
    )
    .unwrap();
    refused("not a stemcell tarball");
}
