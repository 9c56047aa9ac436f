//! What the Director page's plain-form sections share (Security, Syslog, Resource Config):
//! each is an HTML form with named fields that posts itself to the page's own address,
//! `/director?section=<section>` (`server/src/http/director_forms.rs`), so it saves the same with or without the wasm. A save
//! answers `303` back to the section with `saved=1`; a refusal renders the page again with the
//! posted values and the errors under their fields ([`DirectorPosted`]).

use leptos::prelude::*;

use crate::backend::director::DirectorPosted;
use crate::pages::director::form::Section;

/// Where a section's form posts: the section's own address, so that a refusal rendered in
/// answer hydrates as the page the address names.
pub fn action(section: Section) -> String {
    format!("/director?section={}", section.slug())
}

/// A section's form state: what was saved, or what was posted and refused.
#[derive(Clone)]
pub struct PlainForm {
    posted: Option<DirectorPosted>,
    /// The version the form posts with.
    pub config_version: i64,
    /// `saved=1`: the last post of this section was saved.
    pub saved: bool,
}

impl PlainForm {
    /// `posted` counts only when it is this section's.
    pub fn new(
        section: Section,
        posted: Option<DirectorPosted>,
        config_version: i64,
        saved: bool,
    ) -> Self {
        let posted = posted.filter(|p| p.section == section.slug());
        let config_version = posted
            .as_ref()
            .map(|p| p.config_version)
            .unwrap_or(config_version);
        PlainForm {
            posted,
            config_version,
            saved,
        }
    }

    /// A text field's value: as posted after a refusal, else as saved.
    pub fn text(&self, name: &str, saved: String) -> String {
        match &self.posted {
            Some(p) => p.values.get(name).cloned().unwrap_or_default(),
            None => saved,
        }
    }

    /// A checkbox or yes/no choice: as posted (`true`) after a refusal, else as saved.
    pub fn flag(&self, name: &str, saved: bool) -> bool {
        match &self.posted {
            Some(p) => p.values.get(name).is_some_and(|v| v == "true"),
            None => saved,
        }
    }

    /// The refusal's errors for one service key.
    pub fn errors(&self, key: &str) -> Vec<String> {
        self.posted
            .as_ref()
            .and_then(|p| p.errors.get(key).cloned())
            .unwrap_or_default()
    }

    /// The notice at the top of the form: saved, or why nothing was.
    pub fn notice(&self) -> Option<AnyView> {
        if let Some(p) = &self.posted {
            let message = p.message.clone();
            return Some(view! { <p class="notice error" role="alert">{message}</p> }.into_any());
        }
        self.saved
            .then(|| view! { <p class="notice ok" role="status">"Settings saved."</p> }.into_any())
    }

    /// The errors under a field.
    pub fn errors_view(&self, key: &str) -> Option<AnyView> {
        let errors = self.errors(key);
        (!errors.is_empty()).then(|| {
            view! {
                <ul class="field-errors" role="alert" data-error-for=key.to_owned()>
                    {errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            }
            .into_any()
        })
    }
}

/// The hidden version field and the Save button (disabled for a role that may not configure).
pub fn save_row(form: &PlainForm) -> AnyView {
    let may_configure = crate::session::may_configure();
    view! {
        <input type="hidden" name="config_version" value=form.config_version.to_string()/>
        <div class="form-actions">
            <button type="submit" class="primary" disabled=!may_configure
                title=(!may_configure).then_some(crate::session::READ_ONLY_TITLE)>
                "Save"
            </button>
        </div>
    }
    .into_any()
}

/// A labelled field: `control` gets the id the label points at; the errors of `key` below it.
pub fn labelled(
    form: &PlainForm,
    key: &str,
    id: &str,
    label: &str,
    hint: Option<&str>,
    control: AnyView,
) -> AnyView {
    let (label_for, label, hint) = (id.to_owned(), label.to_owned(), hint.map(str::to_owned));
    view! {
        <div class="field" data-field=key.to_owned()>
            <label for=label_for>{label}</label>
            {hint.map(|h| view! { <p class="field-description">{h}</p> })}
            {control}
            {form.errors_view(key)}
        </div>
    }
    .into_any()
}

/// A checkbox field posting `true` when ticked.
pub fn checkbox(form: &PlainForm, key: &str, name: &str, label: &str, checked: bool) -> AnyView {
    let id = format!("director-{}", name.replace('.', "-"));
    let (label, name, label_for) = (label.to_owned(), name.to_owned(), id.clone());
    view! {
        <div class="field checkbox" data-field=key.to_owned()>
            <label for=label_for>
                <input type="checkbox" id=id name=name value="true" checked=checked/>
                " " {label}
            </label>
            {form.errors_view(key)}
        </div>
    }
    .into_any()
}
