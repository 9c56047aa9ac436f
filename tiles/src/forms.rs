//! The form view-model: what an operator sees on a product's settings pages, built from the
//! metadata's `form_types` and the blueprints their inputs reference. The UI renders this tree,
//! `tileworks tile forms` prints it (see [`FormTree::render_text`]) so tile authors can preview
//! their forms without a server.
//!
//! Text shown comes from the form input first (`label`, `description`, `placeholder`) and falls
//! back to the blueprint's own, then to its name. Inputs that cannot be placed (a reference that
//! resolves to no blueprint, a selector input naming no option, a record input naming no
//! sub-property) are left out, as Ops Manager leaves them out; [`FormTree::build_reporting`]
//! lists them ([`Unplaced`]) for `tileworks tile forms`, and lint reports them too
//! (`form-reference-resolves`).

use crate::metadata::{
    Constraints, InputKind, OptionTemplate, ProductTemplate, PropertyBlueprint, PropertyInput,
    PropertyType,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt::Write as _;

/// All forms of a product, in metadata (tab) order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormTree {
    pub product_name: String,
    pub product_label: Option<String>,
    pub forms: Vec<Form>,
}

/// One settings form (tab).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub name: String,
    pub label: String,
    pub description: Option<String>,
    pub markdown: Option<String>,
    pub inputs: Vec<Input>,
}

/// One input, with everything needed to draw and check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Canonical property reference (`.properties.x`, `.job.x`, `.properties.sel.opt.x`);
    /// for collection record inputs, the bare sub-property name.
    pub reference: String,
    pub label: String,
    pub description: Option<String>,
    pub placeholder: Option<String>,
    #[serde(rename = "type")]
    pub property_type: PropertyType,
    pub default: Option<Value>,
    pub optional: bool,
    pub configurable: bool,
    /// A credential: shown masked, stored sealed.
    pub credential: bool,
    pub freeze_on_deploy: bool,
    /// `text_area` for multi-line secrets.
    pub display_type: Option<String>,
    pub constraints: Option<Constraints>,
    /// Choices of `dropdown_select` / `multi_select_options`.
    pub options: Vec<Choice>,
    /// Selector choices, each with the inputs shown when it is selected.
    pub selector_options: Vec<SelectorChoice>,
    /// Collection: the inputs of one record.
    pub record_inputs: Vec<Input>,
}

/// A dropdown / multi-select choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The option `name` (string or integer) stored as the value.
    pub value: Value,
    pub label: String,
}

/// A selector choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectorChoice {
    /// Option template name (API `selected_option`).
    pub name: String,
    /// Value stored as the selector's `value`.
    pub select_value: String,
    pub label: String,
    pub description: Option<String>,
    /// `.properties.SEL.OPTION`.
    pub reference: String,
    pub inputs: Vec<Input>,
}

/// A form input the tree leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unplaced {
    /// YAML path of the input (`form_types[0].property_inputs[2]`).
    pub path: String,
    /// Its reference as written.
    pub reference: String,
    /// Why it is left out, the suggestion included.
    pub message: String,
    /// The closest name that would place it (`crate::suggest`).
    pub suggestion: Option<String>,
}

/// Collects the inputs left out while a tree is built.
struct Placer<'t> {
    t: &'t ProductTemplate,
    unplaced: Vec<Unplaced>,
}

impl Placer<'_> {
    fn leave_out(&mut self, path: String, reference: &str, why: String, near: Option<&str>) {
        self.unplaced.push(Unplaced {
            path,
            reference: reference.to_owned(),
            message: format!("{why}{}", crate::suggest::did_you_mean_text(near)),
            suggestion: near.map(str::to_owned),
        });
    }
}

/// A reference found in a form ([`FormTree::locate`]).
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    pub form: &'a Form,
    pub input: &'a Input,
    /// The selector choice the input belongs to, when it is an option's input.
    pub choice: Option<&'a SelectorChoice>,
}

impl Located<'_> {
    /// The field's words as the form shows them: `Choice › Label` inside a selector option.
    pub fn label(&self) -> String {
        match self.choice {
            Some(choice) => format!("{} › {}", choice.label, self.input.label),
            None => self.input.label.clone(),
        }
    }
}

