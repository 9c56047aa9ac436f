//! The Director tile's IaaS Configuration and Director Config sections.
//!
//! IaaS secrets are write-only: the server sends a set secret as `***`, the page shows it as
//! set, and only a newly typed secret is sent back (the service keeps the stored one otherwise).

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::{json, Map, Value};

use crate::backend::director::save_director_properties;
use crate::backend::director::DirectorPage;
use crate::backend::{SaveOutcome, REDACTED};
use crate::pages::director::form::{
    field, still_needed, text_input, FieldErrors, Section, SectionState,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Multiline,
    Secret,
    SecretMultiline,
}

/// One IaaS essential: key (the API's), label, kind, required, hint.
type IaasField = (&'static str, &'static str, Kind, bool, Option<&'static str>);

/// The IaaSes in the selector: API value and label. `embedded` is offered only while Tileworks
/// drives its embedded Director stand-in (`DirectorPage::embedded_available`).
pub const IAASES: [(&str, &str); 6] = [
    ("embedded", "Embedded (simulated)"),
    ("vsphere", "vSphere"),
    ("aws", "AWS"),
    ("gcp", "GCP"),
    ("azure", "Azure"),
    ("openstack", "OpenStack"),
];

/// The essentials of each IaaS; `required` matches what the service checks for completeness.
fn iaas_fields(iaas: &str) -> &'static [IaasField] {
    use Kind::*;
    match iaas {
        // The stand-in's CPI simulates VMs: no credentials, datastores or datacenter.
        "embedded" => &[],
        "aws" => &[
            (
                "access_key_id",
                "Access key ID",
                Text,
                false,
                Some("Leave empty when the Director uses an IAM instance profile."),
            ),
            (
                "secret_access_key",
                "Secret access key",
                Secret,
                false,
                None,
            ),
            (
                "iam_instance_profile",
                "IAM instance profile",
                Text,
                false,
                None,
            ),
            (
                "region",
                "Region",
                Text,
                true,
                Some("For example us-east-1."),
            ),
            ("security_group", "Security group ID", Text, true, None),
            ("key_pair_name", "Key pair name", Text, true, None),
            (
                "ssh_private_key",
                "SSH private key",
                SecretMultiline,
                true,
                None,
            ),
        ],
        "gcp" => &[
            ("project", "Project", Text, true, None),
            (
                "default_deployment_tag",
                "Default deployment tag",
                Text,
                true,
                None,
            ),
            (
                "auth_json",
                "Service account key (JSON)",
                SecretMultiline,
                false,
                Some("Or name an associated service account below."),
            ),
            (
                "associated_service_account",
                "Associated service account",
                Text,
                false,
                None,
            ),
        ],
        "azure" => &[
            ("subscription_id", "Subscription ID", Text, true, None),
            ("tenant_id", "Tenant ID", Text, true, None),
            ("client_id", "Application (client) ID", Text, true, None),
            ("client_secret", "Client secret", Secret, true, None),
            (
                "resource_group_name",
                "Resource group name",
                Text,
                true,
                None,
            ),
            (
                "bosh_storage_account_name",
                "BOSH storage account name",
                Text,
                true,
                None,
            ),
            (
                "environment",
                "Azure environment",
                Text,
                false,
                Some("AzureCloud unless you use a sovereign cloud."),
            ),
            ("ssh_public_key", "SSH public key", Multiline, true, None),
            (
                "ssh_private_key",
                "SSH private key",
                SecretMultiline,
                true,
                None,
            ),
        ],
        "openstack" => &[
            (
                "identity_endpoint",
                "Identity endpoint",
                Text,
                true,
                Some("The Keystone URL, for example https://keystone.example.com:5000/v3."),
            ),
            ("username", "Username", Text, true, None),
            ("password", "Password", Secret, true, None),
            ("tenant", "Project (tenant)", Text, true, None),
            ("domain", "Domain", Text, false, None),
            ("region", "Region", Text, false, None),
            ("security_group", "Security group", Text, true, None),
            ("key_pair_name", "Key pair name", Text, true, None),
            (
                "ssh_private_key",
                "SSH private key",
                SecretMultiline,
                true,
                None,
            ),
        ],
        _ => &[
            (
                "vcenter_host",
                "vCenter host",
                Text,
                true,
                Some("Host name or IP address of vCenter."),
            ),
            ("vcenter_username", "vCenter username", Text, true, None),
            ("vcenter_password", "vCenter password", Secret, true, None),
            ("datacenter", "Datacenter name", Text, true, None),
            (
                "persistent_datastore_names",
                "Persistent datastore names",
                Text,
                true,
                Some("Comma-separated."),
            ),
            (
                "ephemeral_datastore_names",
                "Ephemeral datastore names",
                Text,
                true,
                Some("Comma-separated."),
            ),
            ("bosh_vm_folder", "VM folder", Text, false, None),
            ("bosh_template_folder", "Template folder", Text, false, None),
            ("bosh_disk_path", "Disk path folder", Text, false, None),
            (
                "vcenter_ca_certificate",
                "vCenter CA certificate",
                Multiline,
                false,
                Some("PEM; leave empty to trust the system's CAs."),
            ),
        ],
    }
}

