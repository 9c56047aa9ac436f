//! What every section of the Director tile's page shares: the saving state (version, errors,
//! the notice), the save itself ([`SectionSave`]: submit, outcome, and a stale save's conflict
//! panel with Use theirs / Keep mine / Reload), the mapping from the service's field keys to the
//! page's fields, and the field wrapper that shows a label, a control and the errors under it.
//!
//! The products service names fields by where they sit in its data (`networks[0].subnets[1].
//! reserved[2]`, `azs[0].name`); the page shows a field per editable value
//! (`networks[0].subnets[1].reserved_ip_ranges`, `availability_zones[0].name`). [`ui_key`] is
//! the one place that translates, so a message always lands under the field the operator typed
//! in. Errors whose field the section does not show are listed above its Save button instead, so
//! no message is ever lost.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;

use crate::backend::{FieldChange, SaveOutcome};
use crate::components::conflict::{shown_value, Conflict, ConflictPanel};
use crate::components::messages::server_message;
use crate::components::widgets::field_id;

/// The page's sections, in navigation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    Iaas,
    Director,
    Azs,
    Networks,
    Assign,
    Security,
    Syslog,
    ResourceConfig,
    VmTypes,
    DiskTypes,
    CloudConfig,
}

impl Section {
    pub const ALL: [Section; 11] = [
        Section::Iaas,
        Section::Director,
        Section::Azs,
        Section::Networks,
        Section::Assign,
        Section::Security,
        Section::Syslog,
        Section::ResourceConfig,
        Section::VmTypes,
        Section::DiskTypes,
        Section::CloudConfig,
    ];

    /// The `?section=` value.
    pub fn slug(self) -> &'static str {
        match self {
            Section::Iaas => "iaas",
            Section::Director => "director",
            Section::Azs => "azs",
            Section::Networks => "networks",
            Section::Assign => "network-and-az",
            Section::Security => "security",
            Section::Syslog => "syslog",
            Section::ResourceConfig => "resource-config",
            Section::VmTypes => "vm-types",
            Section::DiskTypes => "disk-types",
            Section::CloudConfig => "cloud-config",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Iaas => "IaaS Configuration",
            Section::Director => "Director Config",
            Section::Azs => "Create Availability Zones",
            Section::Networks => "Create Networks",
            Section::Assign => "Assign AZ and Network",
            Section::Security => "Security",
            Section::Syslog => "Syslog",
            Section::ResourceConfig => "Resource Config",
            Section::VmTypes => "VM Types",
            Section::DiskTypes => "Disk Types",
            Section::CloudConfig => "Cloud Config",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.slug() == slug)
    }

    /// The section a field key (service or page spelling) belongs to; `None` for findings no
    /// section edits.
    pub fn of_key(key: &str) -> Option<Section> {
        let key = ui_key(key);
        let head = key.split(['.', '[']).next().unwrap_or_default();
        Some(match head {
            "iaas_configuration" => Section::Iaas,
            "director_configuration" => Section::Director,
            "availability_zones" => Section::Azs,
            "networks" | "icmp_checks_enabled" => Section::Networks,
            "network_and_az" => Section::Assign,
            "security_configuration" => Section::Security,
            "syslog_configuration" => Section::Syslog,
            "resource-config" => Section::ResourceConfig,
            "vm_types" | "compilation" => Section::VmTypes,
            "disk_types" => Section::DiskTypes,
            "cloud_config" => Section::CloudConfig,
            _ => return None,
        })
    }
}

/// The page's field key for a key of the products service (see the module comment).
pub fn ui_key(key: &str) -> String {
    let key = match key.strip_prefix("azs") {
        Some(rest) if rest.is_empty() || rest.starts_with(['[', '.']) => {
            format!("availability_zones{rest}")
        }
        _ => key.to_string(),
    };
    // Inside a subnet, list entries are reported one by one; the page has one field per list.
    if let Some(at) = key.find(".subnets[") {
        if let Some(close) = key[at..].find("].") {
            let field_start = at + close + 2;
            let (subnet, field) = key.split_at(field_start);
            let name = field.split(['[', '.']).next().unwrap_or_default();
            let mapped = match name {
                "dns" => "dns",
                "reserved" | "reserved_ip_ranges" => "reserved_ip_ranges",
                "static" | "static_ips" | "static_ip_ranges" => "static_ip_ranges",
                "azs" | "az" | "availability_zone_names" => "availability_zone_names",
                "range" | "cidr" => "cidr",
                _ => return key,
            };
            return format!("{subnet}{mapped}");
        }
    }
    key
}

