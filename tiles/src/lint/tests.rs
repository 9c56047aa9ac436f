use super::*;

const PKS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/tiles/pks-1.1.3.yml"
));
const EXAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/tiles/example-product.yml"
));

/// A small tile that lints clean; each test breaks one thing.
const GOOD: &str = r#"
name: small
product_version: 1.0.0
minimum_version_for_upgrade: "0"
metadata_version: "2.5"
label: Small
rank: 5
icon_image: aWNvbg==
stemcell_criteria: {os: ubuntu-jammy, version: '1.10'}
releases:
- {name: rel, file: rel.tgz, version: 1.2.3}
property_blueprints:
- name: greeting
  type: string
  configurable: true
  default: hi
- name: count
  type: integer
  configurable: true
  default: 3
  constraints: {min: 1, max: 5}
- name: color
  type: dropdown_select
  configurable: true
  default: red
  options:
  - {name: red, label: Red}
  - {name: blue, label: Blue}
- name: mode
  type: selector
  configurable: true
  default: 'No'
  option_templates:
  - name: off_option
    select_value: 'No'
    named_manifests:
    - name: snippet
      manifest: |
        enabled: false
  - name: on_option
    select_value: 'Yes'
    named_manifests:
    - name: snippet
      manifest: |
        enabled: true
        level: (( .properties.mode.on_option.level.value ))
    property_blueprints:
    - {name: level, type: integer, configurable: true, default: 2}
- name: albums
  type: collection
  configurable: true
  property_blueprints:
  - {name: title, type: string, configurable: true}
  named_manifests:
  - name: entry
    manifest: |
      title: (( current_record.title.value ))
form_types:
- name: main
  label: Main
  property_inputs:
  - {reference: .properties.greeting, label: Greeting}
  - {reference: .web.port, label: Port}
  - reference: .properties.mode
    label: Mode
    selector_property_inputs:
    - reference: .properties.mode.off_option
      label: Off
    - reference: .properties.mode.on_option
      label: On
      property_inputs:
      - {reference: .properties.mode.on_option.level, label: Level}
  - reference: .properties.albums
    label: Albums
    property_inputs:
    - {reference: title, label: Title}
job_types:
- name: web
  resource_label: Web
  max_in_flight: 1
  single_az_only: false
  instance_definition:
    name: instances
    type: integer
    configurable: true
    default: 1
    constraints: {min: 0, max: 3}
    zero_if:
      property_reference: .properties.mode
      property_value: 'No'
  resource_definitions:
  - {name: ram, type: integer, configurable: true, default: 1024, constraints: {min: 512}}
  property_blueprints:
  - {name: port, type: port, configurable: true, default: 8080}
  templates:
  - name: server
    release: rel
    manifest: |
      greeting: "(( .properties.greeting.value )), (( port.value ))!"
      count: (( .properties.count.value ))
      mode: (( .properties.mode.selected_option.parsed_manifest(snippet) ))
      albums: (( .properties.albums.parsed_manifest(entry) ))
      host: (( $director.hostname || $director.deployment_ip ))
      password: ((( db-password )))
      instances: (( instances ))
      other: (( ..cf.cloud_controller.system_domain.value ))
      name: (( .deployment_name ))
  - {name: smoke, release: rel}
- name: tests
  resource_label: Tests
  errand: true
  max_in_flight: 1
  templates:
  - {name: tests, release: rel}
post_deploy_errands:
- name: tests
- name: smoke
  colocated: true
  instances: [web/first]
pre_delete_errands:
- name: tests
runtime_configs:
- name: rc
  runtime_config: |
    addons:
    - name: a
      properties: {x: (( .properties.greeting.value ))}
"#;

fn findings(text: &str) -> Vec<Finding> {
    lint_yaml(text)
}

/// Replaces `from` (which must occur) in GOOD and lints the result.
fn broken(from: &str, to: &str) -> Vec<Finding> {
    assert!(GOOD.contains(from), "fixture text `{from}` not found");
    findings(&GOOD.replacen(from, to, 1))
}

fn assert_fires(found: &[Finding], rule: &str, severity: Severity, path: &str) {
    assert!(
        found
            .iter()
            .any(|f| f.rule == rule && f.severity == severity && f.path == path),
        "expected {severity:?} {rule} at {path}, got {found:#?}"
    );
}

