//! `tileworks tile bake DIR (-o FILE.pivotal | --metadata-only FILE.yml)`: a tile kept in
//! kiln's layout, baked.
//!
//! This file reads what kiln's `bake` reads, with kiln's defaults (each relative to DIR, used
//! when it exists; a flag replaces it and may be repeated): the base file `base.yml`
//! (`--metadata`), the part folders `forms/`, `properties/`, `instance_groups/`, `jobs/`,
//! `runtime_configs/`, `bosh_variables/`, release tarballs under `releases/` (their
//! `release.MF` and sha1 are the entries `$( release "name" )` inserts), stemcell criteria from
//! `Kilnfile.lock`, `icon.png`, the `version` file (`--version` wins), `--variables-file`s then
//! `--variable`s, and the `*.js` migrations under `migrations/` (packed flat into
//! `migrations/v1/`, as kiln packs them). `tiles::bake` evaluates the base file. Then the
//! metadata is written (`--metadata-only`) or packed with the release tarballs and migrations
//! by the same code as `tile pack` (lint first, sha1s checked, no partial file left behind).
//!
//! A `Kilnfile` in DIR with `bake_configurations` supplies what flags would (kiln's mapping:
//! `metadata_filepath` → `--metadata`, `forms_directories` → `--forms-directory`, …, paths
//! relative to DIR); a flag given wins over its field. With several configurations the
//! `tile_name` variable (`--variable tile_name=NAME`) chooses one; the chosen configuration's
//! `tile_name` becomes that variable, as in kiln.
//!
//! Stemcell criteria for `$( stemcell )` come from the stemcell tarballs in
//! `--stemcells-directory` folders (or a `--stemcell-tarball`, kiln's older flag): each one's
//! `stemcell.MF` gives its OS and version, one version per OS as in kiln. Without them, from
//! `Kilnfile.lock`'s `stemcell_criteria`.
//!
//! `--embed PATH` (or a bake configuration's `embed_paths`, which kiln's README calls
//! `embed_files`) packs a file or folder under `embed/<its name>/`, executable bits kept, as
//! kiln does; `--stub-releases` packs no release tarball (the metadata still names them, read
//! from the tarballs given), for a quick upload of the metadata.
//!
//! Not supported: fetching releases (kiln's `fetch` reads a release source over the network).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use clap::{ArgGroup, Args};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use tiles::bake::{BakeInput, PartKind, SourceFile};