/// A key with its list positions blanked (`networks[].subnets[].cidr`), to ask whether a
/// section shows a field of that kind.
pub fn key_pattern(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut in_index = false;
    for c in key.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// The saving state of one section.
#[derive(Clone, Copy)]
pub struct SectionState {
    pub config_version: RwSignal<i64>,
    /// Errors from the last save attempt, by page field key.
    pub server_errors: RwSignal<BTreeMap<String, Vec<String>>>,
    /// Errors found in the browser as the operator types (same engine as the server).
    pub local_errors: RwSignal<BTreeMap<String, Vec<String>>>,
    /// Fields typed in since the page loaded; their local errors show before the first save.
    pub touched: RwSignal<BTreeSet<String>>,
    pub show_all: RwSignal<bool>,
    /// The page-level notice (it survives the reload that follows a save).
    pub notice: RwSignal<Option<(bool, String)>>,
    /// Bumped after a successful save: the page reloads the Director's settings.
    pub reload: RwSignal<u32>,
    /// Field patterns the section shows (see [`key_pattern`]); other errors are listed apart.
    pub shown_patterns: StoredValue<Vec<String>>,
    /// A refused stale save's changes still to decide (see [`ConflictPanel`]).
    pub conflict: RwSignal<Conflict>,
    /// The section's words for the fields it edits, by the products service's reference.
    pub labels: StoredValue<BTreeMap<String, String>>,
    /// Puts another operator's value into the section's field, where the section edits it
    /// directly (see [`ConflictPanel`]'s `use_theirs`); none: Keep mine or Reload only.
    pub theirs: StoredValue<Option<Callback<(FieldChange, bool), bool>>>,
}

impl SectionState {
    pub fn new(
        config_version: i64,
        notice: RwSignal<Option<(bool, String)>>,
        reload: RwSignal<u32>,
        shown_patterns: Vec<String>,
    ) -> Self {
        SectionState {
            config_version: RwSignal::new(config_version),
            server_errors: RwSignal::new(BTreeMap::new()),
            local_errors: RwSignal::new(BTreeMap::new()),
            touched: RwSignal::new(BTreeSet::new()),
            show_all: RwSignal::new(false),
            notice,
            reload,
            shown_patterns: StoredValue::new(shown_patterns),
            conflict: RwSignal::new(None),
            labels: StoredValue::new(BTreeMap::new()),
            theirs: StoredValue::new(None),
        }
    }

    /// The section's labels for what another operator may change.
    pub fn with_labels(self, labels: impl IntoIterator<Item = (String, String)>) -> Self {
        self.labels.set_value(labels.into_iter().collect());
        self
    }

    /// How the section takes another operator's entry of a list it edits by name (see
    /// [`take_their_entry`]).
    pub fn with_their_entries<T, K>(
        self,
        prefix: &'static str,
        list: RwSignal<Vec<T>>,
        entry: impl Fn(&str, &serde_json::Value) -> Option<Option<T>> + Send + Sync + 'static,
        name_of: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Self
    where
        T: Send + Sync + 'static,
        K: AsRef<str>,
    {
        self.with_theirs(move |change, apply| {
            take_their_entry(change, apply, prefix, list, &entry, &name_of)
        })
    }

    /// The section's save: `send` gets the version the section was read at (or last saved)
    /// and what to save; every outcome shows through [`apply`](Self::apply), `saved_text` when
    /// saved.
    pub fn saving<I, F, Fut>(self, saved_text: &'static str, send: F) -> SectionSave<I>
    where
        I: Send + Sync + 'static,
        F: Fn(i64, &I) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<SaveOutcome, ServerFnError>> + Send + 'static,
    {
        let action = Action::new(move |input: &I| send(self.config_version.get_untracked(), input));
        self.watch(action, saved_text);
        SectionSave {
            state: self,
            action,
        }
    }

    /// How the section takes another operator's value for a field it edits directly.
    pub fn with_theirs(
        self,
        theirs: impl Fn(&FieldChange, bool) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.theirs.set_value(Some(Callback::new(
            move |(change, apply): (FieldChange, bool)| theirs(&change, apply),
        )));
        self
    }

    /// A reference in the section's words: its own label, else a name for a list entry
    /// (`availability_zones.az3` → "Availability zone az3").
    pub fn label(self, reference: &str) -> String {
        if let Some(label) = self.labels.with_value(|l| l.get(reference).cloned()) {
            return label;
        }
        let (head, rest) = reference.split_once('.').unwrap_or((reference, ""));
        let kind = match head {
            "availability_zones" => "Availability zone",
            "networks" => "Network",
            "vm_types" => "VM type",
            "disk_types" => "Disk type",
            "network_and_az" => "Director placement",
            "resource-config" => "Director resources",
            _ => return reference.to_string(),
        };
        if rest.is_empty() {
            format!("{kind}s")
        } else {
            format!("{kind} {rest}")
        }
    }

    /// The operator typed in `key`: its local errors may show, its last save error is stale.
    pub fn edited(self, key: &str) {
        if !self.touched.with_untracked(|t| t.contains(key)) {
            self.touched.update(|t| {
                t.insert(key.to_string());
            });
        }
        if self.server_errors.with_untracked(|e| e.contains_key(key)) {
            self.server_errors.update(|e| {
                e.remove(key);
            });
        }
    }

    /// Errors to show under `key` now.
    pub fn errors_for(self, key: &str) -> Vec<String> {
        if let Some(found) = self.server_errors.with(|e| e.get(key).cloned()) {
            return found;
        }
        let shown = self.show_all.get() || self.touched.with(|t| t.contains(key));
        if !shown {
            return Vec::new();
        }
        self.local_errors
            .with(|e| e.get(key).cloned().unwrap_or_default())
    }

    /// Save errors whose field this section does not show (so not under any field).
    pub fn unplaced_errors(self) -> Vec<String> {
        let patterns = self.shown_patterns.get_value();
        self.server_errors.with(|e| {
            e.iter()
                .filter(|(k, _)| !patterns.contains(&key_pattern(k)))
                .flat_map(|(k, msgs)| msgs.iter().map(move |m| format!("{k}: {m}")))
                .collect()
        })
    }

    /// Starts a save: every error shows from now on; the old notice goes.
    pub fn submitting(self) {
        self.show_all.set(true);
        self.notice.set(None);
        self.conflict.set(None);
    }

    /// Shows the result of a save.
    pub fn apply(self, result: Result<SaveOutcome, ServerFnError>, saved_text: &str) {
        match result {
            Ok(SaveOutcome::Saved { config_version }) => {
                self.config_version.set(config_version);
                self.server_errors.set(BTreeMap::new());
                self.notice.set(Some((true, saved_text.to_string())));
                self.reload.update(|n| *n += 1);
            }
            Ok(SaveOutcome::Invalid { errors }) => {
                let mut mapped: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for (key, messages) in errors {
                    let entry = mapped.entry(ui_key(&key)).or_default();
                    for m in messages {
                        if !entry.contains(&m) {
                            entry.push(m);
                        }
                    }
                }
                self.server_errors.set(mapped);
                self.notice.set(Some((
                    false,
                    "Nothing was saved: fix the fields marked below.".into(),
                )));
            }
            Ok(SaveOutcome::Conflict {
                current_version,
                changes,
                ..
            }) if changes.is_empty() => {
                // Saves in between changed nothing this section edits: saving again is safe.
                self.config_version.set(current_version);
                self.notice.set(Some((
                    false,
                    "Nothing was saved: another operator saved other Director settings since \
                     you opened this section (none of its fields). Save again to store your \
                     values."
                        .into(),
                )));
            }
            Ok(SaveOutcome::Conflict {
                current_version,
                changes,
                ..
            }) => {
                self.conflict.set(Some((current_version, changes)));
                self.notice.set(Some((
                    false,
                    "Nothing was saved: another operator changed this section since you opened \
                     it. Your typed values are still here; decide for each change below, or \
                     reload."
                        .into(),
                )));
            }
            Err(err) => self.notice.set(Some((false, server_message(&err)))),
        }
    }

    /// Shows every result of `action` through [`apply`](Self::apply).
    fn watch<I>(
        self,
        action: Action<I, Result<SaveOutcome, ServerFnError>>,
        saved_text: &'static str,
    ) where
        I: Send + Sync + 'static,
    {
        Effect::new(move |_| {
            if let Some(result) = action.value().get() {
                self.apply(result, saved_text);
            }
        });
    }
}

/// One section's save, from the form's submit to what the operator sees: saved, the fields
/// in error, or — when another operator saved the section first — the changes to decide (Use
/// theirs / Keep mine) or Reload, under the Save button. Made by [`SectionState::saving`].
pub struct SectionSave<I: 'static> {
    pub state: SectionState,
    action: Action<I, Result<SaveOutcome, ServerFnError>>,
}

impl<I> Clone for SectionSave<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I> Copy for SectionSave<I> {}

impl<I: Send + Sync + 'static> SectionSave<I> {
    /// Saves `input` now (a button other than Save, such as Reset to defaults).
    pub fn dispatch(self, input: I) {
        self.state.submitting();
        self.action.dispatch(input);
    }

    /// The form's submit handler: saves what `input` reads at the time.
    pub fn on_submit(
        self,
        input: impl Fn() -> I + 'static,
    ) -> impl Fn(leptos::ev::SubmitEvent) + 'static {
        move |ev| {
            ev.prevent_default();
            self.dispatch(input());
        }
    }

    /// The Save button (with `extra` beside it), the notice, and the conflict panel: see
    /// [`save_bar`].
    pub fn bar(self, extra: Option<AnyView>) -> AnyView {
        save_bar(self.state, self.action.pending().into(), extra)
    }
}