/// `reference` is `held` or a value inside it (`held.x`, `held[0]…`).
fn holds(held: &str, reference: &str) -> bool {
    reference == held
        || reference
            .strip_prefix(held)
            .is_some_and(|rest| rest.starts_with(['.', '[']))
}

fn locate_in<'a>(
    inputs: &'a [Input],
    reference: &str,
    choice: Option<&'a SelectorChoice>,
) -> Option<(&'a Input, Option<&'a SelectorChoice>)> {
    inputs.iter().find_map(|input| {
        if !holds(&input.reference, reference) {
            return None;
        }
        let deeper = input
            .selector_options
            .iter()
            .filter(|c| holds(&c.reference, reference))
            .find_map(|c| locate_in(&c.inputs, reference, Some(c)));
        Some(deeper.unwrap_or((input, choice)))
    })
}

impl FormTree {
    /// Builds the form tree of a product template.
    pub fn build(t: &ProductTemplate) -> FormTree {
        Self::build_reporting(t).0
    }

    /// Builds the form tree, also returning the inputs it leaves out, in metadata order.
    pub fn build_reporting(t: &ProductTemplate) -> (FormTree, Vec<Unplaced>) {
        let mut placer = Placer {
            t,
            unplaced: Vec::new(),
        };
        let forms = t
            .form_types
            .iter()
            .enumerate()
            .map(|(n, f)| Form {
                name: f.name.clone(),
                label: if f.label.is_empty() {
                    f.name.clone()
                } else {
                    f.label.clone()
                },
                description: f.description.clone(),
                markdown: f.markdown.clone(),
                inputs: f
                    .property_inputs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, pi)| {
                        placer.input(pi, &format!("form_types[{n}].property_inputs[{i}]"))
                    })
                    .collect(),
            })
            .collect();
        let tree = FormTree {
            product_name: t.name.clone(),
            product_label: t.label.clone(),
            forms,
        };
        (tree, placer.unplaced)
    }

    /// The form by name.
    pub fn form(&self, name: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.name == name)
    }

    /// Where an operator edits `reference` (a finding's key: a property, a selector option's
    /// property, or a value inside a collection such as `.properties.plans[1].name`): the form
    /// and the deepest input that holds it. Problems lists use it to name the field by its label
    /// and link to it.
    pub fn locate(&self, reference: &str) -> Option<Located<'_>> {
        self.forms.iter().find_map(|form| {
            locate_in(&form.inputs, reference, None).map(|(input, choice)| Located {
                form,
                input,
                choice,
            })
        })
    }

    /// An indented text tree of all forms, for authors.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let title = self.product_label.as_deref().unwrap_or(&self.product_name);
        let _ = writeln!(out, "{title} ({})", self.product_name);
        for form in &self.forms {
            let _ = writeln!(out, "\n[{}] {}", form.name, form.label);
            if let Some(d) = &form.description {
                let _ = writeln!(out, "  {}", one_line(d));
            }
            for input in &form.inputs {
                render_input(input, 1, &mut out);
            }
        }
        out
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn render_input(input: &Input, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let mut flags = Vec::new();
    if !input.optional {
        flags.push("required".to_string());
    }
    if input.credential {
        flags.push("credential".to_string());
    }
    if input.freeze_on_deploy {
        flags.push("frozen after deploy".to_string());
    }
    if !input.configurable {
        flags.push("not configurable".to_string());
    }
    let _ = write!(
        out,
        "{pad}- {} <{}> {}",
        input.label, input.property_type, input.reference
    );
    if !flags.is_empty() {
        let _ = write!(out, " ({})", flags.join(", "));
    }
    out.push('\n');
    if let Some(d) = &input.description {
        let _ = writeln!(out, "{pad}    {}", one_line(d));
    }
    if let Some(p) = &input.placeholder {
        let _ = writeln!(out, "{pad}    placeholder: {p}");
    }
    if let Some(d) = &input.default {
        let _ = writeln!(out, "{pad}    default: {d}");
    }
    for c in &input.options {
        let _ = writeln!(out, "{pad}    * {} = {}", c.label, c.value);
    }
    for s in &input.selector_options {
        let _ = writeln!(
            out,
            "{pad}    ( ) {} = \"{}\" [{}]",
            s.label, s.select_value, s.name
        );
        for i in &s.inputs {
            render_input(i, depth + 3, out);
        }
    }
    if !input.record_inputs.is_empty() {
        let _ = writeln!(out, "{pad}    each record:");
        for i in &input.record_inputs {
            render_input(i, depth + 3, out);
        }
    }
}

