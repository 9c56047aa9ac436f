//! Reading tiles from disk: a bare metadata `.yml`, a tile source folder (`metadata/*.yml`,
//! `migrations/`, `releases/`) or a `.pivotal` zip.
//!
//! A `.pivotal` comes from outside (an upload, a download), so it is treated as hostile until
//! checked. [`PivotalArchive::open`] inspects the whole central directory *before* anything is
//! decompressed and refuses the archive when
//! - an entry's path escapes the archive (`..`, an absolute path, a drive letter, a backslash,
//!   a NUL byte) or is a symlink, or is encrypted, or uses a compression other than stored/deflate;
//! - two entries share a name, or entries overlap in the file (the classic "overlapping zip bomb");
//! - there are more entries than [`Limits::max_entries`];
//! - the declared uncompressed total exceeds [`Limits::max_total_uncompressed`], or an entry
//!   declares a compression ratio above [`Limits::max_compression_ratio`] (ordinary zip bombs);
//! - the metadata is larger than [`Limits::max_metadata_bytes`], or there is no `metadata/*.yml`
//!   or more than one.
//!
//! Declared sizes can lie, so every read also counts what it really decompresses and stops at the
//! declared size (and at the metadata limit). Nothing reads a whole release into memory: releases
//! are listed from the central directory ([`PivotalArchive::release_files`]) and copied by
//! streaming ([`PivotalArchive::copy_entry`]).
//!
//! Folders belong to the tile author on their own machine, so symlinked files there are followed.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use zip::{CompressionMethod, ZipArchive};

use crate::error::{Error, Result};

/// Where a tile's metadata lives, relative to the tile root.
pub const METADATA_DIR: &str = "metadata";
/// BOSH release tarballs, relative to the tile root.
pub const RELEASES_DIR: &str = "releases";
/// JavaScript upgrade migrations, relative to the tile root.
pub const MIGRATIONS_DIR: &str = "migrations";

/// Bounds that keep a hostile tile from exhausting memory, disk or time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Entries (files and directories) in a `.pivotal`.
    pub max_entries: usize,
    /// Size of the metadata YAML. Real tiles carry a base64 icon and stay well under 4 MiB.
    pub max_metadata_bytes: u64,
    /// Sum of all declared uncompressed sizes. The largest real tiles are around 20 GiB.
    pub max_total_uncompressed: u64,
    /// Uncompressed : compressed ratio allowed for an entry larger than
    /// [`Limits::ratio_applies_above`]. Release tarballs are already gzip (≈1:1) and YAML
    /// compresses ≈10:1; a deflate bomb reaches ≈1000:1.
    pub max_compression_ratio: u64,
    /// Small entries may compress as well as they like: a few KiB of anything is harmless.
    pub ratio_applies_above: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_metadata_bytes: 16 * 1024 * 1024,
            max_total_uncompressed: 64 * 1024 * 1024 * 1024,
            max_compression_ratio: 100,
            ratio_applies_above: 1024 * 1024,
        }
    }
}

/// What kind of thing a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A bare metadata YAML file.
    Metadata,
    /// A tile source folder.
    Folder,
    /// A `.pivotal` zip.
    Pivotal,
}

/// A release tarball inside a tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    /// Path inside the tile, `releases/<file_name>`.
    pub path: String,
    /// The file name, as the metadata's `releases[].file` names it.
    pub file_name: String,
    /// Uncompressed size in bytes.
    pub size: u64,
}

/// A tile read from disk: its metadata text and the files shipped beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileContents {
    pub kind: SourceKind,
    /// Path of the metadata inside the tile (`metadata/pks.yml`); for a bare metadata file, the
    /// path as given.
    pub metadata_path: String,
    pub metadata: String,
    /// Files directly in `releases/`, sorted by name (empty for a bare metadata file).
    pub releases: Vec<ReleaseFile>,
    /// Files under `migrations/`, tile-relative, sorted (empty for a bare metadata file).
    pub migrations: Vec<String>,
}

impl TileContents {
    /// The release file with this name, if the tile ships it.
    pub fn release(&self, file_name: &str) -> Option<&ReleaseFile> {
        self.releases.iter().find(|r| r.file_name == file_name)
    }
}

