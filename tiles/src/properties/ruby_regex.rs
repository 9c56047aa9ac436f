//! Ruby-flavoured regular expressions (as written in `must_match_regex` constraints) translated
//! for the `regex` crate.
//!
//! Ops Manager is a Ruby program, so tile authors write Onigmo regexes. Most of the syntax is
//! shared with the `regex` crate, but some of it means something else or does not exist there:
//!
//! | Ruby | meaning | translation |
//! |---|---|---|
//! | `^`, `$` | always line anchors | the whole pattern runs with `(?m)` |
//! | `(?m)`, `(?m:…)` | dot matches newline | `(?s)`, `(?s:…)` |
//! | `\Z` | end, or before a final newline | `(?:\n?\z)` |
//! | `\h`, `\H` | hex digit | `[0-9a-fA-F]`, `[^0-9a-fA-F]` |
//! | `\d \w \s` (and negations) | ASCII only | explicit ASCII classes (ranges inside a class) |
//! | `(?<name>…)`, `(?'name'…)` | named group | `(?P<name>…)` |
//! | `{,n}` | up to n | `{0,n}` |
//! | `{` not starting a repetition | a literal brace | `\{` |
//! | `\R`, `\e`, `\uHHHH` | line break, escape, code point | equivalents |
//! | `(?#…)` | comment | dropped |
//!
//! What the `regex` crate cannot do at all (it guarantees linear-time matching) is refused with
//! a clear message instead of a panic or a silently different pattern: look-ahead and
//! look-behind, atomic groups `(?>…)`, possessive quantifiers `*+ ++ ?+ {n}+`, backreferences
//! (`\1`, `\k<name>`), subexpression calls `\g<…>`, `\G`, `\K`, absence operators `(?~…)`.
//!
//! Two engines run the translation. The server uses the `regex` crate ([`compile`]). The browser
//! (wasm) uses `regex-lite`, whose syntax is the same but which has no Unicode tables: the
//! `regex` crate's parser and Unicode data were about a fifth of the form pages' wasm (issue 12,
//! BENCHMARKS.md). Where the two could answer differently — `\b`/`\B` or case-insensitive
//! matching applied to non-ASCII text — or where `regex-lite` refuses what `regex` accepts
//! (`\p{…}`, nested classes and class set operations), the browser does not decide and the
//! server's check, which runs on every save, is the one the operator sees ([`is_match`]).

use crate::error::{Error, Result};

/// ASCII classes for Ruby's `\d \w \s \h`, as class *contents* (without brackets).
fn ascii_class(letter: char) -> Option<&'static str> {
    match letter {
        'd' | 'D' => Some("0-9"),
        'w' | 'W' => Some("0-9A-Za-z_"),
        's' | 'S' => Some(r"\t\n\x0B\f\r\x20"),
        'h' | 'H' => Some("0-9a-fA-F"),
        _ => None,
    }
}

/// The complements of [`ascii_class`] as flat class contents: inside a class, `\D` is written as
/// ranges rather than a nested `[^0-9]`, which `regex-lite` (the browser's engine) cannot parse.
fn ascii_complement(letter: char) -> &'static str {
    match letter {
        'D' => r"\x00-\x2F\x3A-\x{10FFFF}",
        'W' => r"\x00-\x2F\x3A-\x40\x5B-\x5E\x60\x7B-\x{10FFFF}",
        'S' => r"\x00-\x08\x0E-\x1F\x21-\x{10FFFF}",
        _ => r"\x00-\x2F\x3A-\x40\x47-\x60\x67-\x{10FFFF}",
    }
}

fn unsupported(what: &str) -> Error {
    Error::Invalid {
        field: "must_match_regex".to_string(),
        message: format!("{what} is not supported (the regex engine matches in linear time)"),
    }
}

fn malformed(message: impl Into<String>) -> Error {
    Error::Invalid {
        field: "must_match_regex".to_string(),
        message: message.into(),
    }
}

