//! `tileworks tile forms PATH [--format text|json]`: the settings forms a tile gives operators,
//! previewed without a server. Text is `tiles::forms::FormTree::render_text`; JSON is the form
//! tree the UI draws.

use std::path::PathBuf;

use clap::Args;
use tiles::forms::FormTree;
use tiles::metadata::ProductTemplate;

use super::{print_json, read_tile, Format, EXIT_OK, EXIT_PROBLEMS};

#[derive(Debug, Args)]
pub struct FormsArgs {
    /// A metadata .yml, a tile folder or a .pivotal.
    pub path: PathBuf,
    /// `text` (an indented tree) or `json` (the form view-model the web UI renders).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: &FormsArgs) -> u8 {
    let tile = match read_tile(&args.path) {
        Ok(tile) => tile,
        Err(code) => return code,
    };
    let template = match ProductTemplate::from_yaml(&tile.metadata) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", tile.metadata_path);
            eprintln!("(`tileworks tile lint` explains what is wrong with the metadata)");
            return EXIT_PROBLEMS;
        }
    };
    let tree = FormTree::build(&template);
    match args.format {
        Format::Text => {
            print!("{}", tree.render_text());
            EXIT_OK
        }
        Format::Json => print_json(&tree),
    }
}
