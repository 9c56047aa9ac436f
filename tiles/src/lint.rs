//! Lint for tile authors: checks a product template against the rules Ops Manager enforces (or
//! silently depends on) and reports *findings* — data, never an `Error` — each naming the YAML
//! path, the rule, a severity, a message and a hint.
//!
//! Severity policy: `Error` where Ops Manager would refuse the tile or produce a broken
//! deployment (a form input pointing nowhere, a job template from an undeclared release, an
//! expression naming a property that does not exist); `Warning` where Ops Manager is lenient
//! (unknown property types, selector options declaring different named manifests, missing
//! label or rank).
//!
//! `(( ))` expressions are checked here with a self-contained scanner: brackets balance, quotes
//! close, and the property paths they name resolve against the blueprints. The scanner
//! ([`find_expressions`], [`expression_references`]) is deliberately small so a full expression
//! parser can take its place later.

use crate::metadata::{
    BlueprintKind, ErrandTemplate, InputKind, IntegerConstraints, JobType, MaxInFlight,
    ProductTemplate, PropertyBlueprint, PropertyInput, PropertyType,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

use crate::suggest::did_you_mean;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One lint result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// YAML path, e.g. `form_types[3].property_inputs[2].reference`.
    pub path: String,
    /// Stable rule id, e.g. `form-reference-resolves`.
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The closest name to one that names nothing (`crate::suggest`), also in `message`.
    #[serde(default)]
    pub suggestion: Option<String>,
    /// Where in the metadata text (from 1), when the finding's path or text is found there
    /// ([`locate`]).
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default)]
    pub column: Option<usize>,
    /// The text the finding is about inside a multi-line value (an expression in a manifest, a
    /// property key), so [`locate`] finds its line rather than the value's key.
    #[serde(skip)]
    pub anchor: Option<String>,
}

impl Finding {
    /// A finding not yet located; `hint` says what to do about it.
    pub fn new(
        severity: Severity,
        path: impl Into<String>,
        rule: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Finding {
        Finding {
            path: path.into(),
            rule: rule.into(),
            severity,
            message: message.into(),
            hint,
            suggestion: None,
            line: None,
            column: None,
            anchor: None,
        }
    }

    /// Adds the closest known name, if any: kept, and said at the end of the message.
    pub fn suggest(&mut self, suggestion: Option<&str>) {
        if let Some(s) = suggestion {
            self.message
                .push_str(&crate::suggest::did_you_mean_text(Some(s)));
            self.suggestion = Some(s.to_owned());
        }
    }

    /// With the text inside the value at `path` this finding is about.
    pub fn anchored(mut self, anchor: impl Into<String>) -> Finding {
        self.anchor = Some(anchor.into());
        self
    }
}

/// Gives each finding the line and column of its path (or of its anchor text inside the value
/// there) in `text`, the document `positions` indexes. Findings already located keep theirs.
pub fn locate(findings: &mut [Finding], positions: &crate::yaml::Positions, text: &str) {
    for f in findings.iter_mut().filter(|f| f.line.is_none()) {
        if let Some(p) = positions.locate(&f.path, f.anchor.as_deref(), text) {
            f.line = Some(p.line);
            f.column = Some(p.column);
        }
    }
}

/// Rule ids, so callers and tests can match on them.
pub mod rules {
    pub const YAML: &str = "yaml-readable";
    pub const SHAPE: &str = "metadata-shape";
    pub const REQUIRED_KEY: &str = "required-key";
    pub const LABEL_AND_RANK: &str = "label-and-rank";
    pub const STEMCELL_CRITERIA: &str = "stemcell-criteria";
    pub const FORM_REFERENCE: &str = "form-reference-resolves";
    pub const SELECTOR_DEFAULT: &str = "selector-default";
    pub const SELECTOR_NAMED_MANIFESTS: &str = "selector-named-manifests";
    pub const ERRAND_EXISTS: &str = "errand-exists";
    pub const TEMPLATE_RELEASE: &str = "template-release-declared";
    pub const EXPRESSION_SYNTAX: &str = "expression-syntax";
    pub const EXPRESSION_REFERENCE: &str = "expression-reference-resolves";
    pub const INTEGER_CONSTRAINTS: &str = "integer-constraints";
    pub const OPTIONS_DEFAULT: &str = "options-default";
    pub const BOOLEAN_DEFAULT: &str = "boolean-default";
    pub const DUPLICATE_NAME: &str = "duplicate-name";
    pub const UNKNOWN_TYPE: &str = "unknown-property-type";
    pub const RESERVED_NAME: &str = "reserved-name";
    pub const ZERO_IF: &str = "zero-if-resolves";
    pub const MAX_IN_FLIGHT: &str = "max-in-flight";
    pub const PRODUCT_VERSION_REQUIREMENT: &str = "product-version-requirement";
    pub const JOB_SPEC_PROPERTY: &str = "job-spec-property-declared";
    pub const JOB_SPEC_JOB: &str = "job-spec-job-exists";
    pub const REGEX: &str = "must-match-regex-runs";
}

/// The job-spec check of a tile's templates (`crate::job_specs::check_template`) as lint
/// findings: warnings, since BOSH deploys such a manifest and ignores what its spec lacks.
pub fn lint_job_specs(t: &ProductTemplate, specs: &crate::job_specs::JobSpecs) -> Vec<Finding> {
    use crate::job_specs::SpecFindingKind;
    crate::job_specs::check_template(t, specs)
        .findings
        .into_iter()
        .map(|f| {
            let (path, rule, hint, suggestion, anchor) = match &f.kind {
                SpecFindingKind::UndeclaredProperty {
                    property,
                    suggestion,
                } => (
                    format!("{}.manifest.{property}", f.at),
                    rules::JOB_SPEC_PROPERTY,
                    "correct the property name, or name the release version whose spec declares it",
                    suggestion,
                    // The key as written in the manifest text: its last segment.
                    property.rsplit('.').next().map(|k| format!("{k}:")),
                ),
                SpecFindingKind::MissingJob { suggestion } => (
                    format!("{}.name", f.at),
                    rules::JOB_SPEC_JOB,
                    "correct the job name, or name the release that contains the job",
                    suggestion,
                    None,
                ),
            };
            // The message already ends with the suggestion (`job_specs` words it).
            let mut finding =
                Finding::new(Severity::Warning, path, rule, f.message, Some(hint.into()));
            finding.suggestion = suggestion.clone();
            finding.anchor = anchor;
            finding
        })
        .collect()
}

/// True when any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// Lints metadata text: unreadable YAML or a wrong shape becomes a single error finding.
/// Findings carry their line and column.
pub fn lint_yaml(text: &str) -> Vec<Finding> {
    lint_yaml_with(text, |_| Vec::new())
}

/// Like [`lint_yaml`], with the findings `more` adds about the loaded template (the job-spec
/// check, what only a whole tile shows), all located with the one position index of `text`.
pub fn lint_yaml_with(
    text: &str,
    more: impl FnOnce(&ProductTemplate) -> Vec<Finding>,
) -> Vec<Finding> {
    let loaded = crate::yaml::load_indexed(text, &crate::yaml::Limits::default());
    let (value, repairs, positions) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            let mut f = Finding::new(
                Severity::Error,
                match &e {
                    crate::Error::Yaml { at, .. } => at.clone(),
                    _ => String::new(),
                },
                rules::YAML,
                e.to_string(),
                Some("the metadata must be one readable YAML document".into()),
            );
            if let crate::Error::Yaml { at, .. } = &e {
                (f.line, f.column) = line_and_column(at).unzip();
            }
            return vec![f];
        }
    };
    let mut findings = match ProductTemplate::from_value(&value) {
        Ok(t) => {
            let mut findings = legacy_forms(&value, &repairs);
            findings.extend(lint(&t));
            findings.extend(more(&t));
            findings
        }
        Err(crate::Error::Shape { path, message }) => vec![Finding::new(
            Severity::Error,
            path,
            rules::SHAPE,
            message,
            Some("fix the structure of this key; see the tile metadata reference".into()),
        )],
        Err(e) => vec![Finding::new(
            Severity::Error,
            String::new(),
            rules::YAML,
            e.to_string(),
            Some("the metadata must be one readable YAML document".into()),
        )],
    };
    locate(&mut findings, &positions, text);
    findings
}

