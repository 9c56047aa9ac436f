//! `tileworks tile forms PATH [--format text|json] [--strict]`: the settings forms a tile gives
//! operators, previewed without a server. Text is `tiles::forms::FormTree::render_text`; JSON is
//! the form tree the UI draws.
//!
//! Inputs the forms cannot place (a reference naming no property blueprint, a selector input
//! naming no option, a record input naming no sub-property) are left out of the forms, as Ops
//! Manager leaves them out, and listed as warnings with their file, line and YAML path (text:
//! after the tree; JSON: `warnings`). As with `tile lint`, warnings exit 0 unless `--strict`.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use tiles::forms::{FormTree, Unplaced};
use tiles::metadata::ProductTemplate;

use super::lint::metadata_file;
use super::{print_json, read_tile, Format, EXIT_OK, EXIT_PROBLEMS};

/// Rule id the text output gives inputs left out of the forms.
const UNPLACED_RULE: &str = "form-input-unplaced";

#[derive(Debug, Args)]
pub struct FormsArgs {
    /// A metadata .yml, a tile folder or a .pivotal.
    pub path: PathBuf,
    /// `text` (an indented tree, then the inputs left out) or `json` (the form view-model the
    /// web UI renders, with `warnings`: [{"path", "reference", "message", "suggestion",
    /// "line", "column"}]).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Fail (exit 1) when an input cannot be placed.
    #[arg(long)]
    pub strict: bool,
}

/// An input left out, located in the metadata.
#[derive(Serialize)]
struct Warning {
    #[serde(flatten)]
    unplaced: Unplaced,
    line: Option<usize>,
    column: Option<usize>,
}

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    tree: &'a FormTree,
    warnings: &'a [Warning],
}

pub fn run(args: &FormsArgs) -> u8 {
    let tile = match read_tile(&args.path) {
        Ok(tile) => tile,
        Err(code) => return code,
    };
    let loaded = tiles::yaml::load_indexed(&tile.metadata, &Default::default())
        .and_then(|(value, _, positions)| Ok((ProductTemplate::from_value(&value)?, positions)));
    let (template, positions) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {}: {e}", tile.metadata_path);
            eprintln!("(`tileworks tile lint` explains what is wrong with the metadata)");
            return EXIT_PROBLEMS;
        }
    };
    let (tree, unplaced) = FormTree::build_reporting(&template);
    let warnings: Vec<Warning> = unplaced
        .into_iter()
        .map(|u| {
            let at = positions.locate(&u.path, None, &tile.metadata);
            Warning {
                line: at.map(|p| p.line),
                column: at.map(|p| p.column),
                unplaced: u,
            }
        })
        .collect();
    match args.format {
        Format::Text => {
            print!("{}", tree.render_text());
            let file = metadata_file(&args.path, &tile);
            for w in &warnings {
                let place = match (w.line, w.column) {
                    (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
                    _ => file.clone(),
                };
                println!(
                    "{place}: {}: warning[{UNPLACED_RULE}]: {}; left out of the form",
                    w.unplaced.path, w.unplaced.message
                );
            }
        }
        Format::Json => {
            let code = print_json(&Report {
                tree: &tree,
                warnings: &warnings,
            });
            if code != EXIT_OK {
                return code;
            }
        }
    }
    if args.strict && !warnings.is_empty() {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }
}
