//! `tileworks tile …` run as a real process: lint, pack, render and forms, their outputs and
//! exit codes (0 fine, 1 problems, 2 unreadable input).

mod common;

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/tiles")
        .join(name)
}

fn bundled_pks() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tiles/products/pks/metadata.yml")
}

fn tile(args: &[&str]) -> Output {
    Command::new(common::binary())
        .arg("tile")
        .args(args)
        .output()
        .expect("run tileworks")
}

fn tile_at(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
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

/// A small, lint-clean tile: one property, one form, one job from one release.
const DEMO: &str = r#"name: demo-tile
label: Demo Tile
description: A small tile for tests
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
- name: demo
  file: demo-1.0.tgz
  version: '1.0'
SHA1_LINE
property_blueprints:
- name: greeting
  type: string
  configurable: true
  default: hello
- name: generated_secret
  type: secret
  configurable: false
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
    release: demo
    manifest: |
      greeting: (( .properties.greeting.value ))
      secret: (( .properties.generated_secret.value ))
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

const RELEASE_BYTES: &[u8] = b"pretend this is a BOSH release tarball\n";

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// Writes a tile folder with the demo metadata (`sha1` line as given) and, optionally, its release.
fn demo_folder(root: &Path, sha1: Option<&str>, with_release: bool) -> PathBuf {
    let dir = root.join("demo-tile");
    fs::create_dir_all(dir.join("metadata")).expect("mkdir");
    fs::create_dir_all(dir.join("releases")).expect("mkdir");
    fs::create_dir_all(dir.join("migrations/v1")).expect("mkdir");
    let line = match sha1 {
        Some(s) => format!("  sha1: {s}"),
        None => String::new(),
    };
    fs::write(
        dir.join("metadata/demo.yml"),
        DEMO.replace("SHA1_LINE", &line),
    )
    .expect("write metadata");
    fs::write(
        dir.join("migrations/v1/201801010000_noop.js"),
        "exports.migrate = function (input) { return input; };\n",
    )
    .expect("write migration");
    if with_release {
        fs::write(dir.join("releases/demo-1.0.tgz"), RELEASE_BYTES).expect("write release");
    }
    dir
}

fn lint_json(path: &Path) -> (i32, Value) {
    let out = tile_at(&[&"lint", &path, &"--format", &"json"]);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("lint JSON: {e}: {}", stdout(&out)));
    (code(&out), json)
}

// ---------------------------------------------------------------- lint

#[test]
fn lint_accepts_both_fixtures_and_the_bundled_pks_tile() {
    for path in [
        fixture("pks-1.1.3.yml"),
        fixture("example-product.yml"),
        bundled_pks(),
    ] {
        let (status, json) = lint_json(&path);
        assert_eq!(status, 0, "{}: {json}", path.display());
        assert_eq!(json["errors"], 0, "{}: {json}", path.display());
        assert!(json["findings"].is_array());
    }
    // The bundled tile: no metadata finding, only the service adapter's warnings on the plan
    // fields its clusters cannot carry (plans 1–3 are active as shipped).
    let (_, json) = lint_json(&bundled_pks());
    let findings = json["findings"].as_array().expect("findings");
    let paths: Vec<&str> = findings.iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(
        paths,
        [
            ".properties.plan1_selector.active.admission_plugins",
            ".properties.plan2_selector.active.admission_plugins",
            ".properties.plan3_selector.active.admission_plugins",
        ],
        "{json}"
    );
    for f in findings {
        assert_eq!(f["rule"], "pks-service-adapter", "{f}");
        assert_eq!(f["severity"], "warning", "{f}");
    }
    let out = tile_at(&[&"lint", &bundled_pks()]);
    assert_eq!(code(&out), 0, "warnings only: {}", stderr(&out));
    let text = stdout(&out);
    // A property reference is no YAML path: no line, the file alone.
    let file = bundled_pks().display().to_string();
    assert!(
        text.contains(&format!(
            "{file}: .properties.plan1_selector.active.admission_plugins: warning[pks-service-adapter]: "
        )),
        "{text}"
    );
    assert!(
        text.contains("Plan 1 › Admission Plugins: not carried into this plan's clusters"),
        "{text}"
    );
    let out = tile_at(&[&"lint", &bundled_pks(), &"--strict"]);
    assert_eq!(code(&out), 1, "--strict fails on warnings");
}

