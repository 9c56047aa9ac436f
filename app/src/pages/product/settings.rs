//! A staged product's settings: one page per form of the tile metadata, with a left navigation
//! in metadata order marking each form complete or not. Validation runs in the browser as the
//! operator types (the `tiles` crate compiled to wasm); the server validates again on save and
//! is the authority.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use tiles::forms::FormTree;
use tiles::metadata::ProductTemplate;
use tiles::properties::staged::StagedValues;
use tiles::validate::{validate_form, ValidationContext};

use crate::backend::products::load_product_settings;
use crate::backend::products::ProductSettings;
use crate::backend::settings::{load_form_extras, save_settings_form, FieldChange, FormExtras};
use crate::backend::SaveOutcome;
use crate::components::conflict::ConflictPanel;
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::components::widgets::Field;
use crate::page_data;
use crate::pages::product::form_post::{PostedForm, FORM_FIELD, LOADED_FIELD, VERSION_FIELD};
use crate::pages::product::form_state::{is_redacted, Catalog, FormState};
use crate::pages::product::placement::{PlacementSection, Section};
use crate::session::get_current_user;

#[component]
pub fn ProductSettingsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let guid = move || params.with(|p| p.get("guid").unwrap_or_default());
    let form = move || query.with(|q| q.get("form"));
    let section = move || {
        query
            .with(|q| q.get("section"))
            .as_deref()
            .and_then(Section::parse)
    };
    let user = page_data::resource(|| (), |_| get_current_user());
    let settings = page_data::resource(
        move || (guid(), form(), section()),
        // The server sends only what this form (or section) reads: the navigation, the form's
        // own metadata and values.
        |(guid, form, section)| load_product_settings(guid, form, section.is_some()),
    );
    let extras = page_data::resource(guid, load_form_extras);
    // A form posted without the wasm and refused: the server renders the page again with it
    // (http/settings_form.rs). Read through a resource so that hydration sees it too.
    let refused = use_context::<PostedForm>();
    let posted = page_data::once(async move { refused });
    // The outcome of the last save, kept here so that it outlives the reload that follows a
    // successful save; cleared when the operator moves to another form. A plain form post that
    // saved comes back with `saved=1`.
    let notice = RwSignal::new(
        query
            .with_untracked(|q| q.get("saved").is_some().then(|| q.get("form")))
            .flatten()
            .map(|form| (form, true, "Settings saved.".to_owned())),
    );
    Effect::watch(form, move |_, _, _| notice.set(None), false);
    // After a save the page shows the server's view again: the navigation marks, credentials
    // shown as set (and no longer held in the page), the new configuration version.
    let reload = Callback::new(move |_: ()| settings.refetch());
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = user.await.ok();
                let permissions = user.as_ref().map(|u| u.permissions);
                let header = user.map(|user| view! { <Header user/> });
                // Without the extras (stemcell choices) the form still works: the lists are empty.
                let extras = extras.await.unwrap_or_default();
                let posted = posted.await;
                let body = match settings.await {
                    Ok(settings) => view! { <SettingsBody settings extras section=section() notice reload permissions posted/> }.into_any(),
                    Err(err) => view! {
                        <main class="page narrow">
                            <h1>"Product not available"</h1>
                            <p class="form-error" role="alert">{server_message(&err)}</p>
                            <p><a href="/">"Back to the Installation Dashboard"</a></p>
                        </main>
                    }
                    .into_any(),
                };
                view! { {header} {body} }
            })}
        </Transition>
    }
}

/// What the last save said, for which form: (form name, succeeded, text).
type Notice = (String, bool, String);

