//! Reading a stemcell tarball (`.tgz`): its `stemcell.MF` names it (name, operating_system,
//! version, cloud_properties.infrastructure/hypervisor). The tarball is never extracted: the
//! gzip stream is read entry by entry until the manifest is found, with bounds so that a hostile
//! file (a gzip bomb, millions of entries, a huge manifest) cannot exhaust memory or time.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::{Error, Result};

/// The multipart field (and error key) of a stemcell upload, as om sends it.
pub const FILE_FIELD: &str = "stemcell[file]";

/// Largest `stemcell.MF` read (real ones are under 1 KiB).
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;
/// Most tar entries looked at before giving up (real stemcells have a handful).
const MAX_ENTRIES: usize = 10_000;
/// Decompressed bytes read for each compressed byte before giving up (plus a fixed allowance):
/// the stemcell `image` inside is itself compressed, so real ratios are close to 1.
const MAX_RATIO: u64 = 100;
const RATIO_ALLOWANCE: u64 = 16 * 1024 * 1024;

/// What `stemcell.MF` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StemcellManifest {
    pub name: String,
    pub operating_system: String,
    pub version: String,
    pub infrastructure: String,
    pub hypervisor: String,
    /// The manifest as found (YAML text).
    pub text: String,
}

fn refused(message: impl Into<String>) -> Error {
    Error::invalid(FILE_FIELD, message)
}

/// A scalar field as text (`version: 97.17` may be a YAML number).
fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Parses `stemcell.MF` text; every refusal is a 422 on `stemcell[file]`.
pub fn parse_manifest(text: &str) -> Result<StemcellManifest> {
    let doc = tiles::yaml::load(text)
        .map_err(|e| refused(format!("stemcell.MF is not valid YAML: {e}")))?;
    if !doc.is_object() {
        return Err(refused("stemcell.MF is not a YAML map"));
    }
    let cloud = doc.get("cloud_properties");
    let manifest = StemcellManifest {
        name: text_of(doc.get("name")),
        operating_system: text_of(doc.get("operating_system")),
        version: text_of(doc.get("version")),
        infrastructure: text_of(cloud.and_then(|c| c.get("infrastructure"))),
        hypervisor: text_of(cloud.and_then(|c| c.get("hypervisor"))),
        text: text.to_owned(),
    };
    let mut blank = Vec::new();
    for (key, value) in [
        ("name", &manifest.name),
        ("operating_system", &manifest.operating_system),
        ("version", &manifest.version),
    ] {
        if value.is_empty() {
            blank.push(key);
        }
    }
    if !blank.is_empty() {
        return Err(refused(format!(
            "stemcell.MF has no {}",
            blank.join(", no ")
        )));
    }
    let unsafe_text = |s: &str| s.len() > 200 || s.chars().any(|c| c.is_control() || c == '/');
    if unsafe_text(&manifest.name)
        || unsafe_text(&manifest.operating_system)
        || unsafe_text(&manifest.version)
    {
        return Err(refused(
            "stemcell.MF name, operating_system and version must be short and contain no '/' or control characters",
        ));
    }
    Ok(manifest)
}

/// Counts decompressed bytes and refuses to read past a bound.
struct Bounded<R> {
    inner: R,
    read: u64,
    max: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(std::io::Error::other("decompressed size bound exceeded"));
        }
        Ok(n)
    }
}

/// Finds and parses `stemcell.MF` in a stemcell tarball on disk (blocking).
pub fn read_manifest(path: &Path) -> Result<StemcellManifest> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let size = file
        .metadata()
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
        .len();
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let bounded = Bounded {
        inner: gz,
        read: 0,
        max: size
            .saturating_mul(MAX_RATIO)
            .saturating_add(RATIO_ALLOWANCE),
    };
    let mut archive = tar::Archive::new(bounded);
    let not_a_stemcell = |e: std::io::Error| {
        refused(format!(
            "not a stemcell tarball (a gzipped tar with a stemcell.MF): {e}"
        ))
    };
    let entries = archive.entries().map_err(not_a_stemcell)?;
    for (index, entry) in entries.enumerate() {
        if index >= MAX_ENTRIES {
            break;
        }
        let entry = entry.map_err(not_a_stemcell)?;
        let is_manifest = entry
            .path()
            .ok()
            .map(|p| {
                let p = p.to_string_lossy().into_owned();
                p == "stemcell.MF" || p == "./stemcell.MF"
            })
            .unwrap_or(false);
        if !is_manifest {
            continue;
        }
        if !entry.header().entry_type().is_file() {
            return Err(refused("stemcell.MF is not a regular file"));
        }
        if entry.size() > MAX_MANIFEST_BYTES {
            return Err(refused("stemcell.MF is larger than 1 MiB"));
        }
        let mut bytes = Vec::new();
        entry
            .take(MAX_MANIFEST_BYTES)
            .read_to_end(&mut bytes)
            .map_err(not_a_stemcell)?;
        let text =
            String::from_utf8(bytes).map_err(|_| refused("stemcell.MF is not UTF-8 text"))?;
        return parse_manifest(&text);
    }
    Err(refused(
        "the tarball has no readable stemcell.MF at its top level; is this a BOSH stemcell?",
    ))
}

