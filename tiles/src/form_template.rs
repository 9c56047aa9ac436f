//! The part of a product template one settings page needs.
//!
//! The settings page validates as the operator types, in the browser, with the same code the
//! server runs ([`crate::validate::validate_form`]) and draws the form from a
//! [`FormTree`](crate::forms::FormTree). Both need a [`ProductTemplate`], but not the whole tile:
//! a real tile's metadata is mostly job templates, manifests, releases and the icon (PKS 1.1.3:
//! 169 KB of YAML), none of which a form reads. [`for_form`] cuts the template down to what one
//! form reads, so that a page carries kilobytes instead.
//!
//! What a form page reads, and so what is kept:
//! - every form type's `name`, `label` and `description` (the page's navigation lists them all);
//! - the shown form whole (its inputs, selector option inputs, collection record inputs,
//!   markdown);
//! - every top-level blueprint an input of the form resolves to — product-level
//!   (`.properties.X`) or job-level (`.JOB.X`, under a job type that keeps only its name and
//!   those blueprints) — whole: selector options with all their sub-blueprints (validation
//!   checks every sub-property of the selected option, shown or not), collection
//!   sub-blueprints, defaults, conditional defaults, constraints, options, resource
//!   definitions (the VM/disk type dropdowns' minima);
//! - the product's identity (`name`, `label`, versions).
//!
//! Everything else is left out: other forms' inputs and verifiers, blueprints no input of the
//! form reaches, job types' templates, manifests, sizing, releases, variables, errands, runtime
//! configs, and the `named_manifests` of kept blueprints (manifest snippets with `(( ))`
//! expressions, read only when a manifest is rendered — validation evaluates no expression).
//!
//! The guarantee, checked by the tests below on real tiles: for the chosen form,
//! `validate_form` on the cut template gives exactly the findings it gives on the full one,
//! whatever the staged values, and `FormTree` builds the same form. `for_form(t, None)` keeps
//! only the navigation (the product's placement sections need no property metadata).

use std::collections::{BTreeMap, BTreeSet};

use crate::metadata::{
    BlueprintKind, FormType, InputKind, JobType, ProductTemplate, PropertyBlueprint, PropertyInput,
    PropertyScope,
};

/// The template cut down to what the page of form `form` reads (see the module doc); with
/// `None`, or a name the template has no form for, only the forms' names, labels and
/// descriptions remain. The form is found as [`ProductTemplate::form_type`] finds it (the first
/// of that name).
pub fn for_form(template: &ProductTemplate, form: Option<&str>) -> ProductTemplate {
    let chosen = form.and_then(|name| template.form_type(name));
    let form_types = template
        .form_types
        .iter()
        .map(|f| match chosen {
            Some(c) if std::ptr::eq(c, f) => FormType {
                // Verifiers run on the server when the form is saved, never in the page.
                verifiers: Vec::new(),
                ..f.clone()
            },
            _ => FormType {
                name: f.name.clone(),
                label: f.label.clone(),
                description: f.description.clone(),
                markdown: None,
                property_inputs: Vec::new(),
                verifiers: Vec::new(),
            },
        })
        .collect();

    // The top-level blueprints the form's inputs resolve to, by scope: product-level names,
    // and per job type name the names of its blueprints.
    let mut product_names = BTreeSet::new();
    let mut job_names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Some(form) = chosen {
        let mut references = Vec::new();
        input_references(&form.property_inputs, &mut references);
        for reference in references {
            let Some(found) = template.property(reference) else {
                continue;
            };
            // The canonical reference is `.HEAD.NAME[.OPTION.SUB]`: NAME is the top blueprint.
            let Some(top) = found.reference.split('.').nth(2) else {
                continue;
            };
            match found.scope {
                PropertyScope::Product => {
                    product_names.insert(top.to_string());
                }
                PropertyScope::Job(job) => {
                    job_names
                        .entry(job.name.clone())
                        .or_default()
                        .insert(top.to_string());
                }
            }
        }
    }

    // Kept in metadata order, duplicates of a name included: validation walks the lists, so
    // the cut lists must hold the same entries in the same order for the same findings.
    let property_blueprints = template
        .property_blueprints
        .iter()
        .filter(|b| product_names.contains(&b.name))
        .map(without_manifests)
        .collect();
    let job_types = template
        .job_types
        .iter()
        .filter_map(|job| {
            let names = job_names.get(&job.name)?;
            Some(job_with(
                &job.name,
                job.property_blueprints
                    .iter()
                    .filter(|b| names.contains(&b.name))
                    .map(without_manifests)
                    .collect(),
            ))
        })
        .collect();

    ProductTemplate {
        name: template.name.clone(),
        product_version: template.product_version.clone(),
        metadata_version: template.metadata_version.clone(),
        minimum_version_for_upgrade: None,
        original_metadata_version: None,
        label: template.label.clone(),
        description: None,
        icon_image: None,
        deprecated_tile_image: None,
        rank: None,
        serial: None,
        service_broker: template.service_broker,
        opsmanager_syslog: false,
        supports_parallel_deploys: false,
        pivnet_filename_regex: None,
        base_releases_url: None,
        stemcell_criteria: None,
        additional_stemcells_criteria: Vec::new(),
        releases: Vec::new(),
        requires_product_versions: Vec::new(),
        provides_product_versions: Vec::new(),
        install_time_verifiers: Vec::new(),
        variables: Vec::new(),
        property_blueprints,
        form_types,
        job_types,
        post_deploy_errands: Vec::new(),
        pre_delete_errands: Vec::new(),
        runtime_configs: Vec::new(),
        update: None,
        lookup: Default::default(),
        parsed: Default::default(),
    }
}

