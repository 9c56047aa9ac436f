//! `tileworks tile bake`: tile metadata assembled from parts laid out as kiln lays them out.
//!
//! Large tiles are written as a base file (kiln's default `base.yml`) whose `$( … )` actions
//! pull in parts kept one per file in `forms/`, `properties/`, `instance_groups/`, `jobs/`,
//! `runtime_configs/` and `bosh_variables/`, plus variables, the version, releases and the
//! stemcell. kiln (github.com/pivotal-cf/kiln, `bake`) is the contract; this engine evaluates
//! the same base files to the same metadata. It is pure: the caller reads the files and release
//! tarballs and hands over their contents ([`BakeInput`]).
//!
//! * `template.rs` reads the `$( … )` actions of a text (kiln uses Go's `text/template` with
//!   `$(`/`)` delimiters; the function-call subset tiles use).
//! * `parts.rs` reads part files into named parts (`alias` or `name`, `{{ tile }}`).
//! * `interpolate.rs` evaluates actions: the functions, and how a value replaces its action.
//!
//! How kiln's behaviour carries over: a part or structured variable replaces its action as one
//! line of JSON (a YAML flow value, so the indentation of the base file does not matter), after
//! its own actions are evaluated; a string replaces it as written when it is a YAML scalar and
//! quoted otherwise. The result is read as YAML (1.1 rules, as Ops Manager reads metadata).
//! Differences, each deliberate: the baked metadata keeps the base file's key order (kiln
//! sorts keys; the parsed values are equal), kiln's `kiln_metadata` bookkeeping key (a git
//! revision) is not added, two parts with one name are refused (kiln keeps the later), and
//! `metadata-git-sha` must be given as a variable (kiln runs git).

mod interpolate;
mod parts;
mod template;

use serde_json::{Map, Value};

use crate::{Error, Result};

/// A text file by its path relative to the tile folder (named in messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// The kinds of part a base file refers to, each with its function and folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartKind {
    Form,
    Property,
    InstanceGroup,
    Job,
    RuntimeConfig,
    BoshVariable,
}

impl PartKind {
    pub const ALL: [PartKind; 6] = [
        PartKind::Form,
        PartKind::Property,
        PartKind::InstanceGroup,
        PartKind::Job,
        PartKind::RuntimeConfig,
        PartKind::BoshVariable,
    ];

    /// The template function that inlines a part of this kind.
    pub fn function(self) -> &'static str {
        match self {
            PartKind::Form => "form",
            PartKind::Property => "property",
            PartKind::InstanceGroup => "instance_group",
            PartKind::Job => "job",
            PartKind::RuntimeConfig => "runtime_config",
            PartKind::BoshVariable => "bosh_variable",
        }
    }

    /// kiln's default folder for this kind.
    pub fn default_dir(self) -> &'static str {
        match self {
            PartKind::Form => "forms",
            PartKind::Property => "properties",
            PartKind::InstanceGroup => "instance_groups",
            PartKind::Job => "jobs",
            PartKind::RuntimeConfig => "runtime_configs",
            PartKind::BoshVariable => "bosh_variables",
        }
    }

    /// kiln's flag naming the folder(s) of this kind.
    pub fn flag(self) -> &'static str {
        match self {
            PartKind::Form => "--forms-directory",
            PartKind::Property => "--properties-directory",
            PartKind::InstanceGroup => "--instance-groups-directory",
            PartKind::Job => "--jobs-directory",
            PartKind::RuntimeConfig => "--runtime-configs-directory",
            PartKind::BoshVariable => "--bosh-variables-directory",
        }
    }

    /// What one part is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            PartKind::Form => "form",
            PartKind::Property => "property blueprint",
            PartKind::InstanceGroup => "instance group",
            PartKind::Job => "job",
            PartKind::RuntimeConfig => "runtime config",
            PartKind::BoshVariable => "BOSH variable",
        }
    }
}

/// Whether kiln reads `path` as a part file: `*.yml`, except the `_order.yml` of a folder.
pub fn is_part_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.ends_with(".yml") && name != "_order.yml"
}

/// Everything a bake reads, already read.
#[derive(Debug, Clone, Default)]
pub struct BakeInput {
    /// The base file (`base.yml`).
    pub base: SourceFile,
    /// Part files per kind; a kind without an entry had no folder (its function then says
    /// which flag or folder is missing).
    pub parts: Vec<(PartKind, Vec<SourceFile>)>,
    /// The variables: files merged in order, then `--variable` pairs.
    pub variables: Map<String, Value>,
    /// `--version` (or the `version` file), for `$( version )`.
    pub version: Option<String>,
    /// Release entries (`name`, `version`, `file`, `sha1`, `commit_hash`) by release name,
    /// read from the release tarballs; `None` when there were none to read.
    pub releases: Option<Map<String, Value>>,
    /// Stemcell criteria (`os`, `version`) by operating system.
    pub stemcells: Map<String, Value>,
    /// The icon, base64, for `$( icon )`.
    pub icon: Option<String>,
}

/// Bakes the metadata: every action of the base file evaluated, the result read as YAML.
/// Errors name the file (and line, for the base file) and the action.
pub fn bake(input: &BakeInput) -> Result<Value> {
    let tile_name = match input.variables.get(interpolate::TILE_NAME) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let mut parts = std::collections::BTreeMap::new();
    for (kind, files) in &input.parts {
        parts.insert(*kind, parts::read(*kind, files, tile_name)?);
    }
    let context = interpolate::Context {
        input,
        parts: &parts,
    };
    let text = context.interpolate_text(&input.base.text, &input.base.path, 0)?;
    let value = crate::yaml::load(&text).map_err(|e| Error::Invalid {
        field: input.base.path.clone(),
        message: format!("the baked metadata is not readable YAML ({e}); check what the actions of the base file insert"),
    })?;
    if !value.is_object() {
        return Err(Error::Invalid {
            field: input.base.path.clone(),
            message: format!(
                "the baked metadata must be a map, found {}",
                parts::kind_of(&value)
            ),
        });
    }
    Ok(value)
}

/// Merges a variables file (a YAML map) into `variables`; later files win per key, as in kiln.
pub fn merge_variables_file(file: &SourceFile, variables: &mut Map<String, Value>) -> Result<()> {
    let value = crate::yaml::load(&file.text).map_err(|e| Error::Invalid {
        field: file.path.clone(),
        message: format!("not readable YAML: {e}"),
    })?;
    match value {
        Value::Object(map) => {
            variables.extend(map);
            Ok(())
        }
        Value::Null => Ok(()),
        other => Err(Error::Invalid {
            field: file.path.clone(),
            message: format!(
                "a variables file holds a map of names to values, not {}",
                parts::kind_of(&other)
            ),
        }),
    }
}

/// Adds a `--variable key=value` pair (the value a string, as kiln takes it).
pub fn add_variable_pair(pair: &str, variables: &mut Map<String, Value>) -> Result<()> {
    // kiln keeps only the text between the first and the second `=`; everything after the
    // first `=` is kept here, so a value may itself contain `=`.
    match pair.split_once('=') {
        Some((key, value)) if !key.is_empty() => {
            variables.insert(key.to_string(), Value::String(value.to_string()));
            Ok(())
        }
        _ => Err(Error::Invalid {
            field: "--variable".into(),
            message: format!("`{pair}` is not of the form key=value"),
        }),
    }
}

#[cfg(test)]
mod tests;
