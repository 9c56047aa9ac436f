use super::*;
use crate::error::Error;

pub(crate) const PKS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/tiles/pks-1.1.3.yml"
));
pub(crate) const EXAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/tiles/example-product.yml"
));

#[test]
fn loads_pks() {
    let t = ProductTemplate::from_yaml(PKS).unwrap();
    assert_eq!(t.name, "pivotal-container-service");
    assert_eq!(t.product_version, "1.1.3-build.11");
    assert_eq!(t.metadata_version, "2.1");
    assert_eq!(t.rank, Some(50));
    assert!(t.service_broker);
    assert_eq!(t.form_types.len(), 10);
    assert_eq!(t.form_types[1].name, "plan1");
    let stemcell = t.stemcell_criteria.as_ref().unwrap();
    assert_eq!(
        (stemcell.os.as_str(), stemcell.version.as_str()),
        ("ubuntu-trusty", "3586.26")
    );
    assert_eq!(t.release("uaa").unwrap().version, "55.2");
    assert_eq!(t.release("kubo").unwrap().version, "0.18.0");
    assert_eq!(t.variables.len(), 8);
    assert_eq!(t.runtime_configs[0].name, "enable-pks-helpers");
    assert_eq!(t.post_deploy_errands.len(), 3);
    assert!(t.post_deploy_errands.iter().all(|e| e.colocated));
    assert_eq!(t.post_deploy_errands[0].run_default, Some(false));

    let selectors: Vec<_> = t
        .property_blueprints
        .iter()
        .filter(|b| b.property_type == PropertyType::Selector)
        .collect();
    assert_eq!(selectors.len(), 11);
    let plan_selectors: Vec<_> = selectors
        .iter()
        .filter(|b| b.name.starts_with("plan") && b.name.ends_with("_selector"))
        .collect();
    assert_eq!(plan_selectors.len(), 3);
    let plan1 = t.product_blueprint("plan1_selector").unwrap();
    assert_eq!(plan1.default, Some(serde_json::json!("Plan Active")));
    let active = plan1.option_template("active").unwrap();
    assert_eq!(active.select_value, "Plan Active");
    assert!(active.named_manifests[0]
        .manifest
        .as_deref()
        .unwrap()
        .contains("plan_id: 8A0E21A8"));

    // the only job type, with a job-level credential blueprint referenced by the first form
    let job = t.job_type("pivotal-container-service").unwrap();
    assert_eq!(job.max_in_flight, Some(MaxInFlight::Count(1)));
    let tls = t.property(".pivotal-container-service.pks_tls").unwrap();
    assert_eq!(
        tls.blueprint.property_type,
        PropertyType::RsaCertCredentials
    );
    assert!(matches!(tls.scope, PropertyScope::Job(j) if j.name == job.name));

    let sub = t
        .property(".properties.plan1_selector.active.name")
        .unwrap();
    assert_eq!(sub.blueprint.property_type, PropertyType::String);
    assert_eq!(sub.selector.unwrap().1.name, "active");
    // migration spelling of the same reference
    let same = t
        .property("properties.plan1_selector.options.active.name")
        .unwrap();
    assert_eq!(same.reference, ".properties.plan1_selector.active.name");

    // selector input of the plan1 form
    let input = &t.form_type("plan1").unwrap().property_inputs[0];
    let InputKind::Selector {
        selector_property_inputs,
    } = &input.kind
    else {
        panic!("plan selector input expected")
    };
    assert_eq!(selector_property_inputs[0].option_name(), "active");
    assert!(t
        .selector_option(&selector_property_inputs[0].reference)
        .is_some());
}

#[test]
fn loads_example_product() {
    let t = ProductTemplate::from_yaml(EXAMPLE).unwrap();
    assert_eq!(t.name, "example-product");
    assert_eq!(t.product_version, "1.0-build.0");
    assert_eq!(t.metadata_version, "2.5");
    assert_eq!(t.form_types.len(), 9);
    let stemcell = t.stemcell_criteria.as_ref().unwrap();
    assert_eq!(stemcell.version, "97.28");
    assert_eq!(stemcell.enable_patch_security_updates, Some(true));
    assert_eq!(t.release("os-conf").unwrap().version, "15");
    assert_eq!(
        t.release("example-release").unwrap().version,
        "2.5.release43"
    );

    // `run_default: on` in the colocated errand, YAML 1.1 boolean
    let colocated = &t.post_deploy_errands[1];
    assert!(colocated.colocated);
    assert_eq!(colocated.run_default, Some(true));
    assert_eq!(colocated.instances, vec!["web_server/first".to_string()]);
    assert_eq!(colocated.impact_warning, None);

    let errand = t.job_type("example-errand").unwrap();
    assert!(errand.errand);
    assert_eq!(errand.run_post_deploy_errand_default, Some(true));

    // `default: 8_192`
    let no_op = t.job_type("no_op").unwrap();
    let disk = no_op.resource_definition("persistent_disk").unwrap();
    assert_eq!(disk.default, Some(8192));
    assert_eq!(disk.constraints.as_ref().unwrap().min, Some(7000));
    assert_eq!(no_op.max_in_flight, Some(MaxInFlight::Percent(100)));

    let coll = t.product_blueprint("example_collection").unwrap();
    assert_eq!(coll.property_type, PropertyType::Collection);
    assert!(!coll.sub_blueprints().is_empty());
    let sel = t.product_blueprint("example_selector").unwrap();
    assert!(!sel.option_templates().is_empty());

    // every reference listed by property_refs resolves back to the same blueprint
    let refs = t.property_refs();
    assert!(refs.len() > 20);
    for r in &refs {
        let found = t.property(&r.reference).unwrap();
        assert!(
            std::ptr::eq(found.blueprint, r.blueprint),
            "{}",
            r.reference
        );
    }
}