/// If `chars[at..]` starts a valid repetition `{n}`, `{n,}`, `{n,m}` or Ruby's `{,m}`, returns
/// its translation and the index just past the closing brace.
fn repetition(chars: &[char], at: usize) -> Option<(String, usize)> {
    let close = chars.get(at..)?.iter().position(|&c| c == '}')? + at;
    let body: String = chars.get(at + 1..close)?.iter().collect();
    let (low, high) = match body.split_once(',') {
        Some((l, h)) => (l, Some(h)),
        None => (body.as_str(), None),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let text = match high {
        None if digits(low) => format!("{{{low}}}"),
        Some(h) if digits(low) && (h.is_empty() || digits(h)) => format!("{{{low},{h}}}"),
        Some(h) if low.is_empty() && digits(h) => format!("{{0,{h}}}"),
        _ => return None,
    };
    Some((text, close + 1))
}

/// Translates a Ruby regex to the `regex` crate's syntax. The result matches the same strings
/// (with Ruby's line-anchor semantics) or the function explains what cannot be translated.
pub fn translate(pattern: &str) -> Result<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    out.push_str("(?m)");
    let mut class_depth = 0usize;
    let mut i = 0usize;
    // Whether the previous item was a quantifier (so a following `+` would be possessive).
    let mut after_quantifier = false;
    while let Some(&c) = chars.get(i) {
        let was_quantifier = after_quantifier;
        after_quantifier = false;
        match c {
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err(malformed("the pattern ends with a lone backslash"));
                };
                i += 2;
                if class_depth > 0 {
                    match e {
                        'd' | 'w' | 's' | 'h' => out.push_str(ascii_class(e).unwrap_or_default()),
                        'D' | 'W' | 'S' | 'H' => out.push_str(ascii_complement(e)),
                        'b' => out.push_str(r"\x08"),
                        'e' => out.push_str(r"\x1B"),
                        'u' => i = unicode_escape(&chars, i, &mut out)?,
                        _ => {
                            out.push('\\');
                            out.push(e);
                        }
                    }
                    continue;
                }
                match e {
                    'd' | 'w' | 's' | 'h' => {
                        out.push('[');
                        out.push_str(ascii_class(e).unwrap_or_default());
                        out.push(']');
                    }
                    'D' | 'W' | 'S' | 'H' => {
                        out.push_str("[^");
                        out.push_str(ascii_class(e).unwrap_or_default());
                        out.push(']');
                    }
                    'Z' => out.push_str(r"(?:\n?\z)"),
                    'R' => out.push_str(r"(?:\r\n|[\n\x0B\f\r\x{85}\x{2028}\x{2029}])"),
                    'e' => out.push_str(r"\x1B"),
                    'a' => out.push_str(r"\x07"),
                    '<' | '>' => out.push(e),
                    'u' => i = unicode_escape(&chars, i, &mut out)?,
                    '1'..='9' => return Err(unsupported("a backreference (\\1…\\9)")),
                    'k' => return Err(unsupported("a named backreference (\\k<…>)")),
                    'g' => return Err(unsupported("a subexpression call (\\g<…>)")),
                    'G' => return Err(unsupported("the \\G anchor")),
                    'K' => return Err(unsupported("\\K (keep)")),
                    'X' => return Err(unsupported("\\X (extended grapheme cluster)")),
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' => {
                // POSIX bracket expressions inside a class are copied whole.
                if class_depth > 0 && chars.get(i + 1) == Some(&':') {
                    let rest = chars.get(i..).unwrap_or_default();
                    if let Some(end) = rest.windows(2).position(|w| w == [':', ']']) {
                        out.extend(rest.iter().take(end + 2));
                        i += end + 2;
                        continue;
                    }
                }
                class_depth += 1;
                out.push('[');
                i += 1;
                // A `]` right after `[` or `[^` is a literal member.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
                i += 1;
            }
            _ if class_depth > 0 => {
                out.push(c);
                i += 1;
            }
            '(' => i = group_open(&chars, i, &mut out)?,
            '*' | '+' | '?' => {
                if c == '+' && was_quantifier {
                    return Err(unsupported("a possessive quantifier (*+, ++, ?+, {n}+)"));
                }
                out.push(c);
                i += 1;
                // `x??`/`x*?` are lazy; a `+` after the lazy marker is not possessive.
                if chars.get(i) == Some(&'?') {
                    out.push('?');
                    i += 1;
                } else {
                    after_quantifier = true;
                }
            }
            '{' => match repetition(&chars, i) {
                Some((text, next)) => {
                    out.push_str(&text);
                    i = next;
                    if chars.get(i) == Some(&'?') {
                        out.push('?');
                        i += 1;
                    } else {
                        after_quantifier = true;
                    }
                }
                None => {
                    out.push_str(r"\{");
                    i += 1;
                }
            },
            '}' => {
                out.push_str(r"\}");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if class_depth > 0 {
        return Err(malformed("a character class `[` is not closed"));
    }
    Ok(out)
}

/// `\uHHHH` or `\u{H…}` (the `\u` already consumed; `at` points after it).
fn unicode_escape(chars: &[char], at: usize, out: &mut String) -> Result<usize> {
    if chars.get(at) == Some(&'{') {
        let rest = chars.get(at + 1..).unwrap_or_default();
        let Some(close) = rest.iter().position(|&c| c == '}') else {
            return Err(malformed("a \\u{…} escape is not closed"));
        };
        let hex: String = rest.iter().take(close).collect();
        out.push_str(&format!(r"\x{{{hex}}}"));
        return Ok(at + 1 + close + 1);
    }
    let hex: String = chars.get(at..at + 4).unwrap_or_default().iter().collect();
    if hex.len() != 4 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(malformed("a \\u escape needs four hex digits"));
    }
    out.push_str(&format!(r"\x{{{hex}}}"));
    Ok(at + 4)
}

/// Translates what follows a `(` at `at`; returns the index to continue from.
fn group_open(chars: &[char], at: usize, out: &mut String) -> Result<usize> {
    if chars.get(at + 1) != Some(&'?') {
        out.push('(');
        return Ok(at + 1);
    }
    let next = chars.get(at + 2).copied();
    match next {
        Some(':') => {
            out.push_str("(?:");
            Ok(at + 3)
        }
        Some('=') | Some('!') => Err(unsupported("look-ahead ((?=…), (?!…))")),
        Some('>') => Err(unsupported("an atomic group ((?>…))")),
        Some('~') => Err(unsupported("an absence operator ((?~…))")),
        Some('#') => {
            // Comment group: skip to the closing parenthesis.
            let rest = chars.get(at..).unwrap_or_default();
            match rest.iter().position(|&c| c == ')') {
                Some(end) => Ok(at + end + 1),
                None => Err(malformed("a (?#…) comment is not closed")),
            }
        }
        Some('<') if matches!(chars.get(at + 3), Some('=') | Some('!')) => {
            Err(unsupported("look-behind ((?<=…), (?<!…))"))
        }
        Some('<') | Some('\'') => {
            let close = if next == Some('<') { '>' } else { '\'' };
            let rest = chars.get(at + 3..).unwrap_or_default();
            let Some(end) = rest.iter().position(|&c| c == close) else {
                return Err(malformed("a named group's name is not closed"));
            };
            let name: String = rest.iter().take(end).collect();
            out.push_str("(?P<");
            out.push_str(&name);
            out.push('>');
            Ok(at + 3 + end + 1)
        }
        _ => {
            // Inline flags `(?imx-imx)` or `(?imx-imx:…)`. Ruby's `m` is "dot matches newline".
            let rest = chars.get(at + 2..).unwrap_or_default();
            let mut flags = String::new();
            for (n, &f) in rest.iter().enumerate() {
                match f {
                    'i' | 'x' | '-' => flags.push(f),
                    'm' => flags.push('s'),
                    ')' | ':' => {
                        out.push_str("(?");
                        out.push_str(&flags);
                        out.push(f);
                        return Ok(at + 2 + n + 1);
                    }
                    other => {
                        return Err(malformed(format!(
                            "the group option `(?{other}` is not understood"
                        )))
                    }
                }
            }
            Err(malformed("a group `(?` is not closed"))
        }
    }
}

/// Whether `value` matches the Ruby regex `pattern`. `Ok(None)`: this build's engine cannot
/// answer exactly as the server's would (the browser's, for the cases the module documentation
/// lists), so the caller leaves the check to the server. Errors are the translation's and the
/// server engine's, the same on both sides where the browser can tell.
pub fn is_match(pattern: &str, value: &str) -> Result<Option<bool>> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        Ok(Some(compile(pattern)?.is_match(value)))
    }
    #[cfg(target_arch = "wasm32")]
    {
        lite::is_match(pattern, value)
    }
}

