//! The YAML files people write by hand (`secrets.yaml`, `task.yaml`), read
//! into a tree whose every node knows where it was written, and the masked
//! copy of the text that diagnostics show.
//!
//! Masking is decided from the parsed structure, never from line text: every
//! scalar, comment, tag and anchor is hidden unless the schema reader
//! [`crate::input::located::Reader`] vouched for it as a known field in a known
//! place ([`Parsed::reveal`]). What cannot be parsed is hidden whole. A hidden
//! piece shows as `***` whatever its length, and line breaks are kept, so
//! snippet line numbers are the file's.
//!
//! Work is bounded: the event parser limits nesting (255 levels), and a
//! document that aliases expand past [`MAX_NODES`] nodes is refused before
//! anything walks it ("billion laughs"). Aliases share their target, so
//! building the tree is linear in the text.

use std::fmt;
use std::ops::Range;
use std::rc::Rc;

use granit_parser::{Event, Parser, ScalarStyle};

/// Nodes a document may expand to through aliases, a scalar counting one
/// node per 16 bytes of its text (so one large value repeated by alias is
/// bounded too: at most 16 MiB of text in all). A 4 MiB manifest written
/// out in full is far below it.
pub const MAX_NODES: u64 = 1_000_000;

/// A node and where it was written. For a node reached through an alias,
/// `span` is the `*alias` token and `alias` is set.
#[derive(Clone)]
pub struct Node {
    pub content: Rc<Content>,
    pub span: Range<usize>,
    pub alias: bool,
    /// A scalar with an anchor or a tag (`&a value`, `!t value`): written
    /// to be reused, maybe as a value elsewhere, or to be read specially;
    /// never shown or quoted, even where it stands.
    pub marked: bool,
    /// A scalar written in quotes (or as a block): always text, never a
    /// number or a boolean ([`crate::input::yaml11`]).
    pub quoted: bool,
    /// Nodes below and including this one, aliases expanded.
    weight: u64,
}

pub enum Content {
    /// `~`, `null`, or nothing at all.
    Null,
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

// Scalars may be secret values: Debug shows shapes, never text.
impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Content::Null => f.write_str("Null"),
            Content::Scalar(s) => write!(f, "Scalar(<{} bytes>)", s.len()),
            Content::Seq(items) => f.debug_tuple("Seq").field(items).finish(),
            Content::Map(pairs) => f.debug_tuple("Map").field(pairs).finish(),
        }
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{:?}", self.content, self.span)?;
        if self.alias {
            f.write_str("(alias)")?;
        }
        Ok(())
    }
}

impl Node {
    /// Written here as it is: neither an alias nor a marked scalar.
    pub fn is_plain(&self) -> bool {
        !self.alias && !self.marked
    }

    pub fn as_scalar(&self) -> Option<&str> {
        match &*self.content {
            Content::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(*self.content, Content::Null)
    }

    /// What this node is, for "expected X, found Y" messages.
    pub fn shape(&self) -> &'static str {
        match &*self.content {
            Content::Null => "nothing (null)",
            Content::Scalar(_) => "a single value",
            Content::Seq(_) => "a list",
            Content::Map(_) => "a mapping",
        }
    }
}

/// Why the text could not be read as one YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
    pub help: String,
}

/// The outcome of reading a text: the tree if there is one, and everything
/// the masking needs to know.
#[derive(Debug)]
pub struct Parsed {
    /// The document's root; `None` for an empty file.
    pub root: Option<Node>,
    pub error: Option<SyntaxError>,
    /// Every piece of the text that may hold a value: scalars, comments,
    /// anchors, aliases, tags.
    tokens: Vec<Range<usize>>,
    /// Scalars in key position, with their text: on a syntax error only
    /// known field names among them are shown.
    keys: Vec<(Range<usize>, String)>,
    /// Tokens vouched for by the schema reader.
    revealed: Vec<Range<usize>>,
    /// Nothing past this offset was parsed: all of it is masked.
    trusted_until: usize,
}

enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
        weight: u64,
    },
    Map {
        start: usize,
        anchor: usize,
        pairs: Vec<(Node, Node)>,
        key: Option<Node>,
        weight: u64,
    },
}

