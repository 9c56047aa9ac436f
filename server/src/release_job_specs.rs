//! The job specs inside BOSH release tarballs, for the job-spec check (`tiles::job_specs`).
//!
//! A release tarball (`.tgz`) holds `release.MF` (name, version, jobs) and one `jobs/<job>.tgz`
//! per job, whose `job.MF` is the job's spec. Both are read from the stream without extracting
//! anything to disk: entries are only read into bounded memory, so paths, links and devices in
//! a hostile tarball have nowhere to land. Reading stops once `release.MF` and every job it
//! lists are read, before the (large) packages.
//!
//! [`for_tile`] gathers the specs a tile's check uses: the bundled tiles' summaries, then the
//! release tarballs the tile ships (a folder's `releases/` or a `.pivotal`'s), which win.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;
use tiles::job_specs::{parse_job_manifest, parse_release_manifest, JobSpecs, ReleaseSpecs};

use crate::error::{Error, Result};
use crate::tile_archive::{Limits, PivotalArchive, SourceKind, TileContents, RELEASES_DIR};

/// A manifest (`release.MF`, `job.MF`) larger than this is not a manifest.
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// A job tarball holds templates and its spec; real ones are kilobytes.
const MAX_JOB_TARBALL_BYTES: u64 = 64 * 1024 * 1024;

/// Reads the job specs of one release tarball (gzip tar).
pub fn read_release(reader: impl Read, what: &str) -> Result<ReleaseSpecs> {
    let corrupt = |e: std::io::Error| Error::invalid("release", format!("{what}: {e}"));
    let mut archive = tar::Archive::new(GzDecoder::new(reader));
    let mut release: Option<(String, String, Vec<String>)> = None;
    let mut jobs = tiles::job_specs::ReleaseJobs::new();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(corrupt)?
            .to_string_lossy()
            .into_owned();
        let path = path.trim_start_matches("./");
        if path == "release.MF" {
            let text = read_text(&mut entry, MAX_MANIFEST_BYTES, what, path)?;
            let (name, version) = parse_release_manifest(&text)
                .map_err(|e| Error::invalid("release", format!("{what}: release.MF: {e}")))?;
            release = Some((name, version, listed_jobs(&text)));
        } else if let Some(file) = path.strip_prefix("jobs/") {
            if !file.ends_with(".tgz") || file.contains('/') {
                continue;
            }
            let bytes = read_bytes(&mut entry, MAX_JOB_TARBALL_BYTES, what, path)?;
            let (name, properties) = read_job(&bytes, &format!("{what}: {path}"))?;
            jobs.insert(name, properties);
        }
        if let Some((_, _, listed)) = &release {
            if listed.iter().all(|j| jobs.contains_key(j)) {
                break;
            }
        }
    }
    let Some((name, version, listed)) = release else {
        return Err(Error::invalid(
            "release",
            format!("{what} has no release.MF: not a BOSH release tarball"),
        ));
    };
    if let Some(missing) = listed.iter().find(|j| !jobs.contains_key(*j)) {
        return Err(Error::invalid(
            "release",
            format!("{what}: release.MF lists job {missing}, whose jobs/{missing}.tgz is absent"),
        ));
    }
    Ok(ReleaseSpecs {
        name,
        version,
        jobs,
    })
}

/// The specs a tile is checked against: the bundled summaries, overridden by the release
/// tarballs the tile ships. Tarballs that cannot be read are returned as messages (the check
/// then treats their release as it would an absent one).
pub fn for_tile(path: &Path, tile: &TileContents) -> (JobSpecs, Vec<String>) {
    let mut specs = tiles::products::bundled_job_specs();
    let mut problems = Vec::new();
    let mut add = |result: Result<ReleaseSpecs>| match result {
        Ok(release) => specs.insert(release),
        Err(e) => problems.push(e.to_string()),
    };
    match tile.kind {
        SourceKind::Metadata => {}
        SourceKind::Folder => {
            for release in &tile.releases {
                let file = path.join(RELEASES_DIR).join(&release.file_name);
                add(File::open(&file)
                    .map_err(|e| Error::io(format!("cannot open {}", file.display()), e))
                    .and_then(|f| read_release(BufReader::new(f), &release.path)));
            }
        }
        SourceKind::Pivotal => match PivotalArchive::open(path, Limits::default()) {
            Ok(mut archive) => {
                for release in &tile.releases {
                    add(archive.read_entry_with(&release.path, |r| read_release(r, &release.path)));
                }
            }
            Err(e) => problems.push(e.to_string()),
        },
    }
    (specs, problems)
}