/// Every reference an input list names, selector option inputs included. Collection record
/// inputs name sub-properties of their collection (bare names), which is kept whole anyway.
fn input_references<'a>(inputs: &'a [PropertyInput], out: &mut Vec<&'a str>) {
    for input in inputs {
        out.push(&input.reference);
        if let InputKind::Selector {
            selector_property_inputs,
        } = &input.kind
        {
            for option in selector_property_inputs {
                input_references(&option.property_inputs, out);
            }
        }
    }
}

/// A copy of a blueprint without the manifest snippets of its collection or selector options
/// (at any depth): only rendering reads them.
fn without_manifests(blueprint: &PropertyBlueprint) -> PropertyBlueprint {
    let kind = match &blueprint.kind {
        BlueprintKind::Simple => BlueprintKind::Simple,
        BlueprintKind::Selector { option_templates } => BlueprintKind::Selector {
            option_templates: option_templates
                .iter()
                .map(|o| crate::metadata::OptionTemplate {
                    name: o.name.clone(),
                    select_value: o.select_value.clone(),
                    label: o.label.clone(),
                    description: o.description.clone(),
                    named_manifests: Vec::new(),
                    property_blueprints: o
                        .property_blueprints
                        .iter()
                        .map(without_manifests)
                        .collect(),
                })
                .collect(),
        },
        BlueprintKind::Collection {
            property_blueprints,
            ..
        } => BlueprintKind::Collection {
            property_blueprints: property_blueprints.iter().map(without_manifests).collect(),
            named_manifests: Vec::new(),
        },
    };
    PropertyBlueprint {
        name: blueprint.name.clone(),
        property_type: blueprint.property_type.clone(),
        configurable: blueprint.configurable,
        optional: blueprint.optional,
        default: blueprint.default.clone(),
        conditional_default: blueprint.conditional_default.clone(),
        constraints: blueprint.constraints.clone(),
        options: blueprint.options.clone(),
        freeze_on_deploy: blueprint.freeze_on_deploy,
        unique: blueprint.unique,
        label: blueprint.label.clone(),
        description: blueprint.description.clone(),
        placeholder: blueprint.placeholder.clone(),
        resource_definitions: blueprint.resource_definitions.clone(),
        kind,
    }
}