/// Decides what `path` is: a directory is a tile folder, a `.pivotal` / `.zip` file (or any file
/// starting with the zip signature) is an archive, anything else is metadata YAML.
pub fn detect(path: &Path) -> Result<SourceKind> {
    let meta =
        fs::metadata(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    if meta.is_dir() {
        return Ok(SourceKind::Folder);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("pivotal") | Some("zip")) {
        return Ok(SourceKind::Pivotal);
    }
    let mut magic = [0u8; 4];
    let mut file =
        File::open(path).map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let n = read_up_to(&mut file, &mut magic)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    if n == 4 && magic == *b"PK\x03\x04" {
        return Ok(SourceKind::Pivotal);
    }
    Ok(SourceKind::Metadata)
}

/// Reads a tile from a metadata file, a tile folder or a `.pivotal`, whichever `path` is.
pub fn read_tile(path: &Path, limits: &Limits) -> Result<TileContents> {
    match detect(path)? {
        SourceKind::Metadata => {
            let metadata = read_text_file(path, limits.max_metadata_bytes)?;
            Ok(TileContents {
                kind: SourceKind::Metadata,
                metadata_path: path.display().to_string(),
                metadata,
                releases: Vec::new(),
                migrations: Vec::new(),
            })
        }
        SourceKind::Folder => {
            let folder = TileFolder::scan(path)?;
            let metadata = read_text_file(&folder.metadata_file(), limits.max_metadata_bytes)?;
            Ok(TileContents {
                kind: SourceKind::Folder,
                metadata_path: folder.metadata.clone(),
                metadata,
                releases: folder.releases(),
                migrations: folder
                    .files
                    .iter()
                    .filter(|f| f.path.starts_with("migrations/"))
                    .map(|f| f.path.clone())
                    .collect(),
            })
        }
        SourceKind::Pivotal => {
            let mut archive = PivotalArchive::open(path, limits.clone())?;
            let metadata = archive.read_metadata()?;
            Ok(TileContents {
                kind: SourceKind::Pivotal,
                metadata_path: archive.metadata_path().to_string(),
                metadata,
                releases: archive.release_files(),
                migrations: archive.migration_files(),
            })
        }
    }
}

/// One regular file of a tile folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderFile {
    /// Tile-relative path with `/` separators (`releases/bpm-1.0.tgz`).
    pub path: String,
    /// Where it is on disk.
    pub disk_path: PathBuf,
    pub size: u64,
}

/// A tile source folder: the files under `metadata/`, `migrations/` and `releases/` (other
/// top-level entries are not part of a tile and are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileFolder {
    pub root: PathBuf,
    /// Tile-relative path of the one `metadata/*.yml`.
    pub metadata: String,
    /// Every regular file under the three folders, metadata first, then migrations, then
    /// releases, each sorted by path.
    pub files: Vec<FolderFile>,
}

impl TileFolder {
    /// Lists a tile folder. Exactly one `metadata/*.yml` is required.
    pub fn scan(root: &Path) -> Result<TileFolder> {
        let mut files = Vec::new();
        for dir in [METADATA_DIR, MIGRATIONS_DIR, RELEASES_DIR] {
            let disk = root.join(dir);
            if disk.is_dir() {
                let mut found = Vec::new();
                walk(&disk, dir, &mut found, 0)?;
                found.sort_by(|a: &FolderFile, b| a.path.cmp(&b.path));
                files.extend(found);
            }
        }
        let candidates: Vec<&str> = files
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| is_metadata_path(p))
            .collect();
        let metadata = match candidates.as_slice() {
            [one] => one.to_string(),
            [] => {
                return Err(Error::invalid(
                    "tile",
                    format!(
                        "no metadata/*.yml in {}: a tile folder holds its product template in metadata/",
                        root.display()
                    ),
                ))
            }
            several => {
                return Err(Error::invalid(
                    "tile",
                    format!(
                        "several metadata files in {} ({}): a tile has exactly one metadata/*.yml",
                        root.display(),
                        several.join(", ")
                    ),
                ))
            }
        };
        Ok(TileFolder {
            root: root.to_path_buf(),
            metadata,
            files,
        })
    }

    /// The metadata file on disk.
    pub fn metadata_file(&self) -> PathBuf {
        self.root.join(&self.metadata)
    }

    /// Files directly in `releases/`.
    pub fn releases(&self) -> Vec<ReleaseFile> {
        self.files
            .iter()
            .filter_map(|f| {
                release_file_name(&f.path).map(|name| ReleaseFile {
                    path: f.path.clone(),
                    file_name: name.to_string(),
                    size: f.size,
                })
            })
            .collect()
    }
}

