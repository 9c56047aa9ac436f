//! One widget per property type, drawn from the form tree the `tiles` crate builds from the tile
//! metadata. Every widget writes through a [`Binding`], so top-level properties, selector
//! sub-properties and collection record fields share the same widgets.

use leptos::prelude::*;
use serde_json::{json, Map, Value};
use tiles::forms::Input;
use tiles::metadata::PropertyType;

use crate::backend::settings::{generate_form_certificate, CertificateGenerated};
use crate::backend::{SaveOutcome, REDACTED};
use crate::pages::product::form_state::{is_redacted, Binding, FormState};

/// Notes on fields that never block a save (the PKS service adapter's warnings), by
/// reference, as the server worked them out for the page; provided as context by the
/// settings page so that nested fields (selector options, collections) find theirs too.
#[derive(Clone, Copy)]
pub struct FieldNotes(StoredValue<std::collections::BTreeMap<String, Vec<String>>>);

impl FieldNotes {
    pub fn new(notes: std::collections::BTreeMap<String, Vec<String>>) -> Self {
        FieldNotes(StoredValue::new(notes))
    }

    fn of(&self, key: &str) -> Vec<String> {
        self.0
            .with_value(|n| n.get(key).cloned().unwrap_or_default())
    }
}

/// The field wrapper: label, description, the control, its notes and its errors.
#[component]
pub fn Field(input: Input, binding: Binding) -> AnyView {
    let id = field_id(&binding.key);
    let errors_key = binding.key.clone();
    let state = binding.state;
    let required = !input.optional && input.configurable;
    let label = input.label.clone();
    let description = input.description.clone();
    let control = control(&input, binding, &id);
    let data_reference = errors_key.clone();
    let notes = use_context::<FieldNotes>()
        .map(|n| n.of(&errors_key))
        .unwrap_or_default();
    let notes = (!notes.is_empty()).then(|| {
        view! {
            <ul class="field-notes adapter-warnings" title="The PKS service adapter's warnings: saving is not blocked">
                {notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
            </ul>
        }
    });
    view! {
        <div class="field" data-reference=data_reference>
            <label for=id.clone()>
                {label}
                {required.then(|| view! { <span class="required" title="required">" *"</span> })}
            </label>
            {description.map(|d| view! { <p class="field-description">{d}</p> })}
            {control}
            {notes}
            <FieldErrors state key=errors_key/>
        </div>
    }
    .into_any()
}

#[component]
fn FieldErrors(state: FormState, key: String) -> impl IntoView {
    move || {
        let errors = state.visible_errors(&key);
        (!errors.is_empty()).then(|| {
            view! {
                <ul class="field-errors" role="alert">
                    {errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            }
        })
    }
}

/// False until the browser has hydrated the page (effects never run on the server): buttons
/// that only work with the wasm (Add, Remove, Generate…) are disabled until then, so the page
/// read before the wasm arrives, or without JavaScript, never offers a dead button.
pub fn hydrated() -> Signal<bool> {
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    ready.into()
}

/// A DOM id for a reference (ids must not contain the dots and brackets references have).
pub fn field_id(key: &str) -> String {
    let mut id = String::from("f");
    for c in key.chars() {
        id.push(if c.is_ascii_alphanumeric() { c } else { '_' });
    }
    id
}

fn control(input: &Input, binding: Binding, id: &str) -> AnyView {
    if !input.configurable {
        return read_only(input, binding);
    }
    let placeholder = input.placeholder.clone().unwrap_or_default();
    let multiline = input.display_type.as_deref() == Some("text_area");
    match &input.property_type {
        PropertyType::Boolean => checkbox(binding, id),
        PropertyType::Integer | PropertyType::Port => integer(binding, id, placeholder),
        PropertyType::Text | PropertyType::CaCertificate => textarea(binding, id, placeholder),
        _ if multiline && !input.credential => textarea(binding, id, placeholder),
        PropertyType::DropdownSelect => dropdown(binding, id, input),
        PropertyType::MultiSelectOptions => multi_select(
            binding,
            input
                .options
                .iter()
                .map(|c| (c.value.clone(), c.label.clone()))
                .collect(),
        ),
        PropertyType::VmTypeDropdown => {
            let names = binding.state.catalog.with_value(|c| c.vm_types.clone());
            catalog_select(binding, id, names)
        }
        PropertyType::DiskTypeDropdown => {
            let names = binding.state.catalog.with_value(|c| c.disk_types.clone());
            catalog_select(binding, id, names)
        }
        PropertyType::ServiceNetworkAzSingleSelect => {
            let names = binding
                .state
                .catalog
                .with_value(|c| c.availability_zones.clone());
            catalog_select(binding, id, names)
        }
        PropertyType::ServiceNetworkAzMultiSelect => {
            let names = binding
                .state
                .catalog
                .with_value(|c| c.availability_zones.clone());
            multi_select(binding, names.into_iter().map(|n| (json!(n), n)).collect())
        }
        PropertyType::Secret => secret(binding, id),
        PropertyType::SimpleCredentials => credentials(binding, id),
        PropertyType::SaltedCredentials => {
            let fields = credentials(binding, id);
            view! {
                {fields}
                <p class="field-hint">"The salt is generated by Tileworks."</p>
            }
            .into_any()
        }
        PropertyType::StemcellSelector => stemcell_select(binding, id),
        // Generate saves straight into the property, so it is offered for properties of the
        // product (and selector options), not for a record of a collection being edited.
        PropertyType::RsaCertCredentials if !binding.key.contains('[') => {
            let generate = generate_certificate(binding.clone(), id);
            let pair = pem_pair(binding, id, true);
            view! { {pair} {generate} }.into_any()
        }
        PropertyType::RsaCertCredentials => pem_pair(binding, id, true),
        PropertyType::RsaPkeyCredentials => pem_pair(binding, id, false),
        PropertyType::Selector => selector(input, binding),
        PropertyType::Collection => collection(input, binding),
        _ => text(binding, id, placeholder),
    }
}

fn read_only(input: &Input, binding: Binding) -> AnyView {
    if input.credential {
        return view! { <p class="read-only">"Generated by Tileworks"</p> }.into_any();
    }
    let value = binding.text();
    view! { <p class="read-only">{move || { let v = value.get(); if v.is_empty() { "(generated)".to_string() } else { v } }}</p> }
        .into_any()
}

fn text(binding: Binding, id: &str, placeholder: String) -> AnyView {
    let value = binding.text();
    let (name, initial) = (binding.key.clone(), value.get_untracked());
    let (set, touch) = (binding.set, binding.clone());
    view! {
        <input
            type="text"
            id=id.to_string()
            name=name
            value=initial
            placeholder=placeholder
            prop:value=move || value.get()
            on:input=move |ev| set.run(Value::String(event_target_value(&ev)))
            on:blur=move |_| touch.touch()
        />
    }
    .into_any()
}

fn textarea(binding: Binding, id: &str, placeholder: String) -> AnyView {
    let value = binding.text();
    let (name, initial) = (binding.key.clone(), value.get_untracked());
    let (set, touch) = (binding.set, binding.clone());
    view! {
        <textarea
            id=id.to_string()
            name=name
            rows="5"
            placeholder=placeholder
            prop:value=move || value.get()
            on:input=move |ev| set.run(Value::String(event_target_value(&ev)))
            on:blur=move |_| touch.touch()
        >{initial}</textarea>
    }
    .into_any()
}

/// Integers are typed as text so that a wrong entry stays visible (with its error) instead of
/// being swallowed by a number input.
fn integer(binding: Binding, id: &str, placeholder: String) -> AnyView {
    let value = binding.text();
    let (name, initial) = (binding.key.clone(), value.get_untracked());
    let (set, touch) = (binding.set, binding.clone());
    view! {
        <input
            type="text"
            inputmode="numeric"
            id=id.to_string()
            name=name
            value=initial
            placeholder=placeholder
            prop:value=move || value.get()
            on:input=move |ev| {
                let typed = event_target_value(&ev);
                let value = match typed.trim().replace('_', "").parse::<i64>() {
                    Ok(n) => json!(n),
                    Err(_) if typed.trim().is_empty() => Value::Null,
                    Err(_) => Value::String(typed),
                };
                set.run(value)
            }
            on:blur=move |_| touch.touch()
        />
    }
    .into_any()
}

fn checkbox(binding: Binding, id: &str) -> AnyView {
    let get = binding.get;
    let set = binding.set;
    let name = binding.key.clone();
    let initial = get
        .get_untracked()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    // The hidden "false" goes first: a plain form post (no wasm) of an unchecked box still
    // says the field was on the page; a checked one posts "true" after it (form_post.rs).
    view! {
        <input type="hidden" name=name.clone() value="false"/>
        <input
            type="checkbox"
            id=id.to_string()
            name=name
            value="true"
            checked=initial
            prop:checked=move || get.get().and_then(|v| v.as_bool()).unwrap_or(false)
            on:change=move |ev| set.run(Value::Bool(event_target_checked(&ev)))
        />
    }
    .into_any()
}

fn dropdown(binding: Binding, id: &str, input: &Input) -> AnyView {
    let get = binding.get;
    let set = binding.set;
    let choices: Vec<(Value, String)> = input
        .options
        .iter()
        .map(|c| (c.value.clone(), c.label.clone()))
        .collect();
    let by_key = choices.clone();
    view! {
        <select
            id=id.to_string()
            name=binding.key.clone()
            on:change=move |ev| {
                let picked = event_target_value(&ev);
                let value = by_key
                    .iter()
                    .find(|(v, _)| value_key(v) == picked)
                    .map(|(v, _)| v.clone())
                    .unwrap_or(Value::Null);
                set.run(value)
            }
        >
            <option value="" selected=move || get.get().is_none()>"Select…"</option>
            {choices
                .into_iter()
                .map(|(value, label)| {
                    let key = value_key(&value);
                    let selected_key = key.clone();
                    view! {
                        <option
                            value=key
                            selected=move || get.get().map(|v| value_key(&v)) == Some(selected_key.clone())
                        >
                            {label}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
    .into_any()
}

fn catalog_select(binding: Binding, id: &str, names: Vec<String>) -> AnyView {
    labelled_select(
        binding,
        id,
        names.into_iter().map(|n| (n.clone(), n)).collect(),
    )
}

/// A select of text values, each with its label; the empty choice is "Select…".
fn labelled_select(binding: Binding, id: &str, choices: Vec<(String, String)>) -> AnyView {
    let get = binding.get;
    let set = binding.set;
    view! {
        <select
            id=id.to_string()
            name=binding.key.clone()
            on:change=move |ev| {
                let picked = event_target_value(&ev);
                set.run(if picked.is_empty() { Value::Null } else { Value::String(picked) })
            }
        >
            <option value="" selected=move || get.get().is_none()>"Select…"</option>
            {choices
                .into_iter()
                .map(|(name, label)| {
                    let current = name.clone();
                    view! {
                        <option
                            value=name
                            selected=move || get.get().and_then(|v| v.as_str().map(str::to_string)) == Some(current.clone())
                        >
                            {label}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
    .into_any()
}

/// `stemcell_selector`: the OSes of the tile's stemcell criteria that have a matching stemcell
/// in the Stemcell Library, with the imported versions. A stored choice without a matching
/// stemcell stays listed (and selected) so that opening the form never changes it.
fn stemcell_select(binding: Binding, id: &str) -> AnyView {
    let mut choices: Vec<(String, String)> = binding.state.catalog.with_value(|c| {
        c.stemcells
            .iter()
            .map(|s| {
                let label = format!("{} (stemcell {})", s.os, s.versions.join(", "));
                (s.os.clone(), label)
            })
            .collect()
    });
    let current = binding
        .get
        .get_untracked()
        .and_then(|v| v.as_str().map(str::to_string))
        .filter(|v| !v.trim().is_empty());
    if let Some(current) = current {
        if !choices.iter().any(|(os, _)| *os == current) {
            let label = format!("{current} (no matching stemcell imported)");
            choices.push((current, label));
        }
    }
    labelled_select(binding, id, choices)
}

fn multi_select(binding: Binding, choices: Vec<(Value, String)>) -> AnyView {
    let get = binding.get;
    let set = binding.set;
    let key = binding.key.clone();
    let name = key.clone();
    view! {
        <div class="multi-select" role="group">
            // Says the field was on the page when nothing is checked (form_post.rs).
            <input type="hidden" name=name.clone() value=""/>
            {choices
                .into_iter()
                .map(|(value, label)| {
                    let id = field_id(&format!("{key}-{}", value_key(&value)));
                    let label_for = id.clone();
                    let checked_value = value.clone();
                    let initial = get
                        .get_untracked()
                        .and_then(|v| v.as_array().cloned())
                        .is_some_and(|list| list.contains(&value));
                    view! {
                        <label class="choice" for=label_for>
                            <input
                                type="checkbox"
                                id=id
                                name=name.clone()
                                value=value_key(&value)
                                checked=initial
                                prop:checked=move || {
                                    get.get()
                                        .and_then(|v| v.as_array().cloned())
                                        .is_some_and(|list| list.contains(&checked_value))
                                }
                                on:change=move |ev| {
                                    let mut list = get
                                        .get_untracked()
                                        .and_then(|v| v.as_array().cloned())
                                        .unwrap_or_default();
                                    list.retain(|v| v != &value);
                                    if event_target_checked(&ev) {
                                        list.push(value.clone());
                                    }
                                    set.run(Value::Array(list))
                                }
                            />
                            {label}
                        </label>
                    }
                })
                .collect_view()}
        </div>
    }
    .into_any()
}

/// Write-only: a set secret is never sent to the browser; it shows as set, and typing replaces it.
fn secret(binding: Binding, id: &str) -> AnyView {
    let get = binding.get;
    let set = binding.set;
    let touch = binding.clone();
    let is_set = move || is_redacted(&get.get());
    // Bound to the value so that the control empties when the page reloads the server's view
    // after a save (the same DOM element is kept, and would otherwise hold the typed secret).
    let typed = binding.field_text("secret");
    view! {
        <input
            type="password"
            id=id.to_string()
            name=binding.key.clone()
            autocomplete="new-password"
            placeholder=move || if is_set() { "Secret is set — type to replace it" } else { "" }
            prop:value=move || unmasked(typed.get())
            on:input=move |ev| set.run(json!({"secret": event_target_value(&ev)}))
            on:blur=move |_| touch.touch()
        />
        <Show when=is_set>
            <span class="secret-set">"✓ set"</span>
        </Show>
    }
    .into_any()
}

fn credentials(binding: Binding, id: &str) -> AnyView {
    let get = binding.get;
    let set = binding.set;
    let identity = binding.field_text("identity");
    let password = binding.field_text("password");
    let key = binding.key.clone();
    let initial_identity = unmasked(identity.get_untracked());
    let touch = binding.clone();
    let password_set = move || {
        get.get()
            .and_then(|v| {
                v.get("password")
                    .and_then(Value::as_str)
                    .map(|p| p == REDACTED)
            })
            .unwrap_or(false)
    };
    let update = move |field: &str, text: String| {
        let mut record = match get.get_untracked() {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        record.insert(field.to_string(), Value::String(text));
        set.run(Value::Object(record))
    };
    view! {
        <div class="credentials">
            <input
                type="text"
                id=id.to_string()
                name=format!("{key}#identity")
                value=initial_identity
                placeholder=move || if identity.get() == REDACTED { "Username is set — type to replace it" } else { "Username" }
                aria-label="Username"
                prop:value=move || unmasked(identity.get())
                on:input=move |ev| update("identity", event_target_value(&ev))
            />
            <input
                type="password"
                placeholder=move || if password_set() { "Password is set — type to replace it" } else { "Password" }
                aria-label="Password"
                name=format!("{key}#password")
                autocomplete="new-password"
                prop:value=move || unmasked(password.get())
                on:input=move |ev| update("password", event_target_value(&ev))
                on:blur=move |_| touch.touch()
            />
        </div>
    }
    .into_any()
}

/// Paste a certificate and its key (or just a key). The private key is never shown once set.
fn pem_pair(binding: Binding, id: &str, with_cert: bool) -> AnyView {
    let get = binding.get;
    let set = binding.set;
    let cert = binding.field_text("cert_pem");
    let private_key = binding.field_text("private_key_pem");
    let key = binding.key.clone();
    let initial_cert = unmasked(cert.get_untracked());
    let initial_key = unmasked(private_key.get_untracked());
    let cert_name = format!("{key}#cert_pem");
    let touch = binding.clone();
    let key_set = move || {
        get.get()
            .and_then(|v| {
                v.get("private_key_pem")
                    .and_then(Value::as_str)
                    .map(|p| p == REDACTED)
            })
            .unwrap_or(false)
    };
    let update = move |field: &str, text: String| {
        let mut record = match get.get_untracked() {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        record.insert(field.to_string(), Value::String(text));
        set.run(Value::Object(record))
    };
    view! {
        <div class="pem-pair">
            {with_cert.then(|| view! {
                <textarea
                    id=id.to_string()
                    rows="4"
                    placeholder=move || if cert.get() == REDACTED { "Certificate is set — paste a new one to replace it" } else { "-----BEGIN CERTIFICATE-----" }
                    aria-label="Certificate PEM"
                    name=cert_name.clone()
                    prop:value=move || unmasked(cert.get())
                    on:input=move |ev| update("cert_pem", event_target_value(&ev))
                >{initial_cert.clone()}</textarea>
            })}
            <textarea
                rows="4"
                placeholder=move || if key_set() { "Private key is set — paste a new one to replace it" } else { "-----BEGIN RSA PRIVATE KEY-----" }
                aria-label="Private key PEM"
                name=format!("{key}#private_key_pem")
                prop:value=move || unmasked(private_key.get())
                on:input=move |ev| update("private_key_pem", event_target_value(&ev))
                on:blur=move |_| touch.touch()
            >{initial_key}</textarea>
        </div>
    }
    .into_any()
}

/// Ops Manager's "Generate RSA Certificate": the operator names the domains (comma-separated,
/// wildcards allowed) and the server generates a certificate and key signed by Tileworks's root
/// CA and saves them into the property at once (guarded by the form's configuration version).
/// Only the certificate comes back: the private key never reaches the browser, and the field
/// then shows the key as set.
fn generate_certificate(binding: Binding, id: &str) -> AnyView {
    let state = binding.state;
    let reference = binding.key.clone();
    let domains_id = format!("{id}-domains");
    let open = RwSignal::new(false);
    let domains = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let generate = Action::new(move |(reference, domains): &(String, String)| {
        generate_form_certificate(
            state.guid.get_value(),
            reference.clone(),
            domains.clone(),
            state.config_version.get_untracked(),
        )
    });
    {
        let reference = reference.clone();
        Effect::new(move |_| {
            let Some(result) = generate.value().get() else {
                return;
            };
            let said = match result {
                Ok(CertificateGenerated {
                    outcome: SaveOutcome::Saved { config_version },
                    cert_pem,
                    form_complete,
                }) => {
                    state.config_version.set(config_version);
                    if let Some(marks) = form_complete {
                        state.form_complete.set(marks);
                    }
                    state.set_stored(
                        &reference,
                        json!({
                            "cert_pem": cert_pem.unwrap_or_else(|| REDACTED.into()),
                            "private_key_pem": REDACTED,
                        }),
                    );
                    open.set(false);
                    (
                        true,
                        "Certificate generated and saved (its private key stays on the server)."
                            .to_string(),
                    )
                }
                Ok(CertificateGenerated {
                    outcome: SaveOutcome::Invalid { errors },
                    ..
                }) => (
                    false,
                    errors.into_values().flatten().collect::<Vec<_>>().join(" "),
                ),
                Ok(CertificateGenerated {
                    outcome: SaveOutcome::Conflict { message, .. },
                    ..
                }) => (
                    false,
                    format!("Nothing was generated: {message} Reload the page first."),
                ),
                Err(err) => (false, crate::components::messages::server_message(&err)),
            };
            message.set(Some(said));
        });
    }
    let run = {
        let reference = reference.clone();
        move || {
            message.set(None);
            generate.dispatch((reference.clone(), domains.get_untracked()));
        }
    };
    let run_on_enter = run.clone();
    let label_for = domains_id.clone();
    let ready = hydrated();
    view! {
        <div class="generate-cert">
            <Show
                when=move || open.get()
                fallback=move || view! {
                    <button type="button" class="generate-open" disabled=move || !ready.get() on:click=move |_| { message.set(None); open.set(true) }>
                        "Generate RSA Certificate"
                    </button>
                }
            >
                <label for=label_for.clone()>"Domains to secure (comma-separated, wildcards like *.example.com allowed)"</label>
                <input
                    type="text"
                    id=domains_id.clone()
                    placeholder="*.apps.example.com, api.example.com"
                    prop:value=move || domains.get()
                    on:input=move |ev| domains.set(event_target_value(&ev))
                    on:keydown={
                        let run = run_on_enter.clone();
                        move |ev: leptos::ev::KeyboardEvent| {
                            // Enter generates instead of submitting the settings form.
                            if ev.key() == "Enter" {
                                ev.prevent_default();
                                run();
                            }
                        }
                    }
                />
                <button type="button" class="primary" disabled=move || generate.pending().get()
                    on:click={ let run = run.clone(); move |_| run() }>
                    {move || if generate.pending().get() { "Generating…" } else { "Generate" }}
                </button>
                <button type="button" on:click=move |_| { message.set(None); open.set(false) }>"Cancel"</button>
            </Show>
            {move || message.get().map(|(ok, text)| if ok {
                view! { <p class="generate-result ok" role="status">{text}</p> }.into_any()
            } else {
                view! { <ul class="field-errors generate-errors" role="alert"><li>{text}</li></ul> }.into_any()
            })}
        </div>
    }
    .into_any()
}

fn selector(input: &Input, binding: Binding) -> AnyView {
    let get = binding.get;
    let set = binding.set;
    let state = binding.state;
    let group = binding.key.clone();
    let choices = input.selector_options.clone();
    let selected = Memo::new(move |_| {
        get.get().map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
    });
    let radios = choices
        .iter()
        .map(|choice| {
            let id = field_id(&choice.reference);
            let label_for = id.clone();
            let value = choice.select_value.clone();
            let checked_value = value.clone();
            let initial = selected.get_untracked().as_deref() == Some(value.as_str());
            view! {
                <label class="choice" for=label_for>
                    <input
                        type="radio"
                        id=id
                        name=group.clone()
                        value=value.clone()
                        checked=initial
                        prop:checked=move || selected.get().as_deref() == Some(checked_value.as_str())
                        on:change=move |_| set.run(Value::String(value.clone()))
                    />
                    {choice.label.clone()}
                </label>
            }
        })
        .collect_view();
    view! {
        <div class="selector" role="radiogroup">{radios}</div>
        {move || {
            let picked = selected.get()?;
            let choice = choices.iter().find(|c| c.select_value == picked || c.name == picked)?;
            // An option without settings (e.g. "Inactive") has no sub-form to draw.
            if choice.inputs.is_empty() {
                return None;
            }
            Some(view! {
                <fieldset class="selector-option" data-option=choice.name.clone()>
                    {choice
                        .inputs
                        .iter()
                        .cloned()
                        .map(|sub| {
                            let binding = state.bind(&sub.reference);
                            view! { <Field input=sub binding/> }
                        })
                        .collect_view()}
                </fieldset>
            })
        }}
    }
    .into_any()
}

fn collection(input: &Input, binding: Binding) -> AnyView {
    let get = binding.get;
    let state = binding.state;
    let reference = binding.key.clone();
    let record_inputs = input.record_inputs.clone();
    // Only the number of records decides which rows exist; each row reads its own values, so
    // typing in a record does not rebuild the list (and keeps the cursor where it is).
    let count = Memo::new(move |_| {
        get.get()
            .and_then(|v| v.as_array().map(Vec::len))
            .unwrap_or(0)
    });
    let add_ref = reference.clone();
    let add_inputs = record_inputs.clone();
    let ready = hydrated();
    view! {
        <div class="collection">
            {move || {
                (0..count.get())
                    .map(|index| {
                        let coll = reference.clone();
                        let (up, down, remove) = (coll.clone(), coll.clone(), coll.clone());
                        let last = count.get_untracked().saturating_sub(1);
                        view! {
                            <div class="record" data-index=index>
                                <div class="record-tools">
                                    <span class="record-title">"Record " {index + 1}</span>
                                    <button type="button" disabled=move || index == 0 || !ready.get()
                                        on:click=move |_| state.update_collection(&up, |r| if index > 0 && index < r.len() { r.swap(index, index - 1) })>
                                        "Move up"
                                    </button>
                                    <button type="button" disabled=move || index == last || !ready.get()
                                        on:click=move |_| state.update_collection(&down, |r| if index + 1 < r.len() { r.swap(index, index + 1) })>
                                        "Move down"
                                    </button>
                                    <button type="button" class="danger" disabled=move || !ready.get()
                                        on:click=move |_| state.update_collection(&remove, |r| if index < r.len() { r.remove(index); })>
                                        "Remove"
                                    </button>
                                </div>
                                {record_inputs
                                    .iter()
                                    .cloned()
                                    .map(|sub| {
                                        let binding = state.bind_record_field(&coll, index, &sub.reference);
                                        view! { <Field input=sub binding/> }
                                    })
                                    .collect_view()}
                            </div>
                        }
                    })
                    .collect_view()
            }}
            <button
                type="button"
                class="add-record"
                disabled=move || !ready.get()
                on:click=move |_| {
                    let mut record = Map::new();
                    for sub in &add_inputs {
                        if let Some(default) = &sub.default {
                            record.insert(sub.reference.clone(), default.clone());
                        }
                    }
                    state.update_collection(&add_ref, |r| r.push(Value::Object(record)))
                }
            >
                "Add"
            </button>
        </div>
    }
    .into_any()
}

/// The text a credential field shows: nothing for the server's mask (the placeholder says the
/// value is set), so the mask is never mistaken for, or edited as, the value.
fn unmasked(text: String) -> String {
    if text == REDACTED {
        String::new()
    } else {
        text
    }
}

/// How a choice value is written in an `<option value>`.
fn value_key(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
