//! YAML loading and emitting with the YAML 1.1 behaviour real tiles rely on.
//!
//! Ops Manager reads tile metadata with Ruby's Psych, i.e. YAML 1.1. Real metadata depends on it:
//! `run_default: on` is a boolean, `default: 8_192` is the integer 8192, anchors and `<<` merge
//! keys (also with a list of maps) build job types from shared fragments. A YAML 1.2 parser gives
//! none of that, so this module drives the `saphyr-parser` event stream itself and resolves plain
//! scalars with the 1.1 rules, producing the crate's universal value tree, `serde_json::Value`.
//!
//! Versions need care: `version: 1709.10` is a float in YAML 1.1, and a float cannot remember
//! its trailing zero. A plain scalar that looks like a float but whose number would not print
//! back exactly as written is therefore kept as the *string* it was written as. Floats that do
//! round-trip (`3586.26`, `1.5`) stay numbers, so typed fields (`product_version`, release and
//! stemcell `version`) can always recover the text as written by printing the number.
//!
//! Hostile input is bounded by [`Limits`]: document size, nesting depth and the number of nodes
//! produced (which is what alias expansion — "billion laughs" — inflates).

use crate::error::{Error, Result};
use crate::yaml_positions::Tracker;
pub use crate::yaml_positions::{Position, Positions};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Bounds applied while loading, so that untrusted YAML cannot exhaust memory or the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted document, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of maps and lists.
    pub max_depth: usize,
    /// Most values (scalars, maps, lists) the loaded tree may contain, counting every copy an
    /// alias or merge key makes.
    pub max_nodes: usize,
}

impl Default for Limits {
    /// Generous for real metadata (the largest public tiles are a few MB and well under 100k
    /// nodes), small enough to refuse alias bombs quickly.
    fn default() -> Self {
        Limits {
            max_bytes: 32 * 1024 * 1024,
            max_depth: 128,
            max_nodes: 2_000_000,
        }
    }
}

/// Loads the first YAML document of `text` with YAML 1.1 rules and the default [`Limits`].
/// An empty document loads as `Value::Null`.
pub fn load(text: &str) -> Result<Value> {
    load_with_limits(text, &Limits::default())
}

/// Loads the first YAML document of `text` with YAML 1.1 rules and the given limits.
pub fn load_with_limits(text: &str, limits: &Limits) -> Result<Value> {
    load_reporting_repairs(text, limits).map(|(value, _)| value)
}

/// Like [`load_with_limits`], also returning where `text` relied on libyaml's leniency
/// (see [`reindent_quoted_scalar`]): `line L column C` of each quoted scalar read only after
/// indenting its continuation lines. The lint reports them so authors can fix their YAML.
pub fn load_reporting_repairs(text: &str, limits: &Limits) -> Result<(Value, Vec<String>)> {
    load_repairing(text, limits, false).map(|(value, repairs, _)| (value, repairs))
}

/// Like [`load_reporting_repairs`], also returning where each YAML path is written
/// ([`Positions`], built during the same parse), for findings that name a line and column.
pub fn load_indexed(text: &str, limits: &Limits) -> Result<(Value, Vec<String>, Positions)> {
    load_repairing(text, limits, true)
        .map(|(value, repairs, positions)| (value, repairs, positions.unwrap_or_default()))
}