/// The errors under one field.
#[component]
pub fn FieldErrors(state: SectionState, #[prop(into)] key: String) -> impl IntoView {
    move || {
        let errors = state.errors_for(&key);
        (!errors.is_empty()).then(|| {
            view! {
                <ul class="field-errors" role="alert">
                    {errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            }
        })
    }
}

/// A labelled field: `control` is built with the id the label points at.
pub fn field(
    state: SectionState,
    key: String,
    label: &str,
    required: bool,
    hint: Option<&str>,
    control: impl FnOnce(String) -> AnyView,
) -> AnyView {
    let id = field_id(&key);
    let control = control(id.clone());
    let label = label.to_string();
    let hint = hint.map(str::to_string);
    let data_field = key.clone();
    view! {
        <div class="field" data-field=data_field>
            <label for=id>
                {label}
                {required.then(|| view! { <span class="required" title="required">" *"</span> })}
            </label>
            {hint.map(|h| view! { <p class="field-description">{h}</p> })}
            {control}
            <FieldErrors state key/>
        </div>
    }
    .into_any()
}

/// A one-line text input bound to `value`/`set`.
pub fn text_input(
    state: SectionState,
    key: String,
    id: String,
    value: Signal<String>,
    set: Callback<String>,
    placeholder: &str,
) -> AnyView {
    let placeholder = placeholder.to_string();
    view! {
        <input
            type="text"
            id=id
            placeholder=placeholder
            prop:value=move || value.get()
            on:input=move |ev| {
                set.run(event_target_value(&ev));
                state.edited(&key);
            }
        />
    }
    .into_any()
}

/// A labelled one-line text field.
pub fn text_field(
    state: SectionState,
    key: String,
    label: &str,
    required: bool,
    hint: Option<&str>,
    value: Signal<String>,
    set: Callback<String>,
) -> AnyView {
    let k = key.clone();
    field(state, key, label, required, hint, move |id| {
        text_input(state, k, id, value, set, "")
    })
}

/// What another operator changed in this section, after a refused stale save.
pub fn conflict_panel(state: SectionState) -> AnyView {
    view! {
        <ConflictPanel conflict=state.conflict
            label=move |reference: String| state.label(&reference)
            use_theirs=move |(change, apply): (FieldChange, bool)| {
                state
                    .theirs
                    .get_value()
                    .is_some_and(|theirs| theirs.run((change, apply)))
            }
            decided=move |version: i64| {
                state.config_version.set(version);
                state.notice.set(Some((
                    false,
                    "Every change is decided: Save to store the section as it is now.".into(),
                )));
            }
            reload=move |_: ()| {
                state.notice.set(None);
                state.reload.update(|n| *n += 1);
            }
            describe=move |(reference, value): (String, serde_json::Value)| describe(&reference, &value)
            what="section"/>
    }
    .into_any()
}

/// A Director value in the page's words: list entries summarised, a removed entry as such.
pub fn describe(reference: &str, value: &serde_json::Value) -> String {
    use serde_json::Value;
    let head = reference.split('.').next().unwrap_or_default();
    let listed = matches!(
        head,
        "availability_zones" | "networks" | "vm_types" | "disk_types"
    ) && reference.contains('.');
    if listed && value.is_null() {
        return "(removed)".into();
    }
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    let list = |v: Option<&Value>| -> String {
        v.and_then(Value::as_array)
            .map(|a| a.iter().map(text).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    match head {
        "availability_zones" if listed => {
            if let Some(id) = value.get("iaas_identifier").and_then(Value::as_str) {
                return id.to_string();
            }
            let clusters: Vec<String> = value
                .get("clusters")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .map(|c| {
                            let name = c.get("cluster").map(text).unwrap_or_default();
                            match c.get("resource_pool").and_then(Value::as_str) {
                                Some(rp) if !rp.is_empty() => format!("{name} ({rp})"),
                                _ => name,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            if clusters.is_empty() {
                shown_value(value)
            } else {
                format!("clusters {}", clusters.join(", "))
            }
        }
        "networks" if listed => {
            let subnets: Vec<String> = value
                .get("subnets")
                .and_then(Value::as_array)
                .map(|ss| {
                    ss.iter()
                        .map(|s| {
                            format!(
                                "{} (gateway {}, AZs {})",
                                s.get("cidr").map(text).unwrap_or_default(),
                                s.get("gateway").map(text).unwrap_or_default(),
                                list(s.get("availability_zone_names"))
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!("subnets {}", subnets.join("; "))
        }
        "vm_types" if listed => format!(
            "{} CPU, {} MB RAM, {} MB disk",
            value.get("cpu").map(text).unwrap_or_default(),
            value.get("ram").map(text).unwrap_or_default(),
            value.get("ephemeral_disk").map(text).unwrap_or_default()
        ),
        "disk_types" if listed => format!("{} MB", text(value)),
        _ => shown_value(value),
    }
}

/// Another operator's entry of a list edited by name: replaced where it is, added at the end,
/// or removed (`None`: they removed it).
pub fn take_entry<T, K: AsRef<str>>(
    list: &mut Vec<T>,
    name: &str,
    theirs: Option<T>,
    name_of: impl Fn(&T) -> K,
) {
    let at = list.iter().position(|x| name_of(x).as_ref() == name);
    match (at, theirs) {
        (Some(i), Some(entry)) => list[i] = entry,
        (None, Some(entry)) => list.push(entry),
        (Some(i), None) => {
            list.remove(i);
        }
        (None, None) => {}
    }
}

/// Another operator's change of a list entry the section edits by name (`<prefix><name>`):
/// `entry` reads their value (`Some(None)`: they removed the entry; `None`: nothing the section
/// can take), which, when `apply`, replaces, adds or removes the entry (see [`take_entry`]).
/// Whether the section can take it, as [`SectionState::with_theirs`] asks.
pub fn take_their_entry<T, K: AsRef<str>>(
    change: &FieldChange,
    apply: bool,
    prefix: &str,
    list: RwSignal<Vec<T>>,
    entry: impl Fn(&str, &serde_json::Value) -> Option<Option<T>>,
    name_of: impl Fn(&T) -> K,
) -> bool
where
    T: Send + Sync + 'static,
{
    let Some(name) = change.reference.strip_prefix(prefix) else {
        return false;
    };
    let Some(theirs) = entry(name, &change.value) else {
        return false;
    };
    if apply {
        list.update(|l| take_entry(l, name, theirs, &name_of));
    }
    true
}

/// The Save button with the page notice beside it, the save errors no field shows, and what
/// another operator changed when a save was refused as stale.
pub fn save_bar(state: SectionState, pending: Signal<bool>, extra: Option<AnyView>) -> AnyView {
    let may_configure = crate::session::may_configure();
    view! {
        {move || {
            let unplaced = state.unplaced_errors();
            (!unplaced.is_empty()).then(|| view! {
                <ul class="field-errors section-errors" role="alert">
                    {unplaced.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            })
        }}
        <div class="form-actions">
            <button type="submit" class="primary" disabled=move || pending.get() || !may_configure
                title=(!may_configure).then_some(crate::session::READ_ONLY_TITLE)>
                {move || if pending.get() { "Saving…" } else { "Save" }}
            </button>
            {extra}
            {move || state.notice.get().map(|(ok, text)| view! {
                <p class=if ok { "notice ok" } else { "notice error" } role="status">{text}</p>
            })}
        </div>
        {conflict_panel(state)}
    }
    .into_any()
}

/// Findings of the products service for one section, in its words ("still needed").
pub fn still_needed(problems: &BTreeMap<String, Vec<String>>, section: Section) -> AnyView {
    let items: Vec<String> = problems
        .iter()
        .filter(|(k, _)| Section::of_key(k) == Some(section))
        .flat_map(|(k, msgs)| msgs.iter().map(move |m| format!("{k}: {m}")))
        .collect();
    if items.is_empty() {
        return ().into_any();
    }
    view! {
        <div class="still-needed">
            <p>"Still needed before the Director can be deployed:"</p>
            <ul>{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_keys_land_on_page_fields() {
        assert_eq!(
            ui_key("networks[0].subnets[1].reserved[2]"),
            "networks[0].subnets[1].reserved_ip_ranges"
        );
        assert_eq!(
            ui_key("networks[0].subnets[0].static[0]"),
            "networks[0].subnets[0].static_ip_ranges"
        );
        assert_eq!(
            ui_key("networks[2].subnets[0].dns[1]"),
            "networks[2].subnets[0].dns"
        );
        assert_eq!(
            ui_key("networks[0].subnets[0].azs[1]"),
            "networks[0].subnets[0].availability_zone_names"
        );
        assert_eq!(
            ui_key("networks[0].subnets[0].cidr"),
            "networks[0].subnets[0].cidr"
        );
        assert_eq!(ui_key("networks[0].name"), "networks[0].name");
        assert_eq!(ui_key("azs[1].name"), "availability_zones[1].name");
        assert_eq!(ui_key("azs"), "availability_zones");
        assert_eq!(ui_key("azsomething"), "azsomething");
        assert_eq!(
            ui_key("iaas_configuration.vcenter_host"),
            "iaas_configuration.vcenter_host"
        );
    }

    #[test]
    fn patterns_forget_positions() {
        assert_eq!(
            key_pattern("networks[10].subnets[2].cidr"),
            "networks[].subnets[].cidr"
        );
        assert_eq!(
            key_pattern("network_and_az.network"),
            "network_and_az.network"
        );
    }

    #[test]
    fn keys_belong_to_sections() {
        assert_eq!(Section::of_key("azs[0].name"), Some(Section::Azs));
        assert_eq!(
            Section::of_key("networks[0].subnets[0].static[0]"),
            Some(Section::Networks)
        );
        assert_eq!(
            Section::of_key("network_and_az.singleton_availability_zone"),
            Some(Section::Assign)
        );
        assert_eq!(
            Section::of_key("compilation.vm_type"),
            Some(Section::VmTypes)
        );
        assert_eq!(
            Section::of_key("syslog_configuration.port"),
            Some(Section::Syslog)
        );
        assert_eq!(
            Section::of_key("resource-config.director.instance_type"),
            Some(Section::ResourceConfig)
        );
        assert_eq!(Section::of_key("unknown"), None);
        for s in Section::ALL {
            assert_eq!(Section::from_slug(s.slug()), Some(s));
        }
    }

    #[test]
    fn changed_entries_read_in_the_page_words() {
        use serde_json::json;
        assert_eq!(
            describe(
                "availability_zones.az3",
                &json!({"clusters": [{"cluster": "c3", "resource_pool": "rp"}]})
            ),
            "clusters c3 (rp)"
        );
        assert_eq!(
            describe("availability_zones.az3", &json!(null)),
            "(removed)"
        );
        assert_eq!(
            describe(
                "vm_types.large",
                &json!({"cpu": 4, "ram": 16384, "ephemeral_disk": 65536})
            ),
            "4 CPU, 16384 MB RAM, 65536 MB disk"
        );
        assert_eq!(describe("disk_types.10240", &json!(10240)), "10240 MB");
        assert_eq!(
            describe(
                "networks.infra",
                &json!({"subnets": [{"cidr": "10.0.0.0/24", "gateway": "10.0.0.1", "availability_zone_names": ["az1", "az2"]}]})
            ),
            "subnets 10.0.0.0/24 (gateway 10.0.0.1, AZs az1, az2)"
        );
        assert_eq!(
            describe("director_configuration.ntp_servers_string", &json!("a, b")),
            "a, b"
        );
    }

    #[test]
    fn their_entries_replace_add_or_remove_by_name() {
        let mut list = vec!["a".to_string(), "b".to_string()];
        take_entry(&mut list, "b", Some("b".to_string()), String::clone);
        take_entry(&mut list, "c", Some("c".to_string()), String::clone);
        take_entry(&mut list, "a", None, String::clone);
        take_entry(&mut list, "zz", None, String::clone);
        assert_eq!(list, vec!["b".to_string(), "c".to_string()]);
    }
}
