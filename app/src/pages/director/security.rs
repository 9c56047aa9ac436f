//! The Director tile's Security section (om's `security_configuration`): the trusted
//! certificates the Director installs on every VM (and the products trust), whether the
//! installation's root CA joins them, and generated VM passwords. A plain form
//! ([`plain_form`](super::plain_form)).

use leptos::prelude::*;
use serde_json::Value;

use crate::backend::director::DirectorPage;
use crate::pages::director::form::Section;
use crate::pages::director::plain_form::{action, checkbox, labelled, save_row, PlainForm};

/// The API section the form saves.
pub const API_SECTION: &str = "security_configuration";

#[component]
pub fn SecuritySection(page: DirectorPage, form: PlainForm) -> impl IntoView {
    let saved = &page.security_configuration;
    let text = |k: &str| {
        saved
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let flag = |k: &str, default: bool| saved.get(k).and_then(Value::as_bool).unwrap_or(default);
    let key = |name: &str| format!("{API_SECTION}.{name}");
    let certs = form.text("trusted_certificates", text("trusted_certificates"));
    let certs_field = labelled(
        &form,
        &key("trusted_certificates"),
        "director-trusted_certificates",
        "Trusted Certificates",
        Some("PEM certificates, one after another. The Director installs them on every VM it creates; products trust them too."),
        view! {
            <textarea id="director-trusted_certificates" name="trusted_certificates" rows="8">{certs}</textarea>
        }
        .into_any(),
    );
    let root_ca = checkbox(
        &form,
        &key("opsmanager_root_ca_trusted_certs"),
        "opsmanager_root_ca_trusted_certs",
        "Include the Tileworks root CA in Trusted Certificates",
        form.flag(
            "opsmanager_root_ca_trusted_certs",
            flag("opsmanager_root_ca_trusted_certs", false),
        ),
    );
    let passwords = checkbox(
        &form,
        &key("generate_vm_passwords"),
        "generate_vm_passwords",
        "Generate a password for each VM (else every VM shares one)",
        form.flag("generate_vm_passwords", flag("generate_vm_passwords", true)),
    );
    let clear_store = checkbox(
        &form,
        &key("clear_default_trusted_certificates_store"),
        "clear_default_trusted_certificates_store",
        "Clear the default trusted certificates store",
        form.flag(
            "clear_default_trusted_certificates_store",
            flag("clear_default_trusted_certificates_store", false),
        ),
    );
    view! {
        <form class="director-section security" method="post" action=action(Section::Security)>
            <h2>"Security"</h2>
            {form.notice()}
            {certs_field}
            {root_ca}
            {passwords}
            {clear_store}
            {save_row(&form)}
        </form>
    }
}