fn load_repairing(
    text: &str,
    limits: &Limits,
    index: bool,
) -> Result<(Value, Vec<String>, Option<Positions>)> {
    if text.len() > limits.max_bytes {
        return Err(Error::Yaml {
            at: "document".into(),
            message: format!(
                "document is {} bytes, larger than the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        });
    }
    // Re-indented copies of `text`, made only when a tile relies on libyaml's leniency (below).
    let mut reindented: Option<String> = None;
    let mut repairs = Vec::new();
    for _ in 0..MAX_REINDENTED_SCALARS {
        let current = reindented.as_deref().unwrap_or(text);
        match parse(current, limits, index) {
            Err(Failure::Scan(e)) if e.info() == UNDER_INDENTED_QUOTED_SCALAR => {
                match reindent_quoted_scalar(current, e.marker()) {
                    Some(fixed) => {
                        let m = e.marker();
                        repairs.push(format!("line {} column {}", m.line(), m.col() + 1));
                        reindented = Some(fixed);
                    }
                    None => return Err(scan_error(e)),
                }
            }
            Err(Failure::Scan(e)) => return Err(scan_error(e)),
            Err(Failure::Tree(e)) => return Err(e),
            // A repair only indents continuation lines of quoted scalars, so every key keeps its
            // line and column: positions in the repaired text are those of `text`.
            Ok((value, positions)) => return Ok((value, repairs, positions)),
        }
    }
    Err(Error::Yaml {
        at: "document".into(),
        message: format!(
            "more than {MAX_REINDENTED_SCALARS} quoted scalars are indented less than their key"
        ),
    })
}

/// What stops a parse: the scanner's syntax error (some are recoverable, see
/// [`reindent_quoted_scalar`]) or an error building the value tree.
enum Failure {
    Scan(ScanError),
    Tree(Error),
}

fn parse(
    text: &str,
    limits: &Limits,
    index: bool,
) -> std::result::Result<(Value, Option<Positions>), Failure> {
    let mut builder = Builder::new(limits);
    let mut tracker = index.then(Tracker::default);
    let mut parser = Parser::new_from_str(text);
    while let Some(item) = parser.next_event() {
        let (event, span) = item.map_err(Failure::Scan)?;
        if let Some(t) = tracker.as_mut() {
            t.event(&event, &span);
        }
        let at = || format!("line {} column {}", span.start.line(), span.start.col() + 1);
        match builder.event(event) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Done) => break,
            Err(message) => return Err(Failure::Tree(Error::Yaml { at: at(), message })),
        }
    }
    Ok((
        builder.result.unwrap_or(Value::Null),
        tracker.map(Tracker::finish),
    ))
}

/// The scanner's message for a quoted scalar whose continuation line (or closing quote) starts
/// left of the block it belongs to.
const UNDER_INDENTED_QUOTED_SCALAR: &str = "invalid indentation in quoted scalar";

/// Each such scalar costs one more parse; real tiles have a handful.
const MAX_REINDENTED_SCALARS: usize = 256;

/// libyaml, which Ops Manager reads tiles with (Ruby's Psych), does not check the indentation
/// of a quoted scalar's continuation lines, and real tiles depend on it:
///
/// ```yaml
///   description: "A long text
/// that goes on here"
/// ```
///
/// The YAML spec (and `saphyr-parser`) refuses it. Line folding discards a continuation line's
/// leading white space, so indenting those lines up to the opening quote's column cannot change
/// the scalar's value: this returns `text` with that done for the scalar whose opening quote is
/// at `start`, or `None` when `start` is not an opening quote (nothing to repair).
fn reindent_quoted_scalar(text: &str, start: &saphyr_parser::Marker) -> Option<String> {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let first = start.line().checked_sub(1)?;
    let column = start.col();
    let quote = lines.get(first)?.chars().nth(column)?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    // Walk the scalar to its closing quote, remembering the continuation lines it spans.
    let mut continuation = Vec::new();
    let mut line = first;
    let mut chars: Vec<char> = lines[first].chars().skip(column + 1).collect();
    let mut i = 0;
    loop {
        if i >= chars.len() {
            line += 1;
            chars = lines.get(line)?.chars().collect();
            i = 0;
            if !chars.iter().all(|c| c.is_whitespace()) {
                continuation.push(line);
            }
            continue;
        }
        match (quote, chars[i]) {
            ('\'', '\'') if chars.get(i + 1) == Some(&'\'') => i += 2,
            ('"', '\\') => i += 2,
            (q, c) if c == q => break,
            _ => i += 1,
        }
    }
    let padded: Vec<String> = continuation
        .iter()
        .map(|&n| {
            let indent = lines[n]
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .count();
            format!("{}{}", " ".repeat(column.saturating_sub(indent)), lines[n])
        })
        .collect();
    if padded
        .iter()
        .zip(&continuation)
        .all(|(p, &n)| p == lines[n])
    {
        return None; // already indented: the scanner's complaint is something else
    }
    for (text, &n) in padded.iter().zip(&continuation) {
        lines[n] = text;
    }
    Some(lines.concat())
}

fn scan_error(e: ScanError) -> Error {
    Error::Yaml {
        at: format!("line {} column {}", e.marker().line(), e.marker().col() + 1),
        message: e.info().to_string(),
    }
}

enum Flow {
    Continue,
    Done,
}

/// A map or list under construction, with the anchor it will be registered under.
enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        start_nodes: usize,
    },
    Map {
        map: Map<String, Value>,
        anchor: usize,
        start_nodes: usize,
        /// The key read but not yet given its value.
        key: Option<Key>,
    },
}