fn is_null_scalar(text: &str, style: ScalarStyle) -> bool {
    style == ScalarStyle::Plain && matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn span_of(span: &granit_parser::Span) -> Range<usize> {
    let start = span.start.byte_offset().unwrap_or(0);
    let end = span.end.byte_offset().unwrap_or(start).max(start);
    start..end
}

struct Builder {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Node>,
    documents: Vec<(usize, Option<Node>)>,
    doc_start: usize,
    tokens: Vec<Range<usize>>,
    keys: Vec<(Range<usize>, String)>,
}

impl Builder {
    /// Put a finished node into its parent, or make it the document root.
    fn attach(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        if node.weight > MAX_NODES {
            return Err(SyntaxError {
                offset: node.span.start,
                message: format!(
                    "this document expands to more than {MAX_NODES} nodes through aliases"
                ),
                help: "write the values out instead of nesting aliases".into(),
            });
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            // A second document is an error (see `parse`): said at once, so
            // that a file of many documents is not built whole first.
            None if !node.is_null()
                && self
                    .documents
                    .iter()
                    .any(|(_, r)| r.as_ref().is_some_and(|n| !n.is_null())) =>
            {
                return Err(more_than_one_document(self.doc_start));
            }
            None => self.documents.push((self.doc_start, Some(node))),
            Some(Frame::Seq { items, weight, .. }) => {
                *weight = weight.saturating_add(node.weight);
                items.push(node);
            }
            Some(Frame::Map {
                pairs, key, weight, ..
            }) => {
                *weight = weight.saturating_add(node.weight);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => pairs.push((k, node)),
                }
            }
        }
        Ok(())
    }

    fn in_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tagged: bool,
        range: Range<usize>,
    ) -> Result<(), SyntaxError> {
        self.tokens.push(range.clone());
        if self.in_key_position() {
            self.keys.push((range.clone(), text.to_string()));
        }
        let weight = 1 + u64::try_from(text.len() / 16).unwrap_or(u64::MAX);
        let content = if is_null_scalar(text, style) {
            Content::Null
        } else {
            Content::Scalar(text.to_string())
        };
        let node = Node {
            content: Rc::new(content),
            span: range,
            alias: false,
            marked: anchor != 0 || tagged,
            quoted: style != ScalarStyle::Plain,
            weight,
        };
        self.attach(node, anchor)
    }

    /// An alias shares its anchor's content; its span is the `*alias`.
    fn alias(&mut self, id: usize, range: Range<usize>) -> Result<(), SyntaxError> {
        self.tokens.push(range.clone());
        let Some(target) = self.anchors.get(&id) else {
            return Err(SyntaxError {
                offset: range.start,
                message: "this alias names no anchor".into(),
                help: "define the anchor (`&name`) before its alias (`*name`)".into(),
            });
        };
        let node = Node {
            content: target.content.clone(),
            span: range,
            alias: true,
            marked: false,
            quoted: target.quoted,
            weight: target.weight,
        };
        self.attach(node, 0)
    }

    fn end_collection(&mut self, end: usize) -> Result<(), SyntaxError> {
        let (content, start, anchor, weight) = match self.stack.pop() {
            Some(Frame::Seq {
                start,
                anchor,
                items,
                weight,
            }) => (Content::Seq(items), start, anchor, weight),
            Some(Frame::Map {
                start,
                anchor,
                pairs,
                weight,
                ..
            }) => (Content::Map(pairs), start, anchor, weight),
            None => return Ok(()),
        };
        let node = Node {
            content: Rc::new(content),
            span: start..end.max(start),
            alias: false,
            marked: false,
            quoted: false,
            weight,
        };
        self.attach(node, anchor)
    }

    fn event(&mut self, event: Event<'_>, span: &granit_parser::Span) -> Result<(), SyntaxError> {
        let range = span_of(span);
        if let Some(tag) = span.tag_span() {
            let start = tag.start.byte_offset().unwrap_or(range.start);
            let end = tag.end.byte_offset().unwrap_or(start).max(start);
            self.tokens.push(start..end);
        }
        match event {
            Event::DocumentStart(..) => self.doc_start = range.start,
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(&text, style, anchor, tag.is_some(), range)?
            }
            Event::Alias(id) => self.alias(id, range)?,
            Event::Anchor(..) => self.tokens.push(range),
            Event::Comment(..) => self.tokens.push(range),
            Event::SequenceStart(_, anchor, _) => self.stack.push(Frame::Seq {
                start: range.start,
                anchor,
                items: Vec::new(),
                weight: 1,
            }),
            Event::MappingStart(_, anchor, _) => self.stack.push(Frame::Map {
                start: range.start,
                anchor,
                pairs: Vec::new(),
                key: None,
                weight: 1,
            }),
            Event::SequenceEnd | Event::MappingEnd => self.end_collection(range.end)?,
            _ => {}
        }
        Ok(())
    }
}

