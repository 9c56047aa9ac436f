//! The form view-model: what an operator sees on a product's settings pages, built from the
//! metadata's `form_types` and the blueprints their inputs reference. The UI renders this tree,
//! `tileworks tile forms` prints it (see [`FormTree::render_text`]) so tile authors can preview
//! their forms without a server.
//!
//! Text shown comes from the form input first (`label`, `description`, `placeholder`) and falls
//! back to the blueprint's own, then to its name. Inputs whose reference resolves to no blueprint
//! are left out: lint reports them (`form-reference-resolves`).

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
        let forms = t
            .form_types
            .iter()
            .map(|f| Form {
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
                    .filter_map(|i| input_for_reference(t, i))
                    .collect(),
            })
            .collect();
        FormTree {
            product_name: t.name.clone(),
            product_label: t.label.clone(),
            forms,
        }
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

fn input_for_reference(t: &ProductTemplate, pi: &PropertyInput) -> Option<Input> {
    let found = t.property(&pi.reference)?;
    let bp = found.blueprint;
    let mut input = base_input(bp, pi, found.reference.clone());
    match &bp.kind {
        crate::metadata::BlueprintKind::Selector { option_templates } => {
            let declared = match &pi.kind {
                InputKind::Selector {
                    selector_property_inputs,
                } => selector_property_inputs.as_slice(),
                _ => &[],
            };
            input.selector_options = option_templates
                .iter()
                .map(|o| {
                    let spi = declared.iter().find(|s| s.option_name() == o.name);
                    selector_choice(t, &found.reference, o, spi)
                })
                .collect();
        }
        crate::metadata::BlueprintKind::Collection {
            property_blueprints,
            ..
        } => {
            input.record_inputs = match &pi.kind {
                InputKind::Collection { property_inputs } => property_inputs
                    .iter()
                    .filter_map(|sub| {
                        let name = sub.reference.rsplit('.').next().unwrap_or_default();
                        property_blueprints
                            .iter()
                            .find(|b| b.name == name)
                            .map(|b| base_input(b, sub, b.name.clone()))
                    })
                    .collect(),
                // No record inputs declared: show every configurable sub-property.
                _ => property_blueprints
                    .iter()
                    .filter(|b| b.configurable)
                    .map(|b| base_input(b, &bare_input(&b.name), b.name.clone()))
                    .collect(),
            };
        }
        crate::metadata::BlueprintKind::Simple => {}
    }
    Some(input)
}

fn selector_choice(
    t: &ProductTemplate,
    selector_reference: &str,
    o: &OptionTemplate,
    spi: Option<&crate::metadata::SelectorOptionInput>,
) -> SelectorChoice {
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
        inputs: spi
            .map(|s| {
                s.property_inputs
                    .iter()
                    .filter_map(|i| input_for_reference(t, i))
                    .collect()
            })
            .unwrap_or_default(),
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
}