/// Translates and compiles a Ruby regex. Errors name what is wrong, in words an author can act
/// on; they never panic.
///
/// Compiled patterns are kept (a tile has a few dozen, and every validation of a form, i.e. every
/// settings page render and save, checks them again: compiling them each time showed in the
/// page's profile, BENCHMARKS.md "Page loads"). A `Regex` clone shares the compiled program.
#[cfg(not(target_arch = "wasm32"))]
pub fn compile(pattern: &str) -> Result<regex::Regex> {
    static COMPILED: Kept<regex::Regex> = Kept::new();
    COMPILED.get_or_make(pattern, || {
        regex::RegexBuilder::new(&translate(pattern)?)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| malformed(format!("`{pattern}` is not a valid regex: {e}")))
    })
}

/// Compiled patterns kept by their Ruby text, for either engine.
struct Kept<T>(std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, T>>>);

impl<T: Clone> Kept<T> {
    /// More distinct patterns than any set of tiles has; past it the cache starts over.
    const LIMIT: usize = 4096;

    const fn new() -> Self {
        Kept(std::sync::OnceLock::new())
    }

    /// The kept value for `pattern`, or `make`'s, kept when it succeeds.
    fn get_or_make<E>(
        &self,
        pattern: &str,
        make: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let cache = self.0.get_or_init(Default::default);
        if let Some(found) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
            return Ok(found);
        }
        let made = make()?;
        if let Ok(mut kept) = cache.lock() {
            if kept.len() >= Self::LIMIT {
                kept.clear();
            }
            kept.insert(pattern.to_owned(), made.clone());
        }
        Ok(made)
    }
}

