//! The one wording of "why is this not deployable" for the pages: each finding of the
//! completeness checks (a reference and its messages) becomes an [`app::backend::Problem`] that
//! names the field by its label, the form that edits it, and links there (anchored at the
//! field). The dashboard's tiles and Review Pending Changes both call this, so they never word
//! the same finding differently.

use std::collections::BTreeMap;

use app::backend::Problem;
use app::components::widgets::field_id;
use app::pages::director::form::{ui_key, Section};
use tiles::forms::FormTree;

/// The placement references of a product (`networks_and_azs.*`) with the words of its Assign
/// AZs and Networks section.
const PLACEMENT_LABELS: [(&str, &str); 4] = [
    ("singleton_availability_zone", "Place singleton jobs in"),
    ("other_availability_zones", "Balance other jobs in"),
    ("network", "Network"),
    ("service_network", "Service Network"),
];

/// The field ids the Assign AZs and Networks section gives its controls.
fn placement_anchor(key: &str) -> &'static str {
    match key {
        "singleton_availability_zone" => "singleton_az",
        "other_availability_zones" => "other_azs",
        "service_network" => "service_network",
        _ => "network",
    }
}

/// A staged product's findings (`reasons`: reference → messages, as its completeness holds them).
pub(crate) fn of_product(
    guid: &str,
    tree: &FormTree,
    reasons: &BTreeMap<String, Vec<String>>,
) -> Vec<Problem> {
    let settings = format!("/products/{guid}/settings");
    let mut out = Vec::new();
    for (reference, messages) in reasons {
        let (label, form, href) = if let Some(key) = reference.strip_prefix("networks_and_azs.") {
            let label = PLACEMENT_LABELS
                .iter()
                .find(|(k, _)| *k == key)
                .map_or_else(|| readable(key), |(_, l)| (*l).to_owned());
            (
                label,
                Some("Assign AZs and Networks".to_owned()),
                Some(format!("{settings}?section=azs#{}", placement_anchor(key))),
            )
        } else if let Some(found) = tree.locate(reference) {
            (
                found.label(),
                Some(found.form.label.clone()),
                Some(format!(
                    "{settings}?form={}#{}",
                    found.form.name,
                    field_id(&found.input.reference)
                )),
            )
        } else if reference.starts_with("resource-config.") {
            (
                readable(reference.rsplit('.').next().unwrap_or(reference)),
                Some("Resource Config".to_owned()),
                Some(format!("{settings}?section=resources")),
            )
        } else {
            (reference.clone(), None, None)
        };
        for message in messages {
            out.push(Problem {
                label: label.clone(),
                form: form.clone(),
                href: href.clone(),
                message: message.clone(),
                reference: reference.clone(),
            });
        }
    }
    out
}

/// The Director tile's findings, named by its sections and fields.
pub(crate) fn of_director(reasons: &BTreeMap<String, Vec<String>>) -> Vec<Problem> {
    let mut out = Vec::new();
    for (reference, messages) in reasons {
        let key = ui_key(reference);
        let section = Section::of_key(&key);
        let label = app::pages::director::iaas::label_of_key(&key)
            .map(str::to_owned)
            .or_else(|| {
                let field = key.strip_prefix("network_and_az.")?;
                Some(match field {
                    "singleton_availability_zone" => "Singleton availability zone".to_owned(),
                    "network" => "Network".to_owned(),
                    other => readable(other),
                })
            })
            .unwrap_or_else(|| positional(&key));
        for message in messages {
            out.push(Problem {
                label: label.clone(),
                form: section.map(|s| s.label().to_owned()),
                href: section.map(|s| format!("/director?section={}#{}", s.slug(), field_id(&key))),
                message: message.clone(),
                reference: reference.clone(),
            });
        }
    }
    out
}

/// The job-spec check's findings of a product's manifest (`tiles::job_specs`), linked to the
/// product's settings: the manifest place (`instance_groups[web].jobs[web]`), the finding in
/// words (with its "did you mean"), and the manifest path of the property as the reference.
pub(crate) fn of_job_specs(guid: &str, findings: &[tiles::job_specs::SpecFinding]) -> Vec<Problem> {
    use tiles::job_specs::SpecFindingKind;
    findings
        .iter()
        .map(|f| Problem {
            label: format!("Job {} of release {} {}", f.job, f.release, f.version),
            form: None,
            href: Some(format!("/products/{guid}/settings")),
            message: f.message.clone(),
            reference: match &f.kind {
                SpecFindingKind::UndeclaredProperty { property, .. } => {
                    format!("{}.properties.{property}", f.at)
                }
                SpecFindingKind::MissingJob { .. } => f.at.clone(),
            },
        })
        .collect()
}

