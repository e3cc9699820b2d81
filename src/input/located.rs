//! Diagnostics for the YAML files people write (the secrets manifest, the
//! task file): every problem with its file, line and column, a snippet of
//! the masked text ([`crate::input::yaml`]), and a "did you mean" for near misses.
//!
//! [`Reader`] walks a parsed document against a schema. It is the only
//! thing that may reveal text in a snippet, and only for known fields in
//! known places; it quotes in messages only what it revealed, or keys that
//! cannot be values. Everything else stays `***`.

use std::ops::Range;
use std::path::Path;

use crate::error::Error;
use crate::input::yaml::{Content, LineIndex, Masked, Node, Parsed};
use crate::kube_names::has_key_chars;
use crate::snippet::{Snippet, SnippetSource};

/// Where in an input file something was written: a byte range, line and
/// column (in characters, as the snippet counts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Place {
    pub offset: usize,
    pub len: usize,
    pub line: u32,
    pub column: u32,
}

impl Place {
    /// The top of the file, for what is missing altogether.
    pub const START: Place = Place {
        offset: 0,
        len: 1,
        line: 1,
        column: 1,
    };

    pub fn of(text: &str, range: Range<usize>) -> Self {
        Self::at(&LineIndex::new(text), range)
    }

    /// [`Place::of`] through an index built once for many places.
    pub fn at(lines: &LineIndex<'_>, range: Range<usize>) -> Self {
        let (line, column) = lines.line_column(range.start);
        Place {
            offset: range.start,
            len: range.end.saturating_sub(range.start),
            line,
            column,
        }
    }

    fn range(&self) -> Range<usize> {
        self.offset..self.offset.saturating_add(self.len)
    }
}

/// A scalar the reader accepted, with where it was written. `hidden`: it
/// came through an `*alias`, or could be a pasted value, so messages never
/// quote it.
#[derive(Clone, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub place: Place,
    pub hidden: bool,
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.hidden {
            true => write!(f, "Text(<hidden>@{:?})", self.place),
            false => write!(f, "Text({:?}@{:?})", self.value, self.place),
        }
    }
}

/// At most this many characters of a structural value in a message.
const QUOTE_MAX: usize = 64;

impl Text {
    /// `` `value` `` for a message, or a note that it is not shown.
    pub fn quoted(&self) -> String {
        if self.hidden {
            return "(not shown)".into();
        }
        quote(&self.value)
    }
}

/// `` `text` ``, cut to a readable length.
pub fn quote(text: &str) -> String {
    if text.chars().count() > QUOTE_MAX {
        let cut: String = text.chars().take(QUOTE_MAX).collect();
        format!("`{cut}…`")
    } else {
        format!("`{text}`")
    }
}

/// A key may be quoted and shown when it could not be a value someone
/// pasted: the characters of a Secret data key, and it has a value.
pub fn key_is_showable(key: &str, value: &Node) -> bool {
    !value.is_null() && has_key_chars(key)
}

/// One problem: where, what, how to fix.
#[derive(Debug, Clone)]
struct Problem {
    place: Option<Place>,
    message: String,
    help: String,
}

/// Collects every problem of a file; [`Problems::finish`] turns them into
/// one error whose snippets show the masked text.
#[derive(Debug)]
pub struct Problems<'a> {
    path: &'a Path,
    list: Vec<Problem>,
}

/// How a path is named in messages: `-` is standard input.
pub fn display_path(path: &Path) -> String {
    if crate::input::file::is_stdin(path) {
        "<stdin>".into()
    } else {
        crate::escape::path(path)
    }
}

impl<'a> Problems<'a> {
    pub fn new(path: &'a Path) -> Self {
        Problems {
            path,
            list: Vec::new(),
        }
    }

    pub fn add(
        &mut self,
        place: Option<Place>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.list.push(Problem {
            place,
            message: message.into(),
            help: help.into(),
        });
    }