fn more_than_one_document(offset: usize) -> SyntaxError {
    SyntaxError {
        offset,
        message: "the file holds more than one YAML document".into(),
        help: "keep everything in the first document: remove the `---` line and what follows, or merge it into the first".into(),
    }
}

/// Read `text` as YAML. Never fails: a syntax error is part of the result,
/// with what was read before it.
pub fn parse(text: &str) -> Parsed {
    let options = granit_parser::options! { emit_anchor_events: true };
    let mut b = Builder {
        stack: Vec::new(),
        anchors: std::collections::HashMap::new(),
        documents: Vec::new(),
        doc_start: 0,
        tokens: Vec::new(),
        keys: Vec::new(),
    };
    let mut error = None;
    let mut parsed_to = 0;
    for next in Parser::new_from_str_with_options(text, options) {
        match next {
            Ok((event, span)) => {
                let range = span_of(&span);
                if let Err(e) = b.event(event, &span) {
                    error = Some(e);
                    break;
                }
                parsed_to = parsed_to.max(range.end);
            }
            Err(e) => {
                let offset = e.marker().byte_offset().unwrap_or(parsed_to);
                error = Some(SyntaxError {
                    offset,
                    message: format!("this is not valid YAML: {}", e.kind()),
                    help: "fix the YAML at that place (indentation, a missing `:` or quote, a tab)"
                        .into(),
                });
                break;
            }
        }
    }
    // Documents that hold nothing (a lone `---` at the end) do not count.
    let mut documents = b
        .documents
        .into_iter()
        .filter(|(_, root)| root.as_ref().is_some_and(|n| !n.is_null()));
    let root = documents.next().and_then(|(_, n)| n);
    if error.is_none()
        && let Some((offset, _)) = documents.next()
    {
        error = Some(more_than_one_document(offset));
    }
    let trusted_until = match &error {
        Some(e) if e.offset < text.len() => parsed_to.min(e.offset),
        _ => text.len(),
    };
    Parsed {
        root,
        error,
        tokens: b.tokens,
        keys: b.keys,
        revealed: Vec::new(),
        trusted_until,
    }
}

impl Parsed {
    /// The schema reader vouches for this node's text: show it in snippets.
    pub fn reveal(&mut self, node: &Node) {
        if node.is_plain() && matches!(*node.content, Content::Scalar(_) | Content::Null) {
            self.revealed.push(node.span.clone());
        }
    }

    /// On a syntax error there is no schema to ask: show keys that are
    /// field names of the schema, and nothing else.
    pub fn reveal_known_keys(&mut self, known: &[&str]) {
        let shown: Vec<Range<usize>> = self
            .keys
            .iter()
            .filter(|(range, k)| known.contains(&k.as_str()) && range.end <= self.trusted_until)
            .map(|(range, _)| range.clone())
            .collect();
        self.revealed.extend(shown);
    }

    /// The text as diagnostics may show it.
    pub fn masked(&self, text: &str) -> Masked {
        mask(text, &self.tokens, &self.revealed, self.trusted_until)
    }
}