use super::pack::{pack_tile, Failure, TileToPack};
use super::{EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE};
use crate::tile_archive::{read_text_file, FolderFile, Limits};

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("result").required(true).args(["output", "metadata_only"])))]
pub struct BakeArgs {
    /// The tile folder in kiln's layout (base.yml, forms/, properties/, instance_groups/,
    /// jobs/, runtime_configs/, bosh_variables/, migrations/, releases/, Kilnfile.lock,
    /// icon.png, version).
    pub dir: PathBuf,
    /// The .pivotal to write (replaced if it exists).
    #[arg(short = 'o', long = "output", value_name = "FILE.pivotal")]
    pub output: Option<PathBuf>,
    /// Write only the baked metadata to FILE.yml (`-`: standard output).
    #[arg(long = "metadata-only", value_name = "FILE.yml")]
    pub metadata_only: Option<PathBuf>,
    /// The base file [default: DIR/base.yml].
    #[arg(short = 'm', long = "metadata", value_name = "FILE")]
    pub metadata: Option<PathBuf>,
    /// A YAML file of variables for `$( variable "name" )`; later files win. Repeatable.
    #[arg(long = "variables-file", value_name = "FILE")]
    pub variables_files: Vec<PathBuf>,
    /// A variable, `name=value` (a string); wins over the files. Repeatable.
    #[arg(long = "variable", value_name = "NAME=VALUE")]
    pub variables: Vec<String>,
    /// The tile's version for `$( version )` [default: the first line of DIR/version].
    #[arg(long)]
    pub version: Option<String>,
    /// Folder of forms [default: DIR/forms]. Repeatable.
    #[arg(long = "forms-directory", value_name = "DIR")]
    pub forms: Vec<PathBuf>,
    /// Folder of property blueprints [default: DIR/properties]. Repeatable.
    #[arg(long = "properties-directory", value_name = "DIR")]
    pub properties: Vec<PathBuf>,
    /// Folder of instance groups (job types) [default: DIR/instance_groups]. Repeatable.
    #[arg(long = "instance-groups-directory", value_name = "DIR")]
    pub instance_groups: Vec<PathBuf>,
    /// Folder of jobs (templates) [default: DIR/jobs]. Repeatable.
    #[arg(long = "jobs-directory", value_name = "DIR")]
    pub jobs: Vec<PathBuf>,
    /// Folder of runtime configs [default: DIR/runtime_configs]. Repeatable.
    #[arg(long = "runtime-configs-directory", value_name = "DIR")]
    pub runtime_configs: Vec<PathBuf>,
    /// Folder of BOSH variables [default: DIR/bosh_variables]. Repeatable.
    #[arg(long = "bosh-variables-directory", value_name = "DIR")]
    pub bosh_variables: Vec<PathBuf>,
    /// Folder of migrations (*.js) [default: DIR/migrations]. Repeatable.
    #[arg(long = "migrations-directory", value_name = "DIR")]
    pub migrations: Vec<PathBuf>,
    /// Folder of release tarballs [default: DIR/releases]. Repeatable.
    #[arg(long = "releases-directory", value_name = "DIR")]
    pub releases: Vec<PathBuf>,
    /// The icon for `$( icon )` [default: DIR/icon.png].
    #[arg(long, value_name = "FILE")]
    pub icon: Option<PathBuf>,
    /// Folder of stemcell tarballs for `$( stemcell "os" )` (instead of Kilnfile.lock's
    /// criteria). Repeatable.
    #[arg(long = "stemcells-directory", value_name = "DIR")]
    pub stemcells: Vec<PathBuf>,
    /// One stemcell tarball (kiln's older flag; like a folder holding only it). Repeatable.
    #[arg(long = "stemcell-tarball", value_name = "FILE")]
    pub stemcell_tarballs: Vec<PathBuf>,
    /// A file or folder to pack under embed/<its name>/ (with --output). Repeatable.
    #[arg(long = "embed", value_name = "PATH")]
    pub embed: Vec<PathBuf>,
    /// Pack no release tarball: the metadata still names the releases read (a quick upload
    /// of the metadata; Apply Changes needs the releases).
    #[arg(long = "stub-releases")]
    pub stub_releases: bool,
}

/// Why a bake stopped: problems with the tile (exit 1) or input that cannot be read (exit 2).
enum Stop {
    Problems(String),
    Unreadable(String),
}

pub fn run(args: &BakeArgs) -> u8 {
    match bake(args) {
        Ok(code) => code,
        Err(Stop::Problems(message)) => {
            eprintln!("error: {message}");
            eprintln!("error: not baked");
            EXIT_PROBLEMS
        }
        Err(Stop::Unreadable(message)) => {
            eprintln!("error: {message}");
            EXIT_UNREADABLE
        }
    }
}

