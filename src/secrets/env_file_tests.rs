use super::*;
use crate::test_rng::Rng;

const CANARY: &str = "canary-env-file-7c41d2";

fn pairs(kind: SecretKind, text: &[u8]) -> Result<Vec<(String, Vec<u8>)>, EnvFileError> {
    parse(text, kind).map(|p| {
        p.into_iter()
            .map(|(k, v)| (k, v.expose().to_vec()))
            .collect()
    })
}

/// A value of `len` bytes weighted towards what the format escapes:
/// `\`, line breaks, `=`, `#`, quotes, controls, bytes that are not UTF-8.
fn generated(rng: &mut Rng, len: u64, any_byte: bool) -> Vec<u8> {
    let mut value = Vec::new();
    for _ in 0..len {
        match rng.below(5) {
            0 => {
                let special = b"\\\n\r\t=#'\" x$`\x1b\x7f";
                value.push(special[rng.index(special.len())]);
            }
            1 => value.extend_from_slice(
                [
                    "é", "☃", "𝄞", "\u{202e}", "\u{85}", "\u{feff}", "\\x41", "\\n",
                ][rng.index(8)]
                .as_bytes(),
            ),
            _ if any_byte => value.push(u8::try_from(rng.below(256)).unwrap_or(0)),
            _ => value.push(u8::try_from(rng.below(95) + 32).unwrap_or(b'a')),
        }
    }
    if !any_byte {
        // What an env secret holds: UTF-8 text without NUL.
        value = String::from_utf8_lossy(&value)
            .replace('\0', "0")
            .into_bytes();
    }
    value
}

#[test]
fn every_value_reads_back_byte_for_byte() {
    for (kind, any_byte) in [(SecretKind::Default, true), (SecretKind::Env, false)] {
        let mut rng = Rng(0xA076_1D64_78BD_642F);
        for round in 0..300 {
            let want: Vec<(String, Vec<u8>)> = (0..1 + rng.below(6))
                .map(|i| {
                    let len = if i == 0 { round % 3 } else { rng.below(80) };
                    (format!("K_{i}"), generated(&mut rng, len, any_byte))
                })
                .collect();
            let secret: Vec<(String, SecretBytes)> = want
                .iter()
                .map(|(k, v)| (k.clone(), SecretBytes::new(v.clone())))
                .collect();
            let file = render("header\nsecond line", &secret);
            let text = file.expose();
            // One line per pair (after the header): no value breaks a line,
            // and nothing a terminal acts on is written raw.
            assert_eq!(
                text.iter().filter(|b| **b == b'\n').count(),
                want.len() + 2,
                "round {round}"
            );
            let shown = String::from_utf8(text.to_vec())
                .unwrap_or_else(|e| panic!("round {round}: not UTF-8: {e}"));
            assert!(
                !shown
                    .chars()
                    .any(|c| c != '\n' && crate::escape::is_unsafe(c)),
                "round {round}: {shown:?}"
            );
            assert_eq!(pairs(kind, text), Ok(want), "round {round}");
        }
    }
}

#[test]
fn values_are_taken_exactly_as_written() {
    let text = b"# a comment\n\nA= spaced = and # not a comment \nB='quoted'\nC=\nD=a\\\\b\\nc\\x00\\xFF\\t\\r\n# last";
    assert_eq!(
        pairs(SecretKind::Default, text),
        Ok(vec![
            ("A".into(), b" spaced = and # not a comment ".to_vec()),
            ("B".into(), b"'quoted'".to_vec()),
            ("C".into(), Vec::new()),
            ("D".into(), b"a\\b\nc\x00\xff\t\r".to_vec()),
        ])
    );
    // The last line needs no line feed.
    assert_eq!(
        pairs(SecretKind::Env, b"A=1"),
        Ok(vec![("A".into(), b"1".to_vec())])
    );
}

