//! `tileworks tile preview DIR`: a tile author's tile served as operators will see it. The
//! preview runs the normal server (`crate::http::serve::serve_preview`) on a temporary data
//! dir; this module is what it adds: the tile registered and staged through the products
//! service (`crate::products::preview`), read again every half second and replaced when its
//! metadata changed, and what the pages show about it ([`Shown`]: the staged product, the
//! metadata's errors and warnings with their YAML paths and lines, a generation the open page
//! polls to reload itself; `crate::http::preview` serves them).
//!
//! Files:
//! - `mod.rs`: the preview's state, the loading of the tile and the watch;
//!
//! The preview has no login: every request without a session or a token is the preview's
//! principal ([`principal`], `restricted_control`: configure, no credentials), which is why the
//! command listens on a loopback address only and the pages answer only to a loopback `Host`
//! (`crate::http::preview::layer`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::products::Products;
use crate::tile_archive::{self, Limits};

/// How often the tile is read again.
pub const POLL: Duration = Duration::from_millis(500);

/// The principal every request of the preview runs as: it may configure, as an operator
/// would, and not read credentials.
pub const PRINCIPAL: &str = "tile-preview";
const ROLE: &str = "restricted_control";

/// The preview's principal, for the gate (`crate::http::gate`) when a request brings no other.
pub fn principal() -> app::session::CurrentUser {
    crate::auth::roles::principal(PRINCIPAL.into(), ROLE.into())
}

/// The tile being previewed. Cheap to clone.
#[derive(Clone)]
pub struct Preview {
    inner: Arc<Inner>,
}

struct Inner {
    source: PathBuf,
    state: Mutex<State>,
}

struct State {
    shown: Shown,
    /// The metadata (its path in the tile and its text) the shown state was made from, so an
    /// unchanged tile is not loaded again; `None` when the tile could not be read.
    loaded: Option<(String, String)>,
}

/// What the preview's pages show about the tile (and `GET /preview/status` answers).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    /// Counts every change of what is shown; the open page reloads when it moves.
    pub generation: u64,
    /// The metadata file: its path inside the tile (or as given, for a bare `.yml`).
    pub metadata_path: String,
    /// The SHA-256 of the metadata text shown (empty while the tile cannot be read): every
    /// edit changes what is shown, even one that leaves the product, errors and warnings alike.
    pub metadata_sha256: String,
    /// The staged product, once the metadata loaded (kept while later edits have errors).
    pub product: Option<ShownProduct>,
    /// What stops the metadata from loading: while there are any the pages show them instead
    /// of the forms.
    pub errors: Vec<Problem>,
    /// What loads but the author should fix (lint warnings).
    pub warnings: Vec<Problem>,
    /// Settings the last edit dropped: values of properties that no longer exist.
    pub dropped: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShownProduct {
    pub guid: String,
    pub label: String,
    /// The product's settings page, where the preview sends the browser.
    pub settings_url: String,
}

/// One finding about the metadata, placed in its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The YAML path (`form_types[0].property_inputs[2].reference`); empty for a finding about
    /// the whole text (unreadable YAML, a file that cannot be read).
    pub path: String,
    /// Line and column in the metadata file, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub rule: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    fn about_the_file(rule: &str, message: String) -> Problem {
        Problem {
            path: String::new(),
            line: None,
            column: None,
            rule: rule.into(),
            message,
            hint: None,
        }
    }

    /// A lint finding as the page shows it: lint places findings itself (line and column);
    /// unreadable YAML has no YAML path, only the place where reading stopped.
    fn from_finding(finding: tiles::lint::Finding) -> Problem {
        let path = if finding.rule == tiles::lint::rules::YAML {
            String::new()
        } else {
            finding.path
        };
        Problem {
            path,
            line: finding.line,
            column: finding.column,
            rule: finding.rule,
            message: finding.message,
            hint: finding.hint,
        }
    }
}

impl Preview {
    /// A preview of the tile at `source` (a folder, a metadata `.yml` or a `.pivotal`); nothing
    /// is read until [`Preview::refresh`].
    pub fn new(source: PathBuf) -> Preview {
        Preview {
            inner: Arc::new(Inner {
                source,
                state: Mutex::new(State {
                    shown: Shown {
                        generation: 0,
                        metadata_path: String::new(),
                        metadata_sha256: String::new(),
                        product: None,
                        errors: Vec::new(),
                        warnings: Vec::new(),
                        dropped: Vec::new(),
                    },
                    loaded: None,
                }),
            }),
        }
    }

    pub fn source(&self) -> &Path {
        &self.inner.source
    }

