//! The Director tile's Syslog section (om's `syslog_configuration`): whether the Director VM
//! forwards its logs, and where and how (address, port, transport, TLS with the permitted peer
//! and CA, debug logs, a custom rsyslog rule). Rendered into the Director's manifest as
//! syslog-release's `syslog_forwarder` (`server/src/products/director_manifest.rs`). A plain
//! form ([`plain_form`](super::plain_form)).

use leptos::prelude::*;
use serde_json::Value;

use crate::backend::director::DirectorPage;
use crate::pages::director::form::Section;
use crate::pages::director::plain_form::{action, checkbox, labelled, save_row, PlainForm};

/// The API section the form saves.
pub const API_SECTION: &str = "syslog_configuration";

/// The transports the Director's forwarder speaks.
pub const TRANSPORTS: [&str; 3] = ["tcp", "udp", "relp"];

#[component]
pub fn SyslogSection(page: DirectorPage, form: PlainForm) -> impl IntoView {
    let saved = &page.syslog_configuration;
    let text = |k: &str| match saved.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let flag = |k: &str| saved.get(k).and_then(Value::as_bool).unwrap_or(false);
    let key = |name: &str| format!("{API_SECTION}.{name}");
    let enabled = form.flag("enabled", flag("enabled"));
    let line = |name: &'static str, label: &'static str, hint: Option<&'static str>| {
        let id = format!("director-syslog-{name}");
        let value = form.text(name, text(name));
        let input_id = id.clone();
        labelled(
            &form,
            &key(name),
            &id,
            label,
            hint,
            view! { <input type="text" id=input_id name=name value=value/> }.into_any(),
        )
    };
    let transport = form.text("transport_protocol", {
        let t = text("transport_protocol");
        if t.is_empty() {
            "tcp".to_owned()
        } else {
            t
        }
    });
    let transport_field = labelled(
        &form,
        &key("transport_protocol"),
        "director-syslog-transport_protocol",
        "Transport protocol",
        None,
        view! {
            <select id="director-syslog-transport_protocol" name="transport_protocol">
                {TRANSPORTS.into_iter().map(|t| view! {
                    <option value=t selected=t == transport>{t.to_uppercase()}</option>
                }).collect_view()}
            </select>
        }
        .into_any(),
    );
    let ca = form.text("ssl_ca_certificate", text("ssl_ca_certificate"));
    let ca_field = labelled(
        &form,
        &key("ssl_ca_certificate"),
        "director-syslog-ssl_ca_certificate",
        "SSL CA certificate",
        Some("With TLS: the CA that signed the syslog server's certificate (PEM)."),
        view! {
            <textarea id="director-syslog-ssl_ca_certificate" name="ssl_ca_certificate" rows="6">{ca}</textarea>
        }
        .into_any(),
    );
    let rule = form.text(
        "custom_rsyslog_configuration",
        text("custom_rsyslog_configuration"),
    );
    let rule_field = labelled(
        &form,
        &key("custom_rsyslog_configuration"),
        "director-syslog-custom_rsyslog_configuration",
        "Custom rsyslog configuration",
        None,
        view! {
            <textarea id="director-syslog-custom_rsyslog_configuration" name="custom_rsyslog_configuration" rows="3">{rule}</textarea>
        }
        .into_any(),
    );
    let tls = checkbox(
        &form,
        &key("tls_enabled"),
        "tls_enabled",
        "Enable TLS",
        form.flag("tls_enabled", flag("tls_enabled")),
    );
    let debug = checkbox(
        &form,
        &key("forward_debug_logs"),
        "forward_debug_logs",
        "Forward debug logs",
        form.flag("forward_debug_logs", flag("forward_debug_logs")),
    );
    let enabled_errors = form.errors_view(&key("enabled"));
    view! {
        <form class="director-section syslog" method="post" action=action(Section::Syslog)>
            <h2>"Syslog"</h2>
            {form.notice()}
            <fieldset class="field" data-field=key("enabled")>
                <legend>"Do you want to configure Syslog for the Director?"</legend>
                <label><input type="radio" name="enabled" value="false" checked=!enabled/>" No"</label>
                <label><input type="radio" name="enabled" value="true" checked=enabled/>" Yes"</label>
                {enabled_errors}
            </fieldset>
            <p class="muted">"The fields below are used when Syslog is on."</p>
            {line("address", "Address", Some("Host name or IP address of the syslog server."))}
            {line("port", "Port", None)}
            {transport_field}
            {tls}
            {line("permitted_peer", "Permitted peer", Some("With TLS: the name the syslog server's certificate must carry."))}
            {ca_field}
            {debug}
            {rule_field}
            {save_row(&form)}
        </form>
    }
}