/// Folders nest this deep at most; deeper means a loop through symlinked directories.
const MAX_FOLDER_DEPTH: usize = 16;

fn walk(dir: &Path, rel: &str, out: &mut Vec<FolderFile>, depth: usize) -> Result<()> {
    if depth > MAX_FOLDER_DEPTH {
        return Err(Error::invalid(
            "tile",
            format!(
                "{} nests deeper than {MAX_FOLDER_DEPTH} folders",
                dir.display()
            ),
        ));
    }
    let entries =
        fs::read_dir(dir).map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(Error::invalid(
                "tile",
                format!(
                    "{}: file names in a tile must be UTF-8",
                    entry.path().display()
                ),
            ));
        };
        let path = entry.path();
        // fs::metadata follows symlinks: the author's own folder may link to a release cache.
        let meta = fs::metadata(&path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        let rel_path = format!("{rel}/{name}");
        if meta.is_dir() {
            walk(&path, &rel_path, out, depth + 1)?;
        } else if meta.is_file() {
            out.push(FolderFile {
                path: rel_path,
                disk_path: path,
                size: meta.len(),
            });
        }
    }
    Ok(())
}

/// `metadata/<name>.yml`, directly in `metadata/`.
fn is_metadata_path(path: &str) -> bool {
    path.strip_prefix("metadata/")
        .is_some_and(|rest| !rest.contains('/') && rest.len() > 4 && rest.ends_with(".yml"))
}

/// The file name of `releases/<file>` (directly in `releases/`).
fn release_file_name(path: &str) -> Option<&str> {
    path.strip_prefix("releases/")
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// Reads a UTF-8 text file of at most `limit` bytes.
pub fn read_text_file(path: &Path, limit: u64) -> Result<String> {
    let file =
        File::open(path).map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    read_limited_text(file, limit, &path.display().to_string())
}

fn read_limited_text(reader: impl Read, limit: u64, what: &str) -> Result<String> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("cannot read {what}"), e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::invalid(
            "metadata",
            format!("{what} is larger than the {} limit", human_size(limit)),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| Error::invalid("metadata", format!("{what} is not UTF-8 text")))
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// `1.5 GiB`, `16 MiB`, `512 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// One entry of a checked archive, as the central directory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// Index in the zip's central directory.
    pub index: usize,
    /// The entry path, checked to stay inside the archive. Directories end with `/`.
    pub path: String,
    pub is_dir: bool,
    /// Declared uncompressed size.
    pub size: u64,
    pub compressed_size: u64,
}

/// A `.pivotal` whose central directory passed every check in the module documentation.
pub struct PivotalArchive<R: Read + Seek> {
    zip: ZipArchive<R>,
    limits: Limits,
    entries: Vec<ArchiveEntry>,
    /// Position in `entries` of the one `metadata/*.yml`.
    metadata: usize,
}

