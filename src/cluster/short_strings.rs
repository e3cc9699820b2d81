//! A reader of JSON that hands on every string shorter than [`LONG`] bytes
//! as it is, and puts a short marker in place of each longer one: the
//! marker is a JSON string `"\u0000<n>"`, where `n` is what the string
//! would decode to as base64. Only string boundaries are tracked (a `"`
//! outside a string opens one; inside, an unescaped `"` closes it), so the
//! JSON stays valid and its shape is unchanged; the long strings are
//! skipped with `memchr` instead of being read byte by byte by the parser.
//!
//! A LIST page of secrets is almost all values: 3,000 secrets of 50 KB are
//! 200 MB of base64. No name, label, timestamp or `continue` token comes
//! near [`LONG`] (names are at most 253 bytes, tokens a few hundred), so
//! only values and other bulk (a `last-applied-configuration` annotation)
//! become markers.

use std::io::{self, Read};

/// Strings of this many bytes or more (as written, between the quotes)
/// become markers.
pub(super) const LONG: usize = 4096;

/// The first character of a marker: never the start of base64, so a
/// marker is told apart from a value.
pub(super) const MARKER: char = '\0';

/// How much of the underlying reader is asked for at a time.
const CHUNK: usize = 64 * 1024;

enum State {
    /// Between strings.
    Outside,
    /// In a string, its text so far in `pending` (shorter than [`LONG`]).
    Short { escaped: bool },
    /// In a long string: how many bytes it has had, and its last two.
    Long {
        escaped: bool,
        count: u64,
        tail: [u8; 2],
    },
}

pub(super) struct ShortStrings<R> {
    inner: R,
    input: Box<[u8]>,
    /// The unprocessed part of `input`.
    start: usize,
    end: usize,
    /// Processed bytes not yet handed on, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    /// The text of a string that may still turn out long.
    pending: Vec<u8>,
    state: State,
    eof: bool,
}

impl<R: Read> ShortStrings<R> {
    pub(super) fn new(inner: R) -> Self {
        ShortStrings {
            inner,
            input: vec![0; CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            out: Vec::with_capacity(CHUNK),
            out_pos: 0,
            pending: Vec::new(),
            state: State::Outside,
            eof: false,
        }
    }

    /// Process what is in `input[start..end]` into `out`.
    fn process(&mut self) {
        while self.start < self.end {
            let rest = self.input.get(self.start..self.end).unwrap_or_default();
            match &mut self.state {
                State::Outside => match memchr::memchr(b'"', rest) {
                    Some(i) => {
                        self.out
                            .extend_from_slice(rest.get(..=i).unwrap_or_default());
                        self.start += i + 1;
                        self.pending.clear();
                        self.state = State::Short { escaped: false };
                    }
                    None => {
                        self.out.extend_from_slice(rest);
                        self.start = self.end;
                    }
                },
                State::Short { escaped } => {
                    let taken = if *escaped {
                        *escaped = false;
                        self.pending
                            .extend_from_slice(rest.get(..1).unwrap_or_default());
                        1
                    } else {
                        match memchr::memchr2(b'"', b'\\', rest) {
                            Some(i) if rest.get(i) == Some(&b'"') => {
                                let text = rest.get(..i).unwrap_or_default();
                                let len = self.pending.len() + text.len();
                                if len >= LONG {
                                    // Long, though it came in one piece.
                                    let count = u64::try_from(len).unwrap_or(u64::MAX);
                                    let tail = last_two(text, last_two(&self.pending, [0; 2]));
                                    push_marker(&mut self.out, count, tail);
                                } else {
                                    self.out.extend_from_slice(&self.pending);
                                    self.out
                                        .extend_from_slice(rest.get(..=i).unwrap_or_default());
                                }
                                self.pending.clear();
                                self.start += i + 1;
                                self.state = State::Outside;
                                continue;
                            }
                            Some(i) => {
                                self.pending
                                    .extend_from_slice(rest.get(..=i).unwrap_or_default());
                                *escaped = true;
                                i + 1
                            }
                            None => {
                                self.pending.extend_from_slice(rest);
                                rest.len()
                            }
                        }
                    };
                    self.start += taken;
                    if self.pending.len() >= LONG {
                        let escaped = *escaped;
                        let count = u64::try_from(self.pending.len()).unwrap_or(u64::MAX);
                        let tail = last_two(&self.pending, [0; 2]);
                        self.pending.clear();
                        self.state = State::Long {
                            escaped,
                            count,
                            tail,
                        };
                    }
                }
                State::Long {
                    escaped,
                    count,
                    tail,
                } => {
                    let (text, closed) = if *escaped {
                        *escaped = false;
                        (rest.get(..1).unwrap_or_default(), false)
                    } else {
                        match memchr::memchr2(b'"', b'\\', rest) {
                            Some(i) if rest.get(i) == Some(&b'"') => {
                                (rest.get(..i).unwrap_or_default(), true)
                            }
                            Some(i) => {
                                *escaped = true;
                                (rest.get(..=i).unwrap_or_default(), false)
                            }
                            None => (rest, false),
                        }
                    };
                    *count = count.saturating_add(u64::try_from(text.len()).unwrap_or(u64::MAX));
                    *tail = last_two(text, *tail);
                    self.start += text.len();
                    if closed {
                        push_marker(&mut self.out, *count, *tail);
                        self.start += 1;
                        self.state = State::Outside;
                    }
                }
            }
        }
    }
}

/// The rest of a long string, after its opening quote: the marker of its
/// decoded size, and the closing quote.
fn push_marker(out: &mut Vec<u8>, count: u64, tail: [u8; 2]) {
    let size = decoded_size(count, tail);
    out.extend_from_slice(format!("\\u0000{size}\"").as_bytes());
}

/// The last two bytes of `text` after `before`.
fn last_two(text: &[u8], before: [u8; 2]) -> [u8; 2] {
    match text {
        [] => before,
        [one] => [before[1], *one],
        [.., a, b] => [*a, *b],
    }
}

/// What `count` bytes of base64 decode to, less the padding at the end.
fn decoded_size(count: u64, tail: [u8; 2]) -> u64 {
    let padding = match tail {
        [b'=', b'='] => 2,
        [_, b'='] => 1,
        _ => 0,
    };
    count.saturating_sub(padding).saturating_mul(3) / 4
}

/// The decoded size a marker carries, if `text` is one.
pub(super) fn marker_size(text: &str) -> Option<u64> {
    text.strip_prefix(MARKER)?.parse().ok()
}

impl<R: Read> Read for ShortStrings<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out.len() {
                let ready = self.out.get(self.out_pos..).unwrap_or_default();
                let n = ready.len().min(buf.len());
                buf.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(ready.get(..n).unwrap_or_default());
                self.out_pos += n;
                return Ok(n);
            }
            self.out.clear();
            self.out_pos = 0;
            if self.eof {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input)?;
            if n == 0 {
                self.eof = true;
                // An unclosed string: hand on what there is, and let the
                // parser say the body ended early.
                self.out.append(&mut self.pending);
                continue;
            }
            self.start = 0;
            self.end = n;
            self.process();
        }
    }
}

#[cfg(test)]
#[path = "short_strings_tests.rs"]
mod tests;