/// `line 3 column 7` (how `yaml` words where it stopped) → (3, 7).
fn line_and_column(at: &str) -> Option<(usize, usize)> {
    let rest = at.strip_prefix("line ")?;
    let (line, column) = rest.split_once(" column ")?;
    Some((line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// Warnings for what Ops Manager accepts but the current format spells otherwise: Tileworks
/// reads these as Ops Manager does (see `metadata` and `yaml`), and says so.
fn legacy_forms(value: &Value, repairs: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    for at in repairs {
        let mut f = Finding::new(
            Severity::Warning,
            at.clone(),
            rules::YAML,
            "a quoted scalar's continuation line is indented less than its key (libyaml, which Ops Manager uses, reads it; the YAML spec does not)",
            Some("indent the continuation lines and the closing quote past the key".into()),
        );
        (f.line, f.column) = line_and_column(at).unzip();
        out.push(f);
    }
    let mut warn = |path: String, rule: &str, message: String, hint: &str| {
        out.push(Finding::new(
            Severity::Warning,
            path,
            rule,
            message,
            Some(hint.into()),
        ))
    };
    if value.get("stemcell_criteria").is_none() {
        if let Some(s) = value.get("stemcell") {
            let read = crate::metadata::StemcellCriteria::from_legacy_stemcell(s)
                .map(|c| {
                    format!(
                        "read as stemcell_criteria {{os: {}, version: '{}'}}",
                        c.os, c.version
                    )
                })
                .unwrap_or_else(|| "its name gives no OS".into());
            warn(
                "stemcell".into(),
                rules::STEMCELL_CRITERIA,
                format!("`stemcell:` is the pre-1.5 format; {read}"),
                "declare `stemcell_criteria: {os, version}`",
            );
        }
    }
    let verifiers = value
        .get("install_time_verifiers")
        .and_then(Value::as_array);
    for (i, v) in verifiers.into_iter().flatten().enumerate() {
        if v.get("properties").is_some_and(Value::is_array) {
            warn(
                format!("install_time_verifiers[{i}].properties"),
                rules::SHAPE,
                "verifier properties as a list of names is the pre-1.5 format".into(),
                "give `properties` as a map of settings",
            );
        }
    }
    let forms = value.get("form_types").and_then(Value::as_array);
    for (f, form) in forms.into_iter().flatten().enumerate() {
        let inputs = form.get("property_inputs").and_then(Value::as_array);
        for (i, input) in inputs.into_iter().flatten().enumerate() {
            let Some(r) = input.get("reference").and_then(Value::as_str) else {
                continue;
            };
            let bare = r.strip_prefix('.').unwrap_or(r);
            if !bare.is_empty() && !bare.contains('.') {
                warn(
                    format!("form_types[{f}].property_inputs[{i}].reference"),
                    rules::FORM_REFERENCE,
                    format!("`{r}` is the pre-1.5 spelling of `.properties.{bare}`"),
                    "write `.properties.NAME`",
                );
            }
        }
    }
    out
}

/// Lints a loaded product template. Findings come in a stable order (by rule group, then
/// metadata order).
pub fn lint(t: &ProductTemplate) -> Vec<Finding> {
    let mut l = Linter { t, out: Vec::new() };
    l.top_level();
    l.duplicates();
    l.blueprints();
    l.forms();
    l.jobs();
    l.errands();
    l.expressions();
    l.out
}

struct Linter<'a> {
    t: &'a ProductTemplate,
    out: Vec<Finding>,
}

/// Bare words usable in a job's own manifests (job-context accessors) and literals.
const JOB_ACCESSORS: &[&str] = &[
    "name",
    "cpu",
    "ram",
    "ephemeral_disk",
    "persistent_disk",
    "instances",
    "any_instances",
    "subnet_cidrs",
    "index",
    "true",
    "false",
    "nil",
    "null",
];

/// Accessors of a job reached as `.JOB.X` that are not properties.
const OTHER_JOB_ACCESSORS: &[&str] = &[
    "name",
    "instances",
    "any_instances",
    "cpu",
    "ram",
    "ephemeral_disk",
    "persistent_disk",
    "subnet_cidrs",
    "ips",
    "first_ip",
];

/// Product-level accessors: `.deployment_name`, `..P.network_name`, `..P.present?`.
const PRODUCT_ACCESSORS: &[&str] = &[
    "deployment_name",
    "network_name",
    "present?",
    "name",
    "service_network",
    "availability_zones",
    "singleton_availability_zone",
];

const DOLLAR_CONTEXTS: &[&str] = &["ops_manager", "director", "runtime", "self"];

impl<'a> Linter<'a> {
    fn push(
        &mut self,
        severity: Severity,
        path: impl Into<String>,
        rule: &str,
        message: impl Into<String>,
        hint: Option<&str>,
    ) {
        self.out.push(Finding::new(
            severity,
            path,
            rule,
            message,
            hint.map(str::to_string),
        ));
    }

    /// The finding just pushed, to add a suggestion or an anchor to.
    fn last(&mut self) -> &mut Finding {
        self.out.last_mut().expect("a finding was just pushed")
    }

    /// Adds the closest known name to the finding just pushed.
    fn suggest(&mut self, suggestion: Option<&str>) {
        self.last().suggest(suggestion);
    }

    fn error(
        &mut self,
        path: impl Into<String>,
        rule: &str,
        message: impl Into<String>,
        hint: &str,
    ) {
        self.push(Severity::Error, path, rule, message, Some(hint));
    }

    fn warn(
        &mut self,
        path: impl Into<String>,
        rule: &str,
        message: impl Into<String>,
        hint: &str,
    ) {
        self.push(Severity::Warning, path, rule, message, Some(hint));
    }

    // -- top level ------------------------------------------------------------------------

    fn top_level(&mut self) {
        let t = self.t;
        for (key, value) in [
            ("name", &t.name),
            ("product_version", &t.product_version),
            ("metadata_version", &t.metadata_version),
        ] {
            if value.trim().is_empty() {
                self.error(
                    key,
                    rules::REQUIRED_KEY,
                    format!("`{key}` is required"),
                    "add it at the top level of the metadata",
                );
            }
        }
        for (key, present) in [
            (
                "minimum_version_for_upgrade",
                t.minimum_version_for_upgrade.is_some(),
            ),
            ("icon_image", t.icon_image.is_some()),
        ] {
            if !present {
                self.warn(
                    key,
                    rules::REQUIRED_KEY,
                    format!("`{key}` is missing"),
                    "Ops Manager documents this key as required",
                );
            }
        }
        if t.label.as_deref().is_none_or(|l| l.trim().is_empty()) {
            self.warn(
                "label",
                rules::LABEL_AND_RANK,
                "no `label`: the dashboard shows the bare product name",
                "add a human-readable `label`",
            );
        }
        if t.rank.is_none() {
            self.warn(
                "rank",
                rules::LABEL_AND_RANK,
                "no `rank`: the tile's place on the dashboard is arbitrary",
                "add `rank` (1..90; the BOSH Director tile is 100)",
            );
        }
        match &t.stemcell_criteria {
            None if t.job_types.is_empty() => self.warn(
                "stemcell_criteria",
                rules::STEMCELL_CRITERIA,
                "no `stemcell_criteria`",
                "even runtime-config-only tiles usually declare one",
            ),
            None => self.error(
                "stemcell_criteria",
                rules::STEMCELL_CRITERIA,
                "`stemcell_criteria` is required for a tile with job types",
                "add `stemcell_criteria: {os: ubuntu-jammy, version: '1.x'}`",
            ),
            Some(s) => {
                for (key, v) in [("os", &s.os), ("version", &s.version)] {
                    if v.trim().is_empty() {
                        self.error(
                            format!("stemcell_criteria.{key}"),
                            rules::STEMCELL_CRITERIA,
                            format!("stemcell criteria need `{key}`"),
                            "name the stemcell OS and version the product is built for",
                        );
                    }
                }
            }
        }
        for (i, s) in t.additional_stemcells_criteria.iter().enumerate() {
            if s.os.trim().is_empty() {
                self.error(
                    format!("additional_stemcells_criteria[{i}].os"),
                    rules::STEMCELL_CRITERIA,
                    "additional stemcell criteria need `os`",
                    "name the stemcell OS",
                );
            }
        }
        for (i, r) in t.requires_product_versions.iter().enumerate() {
            if let Err(e) = crate::product_versions::VersionRequirement::parse(&r.version) {
                let message = message_of(e);
                self.error(
                    format!("requires_product_versions[{i}].version"),
                    rules::PRODUCT_VERSION_REQUIREMENT,
                    format!("requirement on `{}`: {message}", r.name),
                    "write constraints like '~> 2.4' or '>= 1.12, < 2'",
                );
            }
        }
        for (i, r) in t.releases.iter().enumerate() {
            if r.version.trim().is_empty() {
                self.error(
                    format!("releases[{i}].version"),
                    rules::REQUIRED_KEY,
                    format!("release `{}` has no version", r.name),
                    "the version must equal the release tarball's version",
                );
            }
        }
    }

    // -- duplicates ---------------------------------------------------------------------------

    fn dup_check<'n>(&mut self, what: &str, path: &str, names: impl Iterator<Item = &'n str>) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.enumerate() {
            if let Some(first) = seen.get(name) {
                self.error(
                    format!("{path}[{i}].name"),
                    rules::DUPLICATE_NAME,
                    format!("{what} `{name}` is declared twice (first at {path}[{first}])"),
                    "names must be unique; rename or remove one",
                );
            } else {
                seen.insert(name, i);
            }
        }
    }

    fn duplicates(&mut self) {
        let t = self.t;
        self.dup_check(
            "property blueprint",
            "property_blueprints",
            t.property_blueprints.iter().map(|b| b.name.as_str()),
        );
        self.dup_check(
            "form type",
            "form_types",
            t.form_types.iter().map(|f| f.name.as_str()),
        );
        self.dup_check(
            "job type",
            "job_types",
            t.job_types.iter().map(|j| j.name.as_str()),
        );
        self.dup_check(
            "release",
            "releases",
            t.releases.iter().map(|r| r.name.as_str()),
        );
        self.dup_check(
            "variable",
            "variables",
            t.variables.iter().map(|v| v.name.as_str()),
        );
        self.dup_check(
            "runtime config",
            "runtime_configs",
            t.runtime_configs.iter().map(|r| r.name.as_str()),
        );
        for (j, job) in t.job_types.iter().enumerate() {
            self.dup_check(
                "job property blueprint",
                &format!("job_types[{j}].property_blueprints"),
                job.property_blueprints.iter().map(|b| b.name.as_str()),
            );
            self.dup_check(
                "job template",
                &format!("job_types[{j}].templates"),
                job.templates.iter().map(|b| b.name.as_str()),
            );
        }
    }

    // -- blueprints ---------------------------------------------------------------------------

    fn blueprints(&mut self) {
        let t = self.t;
        for (i, bp) in t.property_blueprints.iter().enumerate() {
            self.blueprint(bp, &format!("property_blueprints[{i}]"));
        }
        for (j, job) in t.job_types.iter().enumerate() {
            for (i, bp) in job.property_blueprints.iter().enumerate() {
                self.blueprint(bp, &format!("job_types[{j}].property_blueprints[{i}]"));
            }
        }
    }

    fn blueprint(&mut self, bp: &PropertyBlueprint, path: &str) {
        if bp.name == "current_record" {
            self.error(
                format!("{path}.name"),
                rules::RESERVED_NAME,
                "`current_record` is reserved for collection named manifests",
                "choose another name",
            );
        }
        if let PropertyType::Other(name) = &bp.property_type {
            self.warn(
                format!("{path}.type"),
                rules::UNKNOWN_TYPE,
                format!("unknown property type `{name}`"),
                "known types include string, integer, boolean, selector, collection, secret, rsa_cert_credentials, …",
            );
        }
        if bp.property_type.is_integer() || bp.integer_constraints().is_some() {
            let default = match &bp.default {
                None => None,
                Some(v) => match crate::metadata::decode_int(v) {
                    Some(n) => Some(n),
                    None => {
                        if bp.property_type.is_integer() {
                            self.error(
                                format!("{path}.default"),
                                rules::INTEGER_CONSTRAINTS,
                                format!("default `{v}` of `{}` is not an integer", bp.name),
                                "give an integer default",
                            );
                        }
                        None
                    }
                },
            };
            if let Some(c) = bp.integer_constraints() {
                self.integer_constraints(c, default, path);
            }
        }
        if bp.property_type.uses_options() {
            self.options(bp, path);
        }
        if bp.property_type.as_str() == "boolean" {
            if let Some(d) = bp.default.as_ref().filter(|d| {
                crate::properties::types::coerce("boolean", (*d).clone())
                    .as_bool()
                    .is_none()
            }) {
                // Seen in real tiles: `default: (( .properties.X.value ))` naming no property.
                self.warn(
                    format!("{path}.default"),
                    rules::BOOLEAN_DEFAULT,
                    format!("default `{d}` of boolean `{}` is not true or false; the property starts unset", bp.name),
                    "give `true` or `false`",
                );
            }
        }
        self.string_constraints(bp, path);
        for (i, rd) in bp.resource_definitions.iter().enumerate() {
            if let Some(c) = &rd.constraints {
                self.integer_constraints(
                    c,
                    rd.default,
                    &format!("{path}.resource_definitions[{i}]"),
                );
            }
        }
        match &bp.kind {
            BlueprintKind::Simple => {}
            BlueprintKind::Selector { option_templates } => {
                self.dup_check(
                    "option template",
                    &format!("{path}.option_templates"),
                    option_templates.iter().map(|o| o.name.as_str()),
                );
                if option_templates.is_empty() {
                    self.error(
                        format!("{path}.option_templates"),
                        rules::SELECTOR_DEFAULT,
                        format!("selector `{}` has no option templates", bp.name),
                        "add at least one option under `option_templates`",
                    );
                }
                self.selector_default(bp, path);
                self.selector_named_manifests(bp, path);
                for (o, option) in option_templates.iter().enumerate() {
                    let opath = format!("{path}.option_templates[{o}]");
                    self.dup_check(
                        "option property blueprint",
                        &format!("{opath}.property_blueprints"),
                        option.property_blueprints.iter().map(|b| b.name.as_str()),
                    );
                    for (i, sub) in option.property_blueprints.iter().enumerate() {
                        self.blueprint(sub, &format!("{opath}.property_blueprints[{i}]"));
                    }
                }
            }
            BlueprintKind::Collection {
                property_blueprints,
                named_manifests,
            } => {
                self.dup_check(
                    "collection sub-property",
                    &format!("{path}.property_blueprints"),
                    property_blueprints.iter().map(|b| b.name.as_str()),
                );
                self.dup_check(
                    "named manifest",
                    &format!("{path}.named_manifests"),
                    named_manifests.iter().map(|b| b.name.as_str()),
                );
                for (i, sub) in property_blueprints.iter().enumerate() {
                    self.blueprint(sub, &format!("{path}.property_blueprints[{i}]"));
                }
            }
        }
    }

    /// A `must_match_regex` Tileworks cannot run (Ruby syntax it does not translate: look-around,
    /// backreferences, atomic groups, …; or no valid regex at all) leaves the field unchecked.
    /// A warning: Ops Manager's Ruby may well run it. The browser's engine is a subset of the
    /// server's (`ruby_regex::is_match`), so the server's compile is the one that counts.
    #[cfg(not(target_arch = "wasm32"))]
    fn string_constraints(&mut self, bp: &PropertyBlueprint, path: &str) {
        for (i, rule) in bp.string_constraints().iter().enumerate() {
            let Some(pattern) = &rule.must_match_regex else {
                continue;
            };
            if let Err(e) = crate::properties::ruby_regex::compile(pattern) {
                let why = message_of(e);
                self.warn(
                    format!("{path}.constraints[{i}].must_match_regex"),
                    rules::REGEX,
                    format!("Tileworks does not check `{}` against this pattern: {why}", bp.name),
                    "write the pattern without look-around, backreferences or atomic groups (Tileworks runs Ruby patterns on a linear-time engine)",
                );
            }
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn string_constraints(&mut self, _: &PropertyBlueprint, _: &str) {}

    fn integer_constraints(&mut self, c: &IntegerConstraints, default: Option<i64>, path: &str) {
        let cpath = format!("{path}.constraints");
        let rule = rules::INTEGER_CONSTRAINTS;
        if let (Some(min), Some(max)) = (c.min, c.max) {
            if min > max {
                self.error(
                    &cpath,
                    rule,
                    format!("min {min} is greater than max {max}"),
                    "no value could satisfy both bounds",
                );
            }
        }
        if let Some(m) = c.modulo {
            if m <= 0 {
                self.error(
                    &cpath,
                    rule,
                    format!("modulo {m} must be positive"),
                    "use a positive divisor",
                );
            }
        }
        if c.may_only_be_odd_or_zero && c.power_of_two {
            if let (Some(min), Some(max)) = (c.min, c.max) {
                if min > 1 || max < 1 {
                    self.error(
                        &cpath,
                        rule,
                        "odd-or-zero and power-of-two together only allow 0 and 1, outside min..max",
                        "drop one of the two rules",
                    );
                }
            }
        }
        let Some(d) = default else { return };
        let dpath = format!("{path}.default");
        let zero_ok = d == 0 && c.zero_or_min.is_some();
        if let Some(min) = c.min {
            if d < min && !zero_ok {
                self.error(
                    &dpath,
                    rule,
                    format!("default {d} is below min {min}"),
                    "raise the default or lower `min`",
                );
            }
        }
        if let Some(zm) = c.zero_or_min {
            if d != 0 && d < zm {
                self.error(
                    &dpath,
                    rule,
                    format!("default {d} is neither 0 nor at least {zm} (zero_or_min)"),
                    "use 0 or a value at least `zero_or_min`",
                );
            }
        }
        if let Some(max) = c.max {
            if d > max {
                self.error(
                    &dpath,
                    rule,
                    format!("default {d} is above max {max}"),
                    "lower the default or raise `max`",
                );
            }
        }
        if let Some(m) = c.modulo.filter(|m| *m > 0) {
            if d % m != 0 {
                self.error(
                    &dpath,
                    rule,
                    format!("default {d} is not a multiple of {m} (modulo)"),
                    "use a multiple of `modulo`",
                );
            }
        }
        if c.power_of_two && d > 0 && (d & (d - 1)) != 0 {
            self.error(
                &dpath,
                rule,
                format!("default {d} is not a power of two"),
                "use 1, 2, 4, 8, …",
            );
        }
        if c.may_only_be_odd_or_zero && d != 0 && d % 2 == 0 {
            self.error(
                &dpath,
                rule,
                format!("default {d} is even (may_only_be_odd_or_zero)"),
                "use 0 or an odd number",
            );
        }
    }

    fn options(&mut self, bp: &PropertyBlueprint, path: &str) {
        if bp.options.is_empty() {
            self.error(
                format!("{path}.options"),
                rules::OPTIONS_DEFAULT,
                format!("`{}` ({}) has no `options`", bp.name, bp.property_type),
                "list the choices as `options: [{name, label}]`",
            );
            return;
        }
        let names: BTreeSet<String> = bp.options.iter().map(|o| o.name_text()).collect();
        let defaults: Vec<Value> = match &bp.default {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(v) => vec![v.clone()],
        };
        if bp.property_type == PropertyType::DropdownSelect && defaults.len() > 1 {
            self.error(
                format!("{path}.default"),
                rules::OPTIONS_DEFAULT,
                "a dropdown_select default must be a single option name",
                "pick one option",
            );
        }
        for d in defaults {
            let text = crate::metadata::decode_text(&d).unwrap_or_default();
            if !names.contains(&text) {
                // Ops Manager imports the tile and leaves the property unset; so do we.
                self.warn(
                    format!("{path}.default"),
                    rules::OPTIONS_DEFAULT,
                    format!(
                        "default `{text}` of `{}` is not one of its options ({}); the property starts unset",
                        bp.name,
                        names.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    "defaults name an option's `name`",
                );
                self.suggest(did_you_mean(&text, names.iter().map(String::as_str)));
            }
        }
    }

    fn selector_default(&mut self, bp: &PropertyBlueprint, path: &str) {
        let Some(default) = &bp.default else { return };
        let values: Vec<&str> = bp
            .option_templates()
            .iter()
            .map(|o| o.select_value.as_str())
            .collect();
        let dpath = format!("{path}.default");
        match default {
            Value::Bool(b) => {
                // `default: No` unquoted is a YAML 1.1 boolean; Ops Manager then compares
                // `false` with the select_values and finds nothing.
                let words: &[&str] = if *b {
                    &["yes", "true", "on"]
                } else {
                    &["no", "false", "off"]
                };
                if values
                    .iter()
                    .any(|v| words.contains(&v.to_ascii_lowercase().as_str()))
                {
                    self.warn(
                        dpath,
                        rules::SELECTOR_DEFAULT,
                        format!("default of selector `{}` is the boolean {b}, not text", bp.name),
                        "quote it (`default: 'No'`): unquoted yes/no/on/off are booleans in YAML 1.1",
                    );
                } else {
                    self.warn(
                        dpath,
                        rules::SELECTOR_DEFAULT,
                        format!(
                            "default of selector `{}` is the boolean {b}, which names no option; the selector starts unset",
                            bp.name
                        ),
                        "set the default to one option's `select_value`, quoted",
                    );
                }
            }
            other => {
                let text = crate::metadata::decode_text(other).unwrap_or_default();
                if values.contains(&text.as_str()) {
                    return;
                }
                if bp.option_template(&text).is_some() {
                    self.warn(
                        dpath,
                        rules::SELECTOR_DEFAULT,
                        format!(
                            "default `{text}` of selector `{}` is an option name, not a select_value",
                            bp.name
                        ),
                        "Ops Manager tolerates it, but the documented form is the option's `select_value`",
                    );
                } else {
                    // Ops Manager imports the tile and leaves the selector unset; so do we.
                    self.warn(
                        dpath,
                        rules::SELECTOR_DEFAULT,
                        format!(
                            "default `{text}` of selector `{}` names no option (select_values: {}); the selector starts unset",
                            bp.name,
                            values.join(", ")
                        ),
                        "set the default to one option's `select_value`",
                    );
                    self.suggest(did_you_mean(&text, values.iter().copied()));
                }
            }
        }
    }

    fn selector_named_manifests(&mut self, bp: &PropertyBlueprint, path: &str) {
        let options = bp.option_templates();
        let sets: Vec<BTreeSet<&str>> = options
            .iter()
            .map(|o| o.named_manifests.iter().map(|m| m.name.as_str()).collect())
            .collect();
        let all: BTreeSet<&str> = sets.iter().flatten().copied().collect();
        for (o, (option, set)) in options.iter().zip(&sets).enumerate() {
            let missing: Vec<&str> = all.difference(set).copied().collect();
            if !missing.is_empty() {
                self.warn(
                    format!("{path}.option_templates[{o}].named_manifests"),
                    rules::SELECTOR_NAMED_MANIFESTS,
                    format!(
                        "option `{}` of selector `{}` lacks named manifest(s) {} that other options declare",
                        option.name,
                        bp.name,
                        missing.join(", ")
                    ),
                    "declare the same named_manifests in every option (an empty `manifest:` is fine); a missing one renders as null",
                );
            }
        }
    }

    // -- forms --------------------------------------------------------------------------------

    fn forms(&mut self) {
        let t = self.t;
        for (f, form) in t.form_types.iter().enumerate() {
            let fpath = format!("form_types[{f}]");
            if form.label.trim().is_empty() {
                self.warn(
                    format!("{fpath}.label"),
                    rules::REQUIRED_KEY,
                    format!("form `{}` has no label", form.name),
                    "the label is the tab title",
                );
            }
            for (i, input) in form.property_inputs.iter().enumerate() {
                self.form_input(input, &format!("{fpath}.property_inputs[{i}]"));
            }
        }
    }

    fn form_input(&mut self, input: &PropertyInput, path: &str) {
        let t = self.t;
        let rpath = format!("{path}.reference");
        let Some(found) = t.property(&input.reference) else {
            self.error(
                rpath,
                rules::FORM_REFERENCE,
                format!("`{}` names no property blueprint", input.reference),
                "references are `.properties.NAME`, `.JOB.NAME` or `.properties.SELECTOR.OPTION.NAME`",
            );
            self.suggest(closest_reference(t, &input.reference).as_deref());
            return;
        };
        let bp = found.blueprint;
        match &input.kind {
            InputKind::Simple => {}
            InputKind::Selector {
                selector_property_inputs,
            } => {
                if bp.property_type != PropertyType::Selector {
                    self.error(
                        rpath,
                        rules::FORM_REFERENCE,
                        format!(
                            "`{}` has selector inputs but is a {}",
                            input.reference, bp.property_type
                        ),
                        "only selectors take `selector_property_inputs`",
                    );
                    return;
                }
                for (s, sel) in selector_property_inputs.iter().enumerate() {
                    let spath = format!("{path}.selector_property_inputs[{s}]");
                    let prefix = format!("{}.", found.reference);
                    let option = sel
                        .reference
                        .strip_prefix('.')
                        .map(|r| format!(".{r}"))
                        .filter(|r| r.starts_with(&prefix))
                        .and_then(|_| bp.option_template(sel.option_name()));
                    if option.is_none() {
                        // Ops Manager imports the tile and shows the form without it.
                        self.warn(
                            format!("{spath}.reference"),
                            rules::FORM_REFERENCE,
                            format!(
                                "`{}` names no option of selector `{}`; the form leaves it out",
                                sel.reference, found.reference
                            ),
                            "selector inputs are `SELECTOR_REFERENCE.OPTION_NAME` (the option template name)",
                        );
                        let options: Vec<String> = bp
                            .option_templates()
                            .iter()
                            .map(|o| format!("{}.{}", found.reference, o.name))
                            .collect();
                        let written = format!(".{}", sel.reference.trim_start_matches('.'));
                        self.suggest(did_you_mean(&written, options.iter().map(String::as_str)));
                        continue;
                    }
                    for (i, sub) in sel.property_inputs.iter().enumerate() {
                        self.form_input(sub, &format!("{spath}.property_inputs[{i}]"));
                    }
                }
            }
            InputKind::Collection { property_inputs } => {
                if bp.property_type != PropertyType::Collection {
                    self.error(
                        rpath,
                        rules::FORM_REFERENCE,
                        format!(
                            "`{}` has nested property_inputs but is a {}",
                            input.reference, bp.property_type
                        ),
                        "only collections take nested `property_inputs`",
                    );
                    return;
                }
                for (i, sub) in property_inputs.iter().enumerate() {
                    let name = sub.reference.rsplit('.').next().unwrap_or_default();
                    if !bp.sub_blueprints().iter().any(|b| b.name == name) {
                        self.error(
                            format!("{path}.property_inputs[{i}].reference"),
                            rules::FORM_REFERENCE,
                            format!(
                                "`{}` is not a sub-property of collection `{}`",
                                sub.reference, found.reference
                            ),
                            "collection inputs name a sub-blueprint by its bare name",
                        );
                        let names = bp.sub_blueprints().iter().map(|b| b.name.as_str());
                        self.suggest(did_you_mean(name, names));
                    }
                }
            }
        }
    }

    // -- jobs ---------------------------------------------------------------------------------

    fn jobs(&mut self) {
        let t = self.t;
        for (j, job) in t.job_types.iter().enumerate() {
            let jpath = format!("job_types[{j}]");
            let releases = || t.releases.iter().map(|r| r.name.as_str());
            if let Some(r) = &job.release {
                if t.release(r).is_none() {
                    self.error(
                        format!("{jpath}.release"),
                        rules::TEMPLATE_RELEASE,
                        format!("release `{r}` is not declared in `releases`"),
                        "declare the release or fix the name",
                    );
                    self.suggest(did_you_mean(r, releases()));
                }
            }
            for (k, tpl) in job.templates.iter().enumerate() {
                let release = if tpl.release.is_empty() {
                    job.release.as_deref().unwrap_or_default()
                } else {
                    tpl.release.as_str()
                };
                if release.is_empty() {
                    self.error(
                        format!("{jpath}.templates[{k}].release"),
                        rules::TEMPLATE_RELEASE,
                        format!("job template `{}` names no release", tpl.name),
                        "add `release:` naming one of `releases`",
                    );
                } else if t.release(release).is_none() {
                    self.error(
                        format!("{jpath}.templates[{k}].release"),
                        rules::TEMPLATE_RELEASE,
                        format!(
                            "job template `{}` comes from release `{release}`, which is not declared in `releases`",
                            tpl.name
                        ),
                        "declare the release or fix the name",
                    );
                    self.suggest(did_you_mean(release, releases()));
                }
            }
            if let Some(MaxInFlight::Other(text)) = &job.max_in_flight {
                self.error(
                    format!("{jpath}.max_in_flight"),
                    rules::MAX_IN_FLIGHT,
                    format!("max_in_flight `{text}` is neither a number nor a percentage"),
                    "use an integer or `N%`",
                );
            }
            if let Some(def) = &job.instance_definition {
                let ipath = format!("{jpath}.instance_definition");
                if let Some(c) = &def.constraints {
                    self.integer_constraints(c, def.default, &ipath);
                }
                if let Some(z) = &def.zero_if {
                    self.zero_if(z, &format!("{ipath}.zero_if"));
                }
            }
            for (r, rd) in job.resource_definitions.iter().enumerate() {
                if let Some(c) = &rd.constraints {
                    self.integer_constraints(
                        c,
                        rd.default,
                        &format!("{jpath}.resource_definitions[{r}]"),
                    );
                }
            }
        }
    }

    fn zero_if(&mut self, z: &crate::metadata::ZeroIf, path: &str) {
        let Some(found) = self.t.property(&z.property_reference) else {
            self.error(
                format!("{path}.property_reference"),
                rules::ZERO_IF,
                format!("`{}` names no property blueprint", z.property_reference),
                "zero_if refers to a property, usually a selector",
            );
            self.suggest(closest_reference(self.t, &z.property_reference).as_deref());
            return;
        };
        if found.blueprint.property_type == PropertyType::Selector {
            for v in &z.property_values {
                if found.blueprint.option_by_select_value(v).is_none() {
                    self.error(
                        format!("{path}.property_values"),
                        rules::ZERO_IF,
                        format!(
                            "`{v}` is not a select_value of selector `{}`",
                            z.property_reference
                        ),
                        "zero_if compares the selector's `select_value`s",
                    );
                    let values = found.blueprint.option_templates().iter();
                    self.suggest(did_you_mean(v, values.map(|o| o.select_value.as_str())));
                    self.last().anchor = Some(v.clone());
                }
            }
        }
    }

    // -- errands ------------------------------------------------------------------------------

    fn errands(&mut self) {
        let t = self.t;
        for (key, list) in [
            ("post_deploy_errands", &t.post_deploy_errands),
            ("pre_delete_errands", &t.pre_delete_errands),
        ] {
            for (i, e) in list.iter().enumerate() {
                self.errand(e, &format!("{key}[{i}]"));
            }
        }
    }

    fn errand(&mut self, e: &ErrandTemplate, path: &str) {
        let t = self.t;
        if e.colocated {
            let hosts: Vec<&JobType> = t
                .job_types
                .iter()
                .filter(|j| j.template(&e.name).is_some())
                .collect();
            if hosts.is_empty() {
                self.error(
                    format!("{path}.name"),
                    rules::ERRAND_EXISTS,
                    format!(
                        "colocated errand `{}` is not a job template of any job type",
                        e.name
                    ),
                    "a colocated errand names a BOSH job placed in some job type's `templates`",
                );
                let templates = t
                    .job_types
                    .iter()
                    .flat_map(|j| j.templates.iter().map(|tpl| tpl.name.as_str()));
                self.suggest(did_you_mean(&e.name, templates));
            }
            for (k, inst) in e.instances.iter().enumerate() {
                let job = inst.split('/').next().unwrap_or_default();
                if !hosts.iter().any(|j| j.name == job) {
                    self.error(
                        format!("{path}.instances[{k}]"),
                        rules::ERRAND_EXISTS,
                        format!("`{inst}`: job type `{job}` does not carry errand `{}`", e.name),
                        "instances are `JOB` or `JOB/first` of a job type containing the errand's template",
                    );
                    self.suggest(did_you_mean(job, hosts.iter().map(|j| j.name.as_str())));
                }
            }
        } else {
            match t.job_type(&e.name) {
                Some(j) if j.errand => {}
                Some(_) => self.error(
                    format!("{path}.name"),
                    rules::ERRAND_EXISTS,
                    format!("job type `{}` is not marked `errand: true`", e.name),
                    "mark the job type as an errand, or set `colocated: true` for a colocated errand",
                ),
                None => {
                    self.error(
                        format!("{path}.name"),
                        rules::ERRAND_EXISTS,
                        format!("errand `{}` names no job type", e.name),
                        "add an errand job type with this name, or set `colocated: true`",
                    );
                    let errands = t.errand_job_types().map(|j| j.name.as_str());
                    self.suggest(did_you_mean(&e.name, errands));
                }
            }
        }
    }

    // -- expressions --------------------------------------------------------------------------

    fn expressions(&mut self) {
        let t = self.t;
        for (i, bp) in t.property_blueprints.iter().enumerate() {
            self.blueprint_manifests(bp, &format!("property_blueprints[{i}]"), None);
        }
        for (j, job) in t.job_types.iter().enumerate() {
            let jpath = format!("job_types[{j}]");
            if let Some(m) = &job.manifest {
                self.manifest_text(m, &format!("{jpath}.manifest"), Some(job), None);
            }
            for (k, tpl) in job.templates.iter().enumerate() {
                for (key, text) in [
                    ("manifest", &tpl.manifest),
                    ("consumes", &tpl.consumes),
                    ("provides", &tpl.provides),
                ] {
                    if let Some(text) = text {
                        self.manifest_text(
                            text,
                            &format!("{jpath}.templates[{k}].{key}"),
                            Some(job),
                            None,
                        );
                    }
                }
            }
            for (i, bp) in job.property_blueprints.iter().enumerate() {
                self.blueprint_manifests(
                    bp,
                    &format!("{jpath}.property_blueprints[{i}]"),
                    Some(job),
                );
            }
        }
        for (r, rc) in t.runtime_configs.iter().enumerate() {
            self.manifest_text(
                &rc.runtime_config,
                &format!("runtime_configs[{r}].runtime_config"),
                None,
                None,
            );
        }
    }

    fn blueprint_manifests(&mut self, bp: &PropertyBlueprint, path: &str, job: Option<&JobType>) {
        match &bp.kind {
            BlueprintKind::Simple => {}
            BlueprintKind::Selector { option_templates } => {
                for (o, option) in option_templates.iter().enumerate() {
                    let opath = format!("{path}.option_templates[{o}]");
                    for (n, nm) in option.named_manifests.iter().enumerate() {
                        if let Some(text) = &nm.manifest {
                            self.manifest_text(
                                text,
                                &format!("{opath}.named_manifests[{n}].manifest"),
                                job,
                                None,
                            );
                        }
                    }
                    for (i, sub) in option.property_blueprints.iter().enumerate() {
                        self.blueprint_manifests(
                            sub,
                            &format!("{opath}.property_blueprints[{i}]"),
                            job,
                        );
                    }
                }
            }
            BlueprintKind::Collection {
                named_manifests, ..
            } => {
                for (n, nm) in named_manifests.iter().enumerate() {
                    if let Some(text) = &nm.manifest {
                        self.manifest_text(
                            text,
                            &format!("{path}.named_manifests[{n}].manifest"),
                            job,
                            Some(bp),
                        );
                    }
                }
            }
        }
    }

    fn manifest_text(
        &mut self,
        text: &str,
        path: &str,
        job: Option<&JobType>,
        collection: Option<&PropertyBlueprint>,
    ) {
        let (found, problems) = find_expressions(text);
        for p in problems {
            self.error(
                path,
                rules::EXPRESSION_SYNTAX,
                p.message,
                "expressions are `(( ... ))`; BOSH placeholders are written `((( name )))`",
            );
            self.last().anchor = Some(p.excerpt);
        }
        for expr in found {
            if expr.bosh_placeholder {
                continue;
            }
            // As written, so its line is found inside the manifest text.
            let written = format!("(({}))", expr.body);
            if expr.body.trim().is_empty() {
                self.error(
                    path,
                    rules::EXPRESSION_SYNTAX,
                    "empty expression `(( ))`",
                    "put a property reference inside the parentheses",
                );
                self.last().anchor = Some(written);
                continue;
            }
            for r in expression_references(&expr.body) {
                if let Some(problem) = self.check_reference(&r, job, collection) {
                    self.push(
                        problem.severity,
                        path,
                        rules::EXPRESSION_REFERENCE,
                        format!("`(( {} ))`: {}", expr.body.trim(), problem.message),
                        Some("references name blueprints: `.properties.X.ACC`, `.JOB.X.ACC`, `.properties.SEL.OPTION.X.ACC`, or a bare job-local `X.ACC`"),
                    );
                    self.suggest(problem.suggestion.as_deref());
                    self.last().anchor = Some(written.clone());
                }
            }
        }
    }

    /// Resolves one extracted reference; returns a problem if it does not resolve.
    fn check_reference(
        &self,
        r: &Reference,
        job: Option<&JobType>,
        collection: Option<&PropertyBlueprint>,
    ) -> Option<RefProblem> {
        let t = self.t;
        let path = r.path.as_str();
        if let Some(rest) = path.strip_prefix("..") {
            let (product, tail) = rest.split_once('.').unwrap_or((rest, ""));
            if product != t.name {
                return self.check_other_product(product, rest);
            }
            return self.check_own_path(&format!("..{product}."), tail, r);
        }
        if let Some(rest) = path.strip_prefix('$') {
            let context = rest.split('.').next().unwrap_or_default();
            if !DOLLAR_CONTEXTS.contains(&context) {
                let near = did_you_mean(context, DOLLAR_CONTEXTS.iter().copied());
                return Some(RefProblem::warning(
                    format!("unknown context `${context}`"),
                    near.map(|n| format!("${n}{}", &rest[context.len()..])),
                ));
            }
            return None;
        }
        if let Some(rest) = path.strip_prefix('.') {
            return self.check_own_path(".", rest, r);
        }
        // A bare word: job accessor, literal, current_record.X, or a job-local property.
        let segs: Vec<&str> = path.split('.').collect();
        let head = segs.first().copied().unwrap_or_default();
        if head.chars().all(|c| c.is_ascii_digit() || c == '-') {
            return None;
        }
        if head == "current_record" {
            let Some(coll) = collection else {
                return Some(RefProblem::error(
                    "`current_record` is only available in a collection's named manifests",
                    None,
                ));
            };
            let sub = segs.get(1).copied().unwrap_or_default();
            let subs = coll.sub_blueprints();
            if !subs.iter().any(|b| b.name == sub) {
                let near = did_you_mean(sub, subs.iter().map(|b| b.name.as_str()));
                return Some(RefProblem::error(
                    format!(
                        "`{sub}` is not a sub-property of collection `{}`",
                        coll.name
                    ),
                    near.map(|n| replaced("", &segs, 1, n)),
                ));
            }
            return None;
        }
        if segs.len() == 1 && JOB_ACCESSORS.contains(&head) {
            return None;
        }
        match job {
            Some(job) => match job.property_blueprint(head) {
                Some(bp) => self.check_tail(bp, "", &segs, 1, r),
                None if JOB_ACCESSORS.contains(&head) => None,
                None => {
                    let names = job
                        .property_blueprints
                        .iter()
                        .map(|b| b.name.as_str())
                        .chain(JOB_ACCESSORS.iter().copied());
                    Some(RefProblem::error(
                        format!("`{head}` is not a property of job type `{}`", job.name),
                        did_you_mean(head, names).map(|n| replaced("", &segs, 0, n)),
                    ))
                }
            },
            None => Some(RefProblem::warning(
                format!("bare `{head}` outside a job's manifest cannot be resolved here"),
                None,
            )),
        }
    }

    /// `..PRODUCT.…` naming another product: resolved at deploy time against the metadata of the
    /// product staged under that name, so only a near miss of a product this tile declares it
    /// requires (or of its own name) is worth a word.
    fn check_other_product(&self, product: &str, rest: &str) -> Option<RefProblem> {
        let t = self.t;
        let known: Vec<&str> = t
            .requires_product_versions
            .iter()
            .map(|r| r.name.as_str())
            .chain(std::iter::once(t.name.as_str()))
            .collect();
        if known.contains(&product) {
            return None;
        }
        let near = did_you_mean(product, known.iter().copied())?;
        Some(RefProblem::warning(
            format!("`..{product}` names neither this product nor one it requires"),
            Some(format!("..{near}{}", &rest[product.len()..])),
        ))
    }

    /// `properties.X…`, `JOB.X…`, or a product accessor (after `prefix`: the leading `.`, or
    /// `..PRODUCT.` naming this product).
    fn check_own_path(&self, prefix: &str, rest: &str, r: &Reference) -> Option<RefProblem> {
        let t = self.t;
        let segs: Vec<&str> = rest.split('.').collect();
        let head = segs.first().copied().unwrap_or_default();
        if segs.len() == 1 && PRODUCT_ACCESSORS.contains(&head) {
            return None;
        }
        let name = segs.get(1).copied().unwrap_or_default();
        if head == "properties" {
            return match t.product_blueprint(name) {
                Some(bp) => self.check_tail(bp, prefix, &segs, 2, r),
                None => {
                    let names = t.property_blueprints.iter().map(|b| b.name.as_str());
                    Some(RefProblem::error(
                        format!("no product property blueprint `{name}`"),
                        did_you_mean(name, names).map(|n| replaced(prefix, &segs, 1, n)),
                    ))
                }
            };
        }
        match t.job_type(head) {
            Some(job) => match job.property_blueprint(name) {
                Some(bp) => self.check_tail(bp, prefix, &segs, 2, r),
                None if OTHER_JOB_ACCESSORS.contains(&name) => None,
                None => {
                    let names = job
                        .property_blueprints
                        .iter()
                        .map(|b| b.name.as_str())
                        .chain(OTHER_JOB_ACCESSORS.iter().copied());
                    Some(RefProblem::error(
                        format!("job type `{head}` has no property blueprint `{name}`"),
                        did_you_mean(name, names).map(|n| replaced(prefix, &segs, 1, n)),
                    ))
                }
            },
            None => {
                let names = std::iter::once("properties")
                    .chain(t.job_types.iter().map(|j| j.name.as_str()))
                    .chain(PRODUCT_ACCESSORS.iter().copied());
                Some(RefProblem::error(
                    format!("`.{head}` is neither `.properties` nor a job type"),
                    did_you_mean(head, names).map(|n| replaced(prefix, &segs, 0, n)),
                ))
            }
        }
    }

    /// What follows a blueprint (`segs[at..]`): a selector option's sub-property, `selected_option
    /// .parsed_manifest(N)`, a collection's `parsed_manifest(N)`, or an accessor.
    fn check_tail(
        &self,
        bp: &PropertyBlueprint,
        prefix: &str,
        segs: &[&str],
        at: usize,
        r: &Reference,
    ) -> Option<RefProblem> {
        let first = segs.get(at).copied().unwrap_or_default();
        match &bp.kind {
            BlueprintKind::Selector { option_templates } => {
                if let Some(option) = option_templates.iter().find(|o| o.name == first) {
                    let sub = segs.get(at + 1).copied().unwrap_or_default();
                    let Some(sub_bp) = option.property_blueprints.iter().find(|b| b.name == sub)
                    else {
                        let names = option.property_blueprints.iter().map(|b| b.name.as_str());
                        return Some(RefProblem::error(
                            format!(
                                "option `{}` of selector `{}` has no property `{sub}`",
                                option.name, bp.name
                            ),
                            did_you_mean(sub, names).map(|n| replaced(prefix, segs, at + 1, n)),
                        ));
                    };
                    return self.check_accessor(sub_bp, prefix, segs, at + 2);
                }
                if first == "selected_option" && segs.get(at + 1) == Some(&"parsed_manifest") {
                    if let Some(arg) = &r.argument {
                        let names: BTreeSet<&str> = option_templates
                            .iter()
                            .flat_map(|o| o.named_manifests.iter().map(|m| m.name.as_str()))
                            .collect();
                        if !names.contains(arg.as_str()) {
                            return Some(RefProblem::error(
                                format!(
                                    "no option of selector `{}` declares named manifest `{arg}`",
                                    bp.name
                                ),
                                did_you_mean(arg, names).map(|n| format!("parsed_manifest({n})")),
                            ));
                        }
                    }
                    return None;
                }
                // The migration spelling `.properties.SEL.options.OPTION.X`.
                if first == "options" && segs.len() > at + 2 {
                    return self.check_tail(bp, prefix, segs, at + 1, r);
                }
                // `.properties.SEL.OPTION.X…` with an option name that is no option: resolved
                // to nothing at render time. A known accessor (`value`, `selected_option`) is
                // not an option name.
                if segs.len() > at + 1 && !is_accessor(first) {
                    let names = option_templates.iter().map(|o| o.name.as_str());
                    return Some(RefProblem::error(
                        format!("selector `{}` has no option `{first}`", bp.name),
                        did_you_mean(first, names).map(|n| replaced(prefix, segs, at, n)),
                    ));
                }
                self.check_accessor(bp, prefix, segs, at)
            }
            BlueprintKind::Collection {
                named_manifests, ..
            } => {
                if first == "parsed_manifest" {
                    if let Some(arg) = &r.argument {
                        if !named_manifests.iter().any(|m| &m.name == arg) {
                            let names = named_manifests.iter().map(|m| m.name.as_str());
                            return Some(RefProblem::error(
                                format!(
                                    "collection `{}` declares no named manifest `{arg}`",
                                    bp.name
                                ),
                                did_you_mean(arg, names).map(|n| format!("parsed_manifest({n})")),
                            ));
                        }
                    }
                    return None;
                }
                self.check_accessor(bp, prefix, segs, at)
            }
            BlueprintKind::Simple => self.check_accessor(bp, prefix, segs, at),
        }
    }

    /// `segs[at]`, the accessor read from a property: an unknown one close to a known one is a
    /// slip (a warning: an unknown accessor may be one newer than this engine).
    fn check_accessor(
        &self,
        bp: &PropertyBlueprint,
        prefix: &str,
        segs: &[&str],
        at: usize,
    ) -> Option<RefProblem> {
        let accessor = segs.get(at).copied()?;
        if is_accessor(accessor) {
            return None;
        }
        let near = did_you_mean(accessor, crate::expr::accessor_names())?;
        Some(RefProblem::warning(
            format!("`{accessor}` is not an accessor of `{}`", bp.name),
            Some(replaced(prefix, segs, at, near)),
        ))
    }
}

/// A reference that does not resolve: how bad, why, and the reference it probably meant.
struct RefProblem {
    severity: Severity,
    message: String,
    suggestion: Option<String>,
}

impl RefProblem {
    fn error(message: impl Into<String>, suggestion: Option<String>) -> RefProblem {
        RefProblem {
            severity: Severity::Error,
            message: message.into(),
            suggestion,
        }
    }

    fn warning(message: impl Into<String>, suggestion: Option<String>) -> RefProblem {
        RefProblem {
            severity: Severity::Warning,
            message: message.into(),
            suggestion,
        }
    }
}

/// What an engine error says, without the field it names: a finding's path names it already.
fn message_of(e: crate::Error) -> String {
    match e {
        crate::Error::Invalid { message, .. } => message,
        other => other.to_string(),
    }
}

/// The property reference closest to `written` (a form input's or `zero_if`'s), spelt as the
/// metadata spells references (`.properties.X`, `.JOB.X`, `.properties.SEL.OPTION.X`).
fn closest_reference(t: &ProductTemplate, written: &str) -> Option<String> {
    let refs: Vec<String> = t.property_refs().into_iter().map(|r| r.reference).collect();
    let dotted = format!(".{}", written.trim_start_matches('.'));
    did_you_mean(&dotted, refs.iter().map(String::as_str)).map(str::to_owned)
}

/// A known accessor name (`value`, `cert_pem`, `selected_option`, …).
fn is_accessor(name: &str) -> bool {
    crate::expr::accessor_names().any(|n| n == name)
}

/// The reference `prefix` + `segs` joined by dots, with segment `i` replaced by `with`: the
/// reference a suggestion proposes.
fn replaced(prefix: &str, segs: &[&str], i: usize, with: &str) -> String {
    let joined: Vec<&str> = segs
        .iter()
        .enumerate()
        .map(|(k, s)| if k == i { with } else { *s })
        .collect();
    format!("{prefix}{}", joined.join("."))
}

// ---------------------------------------------------------------------------------------------
// Expression scanning (self-contained; to be replaced by the `expr` module's parser)
// ---------------------------------------------------------------------------------------------

/// One `(( … ))` occurrence in a manifest text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundExpression {
    /// The text between the parentheses.
    pub body: String,
    /// Byte offset of the opening parentheses.
    pub offset: usize,
    /// `((( … )))`: a BOSH placeholder passed through to the Director, not evaluated.
    pub bosh_placeholder: bool,
}

/// An expression that does not close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanProblem {
    pub message: String,
    /// The start of the expression as written (to its line's end), to find it in the metadata.
    pub excerpt: String,
}

/// Finds the expressions of a manifest text and reports unbalanced ones. Quotes inside an
/// expression are respected, so `'((/services/ca.certificate))'` inside one is a literal.
pub fn find_expressions(text: &str) -> (Vec<FoundExpression>, Vec<ScanProblem>) {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if !(bytes[i] == b'(' && bytes[i + 1] == b'(') {
            i += 1;
            continue;
        }
        let mut run = 0;
        while i + run < bytes.len() && bytes[i + run] == b'(' {
            run += 1;
        }
        let start = i + run;
        if run >= 3 {
            match text[start..].find(")))") {
                Some(end) => {
                    found.push(FoundExpression {
                        body: text[start..start + end].to_string(),
                        offset: i,
                        bosh_placeholder: true,
                    });
                    i = start + end + 3;
                }
                None => {
                    problems.push(ScanProblem {
                        message: format!(
                            "`{}` at byte {i} is never closed with `)))`",
                            snippet(&text[i..])
                        ),
                        excerpt: text[i..].lines().next().unwrap_or_default().to_owned(),
                    });
                    return (found, problems);
                }
            }
            continue;
        }
        // An OM expression: scan to `))` outside quotes.
        let mut j = start;
        let mut quote: Option<u8> = None;
        let mut end = None;
        while j < bytes.len() {
            let c = bytes[j];
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == b'\'' || c == b'"' => quote = Some(c),
                None if c == b')' && bytes.get(j + 1) == Some(&b')') => {
                    end = Some(j);
                    break;
                }
                None if c == b'(' && bytes.get(j + 1) == Some(&b'(') => break,
                None => {}
            }
            j += 1;
        }
        match end {
            Some(e) => {
                found.push(FoundExpression {
                    body: text[start..e].to_string(),
                    offset: i,
                    bosh_placeholder: false,
                });
                i = e + 2;
            }
            None => {
                let why = if quote.is_some() {
                    "has an unterminated quote"
                } else {
                    "is never closed with `))`"
                };
                problems.push(ScanProblem {
                    message: format!("`{}` at byte {i} {why}", snippet(&text[i..])),
                    excerpt: text[i..].lines().next().unwrap_or_default().to_owned(),
                });
                i = start.max(j);
            }
        }
    }
    (found, problems)
}