impl PivotalArchive<BufReader<File>> {
    /// Opens and checks a `.pivotal` file.
    pub fn open(path: &Path, limits: Limits) -> Result<Self> {
        let file = File::open(path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        PivotalArchive::new(BufReader::new(file), limits)
    }
}

impl<R: Read + Seek> PivotalArchive<R> {
    /// Reads and checks the central directory of a zip. Decompresses nothing.
    pub fn new(reader: R, limits: Limits) -> Result<Self> {
        let mut zip = ZipArchive::new(reader).map_err(|e| {
            Error::invalid(
                "archive",
                format!("not a readable .pivotal (zip) file: {e}"),
            )
        })?;
        if zip.len() > limits.max_entries {
            return Err(Error::invalid(
                "archive",
                format!(
                    "the archive has {} entries, more than the {} allowed",
                    zip.len(),
                    limits.max_entries
                ),
            ));
        }
        if zip.has_duplicate_names() {
            return Err(Error::invalid(
                "archive",
                "the archive lists the same path more than once",
            ));
        }
        let mut entries = Vec::with_capacity(zip.len());
        let mut total: u64 = 0;
        for index in 0..zip.len() {
            let entry = zip.by_index_data(index).map_err(|e| {
                Error::invalid("archive", format!("entry {index} is unreadable: {e}"))
            })?;
            let raw = entry.name_raw();
            let path = std::str::from_utf8(raw)
                .map_err(|_| {
                    Error::invalid(
                        "archive",
                        format!(
                            "entry {:?} has a name that is not UTF-8",
                            String::from_utf8_lossy(raw)
                        ),
                    )
                })?
                .to_string();
            check_entry_path(&path)?;
            if entry.is_symlink() {
                return Err(Error::invalid(
                    "archive",
                    format!("entry {path:?} is a symlink; tiles may not contain links"),
                ));
            }
            if entry.encrypted() {
                return Err(Error::invalid(
                    "archive",
                    format!("entry {path:?} is encrypted"),
                ));
            }
            let method = entry.compression();
            if method != CompressionMethod::Stored && method != CompressionMethod::Deflated {
                return Err(Error::invalid(
                    "archive",
                    format!(
                        "entry {path:?} uses {method} compression; tiles use stored or deflate"
                    ),
                ));
            }
            let size = entry.size();
            let compressed_size = entry.compressed_size();
            if size > limits.ratio_applies_above {
                let ratio = size / compressed_size.max(1);
                if ratio > limits.max_compression_ratio {
                    return Err(Error::invalid(
                        "archive",
                        format!(
                            "entry {path:?} expands {ratio}:1 ({} from {}), more than the {}:1 allowed; \
                             the archive looks like a zip bomb",
                            human_size(size),
                            human_size(compressed_size),
                            limits.max_compression_ratio
                        ),
                    ));
                }
            }
            total = total.saturating_add(size);
            if total > limits.max_total_uncompressed {
                return Err(Error::invalid(
                    "archive",
                    format!(
                        "the archive expands to more than {} in total",
                        human_size(limits.max_total_uncompressed)
                    ),
                ));
            }
            entries.push(ArchiveEntry {
                index,
                is_dir: entry.is_dir(),
                path,
                size,
                compressed_size,
            });
        }
        // Entries sharing bytes make a small file expand many times over.
        let overlapping = zip.has_overlapping_entries().map_err(|e| {
            Error::invalid(
                "archive",
                format!("the archive's entries are unreadable: {e}"),
            )
        })?;
        if overlapping {
            return Err(Error::invalid(
                "archive",
                "entries of the archive overlap each other; the archive looks like a zip bomb",
            ));
        }
        let candidates: Vec<usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.is_dir && is_metadata_path(&e.path))
            .map(|(i, _)| i)
            .collect();
        let metadata = match candidates.as_slice() {
            [one] => *one,
            [] => return Err(Error::invalid(
                "archive",
                "no metadata/*.yml in the archive: a tile holds its product template in metadata/",
            )),
            several => {
                let names: Vec<&str> = several
                    .iter()
                    .filter_map(|i| entries.get(*i).map(|e| e.path.as_str()))
                    .collect();
                return Err(Error::invalid(
                    "archive",
                    format!(
                        "several metadata files ({}): a tile has exactly one metadata/*.yml",
                        names.join(", ")
                    ),
                ));
            }
        };
        let meta_size = entries.get(metadata).map_or(0, |e| e.size);
        if meta_size > limits.max_metadata_bytes {
            return Err(Error::invalid(
                "archive",
                format!(
                    "the metadata is {}, larger than the {} limit",
                    human_size(meta_size),
                    human_size(limits.max_metadata_bytes)
                ),
            ));
        }
        Ok(PivotalArchive {
            zip,
            limits,
            entries,
            metadata,
        })
    }

    /// Every entry, in archive order.
    pub fn entries(&self) -> &[ArchiveEntry] {
        &self.entries
    }

    /// Path of the metadata inside the archive.
    pub fn metadata_path(&self) -> &str {
        self.entries
            .get(self.metadata)
            .map_or("", |e| e.path.as_str())
    }

    /// The metadata YAML text (at most [`Limits::max_metadata_bytes`], checked while reading).
    pub fn read_metadata(&mut self) -> Result<String> {
        let Some(entry) = self.entries.get(self.metadata).cloned() else {
            return Err(Error::Internal("metadata entry vanished".into()));
        };
        let limit = entry.size.min(self.limits.max_metadata_bytes);
        let mut bytes = Vec::new();
        let written = self.copy_limited(&entry, limit, &mut bytes)?;
        if written != entry.size {
            return Err(size_mismatch(&entry.path, entry.size, written));
        }
        String::from_utf8(bytes)
            .map_err(|_| Error::invalid("archive", format!("{} is not UTF-8 text", entry.path)))
    }

