//! The tiles Tileworks ships, compiled in as data.
//!
//! The files live under `tiles/products/` so tile authors read and change them as YAML and tera
//! text; `include_str!` puts them in the binary (and the wasm bundle) without any file I/O.

/// A tile bundled with Tileworks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundledTile {
    /// The product name (`name:` of the metadata).
    pub name: &'static str,
    /// The product version (`product_version:` of the metadata).
    pub product_version: &'static str,
    /// The tile's metadata (product template) as YAML text.
    pub metadata_yaml: &'static str,
    /// For on-demand service tiles: the tera template of one service instance's manifest.
    pub service_instance_manifest_template: Option<&'static str>,
    /// The job spec summary of the releases the tile names (`tiles::job_specs`), so manifests
    /// are checked against the specs without release tarballs.
    pub job_specs: &'static str,
}

/// The PKS tile's metadata.
pub const PKS_METADATA: &str = include_str!("../products/pks/metadata.yml");
/// The on-demand Kubernetes cluster manifest template the PKS service adapter renders.
pub const PKS_CLUSTER_MANIFEST_TEMPLATE: &str =
    include_str!("../products/pks/cluster-manifest.yml.tera");
/// The job specs of the releases the PKS tile names (the public ones; see the file's header).
pub const PKS_JOB_SPECS: &str = include_str!("../products/pks/job-specs.yml");
/// The PKS tile's product name and version, as its metadata states them.
pub const PKS_NAME: &str = "pivotal-container-service";
pub const PKS_VERSION: &str = "1.1.3-tileworks.1";

/// Every bundled tile.
pub fn bundled() -> Vec<BundledTile> {
    vec![BundledTile {
        name: PKS_NAME,
        product_version: PKS_VERSION,
        metadata_yaml: PKS_METADATA,
        service_instance_manifest_template: Some(PKS_CLUSTER_MANIFEST_TEMPLATE),
        job_specs: PKS_JOB_SPECS,
    }]
}

/// The job specs every bundled tile ships, together. A summary that does not read is a bug
/// caught by the tests, so it is left out rather than failing the caller. Read once per
/// process (the summaries are compiled in): a product's page needs them on every render.
pub fn bundled_job_specs() -> crate::job_specs::JobSpecs {
    static READ: std::sync::OnceLock<crate::job_specs::JobSpecs> = std::sync::OnceLock::new();
    READ.get_or_init(|| {
        let mut specs = crate::job_specs::JobSpecs::default();
        for tile in bundled() {
            if let Ok(s) = crate::job_specs::JobSpecs::from_summary(tile.job_specs) {
                specs.extend(s);
            }
        }
        specs
    })
    .clone()
}

#[cfg(test)]
mod tests {
    //! The bundled PKS metadata checked against the structural rules of tile-metadata.md, and its
    //! plans rendered through the service adapter. These rules are checked here directly on the
    //! YAML tree, independently of the crate's metadata loader.

    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::{json, Value};

    use super::*;
    use crate::odb;

    fn metadata() -> Value {
        crate::yaml::load(PKS_METADATA).expect("metadata.yml parses")
    }

    fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
        v.get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn name(v: &Value) -> &str {
        v["name"].as_str().unwrap_or_default()
    }

