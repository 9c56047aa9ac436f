//! Evaluating `$( … )` actions: kiln's template functions and how their values are inserted.
//!
//! The functions (kiln's `internal/builder/interpolator.go` is the contract):
//! `form`, `property`, `instance_group`, `job`, `runtime_config`, `bosh_variable` (a part by
//! name), `release` (a release entry), `stemcell` (criteria, optionally by OS), `version`,
//! `variable` (with kiln's fallbacks `build-version` → the version), `icon`, `tile` (the
//! `tile_name` variable in lower case), `select` (a field of a JSON value: `$( release "x" |
//! select "version" )`) and `regexReplaceAll`, with Go's `eq`, `ne`, `not`, `and`, `or` and
//! `len`. `.key` reads a variable as Go's template does (inside `range` and `with`, a field of
//! the element); `if`, `range` and `with` choose and repeat text with Go's truth, `break` and
//! `continue` end a `range`'s element early; template variables live to the `end` of the
//! structure that declares them (`$` is the variables); `template` (and `block`) renders a
//! named template of the same text with `.` and `$` its argument.
//!
//! A value is inserted as kiln inserts it: a string as written when YAML reads it as a scalar
//! (quoted otherwise), anything else as one line of JSON after the actions in its strings are
//! evaluated in turn (a part may refer to other parts and to variables).

use std::collections::BTreeMap;

use serde_json::Value;

use super::parts::{kind_of, Parts};
use super::template::{self, Segment, Token};
use super::{BakeInput, PartKind};
use crate::{Error, Result};

/// The variable `$( tile )` returns.
pub(super) const TILE_NAME: &str = "tile_name";
/// kiln's special variable: the version when not given.
const BUILD_VERSION: &str = "build-version";
/// kiln's special variable: the git revision of the metadata, which kiln computes with git.
const METADATA_GIT_SHA: &str = "metadata-git-sha";
/// Parts inline parts; deeper than this is a part that refers to itself.
const MAX_DEPTH: usize = 24;

const FUNCTIONS: &[&str] = &[
    "eq",
    "ne",
    "not",
    "and",
    "or",
    "len",
    "form",
    "property",
    "instance_group",
    "job",
    "runtime_config",
    "bosh_variable",
    "release",
    "stemcell",
    "version",
    "variable",
    "icon",
    "tile",
    "select",
    "regexReplaceAll",
];

pub(super) struct Context<'a> {
    pub input: &'a BakeInput,
    pub parts: &'a BTreeMap<PartKind, Parts>,
}

/// Why an action failed: its own problem (worded with the action) or one inside what it
/// inlined (already worded, naming that file).
enum Fail {
    Here(String),
    Inner(Error),
}

impl From<String> for Fail {
    fn from(message: String) -> Fail {
        Fail::Here(message)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Inner(e)
    }
}

type Eval<T> = std::result::Result<T, Fail>;