/// The specs of the release tarballs inside an open `.pivotal` (no bundled summaries): what an
/// import keeps. Tarballs that cannot be read are returned as messages.
pub fn in_pivotal<R: Read + std::io::Seek>(
    archive: &mut PivotalArchive<R>,
) -> (JobSpecs, Vec<String>) {
    let mut specs = JobSpecs::default();
    let mut problems = Vec::new();
    for release in archive.release_files() {
        match archive.read_entry_with(&release.path, |r| read_release(r, &release.path)) {
            Ok(read) => specs.insert(read),
            Err(e) => problems.push(e.to_string()),
        }
    }
    (specs, problems)
}

/// The job names `release.MF` lists (`jobs: [{name: …}]`).
fn listed_jobs(text: &str) -> Vec<String> {
    let Ok(doc) = tiles::yaml::load(text) else {
        return Vec::new();
    };
    doc.get("jobs")
        .and_then(|j| j.as_array())
        .into_iter()
        .flatten()
        .filter_map(|j| j.get("name")?.as_str().map(str::to_owned))
        .collect()
}

/// A job tarball's `job.MF`.
fn read_job(bytes: &[u8], what: &str) -> Result<(String, Vec<String>)> {
    let corrupt = |e: std::io::Error| Error::invalid("release", format!("{what}: {e}"));
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let path = entry
            .path()
            .map_err(corrupt)?
            .to_string_lossy()
            .into_owned();
        if entry.header().entry_type().is_file() && path.trim_start_matches("./") == "job.MF" {
            let text = read_text(&mut entry, MAX_MANIFEST_BYTES, what, "job.MF")?;
            return parse_job_manifest(&text)
                .map_err(|e| Error::invalid("release", format!("{what}: job.MF: {e}")));
        }
    }
    Err(Error::invalid("release", format!("{what} has no job.MF")))
}

fn read_bytes(reader: &mut impl Read, limit: u64, what: &str, path: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::invalid("release", format!("{what}: {path}: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(Error::invalid(
            "release",
            format!("{what}: {path} is larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

fn read_text(reader: &mut impl Read, limit: u64, what: &str, path: &str) -> Result<String> {
    String::from_utf8(read_bytes(reader, limit, what, path)?)
        .map_err(|_| Error::invalid("release", format!("{what}: {path} is not UTF-8 text")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release_tarball;

    fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
        release_tarball::tgz(files).unwrap()
    }

    fn release_tgz(name: &str, version: &str, jobs: &[(&str, &[&str])]) -> Vec<u8> {
        release_tarball::release_tgz(name, version, jobs).unwrap()
    }

    #[test]
    fn reads_every_job_spec_of_a_release_tarball() {
        let bytes = release_tgz(
            "web",
            "2.0.0",
            &[("server", &["port", "tls.certificate"]), ("drain", &[])],
        );
        let release = read_release(bytes.as_slice(), "web.tgz").unwrap();
        assert_eq!(
            (release.name.as_str(), release.version.as_str()),
            ("web", "2.0.0")
        );
        assert_eq!(release.jobs["server"], ["port", "tls.certificate"]);
        assert!(release.jobs["drain"].is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_release_naming_the_file() {
        let err = read_release(tgz(&[("./README", b"hi")]).as_slice(), "x.tgz").unwrap_err();
        assert!(err.to_string().contains("x.tgz has no release.MF"), "{err}");
        let err = read_release(&b"not gzip"[..], "y.tgz").unwrap_err();
        assert!(err.to_string().contains("y.tgz"), "{err}");
        // A job release.MF lists whose tarball is absent.
        let mf = b"name: r\nversion: '1'\njobs:\n- name: gone\n";
        let err = read_release(tgz(&[("release.MF", mf)]).as_slice(), "r.tgz").unwrap_err();
        assert!(err.to_string().contains("jobs/gone.tgz is absent"), "{err}");
    }
}