fn bake(args: &BakeArgs) -> Result<u8, Stop> {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(Stop::Unreadable(format!(
            "{}: not a folder (bake reads a tile kept in kiln's layout)",
            dir.display()
        )));
    }
    let args = &with_bake_configuration(args)?;
    let base_path = args
        .metadata
        .clone()
        .unwrap_or_else(|| dir.join("base.yml"));
    let base = read_source(dir, &base_path)?;

    let mut parts = Vec::new();
    for kind in PartKind::ALL {
        let given = match kind {
            PartKind::Form => &args.forms,
            PartKind::Property => &args.properties,
            PartKind::InstanceGroup => &args.instance_groups,
            PartKind::Job => &args.jobs,
            PartKind::RuntimeConfig => &args.runtime_configs,
            PartKind::BoshVariable => &args.bosh_variables,
        };
        if let Some(folders) = folders(dir, given, kind.default_dir())? {
            let mut files = Vec::new();
            for folder in folders {
                for path in walk(&folder)? {
                    let name = shown(dir, &path);
                    if tiles::bake::is_part_file(&name) {
                        files.push(read_source(dir, &path)?);
                    }
                }
            }
            parts.push((kind, files));
        }
    }

    let mut variables = Map::new();
    for file in &args.variables_files {
        let source = read_source(dir, file)?;
        tiles::bake::merge_variables_file(&source, &mut variables)
            .map_err(|e| Stop::Problems(e.to_string()))?;
    }
    for pair in &args.variables {
        tiles::bake::add_variable_pair(pair, &mut variables)
            .map_err(|e| Stop::Problems(e.to_string()))?;
    }

    let version = match &args.version {
        Some(v) => Some(v.clone()),
        None => {
            let file = dir.join("version");
            if file.is_file() {
                read_source(dir, &file)?
                    .text
                    .lines()
                    .next()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
            } else {
                None
            }
        }
    };

    let release_files = match folders(dir, &args.releases, "releases")? {
        Some(folders) => {
            let mut files = Vec::new();
            for folder in folders {
                files.extend(walk(&folder)?.into_iter().filter(|p| is_tarball(p)));
            }
            files
        }
        None => Vec::new(),
    };
    let releases = release_entries(dir, &release_files)?;

    let icon =
        match args.icon.clone().or_else(|| {
            let default = dir.join("icon.png");
            default.is_file().then_some(default)
        }) {
            Some(path) => Some(base64::engine::general_purpose::STANDARD.encode(
                fs::read(&path).map_err(|e| {
                    Stop::Unreadable(format!("cannot read {}: {e}", path.display()))
                })?,
            )),
            None => None,
        };

    let input = BakeInput {
        base,
        parts,
        variables,
        version,
        releases: (!releases.is_empty()).then_some(releases),
        stemcells: if args.stemcells.is_empty() && args.stemcell_tarballs.is_empty() {
            stemcells(dir)?
        } else {
            stemcells_from_tarballs(dir, args)?
        },
        icon,
    };
    let baked = tiles::bake::bake(&input).map_err(|e| Stop::Problems(e.to_string()))?;
    let metadata = tiles::yaml::to_yaml_string(&baked);

    if let Some(target) = &args.metadata_only {
        if target.as_os_str() == "-" {
            print!("{metadata}");
        } else {
            fs::write(target, &metadata)
                .map_err(|e| Stop::Unreadable(format!("cannot write {}: {e}", target.display())))?;
            println!("baked {}", target.display());
        }
        return Ok(EXIT_OK);
    }
    let Some(output) = &args.output else {
        return Err(Stop::Problems("give --output or --metadata-only".into()));
    };

    // The archive: the baked metadata, the migrations flat in migrations/v1/, the tarballs.
    let mut files = Vec::new();
    let mut migration_names = BTreeMap::new();
    let mut excluded = Vec::new();
    if let Some(folders) = folders(dir, &args.migrations, "migrations")? {
        for folder in folders {
            for path in walk(&folder)? {
                let inside = path.strip_prefix(&folder).unwrap_or(&path);
                let inside = inside.to_string_lossy().replace('\\', "/");
                // As kiln: JavaScript only, not node_modules/ or tests/.
                if !inside.ends_with(".js")
                    || inside.contains("node_modules/")
                    || inside.starts_with("tests/")
                    || inside.contains("/tests/")
                {
                    continue;
                }
                let name = file_name(&path);
                if let Some(first) = migration_names.insert(name.clone(), shown(dir, &path)) {
                    return Err(Stop::Problems(format!(
                        "{} and {first} would both be packed as migrations/v1/{name}",
                        shown(dir, &path)
                    )));
                }
                files.push(folder_file(&path, format!("migrations/v1/{name}"))?);
            }
            excluded.push(folder);
        }
    }
    if !args.stub_releases {
        for path in &release_files {
            files.push(folder_file(path, format!("releases/{}", file_name(path)))?);
        }
    }
    if let Some(folders) = folders(dir, &args.releases, "releases")? {
        excluded.extend(folders);
    }
    // As kiln: embed/<the path's own name>/<path inside it> (a file: embed/<its name>).
    for embedded in &args.embed {
        let meta = fs::metadata(embedded)
            .map_err(|e| Stop::Unreadable(format!("--embed {}: {e}", embedded.display())))?;
        let base = file_name(embedded);
        if meta.is_dir() {
            for path in walk(embedded)? {
                let inside = path.strip_prefix(embedded).unwrap_or(&path);
                let inside = inside.to_string_lossy().replace('\\', "/");
                files.push(folder_file(&path, format!("embed/{base}/{inside}"))?);
            }
            excluded.push(embedded.clone());
        } else {
            files.push(folder_file(embedded, format!("embed/{base}"))?);
        }
    }
    let tile = TileToPack {
        metadata_path: "metadata/metadata.yml".into(),
        shown_as: "baked metadata".into(),
        metadata,
        files,
        folders: excluded,
        stub_releases: args.stub_releases,
        lint_hint: format!(
            "`tileworks tile bake {} --metadata-only -` then `tileworks tile lint` on it",
            dir.display()
        ),
    };
    match pack_tile(&tile, output) {
        Ok(summary) => {
            println!("{summary}");
            Ok(EXIT_OK)
        }
        Err(Failure::Problems(problems)) => Err(Stop::Problems(problems.join("\nerror: "))),
        Err(Failure::Io(message)) => Err(Stop::Unreadable(message)),
    }
}

