//! Finding `(( ))` expressions in text and substituting them in a YAML tree.
//!
//! Three forms share the double-paren syntax (tile-metadata §7.2, §8):
//! * `(( EXPR ))` — an Ops Manager expression, evaluated here;
//! * `((( NAME )))` — a BOSH/CredHub variable written in metadata: one pair of parens is
//!   stripped and `((NAME))` goes into the manifest for the Director to resolve;
//! * `((NAME))` — a BOSH variable already in manifest syntax (tiles carry whole BOSH manifests
//!   and ops-files in named manifests), passed through untouched.
//!
//! Telling the last two apart: Ops Manager expressions in real tiles are written with spaces
//! inside the parens or start with `.` or `$`; BOSH variables never contain spaces and never start
//! with `.` or `$` (BOSH's own pattern is `((!?[-/.\w]+))`). So `((x))` is a BOSH variable when
//! its content has no surrounding or inner whitespace, starts with neither `.`, `$`, a quote, `(`
//! nor `[`, and has no `||` or `?`; or when it starts with `/` or `!` (absolute CredHub paths).
//! A bare job accessor written tightly, `((instances))`, is therefore a BOSH variable; write
//! `(( instances ))`.
//!
//! Substitution is done on the parsed YAML tree, node by node: a string that is exactly one
//! expression (surrounding whitespace ignored) is replaced by the expression's value, which may be
//! a map, list, number, bool or null. Expressions inside a longer string are converted to text and
//! concatenated (strings as is, null as empty, numbers/bools as written, lists/maps as compact
//! JSON — Ops Manager's own rendering of that case is undocumented, so tiles should not rely on it).

use serde_json::{Map, Value};

use super::ast::{Expr, Reference};
use super::eval::{evaluate, references, Resolver};
use super::parser::parse_expr;
use crate::{Error, Result};

/// One piece of a string that may contain expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Literal text, copied as is.
    Text(String),
    /// An Ops Manager expression; `source` is the text between the parens, trimmed.
    Expr { source: String, expr: Expr },
    /// A BOSH variable, written to the output as `((name))`.
    Placeholder(String),
}

/// A string split into text, expressions and BOSH placeholders.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    pub pieces: Vec<Piece>,
}

/// Whether the content between `((` and `))` is an Ops Manager expression (else a BOSH variable).
pub fn is_expression_content(content: &str) -> bool {
    let trimmed = content.trim();
    let Some(first) = trimmed.chars().next() else {
        return false;
    };
    if first == '/' || first == '!' {
        return false;
    }
    trimmed.len() != content.len()
        || matches!(first, '.' | '$' | '\'' | '"' | '(' | '[')
        || trimmed.chars().any(char::is_whitespace)
        || trimmed.contains("||")
        || trimmed.contains('?')
}

/// Finds the `))` closing an expression whose content starts at `from`, skipping quoted text and
/// balanced parentheses (a quoted literal may itself contain `((…))`).
fn find_close(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut i = from;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) => {
                if c == '\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                ')' if chars.get(i + 1) == Some(&')') => return Some(i),
                _ => {}
            },
        }
        i += 1;
    }
    None
}

fn find_triple_close(chars: &[char], from: usize) -> Option<usize> {
    (from..chars.len().saturating_sub(2))
        .find(|&i| chars[i] == ')' && chars[i + 1] == ')' && chars[i + 2] == ')')
}