/// The IaaS and Director Config sections' save: a part of the Director's properties.
fn properties_save(
    config_version: i64,
    body: &Value,
) -> impl std::future::Future<Output = Result<SaveOutcome, ServerFnError>> + Send + 'static {
    save_director_properties(config_version, body.to_string())
}

fn text_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

#[component]
pub fn IaasSection(
    page: DirectorPage,
    notice: RwSignal<Option<(bool, String)>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let mut patterns = vec!["iaas_configuration.iaas".to_string()];
    for (iaas, _) in IAASES {
        patterns.extend(
            iaas_fields(iaas)
                .iter()
                .map(|f| format!("iaas_configuration.{}", f.0)),
        );
    }
    let iaas = RwSignal::new(page.iaas.clone());
    let values = RwSignal::new(page.iaas_configuration.clone());
    // Secrets the operator typed this time (only these are sent).
    let typed_secrets = RwSignal::new(BTreeMap::<String, String>::new());
    let mut labels = vec![("iaas_configuration.iaas".to_string(), "IaaS".to_string())];
    for (name, _) in IAASES {
        labels.extend(
            iaas_fields(name)
                .iter()
                .map(|f| (format!("iaas_configuration.{}", f.0), f.1.to_string())),
        );
    }
    let state = SectionState::new(page.config_version, notice, reload, patterns)
        .with_labels(labels)
        .with_theirs(move |change, apply| {
            let Some(key) = change.reference.strip_prefix("iaas_configuration.") else {
                return false;
            };
            if key == "iaas" {
                if let (true, Some(chosen)) = (apply, change.value.as_str()) {
                    iaas.set(chosen.to_string());
                }
                return true;
            }
            let Some(kind) = IAASES
                .iter()
                .flat_map(|(name, _)| iaas_fields(name).iter())
                .find(|f| f.0 == key)
                .map(|f| f.2)
            else {
                return false;
            };
            if apply {
                if matches!(kind, Kind::Secret | Kind::SecretMultiline) {
                    // Theirs is stored (and never sent here): drop what was typed.
                    typed_secrets.update(|t| {
                        t.remove(key);
                    });
                }
                values.update(|v| {
                    v.insert(key.to_string(), change.value.clone());
                });
            }
            true
        });

    let save = state.saving("IaaS configuration saved.", properties_save);
    let submit = save.on_submit(move || {
        let chosen = iaas.get_untracked();
        let mut fields = Map::new();
        fields.insert("iaas".into(), Value::String(chosen.clone()));
        values.with_untracked(|v| {
            for (key, _, kind, _, _) in iaas_fields(&chosen) {
                if matches!(kind, Kind::Secret | Kind::SecretMultiline) {
                    if let Some(secret) = typed_secrets.with_untracked(|t| t.get(*key).cloned()) {
                        fields.insert(key.to_string(), Value::String(secret));
                    }
                } else if let Some(value) = v.get(*key) {
                    fields.insert(key.to_string(), value.clone());
                }
            }
        });
        json!({ "iaas_configuration": fields })
    });

    let offer_embedded = page.embedded_available || page.iaas == "embedded";
    let radios = IAASES
        .iter()
        .filter(|(value, _)| *value != "embedded" || offer_embedded)
        .map(|(value, label)| {
            let id = format!("iaas-{value}");
            let label_for = id.clone();
            let value = value.to_string();
            let checked = value.clone();
            view! {
                <label class="choice" for=label_for>
                    <input type="radio" name="iaas" id=id value=value.clone()
                        prop:checked=move || iaas.get() == checked
                        on:change=move |_| {
                            iaas.set(value.clone());
                            state.edited("iaas_configuration.iaas");
                        }/>
                    {*label}
                </label>
            }
        })
        .collect_view();

    let fields = move || {
        let chosen = iaas.get();
        iaas_fields(&chosen)
            .iter()
            .map(|&(key, label, kind, required, hint)| {
                let full = format!("iaas_configuration.{key}");
                let k = full.clone();
                match kind {
                    Kind::Text | Kind::Multiline => {
                        let value = Signal::derive(move || values.with(|v| text_of(v.get(key))));
                        let set = Callback::new(move |text: String| {
                            values.update(|v| {
                                v.insert(key.to_string(), Value::String(text));
                            })
                        });
                        if kind == Kind::Text {
                            field(state, full, label, required, hint, move |id| {
                                text_input(state, k, id, value, set, "")
                            })
                        } else {
                            field(state, full, label, required, hint, move |id| {
                                view! {
                                    <textarea id=id rows="4"
                                        prop:value=move || value.get()
                                        on:input=move |ev| {
                                            set.run(event_target_value(&ev));
                                            state.edited(&k);
                                        }></textarea>
                                }
                                .into_any()
                            })
                        }
                    }
                    Kind::Secret | Kind::SecretMultiline => {
                        let is_set = move || {
                            values.with(|v| v.get(key).and_then(Value::as_str) == Some(REDACTED))
                        };
                        let set = move |text: String| {
                            typed_secrets.update(|t| {
                                if text.is_empty() {
                                    t.remove(key);
                                } else {
                                    t.insert(key.to_string(), text);
                                }
                            });
                        };
                        let placeholder = move || {
                            if is_set() {
                                "Secret is set — type to replace it"
                            } else {
                                ""
                            }
                        };
                        field(state, full, label, required, hint, move |id| {
                            let control = if kind == Kind::Secret {
                                view! {
                                    <input type="password" id=id autocomplete="new-password"
                                        placeholder=placeholder
                                        prop:value=move || typed_secrets.with(|t| t.get(key).cloned().unwrap_or_default())
                                        on:input=move |ev| { set(event_target_value(&ev)); state.edited(&k); }/>
                                }
                                .into_any()
                            } else {
                                view! {
                                    <textarea id=id rows="4" class="secret" autocomplete="off"
                                        placeholder=placeholder
                                        prop:value=move || typed_secrets.with(|t| t.get(key).cloned().unwrap_or_default())
                                        on:input=move |ev| { set(event_target_value(&ev)); state.edited(&k); }></textarea>
                                }
                                .into_any()
                            };
                            view! {
                                {control}
                                <Show when=is_set>
                                    <span class="secret-set">"✓ set"</span>
                                </Show>
                            }
                            .into_any()
                        })
                    }
                }
            })
            .collect_view()
    };

    view! {
        <form class="settings-form" on:submit=submit>
            <h2>"IaaS Configuration"</h2>
            <p class="form-description">"Where the Director creates VMs, and the credentials it uses."</p>
            {still_needed(&page.problems, Section::Iaas)}
            <div class="field" data-field="iaas_configuration.iaas">
                <span class="label">"IaaS"</span>
                <div class="selector iaas-selector" role="radiogroup" aria-label="IaaS">{radios}</div>
                <FieldErrors state key="iaas_configuration.iaas"/>
            </div>
            <Show when=move || iaas.get() == "embedded">
                <p class="hint embedded-hint">
                    "Tileworks's embedded Director simulates its VMs and disks: it needs no cloud \
                     credentials, datastores or datacenter. Choose another IaaS to deploy to a real \
                     cloud through a real Director (--director-url)."
                </p>
            </Show>
            <fieldset class="selector-option">{fields}</fieldset>
            {save.bar(None)}
        </form>
    }
}