#[test]
fn lint_reports_errors_with_exit_1() {
    let dir = tempfile::tempdir().expect("tmp");
    let broken = dir.path().join("broken.yml");
    // The form points at a property that does not exist, the job at an undeclared release.
    let text = DEMO
        .replace("SHA1_LINE", "")
        .replace(
            "  - reference: .properties.greeting",
            "  - reference: .properties.no_such_property",
        )
        .replace("    release: demo\n", "    release: not-declared\n");
    fs::write(&broken, text).expect("write");

    let (status, json) = lint_json(&broken);
    assert_eq!(status, 1, "{json}");
    let findings = json["findings"].as_array().expect("findings");
    assert!(json["errors"].as_u64().unwrap_or(0) >= 2, "{json}");
    let reference = findings
        .iter()
        .find(|f| f["rule"] == "form-reference-resolves")
        .expect("form reference finding");
    assert_eq!(reference["severity"], "error");
    assert_eq!(
        reference["path"],
        "form_types[0].property_inputs[0].reference"
    );
    assert!(reference["message"]
        .as_str()
        .unwrap_or("")
        .contains("no_such_property"));
    assert!(reference.get("hint").is_some());
    assert!(findings
        .iter()
        .any(|f| f["rule"] == "template-release-declared"));

    // The reference is on line 31, indented by two (`  - reference: …`).
    assert_eq!(
        (&reference["line"], &reference["column"]),
        (&json!(31), &json!(5))
    );

    let out = tile_at(&[&"lint", &broken]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    let file = broken.display().to_string();
    assert!(
        text.contains(&format!(
            "{file}:31:5: form_types[0].property_inputs[0].reference: error[form-reference-resolves]: "
        )),
        "{text}"
    );
    assert!(text.contains("hint:"), "{text}");
}

#[test]
fn lint_reports_unreadable_yaml_as_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.yml");
    fs::write(&bad, "name: [unclosed\n").expect("write");
    let (status, json) = lint_json(&bad);
    assert_eq!(status, 1, "{json}");
    assert_eq!(json["findings"][0]["rule"], "yaml-readable");
}

#[test]
fn lint_exits_2_on_missing_input() {
    let out = tile(&["lint", "/no/such/tile.yml"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("/no/such/tile.yml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn lint_on_a_folder_warns_about_missing_release_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = demo_folder(dir.path(), None, false);
    let (status, json) = lint_json(&folder);
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["metadata"], "metadata/demo.yml");
    let finding = json["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "release-file-present"))
        .expect("release warning");
    assert_eq!(finding["severity"], "warning");
}

// ---------------------------------------------------------------- pack

#[test]
fn pack_then_lint_the_pivotal() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = demo_folder(dir.path(), Some(&sha1_hex(RELEASE_BYTES)), true);
    let output = dir.path().join("demo-1.0.0.pivotal");
    let out = tile_at(&[&"pack", &folder, &"-o", &output]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("packed"), "{}", stdout(&out));

    let mut archive = zip::ZipArchive::new(fs::File::open(&output).expect("open")).expect("zip");
    let mut names: Vec<String> = archive
        .file_names()
        .map(|n| n.expect("UTF-8 name").into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "metadata/demo.yml",
            "migrations/v1/201801010000_noop.js",
            "releases/demo-1.0.tgz"
        ]
    );
    let release = archive.by_name("releases/demo-1.0.tgz").expect("release");
    assert_eq!(release.compression(), CompressionMethod::Stored);
    drop(release);

    let (status, json) = lint_json(&output);
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["findings"], Value::Array(vec![]), "{json}");

    let out = tile_at(&[&"forms", &output]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains(".properties.greeting"));
}

#[test]
fn pack_a_real_tile_folder() {
    // The example-product fixture as a tile folder, with stand-in release tarballs.
    let dir = tempfile::tempdir().expect("tmp");
    let folder = dir.path().join("example");
    fs::create_dir_all(folder.join("metadata")).expect("mkdir");
    fs::create_dir_all(folder.join("releases")).expect("mkdir");
    fs::copy(
        fixture("example-product.yml"),
        folder.join("metadata/example-product.yml"),
    )
    .expect("copy fixture");
    let out = tile_at(&[&"pack", &folder, &"-o", &dir.path().join("x.pivotal")]);
    assert_eq!(code(&out), 1, "releases are missing: {}", stderr(&out));
    for file in ["example-release-2.5.release43.tgz", "os-conf"] {
        fs::write(folder.join("releases").join(file), file).expect("write release");
    }
    let output = dir.path().join("example-product.pivotal");
    let out = tile_at(&[&"pack", &folder, &"-o", &output]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (status, json) = lint_json(&output);
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["metadata"], "metadata/example-product.yml");
    assert!(!json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["rule"] == "release-file-present"));
}

#[test]
fn pack_refuses_a_tile_with_lint_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = demo_folder(dir.path(), None, true);
    let meta = folder.join("metadata/demo.yml");
    let text = fs::read_to_string(&meta).expect("read");
    fs::write(
        &meta,
        text.replace(".properties.greeting\n", ".properties.missing\n"),
    )
    .expect("write");
    let output = dir.path().join("out.pivotal");
    let out = tile_at(&[&"pack", &folder, &"-o", &output]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("form-reference-resolves"),
        "{}",
        stderr(&out)
    );
    assert_no_output(dir.path(), &output);
}

