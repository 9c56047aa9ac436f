//! What another operator changed since this page loaded, after a save was refused as stale —
//! one panel for every settings page (a product's forms, its placement, resources and errands,
//! each section of the Director tile).
//!
//! Each change reads "<label>: changed by <user> to <value>" ("changed" alone for credentials,
//! whose values are never shown), with what the operator's page started from, or else the value
//! before their save when the change log kept it. The operator decides per field: **Use theirs**
//! (their value replaces the typed one; offered where the page edits that field directly) or
//! **Keep mine**. Once every change is decided the page adopts the current version, so the next
//! Save stores the operator's values over it — a choice made knowingly, never silently. Reload
//! discards the typed values instead.

use leptos::prelude::*;
use serde_json::Value;

use crate::backend::FieldChange;

/// A refused save's changes still to decide, with the configuration version they were read at.
pub type Conflict = Option<(i64, Vec<FieldChange>)>;

/// How a changed value reads in a sentence.
pub fn shown_value(value: &Value) -> String {
    match value {
        Value::Null => "(blank)".into(),
        Value::String(s) if s.trim().is_empty() => "(blank)".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(|i| i.is_string()) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The panel. `label` words a reference in the page's terms; `use_theirs` applies a change's
/// value to the page and says whether it could (`false`: the page does not edit that field
/// directly, so only Keep mine and Reload are offered — asked with `apply = false` first);
/// `decided` runs once every change is decided, with the version to save against.
#[component]
pub fn ConflictPanel(
    conflict: RwSignal<Conflict>,
    #[prop(into)] label: Callback<String, String>,
    #[prop(into)] use_theirs: Callback<(FieldChange, bool), bool>,
    #[prop(into)] decided: Callback<i64>,
    #[prop(into)] reload: Callback<()>,
    /// What the operator had open: "form", "section", "page".
    #[prop(into)]
    what: String,
    /// Words a value of a reference in the page's terms (default: [`shown_value`]).
    #[prop(optional, into)]
    describe: Option<Callback<(String, Value), String>>,
) -> AnyView {
    let decide = Callback::new(move |(reference, theirs): (String, bool)| {
        let Some((version, mut changes)) = conflict.get_untracked() else {
            return;
        };
        if let Some(change) = changes.iter().find(|c| c.reference == reference) {
            if theirs {
                use_theirs.run((change.clone(), true));
            }
        }
        changes.retain(|c| c.reference != reference);
        if changes.is_empty() {
            conflict.set(None);
            decided.run(version);
        } else {
            conflict.set(Some((version, changes)));
        }
    });
    let heading = format!("Changed by another operator since you opened this {what}");
    (move || {
        let (_, changes) = conflict.get()?;
        let items = changes
            .into_iter()
            .map(|change| {
                let reference = change.reference.clone();
                let show = move |value: &Value| match describe {
                    Some(describe) => describe.run((reference.clone(), value.clone())),
                    None => shown_value(value),
                };
                let label = label.run(change.reference.clone());
                let by = change
                    .changed_by
                    .clone()
                    .unwrap_or_else(|| "another operator".into());
                // A save that names no field (a revert to what is deployed) is told as it is.
                let whole = change.reference.contains(' ');
                let what = if whole {
                    format!("{by}: {}", change.reference)
                } else if change.credential {
                    format!("{label}: changed by {by}")
                } else {
                    format!("{label}: changed by {by} to {}", show(&change.value))
                };
                // What this operator started from (a form sends what it loaded, and a field it
                // loaded without a value started blank), else the value before their save.
                let started = |from: String| {
                    view! { <span class="started-from">" (you started from " {from} ")"</span> }.into_any()
                };
                let before = if change.credential || whole {
                    None
                } else if let Some(from) = &change.started_from {
                    Some(started(show(from)))
                } else if change.reference.starts_with('.') {
                    Some(started(show(&Value::Null)))
                } else {
                    change.previous.as_ref().map(|was| {
                        let was = show(was);
                        view! { <span class="started-from">" (was " {was} ")"</span> }.into_any()
                    })
                };
                let direct = use_theirs.run((change.clone(), false));
                let (mine, theirs) = (change.reference.clone(), change.reference.clone());
                view! {
                    <li data-reference=change.reference.clone()>
                        <span class="change-text">{what}</span>
                        {before}
                        {direct.then(|| view! {
                            <button type="button" on:click=move |_| decide.run((theirs.clone(), true))>"Use theirs"</button>
                        })}
                        <button type="button" on:click=move |_| decide.run((mine.clone(), false))>"Keep mine"</button>
                    </li>
                }
            })
            .collect_view();
        let heading = heading.clone();
        Some(view! {
            <section class="conflict" aria-label="Changed by another operator">
                <h3>{heading}</h3>
                <ul>{items}</ul>
                <button type="button" on:click=move |_| { conflict.set(None); reload.run(()) }>
                    "Reload (discard my typed values)"
                </button>
            </section>
        })
    })
    .into_any()
}
