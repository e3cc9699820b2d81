//! `--env-file`: a dotenv file of `KEY=value` lines, as `konduktor launch`
//! reads it (python-dotenv): `#` comments and blank lines skipped, an
//! optional `export `, values optionally quoted. Values are never shown;
//! a bad line is named by its number.

use std::path::Path;

use crate::error::Error;
use crate::input::located::display_path;

/// The pairs of a dotenv text, in file order (a later line replaces an
/// earlier one of the same name, in its place).
///
/// # Errors
///
/// A line that is no `KEY=value`, or a name that is no variable name.
pub fn parse(path: &Path, text: &str) -> Result<Vec<(String, String)>, Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let where_ = || format!("{}: line {n}", display_path(path));
        let Some((key, value)) = line.split_once('=') else {
            return Err(
                Error::input(format!("{}: not `KEY=value`", where_())).with_help(
                    "write each variable as `KEY=value` (Konduktor needs a value for each)",
                ),
            );
        };
        let key = key.trim();
        if crate::konduktor::validate_env_name(key).is_err() {
            return Err(Error::input(format!(
                "{}: the name is not an environment variable name",
                where_()
            ))
            .with_help("names use letters, digits and `_`, and do not start with a digit"));
        }
        let value = unquote(value.trim());
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key.to_string(), value)),
        }
    }
    Ok(out)
}

/// `'v'` and `"v"` lose their quotes; an unquoted value loses a ` #`
/// comment.
fn unquote(value: &str) -> String {
    for q in ['\'', '"'] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    match value.find(" #") {
        Some(i) => value.get(..i).unwrap_or(value).trim_end().to_string(),
        None => value.to_string(),
    }
}

/// Read `path` (a regular file, capped like a manifest) and parse it.
///
/// # Errors
///
/// The file cannot be read, or has a bad line.
pub fn read(path: &Path) -> Result<Vec<(String, String)>, Error> {
    let text = crate::input::located::read_yaml_file(path, "env file")?;
    parse(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dotenv_lines_without_showing_values() {
        let p = Path::new("/t/.env");
        let got = parse(
            p,
            "# c\n\nA=1\nexport B = 'two words'\nC=\"q\"\nD=x # note\nA=3\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got,
            [
                ("A".into(), "3".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "q".into()),
                ("D".into(), "x".into())
            ]
        );
        let e = parse(p, "OK=1\nsecret-canary-value\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("line 2") && !e.contains("canary"), "{e}");
        let e = parse(p, "1BAD=secret-canary\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("line 1") && !e.contains("canary"), "{e}");
    }
}
