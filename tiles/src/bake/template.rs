//! The `$( … )` actions of a kiln base file or part, read into [`Segment`]s.
//!
//! kiln runs Go's `text/template` with `$(` and `)` as delimiters over the base file. Of that
//! language, tiles use one action form: a pipeline of function calls whose arguments are
//! literals or fields of the variables (`$( release "cf" | select "version" )`,
//! `$( .some_key )`), with Go's trim markers (`$(- … -)`) and comments (`$(/* … */)`).
//! That is what this module reads, and the control structures `if`/`else if`/`else`, `range`
//! (over a list, or a mapping's values in key order) and `with`, each closed by `end`, into
//! a tree. `define`, `template`, `block`, `break`, `continue` and template variables (`$x`)
//! are refused by name rather than misread, and parentheses cannot appear outside a string:
//! with `)` as the closing delimiter Go's lexer refuses them too.

use crate::{Error, Result};

/// A piece of a template: text copied as it is, an action to evaluate, or a control structure.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Segment {
    Text(String),
    Action(Action),
    /// `if` (and each `else if`): the first branch whose pipeline is true, else `otherwise`.
    If {
        branches: Vec<(Action, Vec<Segment>)>,
        otherwise: Vec<Segment>,
    },
    /// `range`: the body once per element (a list's items, a mapping's values in key order)
    /// with `.` that element; `otherwise` when there is none.
    Range {
        over: Action,
        body: Vec<Segment>,
        otherwise: Vec<Segment>,
    },
    /// `with`: the body with `.` the value when it is true, else `otherwise`.
    With {
        value: Action,
        body: Vec<Segment>,
        otherwise: Vec<Segment>,
    },
}

