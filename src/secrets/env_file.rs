//! Env files (`fromEnvFile`, docs/manifest.md, "Env files"): `KEY=VALUE` lines
//! that this tool reads itself, never a shell, so nothing in one can
//! change the shell (or the next `diff`) of whoever uses it.
//!
//! The format, exact for any bytes:
//! - one pair per line, lines end with LF; a blank line, or one whose
//!   first character is `#`, is skipped;
//! - the key is everything before the first `=`;
//! - the value is everything after it, byte for byte (spaces, quotes,
//!   `=` and `#` included), except `\`, which starts an escape: `\\` is a
//!   backslash, `\n` a line feed, `\r` a carriage return, `\t` a tab, and
//!   `\xHH` the byte of two hex digits; any other escape is an error, and
//!   so is a raw carriage return (Windows line endings would otherwise
//!   end every value with one).
//!
//! [`render`] writes every byte that is not printable text as an escape,
//! so a file it wrote reads back exactly and shows nothing a terminal
//! would act on.

use std::collections::BTreeMap;

use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, SecretKind};

/// Why an env file cannot be read: the line (1-based) and what is wrong
/// with it. Never holds a value; a key only if it has a key's characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileError {
    pub line: usize,
    pub what: String,
    pub help: String,
}

impl std::fmt::Display for EnvFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

/// A key as a message may show it: only with a key's characters (anything
/// else may be a value written where the key goes).
fn shown(key: &str) -> String {
    if crate::kube_names::has_key_chars(key) {
        format!("`{key}`")
    } else {
        "(not shown: it may hold a value)".to_string()
    }
}

const FORMAT_HELP: &str = "write one `KEY=VALUE` per line (see \"Env files\" in kubectl-konduktor's docs/manifest.md); in a value, write a backslash as `\\\\`, a line break as `\\n`, any byte as `\\xHH`";

/// Why a value cannot be an environment variable's (`None`: it can): the
/// rule `fromEnv` has by nature (no NUL byte, UTF-8 text), and so every
/// source of an `env` secret.
#[must_use]
pub fn env_value_problem(value: &[u8]) -> Option<&'static str> {
    if value.contains(&0) {
        Some("holds a NUL byte, which no environment variable can carry")
    } else if std::str::from_utf8(value).is_err() {
        Some("is not UTF-8 text, which an environment variable must be")
    } else {
        None
    }
}

