//! `tileworks tile pack DIR -o NAME.pivotal`: a tile folder into a `.pivotal`.
//!
//! Checks come before any writing where they are cheap (lint, release files present); the
//! `sha1` of each release is computed while it streams into the archive, so a multi-GB tarball
//! is read once and never held in memory. The archive is written to a hidden file beside the
//! output and renamed into place only when complete; any failure removes it, so a failed pack
//! never leaves a half-written `.pivotal` behind.
//!
//! Metadata and migrations are deflated; release tarballs are already gzip and are stored as
//! they are (deflating them again costs time and saves nothing).

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use sha1::{Digest, Sha1};
use tiles::lint::{has_errors, lint_yaml};
use tiles::metadata::ProductTemplate;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::lint::render_text;
use super::{EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE};
use crate::tile_archive::{human_size, read_text_file, FolderFile, Limits, TileFolder};

#[derive(Debug, Args)]
pub struct PackArgs {
    /// The tile folder: metadata/<name>.yml, migrations/ (optional), releases/.
    pub dir: PathBuf,
    /// The .pivotal to write (replaced if it exists).
    #[arg(short = 'o', long = "output", value_name = "NAME.pivotal")]
    pub output: PathBuf,
}

/// Why a pack stopped: problems with the tile (exit 1) or I/O (exit 2).
pub(super) enum Failure {
    Problems(Vec<String>),
    Io(String),
}

pub fn run(args: &PackArgs) -> u8 {
    match pack(&args.dir, &args.output) {
        Ok(summary) => {
            println!("{summary}");
            EXIT_OK
        }
        Err(Failure::Problems(problems)) => {
            for p in problems {
                eprintln!("error: {p}");
            }
            eprintln!("error: not packed: {}", args.output.display());
            EXIT_PROBLEMS
        }
        Err(Failure::Io(message)) => {
            eprintln!("error: {message}");
            EXIT_UNREADABLE
        }
    }
}

fn pack(dir: &Path, output: &Path) -> Result<String, Failure> {
    let folder =
        TileFolder::scan(dir).map_err(|e| Failure::Io(format!("{}: {e}", dir.display())))?;
    let metadata = read_text_file(
        &folder.metadata_file(),
        Limits::default().max_metadata_bytes,
    )
    .map_err(|e| Failure::Io(e.to_string()))?;
    let lint_hint = format!("`tileworks tile lint {}`", dir.display());
    let files = folder
        .files
        .iter()
        .filter(|f| f.path != folder.metadata)
        .cloned()
        .collect();
    let folders = ["metadata", "migrations", "releases"]
        .map(|d| folder.root.join(d))
        .to_vec();
    pack_tile(
        &TileToPack {
            metadata_path: folder.metadata.clone(),
            shown_as: folder.metadata_file().display().to_string(),
            metadata,
            files,
            folders,
            stub_releases: false,
            lint_hint,
        },
        output,
    )
}

/// What goes into a `.pivotal`: the metadata (from memory, so `tile bake` can pack what it
/// baked without writing it into the author's folder first) and the other files from disk.
pub(super) struct TileToPack {
    /// Its path in the archive (`metadata/<name>.yml`).
    pub metadata_path: String,
    /// What lint findings name as their file (`FILE:LINE:COL`).
    pub shown_as: String,
    pub metadata: String,
    /// Migrations and releases, by their paths in the archive.
    pub files: Vec<FolderFile>,
    /// Folders the output must not lie in (it would be packed into itself next time).
    pub folders: Vec<PathBuf>,
    /// The releases the metadata names are left out on purpose (`tile bake --stub-releases`).
    pub stub_releases: bool,
    /// The command that shows the metadata's lint findings, for the refusal.
    pub lint_hint: String,
}