/// The label this page gives a field of the IaaS or Director Config sections, by the service's
/// key (`iaas_configuration.vcenter_host`, `director_configuration.ntp_servers_string`): the
/// words problem lists use for the Director.
pub fn label_of_key(key: &str) -> Option<&'static str> {
    if let Some(field) = key.strip_prefix("iaas_configuration.") {
        if field == "iaas" {
            return Some("IaaS");
        }
        return IAASES
            .iter()
            .flat_map(|(iaas, _)| iaas_fields(iaas))
            .find(|f| f.0 == field)
            .map(|f| f.1);
    }
    let field = key.strip_prefix("director_configuration.")?;
    DIRECTOR_FIELDS.iter().find(|f| f.0 == field).map(|f| f.1)
}

/// Director settings: (key, label, kind, hint). Kinds: "text", "int", "bool".
const DIRECTOR_FIELDS: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "ntp_servers_string",
        "NTP servers",
        "text",
        Some("Comma-separated host names or IP addresses."),
    ),
    (
        "director_hostname",
        "Director hostname",
        "text",
        Some("Optional; the name operators use to reach the Director."),
    ),
    (
        "resurrector_enabled",
        "Enable the VM Resurrector",
        "bool",
        None,
    ),
    (
        "post_deploy_enabled",
        "Run post-deploy scripts",
        "bool",
        None,
    ),
    (
        "bosh_recreate_on_next_deploy",
        "Recreate all VMs on the next deploy",
        "bool",
        None,
    ),
    (
        "keep_unreachable_vms",
        "Keep unreachable VMs (for debugging)",
        "bool",
        None,
    ),
    (
        "director_worker_instances",
        "Director workers",
        "int",
        Some("How many deploy tasks the Director runs at once."),
    ),
    (
        "max_threads",
        "Max threads",
        "int",
        Some("Leave empty for the Director's default."),
    ),
    (
        "canaries",
        "Canaries (default)",
        "int",
        Some("Instances updated first in each instance group unless a product says otherwise."),
    ),
];

