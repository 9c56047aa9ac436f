//! Install-time verifiers of the Director tile and of each staged product (the checks are
//! `tiles::verifiers`, pure; this file knows which are switched off and gathers what they
//! need: the staged values with their credentials opened, the certificates' names, the
//! Director's IaaS configuration, networks and AZs, the placements; what a check must reach
//! over the network is tried by `crate::reach`).
//!
//! A verifier is enabled unless an operator switched it off (`PUT
//! …/verifiers/install_time/:type {"enabled": false}`, stored in `verifier_settings`; a
//! tile's `Verifiers::X` is also accepted as `X`). Apply Changes runs the enabled ones before
//! anything is deployed and is refused by a failing one (an ignorable one only warns); a
//! switched-off one is skipped and the installation log says so, as it says why a verifier
//! reached nothing (the embedded IaaS) or did not run (`run_on: major_or_minor_upgrades`
//! and a patch upgrade). Review and `pre_deploy_check` show the same runs.

use std::collections::BTreeMap;

use serde_json::Value;
use tiles::verifiers::director::{
    self as director_verifiers, DirectorInputs, NewAddress, Placement,
};
use tiles::verifiers::{self, declared, CertificateNames, Finding, Labels, VerifyContext};

use super::{Products, StagedProduct};
use crate::{Error, Result};

/// A verifier and whether it is switched on (om's `{"type", "enabled"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierState {
    pub kind: String,
    pub enabled: bool,
    pub description: String,
}

/// One verifier's run: skipped when switched off, else what it found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VerifierRun {
    pub kind: String,
    pub enabled: bool,
    /// A finding only warns (Apply Changes' `ignore_warnings` lets it through).
    pub ignorable: bool,
    pub findings: Vec<Finding>,
    /// Why it reached nothing or did not run, for the installation log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl VerifierRun {
    /// The findings as one line each.
    pub fn messages(&self) -> Vec<String> {
        self.findings.iter().map(Finding::text).collect()
    }
}

/// What an owner's verifiers are: the Director's or a product's.
enum Owner {
    Director(String),
    Product(Box<StagedProduct>),
}

impl Products {
    /// The Director's verifiers with their state.
    pub async fn director_verifiers(&self) -> Result<Vec<VerifierState>> {
        let guid = self.director().await?.guid;
        let settings = self.store().verifiers().settings(&guid).await?;
        Ok(director_verifiers::DIRECTOR_VERIFIERS
            .iter()
            .map(|(kind, description)| VerifierState {
                kind: (*kind).to_owned(),
                enabled: settings.get(*kind).copied().unwrap_or(true),
                description: (*description).to_owned(),
            })
            .collect())
    }

    /// A staged product's verifiers with their state (the Director's for its GUID); `404` for
    /// an unknown GUID.
    pub async fn product_verifiers(&self, guid: &str) -> Result<Vec<VerifierState>> {
        let product = match self.owner(guid).await? {
            Owner::Director(_) => return self.director_verifiers().await,
            Owner::Product(p) => p,
        };
        let settings = self.store().verifiers().settings(&product.guid).await?;
        let state = |kind: &str, description: &str| VerifierState {
            kind: kind.to_owned(),
            enabled: settings.get(kind).copied().unwrap_or(true),
            description: description.to_owned(),
        };
        let mut out: Vec<VerifierState> = verifiers::for_product(&product.template)
            .into_iter()
            .map(|v| state(v.name, v.description))
            .collect();
        out.extend(
            declared::of_product(&product.template)
                .iter()
                .map(|d| state(d.kind, d.description)),
        );
        Ok(out)
    }

    /// Switches one of the Director's verifiers on or off; `404` naming an unknown type.
    pub async fn set_director_verifier(&self, kind: &str, enabled: bool) -> Result<VerifierState> {
        let guid = self.director().await?.guid;
        self.set_verifier(&guid, self.director_verifiers().await?, kind, enabled)
            .await
    }

    /// Switches one of a product's verifiers on or off; `404` for an unknown GUID or type.
    pub async fn set_product_verifier(
        &self,
        guid: &str,
        kind: &str,
        enabled: bool,
    ) -> Result<VerifierState> {
        let owner = match self.owner(guid).await? {
            Owner::Director(g) => g,
            Owner::Product(p) => p.guid,
        };
        self.set_verifier(&owner, self.product_verifiers(guid).await?, kind, enabled)
            .await
    }