impl Template {
    /// Splits `text`. `at` names where the text sits, for error messages. Unterminated `((` is
    /// kept as text (shell snippets in manifests contain parentheses); an expression that does
    /// not parse is an [`Error::Expr`].
    pub fn parse(text: &str, at: &str) -> Result<Template> {
        let chars: Vec<char> = text.chars().collect();
        let mut pieces = Vec::new();
        let mut buf = String::new();
        let mut i = 0;
        while i < chars.len() {
            let opens =
                |n: usize| chars.len() >= i + n && chars[i..i + n].iter().all(|c| *c == '(');
            if opens(3) {
                if let Some(close) = find_triple_close(&chars, i + 3) {
                    let content: String = chars[i + 3..close].iter().collect();
                    flush(&mut buf, &mut pieces);
                    pieces.push(Piece::Placeholder(content.trim().to_string()));
                    i = close + 3;
                    continue;
                }
            }
            if opens(2) {
                if let Some(close) = find_close(&chars, i + 2) {
                    let content: String = chars[i + 2..close].iter().collect();
                    if is_expression_content(&content) {
                        let source = content.trim().to_string();
                        let expr = parse_expr(&source).map_err(|e| Error::Expr {
                            expr: source.clone(),
                            at: at.to_string(),
                            message: format!("{} (column {})", e.message, e.column),
                        })?;
                        flush(&mut buf, &mut pieces);
                        pieces.push(Piece::Expr { source, expr });
                        i = close + 2;
                        continue;
                    }
                    if !content.trim().is_empty() {
                        flush(&mut buf, &mut pieces);
                        pieces.push(Piece::Placeholder(content));
                        i = close + 2;
                        continue;
                    }
                }
            }
            buf.push(chars[i]);
            i += 1;
        }
        flush(&mut buf, &mut pieces);
        Ok(Template { pieces })
    }

    /// True when the text contains at least one Ops Manager expression.
    pub fn has_expressions(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Expr { .. }))
    }

    /// The expression when the text is exactly one expression (surrounding whitespace aside).
    pub fn single_expression(&self) -> Option<&Expr> {
        let mut found = None;
        for p in &self.pieces {
            match p {
                Piece::Text(t) if t.trim().is_empty() => {}
                Piece::Expr { expr, .. } if found.is_none() => found = Some(expr),
                _ => return None,
            }
        }
        found
    }

    /// Every reference of every expression in the text, in order.
    pub fn references(&self) -> Vec<Reference> {
        self.pieces
            .iter()
            .flat_map(|p| match p {
                Piece::Expr { expr, .. } => references(expr),
                _ => Vec::new(),
            })
            .collect()
    }

    /// Evaluates the text: the value of a lone expression, otherwise a string.
    pub fn render<R: Resolver + ?Sized>(&self, resolver: &R, at: &str) -> Result<Value> {
        if let Some(expr) = self.single_expression() {
            return evaluate(expr, resolver, at);
        }
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Placeholder(name) => {
                    out.push_str("((");
                    out.push_str(name);
                    out.push_str("))");
                }
                Piece::Expr { expr, .. } => out.push_str(&to_text(&evaluate(expr, resolver, at)?)),
            }
        }
        Ok(Value::String(out))
    }
}

fn flush(buf: &mut String, pieces: &mut Vec<Piece>) {
    if !buf.is_empty() {
        pieces.push(Piece::Text(std::mem::take(buf)));
    }
}

/// How a value reads when it is embedded in a longer string.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Every expression in `text` parsed, for lint: `(source, expr)` pairs, or the first parse error.
pub fn expressions_in(text: &str, at: &str) -> Result<Vec<(String, Expr)>> {
    Ok(Template::parse(text, at)?
        .pieces
        .into_iter()
        .filter_map(|p| match p {
            Piece::Expr { source, expr } => Some((source, expr)),
            _ => None,
        })
        .collect())
}

/// `at.key`, or `key` at the top.
pub fn child_path(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// `at[index]`.
pub fn index_path(at: &str, index: usize) -> String {
    format!("{at}[{index}]")
}

/// Substitutes every expression in a YAML tree (see the module documentation for the rules).
/// `at` is the path of `value` itself, e.g. `job_types[2].manifest`; errors name the path of the
/// node holding the failing expression. Map keys may contain expressions too; they are always
/// rendered as text.
pub fn substitute<R: Resolver + ?Sized>(value: &Value, resolver: &R, at: &str) -> Result<Value> {
    match value {
        Value::String(s) => {
            if !s.contains("((") {
                return Ok(value.clone());
            }
            Template::parse(s, at)?.render(resolver, at)
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| substitute(v, resolver, &index_path(at, i)))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let path = child_path(at, k);
                let key = if k.contains("((") {
                    to_text(&Template::parse(k, &path)?.render(resolver, &path)?)
                } else {
                    k.clone()
                };
                out.insert(key, substitute(v, resolver, &path)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}