    fn error(&self, p: Problem, masked: &Masked, shown: &str) -> Error {
        let path = display_path(self.path);
        let located = p.place.filter(|at| at.line > 0);
        let mut err = Error::input(match located {
            Some(at) => format!("{path}:{}:{}: {}", at.line, at.column, p.message),
            None => format!("{path}: {}", p.message),
        });
        if !p.help.is_empty() {
            err = err.with_help(p.help);
        }
        if let Some(at) = located {
            let (source, span) =
                SnippetSource::around(path, shown, masked.map(at.range()), at.line, at.column);
            err = err.with_snippet(Snippet {
                source,
                span: (span.start, span.len().max(1)).into(),
                label: p.message,
            });
        }
        err
    }

    /// `Ok` if nothing was found; else one error listing the problems (the
    /// first [`MAX_SHOWN_PROBLEMS`], and how many more there are).
    /// Nothing reported yet.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn finish(self, masked: &Masked) -> Result<(), Error> {
        if self.list.is_empty() {
            return Ok(());
        }
        let shown = crate::escape::snippet_source(&masked.text);
        let total = self.list.len();
        let mut errors = self
            .list
            .iter()
            .take(MAX_SHOWN_PROBLEMS)
            .map(|p| self.error(p.clone(), masked, &shown))
            .collect::<Vec<_>>();
        if total == 1 {
            return Err(errors.remove(0));
        }
        let more = if total > MAX_SHOWN_PROBLEMS {
            format!(" (the first {MAX_SHOWN_PROBLEMS} are shown)")
        } else {
            String::new()
        };
        Err(Error::input(format!(
            "{} has {total} problems{more}",
            display_path(self.path)
        ))
        .with_related(errors))
    }
}

impl Problems<'_> {
    /// Every entry as its own error, none left out: for a list that must
    /// be shown whole (the commands a manifest would run), unlike problems,
    /// of which the first [`MAX_SHOWN_PROBLEMS`] are enough.
    pub fn all(self, masked: &Masked) -> Vec<Error> {
        let shown = crate::escape::snippet_source(&masked.text);
        self.list
            .iter()
            .map(|p| self.error(p.clone(), masked, &shown))
            .collect()
    }
}

/// A file with more problems than this is probably not the file meant:
/// the rest would only bury the first ones.
pub const MAX_SHOWN_PROBLEMS: usize = 50;

/// Walks a parsed document against a schema: reports problems, reveals
/// what the schema vouches for.
pub struct Reader<'a> {
    pub text: &'a str,
    lines: LineIndex<'a>,
    pub parsed: Parsed,
    pub problems: Problems<'a>,
}

/// The fields of one mapping, each with its key's place.
pub struct Fields {
    known: Vec<(&'static str, Place, Node)>,
    /// Known fields that an unknown key looks like a typo of.
    near_misses: Vec<&'static str>,
}

impl Fields {
    pub fn get(&self, field: &str) -> Option<(&Node, Place)> {
        self.known
            .iter()
            .find(|(k, _, _)| *k == field)
            .map(|(_, at, n)| (n, *at))
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    /// An unknown key was probably meant as `field` (already reported):
    /// its absence need not be reported again.
    pub fn misspelled(&self, field: &str) -> bool {
        self.near_misses.contains(&field)
    }
}

impl<'a> Reader<'a> {
    pub fn new(path: &'a Path, text: &'a str, parsed: Parsed) -> Self {
        Reader {
            text,
            lines: LineIndex::new(text),
            parsed,
            problems: Problems::new(path),
        }
    }

    pub fn place(&self, node: &Node) -> Place {
        Place::at(&self.lines, node.span.clone())
    }

    fn spans_lines(&self, node: &Node) -> bool {
        self.text
            .get(node.span.clone())
            .is_none_or(|t| t.contains(['\n', '\r']))
    }

    pub fn add(&mut self, at: Place, message: impl Into<String>, help: impl Into<String>) {
        self.problems.add(Some(at), message, help);
    }

