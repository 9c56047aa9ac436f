//! Importing a `.pivotal`: the upload streams into a temporary file inside the tile store
//! (`<data-dir>/tiles/.upload-*.part`) with its SHA-256 computed on the way, so memory stays
//! flat whatever the size. Then the archive is checked (`crate::tile_archive` refuses escaping
//! paths, zip bombs, oversized metadata…), its metadata linted (a tile with lint errors is
//! refused with the findings), the job specs of the releases it carries read and its templates
//! checked against them (`super::job_specs`: warnings the answer shows, never a refusal), and
//! the file renamed atomically to its final name (with an object store, uploaded there first
//! and kept here as this replica's cached copy: `crate::files`). The metadata's lint warnings (what Ops Manager
//! tolerates) are kept with the tile and shown by the answer and the product's page. Importing a
//! name and version already present is a no-op. Nothing is ever extracted: the archive stays
//! whole in the store, so no entry path can reach outside it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::available::AvailableProduct;
use super::job_specs::ImportedJobSpecs;
use super::Products;
use crate::store::products::NewAvailable;
use crate::tile_archive::{Limits, PivotalArchive};
use crate::{Error, Result};

/// Bounds of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLimits {
    /// Largest accepted `.pivotal`, in bytes.
    pub max_upload_bytes: u64,
    /// Archive checks (entries, metadata size, compression ratios).
    pub archive: Limits,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            // The largest public tiles are around 20 GiB.
            max_upload_bytes: 64 * 1024 * 1024 * 1024,
            archive: Limits::default(),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportOutcome {
    Imported {
        product: AvailableProduct,
    },
    /// The same name and version was already there; nothing was written.
    AlreadyPresent {
        product: AvailableProduct,
    },
}

impl ImportOutcome {
    pub fn product(&self) -> &AvailableProduct {
        match self {
            ImportOutcome::Imported { product } | ImportOutcome::AlreadyPresent { product } => {
                product
            }
        }
    }
}

/// An upload in progress: write chunks as they arrive, then hand it to
/// [`Products::finish_import`]. Dropped unfinished, its temporary file is removed.
pub type Upload = crate::uploads::Spool;

/// Removes temporary uploads left by a crash.
pub(super) fn remove_stale_uploads(tiles_dir: &Path) {
    crate::uploads::remove_stale(tiles_dir);
}

/// A file name part made of safe characters only: metadata names come from the archive and
/// must not steer the file anywhere.
fn safe_part(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    cleaned.trim_start_matches('.').chars().take(100).collect()
}

/// The lint errors of a tile as 422 findings: YAML path → "message (rule)".
fn lint_errors(findings: &[tiles::lint::Finding]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in findings
        .iter()
        .filter(|f| f.severity == tiles::lint::Severity::Error)
    {
        let key = if f.path.is_empty() {
            "metadata".to_owned()
        } else {
            format!("metadata.{}", f.path)
        };
        out.entry(key).or_default().push(finding_text(f));
    }
    out
}

/// The lint warnings of an accepted tile, one line each: `metadata.PATH: message [rule] — hint
/// (metadata line L, column C)`, as the 422 words an error.
fn lint_warnings(findings: &[tiles::lint::Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == tiles::lint::Severity::Warning)
        .map(|f| {
            if f.path.is_empty() {
                finding_text(f)
            } else {
                format!("metadata.{}: {}", f.path, finding_text(f))
            }
        })
        .collect()
}

/// A finding's message, rule, hint and place.
fn finding_text(f: &tiles::lint::Finding) -> String {
    let mut message = format!("{} [{}]", f.message, f.rule);
    if let Some(hint) = &f.hint {
        message.push_str(&format!(" — {hint}"));
    }
    if let (Some(line), Some(column)) = (f.line, f.column) {
        message.push_str(&format!(" (metadata line {line}, column {column})"));
    }
    message
}

/// What reading an upload gives: the metadata text and template, the job specs of its
/// releases and the metadata's lint warnings.
struct ReadTile {
    metadata: String,
    template: tiles::metadata::ProductTemplate,
    job_specs: ImportedJobSpecs,
    lint_warnings: Vec<String>,
}