/// A job type that only names itself and holds `blueprints` (its sizing, templates and
/// manifests concern Resource Config and rendering, not forms).
fn job_with(name: &str, blueprints: Vec<PropertyBlueprint>) -> JobType {
    JobType {
        name: name.to_string(),
        resource_label: None,
        label: None,
        description: None,
        templates: Vec::new(),
        release: None,
        manifest: None,
        static_ip: None,
        dynamic_ip: None,
        max_in_flight: None,
        canaries: None,
        serial: None,
        single_az_only: false,
        use_stemcell: None,
        default_internet_connected: None,
        errand: false,
        run_post_deploy_errand_default: None,
        run_pre_delete_errand_default: None,
        instance_definition: None,
        resource_definitions: Vec::new(),
        property_blueprints: blueprints,
        requires_product_versions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::FormTree;
    use crate::properties::staged::StagedValues;
    use crate::validate::{validate_form, ValidationContext, ValidationReport, VmType};
    use proptest::prelude::*;
    use serde_json::{json, Value};

    const PKS_113: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/tiles/pks-1.1.3.yml"
    ));
    const EXAMPLE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/tiles/example-product.yml"
    ));

    /// The real tiles the guarantee is checked on: both fixtures and the bundled PKS tile
    /// (loaded once for all tests and proptest cases).
    fn tiles() -> &'static [(&'static str, ProductTemplate)] {
        static TILES: std::sync::OnceLock<Vec<(&'static str, ProductTemplate)>> =
            std::sync::OnceLock::new();
        TILES.get_or_init(|| {
            [
                ("pks-1.1.3", PKS_113),
                ("example-product", EXAMPLE),
                ("bundled pks", crate::products::PKS_METADATA),
            ]
            .into_iter()
            .map(|(name, text)| (name, ProductTemplate::from_yaml(text).expect(name)))
            .collect()
        })
    }

    fn vm_types() -> Vec<VmType> {
        [
            ("micro", 1024, 1, 8192),
            ("medium", 4096, 2, 8192),
            ("xlarge", 16384, 4, 32768),
        ]
        .into_iter()
        .map(|(name, ram, cpu, ephemeral_disk)| VmType {
            name: name.into(),
            ram,
            cpu,
            ephemeral_disk,
        })
        .collect()
    }

    /// What the browser receives: the cut template through JSON.
    fn through_json(t: &ProductTemplate) -> ProductTemplate {
        let text = serde_json::to_string(t).expect("serializes");
        serde_json::from_str(&text).expect("deserializes")
    }

    /// Validates form `form` of the full template and of the cut one (through JSON, as the
    /// page gets it) with the same values and context; panics with both reports if they differ.
    fn assert_same_findings(
        tile: &str,
        full: &ProductTemplate,
        cut: &ProductTemplate,
        form: &str,
        staged: &StagedValues,
        ctx: &ValidationContext<'_>,
    ) -> ValidationReport {
        let expected = validate_form(full, form, staged, ctx);
        let got = validate_form(cut, form, staged, ctx);
        assert_eq!(got, expected, "{tile}, form {form}");
        expected
    }

    /// Every property reference of a template with one value for each (`None` leaves it
    /// unstaged): a value set to validate.
    fn staged_with(t: &ProductTemplate, value: impl Fn(&str) -> Option<Value>) -> StagedValues {
        let mut staged = StagedValues::default();
        for pref in t.property_refs() {
            if let Some(v) = value(&pref.reference) {
                staged.set(pref.reference.clone(), v);
            }
        }
        staged
    }

    /// Where `null`, `false` or an empty list is a field left at its default rather than data:
    /// anywhere but under the keys that hold tile values as written, and `false` but where it
    /// differs from absent (the `Option<bool>` fields).
    fn defaults_written(v: &Value, path: &str, found: &mut Vec<String>) {
        const DATA: [&str; 5] = ["default", "value", "properties", "update", "options"];
        const OPTIONAL_BOOLS: [&str; 7] = [
            "serial",
            "run_default",
            "requires_cpi",
            "enable_patch_security_updates",
            "default_internet_connected",
            "run_post_deploy_errand_default",
            "run_pre_delete_errand_default",
        ];
        let key = path.rsplit('.').next().unwrap_or_default();
        match v {
            Value::Bool(false) if OPTIONAL_BOOLS.contains(&key) => {}
            Value::Null | Value::Bool(false) => found.push(format!("{path}: {v}")),
            Value::Array(items) if items.is_empty() => found.push(format!("{path}: []")),
            Value::Object(map) if map.is_empty() => found.push(format!("{path}: {{}}")),
            Value::String(s) if s == "simple" => found.push(format!("{path}: \"simple\"")),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    defaults_written(item, &format!("{path}[{i}]"), found);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    if !DATA.contains(&key.as_str()) {
                        defaults_written(item, &format!("{path}.{key}"), found);
                    }
                }
            }
            _ => {}
        }
    }

    #[test]
    fn the_page_data_leaves_defaults_out_and_reads_back_whole() {
        for (tile, t) in tiles() {
            let mut found = Vec::new();
            defaults_written(
                &serde_json::to_value(t).expect("serializes"),
                "",
                &mut found,
            );
            assert!(found.is_empty(), "{tile}: defaults written out: {found:?}");
            assert_eq!(&through_json(t), t, "{tile}");
        }
    }

    #[test]
    fn keeps_every_form_in_the_navigation_and_only_the_chosen_forms_inputs() {
        for (tile, t) in tiles() {
            for form in &t.form_types {
                let cut = for_form(t, Some(&form.name));
                let names = |t: &ProductTemplate| -> Vec<(String, String, Option<String>)> {
                    t.form_types
                        .iter()
                        .map(|f| (f.name.clone(), f.label.clone(), f.description.clone()))
                        .collect()
                };
                assert_eq!(names(&cut), names(t), "{tile}");
                for other in cut.form_types.iter().filter(|f| f.name != form.name) {
                    assert!(other.property_inputs.is_empty(), "{tile}: {}", other.name);
                }
                let kept = cut.form_type(&form.name).expect("the form is kept");
                assert_eq!(kept.property_inputs, form.property_inputs, "{tile}");
                // Nothing the manifest or Resource Config needs travels with a form.
                assert!(cut.releases.is_empty() && cut.variables.is_empty());
                assert!(cut.icon_image.is_none() && cut.runtime_configs.is_empty());
                for job in &cut.job_types {
                    assert!(job.templates.is_empty() && job.manifest.is_none());
                    assert!(!job.property_blueprints.is_empty());
                }
                let used: usize = cut.property_blueprints.len()
                    + cut
                        .job_types
                        .iter()
                        .map(|j| j.property_blueprints.len())
                        .sum::<usize>();
                assert!(used <= form.property_inputs.len(), "{tile}: {}", form.name);
            }
        }
    }

    #[test]
    fn the_form_tree_draws_the_same_form() {
        for (tile, t) in tiles() {
            let full = FormTree::build(t);
            for form in &t.form_types {
                let cut = through_json(&for_form(t, Some(&form.name)));
                let tree = FormTree::build(&cut);
                assert_eq!(tree.form(&form.name), full.form(&form.name), "{tile}");
                assert_eq!(tree.product_name, full.product_name);
                assert_eq!(tree.product_label, full.product_label);
                let nav = |tree: &FormTree| -> Vec<(String, String)> {
                    tree.forms
                        .iter()
                        .map(|f| (f.name.clone(), f.label.clone()))
                        .collect()
                };
                assert_eq!(nav(&tree), nav(&full), "{tile}");
            }
        }
    }

    #[test]
    fn same_findings_for_defaults_and_deliberately_invalid_values() {
        let vm_types = vm_types();
        for (tile, t) in tiles() {
            let value_sets: Vec<(&str, StagedValues)> = vec![
                ("defaults", StagedValues::default()),
                ("all cleared", staged_with(t, |_| Some(Value::Null))),
                ("all blank", staged_with(t, |_| Some(json!("")))),
                ("all wrong type", staged_with(t, |_| Some(json!(true)))),
                ("all negative", staged_with(t, |_| Some(json!(-7)))),
                (
                    "all special characters",
                    staged_with(t, |_| Some(json!("!@# not valid $%^ ((x))"))),
                ),
                (
                    "duplicate records",
                    staged_with(t, |_| {
                        Some(json!([{"guid": "g", "name": "a"}, {"guid": "g", "name": "a"}]))
                    }),
                ),
            ];
            let deployed = staged_with(t, |_| Some(json!(5)));
            for form in &t.form_types {
                let cut = through_json(&for_form(t, Some(&form.name)));
                let mut failing = 0;
                for (_, staged) in &value_sets {
                    for ctx in [
                        ValidationContext::default(),
                        ValidationContext {
                            deployed: Some(&deployed),
                            present_products: &["p-redis".to_string()],
                            vm_types: &vm_types,
                        },
                    ] {
                        let report = assert_same_findings(tile, t, &cut, &form.name, staged, &ctx);
                        failing += usize::from(!report.is_valid());
                    }
                }
                // The invalid sets do find errors wherever the form has an input at all.
                if !FormTree::build(t)
                    .form(&form.name)
                    .is_none_or(|f| f.inputs.iter().all(|i| !i.configurable))
                {
                    assert!(failing > 0, "{tile}: {} found nothing", form.name);
                }
            }
        }
    }

    #[test]
    fn an_unknown_form_or_none_keeps_only_the_navigation() {
        for (tile, t) in tiles() {
            for cut in [for_form(t, None), for_form(t, Some("no-such-form"))] {
                assert_eq!(cut.form_types.len(), t.form_types.len(), "{tile}");
                assert!(cut.form_types.iter().all(|f| f.property_inputs.is_empty()));
                assert!(cut.property_blueprints.is_empty() && cut.job_types.is_empty());
                let staged = StagedValues::default();
                let ctx = ValidationContext::default();
                // Unknown to both: the same metadata problem.
                assert_same_findings(tile, t, &cut, "no-such-form", &staged, &ctx);
            }
        }
    }

    #[test]
    fn a_job_level_input_keeps_its_job_type_and_blueprint_only() {
        let t = ProductTemplate::from_yaml(
            r#"
name: p
product_version: "1"
metadata_version: "2.1"
icon_image: aWNvbg==
form_types:
- name: web
  label: Web
  property_inputs:
  - {reference: .web.port, label: Port}
- name: other
  label: Other
  property_inputs:
  - {reference: .properties.unrelated}
property_blueprints:
- {name: unrelated, type: string, configurable: true}
job_types:
- name: web
  templates: [{name: nginx, release: nginx, manifest: "port: (( .web.port.value ))"}]
  instance_definition: {name: instances, type: integer, configurable: true, default: 1}
  property_blueprints:
  - {name: port, type: port, configurable: true, default: 8080, constraints: {min: 1024}}
  - {name: hidden, type: string, configurable: true}
- name: db
  templates: []
  property_blueprints:
  - {name: port, type: port, configurable: true}
"#,
        )
        .unwrap();
        let cut = for_form(&t, Some("web"));
        assert!(cut.property_blueprints.is_empty());
        assert_eq!(cut.job_types.len(), 1);
        assert_eq!(cut.job_types[0].name, "web");
        let names: Vec<&str> = cut.job_types[0]
            .property_blueprints
            .iter()
            .map(|b| b.name.as_str())
            .collect();
        assert_eq!(names, ["port"]);
        assert!(cut.icon_image.is_none());
        let mut staged = StagedValues::default();
        staged.set(".web.port", json!(80));
        let report = assert_same_findings(
            "inline",
            &t,
            &cut,
            "web",
            &staged,
            &ValidationContext::default(),
        );
        assert_eq!(report.errors.len(), 1, "{report:?}");
    }

    #[test]
    fn collection_and_selector_manifests_are_left_out() {
        let t = ProductTemplate::from_yaml(crate::products::PKS_METADATA).unwrap();
        let plan1 = for_form(&t, Some("plan1"));
        let selector = plan1
            .product_blueprint("plan1_selector")
            .expect("the plan's selector is kept");
        assert!(!selector.option_templates().is_empty());
        assert!(selector
            .option_templates()
            .iter()
            .all(|o| o.named_manifests.is_empty()));
        let full = serde_json::to_string(&t).unwrap().len();
        let cut = serde_json::to_string(&plan1).unwrap().len();
        assert!(cut * 5 < full, "plan1: {cut} of {full} bytes");
    }

    /// Candidate values for any property: wrong and right shapes, every select value, option
    /// name and default of the tile, numbers around typical bounds.
    fn value_pool(t: &ProductTemplate) -> Vec<Value> {
        let mut pool = vec![
            Value::Null,
            json!(""),
            json!("  "),
            json!("plain text"),
            json!("!@#$"),
            json!("x".repeat(300)),
            json!("10.0.0.0/24"),
            json!("10.0.0.1"),
            json!("*.example.com"),
            json!("https://example.com"),
            json!("0 2 * * *"),
            json!("automatic"),
            json!("medium"),
            json!("xlarge"),
            json!("10240"),
            json!(0),
            json!(-1),
            json!(1),
            json!(3),
            json!(4),
            json!(1024),
            json!(65536),
            json!(true),
            json!(false),
            json!([]),
            json!(["a", "b"]),
            json!([{}]),
            json!([{"guid": "a"}, {"guid": "a"}]),
            json!({"secret": ""}),
            json!({"secret": "s3cret-value"}),
            json!({"identity": "admin", "password": "pw"}),
            json!({"cert_pem": "x", "private_key_pem": "y"}),
        ];
        for pref in t.property_refs() {
            let bp = pref.blueprint;
            if let Some(d) = &bp.default {
                pool.push(d.clone());
            }
            for o in bp.option_templates() {
                pool.push(json!(o.select_value));
                pool.push(json!(o.name));
            }
            for o in &bp.options {
                pool.push(o.name.clone());
            }
            for sub in bp.sub_blueprints() {
                if let Some(d) = &sub.default {
                    pool.push(json!([{ sub.name.clone(): d.clone() }]));
                }
            }
        }
        pool.dedup();
        pool
    }

    /// Random staged and deployed values over every property of a tile: (pool index + 1, or
    /// 0 for "not staged") per reference.
    fn assignments(refs: usize) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
        (
            proptest::collection::vec(0usize..64, refs),
            proptest::collection::vec(0usize..64, refs),
        )
    }

    fn pick(t: &ProductTemplate, pool: &[Value], choice: &[usize]) -> StagedValues {
        let mut staged = StagedValues::default();
        for (pref, &i) in t.property_refs().iter().zip(choice) {
            // About one reference in three stays unstaged (its default applies).
            if i % 3 != 0 {
                if let Some(v) = pool.get(i * 7 % pool.len().max(1)) {
                    staged.set(pref.reference.clone(), v.clone());
                }
            }
        }
        staged
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_values_give_the_same_findings_on_every_form(
            tile_index in 0usize..3,
            (staged_choice, deployed_choice) in assignments(400),
            with_deployed in any::<bool>(),
        ) {
            let (tile, t) = &tiles()[tile_index];
            let pool = value_pool(t);
            let staged = pick(t, &pool, &staged_choice);
            let deployed = pick(t, &pool, &deployed_choice);
            let vm_types = vm_types();
            let ctx = ValidationContext {
                deployed: with_deployed.then_some(&deployed),
                present_products: &[],
                vm_types: &vm_types,
            };
            for form in &t.form_types {
                let cut = for_form(t, Some(&form.name));
                prop_assert_eq!(
                    validate_form(&cut, &form.name, &staged, &ctx),
                    validate_form(t, &form.name, &staged, &ctx),
                    "{}, form {}", tile, form.name
                );
            }
        }
    }
}