/// A mapping key. `<<` (plain, untagged) is the YAML 1.1 merge key.
enum Key {
    Merge,
    Name(String),
}

struct Builder<'l> {
    limits: &'l Limits,
    stack: Vec<Frame>,
    /// Anchored values with their node counts (the cost of copying them at an alias).
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    result: Option<Value>,
    in_document: bool,
}

impl<'l> Builder<'l> {
    fn new(limits: &'l Limits) -> Self {
        Builder {
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            result: None,
            in_document: false,
        }
    }

    fn count(&mut self, n: usize) -> std::result::Result<(), String> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(format!(
                "document expands to more than {} values (alias or merge-key bomb?)",
                self.limits.max_nodes
            ));
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'_>) -> std::result::Result<Flow, String> {
        match event {
            Event::Nothing | Event::StreamStart => Ok(Flow::Continue),
            Event::StreamEnd => Ok(Flow::Done),
            Event::DocumentStart(_) => {
                if self.result.is_some() {
                    // Only the first document matters for metadata; stop reading.
                    return Ok(Flow::Done);
                }
                self.in_document = true;
                Ok(Flow::Continue)
            }
            Event::DocumentEnd => {
                self.in_document = false;
                if self.result.is_none() {
                    self.result = Some(Value::Null);
                }
                Ok(Flow::Done)
            }
            Event::Alias(id) => {
                let (value, size) =
                    self.anchors.get(&id).cloned().ok_or_else(|| {
                        "alias refers to an unknown or unfinished anchor".to_string()
                    })?;
                self.count(size)?;
                self.push_value(value, false, size)
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1)?;
                let plain_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                let value = resolve_scalar(&text, style, tag.as_deref());
                if anchor != 0 {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                self.push_value(value, plain_merge, 1)
            }
            Event::SequenceStart(anchor, _) => {
                self.open()?;
                let start_nodes = self.nodes;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                    start_nodes,
                });
                Ok(Flow::Continue)
            }
            Event::MappingStart(anchor, _) => {
                self.open()?;
                let start_nodes = self.nodes;
                self.stack.push(Frame::Map {
                    map: Map::new(),
                    anchor,
                    start_nodes,
                    key: None,
                });
                Ok(Flow::Continue)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self
                    .stack
                    .pop()
                    .ok_or_else(|| "unbalanced end of collection".to_string())?;
                let (value, anchor, start_nodes) = match frame {
                    Frame::Seq {
                        items,
                        anchor,
                        start_nodes,
                    } => (Value::Array(items), anchor, start_nodes),
                    Frame::Map {
                        map,
                        anchor,
                        start_nodes,
                        ..
                    } => (Value::Object(map), anchor, start_nodes),
                };
                let size = self.nodes.saturating_sub(start_nodes);
                if anchor != 0 {
                    self.anchors.insert(anchor, (value.clone(), size));
                }
                self.push_value(value, false, size)
            }
        }
    }

    fn open(&mut self) -> std::result::Result<(), String> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(format!(
                "nesting deeper than {} levels",
                self.limits.max_depth
            ));
        }
        self.count(1)
    }

    /// Places a finished value into the enclosing collection (or as the document root).
    fn push_value(
        &mut self,
        value: Value,
        plain_merge: bool,
        size: usize,
    ) -> std::result::Result<Flow, String> {
        let Some(top) = self.stack.last_mut() else {
            if self.result.is_none() {
                self.result = Some(value);
            }
            return Ok(Flow::Continue);
        };
        match top {
            Frame::Seq { items, .. } => items.push(value),
            Frame::Map { map, key, .. } => match key.take() {
                None => {
                    *key = Some(if plain_merge {
                        Key::Merge
                    } else {
                        Key::Name(key_text(&value)?)
                    });
                }
                Some(Key::Name(name)) => {
                    map.insert(name, value);
                }
                Some(Key::Merge) => {
                    merge_into(map, value)?;
                    // A merge copies the merged entries once more.
                    self.nodes = self.nodes.saturating_add(size);
                    if self.nodes > self.limits.max_nodes {
                        return Err(format!(
                            "document expands to more than {} values (alias or merge-key bomb?)",
                            self.limits.max_nodes
                        ));
                    }
                }
            },
        }
        Ok(Flow::Continue)
    }
}

