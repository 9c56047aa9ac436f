//! Tests of bake on small inputs: each function, how values are inserted, and the refusals
//! (each naming the file, the line where there is one, and the action). The whole kiln-layout
//! tile is baked in `tiles/tests/bake.rs`.

use super::*;
use serde_json::json;

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.into(),
        text: text.into(),
    }
}

fn input(base: &str) -> BakeInput {
    BakeInput {
        base: file("base.yml", base),
        ..BakeInput::default()
    }
}

fn with_parts(mut input: BakeInput, kind: PartKind, files: &[(&str, &str)]) -> BakeInput {
    input
        .parts
        .push((kind, files.iter().map(|(p, t)| file(p, t)).collect()));
    input
}

fn vars(input: &mut BakeInput, v: Value) {
    input.variables = v.as_object().unwrap().clone();
}

fn err(input: &BakeInput) -> String {
    match bake(input) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected an error, baked {v:#}"),
    }
}

#[test]
fn a_part_replaces_its_action_whatever_the_indentation() {
    let i = with_parts(
        input("form_types:\n- $( form \"one\" )\nnested:\n  deeper:\n    - $(form \"two\")\n"),
        PartKind::Form,
        &[
            (
                "forms/one.yml",
                "name: one\nlabel: One\nproperty_inputs:\n- reference: .properties.a\n",
            ),
            ("forms/two.yml", "- name: two\n  label: Two\n"),
        ],
    );
    assert_eq!(
        bake(&i).unwrap(),
        json!({
            "form_types": [{"name": "one", "label": "One", "property_inputs": [{"reference": ".properties.a"}]}],
            "nested": {"deeper": [{"name": "two", "label": "Two"}]},
        })
    );
}

#[test]
fn an_alias_names_a_part_and_is_removed() {
    let i = with_parts(
        input("p: $( property \"short\" )\n"),
        PartKind::Property,
        &[(
            "properties/x.yml",
            "alias: short\nname: a_long_name\ntype: string\n",
        )],
    );
    assert_eq!(
        bake(&i).unwrap(),
        json!({"p": {"name": "a_long_name", "type": "string"}})
    );
}

#[test]
fn parts_refer_to_parts_and_variables() {
    let mut i = with_parts(
        with_parts(
            input("job_types:\n- $( instance_group \"web\" )\n"),
            PartKind::InstanceGroup,
            &[("instance_groups/web.yml", "name: web\ntemplates:\n- $( job \"server\" )\ninstances: $( variable \"n\" )\nlabel: web-$( variable \"n\" )\n")],
        ),
        PartKind::Job,
        &[("jobs/server.yml", "name: server\nrelease: r\nmanifest: |\n  port: $( variable \"port\" )\n")],
    );
    vars(&mut i, json!({"n": 3, "port": "8443"}));
    assert_eq!(
        bake(&i).unwrap(),
        json!({"job_types": [{
            "name": "web",
            "templates": [{"name": "server", "release": "r", "manifest": "port: 8443\n"}],
            "instances": 3,
            "label": "web-3",
        }]})
    );
}

#[test]
fn strings_are_inserted_as_written_unless_yaml_would_read_them_otherwise() {
    let mut i = input("a: $( variable \"plain\" )\nb: $( variable \"map_like\" )\nc: x-$( variable \"plain\" )-y\nd: $( variable \"flag\" )\ne: $( variable \"lines\" )\n");
    vars(
        &mut i,
        json!({"plain": "hello", "map_like": "k: v", "flag": "true", "lines": "one\ntwo"}),
    );
    // `true` is inserted as written, so it reads as a boolean, as in kiln.
    assert_eq!(
        bake(&i).unwrap(),
        json!({"a": "hello", "b": "k: v", "c": "x-hello-y", "d": true, "e": "one\ntwo"})
    );
}

