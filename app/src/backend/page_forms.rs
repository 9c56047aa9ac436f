//! What the settings pages whose writes are plain forms share (the TLS certificate, VM
//! extensions and decryption passphrase pages; `server/src/http/settings_forms.rs` handles
//! their posts): the refusal the server renders the page again with, and the notice that shows
//! it beside the form that was sent.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::page_data;

/// A form the server refused: it renders the page again with a 4xx and this in its context,
/// so the refusal sits beside the form that was sent, naming the field and the rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormRefusal {
    /// Which of the page's forms (`set`, `save`, `delete`, `change`…).
    pub form: String,
    /// The field the rule is about (as the form names it).
    pub field: String,
    pub message: String,
    /// What the form held, given back into its fields. Only what may be shown: never a private
    /// key or a passphrase.
    pub kept: Vec<(String, String)>,
}

impl FormRefusal {
    /// What the refused form held in `field` (empty when it kept nothing there).
    pub fn kept(&self, field: &str) -> String {
        self.kept
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }
}

/// The refusal of `form`, as the page shows it beside that form (`data-form` and `data-field`
/// say which, for tests and for styling).
pub fn refusal_notice(refusal: Option<&FormRefusal>, form: &str) -> Option<AnyView> {
    let r = refusal.filter(|r| r.form == form)?;
    let text = if r.field.is_empty() {
        r.message.clone()
    } else {
        format!("{}: {}", r.field, r.message)
    };
    Some(
        view! {
            <p class="form-error" role="alert" data-form=r.form.clone() data-field=r.field.clone()>{text}</p>
        }
        .into_any(),
    )
}

/// A refused form's page reads the refusal through a resource, so hydration sees it too.
pub fn refusal_resource() -> OnceResource<Option<FormRefusal>, page_data::Json> {
    let refused = use_context::<FormRefusal>();
    page_data::once(async move { refused })
}