/// Applies a `<<` merge the way Psych does: the merged map's entries are merged over the map
/// built so far (`Hash#merge!`), and with a list of maps the earlier maps win over later ones.
/// Real tiles put `<<` first, where this equals the YAML 1.1 merge-key spec.
fn merge_into(map: &mut Map<String, Value>, value: Value) -> std::result::Result<(), String> {
    match value {
        Value::Object(source) => {
            for (k, v) in source {
                map.insert(k, v);
            }
            Ok(())
        }
        Value::Array(items) => {
            let mut combined = Map::new();
            for item in items.into_iter().rev() {
                match item {
                    Value::Object(source) => {
                        for (k, v) in source {
                            combined.insert(k, v);
                        }
                    }
                    _ => return Err("`<<` merge list must contain only maps".to_string()),
                }
            }
            for (k, v) in combined {
                map.insert(k, v);
            }
            Ok(())
        }
        Value::Null => Ok(()),
        _ => Err("`<<` merge key needs a map or a list of maps".to_string()),
    }
}

/// JSON maps need string keys: scalar keys keep their text (`1: x` → `"1"`, `true` → `"true"`).
fn key_text(value: &Value) -> std::result::Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Array(_) | Value::Object(_) => {
            Err("complex (map or list) mapping keys are not supported".to_string())
        }
    }
}

/// Resolves one scalar event to a value: quoted and block scalars are strings, plain scalars
/// follow the YAML 1.1 type rules, `!!str`-style core tags force the type.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag {
        let core = tag.is_yaml_core_schema() || tag.handle == "!!";
        if core {
            match tag.suffix.as_str() {
                "str" | "binary" | "timestamp" => return Value::String(text.to_string()),
                "bool" => {
                    return parse_bool(text).map_or_else(|| Value::String(text.into()), Value::Bool)
                }
                "int" => {
                    return parse_int(text)
                        .map_or_else(|| Value::String(text.into()), Value::Number)
                }
                "float" => {
                    return parse_float(text)
                        .or_else(|| parse_int(text))
                        .map_or_else(|| Value::String(text.into()), Value::Number)
                }
                "null" => return Value::Null,
                _ => {}
            }
        }
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_string());
    }
    resolve_plain(text)
}