/// The text with values hidden, and where each byte of the original went.
#[derive(Clone, PartialEq, Eq)]
pub struct Masked {
    pub text: String,
    /// `to_masked[i]`: the masked offset of original byte `i` (one entry
    /// past the end too). `u32`s: one per byte of a 4 MiB input, and a
    /// masked text is at most three times as long as its original.
    to_masked: Vec<u32>,
}

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Masked text is safe to show by construction.
        write!(f, "Masked({:?})", self.text)
    }
}

impl Masked {
    /// A byte range of the original, in the masked text (at least one byte
    /// where the text has one).
    pub fn map(&self, range: Range<usize>) -> Range<usize> {
        let at = |i: usize| {
            self.to_masked
                .get(i)
                .and_then(|m| usize::try_from(*m).ok())
                .unwrap_or(self.text.len())
        };
        let start = at(range.start).min(self.text.len());
        let end = at(range.end).clamp(start, self.text.len());
        if end == start && start < self.text.len() {
            let rest = &self.text[start..];
            let width = if rest.starts_with("***") {
                3
            } else {
                rest.chars().next().map_or(1, char::len_utf8)
            };
            start..start + width
        } else {
            start..end
        }
    }

    /// The original offset a masked offset stands for (the start of a
    /// hidden piece for any offset inside its `***`).
    pub fn original(&self, masked_offset: usize) -> usize {
        self.to_masked
            .partition_point(|&m| usize::try_from(m).is_ok_and(|m| m < masked_offset))
    }

    /// The text of a file that is not shown at all: every line hidden.
    pub fn hidden(text: &str) -> Masked {
        mask(text, &[], &[], 0)
    }
}

/// What happens to one byte of the original.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Shown as it is: whitespace, YAML indicators, revealed tokens.
    Shown,
    /// Outside any token: an indicator is shown, anything else hidden.
    Between,
    /// Part of hidden piece number n (a `u32`: one class per byte of a
    /// 4 MiB input is held at once, so it is kept small).
    Hidden(u32),
}