/// The pairs of an env file for a secret of `kind`, in file order: keys
/// checked as the kind wants them (and given once), values as written.
///
/// # Errors
///
/// The first line that breaks the format or the kind's rules.
pub fn parse(bytes: &[u8], kind: SecretKind) -> Result<Vec<(String, SecretBytes)>, EnvFileError> {
    let mut pairs = Vec::new();
    let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
    let lines = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for (i, line) in lines.split(|b| *b == b'\n').enumerate() {
        let n = i + 1;
        let err = |what: String, help: &str| EnvFileError {
            line: n,
            what,
            help: help.to_string(),
        };
        if line.is_empty() || line.first() == Some(&b'#') {
            continue;
        }
        if line.contains(&b'\r') {
            return Err(err(
                "holds a carriage return (Windows line endings?)".into(),
                "save the file with LF line endings; write a carriage return in a value as `\\r`",
            ));
        }
        let Some(eq) = line.iter().position(|b| *b == b'=') else {
            return Err(err(
                "has no `=` (not shown: it may hold a value)".into(),
                FORMAT_HELP,
            ));
        };
        let (key, rest) = line.split_at(eq);
        let value_bytes = rest.get(1..).unwrap_or_default();
        let key = String::from_utf8_lossy(key).into_owned();
        if key.starts_with("export ") {
            return Err(err(
                "starts with `export`: this file is read by kubectl konduktor, never by a shell"
                    .into(),
                "write `KEY=VALUE`, without `export` and without shell quoting",
            ));
        }
        let rule = konduktor::validate_data_key(&key).and_then(|()| match kind {
            SecretKind::Env => konduktor::validate_env_name(&key),
            _ => Ok(()),
        });
        if let Err(rule) = rule {
            let what = if crate::kube_names::has_key_chars(&key) {
                rule.to_string()
            } else {
                "its key is not a valid key (not shown: it may hold a value)".to_string()
            };
            return Err(err(what, &rule.help()));
        }
        if let Some(first) = first_line.get(&key) {
            return Err(err(
                format!(
                    "the key {} is given twice (first at line {first})",
                    shown(&key)
                ),
                "give each key once",
            ));
        }
        let value = unescape(value_bytes).map_err(|what| err(what.to_string(), FORMAT_HELP))?;
        if kind == SecretKind::Env
            && let Some(why) = env_value_problem(&value)
        {
            return Err(err(
                format!("the value of {} {why}", shown(&key)),
                "an env secret's values are environment variables in the job: text only; put binary data in a `default` secret",
            ));
        }
        // Stopped here, not after the whole file: a file of many short
        // keys would otherwise cost memory for each (layout::validate_size
        // says the same of a secret from any source).
        if pairs.len() >= konduktor::MAX_SECRET_KEYS {
            return Err(err(
                format!(
                    "is key number {}; a secret holds at most {} keys here",
                    pairs.len().saturating_add(1),
                    konduktor::MAX_SECRET_KEYS
                ),
                "split the keys over several secrets",
            ));
        }
        first_line.insert(key.clone(), n);
        pairs.push((key, SecretBytes::new(value)));
    }
    if pairs.is_empty() {
        return Err(EnvFileError {
            line: 1,
            what: "holds no `KEY=VALUE` line".into(),
            help: "give at least one pair, or remove the secret with `state: absent`".into(),
        });
    }
    Ok(pairs)
}

/// A value as written in the file, its escapes undone.
fn unescape(written: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(written.len());
    let mut bytes = written.iter().copied();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'\\') => out.push(b'\\'),
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'x') => {
                let hex = |d: Option<u8>| d.and_then(|d| char::from(d).to_digit(16));
                match (hex(bytes.next()), hex(bytes.next())) {
                    (Some(hi), Some(lo)) => out.push(u8::try_from(hi * 16 + lo).unwrap_or(0)),
                    _ => return Err("its value has a `\\x` not followed by two hex digits"),
                }
            }
            Some(_) => {
                return Err(
                    "its value has an unknown escape (a `\\` not followed by `\\`, `n`, `r`, `t` or `xHH`)",
                );
            }
            None => return Err("its value ends with a lone `\\`"),
        }
    }
    Ok(out)
}

/// `value` as an env file holds it: printable text as it is, `\` as `\\`,
/// and every other byte (controls, line breaks, what a terminal would act
/// on, bytes that are not UTF-8) as `\n`, `\r`, `\t` or `\xHH`.
pub fn escape_value(value: &[u8], out: &mut Vec<u8>) {
    let hex = |out: &mut Vec<u8>, b: u8| {
        out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
    };
    for chunk in value.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if crate::escape::is_unsafe(c) => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        hex(out, b);
                    }
                }
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for &b in chunk.invalid() {
            hex(out, b);
        }
    }
}

/// An env file: `header` as `#` lines, then one `KEY=VALUE` line per pair.
#[must_use]
pub fn render(header: &str, pairs: &[(String, SecretBytes)]) -> SecretBytes {
    let mut out = Vec::new();
    for line in header.lines() {
        out.extend_from_slice(b"# ");
        out.extend_from_slice(crate::escape::text(line).as_bytes());
        out.push(b'\n');
    }
    for (key, value) in pairs {
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        escape_value(value.expose(), &mut out);
        out.push(b'\n');
    }
    SecretBytes::new(out)
}

#[cfg(test)]
#[path = "env_file_tests.rs"]
mod tests;
