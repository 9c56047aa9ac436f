//! The `$( … )` actions of a kiln base file or part, read into [`Segment`]s.
//!
//! kiln runs Go's `text/template` with `$(` and `)` as delimiters over the base file. Of that
//! language, tiles use one action form: a pipeline of function calls whose arguments are
//! literals or fields of the variables (`$( release "cf" | select "version" )`,
//! `$( .some_key )`), with Go's trim markers (`$(- … -)`) and comments (`$(/* … */)`).
//! That is what this module reads, and the rest of the language into a tree: the control
//! structures `if`/`else if`/`else`, `range` (over a list, or a mapping's values in key order)
//! and `with`, each closed by `end`; `break` and `continue` inside `range`; template variables
//! (`$x := …`, `$x = …`, `range $i, $e := …`, `$` for the variables themselves, `$x.field`);
//! and named templates (`define`, `template`, `block`). Parentheses cannot appear outside a
//! string: with `)` as the closing delimiter Go's lexer refuses them too.

use std::collections::BTreeMap;

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
    /// `template "name" pipeline` (and the call a `block` makes): the named template with `.`
    /// (and `$`) the pipeline's value, nil without one.
    Template {
        name: String,
        call: Action,
    },
    /// `break` and `continue`, inside a `range`.
    Break(Action),
    Continue(Action),
}

/// A text read: its segments and the templates it defines (`define`, `block`), by name.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub segments: Vec<Segment>,
    pub templates: BTreeMap<String, Vec<Segment>>,
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
    /// `$x := …` / `$x = …` before the pipeline (`range` may bind two: index or key, element).
    pub bind: Option<Bind>,
}

/// The variables an action declares or assigns.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bind {
    /// Without the `$`.
    pub names: Vec<String>,
    /// `:=` (a new variable, to the `end` of the enclosing structure) rather than `=`.
    pub declare: bool,
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
    /// `$name.a.b` (`name` empty for `$`): a template variable and a field path into it.
    Var {
        name: String,
        path: Vec<String>,
    },
}

/// The words that open, continue or close a structure, or are actions of their own.
const KEYWORDS: &[&str] = &[
    "if", "range", "with", "else", "end", "define", "block", "template", "break", "continue",
];

/// Reads `text` into text, actions, control structures and named templates. `file` names the
/// source in errors, with the line when `lines` (the text is the whole file, not one value of
/// it).
pub(super) fn parse(text: &str, file: &str, lines: bool) -> Result<Parsed> {
    let items = items(text, file, lines)?;
    let place = |line: usize| {
        if lines {
            format!("{file} line {line}")
        } else {
            file.to_string()
        }
    };
    let mut items = items.into_iter().peekable();
    let mut templates = BTreeMap::new();
    let mut reading = Reading {
        place: &place,
        templates: &mut templates,
    };
    let (segments, stop) = block(&mut items, &mut reading, false)?;
    match stop {
        Stop::Eof => Ok(Parsed {
            segments,
            templates,
        }),
        Stop::Else(_, action) | Stop::End(action) => Err(Error::Invalid {
            field: place(action.line),
            message: format!(
                "`{}` without an `if`, `range`, `with`, `define` or `block` before it",
                action.source
            ),
        }),
    }
}

/// What reading the tree carries along: how to name a line, and the templates defined so far.
struct Reading<'r> {
    place: &'r dyn Fn(usize) -> String,
    templates: &'r mut BTreeMap<String, Vec<Segment>>,
}