/// A piece number as [`Class::Hidden`] holds it (a text has fewer pieces
/// than bytes, far below `u32::MAX`).
fn piece(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn is_break(c: char) -> bool {
    c == '\n' || c == '\r'
}

fn mask(
    text: &str,
    tokens: &[Range<usize>],
    revealed: &[Range<usize>],
    trusted_until: usize,
) -> Masked {
    let class = classify(text, tokens, revealed, trusted_until);
    write_masked(text, &class)
}

/// What happens to each byte: shown, or hidden as part of which piece.
fn classify(
    text: &str,
    tokens: &[Range<usize>],
    revealed: &[Range<usize>],
    trusted_until: usize,
) -> Vec<Class> {
    let len = text.len();
    let mut class = vec![Class::Between; len];
    for (n, t) in tokens.iter().enumerate() {
        for c in class.iter_mut().take(t.end.min(len)).skip(t.start) {
            *c = Class::Hidden(piece(n));
        }
    }
    for r in revealed {
        for c in class.iter_mut().take(r.end.min(len)).skip(r.start) {
            *c = Class::Shown;
        }
    }
    // Everything after the last parsed event is one hidden piece.
    let tail = tokens.len();
    for c in class.iter_mut().skip(trusted_until) {
        *c = Class::Hidden(piece(tail));
    }
    // Stray characters between tokens that are no YAML indicator are hidden
    // too, each run its own piece.
    let mut next_piece = tail + 1;
    let mut in_stray = false;
    for (i, ch) in text.char_indices() {
        if class[i] != Class::Between {
            in_stray = false;
            continue;
        }
        if ch.is_whitespace() || "-:?[]{},|>".contains(ch) {
            in_stray = false;
            continue;
        }
        if !in_stray {
            next_piece += 1;
            in_stray = true;
        }
        for c in class.iter_mut().skip(i).take(ch.len_utf8()) {
            *c = Class::Hidden(piece(next_piece));
        }
    }
    class
}

/// The masked text: each hidden piece one `***` a line, line breaks and
/// indentation kept; and where each original byte went.
fn write_masked(text: &str, class: &[Class]) -> Masked {
    let len = text.len();
    let mut out = String::with_capacity(len.min(1 << 20));
    let mut to_masked = vec![0u32; len + 1];
    let offset = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    // The piece whose `***` this line already shows, and whether only
    // indentation came before on this line within the piece.
    let mut shown_piece: Option<u32> = None;
    let mut piece_at = 0;
    let mut at_line_start = true;
    for (i, ch) in text.char_indices() {
        // A character hidden inside a `***` stands at that `***`.
        let here = match class[i] {
            Class::Hidden(n) if shown_piece == Some(n) && !is_break(ch) => piece_at,
            _ => out.len(),
        };
        for m in to_masked.iter_mut().skip(i).take(ch.len_utf8()) {
            *m = offset(here);
        }
        if is_break(ch) {
            out.push(ch);
            shown_piece = None;
            at_line_start = true;
            continue;
        }
        match class[i] {
            Class::Hidden(n) => {
                if shown_piece == Some(n) {
                    continue;
                }
                if ch.is_whitespace() && at_line_start {
                    out.push(ch);
                    continue;
                }
                if ch.is_whitespace() {
                    continue;
                }
                piece_at = out.len();
                out.push_str("***");
                shown_piece = Some(n);
                at_line_start = false;
            }
            _ => {
                out.push(ch);
                shown_piece = None;
                if !ch.is_whitespace() {
                    at_line_start = false;
                }
            }
        }
    }
    to_masked[len] = offset(out.len());
    Masked {
        text: out,
        to_masked,
    }
}

/// Lines and columns of a text's byte offsets, each found in logarithmic
/// time (a file with a hundred thousand nodes on one line is not walked
/// once per node). A CRLF, a lone LF and a lone CR each end a line, as the
/// parser counts them.
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offsets where lines start (`u32`s: a 4 MiB file of line
    /// breaks has four million).
    line_starts: Vec<u32>,
    /// (byte offset, characters before it), every [`SAMPLE_BYTES`] or so.
    samples: Vec<(usize, usize)>,
}

const SAMPLE_BYTES: usize = 256;

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        // As many as there are breaks, at most: allocated once.
        let breaks = memchr::memchr2_iter(b'\n', b'\r', text.as_bytes()).count();
        let mut line_starts = Vec::with_capacity(breaks + 1);
        line_starts.push(0);
        let start_at = |i: usize| u32::try_from(i + 1).unwrap_or(u32::MAX);
        let mut samples = vec![(0, 0)];
        let mut prev_cr = false;
        for (chars, (i, c)) in text.char_indices().enumerate() {
            if i >= samples.last().map_or(0, |(b, _)| *b) + SAMPLE_BYTES {
                samples.push((i, chars));
            }
            match c {
                '\n' if prev_cr => {
                    if let Some(last) = line_starts.last_mut() {
                        *last = start_at(i);
                    }
                }
                '\n' | '\r' => line_starts.push(start_at(i)),
                _ => {}
            }
            prev_cr = c == '\r';
        }
        LineIndex {
            text,
            line_starts,
            samples,
        }
    }

    /// Characters before byte `offset` (clamped to a character boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let at = self.samples.partition_point(|(b, _)| *b <= offset);
        let (b, c) = self
            .samples
            .get(at.saturating_sub(1))
            .copied()
            .unwrap_or((0, 0));
        c + self.text.get(b..offset).map_or(0, |t| t.chars().count())
    }

    /// 1-based line and column (in characters) of byte `offset`.
    pub fn line_column(&self, offset: usize) -> (u32, u32) {
        let line = self
            .line_starts
            .partition_point(|s| usize::try_from(*s).is_ok_and(|s| s <= offset))
            .max(1);
        let start = self
            .line_starts
            .get(line - 1)
            .and_then(|s| usize::try_from(*s).ok())
            .unwrap_or(0);
        let column = self
            .chars_before(offset)
            .saturating_sub(self.chars_before(start))
            + 1;
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        (to_u32(line), to_u32(column))
    }
}

/// 1-based line and column (in characters) of a byte offset; for one
/// lookup (many go through a [`LineIndex`]).
#[cfg(test)]
pub fn line_column(text: &str, offset: usize) -> (u32, u32) {
    LineIndex::new(text).line_column(offset)
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