#[test]
fn pack_refuses_a_missing_release() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = demo_folder(dir.path(), None, false);
    let output = dir.path().join("out.pivotal");
    let out = tile_at(&[&"pack", &folder, &"-o", &output]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("releases/demo-1.0.tgz is missing"),
        "{}",
        stderr(&out)
    );
    assert_no_output(dir.path(), &output);
}

#[test]
fn pack_refuses_a_wrong_sha1() {
    let dir = tempfile::tempdir().expect("tmp");
    let wrong = "0000000000000000000000000000000000000000";
    let folder = demo_folder(dir.path(), Some(wrong), true);
    let output = dir.path().join("out.pivotal");
    // An older archive of the same name stays as it was.
    fs::write(&output, b"previous").expect("write");
    let out = tile_at(&[&"pack", &folder, &"-o", &output]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("sha1"), "{err}");
    assert!(err.contains(&sha1_hex(RELEASE_BYTES)), "{err}");
    assert_eq!(fs::read(&output).expect("read"), b"previous");
    assert_no_partial_files(dir.path());
}

#[test]
fn pack_exits_2_without_metadata() {
    let dir = tempfile::tempdir().expect("tmp");
    let output = dir.path().join("out.pivotal");
    let out = tile_at(&[&"pack", &dir.path(), &"-o", &output]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no metadata/*.yml"),
        "{}",
        stderr(&out)
    );
    assert!(!output.exists());
}

fn assert_no_output(dir: &Path, output: &Path) {
    assert!(!output.exists(), "{} was written", output.display());
    assert_no_partial_files(dir);
}

fn assert_no_partial_files(dir: &Path) {
    let leftovers: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

// ---------------------------------------------------------------- hostile archives

fn write_zip(path: &Path, build: impl FnOnce(&mut ZipWriter<Cursor<Vec<u8>>>)) {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    build(&mut w);
    let bytes = w.finish().expect("finish").into_inner();
    fs::write(path, bytes).expect("write zip");
}

fn add(w: &mut ZipWriter<Cursor<Vec<u8>>>, name: &str, bytes: &[u8], method: CompressionMethod) {
    w.start_file(
        name,
        SimpleFileOptions::default().compression_method(method),
    )
    .expect("start");
    w.write_all(bytes).expect("write");
}

#[test]
fn hostile_pivotal_files_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let meta = DEMO.replace("SHA1_LINE", "");
    let deflated = CompressionMethod::Deflated;
    let stored = CompressionMethod::Stored;
    type Build<'a> = Box<dyn Fn(&mut ZipWriter<Cursor<Vec<u8>>>) + 'a>;
    let cases: Vec<(&str, Build, &str)> = vec![
        (
            "escape",
            Box::new(|w| {
                add(w, "metadata/demo.yml", meta.as_bytes(), deflated);
                add(w, "releases/../../../tmp/evil", b"x", stored);
            }),
            "escapes the archive",
        ),
        (
            "absolute",
            Box::new(|w| {
                add(w, "metadata/demo.yml", meta.as_bytes(), deflated);
                add(w, "/etc/cron.d/evil", b"x", stored);
            }),
            "absolute path",
        ),
        (
            "symlink",
            Box::new(|w| {
                add(w, "metadata/demo.yml", meta.as_bytes(), deflated);
                w.add_symlink(
                    "releases/demo-1.0.tgz",
                    "/etc/shadow",
                    SimpleFileOptions::default(),
                )
                .expect("symlink");
            }),
            "symlink",
        ),
        (
            "bomb",
            Box::new(|w| {
                add(w, "metadata/demo.yml", meta.as_bytes(), deflated);
                add(
                    w,
                    "releases/demo-1.0.tgz",
                    &vec![0u8; 4 * 1024 * 1024],
                    deflated,
                );
            }),
            "zip bomb",
        ),
        (
            "no-metadata",
            Box::new(|w| add(w, "releases/demo-1.0.tgz", b"x", stored)),
            "no metadata/*.yml",
        ),
        (
            "two-metadata",
            Box::new(|w| {
                add(w, "metadata/a.yml", meta.as_bytes(), deflated);
                add(w, "metadata/b.yml", meta.as_bytes(), deflated);
            }),
            "several metadata files",
        ),
    ];
    for (name, build, expected) in cases {
        let path = dir.path().join(format!("{name}.pivotal"));
        write_zip(&path, build);
        for command in ["lint", "forms"] {
            let out = tile_at(&[&command, &path]);
            assert_eq!(code(&out), 2, "{name} {command}: {}", stderr(&out));
            assert!(
                stderr(&out).contains(expected),
                "{name} {command}: {}",
                stderr(&out)
            );
        }
    }
    // Not a zip at all, though named like one.
    let junk = dir.path().join("junk.pivotal");
    fs::write(&junk, b"this is not a zip").expect("write");
    let out = tile_at(&[&"lint", &junk]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("not a readable .pivotal"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_pivotal_missing_a_release_fails_lint() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("no-release.pivotal");
    let meta = DEMO.replace("SHA1_LINE", "");
    write_zip(&path, |w| {
        add(
            w,
            "metadata/demo.yml",
            meta.as_bytes(),
            CompressionMethod::Deflated,
        )
    });
    let (status, json) = lint_json(&path);
    assert_eq!(status, 1, "{json}");
    assert_eq!(json["findings"][0]["rule"], "release-file-present");
    assert_eq!(json["findings"][0]["path"], "releases[0].file");
}

// ---------------------------------------------------------------- forms

#[test]
fn forms_prints_the_tree_as_text_and_json() {
    let out = tile_at(&[&"forms", &bundled_pks()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("Pivotal Container Service (pivotal-container-service)"),
        "{text}"
    );
    assert!(text.contains("[pks-api]"), "{text}");
    assert!(text.contains(".properties.pks_api_hostname"), "{text}");

    let out = tile_at(&[
        &"forms",
        &fixture("example-product.yml"),
        &"--format",
        &"json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("forms JSON");
    assert_eq!(json["product_name"], "example-product");
    let forms = json["forms"].as_array().expect("forms");
    assert!(!forms.is_empty());
    assert!(forms.iter().all(|f| f["inputs"].is_array()));
}

#[test]
fn forms_fails_on_metadata_that_does_not_load() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.yml");
    fs::write(&bad, "- just\n- a list\n").expect("write");
    let out = tile_at(&[&"forms", &bad]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tileworks tile lint"),
        "{}",
        stderr(&out)
    );
    assert_eq!(code(&tile(&["forms", "/no/such/dir"])), 2);
}

// ---------------------------------------------------------------- render

fn pks_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tiles/products/pks/testdata/realistic-config.yml")
}

fn manifest_of(out: &Output) -> Value {
    tiles::yaml::load(&stdout(out)).unwrap_or_else(|e| panic!("manifest YAML: {e}"))
}

#[test]
fn render_the_bundled_pks_tile_offline() {
    let out = tile_at(&[&"render", &bundled_pks(), &"--config", &pks_config()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let manifest = manifest_of(&out);
    assert!(manifest["name"]
        .as_str()
        .unwrap_or("")
        .starts_with("pivotal-container-service-"));
    let groups = manifest["instance_groups"]
        .as_array()
        .expect("instance groups");
    assert!(!groups.is_empty());
    assert!(groups
        .iter()
        .all(|g| g["azs"].is_array() && g["networks"].is_array()));
    // The offline Director places jobs on the network the config names.
    assert_eq!(groups[0]["networks"][0]["name"], "pks-infra");
    // A certificate signed by the root CA generated for this run; the tile's own BOSH
    // variables stay `((placeholders))`.
    assert!(stdout(&out).contains("-----BEGIN CERTIFICATE-----"));
    assert!(stdout(&out).contains("(("), "the tile's variables");
    assert!(manifest["variables"].is_array());
}

#[test]
fn render_with_a_placeholder_root_ca_is_reproducible() {
    let run = || {
        tile_at(&[
            &"render",
            &bundled_pks(),
            &"--config",
            &pks_config(),
            &"--root-ca-placeholder",
        ])
    };
    let (a, b) = (run(), run());
    assert_eq!(code(&a), 0, "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b));
    assert!(stdout(&a).contains("((/tileworks/root_ca.certificate))"));
}

#[test]
fn render_reports_invalid_properties_by_reference() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = fs::read_to_string(pks_config()).expect("config");
    let bad = text
        .replacen("    value: api.pks.example.com\n", "    value: \"\"\n", 1)
        .replace(
            ".properties.worker_max_in_flight:\n    value: 2",
            ".properties.worker_max_in_flight:\n    value: not-a-number",
        );
    assert_ne!(bad, text, "the config changed");
    let config = dir.path().join("bad.yml");
    fs::write(&config, bad).expect("write");
    let out = tile_at(&[&"render", &bundled_pks(), &"--config", &config]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "no manifest on failure");
    let err = stderr(&out);
    assert!(
        err.contains(".properties.pks_api_hostname: can't be blank"),
        "{err}"
    );
    assert!(err.contains(".properties.worker_max_in_flight:"), "{err}");
}

#[test]
fn render_refuses_unknown_properties_and_other_products() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = demo_folder(dir.path(), None, true);
    let config = dir.path().join("config.yml");
    fs::write(
        &config,
        "product-name: demo-tile\nproduct-properties:\n  .properties.nope:\n    value: 1\n",
    )
    .expect("write");
    let out = tile_at(&[&"render", &folder, &"--config", &config]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(".properties.nope"),
        "{}",
        stderr(&out)
    );

    fs::write(&config, "product-name: something-else\n").expect("write");
    let out = tile_at(&[&"render", &folder, &"--config", &config]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("something-else"), "{}", stderr(&out));

    let out = tile_at(&[
        &"render",
        &folder,
        &"--config",
        &dir.path().join("missing.yml"),
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

/// The director.yml example in `tile render --help`, taken from the help text itself so the
/// documentation cannot drift from what the command accepts.
fn director_example_from_help() -> String {
    let help = stdout(&tile(&["render", "--help"]));
    let start = help.find("  iaas: ").expect("example in --help");
    let rest = &help[start..];
    let end = rest.find("\n\n").expect("end of example");
    rest[..end]
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn render_with_the_documented_director_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = demo_folder(dir.path(), None, true);
    let director = dir.path().join("director.yml");
    fs::write(&director, director_example_from_help()).expect("write");
    let config = dir.path().join("config.yml");
    let config_text = "product-name: demo-tile\n\
        product-properties:\n  .properties.greeting:\n    value: bonjour\n\
        network-properties:\n  network: {name: pks-network}\n  \
        singleton_availability_zone: {name: az1}\n  other_availability_zones: [{name: az1}]\n";
    fs::write(&config, config_text).expect("write");

    let out = tile_at(&[
        &"render",
        &folder,
        &"--config",
        &config,
        &"--director",
        &director,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let manifest = manifest_of(&out);
    let web = &manifest["instance_groups"][0];
    assert_eq!(web["name"], "web");
    assert_eq!(web["networks"][0]["name"], "pks-network");
    let props = &web["jobs"][0]["properties"];
    assert_eq!(props["greeting"], "bonjour");
    // The generated secret is generated for the render.
    let secret = props["secret"].as_str().expect("secret is a string");
    assert!(
        secret.len() == 20 && secret.chars().all(|c| c.is_ascii_alphanumeric()),
        "{secret}"
    );
    // With --bosh-variables it is a BOSH variable the Director generates, never empty.
    let out = tile_at(&[
        &"render",
        &folder,
        &"--config",
        &config,
        &"--director",
        &director,
        &"--bosh-variables",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let props = &manifest_of(&out)["instance_groups"][0]["jobs"][0]["properties"];
    let secret = props["secret"].as_str().expect("secret is a string");
    assert!(
        secret.starts_with("((") && secret.ends_with("))") && secret.len() > 4,
        "{secret}"
    );

    // A network the Director does not have.
    fs::write(&config, config_text.replace("pks-network", "elsewhere")).expect("write");
    let out = tile_at(&[
        &"render",
        &folder,
        &"--config",
        &config,
        &"--director",
        &director,
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("network-properties.network: 'elsewhere' is not defined"),
        "{}",
        stderr(&out)
    );

    // A Director file that is not valid.
    fs::write(&director, "azs: []\nnetworks: []\n").expect("write");
    let out = tile_at(&[
        &"render",
        &folder,
        &"--config",
        &config,
        &"--director",
        &director,
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("azs"), "{}", stderr(&out));
}

// What the corpus test (tiles/tests/corpus.rs) types for a tile's required fields.
#[path = "../../tiles/tests/support/mod.rs"]
mod tile_samples;

/// An om configure-product file typing what `template` requires (as the corpus test does).
fn required_config(text: &str, dir: &Path, name: &str) -> PathBuf {
    use tiles::properties::staged::StagedValues;
    let template = tiles::metadata::ProductTemplate::from_yaml(text).expect("loads");
    let mut staged = StagedValues::new();
    tiles::properties::defaults::apply_defaults(&template, &mut staged, &[]);
    let filled = tile_samples::fill_required(&template, &mut staged).expect("fills");
    eprintln!("{name}: {} required field(s) typed", filled.count);
    let properties: serde_json::Map<String, Value> = filled
        .values
        .into_iter()
        .map(|(reference, value)| (reference, serde_json::json!({ "value": value })))
        .collect();
    let config = serde_json::json!({
        "product-name": template.name,
        "product-properties": properties,
    });
    let path = dir.join(format!("{name}.config.yml"));
    fs::write(&path, serde_json::to_string_pretty(&config).expect("json")).expect("write");
    path
}

fn render_seeded(tile: &Path, config: &Path, seed: &str) -> Output {
    tile_at(&[&"render", &tile, &"--config", &config, &"--seed", &seed])
}

/// Every accessor of every generated credential type renders offline, and `--seed` makes the
/// whole manifest (keys and certificates) the same on every run.
#[test]
fn render_generates_every_credential_of_the_example_product() {
    let dir = tempfile::tempdir().expect("tmp");
    let tile = fixture("example-product.yml");
    let config = required_config(&fs::read_to_string(&tile).expect("read"), dir.path(), "ex");
    let out = render_seeded(&tile, &config, "7");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let manifest = manifest_of(&out);
    let text = stdout(&out);
    let err = stderr(&out);
    assert!(
        err.contains("generated for this render from the seed"),
        "{err}"
    );
    assert!(
        !err.contains("BOSH variables"),
        "nothing left to the Director: {err}"
    );
    let generated = find_key(&manifest, "generated", &|v| {
        v.get("rsa_pkey_credentials").is_some()
    })
    .expect("the example's `generated` block");
    let pkey = &generated["rsa_pkey_credentials"];
    assert!(pkey["public_key_pem"]
        .as_str()
        .is_some_and(|k| k.starts_with("-----BEGIN PUBLIC KEY-----")));
    assert!(pkey["public_key_openssh"]
        .as_str()
        .is_some_and(|k| k.starts_with("ssh-rsa AAAA")));
    assert!(pkey["public_key_fingerprint"]
        .as_str()
        .is_some_and(|k| k.len() == 47 && k.matches(':').count() == 15));
    let salted = &generated["salted_credentials"];
    assert_eq!(salted["salt"].as_str().map(str::len), Some(16));
    assert!(salted["sha512_hashed_password"]
        .as_str()
        .is_some_and(|h| h.starts_with("$6$")));
    let cert = &generated["rsa_cert_credentials"];
    assert!(cert["cert_pem"]
        .as_str()
        .is_some_and(|c| c.starts_with("-----BEGIN CERTIFICATE-----")));
    assert!(cert["public_key_pem"]
        .as_str()
        .is_some_and(|k| k.starts_with("-----BEGIN PUBLIC KEY-----")));

    let again = render_seeded(&tile, &config, "7");
    assert_eq!(stdout(&again), text, "the same seed, the same manifest");
    let other = render_seeded(&tile, &config, "8");
    assert_eq!(code(&other), 0, "{}", stderr(&other));
    assert_ne!(stdout(&other), text, "another seed, other credentials");
}

/// The first value under `key` anywhere in `tree` that `wanted` accepts.
fn find_key<'a>(tree: &'a Value, key: &str, wanted: &dyn Fn(&Value) -> bool) -> Option<&'a Value> {
    match tree {
        Value::Object(map) => map
            .get(key)
            .filter(|v| wanted(v))
            .or_else(|| map.values().find_map(|v| find_key(v, key, wanted))),
        Value::Array(items) => items.iter().find_map(|v| find_key(v, key, wanted)),
        _ => None,
    }
}

/// Every tile of the public corpus (../shared/fixtures/tiles/corpus, see tiles/CORPUS.md)
/// renders through the CLI with its required fields typed and its credentials generated; the
/// one the engine refuses (cf 1.1, Ruby ERB manifests) exits 1 naming why.
#[test]
fn render_every_corpus_tile_through_the_cli() {
    let corpus = fixture("corpus");
    let dir = tempfile::tempdir().expect("tmp");
    let mut tiles: Vec<PathBuf> = fs::read_dir(&corpus)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    tiles.sort();
    assert!(tiles.len() >= 10, "{} corpus tiles", tiles.len());
    // The runtime tile service tiles reference with `..cf.`, staged beside each.
    let runtime = dir.path().join("cf-runtime.yml");
    fs::write(&runtime, tile_samples::RUNTIME_TILE).expect("write");
    let runtime_template =
        tiles::metadata::ProductTemplate::from_yaml(tile_samples::RUNTIME_TILE).expect("loads");
    let runtime_properties: serde_json::Map<String, Value> = tile_samples::runtime_values()
        .into_iter()
        .filter(|(r, _)| {
            runtime_template
                .property(r)
                .is_some_and(|p| p.blueprint.configurable)
        })
        .map(|(r, v)| (r.to_string(), serde_json::json!({ "value": v })))
        .collect();
    let runtime_config = dir.path().join("cf-runtime.config.yml");
    let runtime_config_text = serde_json::json!({
        "product-name": "cf",
        "product-properties": runtime_properties,
    });
    fs::write(&runtime_config, runtime_config_text.to_string()).expect("write");

    let mut problems = Vec::new();
    for tile in &tiles {
        let name = tile
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let text = fs::read_to_string(tile).expect("read");
        let config = required_config(&text, dir.path(), &name);
        let out = tile_at(&[
            &"render",
            tile,
            &"--config",
            &config,
            &"--seed",
            &"1",
            &"--other-product",
            &runtime,
            &runtime_config,
        ]);
        if name == "cf-1.1.0.0" {
            // Ops Manager 1.1's manifests are not this engine's language (tiles/CORPUS.md).
            assert_eq!(code(&out), 1, "{}", stderr(&out));
            assert!(
                stderr(&out).contains("cannot render cf: expression"),
                "{}",
                stderr(&out)
            );
            continue;
        }
        eprintln!("{name}: exit {}", code(&out));
        if code(&out) != 0 {
            problems.push(format!("{name}: {}", stderr(&out)));
            continue;
        }
        let manifest = manifest_of(&out);
        if !manifest["instance_groups"].is_array() {
            problems.push(format!("{name}: no instance groups"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `--credentials FILE` values win over generated ones; entries that are not credentials of
/// the tile are refused naming the key (exit 1).
#[test]
fn render_takes_credentials_from_a_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = demo_folder(dir.path(), None, true);
    let config = dir.path().join("config.yml");
    fs::write(&config, "product-name: demo-tile\n").expect("write");
    let credentials = dir.path().join("credentials.yml");
    fs::write(&credentials, ".properties.generated_secret: given-secret\n").expect("write");
    let out = tile_at(&[
        &"render",
        &folder,
        &"--config",
        &config,
        &"--credentials",
        &credentials,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let props = &manifest_of(&out)["instance_groups"][0]["jobs"][0]["properties"];
    assert_eq!(props["secret"], "given-secret");
    assert!(
        !stderr(&out).contains("generated for this render"),
        "{}",
        stderr(&out)
    );

    fs::write(
        &credentials,
        ".properties.greeting: hi\n.properties.nope: x\n.properties.generated_secret: {secret: 1}\n",
    )
    .expect("write");
    let out = tile_at(&[
        &"render",
        &folder,
        &"--config",
        &config,
        &"--credentials",
        &credentials,
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(".properties.greeting: a string property is not a credential"),
        "{err}"
    );
    assert!(err.contains(".properties.nope: no such property"), "{err}");
    assert!(
        err.contains(".properties.generated_secret: not a secret"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

// ---------------------------------------------------- job specs, positions, suggestions

// The tile whose manifest disagrees with its release (`greting`, job `wrker`), shared with the
// server's job-spec test.
#[path = "support/spec_tile.rs"]
mod spec_tile;

/// Line and column (from 1) of the first `needle` in `text`.
fn line_col(text: &str, needle: &str) -> (usize, usize) {
    let byte = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in text"));
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    (line, byte - before.rfind('\n').map_or(0, |n| n + 1) + 1)
}

/// The spec tile as a folder with its release tarball.
fn spec_folder(root: &Path) -> PathBuf {
    let dir = root.join("spec-demo");
    fs::create_dir_all(dir.join("metadata")).expect("mkdir");
    fs::create_dir_all(dir.join("releases")).expect("mkdir");
    fs::write(dir.join("metadata/spec-demo.yml"), spec_tile::METADATA).expect("write");
    fs::write(
        dir.join("releases").join(spec_tile::RELEASE_FILE),
        spec_tile::release(),
    )
    .expect("write release");
    dir
}

#[test]
fn lint_names_line_column_and_suggestion_of_job_spec_findings() {
    let root = tempfile::tempdir().expect("tmp");
    let dir = spec_folder(root.path());
    let file = dir.join("metadata/spec-demo.yml").display().to_string();
    let (pl, pc) = line_col(spec_tile::METADATA, "greting:");
    let (jl, jc) = line_col(spec_tile::METADATA, "name: wrker");

    let out = tile_at(&[&"lint", &dir]);
    assert_eq!(code(&out), 0, "warnings only: {}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "{file}:{pl}:{pc}: job_types[0].templates[0].manifest.greting: \
             warning[job-spec-property-declared]: property `greting` is not declared by job `web` \
             of release spec-demo-release 1.0 (BOSH ignores it); did you mean `greeting`?\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{file}:{jl}:{jc}: job_types[0].templates[1].name: warning[job-spec-job-exists]: \
             release spec-demo-release 1.0 has no job `wrker`; did you mean `worker`?\n"
        )),
        "{text}"
    );
    assert_eq!(code(&tile_at(&[&"lint", &dir, &"--strict"])), 1);

    let (status, json) = lint_json(&dir);
    assert_eq!(status, 0, "{json}");
    let findings = json["findings"].as_array().expect("findings");
    let property = findings
        .iter()
        .find(|f| f["rule"] == "job-spec-property-declared")
        .expect("the misspelt property");
    assert_eq!(
        (
            &property["line"],
            &property["column"],
            &property["suggestion"]
        ),
        (&json!(pl), &json!(pc), &json!("greeting")),
        "{property}"
    );
    let job = findings
        .iter()
        .find(|f| f["rule"] == "job-spec-job-exists")
        .expect("the missing job");
    assert_eq!(
        (&job["line"], &job["column"], &job["suggestion"]),
        (&json!(jl), &json!(jc), &json!("worker")),
        "{job}"
    );
}

#[test]
fn lint_suggests_the_property_a_misspelt_reference_meant() {
    let root = tempfile::tempdir().expect("tmp");
    let bad = root.path().join("bad.yml");
    let text = spec_tile::METADATA.replace(
        "greting: (( .properties.greeting.value ))",
        "greeting: (( .properties.greetin.value ))",
    );
    fs::write(&bad, &text).expect("write");
    let out = tile_at(&[&"lint", &bad]);
    assert_eq!(code(&out), 1, "an expression naming nothing is an error");
    let (line, column) = line_col(&text, "(( .properties.greetin.value ))");
    let file = bad.display().to_string();
    let printed = stdout(&out);
    assert!(
        printed.contains(&format!(
            "{file}:{line}:{column}: job_types[0].templates[0].manifest: \
             error[expression-reference-resolves]: `(( .properties.greetin.value ))`: no product \
             property blueprint `greetin`; did you mean `.properties.greeting.value`?\n"
        )),
        "{printed}"
    );
}

#[test]
fn render_check_names_line_column_and_suggestion_of_job_spec_findings() {
    let root = tempfile::tempdir().expect("tmp");
    let dir = spec_folder(root.path());
    let config = root.path().join("spec-demo.config.yml");
    fs::write(&config, "product-name: spec-demo\n").expect("write config");
    let file = dir.join("metadata/spec-demo.yml").display().to_string();
    let (pl, pc) = line_col(spec_tile::METADATA, "greting:");
    let (jl, jc) = line_col(spec_tile::METADATA, "name: wrker");

    let out = tile_at(&[
        &"render",
        &dir,
        &"--config",
        &config,
        &"--seed",
        &"1",
        &"--check",
    ]);
    assert_eq!(code(&out), 0, "warnings do not fail: {}", stderr(&out));
    assert!(manifest_of(&out)["instance_groups"].is_array());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{file}:{pl}:{pc}: instance_groups[web].jobs[web]: warning[job-spec-property-declared]: \
             property `greting` is not declared by job `web` of release spec-demo-release 1.0 \
             (BOSH ignores it); did you mean `greeting`?\n"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{file}:{jl}:{jc}: instance_groups[web].jobs[wrker]: warning[job-spec-job-exists]: \
             release spec-demo-release 1.0 has no job `wrker`; did you mean `worker`?\n"
        )),
        "{err}"
    );
    let strict = tile_at(&[
        &"render",
        &dir,
        &"--config",
        &config,
        &"--seed",
        &"1",
        &"--check",
        &"--strict",
    ]);
    assert_eq!(code(&strict), 1, "{}", stderr(&strict));
}

#[test]
fn forms_lists_the_inputs_it_cannot_place() {
    let root = tempfile::tempdir().expect("tmp");
    let bad = root.path().join("forms.yml");
    let text = spec_tile::METADATA.replace(
        "  - reference: .properties.greeting\n    label: Greeting\n",
        "  - reference: .properties.greeting\n    label: Greeting\n  - reference: .properties.greetng\n    label: Typo\n",
    );
    assert_ne!(text, spec_tile::METADATA);
    fs::write(&bad, &text).expect("write");
    let (line, column) = line_col(&text, "reference: .properties.greetng");
    let file = bad.display().to_string();

    let out = tile_at(&[&"forms", &bad]);
    assert_eq!(code(&out), 0, "warnings only: {}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        printed.contains("Greeting"),
        "the tree still prints: {printed}"
    );
    assert!(
        printed.contains(&format!(
            "{file}:{line}:{column}: form_types[0].property_inputs[1]: warning[form-input-unplaced]: \
             `.properties.greetng` names no property blueprint; did you mean \
             `.properties.greeting`?; left out of the form\n"
        )),
        "{printed}"
    );
    assert!(!printed.contains("Typo"), "left out of the tree: {printed}");
    assert_eq!(code(&tile_at(&[&"forms", &bad, &"--strict"])), 1);

    let out = tile_at(&[&"forms", &bad, &"--format", &"json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("forms JSON");
    assert_eq!(json["product_name"], "spec-demo");
    assert_eq!(
        json["warnings"],
        json!([{
            "path": "form_types[0].property_inputs[1]",
            "reference": ".properties.greetng",
            "message": "`.properties.greetng` names no property blueprint; did you mean `.properties.greeting`?",
            "suggestion": ".properties.greeting",
            "line": line,
            "column": column,
        }])
    );
    // A tile whose inputs all have a place has no warnings.
    let out = tile_at(&[
        &"forms",
        &fixture("example-product.yml"),
        &"--format",
        &"json",
    ]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("forms JSON");
    assert_eq!(json["warnings"], json!([]));
}

/// A tile without job types (runtime configs only, as NSX-T's) renders offline: its runtime
/// config is checked, and the empty manifest — which Apply Changes never deploys — is not held
/// to the Director's rules for a deployment.
#[test]
fn a_tile_without_job_types_renders_its_runtime_config() {
    let tmp = tempfile::tempdir().unwrap();
    let meta = tmp.path().join("addon-only.yml");
    std::fs::write(
        &meta,
        "name: addon-only\nproduct_version: 1.0.0\nmetadata_version: '2.7'\nlabel: Add-on\n\
         rank: 1\nreleases: []\nproperty_blueprints: []\nform_types: []\njob_types: []\n\
         runtime_configs:\n- name: greeter\n  runtime_config: |\n    addons:\n    - name: greeter\n      jobs: []\n",
    )
    .unwrap();
    let config = tmp.path().join("config.yml");
    std::fs::write(&config, "product-name: addon-only\n").unwrap();
    let out = tile_at(&[&"render", &meta, &"--config", &config]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("no instance groups: Apply Changes deploys no manifest for this tile, only its 1 runtime config(s)"),
        "{stderr}"
    );
}