    async fn set_verifier(
        &self,
        owner: &str,
        known: Vec<VerifierState>,
        kind: &str,
        enabled: bool,
    ) -> Result<VerifierState> {
        let kind = kind.strip_prefix("Verifiers::").unwrap_or(kind);
        let Some(mut state) = known.into_iter().find(|v| v.kind == kind) else {
            return Err(Error::NotFound(format!("install-time verifier '{kind}'")));
        };
        self.store().verifiers().set(owner, kind, enabled).await?;
        state.enabled = enabled;
        Ok(state)
    }

    async fn owner(&self, guid: &str) -> Result<Owner> {
        let director = self.director().await?;
        if guid == director.guid {
            return Ok(Owner::Director(director.guid));
        }
        Ok(Owner::Product(Box::new(self.staged_product(guid).await?)))
    }

    /// Runs the Director's verifiers on its own placement and on `products`' placements (the
    /// products an apply deploys, or every staged one for Review).
    pub async fn run_director_verifiers(
        &self,
        products: &[StagedProduct],
    ) -> Result<Vec<VerifierRun>> {
        let director = self.director().await?;
        let config = director.settings.director_config();
        let name_at = |v: Option<&Value>, key: &str| {
            v.and_then(|v| v.get(key))
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let assignment = director.settings.network_assignment.as_ref();
        let mut placements = vec![Placement {
            owner: "BOSH Director".into(),
            form: "network_and_az".into(),
            network: name_at(assignment, "network"),
            service_network: None,
            singleton_az: name_at(assignment, "singleton_availability_zone"),
            other_azs: Vec::new(),
        }];
        for p in products {
            let nets = p.settings.networks_and_azs.as_ref();
            placements.push(Placement {
                owner: p.label.clone(),
                form: "networks_and_azs".into(),
                network: name_at(nets, "network"),
                service_network: name_at(nets, "service_network"),
                singleton_az: name_at(nets, "singleton_availability_zone"),
                other_azs: nets
                    .and_then(|n| n.get("other_availability_zones"))
                    .and_then(Value::as_array)
                    .map(|azs| {
                        azs.iter()
                            .filter_map(|a| a.get("name").and_then(Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        let ntp_servers: Vec<String> = director
            .settings
            .director_configuration
            .get("ntp_servers_string")
            .and_then(Value::as_str)
            .map(super::director::split_list)
            .unwrap_or_default();
        let states = self.director_verifiers().await?;
        // Addresses are only pinged with ICMP checks on a real IaaS: otherwise nothing reads
        // them, and they cost a query per product.
        let pings_addresses = director.settings.icmp_checks_enabled
            && config.iaas != tiles::cloud_config::Iaas::Embedded
            && states
                .iter()
                .any(|s| s.kind == director_verifiers::ALLOCATED_IP_ADDRESS && s.enabled);
        let new_static_ips = if pings_addresses {
            self.new_static_ips(products).await?
        } else {
            Vec::new()
        };
        let inputs = DirectorInputs {
            config: &config,
            iaas_configuration: &director.settings.iaas_configuration,
            icmp_checks_enabled: director.settings.icmp_checks_enabled,
            placements: &placements,
            ntp_servers: &ntp_servers,
            director_configuration: &director.settings.director_configuration,
            new_static_ips: &new_static_ips,
        };
        let mut runs = Vec::new();
        // The vCenter that IaasConfigurationVerifier could not reach is not asked again about
        // the user's permissions: one finding says it.
        let mut iaas_failed = false;
        for s in states {
            let ignorable = director_verifiers::ignorable(&s.kind);
            if !s.enabled {
                runs.push(VerifierRun {
                    kind: s.kind,
                    enabled: false,
                    ignorable,
                    findings: Vec::new(),
                    note: None,
                });
                continue;
            }
            let mut outcome = director_verifiers::run(&s.kind, &inputs);
            if s.kind == director_verifiers::PRIVILEGE && iaas_failed && !outcome.reach.is_empty() {
                outcome.reach.clear();
                outcome.note = Some(
                    "the IaaS configuration failed its own check: permissions were not asked"
                        .into(),
                );
            }
            // The stand-in (embedded, or run on its own) simulates its CPI and networks whatever
            // the tile's IaaS: nothing it deploys would touch the vCenter or a gateway, so
            // neither is reached.
            if self.simulated_iaas() && !outcome.reach.is_empty() {
                outcome.reach.clear();
                outcome.note = Some(
                    "Tileworks's Director stand-in simulates the IaaS: nothing was reached".into(),
                );
            }
            let mut findings = outcome.findings;
            findings.extend(crate::reach::findings(outcome.reach).await);
            if s.kind == tiles::verifiers::iaas::IAAS_CONFIGURATION && !findings.is_empty() {
                iaas_failed = true;
            }
            runs.push(VerifierRun {
                kind: s.kind,
                enabled: true,
                ignorable,
                findings,
                note: outcome.note,
            });
        }
        Ok(runs)
    }

    /// The static IPs operators give `products`' jobs that the VMs last deployed for them do
    /// not hold (an address a deployed job keeps answers, rightly), each named at its field,
    /// for `AllocatedIpAddressVerifier`.
    async fn new_static_ips(&self, products: &[StagedProduct]) -> Result<Vec<NewAddress>> {
        let mut out = Vec::new();
        for p in products {
            let addresses =
                tiles::verifiers::static_ips::addresses(&p.template, &p.settings.staged);
            if addresses.is_empty() {
                continue;
            }
            let held = match self.store().installations().deployed_one(&p.guid).await? {
                Some(row) => held_addresses(&row.manifest),
                None => Vec::new(),
            };
            let labels = Labels::of(&p.template);
            for (job, ip) in addresses {
                if held.iter().any(|range| range.contains(ip)) {
                    continue;
                }
                let ip = ip.to_string();
                let mut at = labels.finding(
                    director_verifiers::ALLOCATED_IP_ADDRESS,
                    &format!(".{job}.static_ips"),
                    "",
                );
                at.form_label = if at.form_label.is_empty() {
                    p.label.clone()
                } else {
                    format!("{} › {}", p.label, at.form_label)
                };
                at.product = Some(p.guid.clone());
                out.push(NewAddress { ip, at });
            }
        }
        Ok(out)
    }

    /// Runs a product's verifiers on its staged values: Tileworks's own, then Ops Manager's
    /// that its metadata names. `staged` are the products staged beside it (it may be among
    /// them): the static IPs their jobs have on its network are not its to give.
    pub async fn run_product_verifiers(
        &self,
        product: &StagedProduct,
        staged: &[StagedProduct],
    ) -> Result<Vec<VerifierRun>> {
        let selected = verifiers::for_product(&product.template);
        let named = declared::of_product(&product.template);
        if selected.is_empty() && named.is_empty() {
            return Ok(Vec::new());
        }
        let settings = self.store().verifiers().settings(&product.guid).await?;
        let director = self.director().await?;
        let config = director.settings.director_config();
        let certificates = certificate_names(product);
        let network = product
            .settings
            .networks_and_azs
            .as_ref()
            .and_then(|n| n["network"]["name"].as_str());
        let others: Vec<&StagedProduct> =
            staged.iter().filter(|p| p.guid != product.guid).collect();
        let taken_ips = network.map(|network| static_ips_on(network, &others));
        let present_products: Vec<String> = others
            .iter()
            .map(|p| p.name.clone())
            .chain([product.name.clone()])
            .collect();
        let ctx = VerifyContext {
            director: Some(&config),
            network,
            certificates: Some(&certificates),
            taken_ips: taken_ips.as_ref(),
            present_products: Some(&present_products),
        };
        let mut runs: Vec<VerifierRun> = selected
            .into_iter()
            .map(|v| {
                let enabled = settings.get(v.name).copied().unwrap_or(true);
                VerifierRun {
                    kind: v.name.to_owned(),
                    enabled,
                    ignorable: verifiers::ignorable(&product.template, v.name),
                    findings: if enabled {
                        v.run(&product.template, &product.settings.staged, &ctx)
                    } else {
                        Vec::new()
                    },
                    note: None,
                }
            })
            .collect();
        if named.is_empty() {
            return Ok(runs);
        }
        let labels = Labels::of(&product.template);
        let deployed = self
            .deployed_version(&product.guid)
            .await?
            .map(|d| d.version);
        for d in named {
            let mut run = VerifierRun {
                kind: d.kind.to_owned(),
                enabled: settings.get(d.kind).copied().unwrap_or(true),
                ignorable: d.ignorable(),
                findings: Vec::new(),
                note: None,
            };
            // A first deploy runs it: nothing deployed is further from the staged version
            // than any upgrade.
            let skip = match &deployed {
                Some(from)
                    if d.upgrades_only()
                        && !declared::is_major_or_minor_change(from, &product.version) =>
                {
                    Some(format!(
                        "runs only on major or minor upgrades (run_on: major_or_minor_upgrades) \
                         and {from} → {} is neither: skipped",
                        product.version
                    ))
                }
                _ => None,
            };
            if run.enabled && skip.is_none() {
                let (mut findings, reach) =
                    d.run(&product.template, &product.settings.staged, &labels);
                findings.extend(crate::reach::findings(reach).await);
                run.findings = findings;
            }
            run.note = skip;
            runs.push(run);
        }
        Ok(runs)
    }
}

/// The static IPs a deployed manifest gives its instance groups (`instance_groups[].networks[]
/// .static_ips`: addresses or ranges, as the operator wrote them).
fn held_addresses(manifest: &str) -> Vec<tiles::cloud_config::IpRange> {
    let Ok(manifest) = serde_json::from_str::<Value>(manifest) else {
        return Vec::new();
    };
    manifest["instance_groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|group| group["networks"].as_array().into_iter().flatten())
        .flat_map(|network| network["static_ips"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .filter_map(|text| tiles::cloud_config::IpRange::parse(text).ok())
        .collect()
}

/// The names each set `rsa_cert_credentials` property's certificate covers.
fn certificate_names(
    product: &StagedProduct,
) -> BTreeMap<String, std::result::Result<CertificateNames, String>> {
    let mut out = BTreeMap::new();
    for pref in product.template.property_refs() {
        if pref.blueprint.property_type.as_str() != "rsa_cert_credentials" {
            continue;
        }
        let Some(pem) = product
            .settings
            .staged
            .get(&pref.reference)
            .and_then(|v| v.get("cert_pem"))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
        else {
            continue;
        };
        let names = tiles::credentials::certificate_names(pem).map_err(|e| match e {
            tiles::Error::Invalid { message, .. } => message,
            other => other.to_string(),
        });
        out.insert(pref.reference.clone(), names);
    }
    out
}

/// The static IPs `products` give their jobs on `network`, with who has each
/// (`job router of Product`), for [`VerifyContext::taken_ips`].
fn static_ips_on(
    network: &str,
    products: &[&StagedProduct],
) -> BTreeMap<tiles::cloud_config::Ip, String> {
    let mut taken = BTreeMap::new();
    for other in products {
        let on_network = other
            .settings
            .networks_and_azs
            .as_ref()
            .and_then(|n| n["network"]["name"].as_str())
            == Some(network);
        if !on_network {
            continue;
        }
        let addresses =
            tiles::verifiers::static_ips::addresses(&other.template, &other.settings.staged);
        for (job, ip) in addresses {
            taken
                .entry(ip)
                .or_insert_with(|| format!("job {job} of {}", other.label));
        }
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::held_addresses;

    #[test]
    fn a_deployed_manifest_holds_its_instance_groups_static_ips() {
        use tiles::cloud_config::Ip;
        let manifest = serde_json::json!({"instance_groups": [
            {"name": "web", "networks": [{"name": "infra", "static_ips": ["10.0.0.20-10.0.0.22"]}]},
            {"name": "db", "networks": [{"name": "infra"}]},
            {"name": "lb", "networks": [{"name": "edge", "static_ips": ["10.1.0.5"]}, {"name": "infra", "default": ["dns"]}]},
        ]})
        .to_string();
        let held = held_addresses(&manifest);
        let holds = |ip: &str| held.iter().any(|r| r.contains(Ip::parse(ip).unwrap()));
        assert!(holds("10.0.0.21") && holds("10.1.0.5"));
        assert!(!holds("10.0.0.23") && !holds("10.1.0.6"));
        assert!(held_addresses("not json").is_empty());
        assert!(held_addresses("{}").is_empty());
    }
}