#[test]
fn good_tile_is_clean() {
    let found = findings(GOOD);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn fixtures_have_no_errors() {
    for (name, text) in [("pks", PKS), ("example", EXAMPLE)] {
        let found = findings(text);
        let errors: Vec<_> = found
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn form_reference_resolves() {
    let f = broken(
        "reference: .properties.greeting",
        "reference: .properties.nope",
    );
    assert_fires(
        &f,
        rules::FORM_REFERENCE,
        Severity::Error,
        "form_types[0].property_inputs[0].reference",
    );
    let f = broken("reference: .web.port", "reference: .nojob.port");
    assert_fires(
        &f,
        rules::FORM_REFERENCE,
        Severity::Error,
        "form_types[0].property_inputs[1].reference",
    );
    // Ops Manager imports a selector input naming no option and leaves it out of the form.
    let f = broken(
        "reference: .properties.mode.on_option\n",
        "reference: .properties.mode.missing\n",
    );
    assert_fires(
        &f,
        rules::FORM_REFERENCE,
        Severity::Warning,
        "form_types[0].property_inputs[2].selector_property_inputs[1].reference",
    );
    assert!(!has_errors(&f), "{f:#?}");
    let f = broken(
        "reference: .properties.mode.on_option.level",
        "reference: .properties.mode.on_option.nope",
    );
    assert_fires(
        &f,
        rules::FORM_REFERENCE,
        Severity::Error,
        "form_types[0].property_inputs[2].selector_property_inputs[1].property_inputs[0].reference",
    );
    let f = broken(
        "{reference: title, label: Title}",
        "{reference: author, label: Title}",
    );
    assert_fires(
        &f,
        rules::FORM_REFERENCE,
        Severity::Error,
        "form_types[0].property_inputs[3].property_inputs[0].reference",
    );
}

#[test]
fn selector_default_names_a_select_value() {
    // Ops Manager imports a default naming no option; the selector starts unset.
    let f = broken("default: 'No'", "default: Maybe");
    assert_fires(
        &f,
        rules::SELECTOR_DEFAULT,
        Severity::Warning,
        "property_blueprints[3].default",
    );
    assert!(!has_errors(&f), "{f:#?}");
    // unquoted No is the boolean false: a warning that explains YAML 1.1
    let f = broken("default: 'No'", "default: No");
    assert_fires(
        &f,
        rules::SELECTOR_DEFAULT,
        Severity::Warning,
        "property_blueprints[3].default",
    );
    // an option name instead of a select_value is tolerated by Ops Manager
    let f = broken("default: 'No'", "default: off_option");
    assert_fires(
        &f,
        rules::SELECTOR_DEFAULT,
        Severity::Warning,
        "property_blueprints[3].default",
    );
    assert!(!has_errors(&f));
}

#[test]
fn selector_options_declare_same_named_manifests() {
    let f = broken(
        "    - name: snippet\n      manifest: |\n        enabled: false\n",
        "",
    );
    assert_fires(
        &f,
        rules::SELECTOR_NAMED_MANIFESTS,
        Severity::Warning,
        "property_blueprints[3].option_templates[0].named_manifests",
    );
}

#[test]
fn errands_exist() {
    let f = broken(
        "post_deploy_errands:\n- name: tests",
        "post_deploy_errands:\n- name: nope",
    );
    assert_fires(
        &f,
        rules::ERRAND_EXISTS,
        Severity::Error,
        "post_deploy_errands[0].name",
    );
    let f = broken("  errand: true\n", "");
    assert_fires(
        &f,
        rules::ERRAND_EXISTS,
        Severity::Error,
        "post_deploy_errands[0].name",
    );
    assert_fires(
        &f,
        rules::ERRAND_EXISTS,
        Severity::Error,
        "pre_delete_errands[0].name",
    );
    let f = broken("- name: smoke\n  colocated", "- name: smokey\n  colocated");
    assert_fires(
        &f,
        rules::ERRAND_EXISTS,
        Severity::Error,
        "post_deploy_errands[1].name",
    );
    let f = broken("instances: [web/first]", "instances: [tests/first]");
    assert_fires(
        &f,
        rules::ERRAND_EXISTS,
        Severity::Error,
        "post_deploy_errands[1].instances[0]",
    );
}

#[test]
fn templates_name_declared_releases() {
    let f = broken(
        "{name: smoke, release: rel}",
        "{name: smoke, release: other}",
    );
    assert_fires(
        &f,
        rules::TEMPLATE_RELEASE,
        Severity::Error,
        "job_types[0].templates[1].release",
    );
    let f = broken("{name: smoke, release: rel}", "{name: smoke}");
    assert_fires(
        &f,
        rules::TEMPLATE_RELEASE,
        Severity::Error,
        "job_types[0].templates[1].release",
    );
}

#[test]
fn expression_syntax() {
    let f = broken(
        "count: (( .properties.count.value ))",
        "count: (( .properties.count.value )",
    );
    assert_fires(
        &f,
        rules::EXPRESSION_SYNTAX,
        Severity::Error,
        "job_types[0].templates[0].manifest",
    );
    let f = broken(
        "password: ((( db-password )))",
        "password: ((( db-password ))",
    );
    assert_fires(
        &f,
        rules::EXPRESSION_SYNTAX,
        Severity::Error,
        "job_types[0].templates[0].manifest",
    );
    let f = broken("count: (( .properties.count.value ))", "count: (( 'open ))");
    assert_fires(
        &f,
        rules::EXPRESSION_SYNTAX,
        Severity::Error,
        "job_types[0].templates[0].manifest",
    );
    let f = broken("count: (( .properties.count.value ))", "count: ((  ))");
    assert_fires(
        &f,
        rules::EXPRESSION_SYNTAX,
        Severity::Error,
        "job_types[0].templates[0].manifest",
    );
}

#[test]
fn expression_references_resolve() {
    let path = "job_types[0].templates[0].manifest";
    for (from, to) in [
        (".properties.count.value", ".properties.counter.value"),
        ("(( port.value ))", "(( nope.value ))"),
        ("parsed_manifest(snippet)", "parsed_manifest(snipet)"),
        ("parsed_manifest(entry)", "parsed_manifest(entries)"),
        ("(( .deployment_name ))", "(( .nojob.x.value ))"),
        ("(( .deployment_name ))", "(( .web.nope.value ))"),
        (
            "(( .deployment_name ))",
            "(( ..small.properties.nope.value ))",
        ),
        (
            "(( .deployment_name ))",
            "(( .properties.mode.on_option.nope.value ))",
        ),
        ("(( .deployment_name ))", "(( current_record.title.value ))"),
    ] {
        let f = broken(from, to);
        assert_fires(&f, rules::EXPRESSION_REFERENCE, Severity::Error, path);
    }
    let f = broken(
        "(( current_record.title.value ))",
        "(( current_record.author.value ))",
    );
    assert_fires(
        &f,
        rules::EXPRESSION_REFERENCE,
        Severity::Error,
        "property_blueprints[4].named_manifests[0].manifest",
    );
    let f = broken(
        ".properties.mode.on_option.level.value",
        ".properties.mode.on_option.lvl.value",
    );
    assert_fires(
        &f,
        rules::EXPRESSION_REFERENCE,
        Severity::Error,
        "property_blueprints[3].option_templates[1].named_manifests[0].manifest",
    );
    let f = broken(
        "x: (( .properties.greeting.value ))",
        "x: (( .properties.greet.value ))",
    );
    assert_fires(
        &f,
        rules::EXPRESSION_REFERENCE,
        Severity::Error,
        "runtime_configs[0].runtime_config",
    );
    let f = broken("(( $director.hostname", "(( $directr.hostname");
    assert_fires(&f, rules::EXPRESSION_REFERENCE, Severity::Warning, path);
}

#[test]
fn integer_constraints_are_consistent() {
    let f = broken(
        "constraints: {min: 1, max: 5}",
        "constraints: {min: 6, max: 5}",
    );
    assert_fires(
        &f,
        rules::INTEGER_CONSTRAINTS,
        Severity::Error,
        "property_blueprints[1].constraints",
    );
    let f = broken("default: 3\n", "default: 9\n");
    assert_fires(
        &f,
        rules::INTEGER_CONSTRAINTS,
        Severity::Error,
        "property_blueprints[1].default",
    );
    let f = broken("default: 3\n", "default: 0\n");
    assert_fires(
        &f,
        rules::INTEGER_CONSTRAINTS,
        Severity::Error,
        "property_blueprints[1].default",
    );
    let f = broken("constraints: {min: 1, max: 5}", "constraints: {modulo: 2}");
    assert_fires(
        &f,
        rules::INTEGER_CONSTRAINTS,
        Severity::Error,
        "property_blueprints[1].default",
    );
    let f = broken("constraints: {min: 1, max: 5}", "constraints: {modulo: 0}");
    assert_fires(
        &f,
        rules::INTEGER_CONSTRAINTS,
        Severity::Error,
        "property_blueprints[1].constraints",
    );
    let f = broken(
        "constraints: {min: 1, max: 5}",
        "constraints: {power_of_two: true}",
    );
    assert_fires(
        &f,
        rules::INTEGER_CONSTRAINTS,
        Severity::Error,
        "property_blueprints[1].default",
    );
    let f = broken("default: 3\n", "default: 4\n  constraints_: x\n");
    assert!(!has_errors(&f), "{f:#?}");
    let f = broken(
        "constraints: {min: 1, max: 5}",
        "constraints: {may_only_be_odd_or_zero: true}",
    );
    assert!(!has_errors(&f));
    let f = broken("default: 3\n", "default: lots\n");
    assert_fires(
        &f,
        rules::INTEGER_CONSTRAINTS,
        Severity::Error,
        "property_blueprints[1].default",
    );
    // instance_definition and resource_definitions
    let f = broken(
        "    default: 1\n    constraints: {min: 0, max: 3}",
        "    default: 4\n    constraints: {min: 0, max: 3}",
    );
    assert_fires(
        &f,
        rules::INTEGER_CONSTRAINTS,
        Severity::Error,
        "job_types[0].instance_definition.default",
    );
    let f = broken(
        "default: 1024, constraints: {min: 512}",
        "default: 256, constraints: {min: 512}",
    );
    assert_fires(
        &f,
        rules::INTEGER_CONSTRAINTS,
        Severity::Error,
        "job_types[0].resource_definitions[0].default",
    );
}

#[test]
fn option_defaults_are_options() {
    // Tolerated as Ops Manager tolerates them (`default: non-existant-value` is seen in real
    // tiles): a warning, and the property starts unset.
    let f = broken("default: red", "default: green");
    assert_fires(
        &f,
        rules::OPTIONS_DEFAULT,
        Severity::Warning,
        "property_blueprints[2].default",
    );
    assert!(!has_errors(&f), "{f:#?}");
    let f = broken(
        "type: dropdown_select\n  configurable: true\n  default: red",
        "type: multi_select_options\n  configurable: true\n  default: [red, pink]",
    );
    assert_fires(
        &f,
        rules::OPTIONS_DEFAULT,
        Severity::Warning,
        "property_blueprints[2].default",
    );
    let f = broken(
        "  options:\n  - {name: red, label: Red}\n  - {name: blue, label: Blue}\n",
        "",
    );
    assert_fires(
        &f,
        rules::OPTIONS_DEFAULT,
        Severity::Error,
        "property_blueprints[2].options",
    );
}

#[test]
fn duplicate_names() {
    let f = broken("- name: count\n", "- name: greeting\n");
    assert_fires(
        &f,
        rules::DUPLICATE_NAME,
        Severity::Error,
        "property_blueprints[1].name",
    );
    let f = broken(
        "- name: tests\n  resource_label",
        "- name: web\n  resource_label",
    );
    assert_fires(
        &f,
        rules::DUPLICATE_NAME,
        Severity::Error,
        "job_types[1].name",
    );
    let f = broken(
        "form_types:\n- name: main",
        "form_types:\n- name: other\n  label: O\n  property_inputs: []\n- name: other",
    );
    assert_fires(
        &f,
        rules::DUPLICATE_NAME,
        Severity::Error,
        "form_types[1].name",
    );
    let f = broken("  - name: on_option", "  - name: off_option");
    assert_fires(
        &f,
        rules::DUPLICATE_NAME,
        Severity::Error,
        "property_blueprints[3].option_templates[1].name",
    );
}

#[test]
fn required_keys_label_rank_stemcell() {
    let f = broken("name: small\n", "");
    assert_fires(&f, rules::REQUIRED_KEY, Severity::Error, "name");
    let f = broken("product_version: 1.0.0\n", "");
    assert_fires(&f, rules::REQUIRED_KEY, Severity::Error, "product_version");
    let f = broken("metadata_version: \"2.5\"\n", "");
    assert_fires(&f, rules::REQUIRED_KEY, Severity::Error, "metadata_version");
    let f = broken("icon_image: aWNvbg==\n", "");
    assert_fires(&f, rules::REQUIRED_KEY, Severity::Warning, "icon_image");
    let f = broken("label: Small\n", "");
    assert_fires(&f, rules::LABEL_AND_RANK, Severity::Warning, "label");
    let f = broken("rank: 5\n", "");
    assert_fires(&f, rules::LABEL_AND_RANK, Severity::Warning, "rank");
    let f = broken(
        "stemcell_criteria: {os: ubuntu-jammy, version: '1.10'}\n",
        "",
    );
    assert_fires(
        &f,
        rules::STEMCELL_CRITERIA,
        Severity::Error,
        "stemcell_criteria",
    );
    let f = broken("version: '1.10'}", "version: ''}");
    assert_fires(
        &f,
        rules::STEMCELL_CRITERIA,
        Severity::Error,
        "stemcell_criteria.version",
    );
}

#[test]
fn unknown_type_is_a_warning() {
    let f = broken(
        "type: string\n  configurable: true\n  default: hi",
        "type: fancy_string\n  configurable: true\n  default: hi",
    );
    assert_fires(
        &f,
        rules::UNKNOWN_TYPE,
        Severity::Warning,
        "property_blueprints[0].type",
    );
    assert!(!has_errors(&f));
}

#[test]
fn a_regex_tileworks_cannot_run_is_a_warning_naming_the_constraint() {
    let f = broken(
        "- name: greeting\n  type: string\n  configurable: true\n  default: hi",
        "- name: greeting\n  type: string\n  configurable: true\n  default: hi\n  constraints:\n  - must_match_regex: '\\A[a-z]+\\z'\n  - must_match_regex: '\\A(?!admin)\\w+\\z'\n    error_message: Not admin",
    );
    assert_fires(
        &f,
        rules::REGEX,
        Severity::Warning,
        "property_blueprints[0].constraints[1].must_match_regex",
    );
    let regex: Vec<_> = f.iter().filter(|f| f.rule == rules::REGEX).collect();
    assert_eq!(regex.len(), 1, "only the look-ahead: {regex:#?}");
    assert!(regex[0].message.contains("`greeting`"), "{regex:#?}");
    assert!(!has_errors(&f));
}

#[test]
fn zero_if_and_max_in_flight() {
    let f = broken("property_value: 'No'", "property_value: 'Nope'");
    assert_fires(
        &f,
        rules::ZERO_IF,
        Severity::Error,
        "job_types[0].instance_definition.zero_if.property_values",
    );
    let f = broken(
        "property_reference: .properties.mode",
        "property_reference: .properties.moda",
    );
    assert_fires(
        &f,
        rules::ZERO_IF,
        Severity::Error,
        "job_types[0].instance_definition.zero_if.property_reference",
    );
    let f = broken(
        "  max_in_flight: 1\n  single_az_only",
        "  max_in_flight: lots\n  single_az_only",
    );
    assert_fires(
        &f,
        rules::MAX_IN_FLIGHT,
        Severity::Error,
        "job_types[0].max_in_flight",
    );
}

#[test]
fn reserved_name() {
    let f = broken("- name: greeting\n", "- name: current_record\n");
    assert_fires(
        &f,
        rules::RESERVED_NAME,
        Severity::Error,
        "property_blueprints[0].name",
    );
}

#[test]
fn unreadable_and_misshapen_text_become_findings() {
    let f = findings("a: [1, 2\n");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule, rules::YAML);
    let f = findings("job_types: {a: 1}\n");
    assert_eq!(f[0].rule, rules::SHAPE);
    assert_eq!(f[0].path, "job_types");
}

#[test]
fn scanner_handles_quotes_and_placeholders() {
    let (found, problems) =
        find_expressions("a: \"(( .p.x.value ? '((/services/tls_ca.certificate))' : '' ))\" b: prefix-((( pw )))-suffix");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(found.len(), 2);
    assert!(!found[0].bosh_placeholder);
    assert!(found[1].bosh_placeholder);
    assert_eq!(found[1].body, " pw ");
    let refs = expression_references(&found[0].body);
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].path, ".p.x.value");
    let refs = expression_references(
        " x.value_present? ? y.value : .properties.s.selected_option.parsed_manifest( n ) ",
    );
    let paths: Vec<_> = refs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "x.value_present?",
            "y.value",
            ".properties.s.selected_option.parsed_manifest"
        ]
    );
    assert_eq!(refs[2].argument.as_deref(), Some("n"));
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Text built from YAML's structural characters and metadata words.
        #[test]
        fn yamlish_text(text in r"([ \n\-:\[\]{},&*!|>'\x22#%@`?<]|name|type|selector|collection|option_templates|property_blueprints|job_types|form_types|property_inputs|reference|\.properties\.x|\(\(|\)\)|on|8_192|1\.10|[a-z0-9]){0,300}") {
            let _ = crate::metadata::ProductTemplate::from_yaml(&text);
            let _ = lint_yaml(&text);
        }

        /// The good tile with a random slice replaced by random YAML-ish text.
        #[test]
        fn mutated_tile(at in 0usize..GOOD.len(), len in 0usize..40, insert in r"[ \n\-:\[\]{}a-z0-9().'*&]{0,20}") {
            let mut text = GOOD.to_string();
            let start = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let end = (start + len).min(text.len());
            let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            text.replace_range(start..end, &insert);
            let _ = lint_yaml(&text);
            if let Ok(t) = crate::metadata::ProductTemplate::from_yaml(&text) {
                let _ = crate::forms::FormTree::build(&t).render_text();
            }
        }

        /// Random values survive the emitter and the loader unchanged.
        #[test]
        fn emitter_round_trip(v in arb_value()) {
            let text = crate::yaml::to_yaml_string(&v);
            let back = crate::yaml::load(&text);
            prop_assert_eq!(back, Ok(v), "emitted:\n{}", text);
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1.0e9f64..1.0e9).prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            r"(on|off|y|n|~|null|1\.10|8_192|0x1f|0755|- a|a: b|#c|1:30|\.inf|  x|x\n|\n\ny\n)"
                .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..5)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }
}