/// The folders of one kind: those given (each must exist), else the default under DIR when it
/// exists, else none.
fn folders(dir: &Path, given: &[PathBuf], default: &str) -> Result<Option<Vec<PathBuf>>, Stop> {
    if given.is_empty() {
        let path = dir.join(default);
        return Ok(path.is_dir().then(|| vec![path]));
    }
    for folder in given {
        if !folder.is_dir() {
            return Err(Stop::Unreadable(format!(
                "{}: not a folder",
                folder.display()
            )));
        }
    }
    Ok(Some(given.to_vec()))
}

/// Every regular file under `folder` (links followed, as kiln's walk reads them), sorted.
fn walk(folder: &Path) -> Result<Vec<PathBuf>, Stop> {
    fn visit(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), Stop> {
        if depth > 16 {
            return Err(Stop::Unreadable(format!(
                "{}: folders nest too deep (a loop of links?)",
                dir.display()
            )));
        }
        let entries = fs::read_dir(dir)
            .map_err(|e| Stop::Unreadable(format!("cannot list {}: {e}", dir.display())))?;
        for entry in entries {
            let path = entry
                .map_err(|e| Stop::Unreadable(format!("cannot list {}: {e}", dir.display())))?
                .path();
            if path.is_dir() {
                visit(&path, out, depth + 1)?;
            } else if path.is_file() {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(folder, &mut out, 0)?;
    out.sort();
    Ok(out)
}

/// How a file is named in messages: relative to the tile folder when inside it.
fn shown(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_tarball(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".tgz") || name.ends_with(".tar.gz")
}

fn read_source(dir: &Path, path: &Path) -> Result<SourceFile, Stop> {
    let text = read_text_file(path, Limits::default().max_metadata_bytes)
        .map_err(|e| Stop::Unreadable(e.to_string()))?;
    Ok(SourceFile {
        path: shown(dir, path),
        text,
    })
}

fn folder_file(path: &Path, in_archive: String) -> Result<FolderFile, Stop> {
    let size = fs::metadata(path)
        .map_err(|e| Stop::Unreadable(format!("cannot read {}: {e}", path.display())))?
        .len();
    Ok(FolderFile {
        path: in_archive,
        disk_path: path.to_path_buf(),
        size,
    })
}

/// The release entries kiln writes for the tarballs: name and version from `release.MF`, the
/// file name, and the sha1 of the tarball.
fn release_entries(dir: &Path, tarballs: &[PathBuf]) -> Result<Map<String, Value>, Stop> {
    let mut entries = Map::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for path in tarballs {
        let shown_path = shown(dir, path);
        let open = || {
            File::open(path)
                .map_err(|e| Stop::Unreadable(format!("cannot read {}: {e}", path.display())))
        };
        let release =
            crate::release_job_specs::read_release(open()?, &shown_path).map_err(|e| {
                Stop::Problems(format!("{e} (bake reads every tarball under releases/)"))
            })?;
        if let Some(first) = seen.insert(release.name.clone(), shown_path.clone()) {
            return Err(Stop::Problems(format!(
                "{shown_path} and {first} are both release `{}`: keep one",
                release.name
            )));
        }
        let mut hasher = Sha1::new();
        let mut file = open()?;
        let mut buffer = vec![0u8; 1024 * 1024];
        loop {
            let n = file
                .read(&mut buffer)
                .map_err(|e| Stop::Unreadable(format!("cannot read {}: {e}", path.display())))?;
            if n == 0 {
                break;
            }
            hasher.update(buffer.get(..n).unwrap_or_default());
        }
        let mut entry = Map::new();
        entry.insert("name".into(), Value::String(release.name.clone()));
        entry.insert("version".into(), Value::String(release.version.clone()));
        entry.insert("file".into(), Value::String(file_name(path)));
        entry.insert("sha1".into(), Value::String(hex::encode(hasher.finalize())));
        entries.insert(release.name, Value::Object(entry));
    }
    Ok(entries)
}

/// Stemcell criteria by OS from `Kilnfile.lock`'s `stemcell_criteria` (`os`, `version`, both
/// strings, as kiln reads them).
/// `args` completed from DIR/Kilnfile's `bake_configurations` (see the module comment): the
/// configuration the `tile_name` variable names, or the only one.
fn with_bake_configuration(args: &BakeArgs) -> Result<BakeArgs, Stop> {
    let dir = &args.dir;
    let path = dir.join("Kilnfile");
    if !path.is_file() {
        return Ok(args.clone());
    }
    let source = read_source(dir, &path)?;
    let kilnfile = tiles::yaml::load(&source.text)
        .map_err(|e| Stop::Problems(format!("{}: not readable YAML: {e}", source.path)))?;
    let configurations = match kilnfile.get("bake_configurations") {
        None | Some(Value::Null) => return Ok(args.clone()),
        Some(Value::Array(list)) if list.is_empty() => return Ok(args.clone()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(Stop::Problems(format!(
                "{}: bake_configurations must be a list",
                source.path
            )))
        }
    };
    let name_of = |c: &Value| {
        c.get("tile_name")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let names: Vec<String> = configurations.iter().filter_map(name_of).collect();
    let wanted = args
        .variables
        .iter()
        .filter_map(|pair| pair.strip_prefix("tile_name="))
        .next_back()
        .map(str::to_owned);
    let chosen = match (&wanted, configurations.as_slice()) {
        (Some(name), _) => configurations
            .iter()
            .find(|c| name_of(c).as_deref() == Some(name.as_str()))
            .ok_or_else(|| {
                Stop::Problems(format!(
                    "{}: no bake configuration has tile_name `{name}` (it has: {})",
                    source.path,
                    names.join(", ")
                ))
            })?,
        (None, [only]) => only,
        (None, _) => {
            return Err(Stop::Problems(format!(
                "{}: {} bake configurations ({}); choose one with --variable tile_name=NAME",
                source.path,
                configurations.len(),
                names.join(", ")
            )))
        }
    };
    let field = |key: &str| {
        format!(
            "{}: bake_configurations[tile_name={}].{key}",
            source.path,
            name_of(chosen).unwrap_or_default()
        )
    };
    let Value::Object(chosen) = chosen else {
        return Err(Stop::Problems(format!(
            "{}: each bake configuration must be a mapping",
            source.path
        )));
    };
    let mut out = args.clone();
    let one = |key: &str| -> Result<Option<PathBuf>, Stop> {
        match chosen.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(p)) if !p.is_empty() => Ok(Some(dir.join(p))),
            Some(_) => Err(Stop::Problems(format!(
                "{}: expected a file path",
                field(key)
            ))),
        }
    };
    let many = |key: &str| -> Result<Vec<PathBuf>, Stop> {
        match chosen.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(list)) => list
                .iter()
                .map(|p| match p {
                    Value::String(p) if !p.is_empty() => Ok(dir.join(p)),
                    _ => Err(Stop::Problems(format!(
                        "{}: expected a list of paths",
                        field(key)
                    ))),
                })
                .collect(),
            Some(_) => Err(Stop::Problems(format!(
                "{}: expected a list of paths",
                field(key)
            ))),
        }
    };
    // A flag given on the command line wins over the configuration's field.
    fn fill<T>(given: &mut T, from: T, is_given: bool) {
        if !is_given {
            *given = from;
        }
    }
    let has_metadata = out.metadata.is_some();
    fill(&mut out.metadata, one("metadata_filepath")?, has_metadata);
    let has_icon = out.icon.is_some();
    fill(&mut out.icon, one("icon_filepath")?, has_icon);
    for (key, list) in [
        ("forms_directories", &mut out.forms),
        ("instance_groups_directories", &mut out.instance_groups),
        ("jobs_directories", &mut out.jobs),
        ("migrations_directories", &mut out.migrations),
        ("properties_directories", &mut out.properties),
        (
            "runtime_configurations_directories",
            &mut out.runtime_configs,
        ),
        ("bosh_variables_directories", &mut out.bosh_variables),
    ] {
        let given = !list.is_empty();
        fill(list, many(key)?, given);
    }
    // The configuration's variable files come first: files and variables given win.
    let mut files = many("variable_files")?;
    files.append(&mut out.variables_files);
    out.variables_files = files;
    // kiln's Kilnfile reads `embed_paths`; its README names the field `embed_files`.
    let mut embedded = many("embed_paths")?;
    embedded.append(&mut many("embed_files")?);
    let has_embed = !out.embed.is_empty();
    fill(&mut out.embed, embedded, has_embed);
    const KNOWN: &[&str] = &[
        "tile_name",
        "metadata_filepath",
        "icon_filepath",
        "forms_directories",
        "instance_groups_directories",
        "jobs_directories",
        "migrations_directories",
        "properties_directories",
        "runtime_configurations_directories",
        "bosh_variables_directories",
        "embed_paths",
        "embed_files",
        "variable_files",
    ];
    for key in chosen.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
        eprintln!(
            "warning: {}: not a bake configuration field; ignored",
            field(key)
        );
    }
    if wanted.is_none() {
        if let Some(name) = name_of(&Value::Object(chosen.clone())) {
            out.variables.insert(0, format!("tile_name={name}"));
        }
    }
    Ok(out)
}

