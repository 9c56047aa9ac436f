//! The `$( … )` actions of a kiln base file or part, read into [`Segment`]s.
//!
//! kiln runs Go's `text/template` with `$(` and `)` as delimiters over the base file. Of that
//! language, tiles use one action form: a pipeline of function calls whose arguments are
//! literals or fields of the variables (`$( release "cf" | select "version" )`,
//! `$( .some_key )`), with Go's trim markers (`$(- … -)`) and comments (`$(/* … */)`).
//! That is what this module reads. Control structures (`if`, `range`, `with`, `define`, …) and
//! template variables (`$x`) are refused by name rather than misread, and parentheses cannot
//! appear outside a string: with `)` as the closing delimiter Go's lexer refuses them too.

use crate::{Error, Result};

/// A piece of a template: text copied as it is, or an action to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Segment {
    Text(String),
    Action(Action),
}

/// One `$( … )`: where it is (for messages) and its pipeline.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Action {
    /// 1-based line of the `$(`.
    pub line: usize,
    /// The action as written, `$( … )`, quoted in messages.
    pub source: String,
    /// Commands separated by `|`; each command's result is the last argument of the next.
    pub commands: Vec<Vec<Token>>,
}

/// A token inside an action.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    /// A function name (or `true`/`false`/`nil`, see [`Token::Bool`]/[`Token::Nil`]).
    Ident(String),
    /// A string literal, escapes already applied.
    Str(String),
    /// A number literal as written.
    Number(String),
    Bool(bool),
    Nil,
    /// `.a.b`: a field path into the variables.
    Field(Vec<String>),
    /// `.`: the variables themselves.
    Dot,
}

/// Go template keywords: actions that are control structures, which bake does not evaluate.
const KEYWORDS: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
];

/// Splits `text` into text and actions. `file` names the source in errors, with the line when
/// `lines` (the text is the whole file, not one value of it).
pub(super) fn parse(text: &str, file: &str, lines: bool) -> Result<Vec<Segment>> {
    let mut segments = Vec::new();
    let mut rest_start = 0;
    let mut trim_next_text = false;
    while let Some(found) = text[rest_start..].find("$(") {
        let start = rest_start + found;
        let line = text[..start].matches('\n').count() + 1;
        let mut before = &text[rest_start..start];
        if trim_next_text {
            before = before.trim_start();
        }
        let mut pos = start + 2;
        // `$(- ` trims the white space before the action.
        if text[pos..].starts_with("- ") || text[pos..].starts_with("-\t") {
            before = before.trim_end();
            pos += 1;
        }
        push_text(&mut segments, before);
        let fail = |message: String| Error::Invalid {
            field: if lines {
                format!("{file} line {line}")
            } else {
                file.to_string()
            },
            message,
        };
        // A comment: `$(/* … */)`.
        let after_space = pos + text[pos..].len() - text[pos..].trim_start().len();
        if text[after_space..].starts_with("/*") {
            let close = text[after_space..]
                .find("*/")
                .ok_or_else(|| fail("unclosed comment `$(/*`".into()))?;
            let mut end = after_space + close + 2;
            end += text[end..].len() - text[end..].trim_start().len();
            trim_next_text = text[end..].starts_with("-)");
            if trim_next_text {
                end += 1;
            }
            if !text[end..].starts_with(')') {
                return Err(fail("a comment must end the action: `*/)`".into()));
            }
            rest_start = end + 1;
            continue;
        }
        let (tokens, end, trim_after) = lex_action(text, pos).map_err(&fail)?;
        let source = text[start..end].to_string();
        let commands = commands(tokens).map_err(|m| fail(format!("`{source}`: {m}")))?;
        segments.push(Segment::Action(Action {
            line,
            source,
            commands,
        }));
        trim_next_text = trim_after;
        rest_start = end;
    }
    let mut tail = &text[rest_start..];
    if trim_next_text {
        tail = tail.trim_start();
    }
    push_text(&mut segments, tail);
    Ok(segments)
}

fn push_text(segments: &mut Vec<Segment>, text: &str) {
    if !text.is_empty() {
        segments.push(Segment::Text(text.to_string()));
    }
}