/// Reads and lints the metadata of a stored `.pivotal`, and reads its releases' job specs
/// (blocking: zip reading).
fn read_and_lint(path: &Path, limits: &Limits) -> Result<ReadTile> {
    let mut archive = PivotalArchive::open(path, limits.clone())?;
    let metadata = archive.read_metadata()?;
    let findings = tiles::lint::lint_yaml(&metadata);
    let errors = lint_errors(&findings);
    if !errors.is_empty() {
        return Err(Error::Rejected(errors));
    }
    let template = tiles::metadata::ProductTemplate::from_yaml(&metadata)
        .map_err(|e| Error::invalid("metadata", e.to_string()))?;
    if template.name.trim().is_empty() || template.product_version.trim().is_empty() {
        return Err(Error::invalid(
            "metadata",
            "the metadata needs a name and a product_version",
        ));
    }
    let job_specs = ImportedJobSpecs::read(&mut archive, &template);
    Ok(ReadTile {
        lint_warnings: lint_warnings(&findings),
        metadata,
        template,
        job_specs,
    })
}

impl Products {
    /// Starts an upload: a fresh temporary file (mode 0600) in the tile store.
    pub async fn begin_upload(&self) -> Result<Upload> {
        Upload::create(
            self.tiles_dir(),
            self.limits().max_upload_bytes,
            "product[file]",
        )
        .await
    }

    /// Checks, lints and registers a finished upload.
    pub async fn finish_import(&self, mut upload: Upload, actor: &str) -> Result<ImportOutcome> {
        let spooled = upload.finish().await?;
        let (sha256, size) = (spooled.sha256, spooled.size);
        let path = upload.path().to_owned();
        let limits = self.limits().archive.clone();
        let ReadTile {
            metadata,
            template,
            job_specs,
            lint_warnings,
        } = tokio::task::spawn_blocking(move || read_and_lint(&path, &limits))
            .await
            .map_err(|e| Error::Internal(format!("reading an upload: {e}")))??;
        let (name, version) = (template.name.clone(), template.product_version.clone());
        if self
            .store()
            .products()
            .available_one(&name, &version)
            .await?
            .is_some()
        {
            return Ok(ImportOutcome::AlreadyPresent {
                product: self.available_product(&name, &version).await?,
            });
        }
        let file_name = format!(
            "{}-{}-{}.pivotal",
            safe_part(&name),
            safe_part(&version),
            &sha256[..12]
        );
        // With an object store the tile is uploaded there before it is recorded, so no replica
        // ever finds a record without its file.
        let final_path = self
            .files()
            .keep(crate::files::Folder::Tiles, upload, &file_name)
            .await?;
        let label = template.label.clone().unwrap_or_else(|| name.clone());
        let job_specs = serde_json::to_string(&job_specs)
            .map_err(|e| Error::Internal(format!("job specs as JSON: {e}")))?;
        let lint_warnings = serde_json::to_string(&lint_warnings)
            .map_err(|e| Error::Internal(format!("lint warnings as JSON: {e}")))?;
        let added = self
            .store()
            .products()
            .add_available(&NewAvailable {
                name: &name,
                version: &version,
                label: &label,
                metadata: &metadata,
                file_path: Some(&final_path.to_string_lossy()),
                sha256: &sha256,
                size: size as i64,
                bundled: false,
                job_specs: Some(&job_specs),
                lint_warnings: Some(&lint_warnings),
            })
            .await;
        match added {
            Ok(true) => {
                tracing::info!(product = %name, version = %version, size, sha256 = %sha256, actor, "imported");
                Ok(ImportOutcome::Imported {
                    product: self.available_product(&name, &version).await?,
                })
            }
            Ok(false) => {
                // Imported concurrently by someone else: keep theirs. Only the local file goes:
                // with the same content their object has the same name, so ours is theirs.
                let _ = tokio::fs::remove_file(&final_path).await;
                Ok(ImportOutcome::AlreadyPresent {
                    product: self.available_product(&name, &version).await?,
                })
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&final_path).await;
                Err(e)
            }
        }
    }

    /// Imports a `.pivotal` from a local path (streamed like an upload).
    pub async fn import_file(&self, path: &Path, actor: &str) -> Result<ImportOutcome> {
        use tokio::io::AsyncReadExt;
        let mut source = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let mut upload = self.begin_upload().await?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = source
                .read(&mut buf)
                .await
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            if n == 0 {
                break;
            }
            upload.write(&buf[..n]).await?;
        }
        self.finish_import(upload, actor).await
    }

    async fn available_product(&self, name: &str, version: &str) -> Result<AvailableProduct> {
        self.available()
            .await?
            .into_iter()
            .find(|a| a.name == name && a.product_version == version)
            .ok_or_else(|| Error::NotFound(format!("available product {name} {version}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_from_metadata_cannot_escape() {
        assert_eq!(safe_part("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_part("cf"), "cf");
        assert_eq!(safe_part("1.2.3-build.4"), "1.2.3-build.4");
        assert!(!safe_part("..").contains('/'));
        assert_eq!(safe_part(&"x".repeat(300)).len(), 100);
    }
}