/// YAML 1.1 resolution of a plain (unquoted) scalar.
pub fn resolve_plain(text: &str) -> Value {
    if is_null(text) {
        return Value::Null;
    }
    if let Some(b) = parse_bool(text) {
        return Value::Bool(b);
    }
    if let Some(n) = parse_int(text) {
        return Value::Number(n);
    }
    if looks_like_float(text) {
        if let Some(n) = parse_float(text) {
            // Keep the number only if it prints back exactly as written (`1709.10` stays text).
            // Exponent notation is never a version, so it is always a number.
            if n.to_string() == text || text.contains(['e', 'E']) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text.to_string())
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Psych's booleans: yes/no, true/false, on/off in any case. (`y`/`n` are *not* booleans in
/// Psych; typed boolean fields of the metadata model accept them separately.)
fn parse_bool(text: &str) -> Option<bool> {
    // Compared without lowercasing into a new string: every plain scalar of a tile passes here.
    let is = |word: &str| text.eq_ignore_ascii_case(word);
    if is("yes") || is("true") || is("on") {
        Some(true)
    } else if is("no") || is("false") || is("off") {
        Some(false)
    } else {
        None
    }
}

/// YAML 1.1 integers: decimal with `_` separators, `0x` hex, `0b` binary, leading-zero octal.
fn parse_int(text: &str) -> Option<Number> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() || body.starts_with('_') {
        return None;
    }
    let (radix, digits) = if let Some(rest) = body.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = body.strip_prefix("0b") {
        (2, rest)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    // Every plain scalar of a tile passes here and most are words: reject them before building
    // anything, and copy the digits only when `_` separators have to be dropped.
    if !digits.chars().all(|c| c == '_' || c.is_digit(radix)) || digits.chars().all(|c| c == '_') {
        return None;
    }
    let magnitude = if digits.contains('_') {
        let cleaned: String = digits.chars().filter(|c| *c != '_').collect();
        u64::from_str_radix(&cleaned, radix).ok()?
    } else {
        u64::from_str_radix(digits, radix).ok()?
    };
    if negative {
        let signed = 0i64.checked_sub_unsigned(magnitude)?;
        Some(Number::from(signed))
    } else {
        Some(Number::from(magnitude))
    }
}

/// YAML 1.1 float syntax: digits with an obligatory `.`, optional exponent (`1.5`, `-2.`,
/// `.5`, `6.8523015e+5`). `.inf`/`.nan` are left as strings since JSON cannot hold them.
fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    // A float starts with a digit or `.`; anything else is text (the common case) — the checks
    // below would say the same, after scanning the whole scalar.
    if !matches!(body.as_bytes().first(), Some(b'0'..=b'9' | b'.')) {
        return false;
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if !mantissa.contains('.') || mantissa.matches('.').count() != 1 {
        return false;
    }
    if !mantissa.chars().any(|c| c.is_ascii_digit())
        || !mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
        || mantissa.starts_with('_')
    {
        return false;
    }
    match exponent {
        None => true,
        Some(e) => {
            let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        }
    }
}

fn parse_float(text: &str) -> Option<Number> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let f: f64 = cleaned.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    Number::from_f64(f)
}

// ---------------------------------------------------------------------------------------------
// Emitting
// ---------------------------------------------------------------------------------------------

/// Prints a value as block-style YAML (2-space indentation, lists not indented under their key,
/// as BOSH manifests are usually written). Strings are quoted whenever a YAML 1.1 reader (Psych,
/// go-yaml, this module) would otherwise read them as something else, so the output round-trips.
pub fn to_yaml_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => emit_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => emit_seq(items, 0, &mut out),
        other => {
            out.push_str(&scalar_inline(other, 0));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn emit_map(map: &Map<String, Value>, level: usize, out: &mut String) {
    for (k, v) in map {
        indent(out, level);
        out.push_str(&quote_if_needed(k));
        out.push(':');
        emit_child(v, level, out, true);
    }
}

fn emit_seq(items: &[Value], level: usize, out: &mut String) {
    for v in items {
        indent(out, level);
        out.push('-');
        match v {
            Value::Object(map) if !map.is_empty() => {
                // First entry on the dash line, the rest aligned under it.
                let mut first = true;
                for (k, val) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    out.push_str(&quote_if_needed(k));
                    out.push(':');
                    emit_child(val, level + 2, out, true);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                emit_seq(inner, level + 2, out);
            }
            other => emit_child(other, level, out, false),
        }
    }
}

/// Emits the value after `key:` or `-`. `in_map` tells whether lists nest at the same level
/// (under a key) or need extra indentation.
fn emit_child(v: &Value, level: usize, out: &mut String, in_map: bool) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            emit_map(map, level + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            emit_seq(items, if in_map { level } else { level + 2 }, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar_inline(other, level + 2));
            out.push('\n');
        }
    }
}

fn scalar_inline(v: &Value, block_indent: usize) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => {
            if let Some(block) = literal_block(s, block_indent) {
                block
            } else {
                quote_if_needed(s)
            }
        }
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
    }
}

/// Floats must contain a `.` to be floats in YAML 1.1 (`1e300` would read back as a string).
fn number_text(n: &Number) -> String {
    let text = n.to_string();
    if n.is_f64() && !text.contains('.') {
        if let Some(i) = text.find(['e', 'E']) {
            return format!("{}.0{}", &text[..i], &text[i..]);
        }
        return format!("{text}.0");
    }
    text
}