/// The browser's engine: `regex-lite` on the same translation. Compiled for the tests too, which
/// hold it to the server's answers.
#[cfg(any(target_arch = "wasm32", test))]
mod lite {
    use std::convert::Infallible;

    use super::{translate, Kept};
    use crate::error::Result;

    pub(super) fn is_match(pattern: &str, value: &str) -> Result<Option<bool>> {
        let translated = translate(pattern)?;
        let syntax = Unicode::of(&translated);
        // ASCII word boundaries agree with Unicode ones on ASCII text; ASCII case folding agrees
        // with Unicode folding when neither the text nor the pattern holds anything else (the
        // Kelvin sign folds to `k`).
        let boundary_differs = syntax.word_boundary && !value.is_ascii();
        let folding_differs = syntax.case_insensitive
            && (!value.is_ascii() || !translated.is_ascii() || syntax.code_point_escape);
        if boundary_differs || folding_differs {
            return Ok(None);
        }
        Ok(compiled(pattern, &translated).map(|re| re.is_match(value)))
    }

    /// `None` when `regex-lite` refuses the translation (the server's engine may accept it).
    fn compiled(pattern: &str, translated: &str) -> Option<regex_lite::Regex> {
        static COMPILED: Kept<Option<regex_lite::Regex>> = Kept::new();
        let Ok(compiled) = COMPILED.get_or_make(pattern, || {
            Ok::<_, Infallible>(
                regex_lite::RegexBuilder::new(translated)
                    .size_limit(1 << 20)
                    .build()
                    .ok(),
            )
        });
        compiled
    }

    /// What in a translated pattern `regex-lite` reads as ASCII and `regex` as Unicode.
    #[derive(Debug, Default, PartialEq)]
    pub(super) struct Unicode {
        /// `\b` or `\B` outside a class (inside one the translation wrote `\x08`).
        pub word_boundary: bool,
        /// An `i` among a group's flags.
        pub case_insensitive: bool,
        /// A `\x…` escape, which may name a non-ASCII character in an ASCII pattern.
        pub code_point_escape: bool,
    }