#[component]
pub fn DirectorConfigSection(
    page: DirectorPage,
    notice: RwSignal<Option<(bool, String)>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let patterns = DIRECTOR_FIELDS
        .iter()
        .map(|f| format!("director_configuration.{}", f.0))
        .collect();
    let values = RwSignal::new(page.director_configuration.clone());
    let state =
        SectionState::new(page.config_version, notice, reload, patterns)
            .with_labels(DIRECTOR_FIELDS.iter().map(|(key, label, ..)| {
                (format!("director_configuration.{key}"), label.to_string())
            }))
            .with_theirs(move |change, apply| {
                let Some(key) = change
                    .reference
                    .strip_prefix("director_configuration.")
                    .filter(|k| DIRECTOR_FIELDS.iter().any(|f| f.0 == *k))
                else {
                    return false;
                };
                if apply {
                    values.update(|v| {
                        v.insert(key.to_string(), change.value.clone());
                    });
                }
                true
            });
    let save = state.saving("Director settings saved.", properties_save);
    let submit = save.on_submit(move || {
        let fields: Map<String, Value> = values.with_untracked(|v| {
            DIRECTOR_FIELDS
                .iter()
                .filter_map(|(key, ..)| v.get(*key).map(|x| (key.to_string(), x.clone())))
                .collect()
        });
        json!({ "director_configuration": fields })
    });

    let inputs = DIRECTOR_FIELDS
        .iter()
        .map(|&(key, label, kind, hint)| {
            let full = format!("director_configuration.{key}");
            let k = full.clone();
            match kind {
                "bool" => {
                    let id = crate::components::widgets::field_id(&full);
                    let label_for = id.clone();
                    let data_field = full.clone();
                    view! {
                        <div class="field" data-field=data_field>
                            <label class="choice" for=label_for>
                                <input type="checkbox" id=id
                                    prop:checked=move || values.with(|v| v.get(key).and_then(Value::as_bool).unwrap_or(false))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        values.update(|v| { v.insert(key.to_string(), Value::Bool(on)); });
                                        state.edited(&k);
                                    }/>
                                {label}
                            </label>
                            {hint.map(|h| view! { <p class="field-description">{h}</p> })}
                            <FieldErrors state key=full/>
                        </div>
                    }
                    .into_any()
                }
                "int" => {
                    let value = Signal::derive(move || values.with(|v| text_of(v.get(key))));
                    // Typed as text so a wrong entry stays visible with the service's message.
                    let set = Callback::new(move |typed: String| {
                        let value = match typed.trim().parse::<i64>() {
                            Ok(n) => json!(n),
                            Err(_) if typed.trim().is_empty() => Value::Null,
                            Err(_) => Value::String(typed),
                        };
                        values.update(|v| {
                            v.insert(key.to_string(), value);
                        });
                    });
                    field(state, full, label, false, hint, move |id| {
                        text_input(state, k, id, value, set, "")
                    })
                }
                _ => {
                    let value = Signal::derive(move || values.with(|v| text_of(v.get(key))));
                    let set = Callback::new(move |text: String| {
                        values.update(|v| {
                            v.insert(key.to_string(), Value::String(text));
                        })
                    });
                    let required = key == "ntp_servers_string";
                    field(state, full, label, required, hint, move |id| {
                        text_input(state, k, id, value, set, "")
                    })
                }
            }
        })
        .collect_view();

    view! {
        <form class="settings-form" on:submit=submit>
            <h2>"Director Config"</h2>
            {still_needed(&page.problems, Section::Director)}
            {inputs}
            {save.bar(None)}
        </form>
    }
}