#[test]
fn structured_variables_fields_and_the_special_variables() {
    let mut i = input("list: $( variable \"items\" )\nfield: $( .nested.key )\nv: $( variable \"build-version\" )\nname: $( tile )\n");
    vars(
        &mut i,
        json!({"items": [1, {"a": "b"}], "nested": {"key": "deep"}, "tile_name": "My-Tile"}),
    );
    i.version = Some("3.1.4".into());
    assert_eq!(
        bake(&i).unwrap(),
        json!({"list": [1, {"a": "b"}], "field": "deep", "v": "3.1.4", "name": "my-tile"})
    );
}

#[test]
fn releases_stemcells_select_icon_and_regex() {
    let mut i = input(
        "releases:\n- $( release \"r\" )\nv: $( release \"r\" | select \"version\" )\nstemcell_criteria: $( stemcell \"ubuntu-jammy\" )\nicon_image: $( icon )\nlabel: $( regexReplaceAll \"(\\\\w+)-(\\\\w+)\" \"a-b\" \"$2 $1\" )\n",
    );
    i.releases = Some(
        json!({"r": {"name": "r", "version": "1.0", "file": "r-1.0.tgz", "sha1": "abc"}})
            .as_object()
            .unwrap()
            .clone(),
    );
    i.stemcells = json!({"ubuntu-jammy": {"os": "ubuntu-jammy", "version": "1.445"}})
        .as_object()
        .unwrap()
        .clone();
    i.icon = Some("aWNvbg==".into());
    assert_eq!(
        bake(&i).unwrap(),
        json!({
            "releases": [{"name": "r", "version": "1.0", "file": "r-1.0.tgz", "sha1": "abc"}],
            "v": "1.0",
            "stemcell_criteria": {"os": "ubuntu-jammy", "version": "1.445"},
            "icon_image": "aWNvbg==",
            "label": "b a",
        })
    );
}

#[test]
fn trim_markers_and_comments() {
    let i = input("a: [x,   $(- /* nothing */ -)   y]\nb: [ $(- \"s\" -)  ]\n");
    assert_eq!(bake(&i).unwrap(), json!({"a": ["x", "y"], "b": ["s"]}));
}

#[test]
fn an_unknown_part_names_the_line_the_action_and_a_near_name() {
    let i = with_parts(
        input("name: t\nform_types:\n- $( form \"setings\" )\n"),
        PartKind::Form,
        &[("forms/settings.yml", "name: settings\n")],
    );
    let e = err(&i);
    assert!(
        e.starts_with("base.yml line 3: `$( form \"setings\" )`"),
        "{e}"
    );
    assert!(e.contains("no form named `setings` in forms/"), "{e}");
    assert!(e.contains("did you mean `settings`?"), "{e}");
}

#[test]
fn a_missing_folder_or_variable_or_version_is_named() {
    let e = err(&input("a: $( job \"x\" )\n"));
    assert!(
        e.contains("no jobs/ folder") && e.contains("--jobs-directory"),
        "{e}"
    );
    let e = err(&input("a: 1\nb: $( variable \"port\" )\n"));
    assert!(
        e.starts_with("base.yml line 2: `$( variable \"port\" )`: no variable `port`"),
        "{e}"
    );
    let e = err(&input("v: $( version )\n"));
    assert!(e.contains("no version: give --version"), "{e}");
    let e = err(&input("r: $( release \"r\" )\n"));
    assert!(e.contains("no release tarballs were read"), "{e}");
    let e = err(&input("s: $( stemcell )\n"));
    assert!(e.contains("Kilnfile.lock"), "{e}");
}

#[test]
fn a_problem_inside_a_part_names_the_part_file() {
    let i = with_parts(
        input("f: $( form \"f\" )\n"),
        PartKind::Form,
        &[("forms/f.yml", "name: f\nlabel: $( variable \"missing\" )\n")],
    );
    let e = err(&i);
    assert!(
        e.starts_with("forms/f.yml: `$( variable \"missing\" )`: no variable `missing`"),
        "{e}"
    );
}

