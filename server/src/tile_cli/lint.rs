//! `tileworks tile lint PATH [--format text|json]`.
//!
//! The metadata rules live in `tiles::lint`; this command adds what only a whole tile can show:
//! whether each release the metadata names is shipped in `releases/` (an error in a `.pivotal`,
//! which Ops Manager would refuse; a warning in a folder, where the author may not have fetched
//! the tarballs yet), and the job-spec check of the templates (`tiles::job_specs`: properties
//! and jobs the releases' specs do not declare; warnings) against the tarballs the tile ships,
//! the bundled tiles' summaries and `--job-specs` files.
//!
//! Every finding names the metadata file, line and column (`tiles::lint::locate`), then its
//! YAML path: `metadata/x.yml:12:7: form_types[0].property_inputs[1].reference: error[…]: …`,
//! the shape compilers use, so editors jump to it.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use tiles::job_specs::JobSpecs;
use tiles::lint::{lint_yaml_with, Finding, Severity};
use tiles::metadata::ProductTemplate;

use super::{print_json, read_tile, Format, EXIT_OK, EXIT_PROBLEMS};
use crate::tile_archive::{SourceKind, TileContents};

/// Rule id of the release-file check added by the CLI.
pub const RELEASE_FILE_RULE: &str = "release-file-present";

/// Rule id of the PKS service adapter's warnings (plan settings its clusters cannot carry).
pub const ADAPTER_WARNING_RULE: &str = "pks-service-adapter";

#[derive(Debug, Args)]
pub struct LintArgs {
    /// A metadata .yml, a tile folder or a .pivotal.
    pub path: PathBuf,
    /// `text` for people (`FILE:LINE:COLUMN: PATH: SEVERITY[RULE]: MESSAGE`), `json` for tools:
    /// {"tile", "metadata", "errors", "warnings", "findings": [{"path", "rule", "severity",
    /// "message", "hint", "suggestion", "line", "column"}]}.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Fail (exit 1) on warnings too. Without it, what Ops Manager tolerates (and so Tileworks
    /// imports) is reported but exits 0.
    #[arg(long)]
    pub strict: bool,
    /// A job spec summary file (`releases: [{name, version, jobs: {job: [property…]}}]`) to
    /// check the templates' jobs and properties against, besides the release tarballs the tile
    /// ships and the bundled tiles' summaries. Repeatable.
    #[arg(long, value_name = "job-specs.yml")]
    pub job_specs: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Report<'a> {
    tile: String,
    metadata: &'a str,
    errors: usize,
    warnings: usize,
    findings: &'a [Finding],
}

pub fn run(args: &LintArgs) -> u8 {
    let tile = match read_tile(&args.path) {
        Ok(tile) => tile,
        Err(code) => return code,
    };
    let specs = match super::job_specs(&args.path, &tile, &args.job_specs) {
        Ok(specs) => specs,
        Err(code) => return code,
    };
    let findings = findings_for(&tile, Some(&specs));
    if let Ok(template) = ProductTemplate::from_yaml(&tile.metadata) {
        let unchecked = tiles::job_specs::check_template(&template, &specs).unchecked_summary();
        if !unchecked.is_empty() && args.format == Format::Text {
            eprintln!("note: no job specs for {unchecked}: their jobs were not checked");
        }
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    match args.format {
        Format::Json => {
            let code = print_json(&Report {
                tile: args.path.display().to_string(),
                metadata: &tile.metadata_path,
                errors,
                warnings,
                findings: &findings,
            });
            if code != EXIT_OK {
                return code;
            }
        }
        Format::Text => {
            print!(
                "{}",
                render_text(&findings, &metadata_file(&args.path, &tile))
            );
            println!("{}: {}", args.path.display(), summary(errors, warnings));
        }
    }
    if errors > 0 || (args.strict && warnings > 0) {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }
}

/// All findings for a tile, located in its metadata: the metadata rules, the PKS service
/// adapter's warnings, shipped-release checks and, given `specs`, the job-spec check.
pub fn findings_for(tile: &TileContents, specs: Option<&JobSpecs>) -> Vec<Finding> {
    lint_yaml_with(&tile.metadata, |template| {
        let mut findings = adapter_warnings(template);
        findings.extend(release_files(tile, template));
        if let Some(specs) = specs {
            findings.extend(tiles::lint::lint_job_specs(template, specs));
        }
        findings
    })
}

/// Each release the metadata names whose file the tile does not ship.
fn release_files(tile: &TileContents, template: &ProductTemplate) -> Vec<Finding> {
    let severity = match tile.kind {
        SourceKind::Metadata => return Vec::new(),
        SourceKind::Pivotal => Severity::Error,
        SourceKind::Folder => Severity::Warning,
    };
    template
        .releases
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.file.is_empty() && tile.release(&r.file).is_none())
        .map(|(i, release)| {
            Finding::new(
                severity,
                format!("releases[{i}].file"),
                RELEASE_FILE_RULE,
                format!(
                    "release '{}' names the file '{}', which is not in releases/",
                    release.name, release.file
                ),
                Some(format!(
                    "put the release tarball at releases/{} or correct `file`",
                    release.file
                )),
            )
        })
        .collect()
}

