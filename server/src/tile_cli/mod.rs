//! `tileworks tile …`: the tile author's commands. Each works offline on a metadata `.yml`, a
//! tile source folder or a `.pivotal`, with the same engine (`tiles`) the server uses.
//!
//! Exit codes are part of the interface so scripts and CI can rely on them:
//! `0` success (lint: no errors, warnings allowed), `1` the tile or the configuration has
//! problems (they are printed), `2` the input could not be read at all.

mod bake;
mod forms;
mod init;
mod lint;
mod offline_credentials;
mod pack;
mod preview;
mod render;

use std::path::Path;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use crate::tile_archive::{self, Limits, TileContents};

/// Success; for lint, no errors (warnings allowed).
pub const EXIT_OK: u8 = 0;
/// The tile or the configuration has problems; they were printed.
pub const EXIT_PROBLEMS: u8 = 1;
/// The input could not be read (missing file, hostile or corrupt archive, I/O error).
pub const EXIT_UNREADABLE: u8 = 2;

// Parsed once per process from the command line: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum TileCommand {
    /// Check tile metadata against the rules Ops Manager applies and print the findings.
    ///
    /// PATH is a metadata .yml, a tile folder (metadata/*.yml, migrations/, releases/) or a
    /// .pivotal. Exits 0 when there are no errors (warnings allowed), 1 when there are errors,
    /// 2 when PATH cannot be read.
    Lint(lint::LintArgs),
    /// Package a tile folder into a .pivotal.
    ///
    /// Zips metadata/, migrations/ and releases/. Refuses (exit 1) a tile with lint errors, a
    /// release the metadata names whose file is not in releases/, or a release whose sha1 does
    /// not match the metadata's. The output appears only once it is complete.
    Pack(pack::PackArgs),
    /// Render the BOSH manifest of a tile for a product configuration, offline.
    ///
    /// --config is om's configure-product YAML. Prints the manifest, or the validation errors
    /// per property reference (exit 1). Credentials the operator leaves to be generated are
    /// generated (--seed N: the same on every run; --credentials FILE: given values), or with
    /// --bosh-variables appear as ((placeholders)) the Director fills.
    Render(render::RenderArgs),
    /// Print the settings forms an operator will see, as a tree.
    Forms(forms::FormsArgs),
    /// Assemble a tile kept in kiln's layout: a base file with `$( … )` references to parts.
    ///
    /// Reads DIR as kiln's `bake` reads it (base.yml; forms/, properties/, instance_groups/,
    /// jobs/, runtime_configs/, bosh_variables/; releases/*.tgz; Kilnfile.lock's
    /// stemcell_criteria or stemcell tarballs; a Kilnfile's bake configurations; icon.png;
    /// version; variables files and --variable) and writes the
    /// metadata (--metadata-only) or packs it like `tile pack` (--output). An unknown part or
    /// function, a variable not given, a duplicate part name or unreadable YAML in a part stops
    /// it (exit 1), naming the file and the reference.
    Bake(bake::BakeArgs),
    /// Create a new tile folder (metadata, a tiny BOSH release, a render config) that lints,
    /// renders and packs. Refuses (exit 1) a folder that exists and is not empty.
    Init(init::InitArgs),
    /// Serve the tile's settings forms in the browser as operators will see them, reloading as
    /// the metadata changes.
    ///
    /// PATH is a tile folder, a metadata .yml or a .pivotal. Runs Tileworks on a temporary data
    /// dir (removed at the end) with the tile staged and no login, on a loopback address only;
    /// prints the URL. Each save of the metadata replaces the staged tile, keeping the values
    /// typed for properties that still exist, and the open page reloads; errors in the metadata
    /// are shown on the page with their YAML path and line. Ctrl-C stops it.
    Preview(preview::PreviewArgs),
}

/// Output format of lint and forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Runs a tile command and returns the process exit code.
pub fn run(command: TileCommand) -> ExitCode {
    ExitCode::from(match command {
        TileCommand::Lint(args) => lint::run(&args),
        TileCommand::Pack(args) => pack::run(&args),
        TileCommand::Render(args) => render::run(&args),
        TileCommand::Forms(args) => forms::run(&args),
        TileCommand::Bake(args) => bake::run(&args),
        TileCommand::Init(args) => init::run(&args),
        TileCommand::Preview(args) => preview::run(&args),
    })
}

/// Reads the tile at `path`, or prints why not.
fn read_tile(path: &Path) -> std::result::Result<TileContents, u8> {
    tile_archive::read_tile(path, &Limits::default()).map_err(|e| {
        match e {
            // I/O errors already name the file.
            crate::Error::Io { .. } => eprintln!("error: {e}"),
            _ => eprintln!("error: {}: {e}", path.display()),
        }
        EXIT_UNREADABLE
    })
}

/// The job specs a tile is checked against: the bundled summaries, the release tarballs the
/// tile ships, and the summary files given with `--job-specs` (later wins). Tarballs that do
/// not read are reported as warnings; a summary file that does not read stops the command.
fn job_specs(
    path: &Path,
    tile: &TileContents,
    summaries: &[std::path::PathBuf],
) -> std::result::Result<tiles::job_specs::JobSpecs, u8> {
    let (mut specs, problems) = crate::release_job_specs::for_tile(path, tile);
    for p in problems {
        eprintln!("warning: job specs: {p}");
    }
    for file in summaries {
        let text = tile_archive::read_text_file(file, 64 * 1024 * 1024).map_err(|e| {
            eprintln!("error: {e}");
            EXIT_UNREADABLE
        })?;
        let summary = tiles::job_specs::JobSpecs::from_summary(&text).map_err(|e| {
            eprintln!("error: {}: {e}", file.display());
            EXIT_UNREADABLE
        })?;
        specs.extend(summary);
    }
    Ok(specs)
}

/// Prints a JSON document (pretty) on stdout.
fn print_json(value: &impl serde::Serialize) -> u8 {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            println!("{text}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot write JSON: {e}");
            EXIT_UNREADABLE
        }
    }
}