impl Context<'_> {
    /// Evaluates every action of the text of `file` (the base file: errors carry lines).
    pub fn interpolate_text(&self, text: &str, file: &str, depth: usize) -> Result<String> {
        self.interpolate(text, file, true, depth)
    }

    fn interpolate(&self, text: &str, file: &str, lines: bool, depth: usize) -> Result<String> {
        let parsed = template::parse(text, file, lines)?;
        let mut out = String::with_capacity(text.len());
        let dot = Value::Object(self.input.variables.clone());
        let place = Place { file, lines };
        let mut scope = Scope {
            // `$` is the data the text is executed with: the variables.
            vars: vec![(String::new(), dot.clone())],
            templates: &parsed.templates,
            place: &place,
            calls: 0,
        };
        self.render(&parsed.segments, &dot, &mut scope, &mut out, depth)?;
        Ok(out)
    }

    /// Writes `segments` with `.` standing for `dot`; says whether a `break` or `continue`
    /// ended them early.
    fn render(
        &self,
        segments: &[Segment],
        dot: &Value,
        scope: &mut Scope<'_>,
        out: &mut String,
        depth: usize,
    ) -> Result<Flow> {
        let place = scope.place;
        for segment in segments {
            let flow = match segment {
                Segment::Text(t) => {
                    out.push_str(t);
                    Flow::Next
                }
                Segment::Action(action) => {
                    let value = self
                        .pipeline(&action.commands, dot, &scope.vars, depth)
                        .map_err(|f| place.error(action, f))?;
                    match &action.bind {
                        // A declaration or an assignment prints nothing.
                        Some(bind) => scope
                            .bind(bind, value)
                            .map_err(|f| place.error(action, f))?,
                        None => out.push_str(&printed(value).map_err(|f| place.error(action, f))?),
                    }
                    Flow::Next
                }
                Segment::If {
                    branches,
                    otherwise,
                } => {
                    let mark = scope.vars.len();
                    let mut taken = None;
                    for (condition, body) in branches {
                        let value = self
                            .pipeline(&condition.commands, dot, &scope.vars, depth)
                            .map_err(|f| place.error(condition, f))?;
                        let truth = is_true(&value);
                        if let Some(bind) = &condition.bind {
                            scope
                                .bind(bind, value)
                                .map_err(|f| place.error(condition, f))?;
                        }
                        if truth {
                            taken = Some(body);
                            break;
                        }
                    }
                    let flow = self.render(taken.unwrap_or(otherwise), dot, scope, out, depth)?;
                    scope.vars.truncate(mark);
                    flow
                }
                Segment::With {
                    value,
                    body,
                    otherwise,
                } => {
                    let mark = scope.vars.len();
                    let v = self
                        .pipeline(&value.commands, dot, &scope.vars, depth)
                        .map_err(|f| place.error(value, f))?;
                    if let Some(bind) = &value.bind {
                        scope
                            .bind(bind, v.clone())
                            .map_err(|f| place.error(value, f))?;
                    }
                    let flow = if is_true(&v) {
                        self.render(body, &v, scope, out, depth)?
                    } else {
                        self.render(otherwise, dot, scope, out, depth)?
                    };
                    scope.vars.truncate(mark);
                    flow
                }
                Segment::Range {
                    over,
                    body,
                    otherwise,
                } => {
                    let v = self
                        .pipeline(&over.commands, dot, &scope.vars, depth)
                        .map_err(|f| place.error(over, f))?;
                    // Each element with its index (a list) or key (a mapping, in key order).
                    let elements: Vec<(Value, &Value)> = match &v {
                        Value::Array(items) => items
                            .iter()
                            .enumerate()
                            .map(|(i, e)| (Value::from(i), e))
                            .collect(),
                        Value::Object(map) => {
                            let mut keys: Vec<&String> = map.keys().collect();
                            keys.sort();
                            keys.into_iter()
                                .filter_map(|k| map.get(k).map(|e| (Value::from(k.as_str()), e)))
                                .collect()
                        }
                        Value::Null => Vec::new(),
                        other => {
                            return Err(place.error(
                                over,
                                Fail::Here(format!(
                                    "cannot range over {}; only a list or a mapping",
                                    kind_of(other)
                                )),
                            ))
                        }
                    };
                    let mut flow = Flow::Next;
                    if elements.is_empty() {
                        flow = self.render(otherwise, dot, scope, out, depth)?;
                    }
                    for (key, element) in elements {
                        let mark = scope.vars.len();
                        if let Some(bind) = &over.bind {
                            // `range $e := …` binds the element; `range $i, $e := …` both.
                            if let [index, _] = bind.names.as_slice() {
                                scope.vars.push((index.clone(), key));
                            }
                            if let Some(name) = bind.names.last() {
                                scope.vars.push((name.clone(), element.clone()));
                            }
                        }
                        let ended = self.render(body, element, scope, out, depth)?;
                        scope.vars.truncate(mark);
                        if matches!(ended, Flow::Break) {
                            break;
                        }
                    }
                    flow
                }
                Segment::Template { name, call } => {
                    let Some(body) = scope.templates.get(name) else {
                        let known: Vec<&str> = scope.templates.keys().map(String::as_str).collect();
                        return Err(
                            place.error(call, missing("template", name, known, "defined here"))
                        );
                    };
                    if scope.calls >= MAX_DEPTH {
                        return Err(place.error(
                            call,
                            Fail::Here(format!(
                                "templates call each other deeper than {MAX_DEPTH} levels \
                                 (does `{name}` call itself?)"
                            )),
                        ));
                    }
                    let value = if call.commands.is_empty() {
                        Value::Null
                    } else {
                        self.pipeline(&call.commands, dot, &scope.vars, depth)
                            .map_err(|f| place.error(call, f))?
                    };
                    // The template runs with `.` and `$` its argument, none of the caller's
                    // variables.
                    let mut inner = Scope {
                        vars: vec![(String::new(), value.clone())],
                        templates: scope.templates,
                        place,
                        calls: scope.calls + 1,
                    };
                    self.render(body, &value, &mut inner, out, depth)?;
                    Flow::Next
                }
                Segment::Break(_) => Flow::Break,
                Segment::Continue(_) => Flow::Continue,
            };
            if !matches!(flow, Flow::Next) {
                return Ok(flow);
            }
        }
        Ok(Flow::Next)
    }

    /// Runs the commands, each result the last argument of the next; the last result.
    fn pipeline(
        &self,
        commands: &[Vec<Token>],
        dot: &Value,
        vars: &[(String, Value)],
        depth: usize,
    ) -> Eval<Value> {
        let mut piped = None;
        for command in commands {
            piped = Some(self.command(command, piped.take(), dot, vars, depth)?);
        }
        Ok(piped.unwrap_or(Value::Null))
    }
}