    /// The fields of a mapping that should hold `known` fields. Known keys
    /// are revealed; unknown and repeated ones are problems.
    pub fn fields(&mut self, node: &Node, what: &str, known: &[&'static str]) -> Option<Fields> {
        let place = self.place(node);
        let Content::Map(pairs) = &*node.content else {
            self.add(
                place,
                format!("{what} should be a mapping of fields, not {}", node.shape()),
                format!("known fields: {}", known.join(", ")),
            );
            return None;
        };
        let mut fields = Fields {
            known: Vec::new(),
            near_misses: Vec::new(),
        };
        for (key, value) in pairs {
            let at = self.place(key);
            let Some(name) = key.as_scalar() else {
                self.add(
                    at,
                    format!("a key in {what} is not a field name"),
                    format!("known fields: {}", known.join(", ")),
                );
                continue;
            };
            match known.iter().find(|k| **k == name) {
                Some(field) => {
                    if let Some((_, first, _)) = fields.known.iter().find(|(k, _, _)| k == field) {
                        self.add(
                            at,
                            format!(
                                "`{field}` is given twice in {what} (first at line {})",
                                first.line
                            ),
                            "keep one of them",
                        );
                        continue;
                    }
                    self.parsed.reveal(key);
                    fields.known.push((field, at, value.clone()));
                }
                None => {
                    let shown = key.is_plain() && key_is_showable(name, value) && name.len() <= 64;
                    let message = if shown {
                        self.parsed.reveal(key);
                        format!("unknown field {} in {what}", quote(name))
                    } else {
                        format!("an unknown field in {what} (not shown: it may hold a value)")
                    };
                    let meant = did_you_mean(name, known);
                    if let Some(meant) = meant {
                        fields.near_misses.push(meant);
                    }
                    self.add(at, message, suggestion_for(meant, known));
                }
            }
        }
        Some(fields)
    }

    /// A single value for a structural field: revealed and quotable.
    pub fn scalar(&mut self, node: &Node, field: &str) -> Option<Text> {
        let place = self.place(node);
        match &*node.content {
            Content::Scalar(s) => {
                // A field value over several lines is text that slid under
                // the field (a lost indent): not shown.
                let hidden = !node.is_plain() || self.spans_lines(node);
                if !hidden {
                    self.parsed.reveal(node);
                }
                Some(Text {
                    value: s.clone(),
                    place,
                    hidden,
                })
            }
            Content::Null => {
                self.add(
                    place,
                    format!("`{field}` has no value"),
                    format!("write a value after `{field}:`"),
                );
                None
            }
            _ => {
                self.add(
                    place,
                    format!("`{field}` should be a single value, not {}", node.shape()),
                    format!("write `{field}: <value>`"),
                );
                None
            }
        }
    }

    /// The value of a pair in a map of values (`inline`, `envs`): a single
    /// value, never revealed. `label` names the pair in messages;
    /// `key_word` is what the help calls a key (`KEY`, `NAME`).
    pub fn pair_value(
        &mut self,
        key_at: Place,
        label: &str,
        value: &Node,
        key_word: &str,
    ) -> Option<String> {
        match &*value.content {
            Content::Scalar(v) => Some(v.clone()),
            Content::Null => {
                self.add(
                    key_at,
                    format!("{label} has no value"),
                    format!("write `{key_word}: \"\"` for an empty value, or `{key_word}: value`"),
                );
                None
            }
            _ => {
                let at = self.place(value);
                self.add(
                    at,
                    format!(
                        "the value of {label} should be a single value, not {}",
                        value.shape()
                    ),
                    format!("quote the value if it holds `:`, `[` or `{{`: `{key_word}: \"...\"`"),
                );
                None
            }
        }
    }

    /// One value or a list of values (paths, variable names), each revealed
    /// only if `showable` says it cannot be a pasted value.
    pub fn scalar_list(
        &mut self,
        node: &Node,
        field: &str,
        showable: &dyn Fn(&str) -> bool,
    ) -> Option<Vec<Text>> {
        let items: Vec<Node> = match &*node.content {
            Content::Seq(items) => items.clone(),
            Content::Scalar(_) => vec![node.clone()],
            Content::Null => {
                self.add(
                    self.place(node),
                    format!("`{field}` has no value"),
                    format!("write `{field}: [a, b]` or one value"),
                );
                return None;
            }
            Content::Map(_) => {
                self.add(
                    self.place(node),
                    format!("`{field}` should be a list, not a mapping"),
                    format!("write `{field}: [a, b]`"),
                );
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in &items {
            let at = self.place(item);
            match item.as_scalar() {
                Some(s) => {
                    let alias = !item.is_plain() || node.alias || self.spans_lines(item);
                    if !alias && showable(s) {
                        self.parsed.reveal(item);
                    }
                    out.push(Text {
                        value: s.to_string(),
                        place: at,
                        hidden: alias || !showable(s),
                    });
                }
                None => {
                    self.add(
                        at,
                        format!(
                            "an item of `{field}` should be a single value, not {}",
                            item.shape()
                        ),
                        format!("write `{field}: [a, b]`"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // Two rows, allocated once (a file may hold many unknown fields).
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest known word, if it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    // Long words are no typo of a field name, and would make this quadratic.
    if word.chars().count() > 64 {
        return None;
    }
    known
        .iter()
        // A known name that starts with what was typed is a near miss too.
        .map(|k| {
            let (w, k_low) = (word.to_lowercase(), k.to_lowercase());
            let prefix = w.len() >= 3 && (k_low.starts_with(&w) || k_low.ends_with(&w));
            (if prefix { 1 } else { distance(word, k) }, *k)
        })
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

pub fn suggestion(word: &str, known: &[&str]) -> String {
    suggestion_for(did_you_mean(word, known), known)
}

/// The help for a near miss already looked up.
fn suggestion_for(meant: Option<&str>, known: &[&str]) -> String {
    match meant {
        Some(k) => format!("did you mean `{k}`? Known: {}", known.join(", ")),
        None => format!("known: {}", known.join(", ")),
    }
}

/// Parse `text`; on a syntax error, record it and return `None`. `known`
/// are the schema's field names, the only keys a broken file shows.
pub fn read_document<'a>(
    path: &'a Path,
    text: &'a str,
    known: &[&str],
) -> Result<Reader<'a>, Error> {
    let mut parsed = crate::input::yaml::parse(text);
    if let Some(e) = parsed.error.clone() {
        parsed.reveal_known_keys(known);
        let masked = parsed.masked(text);
        let mut problems = Problems::new(path);
        problems.add(
            Some(Place::of(text, e.offset..e.offset.saturating_add(1))),
            e.message,
            e.help,
        );
        problems.finish(&masked)?;
    }
    Ok(Reader::new(path, text, parsed))
}

/// A YAML file the user names (`-` is standard input), read bounded
/// ([`crate::input::file::MAX_MANIFEST_BYTES`]) and as UTF-8 text; `what`
/// names it in messages ("manifest", "task").
pub fn read_yaml_file(path: &Path, what: &str) -> Result<String, Error> {
    let bytes = crate::input::file::read_input(path, crate::input::file::MAX_MANIFEST_BYTES)
        .map_err(|e| Error::input(format!("cannot read the {what}: {e}")).with_help(e.help()))?;
    utf8_text(path, bytes)
}

/// Bytes of a file the user wrote, as text: a clear error for what is not
/// UTF-8, without showing any of it.
pub fn utf8_text(path: &Path, bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let before = e.as_bytes().get(..offset).unwrap_or_default();
        let line = 1 + before.iter().filter(|b| **b == b'\n').count();
        Error::input(format!(
            "{}: line {line} is not UTF-8 text (byte {offset})",
            display_path(path)
        ))
        .with_help("save the file as UTF-8")
    })
}

#[cfg(test)]
#[path = "located_tests.rs"]
mod tests;