    /// Files directly in `releases/`, with their sizes, in archive order.
    pub fn release_files(&self) -> Vec<ReleaseFile> {
        self.entries
            .iter()
            .filter(|e| !e.is_dir)
            .filter_map(|e| {
                release_file_name(&e.path).map(|name| ReleaseFile {
                    path: e.path.clone(),
                    file_name: name.to_string(),
                    size: e.size,
                })
            })
            .collect()
    }

    /// Files under `migrations/`.
    pub fn migration_files(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| !e.is_dir && e.path.starts_with("migrations/"))
            .map(|e| e.path.clone())
            .collect()
    }

    /// Streams one entry (by its path) into `out` and returns the bytes written. Fails if the
    /// entry decompresses to more or fewer bytes than it declares.
    pub fn copy_entry<W: Write>(&mut self, path: &str, out: &mut W) -> Result<u64> {
        let Some(entry) = self.entries.iter().find(|e| e.path == path).cloned() else {
            return Err(Error::NotFound(format!("{path} in the archive")));
        };
        let written = self.copy_limited(&entry, entry.size, out)?;
        if written != entry.size {
            return Err(size_mismatch(&entry.path, entry.size, written));
        }
        Ok(written)
    }

    /// Hands `read` the decompressed bytes of one entry (by its path), at most its declared
    /// size, so a release tarball can be streamed without copying it out of the archive.
    pub fn read_entry_with<T>(
        &mut self,
        path: &str,
        read: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<T> {
        let Some(entry) = self.entries.iter().find(|e| e.path == path).cloned() else {
            return Err(Error::NotFound(format!("{path} in the archive")));
        };
        let file = self
            .zip
            .by_index(entry.index)
            .map_err(|e| Error::invalid("archive", format!("cannot read {}: {e}", entry.path)))?;
        read(&mut file.take(entry.size))
    }

    /// Copies at most `limit` bytes of an entry; reading one byte more than `limit` is an error
    /// (the entry is bigger than declared or than allowed).
    fn copy_limited<W: Write>(
        &mut self,
        entry: &ArchiveEntry,
        limit: u64,
        out: &mut W,
    ) -> Result<u64> {
        let file = self
            .zip
            .by_index(entry.index)
            .map_err(|e| Error::invalid("archive", format!("cannot read {}: {e}", entry.path)))?;
        let mut limited = file.take(limit.saturating_add(1));
        let written = io::copy(&mut limited, out).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidData || e.kind() == io::ErrorKind::UnexpectedEof {
                Error::invalid("archive", format!("{} is corrupt: {e}", entry.path))
            } else {
                Error::io(format!("cannot read {}", entry.path), e)
            }
        })?;
        if written > limit {
            return Err(Error::invalid(
                "archive",
                format!(
                    "{} decompresses to more than {} (declared {})",
                    entry.path,
                    human_size(limit),
                    human_size(entry.size)
                ),
            ));
        }
        Ok(written)
    }
}

fn size_mismatch(path: &str, declared: u64, actual: u64) -> Error {
    Error::invalid(
        "archive",
        format!("{path} declares {declared} bytes but holds {actual}"),
    )
}