/// How a run of segments ended: at its end, or early at a `break` or `continue` of the
/// enclosing `range`.
enum Flow {
    Next,
    Break,
    Continue,
}

/// What is in scope while a text renders.
struct Scope<'s> {
    /// Template variables, innermost last (`$` first): a structure's end drops those declared
    /// inside it.
    vars: Vec<(String, Value)>,
    /// The text's named templates (`define`, `block`).
    templates: &'s BTreeMap<String, Vec<Segment>>,
    place: &'s Place<'s>,
    /// How deep in template calls this is.
    calls: usize,
}

impl Scope<'_> {
    /// `$x := value` (a new variable) or `$x = value` (one in scope).
    fn bind(&mut self, bind: &template::Bind, value: Value) -> Eval<()> {
        let Some(name) = bind.names.first() else {
            return Ok(());
        };
        if bind.declare {
            self.vars.push((name.clone(), value));
            return Ok(());
        }
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some((_, slot)) => {
                *slot = value;
                Ok(())
            }
            None => Err(Fail::Here(format!(
                "`${name}` is assigned before it is declared (`${name} := …`)"
            ))),
        }
    }
}

/// Where the actions being rendered come from, for errors.
struct Place<'a> {
    file: &'a str,
    /// The text is a whole file: errors name the action's line.
    lines: bool,
}

impl Place<'_> {
    fn error(&self, action: &template::Action, fail: Fail) -> Error {
        match fail {
            Fail::Inner(e) => e,
            Fail::Here(message) => Error::Invalid {
                field: if self.lines {
                    format!("{} line {}", self.file, action.line)
                } else {
                    self.file.to_string()
                },
                message: format!("`{}`: {message}", action.source),
            },
        }
    }
}

/// Go's truth: false, 0, nil and empty strings, lists and mappings are false.
fn is_true(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// What an action prints.
fn printed(value: Value) -> Eval<String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(Fail::Here(format!(
            "prints {}; only strings, numbers and booleans can be printed (use `variable` to insert a structured value)",
            kind_of(&other)
        ))),
    }
}

/// Go's comparison and logic functions (`eq`, `ne`, `not`, `and`, `or`, `len`); `None` for
/// another name. `and`/`or` answer the deciding argument, as Go's do.
fn logic(name: &str, args: &[Value]) -> Eval<Option<Value>> {
    let arity = |n: usize| -> Eval<()> {
        if args.len() == n {
            Ok(())
        } else {
            Err(Fail::Here(format!(
                "`{name}` takes {n} argument{}, not {}",
                if n == 1 { "" } else { "s" },
                args.len()
            )))
        }
    };
    // Numbers compare by value (`1` and `1.0`), everything else as JSON.
    let same = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    };
    Ok(Some(match name {
        "eq" => {
            if args.len() < 2 {
                return Err(Fail::Here("`eq` takes at least 2 arguments".into()));
            }
            Value::Bool(args[1..].iter().any(|b| same(&args[0], b)))
        }
        "ne" => {
            arity(2)?;
            Value::Bool(!same(&args[0], &args[1]))
        }
        "not" => {
            arity(1)?;
            Value::Bool(!is_true(&args[0]))
        }
        "and" | "or" => {
            if args.is_empty() {
                return Err(Fail::Here(format!("`{name}` takes at least 1 argument")));
            }
            let decides = |v: &&Value| {
                if name == "and" {
                    !is_true(v)
                } else {
                    is_true(v)
                }
            };
            args.iter()
                .find(decides)
                .unwrap_or_else(|| args.last().unwrap_or(&Value::Null))
                .clone()
        }
        "len" => {
            arity(1)?;
            Value::from(match &args[0] {
                Value::String(s) => s.chars().count(),
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                other => {
                    return Err(Fail::Here(format!("`len` of {}", kind_of(other))));
                }
            })
        }
        _ => return Ok(None),
    }))
}