#[test]
fn a_bad_line_is_named_by_number_and_its_value_never_shown() {
    let cases: Vec<(SecretKind, String, usize, &str)> = vec![
        (SecretKind::Env, format!("A=1\n{CANARY}\n"), 2, "no `=`"),
        (
            SecretKind::Env,
            format!("A={CANARY}\r\n"),
            1,
            "carriage return",
        ),
        (
            SecretKind::Env,
            format!("export A='{CANARY}'\n"),
            1,
            "`export`",
        ),
        (
            SecretKind::Env,
            format!("A=1\nA={CANARY}\n"),
            2,
            "`A` is given twice (first at line 1)",
        ),
        (
            SecretKind::Env,
            format!("a-b={CANARY}\n"),
            1,
            "environment variable",
        ),
        (
            SecretKind::Default,
            format!("{CANARY} x={CANARY}\n"),
            1,
            "not shown",
        ),
        (
            SecretKind::Default,
            format!("\n\nK={CANARY}\\q\n"),
            3,
            "unknown escape",
        ),
        (
            SecretKind::Default,
            format!("K={CANARY}\\x4\n"),
            1,
            "two hex digits",
        ),
        (SecretKind::Default, format!("K={CANARY}\\"), 1, "lone"),
        (SecretKind::Env, format!("K={CANARY}\\x00\n"), 1, "NUL"),
        (
            SecretKind::Env,
            format!("K={CANARY}\\xff\n"),
            1,
            "not UTF-8",
        ),
        (
            SecretKind::Env,
            "# only a comment\n\n".into(),
            1,
            "no `KEY=VALUE`",
        ),
    ];
    for (kind, text, line, why) in cases {
        let e = pairs(kind, text.as_bytes()).err();
        let Some(e) = e else {
            panic!("accepted: {text:?}");
        };
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.to_string().contains(why), "{text:?}: {e}");
        assert!(
            !format!("{e} {} {e:?}", e.help).contains(CANARY),
            "{text:?}: {e}"
        );
    }
}

#[test]
fn keys_follow_the_kinds_rules() {
    assert!(pairs(SecretKind::Default, b"a.txt=1\n").is_ok());
    assert!(pairs(SecretKind::Env, b"a.txt=1\n").is_err());
    assert!(pairs(SecretKind::Default, b"..x=1\n").is_err());
}

/// Env files broken the ways hands and tools break them (a byte dropped,
/// a line break, a carriage return, a backslash or a `#` inserted, a line
/// repeated, two lines swapped): whatever the error, it never shows a
/// value, and nothing panics.
#[test]
fn broken_env_files_never_show_a_value() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for case in 0..2000 {
        let pairs: Vec<(String, SecretBytes)> = (0..1 + rng.below(4))
            .map(|i| {
                let len = rng.below(12);
                let mut value = generated(&mut rng, len, false);
                value.retain(|b| *b != b'=');
                let at = rng.index(value.len() + 1);
                value.splice(at..at, CANARY.bytes());
                (format!("K{i}"), SecretBytes::new(value))
            })
            .collect();
        let mut text = render("header", &pairs).expose().to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.index(text.len() + 1);
            match rng.below(6) {
                0 if at < text.len() => {
                    text.remove(at);
                }
                1 => text.insert(at, b'\n'),
                2 => text.insert(at, b'\r'),
                3 => text.insert(at, b'\\'),
                4 => text.insert(at, b'#'),
                _ => {
                    let mut lines: Vec<Vec<u8>> =
                        text.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                    let (a, b) = (rng.index(lines.len()), rng.index(lines.len()));
                    if rng.below(2) == 0 {
                        lines.swap(a, b);
                    } else if let Some(line) = lines.get(a).cloned() {
                        lines.insert(b, line);
                    }
                    text = lines.join(&b'\n');
                }
            }
        }
        for kind in [SecretKind::Env, SecretKind::Default] {
            if let Err(e) = parse(&text, kind) {
                let shown = format!("{e} {} {e:?}", e.help);
                assert!(!shown.contains(CANARY), "case {case}: {shown}");
            }
        }
    }
}

/// Attack F9: a file of more keys than a secret may hold stops at the
/// first one too many (its line named), not after reading them all.
#[test]
fn more_keys_than_a_secret_holds_stop_at_the_first_too_many() {
    let max = konduktor::MAX_SECRET_KEYS;
    let text: String = (0..max).map(|i| format!("K{i}=\n")).collect();
    assert_eq!(
        parse(text.as_bytes(), SecretKind::Default).map(|p| p.len()),
        Ok(max)
    );
    let more = format!("# header\n{text}K{max}=\nK{}=\n", max + 1);
    let err = parse(more.as_bytes(), SecretKind::Default).err();
    let err = err.unwrap_or_else(|| panic!("{} keys were accepted", max + 2));
    assert_eq!(
        err.line,
        max + 2,
        "the first key too many, after the header"
    );
    assert!(err.what.contains("at most 10000 keys"), "{}", err.what);
}