/// Reads the tokens of an action whose body starts at `pos`; returns them, the offset just
/// after the closing `)` and whether it was ` -)` (trim the white space after).
fn lex_action(
    text: &str,
    mut pos: usize,
) -> std::result::Result<(Vec<Lexed>, usize, bool), String> {
    let mut tokens = Vec::new();
    loop {
        let before_space = pos;
        while let Some(c) = text[pos..].chars().next().filter(|c| c.is_whitespace()) {
            pos += c.len_utf8();
        }
        let rest = &text[pos..];
        let Some(c) = rest.chars().next() else {
            return Err("unclosed action: no `)` before the end of the file".into());
        };
        if rest.starts_with("-)") && pos > before_space {
            return Ok((tokens, pos + 2, true));
        }
        if c == ')' {
            return Ok((tokens, pos + 1, false));
        }
        match c {
            '"' => {
                let (value, len) = interpreted_string(rest)?;
                tokens.push(Lexed::Token(Token::Str(value)));
                pos += len;
            }
            '`' => {
                let close = rest[1..]
                    .find('`')
                    .ok_or("unterminated raw string (`)")?;
                tokens.push(Lexed::Token(Token::Str(rest[1..1 + close].to_string())));
                pos += close + 2;
            }
            '|' => {
                tokens.push(Lexed::Pipe);
                pos += 1;
            }
            '.' => {
                let mut path = Vec::new();
                let mut len = 0;
                while rest[len..].starts_with('.') {
                    let name_len = ident_len(&rest[len + 1..]);
                    if name_len == 0 {
                        break;
                    }
                    path.push(rest[len + 1..len + 1 + name_len].to_string());
                    len += 1 + name_len;
                }
                if path.is_empty() {
                    tokens.push(Lexed::Token(Token::Dot));
                    pos += 1;
                } else {
                    tokens.push(Lexed::Token(Token::Field(path)));
                    pos += len;
                }
            }
            '(' => {
                return Err("parentheses cannot be used: kiln's `)` delimiter ends the action (Go's template lexer refuses them too)".into())
            }
            '$' => return Err("template variables (`$x`) are not supported by bake".into()),
            c if c.is_ascii_digit() || ((c == '-' || c == '+') && rest[1..].starts_with(|d: char| d.is_ascii_digit())) => {
                let len = 1 + rest[1..]
                    .find(|d: char| !(d.is_ascii_alphanumeric() || matches!(d, '.' | '_' | '+' | '-')))
                    .unwrap_or(rest.len() - 1);
                tokens.push(Lexed::Token(Token::Number(rest[..len].to_string())));
                pos += len;
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = ident_len(rest);
                let word = &rest[..len];
                tokens.push(Lexed::Token(match word {
                    "true" => Token::Bool(true),
                    "false" => Token::Bool(false),
                    "nil" => Token::Nil,
                    _ => Token::Ident(word.to_string()),
                }));
                pos += len;
            }
            other => return Err(format!("unexpected `{other}` in the action")),
        }
    }
}

/// A lexed item: a token or the `|` between commands.
#[derive(Debug)]
enum Lexed {
    Token(Token),
    Pipe,
}

fn ident_len(s: &str) -> usize {
    s.char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(s.len())
}

/// A Go interpreted string literal at the start of `s`: its value and its length in `s`.
fn interpreted_string(s: &str) -> std::result::Result<(String, usize), String> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\n' => break,
            '\\' => {
                let (_, e) = chars.next().ok_or("unterminated string")?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let digits = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut hex = String::new();
                        for _ in 0..digits {
                            hex.push(chars.next().ok_or("unterminated string")?.1);
                        }
                        let code = u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("bad escape `\\{e}{hex}` in a string"))?;
                        out.push(code);
                    }
                    other => return Err(format!("unsupported escape `\\{other}` in a string")),
                }
            }
            c => out.push(c),
        }
    }
    Err("unterminated string".into())
}

/// Splits the tokens at `|` into commands, refusing what bake does not evaluate.
fn commands(tokens: Vec<Lexed>) -> std::result::Result<Vec<Vec<Token>>, String> {
    let mut commands = vec![Vec::new()];
    for t in tokens {
        match t {
            Lexed::Pipe => commands.push(Vec::new()),
            Lexed::Token(t) => {
                if let Some(command) = commands.last_mut() {
                    command.push(t);
                }
            }
        }
    }
    if commands.iter().any(Vec::is_empty) {
        return Err(if commands.len() == 1 {
            "an empty action".into()
        } else {
            "a `|` with nothing on one side".into()
        });
    }
    if let Some(Token::Ident(word)) = commands.first().and_then(|c| c.first()) {
        if KEYWORDS.contains(&word.as_str()) {
            return Err(format!(
                "`{word}` (a Go template control structure) is not supported by bake; only function calls and variables"
            ));
        }
    }
    Ok(commands)
}