fn snippet(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default();
    line.chars().take(40).collect()
}

/// A property path named in an expression, with the argument of a trailing call
/// (`parsed_manifest(NAME)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub path: String,
    pub argument: Option<String>,
}

/// Extracts the reference paths of one expression body: words made of name characters and
/// dots outside quoted literals, with the parenthesised argument that follows a call.
pub fn expression_references(body: &str) -> Vec<Reference> {
    let chars: Vec<char> = body.chars().collect();
    let mut out: Vec<Reference> = Vec::new();
    let mut i = 0;
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$');
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i += 1;
            continue;
        }
        if is_word(c) {
            let start = i;
            while i < chars.len() && is_word(chars[i]) {
                i += 1;
            }
            // `value_present?`, `assigned?`, `present?`: a `?` glued to a word belongs to it.
            if i < chars.len() && chars[i] == '?' && chars[i - 1].is_ascii_alphanumeric() {
                let next = chars.get(i + 1).copied().unwrap_or(' ');
                if next == ' ' || next == ')' || next == '|' || next == '?' || next == '\0' {
                    i += 1;
                }
            }
            let word: String = chars[start..i].iter().collect();
            let mut argument = None;
            if i < chars.len() && chars[i] == '(' {
                let arg_start = i + 1;
                let mut k = arg_start;
                while k < chars.len() && chars[k] != ')' {
                    k += 1;
                }
                argument = Some(
                    chars[arg_start..k.min(chars.len())]
                        .iter()
                        .collect::<String>()
                        .trim()
                        .to_string(),
                );
                i = (k + 1).min(chars.len());
            }
            let word = word.trim_end_matches('.').to_string();
            if !word.is_empty() && word != "-" && word != "." {
                out.push(Reference {
                    path: word,
                    argument,
                });
            }
            continue;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests;
