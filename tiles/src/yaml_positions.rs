//! Where each YAML path of a document is written: the line and column of every map key and list
//! item, recorded while [`crate::yaml`] reads the document (one index per document, no second
//! parse). Lint findings name YAML paths (`form_types[3].property_inputs[2].reference`); this
//! index turns them into `line:column` an editor can jump to.
//!
//! A path the index lacks (a key inside a `manifest: |` text, a key a `<<` merge brought in)
//! falls back to its nearest indexed ancestor; given the text the finding is about (an
//! expression, a property name), [`Positions::locate`] then finds it inside that ancestor's
//! value, so a finding in a job template's manifest still names the line it is on.

use std::collections::HashMap;

use saphyr_parser::{Event, Span};
use serde::{Deserialize, Serialize};

/// A place in the document: line and column, both counted from 1 (as editors count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One indexed path: where its key (or list item) starts, and the lines its value spans.
#[derive(Debug, Clone, Copy)]
struct Entry {
    at: Position,
    value_start: Position,
    value_end_line: usize,
}

/// The path → position index of one YAML document.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    entries: HashMap<String, Entry>,
}

impl Positions {
    /// Where `path` is written: its own entry, else that of its nearest indexed ancestor. With
    /// `within`, the first occurrence of that text inside the value found (its first line only,
    /// at or after the value's start) wins over the key's position; `text` is the document the
    /// index was built from.
    pub fn locate(&self, path: &str, within: Option<&str>, text: &str) -> Option<Position> {
        let mut key = path;
        let entry = loop {
            if key.is_empty() {
                return None; // the document itself is no place to point at
            }
            if let Some(e) = self.entries.get(key) {
                break *e;
            }
            key = parent(key)?;
        };
        let needle = within
            .and_then(|w| w.lines().map(str::trim).find(|l| !l.is_empty()))
            .filter(|n| !n.is_empty());
        if let Some(needle) = needle {
            if let Some(found) =
                find_in_lines(text, needle, entry.value_start, entry.value_end_line)
            {
                return Some(found);
            }
        }
        Some(entry.at)
    }