/// Multi-line strings (certificates, scripts) are easiest to read as literal blocks. Returns
/// `None` when a literal block could not represent the string exactly.
fn literal_block(s: &str, block_indent: usize) -> Option<String> {
    if !s.contains('\n') {
        return None;
    }
    if s.starts_with([' ', '\t', '\n'])
        || s.chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
    {
        return None;
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    // Lines made only of spaces could be confused with indentation; keep those quoted.
    if body.lines().any(|l| !l.is_empty() && l.trim().is_empty()) {
        return None;
    }
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|{chomp}\n");
    let lines: Vec<&str> = s.split('\n').collect();
    // `split` yields one extra empty element after the final newline.
    let count = if s.ends_with('\n') {
        lines.len() - 1
    } else {
        lines.len()
    };
    for (i, line) in lines.iter().take(count).enumerate() {
        if !line.is_empty() {
            indent(&mut out, block_indent);
            out.push_str(line);
        }
        if i + 1 < count {
            out.push('\n');
        }
    }
    Some(out)
}

/// Quotes a string when its plain form would not read back as the same string.
pub fn quote_if_needed(s: &str) -> String {
    if needs_quotes(s) {
        double_quoted(s)
    } else {
        s.to_string()
    }
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    // Anything YAML 1.1 would resolve to a non-string, plus `y`/`n` (booleans to go-yaml v2)
    // and sexagesimal-looking numbers (`1:30`), which YAML 1.1 readers turn into integers.
    if !matches!(resolve_plain(s), Value::String(ref t) if t == s)
        || matches!(s, "y" | "Y" | "n" | "N" | "=" | "<<")
        || looks_like_float(s)
        || looks_sexagesimal(s)
        || s.starts_with(".inf")
        || s.starts_with("-.inf")
        || s.eq_ignore_ascii_case(".nan")
    {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-x`/`?x`/`:x` are fine as plain scalars, but quoting is always safe and clearer.
        return true;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return true;
    }
    s.chars().any(|c| {
        c.is_control() || c == '\u{feff}' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}'
    })
}

fn looks_sexagesimal(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    body.contains(':')
        && body.split(':').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
        })
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control()
                || c == '\u{feff}'
                || c == '\u{85}'
                || c == '\u{2028}'
                || c == '\u{2029}' =>
            {
                let code = c as u32;
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{code:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml11_booleans_any_case() {
        let v = load("a: on\nb: OFF\nc: Yes\nd: no\ne: TRUE\nf: 'No'\ng: y\nh: n\n").unwrap();
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": true, "d": false, "e": true, "f": "No", "g": "y", "h": "n"})
        );
    }

    #[test]
    fn integers_with_underscores_hex_octal() {
        let v = load("a: 8_192\nb: 0x1F\nc: 010\nd: -42\ne: 0\nf: '8_192'\n").unwrap();
        assert_eq!(
            v,
            json!({"a": 8192, "b": 31, "c": 8, "d": -42, "e": 0, "f": "8_192"})
        );
    }

    #[test]
    fn versions_kept_as_written() {
        let v = load("a: 1709.10\nb: 1709.19\nc: 0.18.0\nd: 1.0\ne: 15\nf: 3586.26\ng: 1.50\n")
            .unwrap();
        assert_eq!(v["a"], json!("1709.10"));
        assert_eq!(v["b"].to_string(), "1709.19");
        assert_eq!(v["c"], json!("0.18.0"));
        assert_eq!(v["d"].to_string(), "1.0");
        assert_eq!(v["e"], json!(15));
        assert_eq!(v["f"].to_string(), "3586.26");
        assert_eq!(v["g"], json!("1.50"));
    }

    #[test]
    fn nulls_and_strings() {
        let v = load("a:\nb: ~\nc: null\nd: hello world\ne: '1.5'\n").unwrap();
        assert_eq!(
            v,
            json!({"a": null, "b": null, "c": null, "d": "hello world", "e": "1.5"})
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "\
defaults: &d
  run: on
  size: 1
extra: &e
  size: 2
  color: red
job:
  <<: *d
  name: j
list_merge:
  <<: [*d, *e]
  name: k
seq: [*d]
";
        let v = load(text).unwrap();
        assert_eq!(v["job"], json!({"run": true, "size": 1, "name": "j"}));
        // earlier maps in the list win over later ones
        assert_eq!(
            v["list_merge"],
            json!({"run": true, "size": 1, "color": "red", "name": "k"})
        );
        assert_eq!(v["seq"], json!([{"run": true, "size": 1}]));
    }

    #[test]
    fn explicit_keys_after_merge_override() {
        let v = load("a: &a {x: 1, y: 2}\nb:\n  <<: *a\n  y: 3\n").unwrap();
        assert_eq!(v["b"], json!({"x": 1, "y": 3}));
    }

    #[test]
    fn tagged_scalars() {
        let v = load("a: !!str 123\nb: !!int '7'\nc: !custom on\n").unwrap();
        assert_eq!(v, json!({"a": "123", "b": 7, "c": true}));
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = load(&text).unwrap_err();
        assert!(
            matches!(err, Error::Yaml { ref message, .. } if message.contains("bomb")),
            "{err}"
        );
    }

    #[test]
    fn merge_bomb_is_refused() {
        let limits = Limits {
            max_nodes: 1000,
            ..Limits::default()
        };
        let mut text = String::from("a0: &a0 {k0: 1, k1: 2, k2: 3}\n");
        for i in 1..40 {
            text.push_str(&format!("a{i}: &a{i} {{<<: *a{}, z{i}: 1}}\n", i - 1));
        }
        assert!(load_with_limits(&text, &limits).is_err());
    }

    #[test]
    fn depth_limit() {
        // Our own limit (128) is below the parser's own recursion guard.
        let deep = "[".repeat(200) + &"]".repeat(200);
        let err = load(&deep).unwrap_err();
        assert!(
            matches!(err, Error::Yaml { ref message, .. } if message.contains("nesting")),
            "{err}"
        );
        // Far deeper input is refused by the parser itself, still as an error, never a crash.
        let very_deep = "[".repeat(100_000);
        assert!(matches!(load(&very_deep), Err(Error::Yaml { .. })));
        let ok = "[".repeat(50) + &"]".repeat(50);
        assert!(load(&ok).is_ok());
    }

    #[test]
    fn size_limit() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(load_with_limits("a: 1234567890", &limits).is_err());
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = load("a: [1, 2\nb: c\n").unwrap_err();
        assert!(
            matches!(err, Error::Yaml { ref at, .. } if at.starts_with("line ")),
            "{err}"
        );
        assert!(load("a: *nope\n").is_err());
    }

    #[test]
    fn quoted_scalars_indented_less_than_their_key_load_as_libyaml_reads_them() {
        // Continuation lines and the closing quote left of the key, in both quote styles; the
        // value is what the spec's folding gives once they are indented.
        let text = "form:\n  label: \"First part\nsecond part,\n  third\n\"\n  hint: 'it''s\nhere'\n  after: 1\n";
        let v = load(text).unwrap();
        assert_eq!(v["form"]["label"], json!("First part second part, third "));
        assert_eq!(v["form"]["hint"], json!("it's here"));
        assert_eq!(v["form"]["after"], json!(1));
        // A blank line inside still folds to a line break, and an escaped quote does not end
        // the scalar early.
        let v = load("a:\n  b: \"x \\\" y\n\nz\"\n").unwrap();
        assert_eq!(v["a"]["b"], json!("x \" y\nz"));
        // A scalar that never closes is still an error naming a line.
        assert!(load("a:\n  b: \"open\nc: d\n").is_err());
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(load("").unwrap(), Value::Null);
        assert_eq!(load("# only a comment\n").unwrap(), Value::Null);
        assert_eq!(load("---\n...\n").unwrap(), Value::Null);
    }

    #[test]
    fn emitter_round_trips_tricky_strings() {
        let v = json!({
            "strings": ["on", "y", "No", "8_192", "1709.10", "1.5", "", " lead", "a: b", "#x",
                        "null", "~", "- x", "1:30", "multi\nline\n", "no newline\nend", "tab\there",
                        "trailing\n\n", "*star", "plain words", "ünïcode", "\u{7}bell", "0x1F"],
            "numbers": [1, -2, 1.5, 1e300],
            "bools": [true, false],
            "null": null,
            "empty_map": {},
            "empty_list": [],
            "nested": [{"a": 1, "b": [1, 2, {"c": "d"}]}, [1, [2]], "x"],
            "key: with colon": 1,
            "yes": "key that is a boolean word"
        });
        let text = to_yaml_string(&v);
        let back = load(&text).unwrap();
        assert_eq!(back, v, "emitted:\n{text}");
    }

    #[test]
    fn emitter_is_block_style() {
        let v =
            json!({"name": "dep", "instance_groups": [{"name": "web", "jobs": [{"name": "j"}]}]});
        assert_eq!(
            to_yaml_string(&v),
            "name: dep\ninstance_groups:\n- name: web\n  jobs:\n  - name: j\n"
        );
    }

    /// The scalar rules as first written (allocating a lowercase copy and a digit string for
    /// every scalar); the faster versions must answer exactly the same.
    mod reference {
        use serde_json::Number;

        pub fn parse_bool(text: &str) -> Option<bool> {
            match text.to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" => Some(true),
                "no" | "false" | "off" => Some(false),
                _ => None,
            }
        }

        pub fn parse_int(text: &str) -> Option<Number> {
            let (negative, body) = match text.as_bytes().first()? {
                b'-' => (true, &text[1..]),
                b'+' => (false, &text[1..]),
                _ => (false, text),
            };
            if body.is_empty() || body.starts_with('_') {
                return None;
            }
            let (radix, digits) = if let Some(rest) = body.strip_prefix("0x") {
                (16, rest)
            } else if let Some(rest) = body.strip_prefix("0b") {
                (2, rest)
            } else if body.len() > 1 && body.starts_with('0') {
                (8, &body[1..])
            } else {
                (10, body)
            };
            let cleaned: String = digits.chars().filter(|c| *c != '_').collect();
            if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            let magnitude = u64::from_str_radix(&cleaned, radix).ok()?;
            if negative {
                Some(Number::from(0i64.checked_sub_unsigned(magnitude)?))
            } else {
                Some(Number::from(magnitude))
            }
        }

        pub fn looks_like_float(text: &str) -> bool {
            let body = text.strip_prefix(['-', '+']).unwrap_or(text);
            let (mantissa, exponent) = match body.find(['e', 'E']) {
                Some(i) => (&body[..i], Some(&body[i + 1..])),
                None => (body, None),
            };
            if !mantissa.contains('.') || mantissa.matches('.').count() != 1 {
                return false;
            }
            if !mantissa.chars().any(|c| c.is_ascii_digit())
                || !mantissa
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
                || mantissa.starts_with('_')
            {
                return false;
            }
            match exponent {
                None => true,
                Some(e) => {
                    let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
                    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
                }
            }
        }
    }

    fn assert_same_scalar_rules(text: &str) {
        assert_eq!(
            parse_bool(text),
            reference::parse_bool(text),
            "bool {text:?}"
        );
        assert_eq!(parse_int(text), reference::parse_int(text), "int {text:?}");
        assert_eq!(
            looks_like_float(text),
            reference::looks_like_float(text),
            "float {text:?}"
        );
    }

    #[test]
    fn scalar_rules_match_the_reference_on_edge_cases() {
        for text in [
            "",
            "_",
            "0",
            "00",
            "0_",
            "0__1",
            "+",
            "-",
            "+5",
            "-5",
            "++5",
            "-+5",
            "+-5",
            "5_",
            "_5",
            "1_000",
            "1__0",
            "0x",
            "0x_",
            "0x1F",
            "0x1f",
            "-0x1F",
            "0xG",
            "0b",
            "0b101",
            "0b102",
            "0o17",
            "017",
            "018",
            "-017",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "٣",
            "１２",
            "yes",
            "YES",
            "yEs",
            "no",
            "NO",
            "on",
            "ON",
            "oN",
            "off",
            "OFF",
            "true",
            "True",
            "TRUE",
            "false",
            "FALSE",
            "y",
            "n",
            "Y",
            "ye",
            "yess",
            "tru",
            "ön",
            "1.5",
            "-1.5",
            "+.5",
            ".5",
            "5.",
            "-.",
            ".",
            "..",
            "1.2.3",
            "1_0.5",
            "_1.5",
            "1.5e3",
            "1.5E-3",
            "1.5e",
            "1.5e+",
            "e5",
            "E.5",
            ".e5",
            "1e5",
            "1709.10",
            "1.0",
            "inf",
            ".inf",
            "-.inf",
            ".nan",
            "NaN",
            " 1",
            "1 ",
            "plain words",
            "(( .properties.x.value ))",
        ] {
            assert_same_scalar_rules(text);
        }
    }

    proptest::proptest! {
        #[test]
        fn scalar_rules_match_the_reference(text in "[-+0-9a-fA-FxXbBoOeEnNsStTlLrRuU._ ]{0,8}") {
            assert_same_scalar_rules(&text);
        }
    }
}