#[test]
fn product_version_requirements_must_parse() {
    let readable = broken(
        "releases:\n",
        "requires_product_versions:\n- {name: cf, version: '~> 2.4'}\n- {name: mysql, version: '>= 1.12, < 2', optional: true}\nreleases:\n",
    );
    assert!(readable.is_empty(), "{readable:#?}");
    let f = broken(
        "releases:\n",
        "requires_product_versions:\n- {name: cf, version: '~> 2.4'}\n- {name: mysql, version: newest}\nreleases:\n",
    );
    assert_fires(
        &f,
        rules::PRODUCT_VERSION_REQUIREMENT,
        Severity::Error,
        "requires_product_versions[1].version",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
}

#[test]
fn earlier_formats_ops_manager_accepts_are_read_and_warned_about() {
    // `stemcell:` instead of `stemcell_criteria`, a verifier's properties as a list of names,
    // `.NAME` form references, and a quoted scalar indented less than its key.
    let text = GOOD
        .replacen(
            "stemcell_criteria: {os: ubuntu-jammy, version: '1.10'}\n",
            "stemcell:\n  name: bosh-vsphere-esxi-ubuntu-trusty-go_agent\n  version: '3586.26'\n  file: s.tgz\n",
            1,
        )
        .replacen("reference: .properties.greeting", "reference: .greeting", 1)
        .replacen(
            "form_types:",
            "install_time_verifiers:\n- name: Verifiers::SsoUrlVerifier\n  properties:\n  - saml_login.sso_url\nform_types:",
            1,
        )
        .replacen("label: Small", "label: \"Small\ntile\"", 1);
    assert_ne!(text, GOOD);
    let f = findings(&text);
    assert!(!has_errors(&f), "{f:#?}");
    assert_fires(&f, rules::STEMCELL_CRITERIA, Severity::Warning, "stemcell");
    assert_fires(
        &f,
        rules::SHAPE,
        Severity::Warning,
        "install_time_verifiers[0].properties",
    );
    assert_fires(
        &f,
        rules::FORM_REFERENCE,
        Severity::Warning,
        "form_types[0].property_inputs[0].reference",
    );
    assert!(f
        .iter()
        .any(|x| x.rule == rules::YAML && x.severity == Severity::Warning));
    let t = crate::metadata::ProductTemplate::from_yaml(&text).unwrap();
    let c = t.stemcell_criteria.as_ref().unwrap();
    assert_eq!(
        (c.os.as_str(), c.version.as_str()),
        ("ubuntu-trusty", "3586.26")
    );
    assert_eq!(
        t.property(".greeting").unwrap().reference,
        ".properties.greeting"
    );
}

/// The one finding of `rule` at `path`.
fn the<'a>(found: &'a [Finding], rule: &str, path: &str) -> &'a Finding {
    let matching: Vec<&Finding> = found
        .iter()
        .filter(|f| f.rule == rule && f.path == path)
        .collect();
    assert_eq!(matching.len(), 1, "one {rule} at {path}: {found:#?}");
    matching[0]
}