    /// What the pages show now.
    pub fn shown(&self) -> Shown {
        self.lock().shown.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned state is still whole: it is replaced in one assignment.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the tile; when its metadata changed, lints it and (without errors) loads it into
    /// the products service. Returns what is shown when that changed, else `None`.
    pub async fn refresh(&self, products: &Products) -> Option<Shown> {
        let source = self.inner.source.clone();
        let read = tokio::task::spawn_blocking(move || {
            tile_archive::read_tile(&source, &Limits::default())
        })
        .await;
        let tile = match read {
            Ok(Ok(tile)) => tile,
            Ok(Err(e)) => {
                let problem = Problem::about_the_file("tile-readable", e.to_string());
                return self.update(None, |shown| {
                    shown.metadata_sha256.clear();
                    shown.errors = vec![problem];
                    shown.warnings.clear();
                });
            }
            Err(e) => {
                let problem = Problem::about_the_file("tile-readable", e.to_string());
                return self.update(None, |shown| shown.errors = vec![problem]);
            }
        };
        let loaded = (tile.metadata_path.clone(), tile.metadata.clone());
        if self.lock().loaded.as_ref() == Some(&loaded) {
            return None;
        }
        let text = tile.metadata;
        let (errors, warnings): (Vec<_>, Vec<_>) = tiles::lint::lint_yaml(&text)
            .into_iter()
            .partition(|f| f.severity == tiles::lint::Severity::Error);
        let place = |findings: Vec<tiles::lint::Finding>| -> Vec<Problem> {
            findings.into_iter().map(Problem::from_finding).collect()
        };
        let (errors, warnings) = (place(errors), place(warnings));
        let metadata_path = tile.metadata_path;
        let sha256 = crate::secrets::sha256_hex(&text);
        if !errors.is_empty() {
            return self.update(Some(loaded), |shown| {
                shown.metadata_path = metadata_path;
                shown.metadata_sha256 = sha256;
                shown.errors = errors;
                shown.warnings = warnings;
            });
        }
        let outcome = match tiles::metadata::ProductTemplate::from_yaml(&text) {
            Ok(template) => products
                .preview_load(&text, &template, PRINCIPAL)
                .await
                .map_err(|e| Problem::about_the_file("preview-load", e.to_string())),
            Err(e) => Err(Problem::about_the_file(
                tiles::lint::rules::SHAPE,
                e.to_string(),
            )),
        };
        self.update(Some(loaded), |shown| {
            shown.metadata_path = metadata_path;
            shown.metadata_sha256 = sha256;
            shown.warnings = warnings;
            match outcome {
                Ok(loaded) => {
                    shown.settings_of(loaded.guid, loaded.label);
                    shown.errors.clear();
                    shown.dropped = loaded.dropped;
                }
                Err(problem) => shown.errors = vec![problem],
            }
        })
    }

    /// Changes what is shown; when that differs, moves the generation on and returns it.
    fn update(
        &self,
        loaded: Option<(String, String)>,
        change: impl FnOnce(&mut Shown),
    ) -> Option<Shown> {
        let mut state = self.lock();
        state.loaded = loaded;
        let mut next = state.shown.clone();
        change(&mut next);
        if next == state.shown {
            return None;
        }
        next.generation = state.shown.generation + 1;
        state.shown = next.clone();
        Some(next)
    }

    /// Reads the tile again every [`POLL`] for as long as the server runs, and says on the
    /// console what each change did.
    pub fn watch(&self, products: Products) {
        let preview = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Some(shown) = preview.refresh(&products).await {
                    report(&shown);
                }
            }
        });
    }
}

impl Shown {
    fn settings_of(&mut self, guid: String, label: String) {
        self.product = Some(ShownProduct {
            settings_url: format!("/products/{guid}/settings"),
            guid,
            label,
        });
    }
}

/// Tells the author on the console what the page now shows.
pub fn report(shown: &Shown) {
    let file = &shown.metadata_path;
    for problem in shown.errors.iter().chain(&shown.warnings) {
        let kind = if shown.errors.contains(problem) {
            "error"
        } else {
            "warning"
        };
        println!("{kind}: {}", describe(file, problem));
    }
    match (&shown.product, shown.errors.len()) {
        (Some(product), 0) => {
            println!("Loaded {} ({file}).", product.label);
            if !shown.dropped.is_empty() {
                println!("Dropped settings: {}", shown.dropped.join(", "));
            }
        }
        (_, n) => {
            println!("{n} error(s) in the metadata: the page shows them until they are fixed.")
        }
    }
}

/// `metadata/x.yml:12:5: form_types[0].label: message [rule]`.
pub fn describe(file: &str, problem: &Problem) -> String {
    let mut out = file.to_owned();
    if let Some(line) = problem.line {
        out.push_str(&format!(":{line}"));
        if let Some(column) = problem.column {
            out.push_str(&format!(":{column}"));
        }
    }
    out.push_str(": ");
    if !problem.path.is_empty() {
        out.push_str(&format!("{}: ", problem.path));
    }
    out.push_str(&format!("{} [{}]", problem.message, problem.rule));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_placed_in_the_text() {
        let text = include_str!("../../../end2end/fixtures/preview-tile/metadata/preview-demo.yml")
            .replacen(
                "  - reference: .properties.worker_count",
                "  - reference: .properties.worker_cuont",
                1,
            );
        let finding = tiles::lint::lint_yaml(&text)
            .into_iter()
            .find(|f| f.rule == tiles::lint::rules::FORM_REFERENCE)
            .expect("the dangling reference is found");
        let problem = Problem::from_finding(finding);
        assert_eq!(problem.path, "form_types[0].property_inputs[1].reference");
        assert_eq!((problem.line, problem.column), (Some(25), Some(5)));
        let described = describe("metadata/preview-demo.yml", &problem);
        assert!(
            described.starts_with(
                "metadata/preview-demo.yml:25:5: form_types[0].property_inputs[1].reference: "
            ) && described.ends_with("[form-reference-resolves]"),
            "{described}"
        );
        let unreadable = tiles::lint::lint_yaml("name: x\nform_types: [\n");
        let problem = Problem::from_finding(unreadable[0].clone());
        assert_eq!(problem.path, "");
        assert!(problem.line.is_some(), "{problem:?}");
    }
}
