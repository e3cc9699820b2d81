//! What an error shows of an input file: a few lines of its masked text
//! (never the original) around one place, cut to size, with the file's own
//! line and column numbers. Built by the located reader
//! ([`crate::input::located`]), shown by miette through [`crate::error::Error`].

use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// A place in an input file that the error is about.
#[derive(Debug, Clone)]
pub struct Snippet {
    /// The masked text of the file (see [`crate::input::yaml`]), never the original.
    pub source: SnippetSource,
    pub span: SourceSpan,
    pub label: String,
}

/// What a snippet shows: a few lines of the masked text around one place,
/// each at most [`SNIPPET_LINE_CHARS`] characters (a long line is cut around
/// the place, marked `…`), with the file's line numbers and the column of
/// the place as counted in the original file (a `***` is shorter or longer
/// than what it hides). Small whatever the file: a problem never holds a
/// copy of the whole text.
#[derive(Debug, Clone)]
pub struct SnippetSource {
    name: String,
    text: String,
    /// Lines of the file before the first line of `text`.
    first_line: usize,
    primary_offset: usize,
    primary_column: usize,
}

/// Characters of a line a snippet shows at most.
pub const SNIPPET_LINE_CHARS: usize = 160;

impl SnippetSource {
    /// The lines around `span` of `text` (the escaped masked text), cut to
    /// size, and the span's place in them. `line` and `column` are the
    /// place's in the original file (1-based).
    pub(crate) fn around(
        name: String,
        text: &str,
        span: Range<usize>,
        line: u32,
        column: u32,
    ) -> (Self, Range<usize>) {
        let start = span.start.min(text.len());
        // A span over many lines is shown by its first line.
        let line_end = |at: usize| text[at..].find('\n').map_or(text.len(), |i| at + i);
        let end = span
            .end
            .clamp(start, line_end(start).max(start + 1).min(text.len()));
        let line_start = |at: usize| text[..at].rfind('\n').map_or(0, |i| i + 1);
        let span_line = line_start(start);
        let from = if span_line == 0 {
            0
        } else {
            line_start(span_line - 1)
        };
        let last_line_end = line_end(end.max(span_line));
        let to = if last_line_end < text.len() {
            line_end(last_line_end + 1)
        } else {
            last_line_end
        };
        // The place knows its line (masking keeps every line break): the
        // window starts there, or one line above.
        let first_line =
            (line.saturating_sub(1) as usize).saturating_sub(usize::from(span_line != 0));
        let mut out = String::new();
        let mut new_span = 0..0;
        let mut at = from;
        let window = &text[from..to];
        let window = window.strip_suffix('\n').unwrap_or(window);
        for line in window.split('\n') {
            let line_range = at..at + line.len();
            let holds = line_range.start <= start && start <= line_range.end;
            let (shown, offset_in_shown) = if holds {
                cut_line(line, start - at, end.min(line_range.end) - start)
            } else {
                (cut_line(line, 0, 0).0, 0..0)
            };
            if holds {
                new_span = out.len() + offset_in_shown.start..out.len() + offset_in_shown.end;
            }
            out.push_str(&shown);
            out.push('\n');
            at = line_range.end + 1;
        }
        let source = SnippetSource {
            name,
            text: out,
            first_line,
            primary_offset: new_span.start,
            primary_column: column.saturating_sub(1) as usize,
        };
        (source, new_span)
    }
}

/// `line` cut to [`SNIPPET_LINE_CHARS`] around bytes `at..at + len`, and
/// where those bytes are in the result.
fn cut_line(line: &str, at: usize, len: usize) -> (String, Range<usize>) {
    if line.chars().count() <= SNIPPET_LINE_CHARS {
        return (line.to_string(), at..at + len);
    }
    let floor = |mut i: usize| {
        i = i.min(line.len());
        while !line.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    // Some context before the place; the rest of the budget after it.
    let before = line[..floor(at)]
        .chars()
        .rev()
        .take(40)
        .map(char::len_utf8)
        .sum::<usize>();
    let start = floor(at) - before;
    let end = floor(
        start
            + line[start..]
                .chars()
                .take(SNIPPET_LINE_CHARS)
                .map(char::len_utf8)
                .sum::<usize>(),
    );
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let offset = out.len() + (at - start);
    out.push_str(&line[start..end]);
    if end < line.len() {
        out.push('…');
    }
    let span_end = (offset + len).min(out.len());
    (out, offset..span_end)
}

impl SourceCode for SnippetSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        let column = if inner.span().offset() == self.primary_offset {
            self.primary_column
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}