/// The metadata file as its author opens it: the file given, the file inside the folder given,
/// or the entry name inside a `.pivotal`.
pub fn metadata_file(path: &Path, tile: &TileContents) -> String {
    match tile.kind {
        SourceKind::Folder => path.join(&tile.metadata_path).display().to_string(),
        SourceKind::Metadata | SourceKind::Pivotal => tile.metadata_path.clone(),
    }
}

/// For the PKS tile: what its service adapter would warn about when a cluster of a plan is
/// made with the tile's shipped values (`tiles::verifiers::pks::adapter_warnings`), so the
/// author sees it before any operator does. Warnings: the tile imports and deploys.
fn adapter_warnings(template: &ProductTemplate) -> Vec<Finding> {
    if template.name != tiles::products::PKS_NAME {
        return Vec::new();
    }
    let defaults = tiles::properties::staged::StagedValues::default();
    tiles::verifiers::pks::adapter_warnings(template, &defaults)
        .into_iter()
        .map(|f| {
            Finding::new(
                Severity::Warning,
                f.reference,
                ADAPTER_WARNING_RULE,
                format!("{} › {}: {}", f.form_label, f.field_label, f.message),
                Some(
                    "with the tile's default values; kubo 0.18.0 has no property for it, so \
                     the cluster runs as the message says"
                        .into(),
                ),
            )
        })
        .collect()
}

/// `FILE:LINE:COLUMN: PATH: SEVERITY[RULE]: MESSAGE` (`FILE: PATH: …` when the finding has no
/// position), then the hint indented, one block per finding.
pub fn render_text(findings: &[Finding], file: &str) -> String {
    let mut out = String::new();
    for f in findings {
        let severity = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let at = if f.path.is_empty() { "(top)" } else { &f.path };
        let place = match (f.line, f.column) {
            (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
            _ => file.to_owned(),
        };
        out.push_str(&format!(
            "{place}: {at}: {severity}[{}]: {}\n",
            f.rule, f.message
        ));
        if let Some(hint) = &f.hint {
            out.push_str(&format!("    hint: {hint}\n"));
        }
    }
    out
}

/// `2 errors, 1 warning` or `no findings`.
pub fn summary(errors: usize, warnings: usize) -> String {
    if errors == 0 && warnings == 0 {
        return "no findings".into();
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = "name: demo\nproduct_version: 1.0.0\nmetadata_version: '2.1'\n\
        releases:\n- name: demo\n  file: demo-1.0.tgz\n  version: '1.0'\n";

    fn tile(kind: SourceKind) -> TileContents {
        TileContents {
            kind,
            metadata_path: "metadata/demo.yml".into(),
            metadata: META.into(),
            releases: Vec::new(),
            migrations: Vec::new(),
        }
    }

    #[test]
    fn missing_release_files_are_errors_only_in_archives() {
        let in_zip = findings_for(&tile(SourceKind::Pivotal), None);
        let f = in_zip
            .iter()
            .find(|f| f.rule == RELEASE_FILE_RULE)
            .expect("reported");
        assert_eq!(
            (f.severity, f.path.as_str()),
            (Severity::Error, "releases[0].file")
        );
        // `file: demo-1.0.tgz` is on line 6 of META, indented by two.
        assert_eq!((f.line, f.column), (Some(6), Some(3)));
        let in_folder = findings_for(&tile(SourceKind::Folder), None);
        let f = in_folder
            .iter()
            .find(|f| f.rule == RELEASE_FILE_RULE)
            .expect("reported");
        assert_eq!(f.severity, Severity::Warning);
        assert!(!findings_for(&tile(SourceKind::Metadata), None)
            .iter()
            .any(|f| f.rule == RELEASE_FILE_RULE));
    }

    #[test]
    fn summarises() {
        assert_eq!(summary(0, 0), "no findings");
        assert_eq!(summary(1, 2), "1 error, 2 warnings");
        let mut f = Finding::new(
            Severity::Warning,
            "form_types[0]",
            "r",
            "m",
            Some("h".into()),
        );
        assert_eq!(
            render_text(std::slice::from_ref(&f), "m.yml"),
            "m.yml: form_types[0]: warning[r]: m\n    hint: h\n"
        );
        (f.line, f.column) = (Some(3), Some(5));
        assert_eq!(
            render_text(&[f], "m.yml"),
            "m.yml:3:5: form_types[0]: warning[r]: m\n    hint: h\n"
        );
    }
}