#[test]
fn every_fixture_type_is_known() {
    for text in [PKS, EXAMPLE] {
        let t = ProductTemplate::from_yaml(text).unwrap();
        for r in t.property_refs() {
            assert!(
                r.blueprint.property_type.is_known(),
                "{} has type {}",
                r.reference,
                r.blueprint.property_type
            );
        }
    }
}

#[test]
fn type_names_round_trip() {
    assert_eq!(PropertyType::KNOWN.len(), 32);
    for t in PropertyType::KNOWN.iter() {
        assert_eq!(&PropertyType::from_name(t.as_str()), t);
    }
    assert_eq!(
        PropertyType::from_name("az_multi_select"),
        PropertyType::Other("az_multi_select".into())
    );
}

#[test]
fn shape_errors_name_the_path() {
    let err = ProductTemplate::from_yaml(
        "name: x\njob_types:\n- name: a\n  templates:\n  - {release: r}\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::Shape {
            path: "job_types[0].templates[0].name".into(),
            message: "is required".into()
        }
    );
    let err = ProductTemplate::from_yaml("property_blueprints: {a: 1}\n").unwrap_err();
    assert!(matches!(err, Error::Shape { ref path, .. } if path == "property_blueprints"));
    let err = ProductTemplate::from_yaml("- a\n- b\n").unwrap_err();
    assert!(matches!(err, Error::Shape { ref path, .. } if path == "(document)"));
    let err =
        ProductTemplate::from_yaml("job_types:\n- name: a\n  single_az_only: maybe\n").unwrap_err();
    assert!(matches!(err, Error::Shape { ref path, .. } if path == "job_types[0].single_az_only"));
}

#[test]
fn yaml_11_in_typed_fields() {
    let t = ProductTemplate::from_yaml(
        "\
name: p
product_version: 1.10
stemcell_criteria: {os: ubuntu-xenial, version: 1709.10}
releases:
- {name: r, file: r.tgz, version: 15}
defaults: &d
  errand: y
  run_post_deploy_errand_default: off
job_types:
- <<: *d
  name: e
  max_in_flight: 4%
post_deploy_errands:
- name: e
  run_default: No
property_blueprints:
- name: s
  type: string
  unknown_key: ignored
  constraints:
    must_match_regex: '^a'
    error_message: starts with a
- name: i
  type: integer
  constraints: {min: 1, max: 8, can_only_be_odd_or_zero: true}
- name: t
  type: brand_new_type
",
    )
    .unwrap();
    assert_eq!(t.product_version, "1.10");
    assert_eq!(t.stemcell_criteria.unwrap().version, "1709.10");
    assert_eq!(t.releases[0].version, "15");
    let job = &t.job_types[0];
    assert!(job.errand);
    assert_eq!(job.run_post_deploy_errand_default, Some(false));
    assert_eq!(job.max_in_flight, Some(MaxInFlight::Percent(4)));
    assert_eq!(t.post_deploy_errands[0].run_default, Some(false));
    assert_eq!(t.property_blueprints[0].string_constraints().len(), 1);
    let ic = t.property_blueprints[1].integer_constraints().unwrap();
    assert_eq!(
        (ic.min, ic.max, ic.may_only_be_odd_or_zero),
        (Some(1), Some(8), true)
    );
    assert_eq!(
        t.property_blueprints[2].property_type,
        PropertyType::Other("brand_new_type".into())
    );
}

#[test]
fn missing_required_keys_still_load() {
    let t = ProductTemplate::from_yaml("label: only a label\n").unwrap();
    assert_eq!(t.name, "");
    assert!(t.stemcell_criteria.is_none());
    assert!(t.job_types.is_empty());
}

#[test]
fn serde_round_trip() {
    let t = ProductTemplate::from_yaml(EXAMPLE).unwrap();
    let json = serde_json::to_string(&t).unwrap();
    let back: ProductTemplate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
}

#[test]
fn pre_1_5_single_template_job_types_become_one_template() {
    let t = ProductTemplate::from_yaml(
        "name: t\nproduct_version: '1'\nmetadata_version: '1.3'\n\
         job_types:\n\
         - {name: register-broker, template: register-broker, release: broker, errand: true}\n\
         - {name: pair, template: [a, b], release: r}\n\
         - name: web\n  release: web-release\n  templates: [{name: nginx, release: nginx}]\n",
    )
    .unwrap();
    let errand = &t.job_types[0].templates;
    assert_eq!(errand.len(), 1);
    assert_eq!(
        (errand[0].name.as_str(), errand[0].release.as_str()),
        ("register-broker", "broker")
    );
    let pair: Vec<&str> = t.job_types[1]
        .templates
        .iter()
        .map(|j| j.name.as_str())
        .collect();
    assert_eq!(pair, ["a", "b"]);
    // `templates` wins when both are written.
    assert_eq!(t.job_types[2].templates[0].name, "nginx");
}