/// The manifest of a light stemcell (no image), as the embedded Director accepts it.
pub fn light_manifest(name: &str, os: &str, version: &str) -> String {
    let q = tiles::yaml::quote_if_needed;
    format!(
        "name: {}\nversion: {}\noperating_system: {}\napi_version: 3\nbosh_protocol: '1'\n\
         stemcell_formats:\n- warden-tar\ncloud_properties:\n  infrastructure: warden\n  hypervisor: boshlite\n",
        q(name),
        // Quoted when needed: `97.10` must stay text, not become the number 97.1.
        q(version),
        q(os),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8])]) -> tempfile_path::TempTgz {
        tempfile_path::TempTgz::new(entries)
    }

    /// A throwaway `.tgz` under the system temp dir (removed on drop).
    mod tempfile_path {
        use std::io::Write;
        use std::path::PathBuf;

        pub struct TempTgz(pub PathBuf);

        impl TempTgz {
            pub fn new(entries: &[(&str, &[u8])]) -> TempTgz {
                let path = std::env::temp_dir().join(format!(
                    "tileworks-stemcell-test-{}.tgz",
                    crate::secrets::random_token(8)
                ));
                let file = std::fs::File::create(&path).unwrap();
                let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
                let mut tar = tar::Builder::new(gz);
                for (name, bytes) in entries {
                    let mut header = tar::Header::new_gnu();
                    header.set_size(bytes.len() as u64);
                    header.set_mode(0o644);
                    header.set_cksum();
                    tar.append_data(&mut header, name, *bytes).unwrap();
                }
                tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
                TempTgz(path)
            }
        }

        impl Drop for TempTgz {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    const MF: &str = "name: bosh-vsphere-esxi-ubuntu-xenial-go_agent\nversion: '97.18'\n\
        operating_system: ubuntu-xenial\ncloud_properties:\n  infrastructure: vsphere\n  hypervisor: esxi\n";

    #[test]
    fn reads_the_manifest_wherever_it_sits() {
        let t = tgz(&[
            ("image", b"not really a disk image"),
            ("./stemcell.MF", MF.as_bytes()),
        ]);
        let m = read_manifest(&t.0).unwrap();
        assert_eq!(m.name, "bosh-vsphere-esxi-ubuntu-xenial-go_agent");
        assert_eq!(m.operating_system, "ubuntu-xenial");
        assert_eq!(m.version, "97.18");
        assert_eq!(m.infrastructure, "vsphere");
        assert_eq!(m.hypervisor, "esxi");
    }

    #[test]
    fn refuses_tarballs_without_a_usable_manifest() {
        let none = tgz(&[("image", b"x")]);
        assert!(
            matches!(read_manifest(&none.0), Err(Error::Invalid { field, .. }) if field == FILE_FIELD)
        );
        let nested = tgz(&[("dir/stemcell.MF", MF.as_bytes())]);
        assert!(read_manifest(&nested.0).is_err());
        let incomplete = tgz(&[("stemcell.MF", b"name: x\nversion: '1.0'\n")]);
        let err = read_manifest(&incomplete.0).unwrap_err().to_string();
        assert!(err.contains("operating_system"), "{err}");
        let not_yaml = tgz(&[("stemcell.MF", b"{{{{")]);
        assert!(read_manifest(&not_yaml.0).is_err());
        let path = std::env::temp_dir().join(format!(
            "tileworks-not-gzip-{}.tgz",
            crate::secrets::random_token(8)
        ));
        std::fs::write(&path, b"plain text, not gzip").unwrap();
        assert!(matches!(read_manifest(&path), Err(Error::Invalid { .. })));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn numeric_versions_and_light_manifests_round_trip() {
        let m =
            parse_manifest("name: n\nversion: 3586\noperating_system: ubuntu-trusty\n").unwrap();
        assert_eq!(m.version, "3586");
        let light = light_manifest(
            "bosh-warden-boshlite-ubuntu-xenial-go_agent",
            "ubuntu-xenial",
            "97.10",
        );
        let m = parse_manifest(&light).unwrap();
        assert_eq!(m.version, "97.10");
        assert_eq!(m.operating_system, "ubuntu-xenial");
        assert_eq!(m.infrastructure, "warden");
        assert!(parse_manifest("name: a/b\nversion: '1'\noperating_system: x\n").is_err());
    }
}
