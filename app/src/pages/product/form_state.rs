//! The editing state of one settings form: values, what the operator changed, and the
//! validation findings computed in the browser with the `tiles` crate — the same code the server
//! runs when the form is saved.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use serde_json::Value;

use crate::backend::REDACTED;

/// Catalogues the dropdown widgets choose from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub vm_types: Vec<String>,
    pub disk_types: Vec<String>,
    pub availability_zones: Vec<String>,
    /// `stemcell_selector` choices: the OSes of the tile's stemcell criteria with a matching
    /// stemcell in the Stemcell Library.
    pub stemcells: Vec<crate::backend::settings::StemcellChoice>,
}

#[derive(Clone, Copy)]
pub struct FormState {
    /// Reference → value (credentials redacted until the operator replaces them).
    pub values: RwSignal<BTreeMap<String, Value>>,
    /// References the operator changed since the page loaded (only these are sent on save).
    pub dirty: RwSignal<BTreeSet<String>>,
    /// Findings keyed by reference (`.properties.coll[0].field` inside collections).
    pub errors: RwSignal<BTreeMap<String, Vec<String>>>,
    /// Field keys the operator has left or typed in; their errors show before the first save.
    pub touched: RwSignal<BTreeSet<String>>,
    /// After a save attempt every error shows.
    pub show_all_errors: RwSignal<bool>,
    pub catalog: StoredValue<Catalog>,
    /// The staged product's GUID (for actions that save one field at once, like Generate).
    pub guid: StoredValue<String>,
    /// The configuration version the form's values are based on; a save names it and is
    /// refused if another save came first.
    pub config_version: RwSignal<i64>,
    /// Form name → complete, as the navigation marks show it; actions that save on their
    /// own (Generate) refresh it.
    pub form_complete: RwSignal<BTreeMap<String, bool>>,
}

impl FormState {
    pub fn new(
        guid: String,
        config_version: i64,
        values: BTreeMap<String, Value>,
        catalog: Catalog,
        form_complete: BTreeMap<String, bool>,
    ) -> Self {
        FormState {
            values: RwSignal::new(values),
            dirty: RwSignal::new(BTreeSet::new()),
            errors: RwSignal::new(BTreeMap::new()),
            touched: RwSignal::new(BTreeSet::new()),
            show_all_errors: RwSignal::new(false),
            catalog: StoredValue::new(catalog),
            guid: StoredValue::new(guid),
            config_version: RwSignal::new(config_version),
            form_complete: RwSignal::new(form_complete),
        }
    }

    /// The binding of a top-level reference.
    pub fn bind(self, reference: &str) -> Binding {
        let key = reference.to_string();
        let read_key = key.clone();
        let write_key = key.clone();
        Binding {
            key,
            get: Signal::derive(move || self.values.with(|v| v.get(&read_key).cloned())),
            set: Callback::new(move |value: Value| {
                self.values.update(|v| {
                    v.insert(write_key.clone(), value);
                });
                self.dirty.update(|d| {
                    d.insert(write_key.clone());
                });
                self.touched.update(|t| {
                    t.insert(write_key.clone());
                });
            }),
            state: self,
        }
    }

    /// The binding of field `field` of record `index` of the collection at `collection`.
    pub fn bind_record_field(self, collection: &str, index: usize, field: &str) -> Binding {
        let coll = collection.to_string();
        let field = field.to_string();
        let key = format!("{collection}[{index}].{field}");
        let (read_coll, read_field) = (coll.clone(), field.clone());
        let touched_key = key.clone();
        Binding {
            key,
            get: Signal::derive(move || {
                self.values.with(|v| {
                    v.get(&read_coll)
                        .and_then(|list| list.get(index))
                        .and_then(|record| record.get(&read_field))
                        .cloned()
                })
            }),
            set: Callback::new(move |value: Value| {
                self.update_collection(&coll, |records| {
                    if let Some(Value::Object(record)) = records.get_mut(index) {
                        record.insert(field.clone(), value.clone());
                    }
                });
                self.touched.update(|t| {
                    t.insert(touched_key.clone());
                });
            }),
            state: self,
        }
    }

    /// Changes the records of a collection (adding, removing, reordering, editing).
    pub fn update_collection(self, collection: &str, change: impl FnOnce(&mut Vec<Value>)) {
        self.values.update(|v| {
            let entry = v
                .entry(collection.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !entry.is_array() {
                *entry = Value::Array(Vec::new());
            }
            if let Value::Array(records) = entry {
                change(records);
            }
        });
        self.dirty.update(|d| {
            d.insert(collection.to_string());
        });
    }

    /// Replaces a value with one the server stored (Generate, "Use theirs"): not a change of
    /// the operator's, so it is not sent with the next save.
    pub fn set_stored(self, reference: &str, value: Value) {
        self.values.update(|v| {
            v.insert(reference.to_string(), value);
        });
        self.dirty.update(|d| {
            d.remove(reference);
        });
    }

    /// Errors to show for a field now.
    pub fn visible_errors(self, key: &str) -> Vec<String> {
        let shown = self.show_all_errors.get() || self.touched.with(|t| t.contains(key));
        if !shown {
            return Vec::new();
        }
        self.errors
            .with(|e| e.get(key).cloned().unwrap_or_default())
    }

    /// The changed values, ready to send.
    pub fn changed_values(self) -> BTreeMap<String, Value> {
        let dirty = self.dirty.get_untracked();
        self.values.with_untracked(|v| {
            v.iter()
                .filter(|(k, _)| dirty.contains(*k))
                .map(|(k, val)| (k.clone(), val.clone()))
                .collect()
        })
    }
}

/// One editable value and where its errors are filed.
#[derive(Clone)]
pub struct Binding {
    pub key: String,
    pub get: Signal<Option<Value>>,
    pub set: Callback<Value>,
    pub state: FormState,
}

impl Binding {
    pub fn text(&self) -> Signal<String> {
        let get = self.get;
        Signal::derive(move || match get.get() {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        })
    }

    pub fn field_text(&self, field: &'static str) -> Signal<String> {
        let get = self.get;
        Signal::derive(move || {
            get.get()
                .and_then(|v| v.get(field).and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default()
        })
    }

    pub fn touch(&self) {
        let key = self.key.clone();
        self.state.touched.update(|t| {
            t.insert(key);
        });
    }
}

/// True when a stored credential value is the server's redaction (set, but not shown).
pub fn is_redacted(value: &Option<Value>) -> bool {
    match value {
        Some(Value::Object(fields)) => fields.values().any(|f| f.as_str() == Some(REDACTED)),
        Some(Value::String(s)) => s == REDACTED,
        _ => false,
    }
}