/// Install-time verifiers' findings (they carry their form and field labels), linked to the
/// field: the Director's sections for the Director tile, the product's forms otherwise.
pub(crate) fn of_findings(
    guid: &str,
    is_director: bool,
    findings: &[tiles::verifiers::Finding],
) -> Vec<Problem> {
    findings
        .iter()
        .map(|f| {
            // A Director verifier naming a product's field links to that product's form.
            let (guid, is_director) = match &f.product {
                Some(product) => (product.as_str(), false),
                None => (guid, is_director),
            };
            let href = if f.form == "network_and_az" || is_director {
                let key = ui_key(&f.reference);
                let section = Section::of_key(&key).unwrap_or(Section::Assign);
                format!("/director?section={}#{}", section.slug(), field_id(&key))
            } else if let Some(key) = f.reference.strip_prefix("networks_and_azs.") {
                format!(
                    "/products/{guid}/settings?section=azs#{}",
                    placement_anchor(key)
                )
            } else {
                format!(
                    "/products/{guid}/settings?form={}#{}",
                    f.form,
                    field_id(&f.reference)
                )
            };
            Problem {
                label: f.field_label.clone(),
                form: Some(f.form_label.clone()),
                href: Some(href),
                message: f.message.clone(),
                reference: f.reference.clone(),
            }
        })
        .collect()
}

/// `vcenter_dc` → `Vcenter dc`: the last resort for a key no page labels.
fn readable(key: &str) -> String {
    let text = key.replace(['_', '-'], " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// `networks[0].subnets[1].cidr` → `Network 1 › Subnet 2 › Cidr`: list entries by position,
/// as the page shows them one under the other.
fn positional(key: &str) -> String {
    key.split('.')
        .map(|part| match part.split_once('[') {
            Some((name, rest)) => {
                let index: usize = rest.trim_end_matches(']').parse().unwrap_or(0);
                let singular = name.strip_suffix('s').unwrap_or(name);
                format!("{} {}", readable(singular), index + 1)
            }
            None => readable(part),
        })
        .collect::<Vec<_>>()
        .join(" › ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, m)| (k.to_string(), vec![m.to_string()]))
            .collect()
    }

    #[test]
    fn a_product_finding_names_its_form_and_field_and_links_to_the_field() {
        let template =
            tiles::metadata::ProductTemplate::from_yaml(tiles::products::PKS_METADATA).unwrap();
        let tree = FormTree::build(&template);
        let found = of_product(
            "pks-1",
            &tree,
            &reasons(&[
                (
                    ".properties.cloud_provider.vsphere.vcenter_dc",
                    "can't be blank",
                ),
                ("networks_and_azs.network", "can't be blank"),
                (".nowhere.x", "is wrong"),
            ]),
        );
        let by_ref = |r: &str| found.iter().find(|p| p.reference == r).unwrap();
        let dc = by_ref(".properties.cloud_provider.vsphere.vcenter_dc");
        assert_eq!(dc.form.as_deref(), Some("Kubernetes Cloud Provider"));
        assert!(dc.label.ends_with("Datacenter Name"), "{}", dc.label);
        assert_eq!(
            dc.href.as_deref(),
            Some("/products/pks-1/settings?form=cloud_provider#f_properties_cloud_provider_vsphere_vcenter_dc")
        );
        assert_eq!(dc.message, "can't be blank");
        let net = by_ref("networks_and_azs.network");
        assert_eq!(net.label, "Network");
        assert_eq!(net.form.as_deref(), Some("Assign AZs and Networks"));
        assert_eq!(
            net.href.as_deref(),
            Some("/products/pks-1/settings?section=azs#network")
        );
        // What no form shows keeps its reference as its name, without a link.
        let nowhere = by_ref(".nowhere.x");
        assert_eq!(
            (nowhere.label.as_str(), nowhere.href.as_ref()),
            (".nowhere.x", None)
        );
    }

    #[test]
    fn a_director_finding_names_its_section_and_field() {
        let found = of_director(&reasons(&[
            ("iaas_configuration.vcenter_host", "can't be blank"),
            (
                "director_configuration.ntp_servers_string",
                "can't be blank",
            ),
            ("networks[0].subnets[1].cidr", "is not a CIDR"),
        ]));
        let by_ref = |r: &str| found.iter().find(|p| p.reference == r).unwrap();
        let host = by_ref("iaas_configuration.vcenter_host");
        assert_eq!(host.form.as_deref(), Some("IaaS Configuration"));
        assert_eq!(
            host.href.as_deref(),
            Some("/director?section=iaas#fiaas_configuration_vcenter_host")
        );
        let ntp = by_ref("director_configuration.ntp_servers_string");
        assert_eq!(ntp.label, "NTP servers");
        assert_eq!(ntp.form.as_deref(), Some("Director Config"));
        let cidr = by_ref("networks[0].subnets[1].cidr");
        assert_eq!(cidr.label, "Network 1 › Subnet 2 › Cidr");
        assert_eq!(cidr.form.as_deref(), Some("Create Networks"));
    }
}