impl Placer<'_> {
    /// The input for `pi` (at YAML `path`), or `None` when its reference names no blueprint.
    fn input(&mut self, pi: &PropertyInput, path: &str) -> Option<Input> {
        let t = self.t;
        let Some(found) = t.property(&pi.reference) else {
            let refs: Vec<String> = t.property_refs().into_iter().map(|r| r.reference).collect();
            let dotted = format!(".{}", pi.reference.trim_start_matches('.'));
            let near = crate::suggest::did_you_mean(&dotted, refs.iter().map(String::as_str));
            self.leave_out(
                path.to_owned(),
                &pi.reference,
                format!("`{}` names no property blueprint", pi.reference),
                near,
            );
            return None;
        };
        let bp = found.blueprint;
        let mut input = base_input(bp, pi, found.reference.clone());
        match (&bp.kind, &pi.kind) {
            (
                crate::metadata::BlueprintKind::Selector { option_templates },
                InputKind::Selector {
                    selector_property_inputs,
                },
            ) => {
                for (s, spi) in selector_property_inputs.iter().enumerate() {
                    let spath = format!("{path}.selector_property_inputs[{s}]");
                    let first = selector_property_inputs
                        .iter()
                        .position(|o| o.option_name() == spi.option_name());
                    if !option_templates.iter().any(|o| o.name == spi.option_name()) {
                        let names = option_templates.iter().map(|o| o.name.as_str());
                        let near = crate::suggest::did_you_mean(spi.option_name(), names);
                        self.leave_out(
                            spath,
                            &spi.reference,
                            format!(
                                "`{}` names no option of selector `{}`",
                                spi.reference, found.reference
                            ),
                            near,
                        );
                    } else if first != Some(s) {
                        self.leave_out(
                            spath,
                            &spi.reference,
                            format!(
                                "option `{}` already has its inputs (selector_property_inputs[{}])",
                                spi.option_name(),
                                first.unwrap_or_default()
                            ),
                            None,
                        );
                    }
                }
                input.selector_options = option_templates
                    .iter()
                    .map(|o| {
                        let at = selector_property_inputs
                            .iter()
                            .position(|s| s.option_name() == o.name);
                        let spi = at.map(|i| {
                            (
                                &selector_property_inputs[i],
                                format!("{path}.selector_property_inputs[{i}]"),
                            )
                        });
                        self.selector_choice(&found.reference, o, spi)
                    })
                    .collect();
            }
            (crate::metadata::BlueprintKind::Selector { option_templates }, _) => {
                self.nested_left_out(pi, path, bp);
                input.selector_options = option_templates
                    .iter()
                    .map(|o| self.selector_choice(&found.reference, o, None))
                    .collect();
            }
            (
                crate::metadata::BlueprintKind::Collection {
                    property_blueprints,
                    ..
                },
                InputKind::Collection { property_inputs },
            ) => {
                let mut records = Vec::new();
                for (k, sub) in property_inputs.iter().enumerate() {
                    let name = sub.reference.rsplit('.').next().unwrap_or_default();
                    match property_blueprints.iter().find(|b| b.name == name) {
                        Some(b) => records.push(base_input(b, sub, b.name.clone())),
                        None => {
                            let names = property_blueprints.iter().map(|b| b.name.as_str());
                            let near = crate::suggest::did_you_mean(name, names);
                            self.leave_out(
                                format!("{path}.property_inputs[{k}]"),
                                &sub.reference,
                                format!(
                                    "`{}` is not a sub-property of collection `{}`",
                                    sub.reference, found.reference
                                ),
                                near,
                            );
                        }
                    }
                }
                input.record_inputs = records;
            }
            (
                crate::metadata::BlueprintKind::Collection {
                    property_blueprints,
                    ..
                },
                _,
            ) => {
                self.nested_left_out(pi, path, bp);
                // No record inputs declared: show every configurable sub-property.
                input.record_inputs = property_blueprints
                    .iter()
                    .filter(|b| b.configurable)
                    .map(|b| base_input(b, &bare_input(&b.name), b.name.clone()))
                    .collect();
            }
            (crate::metadata::BlueprintKind::Simple, _) => {
                self.nested_left_out(pi, path, bp);
            }
        }
        Some(input)
    }

    /// Nested inputs of the wrong kind for the blueprint (selector inputs on a collection…):
    /// the form draws the blueprint as its type says and has no place for them.
    fn nested_left_out(&mut self, pi: &PropertyInput, path: &str, bp: &PropertyBlueprint) {
        let (key, nested): (&str, Vec<&str>) = match &pi.kind {
            InputKind::Simple => return,
            InputKind::Selector {
                selector_property_inputs,
            } => (
                "selector_property_inputs",
                selector_property_inputs
                    .iter()
                    .map(|s| s.reference.as_str())
                    .collect(),
            ),
            InputKind::Collection { property_inputs } => (
                "property_inputs",
                property_inputs
                    .iter()
                    .map(|s| s.reference.as_str())
                    .collect(),
            ),
        };
        for (i, reference) in nested.into_iter().enumerate() {
            self.leave_out(
                format!("{path}.{key}[{i}]"),
                reference,
                format!(
                    "`{}` is a {}, which takes no `{key}`",
                    pi.reference, bp.property_type
                ),
                None,
            );
        }
    }

    fn selector_choice(
        &mut self,
        selector_reference: &str,
        o: &OptionTemplate,
        spi: Option<(&crate::metadata::SelectorOptionInput, String)>,
    ) -> SelectorChoice {
        let inputs = match &spi {
            Some((s, spath)) => s
                .property_inputs
                .iter()
                .enumerate()
                .filter_map(|(i, pi)| self.input(pi, &format!("{spath}.property_inputs[{i}]")))
                .collect(),
            None => Vec::new(),
        };
        let spi = spi.map(|(s, _)| s);
        SelectorChoice {
            name: o.name.clone(),
            select_value: o.select_value.clone(),
            label: spi
                .and_then(|s| s.label.clone())
                .or_else(|| o.label.clone())
                .unwrap_or_else(|| o.select_value.clone()),
            description: spi
                .and_then(|s| s.description.clone())
                .or_else(|| o.description.clone()),
            reference: format!("{selector_reference}.{}", o.name),
            inputs,
        }
    }
}

