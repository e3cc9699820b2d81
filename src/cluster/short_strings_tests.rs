use super::*;
use crate::test_rng::Rng;

use crate::cluster::pages::base64_decoded_len;

/// The same transformation over the whole input at once, as plainly as it
/// can be written.
fn reference(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b != b'"' {
            out.push(b);
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while let Some(&c) = input.get(j) {
            if c == b'"' {
                break;
            }
            j += if c == b'\\' { 2 } else { 1 };
        }
        let text = input.get(i + 1..j.min(input.len())).unwrap_or_default();
        let closed = j < input.len();
        if text.len() >= LONG {
            out.push(b'"');
            if !closed {
                break;
            }
            let count = u64::try_from(text.len()).unwrap_or(u64::MAX);
            let size = decoded_size(count, last_two(text, [0; 2]));
            out.extend_from_slice(format!("\\u0000{size}\"").as_bytes());
        } else {
            out.extend_from_slice(input.get(i..(j + 1).min(input.len())).unwrap_or_default());
        }
        if !closed {
            break;
        }
        i = j + 1;
    }
    out
}

/// Hands out its bytes in pieces of random sizes up to `most`, as a
/// socket does: small ones, and ones that hold whole long strings.
struct Pieces<'a> {
    data: &'a [u8],
    rng: Rng,
    most: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (1 + self.rng.index(self.most))
            .min(buf.len())
            .min(self.data.len());
        let (now, rest) = self.data.split_at(n);
        buf.get_mut(..n).unwrap_or_default().copy_from_slice(now);
        self.data = rest;
        Ok(n)
    }
}

fn filtered(data: &[u8], seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let most = if seed.is_multiple_of(2) {
        700
    } else {
        4 * LONG
    };
    let mut reader = ShortStrings::new(Pieces {
        data,
        rng: Rng(seed | 1),
        most,
    });
    reader
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{e}"));
    out
}

/// A JSON-like text: structure, strings short and long, with escapes
/// (quotes and backslashes) anywhere, padding at the end of some.
fn generated(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.index(40) {
        match rng.index(4) {
            0 => out.extend_from_slice(b"{\"k\":[1, 2.5, null],"),
            1 => out.extend_from_slice(b"}, "),
            _ => {
                let len = match rng.index(4) {
                    0 => rng.index(20),
                    1 => LONG - 3 + rng.index(6),
                    _ => LONG + rng.index(3 * LONG),
                };
                out.push(b'"');
                // Some strings have no escape at all (a value as a server
                // sends it), some many.
                let escapes = if rng.index(2) == 0 { usize::MAX } else { 40 };
                for _ in 0..len {
                    match rng.index(escapes) {
                        0 => out.extend_from_slice(b"\\\""),
                        1 => out.extend_from_slice(b"\\\\"),
                        _ => out.push(b"ABCxyz019+/"[rng.index(11)]),
                    }
                }
                out.extend_from_slice(&b"=="[..rng.index(3)]);
                out.extend_from_slice(b"\":");
            }
        }
    }
    out
}

#[test]
fn every_split_of_the_input_gives_what_one_pass_over_all_of_it_gives() {
    for case in 0..400u64 {
        let seed = 0x9E37_79B9_7F4A_7C15 ^ case.wrapping_mul(0x1234_5678_9ABC_DEF1);
        let mut rng = Rng(seed | 1);
        let input = generated(&mut rng);
        // Cut short at a random point too: unclosed strings and dangling
        // escapes at the very end.
        let cut = if case % 3 == 0 {
            rng.index(input.len() + 1)
        } else {
            input.len()
        };
        let input = input.get(..cut).unwrap_or_default();
        assert!(
            filtered(input, seed) == reference(input),
            "seed {seed:#x} (case {case}): the streamed output differs"
        );
    }
}

#[test]
fn a_long_value_reaches_the_parser_as_its_size_and_nothing_of_it() {
    let canary = "Y2FuYXJ5".repeat(LONG);
    for padding in ["", "=", "=="] {
        let value = format!("{canary}QU{padding}");
        let body = format!(r#"{{"data":{{"K":"{value}","S":"YWJj"}},"name":"n"}}"#);
        let out = filtered(body.as_bytes(), 7);
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("Y2FuYXJ5"), "{text}");
        let parsed: serde_json::Value =
            serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {text}"));
        let marker = parsed["data"]["K"].as_str().unwrap_or_default();
        assert_eq!(
            marker_size(marker),
            Some(base64_decoded_len(&value)),
            "{padding:?}"
        );
        assert_eq!(parsed["data"]["S"], "YWJj");
        assert_eq!(parsed["name"], "n");
    }
}

#[test]
fn short_strings_and_markers_are_told_apart() {
    assert_eq!(marker_size("\u{0}123"), Some(123));
    assert_eq!(marker_size("123"), None);
    assert_eq!(marker_size("\u{0}x"), None);
    assert_eq!(marker_size(""), None);
}

#[test]
fn a_body_cut_inside_a_long_string_is_a_parse_error() {
    let body = format!(r#"{{"items":[{{"data":{{"K":"{}"#, "A".repeat(3 * LONG));
    let got = serde_json::from_reader::<_, serde_json::Value>(ShortStrings::new(body.as_bytes()));
    assert!(got.is_err_and(|e| e.is_eof()));
}