impl Context<'_> {
    fn command(
        &self,
        tokens: &[Token],
        piped: Option<Value>,
        dot: &Value,
        vars: &[(String, Value)],
        depth: usize,
    ) -> Eval<Value> {
        match tokens {
            [Token::Ident(name), args @ ..] => {
                let mut values = Vec::with_capacity(args.len() + 1);
                for a in args {
                    values.push(self.operand(a, dot, vars, depth)?);
                }
                values.extend(piped);
                if let Some(value) = logic(name, &values)? {
                    return Ok(value);
                }
                self.call(name, &values, depth)
            }
            [single] if piped.is_none() => self.operand(single, dot, vars, depth),
            _ => Err(Fail::Here(
                "only a function can take arguments or a piped value".into(),
            )),
        }
    }

    fn operand(
        &self,
        token: &Token,
        dot: &Value,
        vars: &[(String, Value)],
        depth: usize,
    ) -> Eval<Value> {
        Ok(match token {
            Token::Str(s) => Value::String(s.clone()),
            Token::Number(n) => n
                .parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| n.parse::<f64>().ok().map(Value::from))
                .ok_or_else(|| format!("`{n}` is not a number"))?,
            Token::Bool(b) => Value::Bool(*b),
            Token::Nil => Value::Null,
            Token::Dot => dot.clone(),
            // `.a.b` reads `.`: the variables, or inside `range`/`with` their element.
            Token::Field(path) => {
                let mut value = Some(dot);
                for key in path {
                    value = value.and_then(|v| v.get(key));
                }
                value.cloned().ok_or_else(|| {
                    if dot.as_object() == Some(&self.input.variables) {
                        format!(
                            "no variable `{}` (give it with --variable or in a --variables-file)",
                            path.join(".")
                        )
                    } else {
                        format!("`.` ({}) has no `{}`", kind_of(dot), path.join("."))
                    }
                })?
            }
            // `$x.a.b`: the innermost `$x` in scope.
            Token::Var { name, path } => {
                let Some((_, value)) = vars.iter().rev().find(|(n, _)| n == name) else {
                    return Err(Fail::Here(format!(
                        "undefined variable `${name}` (declare it with `${name} := …`)"
                    )));
                };
                let mut found = Some(value);
                for key in path {
                    found = found.and_then(|v| v.get(key));
                }
                found.cloned().ok_or_else(|| {
                    format!("`${name}` ({}) has no `{}`", kind_of(value), path.join("."))
                })?
            }
            // A bare function name as an argument is a call without arguments, as in Go.
            Token::Ident(name) => self.call(name, &[], depth)?,
        })
    }

    fn call(&self, name: &str, args: &[Value], depth: usize) -> Eval<Value> {
        if let Some(kind) = PartKind::ALL.into_iter().find(|k| k.function() == name) {
            let [key] = strings::<1>(name, args)?;
            return self.part(kind, &key, depth).map(Value::String);
        }
        let text = match name {
            "release" => {
                let [key] = strings::<1>(name, args)?;
                let Some(releases) = &self.input.releases else {
                    return Err(Fail::Here(format!(
                        "no release tarballs were read to find release `{key}` in (put it in releases/, or write the release entry in the base file)"
                    )));
                };
                let entry = releases.get(&key).ok_or_else(|| {
                    missing("release", &key, names(releases.keys()), "in releases/")
                })?;
                self.insert_value(entry, "releases/", depth)?
            }
            "stemcell" => {
                let stemcells = &self.input.stemcells;
                if stemcells.is_empty() {
                    return Err(Fail::Here("no stemcell criteria: bake reads them from the `stemcell_criteria` of Kilnfile.lock".into()));
                }
                let criteria = match args {
                    [] if stemcells.len() == 1 => stemcells.values().next(),
                    [] => {
                        return Err(Fail::Here(format!(
                            "several stemcells ({}): name the operating system, e.g. `$( stemcell \"{}\" )`",
                            stemcells.keys().cloned().collect::<Vec<_>>().join(", "),
                            stemcells.keys().next().map(String::as_str).unwrap_or_default()
                        )))
                    }
                    _ => {
                        let [os] = strings::<1>(name, args)?;
                        Some(stemcells.get(&os).ok_or_else(|| {
                            missing("stemcell for OS", &os, names(stemcells.keys()), "")
                        })?)
                    }
                };
                self.insert_value(criteria.unwrap_or(&Value::Null), "Kilnfile.lock", depth)?
            }
            "version" => {
                strings::<0>(name, args)?;
                self.version()?
            }
            "variable" => {
                let [key] = strings::<1>(name, args)?;
                match self.input.variables.get(&key) {
                    Some(value) => self.insert_value(value, "variables", depth)?,
                    None if key == BUILD_VERSION => self.version()?,
                    None if key == METADATA_GIT_SHA => return Err(Fail::Here(format!(
                        "no variable `{METADATA_GIT_SHA}`: kiln computes it with git, Tileworks does not run git; give --variable {METADATA_GIT_SHA}=$(git rev-parse HEAD)"
                    ))),
                    None => {
                        return Err(missing_variable(&key, names(self.input.variables.keys())));
                    }
                }
            }
            "icon" => {
                strings::<0>(name, args)?;
                self.input.icon.clone().ok_or_else(|| {
                    "no icon: bake reads icon.png in the tile folder (or --icon FILE)".to_string()
                })?
            }
            "tile" => {
                strings::<0>(name, args)?;
                match self.input.variables.get(TILE_NAME) {
                    Some(Value::String(s)) => s.to_lowercase(),
                    Some(other) => {
                        return Err(Fail::Here(format!(
                            "the variable `{TILE_NAME}` is {}, it must be a string",
                            kind_of(other)
                        )))
                    }
                    None => {
                        return Err(missing_variable(
                            TILE_NAME,
                            names(self.input.variables.keys()),
                        ))
                    }
                }
            }
            "select" => {
                let [field, json] = strings::<2>(name, args)?;
                let object: serde_json::Map<String, Value> =
                    serde_json::from_str(&json).map_err(|e| {
                        format!("cannot select `{field}`: {json:?} is not a JSON object ({e})")
                    })?;
                let value = object
                    .get(&field)
                    .ok_or_else(|| format!("cannot select `{field}`: the value has no such key"))?;
                value.to_string()
            }
            "regexReplaceAll" => {
                let [pattern, input, replacement] = strings::<3>(name, args)?;
                let re = regex::Regex::new(&pattern)
                    .map_err(|e| format!("`{pattern}` is not a regular expression: {e}"))?;
                re.replace_all(&input, replacement.as_str()).into_owned()
            }
            other => {
                let mut message = format!("unknown function `{other}`");
                if let Some(near) = crate::suggest::did_you_mean(other, FUNCTIONS.iter().copied()) {
                    message.push_str(&format!("; did you mean `{near}`?"));
                }
                message.push_str(&format!(" (bake knows: {})", FUNCTIONS.join(", ")));
                return Err(Fail::Here(message));
            }
        };
        Ok(Value::String(text))
    }

    fn part(&self, kind: PartKind, key: &str, depth: usize) -> Eval<String> {
        let Some(parts) = self.parts.get(&kind) else {
            return Err(Fail::Here(format!(
                "there is no {}/ folder to read {}s from ({} names others)",
                kind.default_dir(),
                kind.noun(),
                kind.flag()
            )));
        };
        let part = parts.get(key).ok_or_else(|| {
            missing(
                kind.noun(),
                key,
                names(parts.keys()),
                &format!("in {}/", kind.default_dir()),
            )
        })?;
        self.insert_value(&part.value, &part.file, depth)
    }

    fn version(&self) -> Eval<String> {
        let version = self.input.version.as_deref().ok_or_else(|| {
            "no version: give --version (or write it in a `version` file)".to_string()
        })?;
        Ok(insert_string(version))
    }

    /// The text that replaces an action whose value is `value` (from `file`).
    fn insert_value(&self, value: &Value, file: &str, depth: usize) -> Eval<String> {
        if depth >= MAX_DEPTH {
            return Err(Fail::Here(format!(
                "parts nest deeper than {MAX_DEPTH} levels (does a part in {file} refer to itself?)"
            )));
        }
        match value {
            Value::String(s) => Ok(insert_string(s)),
            other => {
                let resolved = self.resolve(other, file, depth + 1)?;
                Ok(resolved.to_string())
            }
        }
    }

    /// `value` with the actions in its strings evaluated. A one-line string is read again as
    /// YAML afterwards (an inserted part becomes structure, as when kiln re-reads the text);
    /// a multi-line string (a block scalar in the part) stays text.
    fn resolve(&self, value: &Value, file: &str, depth: usize) -> Result<Value> {
        Ok(match value {
            Value::String(s) if s.contains("$(") => {
                let text = self.interpolate(s, file, false, depth)?;
                if text.contains('\n') {
                    Value::String(text)
                } else {
                    crate::yaml::load(&text).map_err(|e| Error::Invalid {
                        field: file.to_string(),
                        message: format!("`{s}` gives `{text}`, which is not readable YAML: {e}"),
                    })?
                }
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.resolve(v, file, depth))
                    .collect::<Result<_>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.resolve(v, file, depth)?)))
                    .collect::<Result<_>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// A string inserted into YAML text: as written when it reads back as the same kind of scalar
