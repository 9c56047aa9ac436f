//! The kiln-layout tile in `tests/data/kiln-tile/` baked by the engine equals the metadata
//! kiln would bake from it (`tests/data/kiln-tile.expected.yml`, written by hand from kiln's
//! interpolator), compared as parsed YAML; and the baked metadata lints without errors.
//! The test reads the folder itself, as `tileworks tile bake` does (that command, with a real
//! release tarball and packing, is tested in server/tests/tile_bake.rs).

use std::fs;
use std::path::Path;

use base64::Engine;
use serde_json::{json, Value};
use tiles::bake::{bake, merge_variables_file, BakeInput, PartKind, SourceFile};

fn data() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

fn source(root: &Path, rel: &str) -> SourceFile {
    SourceFile {
        path: rel.to_string(),
        text: fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")),
    }
}

fn part_files(root: &Path, dir: &str) -> Vec<SourceFile> {
    let mut names: Vec<String> = fs::read_dir(root.join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .map(|n| format!("{dir}/{n}"))
        .filter(|p| tiles::bake::is_part_file(p))
        .collect();
    names.sort();
    names.iter().map(|p| source(root, p)).collect()
}

fn kiln_tile_input() -> BakeInput {
    let root = data().join("kiln-tile");
    let mut variables = serde_json::Map::new();
    merge_variables_file(&source(&root, "variables/demo.yml"), &mut variables).unwrap();
    BakeInput {
        base: source(&root, "base.yml"),
        parts: PartKind::ALL
            .into_iter()
            .map(|k| (k, part_files(&root, k.default_dir())))
            .collect(),
        variables,
        version: Some(source(&root, "version").text.trim().to_string()),
        releases: Some(
            json!({"kiln-demo": {
                "name": "kiln-demo",
                "version": "1.0.3",
                "file": "kiln-demo-1.0.3.tgz",
                "sha1": "0123456789abcdef0123456789abcdef01234567",
            }})
            .as_object()
            .unwrap()
            .clone(),
        ),
        stemcells: json!({"ubuntu-jammy": {"os": "ubuntu-jammy", "version": "1.445"}})
            .as_object()
            .unwrap()
            .clone(),
        icon: Some(
            base64::engine::general_purpose::STANDARD
                .encode(fs::read(root.join("icon.png")).unwrap()),
        ),
    }
}

#[test]
fn the_kiln_layout_tile_bakes_to_what_kiln_bakes() {
    let baked = bake(&kiln_tile_input()).unwrap_or_else(|e| panic!("{e}"));
    let expected: Value =
        tiles::yaml::load(&source(data(), "kiln-tile.expected.yml").text).unwrap();
    assert_eq!(
        baked,
        expected,
        "baked:\n{}",
        tiles::yaml::to_yaml_string(&baked)
    );

    // What bake prints reads back as the same value, and Ops Manager's rules find no errors.
    let printed = tiles::yaml::to_yaml_string(&baked);
    assert_eq!(tiles::yaml::load(&printed).unwrap(), baked);
    let findings = tiles::lint::lint_yaml(&printed);
    assert!(!tiles::lint::has_errors(&findings), "{findings:#?}");
}

#[test]
fn a_missing_variable_in_the_kiln_tile_names_the_file_and_action() {
    let mut input = kiln_tile_input();
    input.variables.remove("default_greeting");
    let e = bake(&input).unwrap_err().to_string();
    assert!(
        e.starts_with("properties/greeting.yml: `$( variable \"default_greeting\" )`: no variable `default_greeting`"),
        "{e}"
    );
}
