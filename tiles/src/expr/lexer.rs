//! Splits the text of one expression into tokens.
//!
//! A whole dotted reference (`..cf.uaa.admin.identity`, `$director.hostname`,
//! `.properties.sel.selected_option.parsed_manifest(snippet)`) is one token: dots never appear
//! elsewhere in the language, and keeping the path together means the parser never has to guess
//! where a reference ends. A `?` glued to the end of a reference is reported as `attached`,
//! because it is either part of the name (`value_present?`) or the ternary operator, and only
//! the parser can tell (by the token that follows).

/// How a reference starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// `.x` — this product.
    Dot,
    /// `..product.x` — another product.
    DotDot,
    /// `$context.x`.
    Dollar,
    /// `x` — job-local, `current_record`, or a job accessor.
    Bare,
}

/// One segment of a reference: a name, optionally called with one argument (`parsed_manifest(x)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seg {
    pub name: String,
    pub call: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Path {
        head: Head,
        segs: Vec<Seg>,
    },
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    LBracket,
    RBracket,
    Comma,
    LParen,
    RParen,
    OrOr,
    /// `attached`: written directly after a reference, with no space.
    Question {
        attached: bool,
    },
    Colon,
    End,
}

/// A token and the 1-based column (in characters) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned {
    pub tok: Tok,
    pub column: usize,
}

/// A syntax error: message and 1-based column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub message: String,
    pub column: usize,
}

fn err<T>(column: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        message: message.into(),
        column,
    })
}

/// Characters of a name segment. `-` is included because product, job and property names use it
/// (`..pivotal-container-service.deployment_name`, `.properties.pks-vrli.enabled.host.value`).
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn column(&self) -> usize {
        self.pos + 1
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_name_char) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn string(&mut self, quote: char) -> Result<String, SyntaxError> {
        let start = self.column();
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return err(start, "unterminated string literal"),
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    let escaped = self.peek_at(1);
                    self.pos += 2;
                    match escaped {
                        // In single quotes only the quote and the backslash are escapes (as in Ruby).
                        Some(c) if c == quote || c == '\\' => out.push(c),
                        Some('n') if quote == '"' => out.push('\n'),
                        Some('t') if quote == '"' => out.push('\t'),
                        Some(c) => {
                            out.push('\\');
                            out.push(c);
                        }
                        None => return err(start, "unterminated string literal"),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// The call argument after `name(`: a bare name or a quoted string.
    fn call_arg(&mut self) -> Result<String, SyntaxError> {
        let open = self.column();
        self.pos += 1; // '('
        self.skip_spaces();
        let arg = match self.peek() {
            Some(q @ ('\'' | '"')) => self.string(q)?,
            Some(c) if is_name_char(c) => self.name(),
            _ => return err(self.column(), "expected a name inside `( )`"),
        };
        self.skip_spaces();
        if self.peek() != Some(')') {
            return err(open, "unclosed `(` in call");
        }
        self.pos += 1;
        Ok(arg)
    }

    /// Segments of a path; the cursor is on the first character of the first name.
    fn segments(&mut self) -> Result<Vec<Seg>, SyntaxError> {
        let mut segs = Vec::new();
        loop {
            if !self.peek().is_some_and(is_name_char) {
                return err(self.column(), "expected a name");
            }
            let name = self.name();
            let call = if self.peek() == Some('(') {
                Some(self.call_arg()?)
            } else {
                None
            };
            segs.push(Seg { name, call });
            if self.peek() == Some('.') && self.peek_at(1).is_some_and(is_name_char) {
                self.pos += 1;
                continue;
            }
            if self.peek() == Some('.') {
                return err(self.column() + 1, "expected a name after `.`");
            }
            return Ok(segs);
        }
    }

    /// A word starting with a name character: a number, `true`/`false`, or a bare path.
    fn word(&mut self) -> Result<Tok, SyntaxError> {
        let start = self.pos;
        let column = self.column();
        let first = self.name();
        if first.chars().all(|c| c.is_ascii_digit()) {
            // A float is digits '.' digits; anything else starting with digits is a name.
            if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
                let save = self.pos;
                self.pos += 1;
                let frac = self.name();
                if frac.chars().all(|c| c.is_ascii_digit()) && self.peek() != Some('.') {
                    let text = format!("{first}.{frac}");
                    return text
                        .parse::<f64>()
                        .map(Tok::Float)
                        .or_else(|_| err(column, "invalid number"));
                }
                self.pos = save;
            } else if self.peek() != Some('.') && self.peek() != Some('(') {
                return first
                    .parse::<i64>()
                    .map(Tok::Int)
                    .or_else(|_| err(column, "integer out of range"));
            }
        }
        if (first == "true" || first == "false") && self.peek() != Some('.') {
            return Ok(Tok::Bool(first == "true"));
        }
        self.pos = start;
        let segs = self.segments()?;
        Ok(Tok::Path {
            head: Head::Bare,
            segs,
        })
    }

    fn next(&mut self, after_path: bool) -> Result<Spanned, SyntaxError> {
        let glued = after_path;
        let before = self.pos;
        self.skip_spaces();
        let spaced = self.pos != before;
        let column = self.column();
        let Some(c) = self.peek() else {
            return Ok(Spanned {
                tok: Tok::End,
                column,
            });
        };
        let tok = match c {
            '\'' | '"' => Tok::Str(self.string(c)?),
            '[' => {
                self.pos += 1;
                Tok::LBracket
            }
            ']' => {
                self.pos += 1;
                Tok::RBracket
            }
            '(' => {
                self.pos += 1;
                Tok::LParen
            }
            ')' => {
                self.pos += 1;
                Tok::RParen
            }
            ',' => {
                self.pos += 1;
                Tok::Comma
            }
            ':' => {
                self.pos += 1;
                Tok::Colon
            }
            '?' => {
                self.pos += 1;
                Tok::Question {
                    attached: glued && !spaced,
                }
            }
            '|' => {
                if self.peek_at(1) == Some('|') {
                    self.pos += 2;
                    Tok::OrOr
                } else {
                    return err(column, "`|` is not an operator; did you mean `||`?");
                }
            }
            '.' => {
                if self.peek_at(1) == Some('.') {
                    self.pos += 2;
                    Tok::Path {
                        head: Head::DotDot,
                        segs: self.segments()?,
                    }
                } else {
                    self.pos += 1;
                    Tok::Path {
                        head: Head::Dot,
                        segs: self.segments()?,
                    }
                }
            }
            '$' => {
                self.pos += 1;
                Tok::Path {
                    head: Head::Dollar,
                    segs: self.segments()?,
                }
            }
            '-' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => {
                self.pos += 1;
                match self.word()? {
                    Tok::Int(i) => Tok::Int(-i),
                    Tok::Float(x) => Tok::Float(-x),
                    _ => return err(column, "expected a number after `-`"),
                }
            }
            '=' | '!' | '&' | '+' | '*' | '/' | '<' | '>' | '%' => {
                return err(
                    column,
                    format!(
                        "`{c}` is not part of the expression language (only `||`, `? :`, references and literals)"
                    ),
                );
            }
            c if is_name_char(c) => self.word()?,
            c => return err(column, format!("unexpected character `{c}`")),
        };
        Ok(Spanned { tok, column })
    }
}