fn bare_input(name: &str) -> PropertyInput {
    PropertyInput {
        reference: name.to_string(),
        label: None,
        description: None,
        placeholder: None,
        display_type: None,
        slug: false,
        kind: InputKind::Simple,
    }
}

fn base_input(bp: &PropertyBlueprint, pi: &PropertyInput, reference: String) -> Input {
    Input {
        reference,
        label: pi
            .label
            .clone()
            .or_else(|| bp.label.clone())
            .unwrap_or_else(|| bp.name.clone()),
        description: pi.description.clone().or_else(|| bp.description.clone()),
        placeholder: pi.placeholder.clone().or_else(|| bp.placeholder.clone()),
        property_type: bp.property_type.clone(),
        default: bp.default.clone(),
        optional: bp.optional,
        configurable: bp.configurable,
        credential: bp.property_type.is_credential(),
        freeze_on_deploy: bp.freeze_on_deploy,
        display_type: pi.display_type.clone(),
        constraints: bp.constraints.clone(),
        options: bp
            .options
            .iter()
            .map(|o| Choice {
                value: o.name.clone(),
                label: o.label.clone().unwrap_or_else(|| o.name_text()),
            })
            .collect(),
        selector_options: Vec::new(),
        record_inputs: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/tiles/pks-1.1.3.yml"
    ));
    const EXAMPLE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/tiles/example-product.yml"
    ));

    #[test]
    fn a_finding_is_located_in_its_form_down_to_the_selector_option_input() {
        let t = ProductTemplate::from_yaml(PKS).unwrap();
        let tree = FormTree::build(&t);
        let found = tree
            .locate(".properties.cloud_provider.vsphere.vcenter_dc")
            .unwrap();
        assert_eq!(found.form.name, "cloud_provider");
        assert_eq!(found.form.label, "Kubernetes Cloud Provider");
        assert_eq!(found.label(), "vSphere › Datacenter Name");
        assert_eq!(
            found.input.reference,
            ".properties.cloud_provider.vsphere.vcenter_dc"
        );
        // The selector itself, and a value inside a property, land on the property's input.
        let selector = tree.locate(".properties.cloud_provider").unwrap();
        assert_eq!(selector.label(), "Choose your IaaS");
        assert!(selector.choice.is_none());
        let inside = tree
            .locate(".properties.cloud_provider.vsphere.vcenter_master_creds.password")
            .unwrap();
        assert_eq!(inside.label(), "vSphere › vCenter Master Credentials");
        // A prefix that is not a whole name is not a match.
        assert!(tree.locate(".properties.cloud_provider_x").is_none());
        assert!(tree.locate("networks_and_azs.network").is_none());
    }

    #[test]
    fn pks_form_tree() {
        let t = ProductTemplate::from_yaml(PKS).unwrap();
        let tree = FormTree::build(&t);
        assert_eq!(tree.forms.len(), 10);
        let api = tree.form("pks-api").unwrap();
        assert_eq!(api.label, "PKS API");
        assert_eq!(api.inputs.len(), 2);
        assert_eq!(api.inputs[0].label, "Certificate to secure the PKS API");
        assert_eq!(
            api.inputs[0].property_type,
            PropertyType::RsaCertCredentials
        );
        assert!(api.inputs[0].credential);

        let plan1 = tree.form("plan1").unwrap();
        let sel = &plan1.inputs[0];
        assert_eq!(sel.property_type, PropertyType::Selector);
        assert_eq!(sel.default, Some(Value::String("Plan Active".into())));
        let names: Vec<&str> = sel
            .selector_options
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        // plan 1 can only be active; plans 2 and 3 also offer "inactive" first
        assert_eq!(names, vec!["active"]);
        let plan2 = &tree.form("plan2").unwrap().inputs[0];
        let names: Vec<&str> = plan2
            .selector_options
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(names, vec!["inactive", "active"]);
        let active = &sel.selector_options[0];
        assert_eq!(active.label, "Active");
        assert_eq!(active.select_value, "Plan Active");
        assert_eq!(active.inputs[0].label, "Name");
        assert_eq!(
            active.inputs[0].reference,
            ".properties.plan1_selector.active.name"
        );
        assert!(active.inputs.len() >= 10);
        // every form input of the fixture resolves, so none were dropped
        let declared: usize = t.form_types.iter().map(|f| f.property_inputs.len()).sum();
        let built: usize = tree.forms.iter().map(|f| f.inputs.len()).sum();
        assert_eq!(declared, built);
    }

    #[test]
    fn example_collections_and_dropdowns() {
        let t = ProductTemplate::from_yaml(EXAMPLE).unwrap();
        let tree = FormTree::build(&t);
        let coll = tree
            .forms
            .iter()
            .flat_map(|f| f.inputs.iter())
            .find(|i| i.reference == ".properties.example_collection")
            .unwrap();
        assert_eq!(coll.property_type, PropertyType::Collection);
        assert!(!coll.record_inputs.is_empty());
        assert!(coll
            .record_inputs
            .iter()
            .all(|i| !i.reference.contains('.')));
        let with_options = tree
            .forms
            .iter()
            .flat_map(|f| f.inputs.iter())
            .find(|i| !i.options.is_empty());
        assert!(with_options.is_some());
    }

    #[test]
    fn text_rendering_and_serde() {
        let t = ProductTemplate::from_yaml(PKS).unwrap();
        let tree = FormTree::build(&t);
        let text = tree.render_text();
        assert!(text.starts_with("Pivotal Container Service (pivotal-container-service)\n"));
        assert!(text.contains("\n[plan1] Plan 1\n"));
        assert!(text.contains("  - Plan <selector> .properties.plan1_selector (required)\n"));
        assert!(text.contains("    ( ) Active = \"Plan Active\" [active]\n"));
        assert!(text.contains("      - Name <string> .properties.plan1_selector.active.name"));
        let json = serde_json::to_string(&tree).unwrap();
        let back: FormTree = serde_json::from_str(&json).unwrap();
        assert_eq!(back, tree);
    }

    #[test]
    fn unresolved_inputs_are_left_out() {
        let t = ProductTemplate::from_yaml(
            "name: p\nproperty_blueprints:\n- {name: a, type: string, configurable: true}\nform_types:\n- name: f\n  label: F\n  property_inputs:\n  - {reference: .properties.a, label: A}\n  - {reference: .properties.missing, label: M}\n",
        )
        .unwrap();
        let tree = FormTree::build(&t);
        assert_eq!(tree.forms[0].inputs.len(), 1);
        assert_eq!(tree.forms[0].inputs[0].label, "A");
    }

    const UNPLACEABLE: &str = r#"