/// Line and column (from 1) of the first occurrence of `needle` in `text`.
fn where_is(text: &str, needle: &str) -> (usize, usize) {
    let byte = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in text"));
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

#[test]
fn findings_carry_the_line_and_column_of_their_key() {
    let text = GOOD.replacen(
        "reference: .properties.mode.on_option.level",
        "reference: .properties.mode.on_option.levle",
        1,
    );
    let found = findings(&text);
    let f = the(
        &found,
        rules::FORM_REFERENCE,
        "form_types[0].property_inputs[2].selector_property_inputs[1].property_inputs[0].reference",
    );
    // `- {reference: …}`: the key inside the flow map.
    let (line, column) = where_is(&text, "reference: .properties.mode.on_option.levle");
    assert_eq!((f.line, f.column), (Some(line), Some(column)));

    // A key of a block map, and a list item's key.
    let text = GOOD.replacen("release: rel\n    manifest", "release: rl\n    manifest", 1);
    let found = findings(&text);
    let f = the(
        &found,
        rules::TEMPLATE_RELEASE,
        "job_types[0].templates[0].release",
    );
    let (line, column) = where_is(&text, "release: rl");
    assert_eq!((f.line, f.column), (Some(line), Some(column)));
}

#[test]
fn findings_inside_a_manifest_name_the_line_of_the_expression() {
    let text = GOOD.replacen(
        "count: (( .properties.count.value ))",
        "count: (( .properties.cuont.value ))",
        1,
    );
    let found = findings(&text);
    let f = the(
        &found,
        rules::EXPRESSION_REFERENCE,
        "job_types[0].templates[0].manifest",
    );
    let (line, column) = where_is(&text, "(( .properties.cuont.value ))");
    assert_eq!((f.line, f.column), (Some(line), Some(column)));
    assert_eq!(f.suggestion.as_deref(), Some(".properties.count.value"));
    assert!(
        f.message
            .ends_with("; did you mean `.properties.count.value`?"),
        "{}",
        f.message
    );
    // The JSON of a finding has them too.
    let json = serde_json::to_value(f).unwrap();
    assert_eq!(json["line"], line);
    assert_eq!(json["column"], column);
    assert_eq!(json["suggestion"], ".properties.count.value");
}

#[test]
fn unreadable_yaml_names_its_line() {
    let found = findings("name: x\nform_types: [\n  - a\nrank: {\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].rule, rules::YAML);
    assert!(
        found[0].line.is_some() && found[0].column.is_some(),
        "{found:#?}"
    );
}

#[test]
fn near_misses_get_a_suggestion() {
    // (text in GOOD, replacement, rule, path, suggestion)
    let manifest = "job_types[0].templates[0].manifest";
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // Form inputs: a property, a selector option, a collection's sub-property.
        (
            "reference: .properties.greeting",
            "reference: .properties.greting",
            rules::FORM_REFERENCE,
            "form_types[0].property_inputs[0].reference",
            ".properties.greeting",
        ),
        (
            "reference: .web.port",
            "reference: .wbe.port",
            rules::FORM_REFERENCE,
            "form_types[0].property_inputs[1].reference",
            ".web.port",
        ),
        (
            "reference: .properties.mode.on_option\n",
            "reference: .properties.mode.on_optoin\n",
            rules::FORM_REFERENCE,
            "form_types[0].property_inputs[2].selector_property_inputs[1].reference",
            ".properties.mode.on_option",
        ),
        (
            "{reference: title, label: Title}",
            "{reference: titel, label: Title}",
            rules::FORM_REFERENCE,
            "form_types[0].property_inputs[3].property_inputs[0].reference",
            "title",
        ),
        // `(( ))` references: product property, job-local property, job type, accessor,
        // selector option, option sub-property, named manifests, `$` context.
        (
            ".properties.count.value",
            ".properties.conut.value",
            rules::EXPRESSION_REFERENCE,
            manifest,
            ".properties.count.value",
        ),
        (
            "(( port.value ))",
            "(( prot.value ))",
            rules::EXPRESSION_REFERENCE,
            manifest,
            "port.value",
        ),
        (
            "(( .deployment_name ))",
            "(( .wbe.port.value ))",
            rules::EXPRESSION_REFERENCE,
            manifest,
            ".web.port.value",
        ),
        (
            "count: (( .properties.count.value ))",
            "count: (( .properties.count.valeu ))",
            rules::EXPRESSION_REFERENCE,
            manifest,
            ".properties.count.value",
        ),
        (
            "(( .deployment_name ))",
            "(( .properties.mode.on_optio.level.value ))",
            rules::EXPRESSION_REFERENCE,
            manifest,
            ".properties.mode.on_option.level.value",
        ),
        (
            "(( .deployment_name ))",
            "(( .properties.mode.on_option.levl.value ))",
            rules::EXPRESSION_REFERENCE,
            manifest,
            ".properties.mode.on_option.level.value",
        ),
        (
            "parsed_manifest(snippet)",
            "parsed_manifest(snipet)",
            rules::EXPRESSION_REFERENCE,
            manifest,
            "parsed_manifest(snippet)",
        ),
        (
            "parsed_manifest(entry)",
            "parsed_manifest(entyr)",
            rules::EXPRESSION_REFERENCE,
            manifest,
            "parsed_manifest(entry)",
        ),
        (
            "(( $director.hostname",
            "(( $directr.hostname",
            rules::EXPRESSION_REFERENCE,
            manifest,
            "$director.hostname",
        ),
        // Releases, errands, defaults, zero_if.
        (
            "release: rel\n    manifest",
            "release: rle\n    manifest",
            rules::TEMPLATE_RELEASE,
            "job_types[0].templates[0].release",
            "rel",
        ),
        (
            "post_deploy_errands:\n- name: tests",
            "post_deploy_errands:\n- name: test",
            rules::ERRAND_EXISTS,
            "post_deploy_errands[0].name",
            "tests",
        ),
        (
            "- name: smoke\n  colocated: true",
            "- name: smok\n  colocated: true",
            rules::ERRAND_EXISTS,
            "post_deploy_errands[1].name",
            "smoke",
        ),
        (
            "default: red",
            "default: rde",
            rules::OPTIONS_DEFAULT,
            "property_blueprints[2].default",
            "red",
        ),
        (
            "property_reference: .properties.mode",
            "property_reference: .properties.moed",
            rules::ZERO_IF,
            "job_types[0].instance_definition.zero_if.property_reference",
            ".properties.mode",
        ),
    ];
    for (from, to, rule, path, suggestion) in cases {
        let found = broken(from, to);
        let f = the(&found, rule, path);
        assert_eq!(f.suggestion.as_deref(), Some(*suggestion), "{to}: {f:#?}");
        assert!(
            f.message.contains(&format!("did you mean `{suggestion}`?")),
            "{to}: {}",
            f.message
        );
        assert!(f.line.is_some(), "{to}: located: {f:#?}");
    }
    // Nothing near: no suggestion.
    let found = broken(
        "reference: .properties.greeting",
        "reference: .properties.unrelated_name",
    );
    let f = the(
        &found,
        rules::FORM_REFERENCE,
        "form_types[0].property_inputs[0].reference",
    );
    assert_eq!(f.suggestion, None);
    assert!(!f.message.contains("did you mean"), "{}", f.message);
}

#[test]
fn a_cross_product_reference_near_a_required_product_is_a_warning() {
    let text = GOOD.replacen(
        "releases:\n",
        "requires_product_versions:\n- {name: cf, version: '~> 2.0'}\nreleases:\n",
        1,
    );
    assert!(findings(&text).is_empty(), "{:#?}", findings(&text));
    let text = text.replacen("(( ..cf.cloud", "(( ..cff.cloud", 1);
    let found = findings(&text);
    let f = the(
        &found,
        rules::EXPRESSION_REFERENCE,
        "job_types[0].templates[0].manifest",
    );
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(
        f.suggestion.as_deref(),
        Some("..cf.cloud_controller.system_domain.value")
    );
}

#[test]
fn job_spec_findings_are_located_at_the_manifest_key() {
    let text = GOOD.replacen("count: (( .properties", "cuont: (( .properties", 1);
    let specs = crate::job_specs::JobSpecs::from_summary(
        "releases:\n- name: rel\n  version: 1.2.3\n  jobs:\n    server: [greeting, count, mode, albums, host, password, instances, other, name]\n    smoke: []\n    tests: []\n",
    )
    .unwrap();
    let found = lint_yaml_with(&text, |t| lint_job_specs(t, &specs));
    let f = the(
        &found,
        rules::JOB_SPEC_PROPERTY,
        "job_types[0].templates[0].manifest.cuont",
    );
    let (line, column) = where_is(&text, "cuont:");
    assert_eq!((f.line, f.column), (Some(line), Some(column)));
    assert_eq!(f.suggestion.as_deref(), Some("count"));
}