    /// Every blueprint reference: `.properties.X`, `.properties.SEL.OPT`, `.properties.SEL.OPT.P`
    /// and `.JOB.P`, each with its blueprint.
    fn references(m: &Value) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for bp in arr(m, "property_blueprints") {
            let base = format!(".properties.{}", name(bp));
            for opt in arr(bp, "option_templates") {
                let o = format!("{base}.{}", name(opt));
                out.insert(o.clone(), opt.clone());
                for sub in arr(opt, "property_blueprints") {
                    out.insert(format!("{o}.{}", name(sub)), sub.clone());
                }
            }
            out.insert(base, bp.clone());
        }
        for job in arr(m, "job_types") {
            for bp in arr(job, "property_blueprints") {
                out.insert(format!(".{}.{}", name(job), name(bp)), bp.clone());
            }
        }
        out
    }

    fn unique(names: Vec<&str>, what: &str) {
        let mut seen = BTreeSet::new();
        for n in names {
            assert!(seen.insert(n), "duplicate {what} {n}");
        }
    }

    #[test]
    fn bundled_list_matches_the_metadata() {
        let m = metadata();
        let tiles = bundled();
        assert_eq!(tiles.len(), 1);
        assert_eq!(m["name"], tiles[0].name);
        assert_eq!(m["product_version"], tiles[0].product_version);
        for key in [
            "metadata_version",
            "minimum_version_for_upgrade",
            "icon_image",
            "label",
        ] {
            assert!(m[key].is_string(), "{key} missing");
        }
        assert_eq!(m["stemcell_criteria"]["os"], "ubuntu-xenial");
        assert_eq!(m["service_broker"], true);
    }

    /// The crate's own metadata lint finds no errors in the bundled tile.
    #[test]
    fn metadata_lints_clean() {
        let findings = crate::lint::lint_yaml(PKS_METADATA);
        let errors: Vec<String> = findings
            .iter()
            .filter(|f| matches!(f.severity, crate::lint::Severity::Error))
            .map(|f| format!("{} [{}]: {}", f.path, f.rule, f.message))
            .collect();
        assert!(errors.is_empty(), "lint errors:\n{}", errors.join("\n"));
        assert!(!crate::lint::has_errors(&findings));
    }

    #[test]
    fn names_are_unique() {
        let m = metadata();
        unique(arr(&m, "releases").iter().map(name).collect(), "release");
        unique(arr(&m, "form_types").iter().map(name).collect(), "form");
        unique(arr(&m, "job_types").iter().map(name).collect(), "job type");
        unique(
            arr(&m, "property_blueprints").iter().map(name).collect(),
            "blueprint",
        );
        unique(arr(&m, "variables").iter().map(name).collect(), "variable");
        for bp in arr(&m, "property_blueprints") {
            unique(
                arr(bp, "option_templates").iter().map(name).collect(),
                "option",
            );
            for opt in arr(bp, "option_templates") {
                unique(
                    arr(opt, "property_blueprints").iter().map(name).collect(),
                    "option property",
                );
            }
        }
    }

    #[test]
    fn form_references_resolve_and_selectors_show_every_option() {
        let m = metadata();
        let refs = references(&m);
        let mut shown = BTreeSet::new();
        for form in arr(&m, "form_types") {
            assert!(
                form["label"].is_string(),
                "form {} needs a label",
                name(form)
            );
            for input in arr(form, "property_inputs") {
                let r = input["reference"].as_str().unwrap();
                assert!(
                    refs.contains_key(r),
                    "form {}: {r} does not resolve",
                    name(form)
                );
                shown.insert(r.to_owned());
                let options: BTreeSet<String> = arr(&refs[r], "option_templates")
                    .iter()
                    .map(|o| format!("{r}.{}", name(o)))
                    .collect();
                let mut listed = BTreeSet::new();
                for sel in arr(input, "selector_property_inputs") {
                    let o = sel["reference"].as_str().unwrap();
                    assert!(options.contains(o), "{o} is not an option of {r}");
                    listed.insert(o.to_owned());
                    for sub in arr(sel, "property_inputs") {
                        let s = sub["reference"].as_str().unwrap();
                        assert!(s.starts_with(&format!("{o}.")), "{s} is not under {o}");
                        assert!(refs.contains_key(s), "{s} does not resolve");
                        shown.insert(s.to_owned());
                    }
                }
                assert_eq!(listed, options, "the form for {r} must offer every option");
            }
        }
        // Every configurable property can be set by the operator somewhere.
        for (r, bp) in &refs {
            let configurable = bp["configurable"] == true;
            if configurable && bp.get("select_value").is_none() {
                assert!(shown.contains(r), "{r} is configurable but on no form");
            }
        }
    }

    #[test]
    fn selectors_and_choices_are_consistent() {
        let m = metadata();
        for (r, bp) in references(&m) {
            if bp["type"] == "selector" {
                let options = arr(&bp, "option_templates");
                let values: Vec<&Value> = options.iter().map(|o| &o["select_value"]).collect();
                if let Some(d) = bp.get("default") {
                    assert!(values.contains(&d), "{r}: default {d} is no select_value");
                }
                let manifests = |o: &Value| -> BTreeSet<String> {
                    arr(o, "named_manifests")
                        .iter()
                        .map(|n| name(n).to_owned())
                        .collect()
                };
                let first = manifests(&options[0]);
                for o in options {
                    assert_eq!(
                        manifests(o),
                        first,
                        "{r}: option {} declares other named manifests",
                        name(o)
                    );
                }
            }
            if bp["type"] == "dropdown_select" || bp["type"] == "multi_select_options" {
                let names: Vec<&Value> = arr(&bp, "options").iter().map(|o| &o["name"]).collect();
                assert!(!names.is_empty(), "{r} has no options");
                match bp.get("default") {
                    Some(Value::Array(ds)) => ds
                        .iter()
                        .for_each(|d| assert!(names.contains(&d), "{r}: {d}")),
                    Some(d) => assert!(names.contains(&d), "{r}: default {d} is no option"),
                    None => {}
                }
            }
            if bp.get("optional") == Some(&Value::Bool(true)) {
                assert!(bp.get("default").is_none(), "{r}: optional with a default");
            }
        }
    }

    #[test]
    fn jobs_errands_and_releases_fit_together() {
        let m = metadata();
        let releases: BTreeSet<&str> = arr(&m, "releases").iter().map(name).collect();
        let errand_jobs: BTreeSet<&str> = arr(&m, "job_types")
            .iter()
            .filter(|j| j["errand"] == true)
            .map(name)
            .collect();
        assert_eq!(
            errand_jobs,
            [
                "delete-all-clusters",
                "smoke-tests",
                "upgrade-all-service-instances"
            ]
            .into()
        );
        for job in arr(&m, "job_types") {
            assert!(
                job["instance_definition"]["default"].is_u64(),
                "{}",
                name(job)
            );
            assert!(
                !arr(job, "resource_definitions").is_empty(),
                "{}",
                name(job)
            );
            for t in arr(job, "templates") {
                let r = t["release"].as_str().unwrap();
                assert!(
                    releases.contains(r),
                    "job {} template {} names undeclared release {r}",
                    name(job),
                    name(t)
                );
            }
        }
        for (list, expected) in [
            (
                "post_deploy_errands",
                vec!["smoke-tests", "upgrade-all-service-instances"],
            ),
            ("pre_delete_errands", vec!["delete-all-clusters"]),
        ] {
            let names: Vec<&str> = arr(&m, list).iter().map(name).collect();
            assert_eq!(names, expected);
            for n in names {
                assert!(errand_jobs.contains(n), "{list}: {n} is no errand job type");
            }
        }
    }

    /// Whole `(( ... ))` expressions (not BOSH `((( ... )))` placeholders) in a text.
    fn expressions(text: &str) -> Vec<String> {
        let re = regex::Regex::new(r"(^|[^(])\(\(([^()]|\([a-z0-9_]*\))*?\)\)").unwrap();
        re.find_iter(text)
            .map(|m| {
                let s = m.as_str();
                let start = s.find("((").unwrap();
                s[start + 2..s.len() - 2].trim().to_owned()
            })
            .collect()
    }

    fn manifest_texts(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    match (k.as_str(), x) {
                        ("manifest" | "consumes" | "provides", Value::String(s)) => {
                            out.push(s.clone())
                        }
                        _ => manifest_texts(x, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|x| manifest_texts(x, out)),
            _ => {}
        }
    }

    #[test]
    fn expression_references_resolve() {
        let m = metadata();
        let refs = references(&m);
        let mut texts = Vec::new();
        manifest_texts(&m, &mut texts);
        let path = regex::Regex::new(
            r"\.(properties|pivotal-container-service)\.[A-Za-z0-9_.?-]+(\(([A-Za-z0-9_]+)\))?",
        )
        .unwrap();
        let mut count = 0;
        for text in &texts {
            for expr in expressions(text) {
                for cap in path.captures_iter(&expr) {
                    count += 1;
                    let full = cap.get(0).unwrap().as_str();
                    if let Some(named) = cap.get(3) {
                        let sel = full.split(".selected_option.").next().unwrap();
                        let options = arr(&refs[sel], "option_templates");
                        assert!(!options.is_empty(), "{full}: {sel} is no selector");
                        for o in options {
                            assert!(
                                arr(o, "named_manifests")
                                    .iter()
                                    .any(|n| name(n) == named.as_str()),
                                "{full}: option {} lacks {}",
                                name(o),
                                named.as_str()
                            );
                        }
                    } else {
                        let (target, accessor) = full.rsplit_once('.').unwrap();
                        assert!(
                            refs.contains_key(target),
                            "{full}: {target} does not resolve"
                        );
                        assert!(
                            [
                                "value",
                                "identity",
                                "password",
                                "cert_pem",
                                "private_key_pem",
                                "value_present?",
                                "parsed_strings",
                                "parsed_network_addresses"
                            ]
                            .contains(&accessor),
                            "{full}: unexpected accessor {accessor}"
                        );
                    }
                }
            }
        }
        assert!(
            count > 300,
            "only {count} references found: the scan is broken"
        );
    }

    /// Evaluates the whole-scalar expressions of a plan snippet with the blueprints' defaults
    /// (the AZ placements, which have none, get test AZs) — enough for the plan snippets, which
    /// use only `.value`, `|| []` and `$self.service_network`.
    fn with_defaults(v: &Value, refs: &BTreeMap<String, Value>) -> Value {
        match v {
            Value::String(s) if s.starts_with("((") && s.ends_with("))") => {
                for alt in s[2..s.len() - 2].split("||").map(str::trim) {
                    let value = match alt {
                        "[]" => json!([]),
                        "$self.service_network" => json!("pks-services"),
                        r if r.ends_with("master_az_placement.value") => {
                            json!(["az1", "az2", "az3"])
                        }
                        r if r.ends_with("worker_az_placement.value") => json!(["az1", "az2"]),
                        r => {
                            let target = r.strip_suffix(".value").unwrap_or_else(|| panic!("{r}"));
                            refs.get(target)
                                .unwrap_or_else(|| panic!("{target}"))
                                .get("default")
                                .cloned()
                                .unwrap_or(Value::Null)
                        }
                    };
                    if !value.is_null() {
                        return value;
                    }
                }
                Value::Null
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|x| with_defaults(x, refs)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, x)| (k.clone(), with_defaults(x, refs)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn broker_manifest(m: &Value) -> Value {
        let job = arr(m, "job_types")
            .iter()
            .find(|j| name(j) == "pivotal-container-service")
            .unwrap();
        let broker = arr(job, "templates")
            .iter()
            .find(|t| name(t) == "broker")
            .unwrap();
        crate::yaml::load(broker["manifest"].as_str().unwrap()).unwrap()
    }

    #[test]
    fn every_plan_renders_a_cluster_manifest() {
        let m = metadata();
        let refs = references(&m);
        let broker = broker_manifest(&m);
        let tile_releases: BTreeMap<&str, &Value> = arr(&m, "releases")
            .iter()
            .map(|r| (name(r), &r["version"]))
            .collect();
        let sd_releases = broker["service_deployment"]["releases"].clone();
        for r in sd_releases.as_array().unwrap() {
            assert_eq!(
                Some(&&r["version"]),
                tile_releases.get(name(r)),
                "{}",
                name(r)
            );
        }
        let sd: odb::ServiceDeployment = serde_json::from_value(json!({
            "deployment_name": "service-instance_0b7d2f4e",
            "releases": sd_releases,
            "stemcells": [{"stemcell_os": "ubuntu-xenial", "stemcell_version": "97.17"}],
        }))
        .unwrap();
        let flannel = ".properties.network_selector.flannel";
        let global = json!({
            "cni": "flannel",
            "pod_network_cidr": refs[&format!("{flannel}.pod_network_cidr")]["default"],
            "service_cluster_cidr": refs[&format!("{flannel}.service_cluster_cidr")]["default"],
        });
        assert_eq!(
            arr(&broker["service_catalog"], "plans").len(),
            10,
            "the catalog lists every plan selector"
        );
        let mut ids = BTreeSet::new();
        let mut names = BTreeSet::new();
        for n in 1..=10 {
            let sel = &refs[&format!(".properties.plan{n}_selector.active")];
            let snippet = arr(sel, "named_manifests")[0]["manifest"].as_str().unwrap();
            let raw: Value = crate::yaml::load(snippet).unwrap();
            let entry = with_defaults(&raw, &refs);
            assert!(
                ids.insert(entry["plan_id"].as_str().unwrap().to_owned()),
                "plan {n}: id repeats"
            );
            assert!(
                names.insert(entry["name"].as_str().unwrap().to_owned()),
                "plan {n}: name repeats"
            );
            let mut plan: odb::Plan =
                serde_json::from_value(entry.clone()).unwrap_or_else(|e| panic!("plan {n}: {e}"));
            for (k, v) in global.as_object().unwrap() {
                plan.properties.entry(k.clone()).or_insert(v.clone());
            }
            let out = odb::generate_manifest(&odb::GenerateManifestInput {
                service_deployment: sd.clone(),
                plan: plan.clone(),
                request_parameters: Value::Null,
                previous_manifest: None,
                previous_plan: None,
            })
            .unwrap_or_else(|e| panic!("plan {n}: {e}"));
            let mv = &out.manifest_value;
            let worker = arr(mv, "instance_groups")
                .iter()
                .find(|g| name(g) == "worker")
                .unwrap();
            assert_eq!(
                worker["instances"], entry["properties"]["worker_instances"],
                "plan {n}"
            );
            odb::check_manifest(mv, &sd).unwrap();
        }
    }
}