name: p
property_blueprints:
- {name: hostname, type: string, configurable: true}
- name: mode
  type: selector
  configurable: true
  option_templates:
  - name: on_option
    select_value: 'on'
    property_blueprints:
    - {name: level, type: integer, configurable: true}
  - {name: off_option, select_value: 'off'}
- name: albums
  type: collection
  configurable: true
  property_blueprints:
  - {name: title, type: string, configurable: true}
form_types:
- name: f
  label: F
  property_inputs:
  - {reference: .properties.hostnme, label: Host}
  - reference: .properties.mode
    label: Mode
    selector_property_inputs:
    - reference: .properties.mode.on_optoin
      label: On
    - reference: .properties.mode.on_option
      label: On
      property_inputs:
      - {reference: .properties.mode.on_option.level, label: Level}
      - {reference: .properties.mode.on_option.lvel, label: Level}
    - reference: .properties.mode.on_option
      label: Again
  - reference: .properties.albums
    label: Albums
    property_inputs:
    - {reference: titel, label: Title}
  - reference: .properties.hostname
    label: Host
    property_inputs:
    - {reference: x, label: X}
"#;

    #[test]
    fn inputs_that_cannot_be_placed_are_reported() {
        let t = ProductTemplate::from_yaml(UNPLACEABLE).unwrap();
        let (tree, unplaced) = FormTree::build_reporting(&t);
        assert_eq!(tree, FormTree::build(&t), "reporting builds the same tree");
        let form = &tree.forms[0];
        assert_eq!(form.inputs.len(), 3, "the misspelt property is left out");
        assert_eq!(form.inputs[0].selector_options[0].inputs.len(), 1);
        assert!(form.inputs[1].record_inputs.is_empty());
        let got: Vec<(&str, &str, Option<&str>)> = unplaced
            .iter()
            .map(|u| {
                (
                    u.path.as_str(),
                    u.reference.as_str(),
                    u.suggestion.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "form_types[0].property_inputs[0]",
                    ".properties.hostnme",
                    Some(".properties.hostname")
                ),
                (
                    "form_types[0].property_inputs[1].selector_property_inputs[0]",
                    ".properties.mode.on_optoin",
                    Some("on_option")
                ),
                (
                    "form_types[0].property_inputs[1].selector_property_inputs[2]",
                    ".properties.mode.on_option",
                    None
                ),
                (
                    "form_types[0].property_inputs[1].selector_property_inputs[1].property_inputs[1]",
                    ".properties.mode.on_option.lvel",
                    Some(".properties.mode.on_option.level")
                ),
                (
                    "form_types[0].property_inputs[2].property_inputs[0]",
                    "titel",
                    Some("title")
                ),
                (
                    "form_types[0].property_inputs[3].property_inputs[0]",
                    "x",
                    None
                ),
            ]
        );
        assert!(unplaced[0]
            .message
            .ends_with("names no property blueprint; did you mean `.properties.hostname`?"));
        assert!(unplaced[2].message.contains("already has its inputs"));
        assert!(unplaced[5]
            .message
            .contains("is a string, which takes no `property_inputs`"));
    }

    #[test]
    fn the_pks_tile_places_every_input() {
        let t = ProductTemplate::from_yaml(PKS).unwrap();
        let (_, unplaced) = FormTree::build_reporting(&t);
        assert!(unplaced.is_empty(), "{unplaced:#?}");
    }
}
