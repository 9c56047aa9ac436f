//! Manifest snippets of a template, parsed once.
//!
//! A template keeps its manifests (job templates' `manifest`, job types' `manifest`, selector
//! options' `named_manifests`, runtime configs) as YAML text with `(( ))` expressions, because
//! that is what the tile ships and what lint reports positions in. Rendering needs them as trees,
//! and parsing the same texts again on every render was about half of a render's cost. A
//! template loaded once is rendered many times (the server keeps templates behind `Arc`, the
//! browser re-validates and previews as the operator types), so the parsed trees are kept in the
//! template, keyed by the text itself: the answer is exactly `yaml::load(text)` whatever the text
//! is, even if the template's fields were edited since.
//!
//! Only successful parses are kept (an error is recomputed, with its position). The cache is
//! bounded by the total size of the texts it holds, so a caller handing it texts that are not
//! the template's own cannot grow it without limit; beyond the bound texts are parsed each time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::error::Result;

/// Texts held at most, in bytes (the PKS tile's manifests are about 60 KB; the generated tile of
/// the benchmarks with 10× the properties about 10× that).
const MAX_CACHED_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
struct Parsed {
    trees: HashMap<String, Arc<Value>>,
    bytes: usize,
}

/// Holds a template's parsed manifest texts. Derived data, not part of the template's value:
/// every cell compares equal, a clone starts empty, and it is never serialized.
#[derive(Default)]
pub(crate) struct ParsedCell(Mutex<Parsed>);

impl ParsedCell {
    /// `yaml::load(text)`, from the cache when this text was parsed before.
    pub(crate) fn load(&self, text: &str) -> Result<Arc<Value>> {
        // A poisoned lock (a panic elsewhere while holding it) only means no caching.
        if let Some(tree) = self
            .0
            .lock()
            .ok()
            .and_then(|cache| cache.trees.get(text).cloned())
        {
            return Ok(tree);
        }
        // Parsed outside the lock: renders on other threads are not held up meanwhile.
        let tree = Arc::new(crate::yaml::load(text)?);
        if let Ok(mut cache) = self.0.lock() {
            if cache.bytes + text.len() <= MAX_CACHED_BYTES && !cache.trees.contains_key(text) {
                cache.bytes += text.len();
                cache.trees.insert(text.to_owned(), Arc::clone(&tree));
            }
        }
        Ok(tree)
    }
}

impl Clone for ParsedCell {
    fn clone(&self) -> Self {
        ParsedCell::default()
    }
}

impl PartialEq for ParsedCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ParsedCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParsedCell")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gives_what_yaml_load_gives_and_keeps_it() {
        let cell = ParsedCell::default();
        let text = "a: (( .properties.x.value ))\nb: [1, on, 1709.10]\n";
        let first = cell.load(text).unwrap();
        assert_eq!(*first, crate::yaml::load(text).unwrap());
        assert_eq!(
            *first,
            json!({"a": "(( .properties.x.value ))", "b": [1, true, "1709.10"]})
        );
        let second = cell.load(text).unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "the second load is the kept tree"
        );
        assert_eq!(*cell.load("c: 2\n").unwrap(), json!({"c": 2}));
    }

    #[test]
    fn errors_are_not_kept_and_keep_their_position() {
        let cell = ParsedCell::default();
        let bad = "a: [1, 2\n";
        let e1 = cell.load(bad).unwrap_err();
        let e2 = cell.load(bad).unwrap_err();
        assert_eq!(
            e1.to_string(),
            crate::yaml::load(bad).unwrap_err().to_string()
        );
        assert_eq!(e1.to_string(), e2.to_string());
        assert!(cell.0.lock().unwrap().trees.is_empty());
    }

    #[test]
    fn stops_keeping_texts_beyond_the_bound() {
        let cell = ParsedCell::default();
        cell.0.lock().unwrap().bytes = MAX_CACHED_BYTES - 3;
        let a = cell.load("a: 1\n").unwrap();
        let again = cell.load("a: 1\n").unwrap();
        assert!(!Arc::ptr_eq(&a, &again), "over the bound: parsed each time");
        assert_eq!(*again, json!({"a": 1}));
        assert_eq!(cell.0.lock().unwrap().bytes, MAX_CACHED_BYTES - 3);
    }

    #[test]
    fn a_clone_starts_empty_and_cells_compare_equal() {
        let cell = ParsedCell::default();
        cell.load("a: 1\n").unwrap();
        let copy = cell.clone();
        assert!(copy.0.lock().unwrap().trees.is_empty());
        assert_eq!(cell, copy);
    }
}
