//! Diagnostics for YAML input files (the secrets manifest, the task file):
//! every problem with its file, line and column and a snippet, values
//! masked, and a "did you mean" for near misses.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_saphyr::{Location, Spanned};

use crate::error::{Error, Snippet};

/// Where in an input file something was written: a byte range, line and column.
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

    pub fn of(loc: &Location) -> Self {
        Place {
            offset: loc.span().byte_offset().unwrap_or(0) as usize,
            len: loc.span().byte_len().unwrap_or(0) as usize,
            line: loc.line() as u32,
            column: loc.column() as u32,
        }
    }

    /// For parser errors, which carry a line and column but no byte offset.
    pub fn at_line_column(text: &str, line: u32, column: u32) -> Self {
        let line_start: usize = text
            .split_inclusive('\n')
            .take(line.saturating_sub(1) as usize)
            .map(str::len)
            .sum();
        let in_line = text[line_start.min(text.len())..]
            .chars()
            .take(column.saturating_sub(1) as usize)
            .map(char::len_utf8)
            .sum::<usize>();
        Place {
            offset: (line_start + in_line).min(text.len()),
            len: 1,
            line,
            column,
        }
    }
}

pub fn place_of<T>(s: &Spanned<T>) -> Place {
    Place::of(&s.referenced)
}

/// Collects every problem, each pointing into the (masked) input file.
pub struct Problems<'a> {
    path: &'a Path,
    masked: &'a str,
    list: Vec<Error>,
}

impl<'a> Problems<'a> {
    pub fn new(path: &'a Path, masked: &'a str) -> Self {
        Problems {
            path,
            masked,
            list: Vec::new(),
        }
    }

    pub fn add(
        &mut self,
        place: Option<Place>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let message = message.into();
        let mut err = Error::input(match place {
            Some(p) if p.line > 0 => {
                format!("{}:{}:{}: {message}", self.path.display(), p.line, p.column)
            }
            _ => format!("{}: {message}", self.path.display()),
        });
        let help = help.into();
        if !help.is_empty() {
            err = err.with_help(help);
        }
        if let Some(p) = place.filter(|p| p.line > 0) {
            err = err.with_snippet(snippet(self.path, self.masked, p, &message));
        }
        self.list.push(err);
    }

    pub fn finish(self) -> Result<(), Error> {
        let mut list = self.list.into_iter();
        match list.next() {
            None => Ok(()),
            Some(first) => {
                let rest: Vec<Error> = list.collect();
                if rest.is_empty() {
                    Err(first)
                } else {
                    let n = rest.len() + 1;
                    Err(Error::input(format!(
                        "{} has {n} problems; nothing was sent to the cluster",
                        self.path.display()
                    ))
                    .with_related(std::iter::once(first).chain(rest).collect()))
                }
            }
        }
    }
}

fn snippet(path: &Path, masked: &str, place: Place, label: &str) -> Snippet {
    let offset = place.offset.min(masked.len());
    // At least one character, never past the end of the text.
    let len = place.len.max(1).min(masked.len() - offset);
    Snippet {
        source: miette::NamedSource::new(path.display().to_string(), masked.to_string()),
        span: (offset, len).into(),
        label: label.to_string(),
    }
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest known word, if it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
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
    match did_you_mean(word, known) {
        Some(k) => format!("did you mean `{k}`? Known: {}", known.join(", ")),
        None => format!("known: {}", known.join(", ")),
    }
}

/// Mask the values of the mappings under `keys` (flow or block) with `*`,
/// keeping every byte offset and line break, so snippets never show a value.
pub fn mask_values(text: &str, keys: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut block_indent: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let trimmed = body.trim_start().trim_start_matches("- ");
        if let Some(parent) = block_indent {
            if body.trim().is_empty() || indent > parent {
                out.push_str(&mask_after_key(line));
                continue;
            }
            block_indent = None;
        }
        let opened = keys
            .iter()
            .find_map(|k| trimmed.strip_prefix(k).and_then(|r| r.strip_prefix(':')));
        if let Some(rest) = opened {
            let key_col = body.len() - trimmed.len();
            if rest.trim().is_empty() || rest.trim_start().starts_with('#') {
                block_indent = Some(key_col);
                out.push_str(line);
            } else {
                // Flow mapping on the same line: mask everything after `inline:`.
                let cut = body.len() - rest.len();
                out.push_str(&line[..cut]);
                out.push_str(&mask_flow(&line[cut..]));
            }
            continue;
        }
        out.push_str(line);
    }
    out
}

fn mask_chars(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_whitespace() { c } else { '*' })
        .collect()
}

/// `  KEY: value` -> `  KEY: *****`; lines without a key are masked whole.
fn mask_after_key(line: &str) -> String {
    let body = line.trim_start();
    let lead = &line[..line.len() - body.len()];
    let key_end = body
        .find(": ")
        .or_else(|| body.trim_end().strip_suffix(':').map(|k| k.len()));
    match key_end {
        Some(i)
            if body[..i].chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\'')
            }) =>
        {
            format!(
                "{lead}{}{}",
                &body[..=i.min(body.len() - 1)],
                mask_chars(&body[(i + 1).min(body.len())..])
            )
        }
        _ => format!("{lead}{}", mask_chars(body)),
    }
}

/// `{A: x, B: y}` -> `{A: *, B: *}`: keys stay, values go.
fn mask_flow(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_value = false;
    for c in s.chars() {
        match c {
            ':' if !in_value => {
                in_value = true;
                out.push(c);
            }
            ',' | '}' if in_value => {
                in_value = false;
                out.push(c);
            }
            c if in_value && !c.is_whitespace() => out.push('*'),
            c => out.push(c),
        }
    }
    out
}

/// serde-saphyr's message without its own snippet (which would show values)
/// and without the `line X column Y` prefix (we show our own).
pub fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let text = match text.find(": ") {
        Some(i) if text.starts_with("line ") => &text[i + 2..],
        _ => text,
    };
    let text = text.lines().next().unwrap_or_default();
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text,
    };
    // serde's "invalid type: string \"...\"" would echo a scalar: drop it.
    match text.find("string \"") {
        Some(i) => {
            let rest = &text[i + 8..];
            let end = rest.find('"').map_or(rest.len(), |j| j + 1);
            format!("{}a string{}", &text[..i], &rest[end..])
        }
        None => text.to_string(),
    }
}

/// `unknown field `x`, expected one of a, b` -> a suggestion from that list.
fn unknown_field_help(message: &str) -> Option<String> {
    let start = message.find("unknown field `")? + "unknown field `".len();
    let field = &message[start..start + message[start..].find('`')?];
    let list = message
        .split("expected one of ")
        .nth(1)
        .or_else(|| message.split("expected ").nth(1))?;
    let known: Vec<&str> = list.split(", ").map(|k| k.trim_matches('`')).collect();
    Some(suggestion(field, &known))
}

/// Deserialize `text`, or record the parser's problem at its place.
pub fn parse_yaml<T: DeserializeOwned>(text: &str, problems: &mut Problems<'_>) -> Option<T> {
    match serde_saphyr::from_str(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let place = e.location().map(|l| match l.span().byte_offset() {
                Some(_) => Place::of(&l),
                None => Place::at_line_column(text, l.line() as u32, l.column() as u32),
            });
            let message = yaml_message(&e);
            let help = unknown_field_help(&message)
                .unwrap_or_else(|| "fix the YAML at that place".to_string());
            problems.add(place, message, help);
            None
        }
    }
}

#[cfg(test)]
mod tests;