    impl Unicode {
        pub(super) fn of(translated: &str) -> Unicode {
            let mut found = Unicode::default();
            let mut chars = translated.chars().peekable();
            let mut class_depth = 0usize;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some('b' | 'B') if class_depth == 0 => found.word_boundary = true,
                        Some('x') => found.code_point_escape = true,
                        _ => {}
                    },
                    '[' => class_depth += 1,
                    ']' => class_depth = class_depth.saturating_sub(1),
                    '(' if class_depth == 0 && chars.peek() == Some(&'?') => {
                        chars.next();
                        let flags: String = chars
                            .clone()
                            .take_while(|f| f.is_ascii_alphabetic() || *f == '-')
                            .collect();
                        // `(?P<name>` and `(?:` take no flags; an `i` before a `-` sets the flag.
                        let set = flags.split('-').next().unwrap_or_default();
                        if !flags.starts_with('P') && set.contains('i') {
                            found.case_insensitive = true;
                        }
                    }
                    _ => {}
                }
            }
            found
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        compile(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(text)
    }

    #[test]
    fn anchors() {
        assert!(matches(r"\A[^!@#$%^&*()]*\z", "Hello world"));
        assert!(!matches(r"\A[^!@#$%^&*()]*\z", "Hello (world)"));
        assert!(matches(r"\A[^0-9]*\z", "abc"));
        assert!(!matches(r"\A[^0-9]*\z", "ab1c"));
        // Ruby's \Z allows one trailing newline, \z does not.
        assert!(matches(r"\Aabc\Z", "abc\n"));
        assert!(matches(r"\Aabc\Z", "abc"));
        assert!(!matches(r"\Aabc\z", "abc\n"));
        // ^ and $ are line anchors in Ruby.
        assert!(matches(r"^b$", "a\nb\nc"));
    }

    #[test]
    fn ruby_classes_are_ascii() {
        assert!(matches(r"\A\h+\z", "deadBEEF09"));
        assert!(!matches(r"\A\h+\z", "xyz"));
        assert!(matches(r"\A\H\z", "x"));
        assert!(matches(r"\A[\h-]+\z", "ab-12"));
        assert!(matches(r"\A[^\H]+\z", "ab12"));
        assert!(!matches(r"\A\d+\z", "١٢٣")); // Arabic-Indic digits: not \d in Ruby
        assert!(matches(r"\A\d+\z", "123"));
        assert!(!matches(r"\A\w+\z", "é"));
        assert!(matches(r"\A[[:alpha:]]+\z", "abc"));
    }

    #[test]
    fn groups_flags_and_braces() {
        assert!(matches(
            r"\A(?<user>[a-z]+)@(?'host'[a-z.]+)\z",
            "ops@example.com"
        ));
        let re = compile(r"(?<word>\w+)").unwrap();
        assert!(re.capture_names().any(|n| n == Some("word")));
        assert!(matches(r"(?m:a.b)", "a\nb")); // Ruby m = dot-all
        assert!(matches(r"(?i)abc", "ABC"));
        assert!(matches(r"\Aa{,2}\z", "aa"));
        assert!(!matches(r"\Aa{,2}\z", "aaa"));
        assert!(matches(r"\A{foo}\z", "{foo}"));
        assert!(matches(r"\Aa{2,3}?\z", "aa"));
        assert!(matches(r"a(?#comment)b", "ab"));
        assert!(matches(r"\A\u00e9\z", "é"));
        assert!(matches(r"\A\u{1F600}\z", "😀"));
        assert!(matches(r"\A[]a]+\z", "]a"));
        assert!(matches(r"\A\<x\>\z", "<x>"));
        assert!(matches(r"a\Rb", "a\r\nb"));
    }

    #[test]
    fn unsupported_features_are_clear_errors() {
        for (pattern, word) in [
            (r"a*+", "possessive"),
            (r"a++b", "possessive"),
            (r"a?+", "possessive"),
            (r"a{2}+", "possessive"),
            (r"(?>ab)", "atomic"),
            (r"(?=a)", "look-ahead"),
            (r"(?!a)", "look-ahead"),
            (r"(?<=a)b", "look-behind"),
            (r"(?<!a)b", "look-behind"),
            (r"(a)\1", "backreference"),
            (r"(?<n>a)\k<n>", "backreference"),
            (r"\Gx", "\\G"),
            (r"(?~abc)", "absence"),
        ] {
            let err = translate(pattern).expect_err(pattern).to_string();
            assert!(err.contains(word), "{pattern}: {err}");
        }
        // A lazy quantifier followed by `+` as a literal would be a double quantifier: the
        // regex crate refuses it, still without a panic.
        assert!(compile(r"[").is_err());
        assert!(compile(r"a\").is_err());
        assert!(compile(r"(?q)").is_err());
        assert!(compile(r"(abc").is_err());
        assert!(compile(r"(?<name").is_err());
        assert!(compile(r"\u12").is_err());
    }

    /// Patterns of real tiles and of the tests above, and what a tile author might write.
    const PATTERNS: &[&str] = &[
        r"\A[^!@#$%^&*()]*\z",
        r"\A[^0-9]*\z",
        r"\Aabc\Z",
        r"^b$",
        r"\A\h+\z",
        r"\A[\h-]+\z",
        r"\A[^\H]+\z",
        r"\A\d+\z",
        r"\A\w+\z",
        r"\A\s*\z",
        r"\A[[:alpha:]]+\z",
        r"\A(?<user>[a-z]+)@(?'host'[a-z.]+)\z",
        r"\A[x\D]+\z",
        r"\A[^\W_]+\z",
        r"\A[\S]+\z",
        r"(?m:a.b)",
        r"(?i)abc",
        r"(?i)\Ak\z",
        r"(?i:s)",
        r"\Aa{,2}\z",
        r"\A{foo}\z",
        r"a(?#comment)b",
        r"\A\u00e9\z",
        r"\A[]a]+\z",
        r"a\Rb",
        r"\bword\b",
        r"\Bor\B",
        r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        r"^(\d{1,3}\.){3}\d{1,3}$",
        r"^https?://[^\s/$.?#].[^\s]*$",
        r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
        r"\A(?x) a b c \z",
        r"\A\p{L}+\z",
        r"\A[a-z&&[^aeiou]]+\z",
        r"\A[\w&&[^_]]+\z",
        r"é+",
        r"(?i)é",
    ];

    const VALUES: &[&str] = &[
        "",
        "abc",
        "ABC",
        "Hello world",
        "Hello (world)",
        "ab1c",
        "abc\n",
        "a\nb\nc",
        "deadBEEF09",
        "ab-12",
        "123",
        "١٢٣",
        "é",
        "É",
        "ops@example.com",
        "a\nb",
        "aa",
        "aaa",
        "{foo}",
        "]a",
        "a\r\nb",
        "a word here",
        "swordfish",
        "k",
        "\u{212A}",
        "\u{17F}",
        "bcd",
        "my-cluster-1",
        "10.0.0.1",
        "https://example.com/x",
        "wordé",
        "éword",
        " \t",
    ];

    #[test]
    fn the_browsers_engine_answers_as_the_servers_or_not_at_all() {
        let mut decided = 0;
        for pattern in PATTERNS {
            for value in VALUES {
                let server = compile(pattern).map(|re| re.is_match(value));
                match (lite::is_match(pattern, value), server) {
                    (Ok(Some(browser)), Ok(server)) => {
                        assert_eq!(browser, server, "{pattern:?} on {value:?}");
                        decided += 1;
                    }
                    (Ok(None), _) => {}
                    (Err(browser), Err(server)) => {
                        assert_eq!(browser.to_string(), server.to_string(), "{pattern:?}")
                    }
                    (browser, server) => {
                        panic!("{pattern:?} on {value:?}: browser {browser:?}, server {server:?}")
                    }
                }
            }
        }
        // The browser must decide the patterns tiles use, not leave everything to the server.
        assert!(decided > PATTERNS.len() * VALUES.len() * 3 / 4, "{decided}");
        for pattern in &PATTERNS[..15] {
            for value in VALUES {
                assert!(
                    lite::is_match(pattern, value).unwrap().is_some(),
                    "{pattern:?} on {value:?}"
                );
            }
        }
    }

    #[test]
    fn the_browser_leaves_unicode_sensitive_cases_to_the_server() {
        // Unicode case folding: the Kelvin sign is a `k` to the server's engine.
        assert!(matches(r"(?i)\Ak\z", "\u{212A}"));
        assert_eq!(lite::is_match(r"(?i)\Ak\z", "\u{212A}").unwrap(), None);
        assert_eq!(lite::is_match(r"(?i)\Ak\z", "K").unwrap(), Some(true));
        assert_eq!(lite::is_match(r"(?i)\A\u212A\z", "k").unwrap(), None);
        // Word boundaries next to non-ASCII letters.
        assert_eq!(lite::is_match(r"\bword\b", "éword").unwrap(), None);
        assert_eq!(lite::is_match(r"\bword\b", "a word").unwrap(), Some(true));
        // What regex-lite does not parse at all.
        assert_eq!(lite::is_match(r"\A\p{L}+\z", "abc").unwrap(), None);
        assert_eq!(
            lite::is_match(r"\A[a-z&&[^aeiou]]+\z", "bcd").unwrap(),
            None
        );
        // The translation's own refusals are the same errors on both sides.
        assert!(lite::is_match(r"(?=a)", "a").is_err());
        let syntax = lite::Unicode::of(&translate(r"(?<n>x)[\b](?i-m:y)").unwrap());
        // `[\b]` is a backspace, written `\x08`: no boundary, but an escape.
        assert!(!syntax.word_boundary && syntax.case_insensitive && syntax.code_point_escape);
        let syntax = lite::Unicode::of(&translate(r"(?-i:x)\b").unwrap());
        assert!(syntax.word_boundary && !syntax.case_insensitive);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for p in [
            "",
            "\\",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "(?",
            "(?<",
            "[[:",
            "\\u{",
            "a{1,",
            "[^",
            "\\p{Nope}",
            "(?#",
            "é[é-]",
            "{,}",
            "x{99999999999}",
        ] {
            let _ = compile(p);
            let _ = lite::is_match(p, "x");
        }
    }
}