impl Reading<'_> {
    fn error(&self, action: &Action, message: String) -> Error {
        Error::Invalid {
            field: (self.place)(action.line),
            message: format!("`{}`: {message}", action.source),
        }
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

/// Reads segments until an `else`, an `end` or the end of the text; `in_range` when a `range`
/// encloses them (so `break` and `continue` may appear).
fn block(
    items: &mut Items,
    reading: &mut Reading<'_>,
    in_range: bool,
) -> Result<(Vec<Segment>, Stop)> {
    let mut out = Vec::new();
    while let Some(item) = items.next() {
        match item {
            Item::Segment(Segment::Break(action) | Segment::Continue(action)) if !in_range => {
                return Err(reading.error(&action, "outside a `range`".into()));
            }
            Item::Segment(s) => out.push(s),
            Item::End(action) => return Ok((out, Stop::End(action))),
            Item::Else(chain, action) => return Ok((out, Stop::Else(chain, action))),
            Item::Open(keyword @ ("define" | "block"), action) => {
                let (name, call) = named(&action).map_err(|m| reading.error(&action, m))?;
                if keyword == "define" && (call.bind.is_some() || !call.commands.is_empty()) {
                    return Err(reading.error(&action, "`define` takes a name only".into()));
                }
                let (body, stop) = block(items, reading, false)?;
                match stop {
                    Stop::End(_) => {}
                    Stop::Eof => {
                        return Err(reading.error(&action, "has no `end`".into()));
                    }
                    Stop::Else(_, marker) => {
                        return Err(reading.error(&marker, format!("no `else` in a `{keyword}`")))
                    }
                }
                if reading.templates.insert(name.clone(), body).is_some() {
                    return Err(
                        reading.error(&action, format!("the template `{name}` is defined twice"))
                    );
                }
                if keyword == "block" {
                    out.push(Segment::Template { name, call });
                }
            }
            Item::Open(keyword, action) => {
                out.push(structure(keyword, action, items, reading, in_range)?)
            }
        }
    }
    Ok((out, Stop::Eof))
}

/// The name a `define`, `block` or `template` action starts with, and the rest of it as the
/// action whose pipeline is the template's argument.
fn named(action: &Action) -> std::result::Result<(String, Action), String> {
    let mut call = action.clone();
    let name = match call.commands.first_mut().filter(|c| !c.is_empty()) {
        Some(first) => match first.remove(0) {
            Token::Str(name) => name,
            _ => return Err("a template's name is a string: `\"name\"`".into()),
        },
        None => return Err("a template's name is a string: `\"name\"`".into()),
    };
    if call.commands.first().is_some_and(Vec::is_empty) {
        if call.commands.len() > 1 {
            return Err("a `|` with nothing on one side".into());
        }
        call.commands.clear();
    }
    Ok((name, call))
}

/// The structure `keyword` opened by `action`, through its `end`.
fn structure(
    keyword: &'static str,
    action: Action,
    items: &mut Items,
    reading: &mut Reading<'_>,
    in_range: bool,
) -> Result<Segment> {
    let place = reading.place;
    let unclosed = || Error::Invalid {
        field: place(action.line),
        message: format!("`{}` has no `end`", action.source),
    };
    let body_in_range = in_range || keyword == "range";
    let (body, mut stop) = block(items, reading, body_in_range)?;
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
                let (body, next) = block(items, reading, in_range)?;
                branches.push((marker, body));
                stop = next;
            }
            Stop::Else(None, _) => {
                let (body, next) = block(items, reading, in_range)?;
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
        let (mut commands, bind) =
            commands(tokens).map_err(|m| fail(format!("`{source}`: {m}")))?;
        let keyword = match commands.first().and_then(|c| c.first()) {
            Some(Token::Ident(w)) => KEYWORDS.iter().copied().find(|k| k == w),
            _ => None,
        };
        if keyword.is_some() {
            commands[0].remove(0);
            if commands[0].is_empty() && commands.len() == 1 {
                commands.clear();
            }
        }
        let bind_fits = match (&bind, keyword) {
            (None, _) => true,
            (Some(b), None) => b.names.len() == 1,
            (Some(b), Some("if" | "with")) => b.names.len() == 1 && b.declare,
            (Some(b), Some("range")) => b.declare,
            _ => false,
        };
        if !bind_fits {
            return Err(fail(format!(
                "`{source}`: variables are declared (`$x := …`) or assigned (`$x = …`) in a \
                 plain action, an `if` or a `with`, and two (`$i, $e := …`) only by a `range`"
            )));
        }
        let action = Action {
            line,
            source,
            commands,
            bind,
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
            Some(k @ ("break" | "continue")) => {
                if !action.commands.is_empty() {
                    return Err(fail(format!("`{}`: `{k}` takes nothing", action.source)));
                }
                Item::Segment(if k == "break" {
                    Segment::Break(action)
                } else {
                    Segment::Continue(action)
                })
            }
            Some("template") => {
                let (name, call) =
                    named(&action).map_err(|m| fail(format!("`{}`: {m}", action.source)))?;
                Item::Segment(Segment::Template { name, call })
            }
            Some(k @ ("define" | "block")) => {
                Item::Open(if k == "define" { "define" } else { "block" }, action)
            }
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
            '$' => {
                let name_len = ident_len(&rest[1..]);
                let name = rest[1..1 + name_len].to_string();
                let mut len = 1 + name_len;
                let mut path = Vec::new();
                while rest[len..].starts_with('.') {
                    let field_len = ident_len(&rest[len + 1..]);
                    if field_len == 0 {
                        break;
                    }
                    path.push(rest[len + 1..len + 1 + field_len].to_string());
                    len += 1 + field_len;
                }
                tokens.push(Lexed::Token(Token::Var { name, path }));
                pos += len;
            }
            ':' if rest.starts_with(":=") => {
                tokens.push(Lexed::Declare);
                pos += 2;
            }
            '=' => {
                tokens.push(Lexed::Assign);
                pos += 1;
            }
            ',' => {
                tokens.push(Lexed::Comma);
                pos += 1;
            }
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

/// A lexed item: a token, the `|` between commands, or what binds variables.
#[derive(Debug)]
enum Lexed {
    Token(Token),
    Pipe,
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// `,` between the two variables of a `range`.
    Comma,
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

/// Splits the tokens at `|` into commands, after taking off the variables a leading `$x :=`
/// (or `$x =`, or `$i, $e :=`) binds (a keyword before them stays first).
fn commands(tokens: Vec<Lexed>) -> std::result::Result<(Vec<Vec<Token>>, Option<Bind>), String> {
    let mut tokens = tokens;
    let bind = take_bind(&mut tokens)?;
    let mut commands = vec![Vec::new()];
    for t in tokens {
        match t {
            Lexed::Pipe => commands.push(Vec::new()),
            Lexed::Token(t) => {
                if let Some(command) = commands.last_mut() {
                    command.push(t);
                }
            }
            Lexed::Declare | Lexed::Assign => {
                return Err("`:=` and `=` only follow the variables an action starts with".into())
            }
            Lexed::Comma => {
                return Err("a `,` only separates the two variables of a `range`".into())
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
    Ok((commands, bind))
}

/// Takes `$a [, $b] :=` or `$a =` off the front of `tokens` (after a keyword, or `else if` /
/// `else with`), if the action binds variables.
fn take_bind(tokens: &mut Vec<Lexed>) -> std::result::Result<Option<Bind>, String> {
    let Some(at) = tokens
        .iter()
        .take_while(|t| !matches!(t, Lexed::Pipe))
        .position(|t| matches!(t, Lexed::Declare | Lexed::Assign))
    else {
        return Ok(None);
    };
    let keywords = tokens[..at]
        .iter()
        .take_while(
            |t| matches!(t, Lexed::Token(Token::Ident(w)) if KEYWORDS.contains(&w.as_str())),
        )
        .count();
    let declare = matches!(tokens[at], Lexed::Declare);
    let mut names = Vec::new();
    for (i, t) in tokens[keywords..at].iter().enumerate() {
        match (i % 2, t) {
            (0, Lexed::Token(Token::Var { name, path })) if path.is_empty() && !name.is_empty() => {
                names.push(name.clone())
            }
            (1, Lexed::Comma) => {}
            _ => {
                return Err(
                    "only variables (`$x`, or `$i, $e` in a `range`) come before `:=` or `=`"
                        .into(),
                )
            }
        }
    }
    if names.is_empty() || names.len() > 2 || (at - keywords) % 2 == 0 {
        return Err(
            "only variables (`$x`, or `$i, $e` in a `range`) come before `:=` or `=`".into(),
        );
    }
    tokens.drain(keywords..=at);
    if tokens.len() == keywords || matches!(tokens.get(keywords), Some(Lexed::Pipe)) {
        return Err("a pipeline must follow `:=` or `=`".into());
    }
    Ok(Some(Bind { names, declare }))
}
