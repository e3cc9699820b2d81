//! Text from outside (file names, paths, names and keys from the cluster,
//! zip entry paths) made safe for a terminal: control characters and
//! bidirectional overrides become visible escapes, so a name cannot move the
//! cursor, recolour the screen, forge a line or reorder what is shown.

use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

/// Characters that change how the rest of a line is shown: C0 and C1
/// controls, DEL, the Unicode bidirectional formatting characters ("Trojan
/// Source"), line and paragraph separators, and the zero-width no-break
/// space.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
        )
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `a\u{1b}[31mb` for `a<ESC>[31mb`; `\n`, `\r` and `\t` as such. Text
/// without such characters is returned as it is.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Unsafe, and not a line break or tab (which YAML output holds as layout).
pub fn is_unsafe_in_data(c: char) -> bool {
    is_unsafe(c) && !matches!(c, '\n' | '\t')
}

/// JSON text with every unsafe character inside its strings written as a
/// `\uXXXX` escape: the same JSON, safe on a terminal. (`serde_json` already
/// escapes C0 controls; DEL, C1 controls and bidi characters it writes raw.)
pub fn json(text: &str) -> Cow<'_, str> {
    // Line breaks and tabs are the layout (inside strings serde_json
    // escapes them, and it never writes a raw CR).
    if !text.chars().any(is_unsafe_in_data) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe_in_data(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path for a message: lossy for non-UTF-8, escaped.
pub fn path(p: &Path) -> String {
    text(&p.to_string_lossy()).into_owned()
}

/// For a snippet's source text: every unsafe character replaced by `?`s of
/// the same UTF-8 length, so byte offsets (spans) stay valid. Line feeds and
/// tabs stay; a lone CR (old Mac line ends) becomes a line feed, and the CR
/// of a CRLF a space, so lines are shown as the parser counted them.
pub fn snippet_source(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => out.push(' '),
            '\r' => out.push('\n'),
            c if is_unsafe(c) => {
                for _ in 0..c.len_utf8() {
                    out.push('?');
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched() {
        assert!(matches!(text("my-secret/a b.txt ü"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_and_bidi_overrides_become_visible() {
        assert_eq!(text("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(text("x\ny\r\t"), "x\\ny\\r\\t");
        assert_eq!(text("\u{202e}abc"), "\\u{202e}abc");
        assert_eq!(text("\u{9b}2J"), "\\u{9b}2J");
    }

    #[test]
    fn json_keeps_its_meaning_and_loses_its_controls() {
        let value = serde_json::json!({"a": "x\u{1b}[31m\u{202e}\u{9b}\u{7f}\u{1F600}\ny"});
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        let safe = json(&text);
        assert!(!safe.chars().any(|c| is_unsafe(c) && c != '\n'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap_or_default();
        assert_eq!(back, value);
    }

    #[test]
    fn snippet_sources_keep_their_byte_offsets() {
        for s in ["a\u{1b}b\r\nc\rd\u{9b}e\u{202e}f", "\r\r\n", "ok\n"] {
            let out = snippet_source(s);
            assert_eq!(out.len(), s.len(), "{s:?}");
            assert!(!out.chars().any(|c| is_unsafe(c) && c != '\n' && c != '\t'));
        }
        assert_eq!(snippet_source("a\rb\r\nc"), "a\nb \nc");
    }
}