/// What an action is before the tree is built.
#[derive(Debug)]
enum Item {
    Segment(Segment),
    /// `if`, `range` or `with` and its pipeline.
    Open(&'static str, Action),
    /// `else`, or `else if …` / `else with …` (the keyword; the action holds the pipeline).
    Else(Option<&'static str>, Action),
    End(Action),
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

/// Go template keywords bake does not evaluate.
const UNSUPPORTED_KEYWORDS: &[&str] = &["define", "template", "block", "break", "continue"];

/// Reads `text` into text, actions and control structures. `file` names the source in errors,
/// with the line when `lines` (the text is the whole file, not one value of it).
pub(super) fn parse(text: &str, file: &str, lines: bool) -> Result<Vec<Segment>> {
    let items = items(text, file, lines)?;
    let place = |line: usize| {
        if lines {
            format!("{file} line {line}")
        } else {
            file.to_string()
        }
    };
    let mut items = items.into_iter().peekable();
    let (segments, stop) = block(&mut items, &place)?;
    match stop {
        Stop::Eof => Ok(segments),
        Stop::Else(_, action) | Stop::End(action) => Err(Error::Invalid {
            field: place(action.line),
            message: format!(
                "`{}` without an `if`, `range` or `with` before it",
                action.source
            ),
        }),
    }
}

/// Why a block ended.
enum Stop {
    Eof,
    /// `else`, or `else if …` / `else with …` (the keyword; the action holds the pipeline).
    Else(Option<&'static str>, Action),
    End(Action),
}

type Items = std::iter::Peekable<std::vec::IntoIter<Item>>;

/// Reads segments until an `else`, an `end` or the end of the text.
fn block(items: &mut Items, place: &dyn Fn(usize) -> String) -> Result<(Vec<Segment>, Stop)> {
    let mut out = Vec::new();
    while let Some(item) = items.next() {
        match item {
            Item::Segment(s) => out.push(s),
            Item::End(action) => return Ok((out, Stop::End(action))),
            Item::Else(chain, action) => return Ok((out, Stop::Else(chain, action))),
            Item::Open(keyword, action) => out.push(structure(keyword, action, items, place)?),
        }
    }
    Ok((out, Stop::Eof))
}

/// The structure `keyword` opened by `action`, through its `end`.
fn structure(
    keyword: &'static str,
    action: Action,
    items: &mut Items,
    place: &dyn Fn(usize) -> String,
) -> Result<Segment> {
    let unclosed = || Error::Invalid {
        field: place(action.line),
        message: format!("`{}` has no `end`", action.source),
    };
    let (body, mut stop) = block(items, place)?;
    let mut branches = vec![(action.clone(), body)];
    let mut otherwise = Vec::new();
    loop {
        match stop {
            Stop::Eof => return Err(unclosed()),
            Stop::End(_) => break,
            Stop::Else(Some(chained), marker) => {
                // `else if` / `else with`: the rest of the chain, closed by the one `end`.
                if chained != keyword {
                    return Err(Error::Invalid {
                        field: place(marker.line),
                        message: format!(
                            "`{}`: `else {chained}` can only continue a `{chained}`",
                            marker.source
                        ),
                    });
                }
                let (body, next) = block(items, place)?;
                branches.push((marker, body));
                stop = next;
            }
            Stop::Else(None, _) => {
                let (body, next) = block(items, place)?;
                otherwise = body;
                match next {
                    Stop::End(_) => break,
                    Stop::Eof => return Err(unclosed()),
                    Stop::Else(_, extra) => {
                        return Err(Error::Invalid {
                            field: place(extra.line),
                            message: format!(
                                "`{}`: another `else` after the plain `else` of `{}`",
                                extra.source, action.source
                            ),
                        })
                    }
                }
            }
        }
    }
    Ok(match keyword {
        "if" => Segment::If {
            branches,
            otherwise,
        },
        // `with a … else with b … else … end`: each `with` the otherwise of the one before.
        "with" => {
            let mut rest = otherwise;
            while let Some((value, body)) = branches.pop() {
                rest = vec![Segment::With {
                    value,
                    body,
                    otherwise: rest,
                }];
            }
            rest.remove(0)
        }
        _ => {
            let (over, body) = branches.remove(0);
            Segment::Range {
                over,
                body,
                otherwise,
            }
        }
    })
}

/// Splits `text` into text, actions and the keywords of control structures.
fn items(text: &str, file: &str, lines: bool) -> Result<Vec<Item>> {
    let mut segments: Vec<Item> = Vec::new();
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
        let mut commands = commands(tokens).map_err(|m| fail(format!("`{source}`: {m}")))?;
        let keyword = match commands.first().and_then(|c| c.first()) {
            Some(Token::Ident(w)) => ["if", "range", "with", "else", "end"]
                .into_iter()
                .find(|k| k == w),
            _ => None,
        };
        if keyword.is_some() {
            commands[0].remove(0);
            if commands[0].is_empty() && commands.len() == 1 {
                commands.clear();
            }
        }
        let action = Action {
            line,
            source,
            commands,
        };
        let needs_pipeline = |a: &Action| -> Result<()> {
            if a.commands.is_empty() || a.commands[0].is_empty() {
                return Err(fail(format!(
                    "`{}`: a pipeline must follow the keyword",
                    a.source
                )));
            }
            Ok(())
        };
        segments.push(match keyword {
            None => Item::Segment(Segment::Action(action)),
            Some("end") => {
                if !action.commands.is_empty() {
                    return Err(fail(format!("`{}`: `end` takes nothing", action.source)));
                }
                Item::End(action)
            }
            Some("else") => match action.commands.first().and_then(|c| c.first()) {
                None => Item::Else(None, action),
                Some(Token::Ident(k)) if k == "if" || k == "with" => {
                    let k = if k == "if" { "if" } else { "with" };
                    let mut action = action;
                    action.commands[0].remove(0);
                    needs_pipeline(&action)?;
                    Item::Else(Some(k), action)
                }
                Some(_) => {
                    return Err(fail(format!(
                        "`{}`: `else` takes nothing, or `if`/`with` and a pipeline",
                        action.source
                    )))
                }
            },
            Some(k) => {
                needs_pipeline(&action)?;
                Item::Open(
                    match k {
                        "if" => "if",
                        "range" => "range",
                        _ => "with",
                    },
                    action,
                )
            }
        });
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

fn push_text(segments: &mut Vec<Item>, text: &str) {
    if !text.is_empty() {
        segments.push(Item::Segment(Segment::Text(text.to_string())));
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
        if UNSUPPORTED_KEYWORDS.contains(&word.as_str()) {
            return Err(format!(
                "`{word}` (a Go template control structure) is not supported by bake; only `if`, `range`, `with`, function calls and variables"
            ));
        }
    }
    Ok(commands)
}