    /// Number of indexed paths.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing was indexed (an empty or scalar document).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → `` (the document).
fn parent(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

/// The first occurrence of `needle` from `start` to the end of line `end_line`.
fn find_in_lines(text: &str, needle: &str, start: Position, end_line: usize) -> Option<Position> {
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(start.line.saturating_sub(1))
        .take(end_line.max(start.line) + 1 - start.line)
    {
        let number = i + 1;
        let from = if number == start.line {
            line.char_indices()
                .nth(start.column.saturating_sub(1))
                .map_or(line.len(), |(b, _)| b)
        } else {
            0
        };
        if let Some(byte) = line[from..].find(needle) {
            let column = line[..from + byte].chars().count() + 1;
            return Some(Position {
                line: number,
                column,
            });
        }
    }
    None
}

fn position(marker: &saphyr_parser::Marker) -> Position {
    Position {
        line: marker.line(),
        column: marker.col() + 1,
    }
}

/// A map or list being read, by path.
enum Frame {
    Seq {
        path: String,
        next: usize,
    },
    Map {
        path: String,
        key: Option<(String, Position)>,
    },
}

/// Follows the event stream and records the position of every path.
#[derive(Default)]
pub(crate) struct Tracker {
    stack: Vec<Frame>,
    positions: Positions,
}

impl Tracker {
    /// Records `event` (read at `span`).
    pub(crate) fn event(&mut self, event: &Event<'_>, span: &Span) {
        match event {
            Event::Scalar(text, ..) => {
                if let Some(path) = self.node_path(span, Some(text.as_ref())) {
                    self.end(&path, span);
                }
            }
            Event::Alias(_) => {
                if let Some(path) = self.node_path(span, None) {
                    self.end(&path, span);
                }
            }
            Event::SequenceStart(..) => {
                let path = self.node_path(span, None).unwrap_or_default();
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingStart(..) => {
                let path = self.node_path(span, None).unwrap_or_default();
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(Frame::Seq { path, .. } | Frame::Map { path, .. }) = self.stack.pop() {
                    self.end(&path, span);
                }
            }
            _ => {}
        }
    }

    pub(crate) fn finish(self) -> Positions {
        self.positions
    }

    /// The path of a node starting at `span`, recorded; `None` when the node is a map key
    /// (`key_text` is its text: the next node is its value).
    fn node_path(&mut self, span: &Span, key_text: Option<&str>) -> Option<String> {
        let start = position(&span.start);
        let (path, at) = match self.stack.last_mut() {
            None => (String::new(), start),
            Some(Frame::Seq { path, next }) => {
                let item = format!("{path}[{next}]");
                *next += 1;
                (item, start)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                None => {
                    // A key; a map or list as key (unsupported by the loader) gets a dummy name.
                    *key = Some((key_text.unwrap_or("?").to_owned(), start));
                    return None;
                }
                Some((name, at)) => {
                    let item = if path.is_empty() {
                        name
                    } else {
                        format!("{path}.{name}")
                    };
                    (item, at)
                }
            },
        };
        self.positions.entries.entry(path.clone()).or_insert(Entry {
            at,
            value_start: start,
            value_end_line: start.line,
        });
        Some(path)
    }

    fn end(&mut self, path: &str, span: &Span) {
        if let Some(e) = self.positions.entries.get_mut(path) {
            e.value_end_line = e.value_end_line.max(span.end.line());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(text: &str) -> Positions {
        crate::yaml::load_indexed(text, &crate::yaml::Limits::default())
            .expect("loads")
            .2
    }

    const DOC: &str = "\
name: demo
form_types:
- name: settings
  property_inputs:
  - reference: .properties.a
  - {reference: .properties.b, label: B}
job_types:
- name: web
  templates:
  - name: web
    manifest: |
      port: 8080
      greting: (( .properties.greeting.value ))
";

    #[test]
    fn keys_and_items_have_their_line_and_column() {
        let p = index(DOC);
        let at = |path: &str| p.locate(path, None, DOC).map(|p| (p.line, p.column));
        assert_eq!(at("name"), Some((1, 1)));
        assert_eq!(at("form_types"), Some((2, 1)));
        assert_eq!(at("form_types[0]"), Some((3, 3)));
        assert_eq!(at("form_types[0].name"), Some((3, 3)));
        assert_eq!(
            at("form_types[0].property_inputs[0].reference"),
            Some((5, 5))
        );
        assert_eq!(at("form_types[0].property_inputs[1].label"), Some((6, 32)));
        assert_eq!(at("job_types[0].templates[0].manifest"), Some((11, 5)));
    }

    #[test]
    fn a_path_beyond_the_index_falls_back_and_finds_its_text() {
        let p = index(DOC);
        let manifest_key = p.locate("job_types[0].templates[0].manifest.greting", None, DOC);
        assert_eq!(
            manifest_key,
            Some(Position {
                line: 11,
                column: 5
            })
        );
        let inside = p.locate("job_types[0].templates[0].manifest", Some("greting:"), DOC);
        assert_eq!(
            inside,
            Some(Position {
                line: 13,
                column: 7
            })
        );
        let expression = p.locate(
            "job_types[0].templates[0].manifest",
            Some("(( .properties.greeting.value ))"),
            DOC,
        );
        assert_eq!(
            expression,
            Some(Position {
                line: 13,
                column: 16
            })
        );
        // Text that is not there: the key's own position.
        let absent = p.locate("job_types[0].templates[0].manifest", Some("nowhere"), DOC);
        assert_eq!(
            absent,
            Some(Position {
                line: 11,
                column: 5
            })
        );
        // The search starts at the value, not at its key.
        assert_eq!(
            p.locate("form_types[0].name", Some("settings"), DOC),
            Some(Position { line: 3, column: 9 })
        );
    }

    #[test]
    fn unknown_top_level_paths_have_no_position() {
        let p = index(DOC);
        assert_eq!(p.locate("nothing_here", None, DOC), None);
        assert!(!p.is_empty());
    }
}
