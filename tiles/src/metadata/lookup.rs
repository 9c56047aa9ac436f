//! Name → position indexes over a template's lists, so that resolving a property reference does
//! not scan the blueprint lists.
//!
//! Validation, rendering and lint resolve every `(( .properties.x ))` reference through
//! [`ProductTemplate::property`](super::ProductTemplate::property); with a scan per lookup the
//! cost of a tile grows with the square of its size. The index is built on the first lookup and
//! kept inside the template (see [`LookupCell`]), which works the same on the server (templates
//! shared behind `Arc`) and in the browser (wasm, one thread).
//!
//! The template's fields are public and could be edited after the index was built, so an index
//! hit is only trusted when the item found there still has the name asked for, and a miss falls
//! back to the scan. The answer is therefore always what a scan gives (the first item with the
//! name), except if an item with the same name is later *inserted before* the indexed one —
//! duplicate names, which lint reports as an error anyway.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{JobType, ProductTemplate, PropertyBlueprint};

/// Positions of the first item with each name.
type Positions = HashMap<String, usize>;

/// The indexes of one template.
#[derive(Debug, Default)]
pub(crate) struct Lookup {
    job_types: Positions,
    form_types: Positions,
    product_blueprints: Positions,
    /// Per job type (same order as `job_types`), its blueprints.
    job_blueprints: Vec<Positions>,
}

fn positions<'a>(names: impl Iterator<Item = &'a str>) -> Positions {
    let mut out = Positions::new();
    for (i, name) in names.enumerate() {
        // The first of duplicate names wins, as `Iterator::find` does.
        out.entry(name.to_owned()).or_insert(i);
    }
    out
}

impl Lookup {
    fn build(t: &ProductTemplate) -> Lookup {
        Lookup {
            job_types: positions(t.job_types.iter().map(|j| j.name.as_str())),
            form_types: positions(t.form_types.iter().map(|f| f.name.as_str())),
            product_blueprints: positions(t.property_blueprints.iter().map(|b| b.name.as_str())),
            job_blueprints: t
                .job_types
                .iter()
                .map(|j| positions(j.property_blueprints.iter().map(|b| b.name.as_str())))
                .collect(),
        }
    }

    pub(crate) fn job_type<'t>(&self, t: &'t ProductTemplate, name: &str) -> Option<&'t JobType> {
        find(&t.job_types, Some(&self.job_types), name, |j| &j.name)
    }

    pub(crate) fn form_type<'t>(
        &self,
        t: &'t ProductTemplate,
        name: &str,
    ) -> Option<&'t super::FormType> {
        find(&t.form_types, Some(&self.form_types), name, |f| &f.name)
    }

    pub(crate) fn product_blueprint<'t>(
        &self,
        t: &'t ProductTemplate,
        name: &str,
    ) -> Option<&'t PropertyBlueprint> {
        find(
            &t.property_blueprints,
            Some(&self.product_blueprints),
            name,
            |b| &b.name,
        )
    }

    /// A blueprint of the job type `job` (found through [`Lookup::job_type`]).
    pub(crate) fn job_blueprint<'t>(
        &self,
        t: &'t ProductTemplate,
        job: &'t JobType,
        name: &str,
    ) -> Option<&'t PropertyBlueprint> {
        // The job's position tells which index is its; an edited list just means no index.
        let index = self
            .job_types
            .get(&job.name)
            .filter(|&&i| t.job_types.get(i).is_some_and(|j| std::ptr::eq(j, job)))
            .and_then(|&i| self.job_blueprints.get(i));
        find(&job.property_blueprints, index, name, |b| &b.name)
    }
}

/// The first item named `name`: through the index when its entry is still right, else by scan.
fn find<'t, T>(
    items: &'t [T],
    index: Option<&Positions>,
    name: &str,
    name_of: impl Fn(&T) -> &String,
) -> Option<&'t T> {
    let indexed = index
        .and_then(|ix| ix.get(name))
        .and_then(|&i| items.get(i))
        .filter(|item| name_of(item) == name);
    indexed.or_else(|| items.iter().find(|item| name_of(item) == name))
}

/// Holds a template's [`Lookup`], built on first use. It is derived data, not part of the
/// template's value: every cell compares equal, a clone starts empty (the clone may be edited),
/// and it is never serialized.
#[derive(Default)]
pub(crate) struct LookupCell(OnceLock<Lookup>);

impl LookupCell {
    pub(crate) fn get(&self, t: &ProductTemplate) -> &Lookup {
        self.0.get_or_init(|| Lookup::build(t))
    }
}

impl Clone for LookupCell {
    fn clone(&self) -> Self {
        LookupCell::default()
    }
}