#[component]
fn SettingsBody(
    settings: ProductSettings,
    extras: FormExtras,
    section: Option<Section>,
    notice: RwSignal<Option<Notice>>,
    reload: Callback<()>,
    /// What the role may do: the Save buttons (here and in the placement sections) read it.
    permissions: Option<crate::session::Permissions>,
    /// A refused plain form post of this page, shown again.
    posted: Option<PostedForm>,
) -> impl IntoView {
    if let Some(permissions) = permissions {
        provide_context(permissions);
    }
    let may_configure = crate::session::may_configure();
    // The widgets show each field's notes under it (`components::widgets::FieldNotes`).
    provide_context(crate::components::widgets::FieldNotes::new(
        settings.notes.clone(),
    ));
    // Cut for the form the server chose (`settings.form`), which is the one to show: the
    // other forms of the template carry only their names and labels.
    let template = settings.template.clone();
    let tree = FormTree::build(&template);
    let Some(current) = settings
        .form
        .as_deref()
        .and_then(|name| tree.form(name).cloned())
        .or_else(|| tree.forms.first().cloned())
    else {
        return view! { <main class="page narrow"><p>"This product has no settings forms."</p></main> }
            .into_any();
    };

    let catalog = Catalog {
        vm_types: settings.vm_types.iter().map(|v| v.name.clone()).collect(),
        disk_types: settings.disk_types.clone(),
        availability_zones: settings.availability_zones.clone(),
        stemcells: extras.stemcells,
    };
    let posted = posted.filter(|p| p.form == current.name);
    let mut values = settings.values.clone();
    if let Some(posted) = &posted {
        values.extend(posted.values.clone());
    }
    let state = FormState::new(
        settings.guid.clone(),
        posted
            .as_ref()
            .and_then(|p| p.config_version)
            .unwrap_or(settings.config_version),
        values,
        catalog,
        settings.form_complete.clone(),
    );
    if let Some(posted) = &posted {
        // As after a refused save in the browser: the posted values count as changed, every
        // finding shows, the message says why nothing was saved.
        state.dirty.set(posted.values.keys().cloned().collect());
        state.errors.set(posted.errors.clone());
        state.show_all_errors.set(true);
        notice.set(Some((current.name.clone(), false, posted.message.clone())));
    }
    let config_version = state.config_version;
    // What the page loaded for this form's fields: sent with a save, so that a refused stale
    // save can say what each changed field was when this operator started.
    let form_references = references_of(&current.inputs);
    let loaded: BTreeMap<String, serde_json::Value> = form_references
        .iter()
        .filter_map(|(r, _)| settings.values.get(r).map(|v| (r.clone(), v.clone())))
        .collect();
    // Where the form posts without the wasm (http/settings_form.rs).
    let action = format!("/products/{}/settings?form={}", settings.guid, current.name);
    let loaded_json = serde_json::to_string(&loaded).unwrap_or_else(|_| "{}".into());
    let loaded_field = loaded_json.clone();
    let labels = StoredValue::new(form_references.into_iter().collect::<BTreeMap<_, _>>());
    // A refused stale save's changes still to be decided (use theirs / keep mine), with the
    // version they were read at.
    let conflict = RwSignal::new(None::<(i64, Vec<FieldChange>)>);
    // A stale plain post (no wasm) lists the other operator's changes in the same panel.
    if let Some(posted) = posted.as_ref().filter(|p| !p.changes.is_empty()) {
        let version = posted.config_version.unwrap_or(settings.config_version);
        conflict.set(Some((version, posted.changes.clone())));
    }
    let template = StoredValue::new(template);
    let vm_types = StoredValue::new(settings.vm_types.clone());
    let form_name = current.name.clone();
    // Set once the browser has hydrated the form (effects never run on the server): until then
    // typing changes the DOM but not this state. Browser tests wait for it.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    // Validate in the browser whenever a value changes (effects do not run on the server).
    {
        let form_name = form_name.clone();
        Effect::new(move |_| {
            let values = state.values.get();
            // A credential the server sent masked is set, but its value is not here to check:
            // the server (which has it) validates it on save.
            let masked: Vec<String> = values
                .iter()
                .filter(|(_, v)| is_redacted(&Some((*v).clone())))
                .map(|(k, _)| k.clone())
                .collect();
            let values = template.with_value(|t| with_generated_salts(t, values));
            let staged = StagedValues {
                properties: values,
                ..StagedValues::default()
            };
            let report = template.with_value(|t| {
                vm_types.with_value(|vm_types| {
                    let ctx = ValidationContext {
                        vm_types,
                        ..ValidationContext::default()
                    };
                    validate_form(t, &form_name, &staged, &ctx)
                })
            });
            let mut errors = report.errors;
            errors.retain(|reference, _| !masked.contains(reference));
            state.errors.set(errors);
        });
    }

    let guid = settings.guid.clone();
    let save = {
        let form_name = form_name.clone();
        Action::new(move |values: &BTreeMap<String, serde_json::Value>| {
            let values_json = serde_json::to_string(values).unwrap_or_else(|_| "{}".into());
            save_settings_form(
                guid.clone(),
                form_name.clone(),
                config_version.get_untracked(),
                values_json,
                loaded_json.clone(),
            )
        })
    };
    {
        let form_name = form_name.clone();
        Effect::new(move |_| {
            let Some(result) = save.value().get() else {
                return;
            };
            let say = |ok: bool, text: String| notice.set(Some((form_name.clone(), ok, text)));
            conflict.set(None);
            let (result, mut changes) = match result {
                Ok(saved) => (Ok(saved.outcome), saved.changes),
                Err(err) => (Err(err), Vec::new()),
            };
            // Where the operator typed what the other operator saved there is nothing to decide.
            state.values.with_untracked(|values| {
                changes.retain(|c| c.credential || values.get(&c.reference) != Some(&c.value))
            });
            match result {
                Ok(SaveOutcome::Saved { config_version: v }) => {
                    config_version.set(v);
                    state.dirty.set(Default::default());
                    say(true, "Settings saved.".into());
                    reload.run(());
                }
                Ok(SaveOutcome::Invalid { errors }) => {
                    state.errors.set(errors);
                    state.show_all_errors.set(true);
                    say(
                        false,
                        "Nothing was saved: fix the fields marked below.".into(),
                    );
                }
                Ok(SaveOutcome::Conflict {
                    current_version, ..
                }) if changes.is_empty() => {
                    // Saves in between changed nothing on this form: saving again is safe.
                    config_version.set(current_version);
                    say(false, "Nothing was saved: another operator saved other settings of this product since you opened this form (none of its fields). Save again to store your values.".into());
                }
                Ok(SaveOutcome::Conflict {
                    current_version, ..
                }) => {
                    conflict.set(Some((current_version, changes)));
                    say(false, "Nothing was saved: another operator changed this form since you opened it. Your typed values are still here; choose for each change below, or reload.".into());
                }
                Err(err) => say(false, server_message(&err)),
            }
        });
    }
    let shown_notice = {
        let form_name = form_name.clone();
        move || {
            notice
                .get()
                .filter(|(form, _, _)| *form == form_name)
                .map(|(_, ok, text)| (ok, text))
        }
    };

    let nav = tree
        .forms
        .iter()
        .map(|f| {
            let name = f.name.clone();
            let complete = Signal::derive(move || {
                state
                    .form_complete
                    .with(|c| c.get(&name).copied().unwrap_or(false))
            });
            let href = format!("/products/{}/settings?form={}", settings.guid, f.name);
            let active = section.is_none() && f.name == current.name;
            view! {
                <li class:active=active>
                    <a href=href aria-current=active.then_some("page")>
                        <span class=move || if complete.get() { "mark complete" } else { "mark incomplete" }
                            title=move || if complete.get() { "complete" } else { "needs configuration" }>
                            {move || if complete.get() { "✓" } else { "•" }}
                        </span>
                        {f.label.clone()}
                    </a>
                </li>
            }
        })
        .collect_view();
    // Assign AZs and Networks comes first, as in Ops Manager: the forms' AZ lists depend on it.
    // It is the only section with a completeness mark (Resource Config and Errands have
    // defaults).
    let placement_complete = settings.placement_complete;
    let section_link = |s: Section| {
        let href = format!("/products/{}/settings?section={}", settings.guid, s.key());
        let active = section == Some(s);
        let mark = if s != Section::Azs {
            view! { <span class="mark-spacer"></span> }.into_any()
        } else if placement_complete {
            view! { <span class="mark complete" title="complete">"✓"</span> }.into_any()
        } else {
            view! { <span class="mark incomplete" title="needs configuration">"•"</span> }
                .into_any()
        };
        view! {
            <li class:active=active data-section=s.key()>
                <a href=href aria-current=active.then_some("page")>
                    {mark}
                    {s.label()}
                </a>
            </li>
        }
    };
    let placement_nav = section_link(Section::Azs);
    let section_nav = Section::ALL
        .into_iter()
        .filter(|s| *s != Section::Azs)
        .map(section_link)
        .collect_view();

    let inputs = current
        .inputs
        .iter()
        .cloned()
        .map(|input| {
            let binding = state.bind(&input.reference);
            view! { <Field input binding/> }
        })
        .collect_view();

    view! {
        <main class="page settings">
            <p class="breadcrumb"><a href="/">"Installation Dashboard"</a> " › " {settings.label.clone()}</p>
            <h1>{settings.label.clone()} <span class="version">{settings.product_version.clone()}</span></h1>
            {(!settings.job_spec_warnings.is_empty()).then(|| view! {
                <ul class="product-job-spec-warnings" role="note">
                    <li class="warning-title">
                        "Its releases' job specs do not declare these (BOSH ignores such properties; they do not block Apply Changes):"
                    </li>
                    {settings.job_spec_warnings.iter().cloned().map(|w| view! { <li>{w}</li> }).collect_view()}
                </ul>
            })}
            {(!settings.lint_warnings.is_empty()).then(|| view! {
                <ul class="product-lint-warnings" role="note">
                    <li class="warning-title">
                        "The tile's metadata has what Ops Manager tolerates; Tileworks reads it as Ops Manager does (a default naming no option leaves the property unset, an input naming no option is left out of the form):"
                    </li>
                    {settings.lint_warnings.iter().cloned().map(|w| view! { <li>{w}</li> }).collect_view()}
                </ul>
            })}
            <div class="settings-layout">
                <nav class="settings-nav" aria-label="Settings">
                    <ul>{placement_nav} {nav} {section_nav}
                        <li><a href=format!("/products/{}/status", settings.guid)><span class="mark-spacer"></span>"Status"</a></li>
                        <li><a href=format!("/products/{}/credentials", settings.guid)><span class="mark-spacer"></span>"Credentials"</a></li>
                    </ul>
                </nav>
                {match section {
                    Some(section) => view! { <PlacementSection guid=settings.guid.clone() section/> }.into_any(),
                    None => view! {
                <form class="settings-form" method="post" action=action data-hydrated=move || hydrated.get().then_some("true") on:submit=move |ev| {
                    ev.prevent_default();
                    state.show_all_errors.set(true);
                    notice.set(None);
                    save.dispatch(state.changed_values());
                }>
                    <input type="hidden" name=FORM_FIELD value=form_name.clone()/>
                    <input type="hidden" name=LOADED_FIELD value=loaded_field/>
                    <input type="hidden" name=VERSION_FIELD value=config_version.get_untracked().to_string()
                        prop:value=move || config_version.get().to_string()/>
                    <h2>{current.label.clone()}</h2>
                    {current.description.clone().map(|d| view! { <p class="form-description">{d}</p> })}
                    {inputs}
                    <div class="form-actions">
                        <button type="submit" class="primary" disabled=move || save.pending().get() || !may_configure
                            title=(!may_configure).then_some(crate::session::READ_ONLY_TITLE)>
                            {move || if save.pending().get() { "Saving…" } else { "Save" }}
                        </button>
                        {move || shown_notice().map(|(ok, text)| view! {
                            <p class=if ok { "notice ok" } else { "notice error" } role="status">{text}</p>
                        })}
                    </div>
                    <ConflictPanel conflict
                        label=move |reference: String| labels.with_value(|l| l.get(&reference).cloned()).unwrap_or(reference)
                        use_theirs=move |(change, apply): (FieldChange, bool)| {
                            if apply {
                                state.set_stored(&change.reference, change.value);
                            }
                            true
                        }
                        decided={
                            let form_name = form_name.clone();
                            move |version: i64| {
                                state.config_version.set(version);
                                notice.set(Some((
                                    form_name.clone(),
                                    false,
                                    "Every change is decided: Save to store the form as it is now.".into(),
                                )));
                            }
                        }
                        reload
                        what="form"/>
                </form>
                    }.into_any(),
                }}
            </div>
        </main>
    }
    .into_any()
}

/// Every reference the form shows (selector options' fields included) with its label.
fn references_of(inputs: &[tiles::forms::Input]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for input in inputs {
        out.push((input.reference.clone(), input.label.clone()));
        for choice in &input.selector_options {
            for (reference, label) in references_of(&choice.inputs) {
                out.push((reference, format!("{} › {label}", choice.label)));
            }
        }
    }
    out
}

/// `salted_credentials` typed by the operator have no salt: the server generates it on save.
/// For the browser's check the salt counts as present.
fn with_generated_salts(
    template: &ProductTemplate,
    mut values: BTreeMap<String, serde_json::Value>,
) -> BTreeMap<String, serde_json::Value> {
    for (reference, value) in values.iter_mut() {
        let salted = template
            .property(reference)
            .is_some_and(|p| p.blueprint.property_type.as_str() == "salted_credentials");
        if let (true, serde_json::Value::Object(fields)) = (salted, value) {
            let blank = fields
                .get("salt")
                .and_then(serde_json::Value::as_str)
                .is_none_or(|s| s.trim().is_empty());
            if blank {
                fields.insert("salt".into(), serde_json::Value::String("generated".into()));
            }
        }
    }
    values
}
