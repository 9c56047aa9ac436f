//! Writing small BOSH release tarballs: `tileworks tile init` ships one with the tile it
//! scaffolds, and the tests build releases with it (the job-spec check, bake, pack).
//!
//! The layout is what `bosh create-release --tarball` writes and what the Director and
//! [`crate::release_job_specs`] read: `release.MF` (name, version, jobs with their sha1s), one
//! `jobs/<job>.tgz` per job holding `job.MF` (the job's spec) and `monit`, and `packages/`.
//! Everything is written in memory; these releases are kilobytes.

use std::io::{self, Write};

use flate2::write::GzEncoder;
use sha1::{Digest, Sha1};

/// A gzip tar of `files` (path, bytes), each a regular file with mode 0644.
pub fn tgz(files: &[(&str, &[u8])]) -> io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Default::default()));
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, *bytes)?;
    }
    let mut gz = builder.into_inner()?;
    gz.flush()?;
    gz.finish()
}

/// A release tarball named `name` at `version` whose jobs (name, the properties its spec
/// declares) do nothing: their specs declare the properties (each with a description) and no
/// templates, and the one package is a placeholder.
pub fn release_tgz(name: &str, version: &str, jobs: &[(&str, &[&str])]) -> io::Result<Vec<u8>> {
    let mut mf = format!("name: {name}\nversion: '{version}'\ncommit_hash: '00000000'\nuncommitted_changes: false\njobs:\n");
    let mut job_files = Vec::new();
    for (job, properties) in jobs {
        let mut spec = format!("---\nname: {job}\ntemplates: {{}}\npackages: []\nproperties:\n");
        if properties.is_empty() {
            spec.push_str("  {}\n");
        }
        for p in *properties {
            spec.push_str(&format!("  {p}:\n    description: a setting of {job}\n"));
        }
        let bytes = tgz(&[("./job.MF", spec.as_bytes()), ("./monit", b"")])?;
        let sha1 = hex::encode(Sha1::digest(&bytes));
        mf.push_str(&format!(
            "- name: {job}\n  version: {sha1}\n  fingerprint: {sha1}\n  sha1: {sha1}\n"
        ));
        job_files.push((format!("./jobs/{job}.tgz"), bytes));
    }
    let package = tgz(&[("./packaging", b"# nothing to build\n")])?;
    let package_sha1 = hex::encode(Sha1::digest(&package));
    mf.push_str(&format!(
        "packages:\n- name: placeholder\n  version: {package_sha1}\n  fingerprint: {package_sha1}\n  sha1: {package_sha1}\n  dependencies: []\n"
    ));
    let mut files: Vec<(&str, &[u8])> = vec![("./release.MF", mf.as_bytes())];
    for (path, bytes) in &job_files {
        files.push((path.as_str(), bytes.as_slice()));
    }
    files.push(("./packages/placeholder.tgz", &package));
    tgz(&files)
}