/// on one line, else as a JSON (double-quoted YAML) string, which reads back as exactly it.
fn insert_string(s: &str) -> String {
    let plain = !s.contains('\n')
        && match crate::yaml::load(s) {
            Ok(Value::String(_) | Value::Number(_) | Value::Bool(_)) => true,
            // Only a written null is a null; an empty string or a comment would vanish.
            Ok(Value::Null) => matches!(s.trim(), "~" | "null" | "Null" | "NULL"),
            _ => false,
        };
    if plain {
        s.to_string()
    } else {
        Value::String(s.to_string()).to_string()
    }
}

/// The `N` arguments of `function`, each a string, or why not.
fn strings<const N: usize>(function: &str, args: &[Value]) -> Eval<[String; N]> {
    if args.len() != N {
        return Err(Fail::Here(format!(
            "`{function}` takes {N} argument{}, given {}",
            if N == 1 { "" } else { "s" },
            args.len()
        )));
    }
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (slot, arg) in out.iter_mut().zip(args) {
        match arg {
            Value::String(s) => *slot = s.clone(),
            other => {
                return Err(Fail::Here(format!(
                    "`{function}` takes strings, given {}",
                    kind_of(other)
                )))
            }
        }
    }
    Ok(out)
}

fn names<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
    keys.map(String::as_str).collect()
}

fn missing(what: &str, key: &str, known: Vec<&str>, place: &str) -> Fail {
    let mut message = format!("no {what} named `{key}`");
    if !place.is_empty() {
        message.push(' ');
        message.push_str(place);
    }
    if let Some(near) = crate::suggest::did_you_mean(key, known.iter().copied()) {
        message.push_str(&format!("; did you mean `{near}`?"));
    } else if known.is_empty() {
        message.push_str(" (there are none)");
    } else {
        let shown: Vec<&str> = known.into_iter().take(12).collect();
        message.push_str(&format!(" (known: {})", shown.join(", ")));
    }
    Fail::Here(message)
}

fn missing_variable(key: &str, known: Vec<&str>) -> Fail {
    let mut message = format!(
        "no variable `{key}` (give it with --variable {key}=VALUE or in a --variables-file)"
    );
    if let Some(near) = crate::suggest::did_you_mean(key, known) {
        message.push_str(&format!("; did you mean `{near}`?"));
    }
    Fail::Here(message)
}