#[test]
fn bad_yaml_in_a_part_names_the_file() {
    let i = with_parts(
        input("f: $( form \"f\" )\n"),
        PartKind::Form,
        &[("forms/broken.yml", "name: f\n  label: [unclosed\n")],
    );
    let e = err(&i);
    assert!(e.starts_with("forms/broken.yml: not readable YAML"), "{e}");
}

#[test]
fn duplicate_and_nameless_parts_are_refused() {
    let i = with_parts(
        input("f: 1\n"),
        PartKind::Property,
        &[
            ("properties/a.yml", "name: x\n"),
            ("properties/b.yml", "name: x\n"),
        ],
    );
    let e = err(&i);
    assert!(
        e.starts_with(
            "properties/b.yml: two property blueprints are named `x`: here and in properties/a.yml"
        ),
        "{e}"
    );
    let i = with_parts(
        input("f: 1\n"),
        PartKind::Job,
        &[("jobs/a.yml", "release: r\n")],
    );
    assert!(err(&i).starts_with("jobs/a.yml: a job needs a string `name`"));
}

/// `if`/`else if`/`else`, `range` and `with` as Go's text/template runs them, with Go's
/// truth, `eq`/`ne`/`not`/`and`/`or`/`len`, and `.` the element inside `range`/`with`.
#[test]
fn control_structures_choose_and_repeat_text() {
    let base = "\
kind: $( if eq .size \"large\" )big$( else if eq .size \"medium\" )middle$( else )small$( end )
ha: $( if and .ha .multi )paired$( else )alone$( end )
solo: $( if not .multi )paired$( else )alone$( end )
azs:
$( range .azs -)
- name: $( .name )
  primary: $( if eq .name \"z1\" )true$( else )false$( end )
$( end -)
none: $( range .empty )x$( else )empty$( end )
values: $( range .by_key )$( . )$( end )
db: $( with .db )$( .host ):$( .port )$( else )none$( end )
nodb: $( with .nodb )$( .host )$( else )no database$( end )
count: $( len .azs )
either: $( or .nothing \"fallback\" )
";
    let mut i = input(base);
    vars(
        &mut i,
        json!({
            "size": "medium", "ha": true, "multi": true,
            "azs": [{"name": "z1"}, {"name": "z2"}], "empty": [],
            "by_key": {"b": "2", "a": "1"},
            "db": {"host": "db.example.com", "port": 5432}, "nodb": {},
            "nothing": "",
        }),
    );
    assert_eq!(
        bake(&i).unwrap(),
        json!({
            "kind": "middle",
            "ha": "paired",
            "solo": "alone",
            "azs": [{"name": "z1", "primary": true}, {"name": "z2", "primary": false}],
            "none": "empty",
            "values": 12,
            "db": "db.example.com:5432",
            "nodb": "no database",
            "count": 2,
            "either": "fallback",
        })
    );
    vars(
        &mut i,
        json!({"size": "large", "ha": false, "multi": false, "azs": [],
        "empty": [], "by_key": {}, "db": null, "nodb": null, "nothing": "x"}),
    );
    let baked = bake(&i).unwrap();
    assert_eq!(baked["kind"], "big");
    assert_eq!(baked["ha"], "alone");
    assert_eq!(baked["solo"], "paired");
    assert_eq!(baked["azs"], Value::Null);
    assert_eq!(baked["db"], "none");
    assert_eq!(baked["either"], "x");
}

#[test]
fn control_structures_that_do_not_close_or_fit_are_refused_with_their_line() {
    let e = err(&input("a: 1\nb: $( if .x )yes\n"));
    assert!(
        e.contains("base.yml line 2: `$( if .x )` has no `end`"),
        "{e}"
    );
    let e = err(&input("a: yes$( end )\n"));
    assert!(
        e.contains("`$( end )` without an `if`, `range`, `with`, `define` or `block` before it"),
        "{e}"
    );
    let e = err(&input("a: $( if .x )1$( else with .y )2$( end )\n"));
    assert!(e.contains("`else with` can only continue a `with`"), "{e}");
    let e = err(&input("a: $( if .x )1$( else )2$( else )3$( end )\n"));
    assert!(e.contains("another `else` after the plain `else`"), "{e}");
    let e = err(&input("a: $( if )1$( end )\n"));
    assert!(e.contains("a pipeline must follow the keyword"), "{e}");
    let mut i = input("a: $( range .x )1$( end )\n");
    vars(&mut i, json!({"x": "text"}));
    assert!(
        err(&i).contains("cannot range over a string"),
        "{}",
        err(&i)
    );
    let mut i = input("a: $( range .x )$( .missing )$( end )\n");
    vars(&mut i, json!({"x": [{"name": "n"}]}));
    assert!(
        err(&i).contains("`.` (a map) has no `missing`"),
        "{}",
        err(&i)
    );
    let e = err(&input("a: $( eq 1 )\n"));
    assert!(e.contains("`eq` takes at least 2 arguments"), "{e}");
}

#[test]
fn variables_named_templates_break_and_continue() {
    let base = "\
$(- define \"az\" -)
- name: $( .name )
  label: $( $.name )
$(- end )
region: $( $.region )
$( $first := index0 )
first: $( $first )
azs:
$( range $i, $az := .azs -)
$( template \"az\" $az )
$( end -)
names: $( range $n := .azs )$( if eq $n.name \"skip\" )$( continue )$( end )$( $n.name )$( if eq $n.name \"z2\" )$( break )$( end ),$( end )
keys: $( range $k, $v := .by_key )$( $k )=$( $v );$( end )
counted: $( $c := \"none\" )$( range .azs )$( $c = .name )$( end )$( $c )
scoped: $( with $db := .db )$( $db.host )$( end )
block: $( block \"greeting\" .who )hello $( . )$( end )
again: $( template \"greeting\" \"again\" )
";
    let mut i = input(&base.replace("index0", "\"z1\""));
    vars(
        &mut i,
        json!({
            "region": "eu",
            "azs": [{"name": "z1"}, {"name": "skip"}, {"name": "z2"}, {"name": "z3"}],
            "by_key": {"b": 2, "a": 1},
            "db": {"host": "db.example.com"},
            "who": "world",
        }),
    );
    assert_eq!(
        bake(&i).unwrap(),
        json!({
            "region": "eu",
            "first": "z1",
            "azs": [
                {"name": "z1", "label": "z1"},
                {"name": "skip", "label": "skip"},
                {"name": "z2", "label": "z2"},
                {"name": "z3", "label": "z3"},
            ],
            "names": "z1,z2",
            "keys": "a=1;b=2;",
            "counted": "z3",
            "scoped": "db.example.com",
            "block": "hello world",
            "again": "hello again",
        })
    );
}

#[test]
fn variables_and_templates_used_wrongly_are_refused_with_their_line() {
    let e = err(&input("a: 1\nb: $( $x )\n"));
    assert!(
        e.contains("base.yml line 2: `$( $x )`: undefined variable `$x`"),
        "{e}"
    );
    let e = err(&input("a: $( $x = 1 )\n"));
    assert!(e.contains("`$x` is assigned before it is declared"), "{e}");
    // A variable ends with the structure that declared it.
    let mut i = input("a: $( if .t )$( $x := 1 )$( end )$( $x )\n");
    vars(&mut i, json!({"t": true}));
    assert!(err(&i).contains("undefined variable `$x`"), "{}", err(&i));
    let e = err(&input("a: $( $a, $b := .x )\n"));
    assert!(e.contains("two (`$i, $e := …`) only by a `range`"), "{e}");
    let e = err(&input("a: $( .x := 1 )\n"));
    assert!(e.contains("only variables"), "{e}");
    let e = err(&input("a: $( $x := )\n"));
    assert!(e.contains("a pipeline must follow `:=` or `=`"), "{e}");
    let e = err(&input(
        "a: $( template \"gretting\" )\n$( define \"greeting\" )hi$( end )\n",
    ));
    assert!(
        e.contains("no template named `gretting` defined here; did you mean `greeting`?"),
        "{e}"
    );
    let e = err(&input(
        "$( define \"x\" )1$( end )$( define \"x\" )2$( end )a: 1\n",
    ));
    assert!(e.contains("the template `x` is defined twice"), "{e}");
    let e = err(&input(
        "$( define \"x\" )$( template \"x\" )$( end )a: $( template \"x\" )\n",
    ));
    assert!(e.contains("does `x` call itself?"), "{e}");
    let e = err(&input("a: $( break )\n"));
    assert!(e.contains("`$( break )`: outside a `range`"), "{e}");
    let e = err(&input("$( define 1 )x$( end )a: 1\n"));
    assert!(e.contains("a template's name is a string"), "{e}");
}

#[test]
fn unsupported_template_language_is_refused_by_name() {
    let e = err(&input("a: $( formm \"x\" )\n"));
    assert!(
        e.contains("unknown function `formm`; did you mean `form`?"),
        "{e}"
    );
    let e = err(&input("a: $( form (variable \"x\") )\n"));
    assert!(e.contains("parentheses cannot be used"), "{e}");
    let e = err(&input("a: $( variable \"x\"\n"));
    assert!(e.contains("unclosed action"), "{e}");
    let e = err(&input("a: $( variable \"a\" \"b\" )\n"));
    assert!(e.contains("`variable` takes 1 argument, given 2"), "{e}");
}

#[test]
fn a_part_that_includes_itself_stops() {
    let i = with_parts(
        input("f: $( form \"f\" )\n"),
        PartKind::Form,
        &[("forms/f.yml", "name: f\nagain: $( form \"f\" )\n")],
    );
    assert!(err(&i).contains("nest deeper than"));
}

#[test]
fn tile_in_part_files_needs_the_tile_name() {
    let i = with_parts(
        input("f: $( form \"f\" )\n"),
        PartKind::Form,
        &[("forms/f.yml", "name: f\nlabel: {{ tile }} settings\n")],
    );
    assert!(err(&i).contains("forms/f.yml line 2: `{{ tile }}` needs the variable `tile_name`"));
    let e = err(&with_parts(
        input("f: 1\n"),
        PartKind::Form,
        &[("forms/f.yml", "name: f\nlabel: {{ .x }}\n")],
    ));
    assert!(e.contains("part files may use only `{{ tile }}`"), "{e}");
}

#[test]
fn variables_files_merge_and_pairs_split_at_the_first_equals() {
    let mut v = Map::new();
    merge_variables_file(&file("a.yml", "x: 1\ny: two\n"), &mut v).unwrap();
    merge_variables_file(&file("b.yml", "y: three\n"), &mut v).unwrap();
    add_variable_pair("z=a=b", &mut v).unwrap();
    assert_eq!(
        Value::Object(v.clone()),
        json!({"x": 1, "y": "three", "z": "a=b"})
    );
    assert!(add_variable_pair("novalue", &mut v)
        .unwrap_err()
        .to_string()
        .contains("--variable: `novalue` is not of the form key=value"));
    assert!(merge_variables_file(&file("c.yml", "- a\n"), &mut v)
        .unwrap_err()
        .to_string()
        .starts_with("c.yml: a variables file holds a map"));
}

#[test]
fn only_yml_files_other_than_order_files_are_parts() {
    assert!(is_part_file("forms/a.yml"));
    assert!(!is_part_file("forms/_order.yml"));
    assert!(!is_part_file("forms/a.yaml"));
}