/// Refuses entry paths that could land outside an extraction directory or mean different
/// things on different systems.
pub fn check_entry_path(path: &str) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::invalid(
            "archive",
            format!("entry {path:?} {why}; refusing the archive"),
        ))
    };
    if path.is_empty() {
        return refuse("has an empty name");
    }
    if path.contains('\0') {
        return refuse("contains a NUL byte");
    }
    if path.contains('\\') {
        return refuse("contains a backslash");
    }
    if path.starts_with('/') {
        return refuse("is an absolute path");
    }
    let bytes = path.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return refuse("starts with a drive letter");
    }
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    for component in trimmed.split('/') {
        match component {
            ".." => return refuse("escapes the archive with `..`"),
            "" | "." => return refuse("has an empty or `.` path component"),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use zip::write::SimpleFileOptions;
    use zip::ZipWriter;

    const META: &str = "name: demo\nproduct_version: 1.0.0\nmetadata_version: '2.1'\n";

    fn stored() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
    }

    fn deflated() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
    }

    /// Builds a zip in memory from (name, bytes, options).
    fn zip_of(files: &[(&str, &[u8], SimpleFileOptions)]) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes, options) in files {
            w.start_file(*name, *options).expect("start");
            w.write_all(bytes).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    fn open(bytes: Vec<u8>) -> Result<PivotalArchive<Cursor<Vec<u8>>>> {
        PivotalArchive::new(Cursor::new(bytes), Limits::default())
    }

    fn open_with(bytes: Vec<u8>, limits: Limits) -> Result<PivotalArchive<Cursor<Vec<u8>>>> {
        PivotalArchive::new(Cursor::new(bytes), limits)
    }

    fn refused(result: Result<PivotalArchive<Cursor<Vec<u8>>>>) -> String {
        match result {
            Ok(_) => panic!("the archive was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_a_well_formed_tile() {
        let bytes = zip_of(&[
            ("metadata/demo.yml", META.as_bytes(), deflated()),
            (
                "migrations/v1/201801010000_first.js",
                b"exports.migrate = x => x;",
                deflated(),
            ),
            ("releases/demo-1.0.tgz", b"not really a tarball", stored()),
            ("releases/bpm-1.2.tgz", b"0123456789", stored()),
        ]);
        let mut archive = open(bytes).expect("accepted");
        assert_eq!(archive.metadata_path(), "metadata/demo.yml");
        assert_eq!(archive.read_metadata().expect("metadata"), META);
        let releases = archive.release_files();
        assert_eq!(releases.len(), 2);
        assert_eq!(releases[1].file_name, "bpm-1.2.tgz");
        assert_eq!(releases[1].size, 10);
        assert_eq!(
            archive.migration_files(),
            vec!["migrations/v1/201801010000_first.js".to_string()]
        );
        let mut out = Vec::new();
        let n = archive
            .copy_entry("releases/bpm-1.2.tgz", &mut out)
            .expect("copy");
        assert_eq!((n, out.as_slice()), (10, b"0123456789".as_slice()));
        assert!(archive.copy_entry("releases/none.tgz", &mut out).is_err());
    }

    #[test]
    fn refuses_parent_directory_escapes() {
        let bytes = zip_of(&[
            ("metadata/demo.yml", META.as_bytes(), deflated()),
            ("releases/../../etc/cron.d/evil", b"x", stored()),
        ]);
        assert!(refused(open(bytes)).contains("escapes the archive"));
    }

    #[test]
    fn refuses_absolute_paths() {
        let bytes = zip_of(&[
            ("metadata/demo.yml", META.as_bytes(), deflated()),
            ("/etc/passwd", b"x", stored()),
        ]);
        assert!(refused(open(bytes)).contains("absolute path"));
    }

    #[test]
    fn refuses_backslashes_and_drive_letters() {
        let bytes = zip_of(&[
            ("metadata/demo.yml", META.as_bytes(), deflated()),
            ("releases\\..\\..\\evil", b"x", stored()),
        ]);
        assert!(refused(open(bytes)).contains("backslash"));
        assert!(check_entry_path("C:/Windows/evil").is_err());
        assert!(check_entry_path("metadata//x.yml").is_err());
        assert!(check_entry_path("metadata/./x.yml").is_err());
        assert!(check_entry_path("metadata/").is_ok());
        assert!(check_entry_path("releases/a..b.tgz").is_ok());
    }

    #[test]
    fn refuses_symlinks() {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("metadata/demo.yml", deflated())
            .expect("start");
        w.write_all(META.as_bytes()).expect("write");
        w.add_symlink("releases/link.tgz", "/etc/shadow", stored())
            .expect("symlink");
        let bytes = w.finish().expect("finish").into_inner();
        assert!(refused(open(bytes)).contains("symlink"));
    }

    #[test]
    fn refuses_too_many_entries() {
        let names: Vec<String> = (0..20).map(|i| format!("migrations/v1/{i}.js")).collect();
        let mut files: Vec<(&str, &[u8], SimpleFileOptions)> =
            vec![("metadata/demo.yml", META.as_bytes(), deflated())];
        files.extend(
            names
                .iter()
                .map(|n| (n.as_str(), b"x".as_slice(), stored())),
        );
        let limits = Limits {
            max_entries: 10,
            ..Limits::default()
        };
        assert!(refused(open_with(zip_of(&files), limits)).contains("21 entries"));
    }

    #[test]
    fn refuses_metadata_over_the_limit() {
        let big = format!("{META}description: {}\n", "x".repeat(4096));
        let bytes = zip_of(&[("metadata/demo.yml", big.as_bytes(), deflated())]);
        let limits = Limits {
            max_metadata_bytes: 1024,
            ..Limits::default()
        };
        assert!(refused(open_with(bytes, limits)).contains("larger than the 1 KiB limit"));
    }

    #[test]
    fn refuses_a_high_compression_ratio() {
        // 2 MiB of zeros deflates to a few KiB: far beyond 100:1.
        let zeros = vec![0u8; 2 * 1024 * 1024];
        let bytes = zip_of(&[
            ("metadata/demo.yml", META.as_bytes(), deflated()),
            ("releases/bomb.tgz", &zeros, deflated()),
        ]);
        let message = refused(open(bytes));
        assert!(message.contains("zip bomb"), "{message}");
    }

    #[test]
    fn refuses_a_large_total_size() {
        let bytes = zip_of(&[
            ("metadata/demo.yml", META.as_bytes(), deflated()),
            ("releases/a.tgz", &[7u8; 600], stored()),
            ("releases/b.tgz", &[7u8; 600], stored()),
        ]);
        let limits = Limits {
            max_total_uncompressed: 1000,
            ..Limits::default()
        };
        assert!(refused(open_with(bytes, limits)).contains("in total"));
    }

    #[test]
    fn refuses_overlapping_entries() {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("metadata/demo.yml", deflated())
            .expect("start");
        w.write_all(META.as_bytes()).expect("write");
        w.start_file("releases/a.tgz", stored()).expect("start");
        w.write_all(&[1u8; 100]).expect("write");
        // A second central-directory entry pointing at the same bytes.
        w.shallow_copy_file("releases/a.tgz", "releases/b.tgz")
            .expect("shallow copy");
        let bytes = w.finish().expect("finish").into_inner();
        assert!(refused(open(bytes)).contains("overlap"));
    }

    /// Replaces every occurrence of `from` by `to` (same length) in raw zip bytes, so headers
    /// can say what a well-behaved writer refuses to write.
    fn patch(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
        assert_eq!(from.len(), to.len());
        let mut count = 0;
        let mut i = 0;
        while i + from.len() <= bytes.len() {
            if &bytes[i..i + from.len()] == from {
                bytes[i..i + from.len()].copy_from_slice(to);
                count += 1;
                i += from.len();
            } else {
                i += 1;
            }
        }
        count
    }

    #[test]
    fn refuses_duplicate_entry_names() {
        let mut bytes = zip_of(&[
            ("metadata/demo.yml", META.as_bytes(), stored()),
            ("releases/aaaa.tgz", b"one", stored()),
            ("releases/bbbb.tgz", b"two", stored()),
        ]);
        // Local and central headers of the second release now carry the first one's name.
        assert_eq!(
            patch(&mut bytes, b"releases/bbbb.tgz", b"releases/aaaa.tgz"),
            2
        );
        let message = refused(open(bytes));
        assert!(message.contains("more than once"), "{message}");
    }

    #[test]
    fn refuses_unsupported_compression() {
        let mut bytes = zip_of(&[("metadata/demo.yml", META.as_bytes(), stored())]);
        // Method field (0 = stored) of the local (offset 8) and central (offset 10) headers → 12
        // (bzip2), which tiles never use and this build cannot read.
        let mut patched = 0;
        for (sig, offset) in [(b"PK\x03\x04", 8usize), (b"PK\x01\x02", 10usize)] {
            if let Some(at) = bytes.windows(4).position(|w| w == sig) {
                bytes[at + offset] = 12;
                patched += 1;
            }
        }
        assert_eq!(patched, 2);
        let message = refused(open(bytes));
        assert!(message.contains("compression"), "{message}");
    }

    #[test]
    fn refuses_a_missing_metadata_file() {
        let bytes = zip_of(&[("releases/a.tgz", b"x", stored())]);
        assert!(refused(open(bytes)).contains("no metadata/*.yml"));
        // Nested or differently named files do not count.
        let bytes = zip_of(&[
            ("metadata/old/demo.yml", META.as_bytes(), deflated()),
            ("metadata/demo.yaml.bak", META.as_bytes(), deflated()),
        ]);
        assert!(refused(open(bytes)).contains("no metadata/*.yml"));
    }

    #[test]
    fn refuses_several_metadata_files() {
        let bytes = zip_of(&[
            ("metadata/a.yml", META.as_bytes(), deflated()),
            ("metadata/b.yml", META.as_bytes(), deflated()),
        ]);
        let message = refused(open(bytes));
        assert!(message.contains("several metadata files"), "{message}");
        assert!(
            message.contains("metadata/a.yml, metadata/b.yml"),
            "{message}"
        );
    }

    #[test]
    fn refuses_files_that_are_not_zips() {
        let message = refused(open(b"name: demo\n".to_vec()));
        assert!(message.contains("not a readable .pivotal"), "{message}");
    }

    #[test]
    fn catches_an_entry_larger_than_it_declares() {
        // Patch the declared uncompressed size of the metadata (local and central headers) down
        // to 5 bytes: the reader must not trust it.
        let mut bytes = zip_of(&[("metadata/demo.yml", META.as_bytes(), stored())]);
        let real = (META.len() as u32).to_le_bytes();
        let fake = 5u32.to_le_bytes();
        let mut patched = 0;
        let mut i = 0;
        while i + 30 <= bytes.len() {
            let sig = &bytes[i..i + 4];
            let offset = if sig == b"PK\x03\x04" {
                Some(22)
            } else if sig == b"PK\x01\x02" {
                Some(24)
            } else {
                None
            };
            if let Some(offset) = offset {
                if bytes[i + offset..i + offset + 4] == real {
                    bytes[i + offset..i + offset + 4].copy_from_slice(&fake);
                    patched += 1;
                }
            }
            i += 1;
        }
        assert_eq!(patched, 2, "both headers patched");
        match open(bytes) {
            // The zip crate itself may already notice the inconsistency …
            Err(e) => assert!(e.to_string().contains("archive"), "{e}"),
            // … otherwise reading must.
            Ok(mut archive) => {
                let err = archive.read_metadata().expect_err("lying size refused");
                assert!(err.to_string().contains("metadata/demo.yml"), "{err}");
            }
        }
    }

    #[test]
    fn reads_folders_and_bare_metadata() {
        let dir = std::env::temp_dir().join(format!("tile-archive-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("metadata")).expect("mkdir");
        fs::create_dir_all(dir.join("releases")).expect("mkdir");
        fs::create_dir_all(dir.join("migrations/v1")).expect("mkdir");
        fs::write(dir.join("metadata/demo.yml"), META).expect("write");
        fs::write(dir.join("releases/demo-1.0.tgz"), b"abc").expect("write");
        fs::write(dir.join("migrations/v1/1_x.js"), b"js").expect("write");
        fs::write(dir.join("README.md"), b"not part of the tile").expect("write");

        let tile = read_tile(&dir, &Limits::default()).expect("folder");
        assert_eq!(tile.kind, SourceKind::Folder);
        assert_eq!(tile.metadata_path, "metadata/demo.yml");
        assert_eq!(tile.metadata, META);
        assert_eq!(tile.release("demo-1.0.tgz").map(|r| r.size), Some(3));
        assert_eq!(tile.migrations, vec!["migrations/v1/1_x.js".to_string()]);

        let bare = read_tile(&dir.join("metadata/demo.yml"), &Limits::default()).expect("bare");
        assert_eq!(bare.kind, SourceKind::Metadata);
        assert!(bare.releases.is_empty());

        fs::write(dir.join("metadata/other.yml"), META).expect("write");
        let err = read_tile(&dir, &Limits::default()).expect_err("two metadata files");
        assert!(err.to_string().contains("several metadata files"), "{err}");
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn detects_zips_by_content() {
        let dir = std::env::temp_dir().join(format!("tile-archive-detect-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        let zip_path = dir.join("tile.bin");
        fs::write(
            &zip_path,
            zip_of(&[("metadata/demo.yml", META.as_bytes(), stored())]),
        )
        .expect("write");
        assert_eq!(detect(&zip_path).expect("detect"), SourceKind::Pivotal);
        let yml = dir.join("demo.yml");
        fs::write(&yml, META).expect("write");
        assert_eq!(detect(&yml).expect("detect"), SourceKind::Metadata);
        assert!(detect(&dir.join("missing.yml")).is_err());
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(16 * 1024 * 1024), "16 MiB");
        assert_eq!(human_size(1536 * 1024 * 1024), "1.5 GiB");
    }
}