/// Checks and writes a `.pivotal`; the summary line on success.
pub(super) fn pack_tile(tile: &TileToPack, output: &Path) -> Result<String, Failure> {
    refuse_output_inside(&tile.folders, output)?;
    let metadata = &tile.metadata;
    let findings = lint_yaml(metadata);
    if has_errors(&findings) {
        eprint!("{}", render_text(&findings, &tile.shown_as));
        return Err(Failure::Problems(vec![format!(
            "{} has lint errors; fix them first ({})",
            tile.metadata_path, tile.lint_hint
        )]));
    }
    let template = ProductTemplate::from_yaml(metadata)
        .map_err(|e| Failure::Problems(vec![format!("{}: {e}", tile.metadata_path)]))?;

    // Every release the metadata names must be shipped; remember the sha1 each must have.
    let shipped: Vec<&FolderFile> = tile
        .files
        .iter()
        .filter(|f| {
            f.path
                .strip_prefix("releases/")
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
        })
        .collect();
    let file_name = |f: &FolderFile| f.path.trim_start_matches("releases/").to_string();
    let mut expected_sha1 = Vec::new();
    let mut problems = Vec::new();
    for release in &template.releases {
        match shipped.iter().find(|r| file_name(r) == release.file) {
            None if tile.stub_releases => {}
            None => problems.push(format!(
                "release '{}': file releases/{} is missing",
                release.name, release.file
            )),
            Some(file) => {
                if let Some(sha1) = release.sha1.as_deref().filter(|s| !s.is_empty()) {
                    expected_sha1.push((file.path.clone(), sha1.trim().to_ascii_lowercase()));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Problems(problems));
    }
    for file in &shipped {
        if !template.releases.iter().any(|r| r.file == file_name(file)) {
            eprintln!(
                "warning: {} is not named by the metadata's releases; packing it anyway",
                file.path
            );
        }
    }

    let partial = PartialFile::create(output)?;
    let mut zip =
        ZipWriter::new(BufWriter::new(partial.file.try_clone().map_err(|e| {
            Failure::Io(format!("cannot write {}: {e}", partial.path.display()))
        })?));
    let mut mismatches = Vec::new();
    add_text(&mut zip, &tile.metadata_path, metadata)?;
    let mut total = metadata.len() as u64;
    for file in &tile.files {
        let actual = add_file(&mut zip, file)?;
        total += file.size;
        if let Some((_, want)) = expected_sha1.iter().find(|(p, _)| *p == file.path) {
            if *want != actual {
                mismatches.push(format!(
                    "{}: sha1 is {actual}, the metadata says {want}",
                    file.path
                ));
            }
        }
    }
    if !mismatches.is_empty() {
        // `partial` is dropped here and removes the unfinished archive.
        return Err(Failure::Problems(mismatches));
    }
    let writer = zip
        .finish()
        .map_err(|e| Failure::Io(format!("cannot finish {}: {e}", partial.path.display())))?;
    writer.into_inner().map_err(|e| {
        Failure::Io(format!(
            "cannot write {}: {}",
            partial.path.display(),
            e.error()
        ))
    })?;
    partial.commit(output)?;

    let migrations = tile
        .files
        .iter()
        .filter(|f| f.path.starts_with("migrations/"))
        .count();
    Ok(format!(
        "packed {} ({} {}): {}, {} release{}, {} migration{}, {} uncompressed",
        output.display(),
        template.name,
        template.product_version,
        tile.metadata_path,
        shipped.len(),
        if shipped.len() == 1 { "" } else { "s" },
        migrations,
        if migrations == 1 { "" } else { "s" },
        human_size(total)
    ))
}

/// Writing the archive into one of the folders being packed would pack it into itself next time.
fn refuse_output_inside(folders: &[PathBuf], output: &Path) -> Result<(), Failure> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(parent) = parent.canonicalize() else {
        return Err(Failure::Io(format!(
            "cannot write {}: its folder does not exist",
            output.display()
        )));
    };
    for dir in folders {
        if let Ok(inside) = dir.canonicalize() {
            if parent.starts_with(&inside) {
                return Err(Failure::Problems(vec![format!(
                    "the output {} lies inside the tile's folder {}",
                    output.display(),
                    dir.display()
                )]));
            }
        }
    }
    Ok(())
}

/// Adds the metadata, deflated, from memory.
fn add_text(zip: &mut ZipWriter<BufWriter<File>>, path: &str, text: &str) -> Result<(), Failure> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    zip.start_file(path, options)
        .map_err(|e| Failure::Io(format!("cannot add {path}: {e}")))?;
    zip.write_all(text.as_bytes())
        .map_err(|e| Failure::Io(format!("cannot write {path}: {e}")))
}

/// Whether the owner may execute the file at `path`.
fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o100 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Streams one file into the archive and returns its sha1 (lowercase hex).
fn add_file(zip: &mut ZipWriter<BufWriter<File>>, file: &FolderFile) -> Result<String, Failure> {
    let method = if file.path.starts_with("releases/") {
        CompressionMethod::Stored
    } else {
        CompressionMethod::Deflated
    };
    // Embedded files keep their executable bits (scripts), as kiln packs them.
    let mode = if file.path.starts_with("embed/") && is_executable(&file.disk_path) {
        0o755
    } else {
        0o644
    };
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .unix_permissions(mode)
        // Zip64 headers only where needed: sizes of 4 GiB and more.
        .large_file(file.size >= u64::from(u32::MAX));
    zip.start_file(file.path.as_str(), options)
        .map_err(|e| Failure::Io(format!("cannot add {}: {e}", file.path)))?;
    let mut input = File::open(&file.disk_path)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", file.disk_path.display())))?;
    let mut hasher = Sha1::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Failure::Io(format!(
                    "cannot read {}: {e}",
                    file.disk_path.display()
                )))
            }
        };
        let chunk = buffer.get(..n).unwrap_or_default();
        hasher.update(chunk);
        zip.write_all(chunk)
            .map_err(|e| Failure::Io(format!("cannot write {}: {e}", file.path)))?;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The archive being written: a hidden file beside the output, removed on drop unless
/// committed (renamed onto the output).
struct PartialFile {
    path: PathBuf,
    file: File,
    committed: bool,
}

impl PartialFile {
    fn create(output: &Path) -> Result<PartialFile, Failure> {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tile.pivotal".into());
        let path = output.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let file = File::create(&path)
            .map_err(|e| Failure::Io(format!("cannot create {}: {e}", path.display())))?;
        Ok(PartialFile {
            path,
            file,
            committed: false,
        })
    }

    fn commit(mut self, output: &Path) -> Result<(), Failure> {
        self.file
            .sync_all()
            .map_err(|e| Failure::Io(format!("cannot write {}: {e}", self.path.display())))?;
        fs::rename(&self.path, output)
            .map_err(|e| Failure::Io(format!("cannot write {}: {e}", output.display())))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}