/// `os → {os, version}` from the stemcell tarballs of `--stemcells-directory` and
/// `--stemcell-tarball`; two versions of one OS are refused (kiln's `stemcell` helper takes
/// one version per OS).
fn stemcells_from_tarballs(dir: &Path, args: &BakeArgs) -> Result<Map<String, Value>, Stop> {
    let mut tarballs = args.stemcell_tarballs.clone();
    for folder in &args.stemcells {
        if !folder.is_dir() {
            return Err(Stop::Unreadable(format!(
                "{}: not a folder (--stemcells-directory)",
                folder.display()
            )));
        }
        tarballs.extend(walk(folder)?.into_iter().filter(|p| is_tarball(p)));
    }
    let mut out = Map::new();
    let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
    for path in &tarballs {
        let manifest = crate::stemcells::tarball::read_manifest(path).map_err(|e| {
            Stop::Problems(format!(
                "{}: not a stemcell tarball ({})",
                shown(dir, path),
                crate::installations::error_text(&e)
            ))
        })?;
        let os = manifest.operating_system.clone();
        if let Some((version, first)) = seen.get(&os) {
            if *version != manifest.version {
                return Err(Stop::Problems(format!(
                    "{} and {first} are two versions of {os} ({} and {version}); bake takes one \
                     version per operating system",
                    shown(dir, path),
                    manifest.version
                )));
            }
            continue;
        }
        seen.insert(os.clone(), (manifest.version.clone(), shown(dir, path)));
        let mut criteria = Map::new();
        criteria.insert("os".into(), Value::String(os.clone()));
        criteria.insert("version".into(), Value::String(manifest.version));
        out.insert(os, Value::Object(criteria));
    }
    if out.is_empty() {
        return Err(Stop::Problems(
            "no stemcell tarballs (*.tgz) in the --stemcells-directory folders".into(),
        ));
    }
    Ok(out)
}

fn stemcells(dir: &Path) -> Result<Map<String, Value>, Stop> {
    let path = dir.join("Kilnfile.lock");
    let mut out = Map::new();
    if !path.is_file() {
        return Ok(out);
    }
    let source = read_source(dir, &path)?;
    let lock = tiles::yaml::load(&source.text)
        .map_err(|e| Stop::Problems(format!("{}: not readable YAML: {e}", source.path)))?;
    let Some(criteria) = lock.get("stemcell_criteria") else {
        return Ok(out);
    };
    let text = |key: &str| match criteria.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match (text("os"), text("version")) {
        (Some(os), Some(version)) => {
            let mut c = Map::new();
            c.insert("os".into(), Value::String(os.clone()));
            c.insert("version".into(), Value::String(version));
            out.insert(os, Value::Object(c));
            Ok(out)
        }
        _ => Err(Stop::Problems(format!(
            "{}: stemcell_criteria needs `os` and `version`",
            source.path
        ))),
    }
}