/// Tokenizes one expression (the text between `((` and `))`). Always ends with [`Tok::End`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Spanned>, SyntaxError> {
    let mut lexer = Lexer {
        chars: src.chars().collect(),
        pos: 0,
    };
    let mut out = Vec::new();
    let mut after_path = false;
    loop {
        let t = lexer.next(after_path)?;
        after_path = matches!(t.tok, Tok::Path { .. });
        let end = t.tok == Tok::End;
        out.push(t);
        if end {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|s| s.tok).collect()
    }

    #[test]
    fn a_path_is_one_token() {
        assert_eq!(
            toks("..cf.uaa.admin_credentials.identity"),
            vec![
                Tok::Path {
                    head: Head::DotDot,
                    segs: ["cf", "uaa", "admin_credentials", "identity"]
                        .iter()
                        .map(|n| Seg {
                            name: n.to_string(),
                            call: None
                        })
                        .collect()
                },
                Tok::End
            ]
        );
    }

    #[test]
    fn call_argument_is_part_of_the_segment() {
        let t = toks(".properties.s.selected_option.parsed_manifest( snip )");
        let Tok::Path { segs, .. } = &t[0] else {
            panic!("not a path: {t:?}")
        };
        assert_eq!(segs[3].call.as_deref(), Some("snip"));
    }

    #[test]
    fn glued_question_mark_is_marked_attached() {
        let t = toks("a.value_present? ? 'x' : 'y'");
        assert_eq!(t[1], Tok::Question { attached: true });
        assert_eq!(t[2], Tok::Question { attached: false });
    }

    #[test]
    fn numbers_and_booleans() {
        assert_eq!(
            toks("42 -7 1.5 true false"),
            vec![
                Tok::Int(42),
                Tok::Int(-7),
                Tok::Float(1.5),
                Tok::Bool(true),
                Tok::Bool(false),
                Tok::End
            ]
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(toks(r#"'it\'s'"#)[0], Tok::Str("it's".into()));
        assert_eq!(toks(r#""a\"b\nc""#)[0], Tok::Str("a\"b\nc".into()));
        assert_eq!(toks(r"'a\nb'")[0], Tok::Str("a\\nb".into()));
    }

    #[test]
    fn unsupported_operators_are_named() {
        let e = tokenize("a.value == 'x'").unwrap_err();
        assert!(e.message.contains("`=`"), "{e:?}");
        assert_eq!(e.column, 9);
    }
}