impl PartialEq for LookupCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for LookupCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LookupCell")
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{EXAMPLE, PKS};
    use super::*;

    /// What every lookup answered before the index: the first item with the name.
    fn scan<'t, T>(items: &'t [T], name: &str, name_of: impl Fn(&T) -> &String) -> Option<&'t T> {
        items.iter().find(|item| name_of(item) == name)
    }

    fn same<T>(a: Option<&T>, b: Option<&T>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }

    #[test]
    fn indexed_lookups_answer_what_a_scan_answers() {
        for text in [PKS, EXAMPLE] {
            let t = ProductTemplate::from_yaml(text).unwrap();
            for j in &t.job_types {
                assert!(same(
                    t.job_type(&j.name),
                    scan(&t.job_types, &j.name, |j| &j.name)
                ));
                for b in &j.property_blueprints {
                    let found = t.property(&format!(".{}.{}", j.name, b.name)).unwrap();
                    assert!(std::ptr::eq(found.blueprint, b));
                }
            }
            for f in &t.form_types {
                assert!(same(
                    t.form_type(&f.name),
                    scan(&t.form_types, &f.name, |f| &f.name)
                ));
            }
            for b in &t.property_blueprints {
                assert!(same(
                    t.product_blueprint(&b.name),
                    scan(&t.property_blueprints, &b.name, |b| &b.name)
                ));
            }
            // Every addressable reference resolves to the blueprint `property_refs` lists.
            for r in t.property_refs() {
                let found = t.property(&r.reference).unwrap();
                assert!(
                    std::ptr::eq(found.blueprint, r.blueprint),
                    "{}",
                    r.reference
                );
                assert_eq!(found.reference, r.reference);
            }
            for missing in ["nope", ""] {
                assert!(t.job_type(missing).is_none());
                assert!(t.form_type(missing).is_none());
                assert!(t.product_blueprint(missing).is_none());
                assert!(t.property(&format!(".properties.{missing}")).is_none());
            }
        }
    }

    #[test]
    fn the_first_of_duplicate_names_wins() {
        let t = ProductTemplate::from_yaml(
            "name: p\nproperty_blueprints:\n- {name: a, type: string, default: first}\n\
             - {name: a, type: string, default: second}\n",
        )
        .unwrap();
        let found = t.property(".properties.a").unwrap();
        assert!(std::ptr::eq(found.blueprint, &t.property_blueprints[0]));
        assert!(std::ptr::eq(
            t.product_blueprint("a").unwrap(),
            &t.property_blueprints[0]
        ));
    }

    #[test]
    fn edits_after_the_index_was_built_are_seen() {
        let mut t = ProductTemplate::from_yaml(EXAMPLE).unwrap();
        let first = t.property_blueprints[0].name.clone();
        let job = t.job_types[0].name.clone();
        assert!(t.product_blueprint(&first).is_some()); // builds the index
        assert!(t.job_type(&job).is_some());

        t.property_blueprints[0].name = "renamed".into();
        assert!(t.product_blueprint(&first).is_none());
        assert_eq!(t.product_blueprint("renamed").unwrap().name, "renamed");
        assert!(t.property(".properties.renamed").is_some());

        let mut extra = t.job_types[0].clone();
        extra.name = "extra_job".into();
        t.job_types.insert(0, extra);
        assert!(std::ptr::eq(
            t.job_type("extra_job").unwrap(),
            &t.job_types[0]
        ));
        // The shifted job is still found, with its own blueprints.
        let shifted = t.job_type(&job).unwrap();
        assert!(std::ptr::eq(shifted, &t.job_types[1]));
        if let Some(b) = t.job_types[1].property_blueprints.first() {
            let found = t.property(&format!(".{job}.{}", b.name)).unwrap();
            assert!(std::ptr::eq(found.blueprint, b));
        }

        t.job_types.clear();
        t.property_blueprints.clear();
        assert!(t.job_type(&job).is_none());
        assert!(t.product_blueprint("renamed").is_none());
    }

    #[test]
    fn the_index_is_not_part_of_the_value() {
        let t = ProductTemplate::from_yaml(EXAMPLE).unwrap();
        let untouched = ProductTemplate::from_yaml(EXAMPLE).unwrap();
        assert!(t.job_type(&t.job_types[0].name).is_some());
        assert_eq!(t, untouched);
        let copy = t.clone();
        assert!(
            copy.lookup.0.get().is_none(),
            "a clone starts without an index"
        );
        assert_eq!(copy, t);
        let json = serde_json::to_value(&t).unwrap();
        assert!(json.get("lookup").is_none());
        assert!(json.get("parsed").is_none());
    }
}
