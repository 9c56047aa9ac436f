//! Real, public tile metadata (`../shared/fixtures/tiles/corpus/`, sources in its `SOURCES.md`)
//! goes through what an operator's import does: it loads, lints without errors (what Ops Manager
//! tolerates is a warning), its settings pages' data (the template as JSON) reads back as it was,
//! it stages with its defaults, validates once every required field the
//! operator must fill has a value of its type, and renders a manifest offline.
//!
//! The expected outcome of each tile is in [`EXPECTED`]; the results are recorded in
//! `tiles/CORPUS.md`. A tile that starts to render (or stops) fails this test until the table
//! and the record say so.

mod support;

use std::path::PathBuf;

use tiles::lint::{lint_yaml, Severity};
use tiles::metadata::ProductTemplate;
use tiles::properties::defaults::apply_defaults;
use tiles::properties::staged::StagedValues;
use tiles::render::{render_product, OfflineOptions, OtherProduct, RenderContext};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/tiles/corpus")
}

/// What each corpus tile gives today.
enum Expect {
    /// Lints without errors, stages, validates and renders.
    Renders,
    /// Refused at lint with an error starting so (the reason is in `tiles/CORPUS.md`).
    Refused(&'static str),
}

/// One row per corpus file.
const EXPECTED: &[(&str, Expect)] = &[
    ("AppDirect-broker-1.3.0.yml", Expect::Renders),
    ("appdirect-broker-1.7.0.yml", Expect::Renders),
    ("appdynamics-4.5.470.yml", Expect::Renders),
    // Ops Manager 1.1's manifests are Ruby ERB (`<%= … %>`) with bare `(( first_ip ))`.
    (
        "cf-1.1.0.0.yml",
        Expect::Refused("job_types[1].manifest: `(( first_ip ))`"),
    ),
    ("ecs-service-broker-1.2.1.yml", Expect::Renders),
    ("gcp-service-broker-3.1.2.yml", Expect::Renders),
    ("harbor-tile-0.0.7.yml", Expect::Renders),
    ("hazelcast-for-pcf-1.0.0.yml", Expect::Renders),
    ("mongodb-on-demand-0.6.9.yml", Expect::Renders),
    ("overops-0.0.9.yml", Expect::Renders),
];

struct Outcome {
    warnings: usize,
    filled: usize,
    render: Result<(), String>,
}

fn run(text: &str) -> Result<Outcome, String> {
    let findings = lint_yaml(text);
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {} ({})", f.path, f.message, f.rule))
        .collect();
    if !errors.is_empty() {
        return Err(format!("lint errors:\n  {}", errors.join("\n  ")));
    }
    let template = ProductTemplate::from_yaml(text).map_err(|e| format!("load: {e}"))?;
    // What a settings page sends the browser: the template as JSON, defaults left out.
    let json = serde_json::to_string(&template).map_err(|e| format!("page data: {e}"))?;
    let read: ProductTemplate =
        serde_json::from_str(&json).map_err(|e| format!("page data read back: {e}"))?;
    if read != template {
        return Err("page data: the template read back from its JSON differs".into());
    }
    let mut staged = StagedValues::new();
    apply_defaults(&template, &mut staged, &[]);
    let filled = support::fill_required(&template, &mut staged)?.count;

    let render = RenderContext::offline_default(&template.name, &OfflineOptions::default())
        .and_then(|mut ctx| {
            ctx.products.insert("cf".into(), runtime()?);
            render_product(&template, &staged, &ctx)
        })
        .map(|_| ())
        .map_err(|e| e.to_string());
    Ok(Outcome {
        warnings: findings.len(),
        filled,
        render,
    })
}

/// The part of the runtime tile (`cf`) service tiles reference with `..cf.`.
fn runtime() -> tiles::Result<OtherProduct> {
    let template = ProductTemplate::from_yaml(support::RUNTIME_TILE)?;
    let mut staged = StagedValues::new();
    apply_defaults(&template, &mut staged, &[]);
    for (reference, value) in support::runtime_values() {
        staged.set(reference, value);
    }
    Ok(OtherProduct {
        guid: "cf-0123456789abcdef0123".into(),
        template,
        staged,
        network: None,
        staged_at: String::new(),
    })
}

#[test]
fn every_corpus_tile_imports_stages_and_renders_as_recorded() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("the corpus folder ../shared/fixtures/tiles/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus has {} tiles", files.len());

    let mut problems = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let expected = EXPECTED.iter().find(|(n, _)| *n == name).map(|(_, e)| e);
        let Some(expected) = expected else {
            problems.push(format!("{name}: not in EXPECTED (and tiles/CORPUS.md)"));
            continue;
        };
        let outcome = match (run(&text), expected) {
            (Err(e), Expect::Refused(start)) if e.contains(start) => continue,
            (Err(e), _) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
            (Ok(_), Expect::Refused(_)) => {
                problems.push(format!(
                    "{name}: accepted now; update EXPECTED and CORPUS.md"
                ));
                continue;
            }
            (Ok(o), _) => o,
        };
        eprintln!(
            "{name}: {} warning(s), {} required field(s) filled, render: {}",
            outcome.warnings,
            outcome.filled,
            match &outcome.render {
                Ok(()) => "ok".to_string(),
                Err(e) => e.clone(),
            }
        );
        if let (Expect::Renders, Err(e)) = (expected, &outcome.render) {
            problems.push(format!("{name}: render failed: {e}"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
